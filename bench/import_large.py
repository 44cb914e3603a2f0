#!/usr/bin/env python3
"""Benchmark: import a model with large external weights.

Generates a synthetic ONNX model (a chain of LAYERS MatMuls, each with a
DIM x DIM f32 weight in one external data file), then times
`qopt-import model.onnx -o model.mlirbc` and measures its peak RSS, side by
side with the named baseline `cp` of the same weight file (the I/O floor:
bytes read once and written once). Prints the ratios.

usage: bench/import_large.py [--build build] [--gib 2] [--workdir DIR]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


def measure(cmd):
    """Wall time and peak RSS (KiB) of a command, via GNU time."""
    start = time.monotonic()
    out = subprocess.run(['/usr/bin/time', '-v'] + cmd, capture_output=True)
    elapsed = time.monotonic() - start
    if out.returncode:
        sys.exit('failed: %s\n%s' % (' '.join(cmd), out.stderr.decode()[-2000:]))
    rss = int(re.search(r'Maximum resident set size \(kbytes\): (\d+)',
                        out.stderr.decode()).group(1))
    return elapsed, rss


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--build', default='build')
    p.add_argument('--gib', type=float, default=2.0)
    p.add_argument('--dim', type=int, default=4096)
    p.add_argument('--workdir')
    args = p.parse_args()
    if not os.path.exists('/usr/bin/time'):
        sys.exit('needs GNU time (apt-get install time)')
    work = args.workdir or tempfile.mkdtemp(prefix='qopt-bench-')
    os.makedirs(work, exist_ok=True)
    dim = args.dim
    layer_bytes = dim * dim * 4
    layers = max(1, int(args.gib * (1 << 30) // layer_bytes))
    data = os.path.join(work, 'weights.bin')
    total = layers * layer_bytes
    print('generating %d layers of %dx%d f32 = %.2f GiB in %s' % (
        layers, dim, dim, total / (1 << 30), work))
    chunk = bytes(range(256)) * (1 << 14)  # 4 MiB of varied bytes
    with open(data, 'wb') as f:
        written = 0
        while written < total:
            n = min(len(chunk), total - written)
            f.write(chunk[:n])
            written += n
    lines = ['ir_version: 8', 'opset_import { domain: "" version: 18 }',
             'graph {', '  name: "large"']
    prev = 'X'
    for i in range(layers):
        out = 'Y' if i == layers - 1 else 'h%d' % i
        lines.append('  node { input: "%s" input: "W%d" output: "%s" op_type: "MatMul" name: "layer%d" }'
                     % (prev, i, out, i))
        prev = out
    for i in range(layers):
        lines.append('  initializer { name: "W%d" dims: %d dims: %d data_type: 1 data_location: EXTERNAL '
                     'external_data { key: "location" value: "weights.bin" } '
                     'external_data { key: "offset" value: "%d" } '
                     'external_data { key: "length" value: "%d" } }'
                     % (i, dim, dim, i * layer_bytes, layer_bytes))
    shape = 'shape { dim { dim_value: 1 } dim { dim_value: %d } }' % dim
    lines.append('  input { name: "X" type { tensor_type { elem_type: 1 %s } } }' % shape)
    lines.append('  output { name: "Y" type { tensor_type { elem_type: 1 %s } } }' % shape)
    lines.append('}')
    model = os.path.join(work, 'model.onnx')
    with open(model, 'wb') as f:
        subprocess.run(['protoc', '--encode=onnx.ModelProto', '-I', '/usr/include/onnx',
                        'onnx.proto'], input='\n'.join(lines).encode(), stdout=f,
                       check=True)
    # Drop the page cache's advantage for neither side: run the baseline
    # first so both read a warm file.
    copy_time, copy_rss = measure(['cp', data, os.path.join(work, 'copy.bin')])
    qopt = os.path.join(args.build, 'bin', 'qopt-import')
    out = os.path.join(work, 'model.mlirbc')
    import_time, import_rss = measure([qopt, model, '-o', out])
    out_bytes = os.path.getsize(out)
    print()
    print('%-32s %10s %14s' % ('', 'seconds', 'peak RSS MiB'))
    print('%-32s %10.2f %14.1f' % ('baseline: cp weights.bin', copy_time, copy_rss / 1024))
    print('%-32s %10.2f %14.1f' % ('qopt-import -> .mlirbc', import_time, import_rss / 1024))
    print()
    print('weights: %.2f GiB; output: %.2f GiB' % (total / (1 << 30), out_bytes / (1 << 30)))
    print('import time / cp time: %.2fx' % (import_time / copy_time))
    print('import peak RSS / weight bytes: %.2fx' % (import_rss * 1024 / total))
    print('goal: under 30 s and under 1.5x: %s' % (
        'met' if import_time < 30 and import_rss * 1024 < 1.5 * total else 'NOT met'))
    if not args.workdir:
        shutil.rmtree(work)


if __name__ == '__main__':
    main()
