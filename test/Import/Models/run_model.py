#!/usr/bin/env python3
"""Runs an imported ONNX model on a reference input and compares its output
with a reference output (both .npy), without numpy.

The imported module (textual MLIR, static shapes) gets an @entry function
that feeds the input as a constant and prints the output; qopt lowers it,
mlir-runner runs it, and the printed numbers are compared.

usage: run_model.py --qopt Q --runner R --libdir L MODEL.mlir IN.npy REF.npy
                    [--rtol 1e-4] [--atol 1e-5]
"""
import argparse
import ast
import re
import struct
import subprocess
import sys


def read_npy(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:6] != b'\x93NUMPY':
        sys.exit(f'{path}: not an .npy file')
    major = data[6]
    if major == 1:
        header_len = struct.unpack('<H', data[8:10])[0]
        start = 10
    else:
        header_len = struct.unpack('<I', data[8:12])[0]
        start = 12
    header = ast.literal_eval(data[start:start + header_len].decode('latin1'))
    if header['fortran_order']:
        sys.exit(f'{path}: Fortran order is not supported')
    descr, shape = header['descr'], tuple(header['shape'])
    fmt = {'<f4': 'f', '<f8': 'd', '<i8': 'q', '<i4': 'i'}[descr]
    count = 1
    for d in shape:
        count *= d
    body = data[start + header_len:]
    values = struct.unpack('<%d%s' % (count, fmt), body[:count * struct.calcsize(fmt)])
    return descr, shape, list(values)


MLIR_TYPES = {'<f4': 'f32', '<f8': 'f64', '<i8': 'i64', '<i4': 'i32'}


def nest(values, shape):
    if not shape:
        return repr(values[0])
    step = len(values) // shape[0] if shape[0] else 0
    return '[' + ', '.join(nest(values[i * step:(i + 1) * step], shape[1:])
                           for i in range(shape[0])) + ']'


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--qopt', required=True)
    p.add_argument('--runner', required=True)
    p.add_argument('--libdir', required=True)
    p.add_argument('--rtol', type=float, default=1e-4)
    p.add_argument('--atol', type=float, default=1e-5)
    p.add_argument('model')
    p.add_argument('input')
    p.add_argument('reference')
    args = p.parse_args()

    in_descr, in_shape, in_values = read_npy(args.input)
    _, ref_shape, ref_values = read_npy(args.reference)
    in_type = 'tensor<%s%s>' % (''.join('%dx' % d for d in in_shape), MLIR_TYPES[in_descr])
    out_type = 'tensor<%sf32>' % ''.join('%dx' % d for d in ref_shape)

    text = open(args.model).read()
    # The module ends before the resource section (weights), if any.
    body_end = text.find('{-#')
    if body_end < 0:
        body_end = len(text)
    end = text[:body_end].rstrip().rfind('}')
    entry = f'''
  func.func private @printMemrefF32(tensor<*xf32>)
  func.func @entry() {{
    %input = arith.constant dense<{nest(in_values, in_shape)}> : {in_type}
    %out = call @main(%input) : ({in_type}) -> {out_type}
    %u = tensor.cast %out : {out_type} to tensor<*xf32>
    call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
    return
  }}
'''
    # Dynamic signatures take the static input through a cast.
    sig = re.search(r'func\.func @main\(%arg0: (tensor<[^>]*>)[^)]*\) -> \((tensor<[^>]*>)', text)
    if sig and (sig.group(1) != in_type or sig.group(2) != out_type):
        entry = entry.replace(
            f'%out = call @main(%input) : ({in_type}) -> {out_type}',
            f'%cin = tensor.cast %input : {in_type} to {sig.group(1)}\n'
            f'    %dyn = call @main(%cin) : ({sig.group(1)}) -> {sig.group(2)}\n'
            f'    %out = tensor.cast %dyn : {sig.group(2)} to {out_type}')
    program = text[:end] + entry + text[end:]
    lowered = subprocess.run(
        [args.qopt, '-', '--qopt-lower-to-llvm'],
        input=program.encode(), capture_output=True)
    if lowered.returncode:
        sys.exit('lowering failed:\n' + lowered.stderr.decode())
    run = subprocess.run(
        [args.runner, '-e', 'entry', '-entry-point-result=void',
         f'-shared-libs={args.libdir}/libmlir_runner_utils.so',
         f'-shared-libs={args.libdir}/libmlir_c_runner_utils.so'],
        input=lowered.stdout, capture_output=True)
    if run.returncode:
        sys.exit('mlir-runner failed:\n' + run.stderr.decode())
    out = run.stdout.decode()
    data = out[out.index('data =') + len('data ='):]
    got = [float(v) for v in re.findall(r'[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf)', data)]
    if len(got) != len(ref_values):
        sys.exit(f'got {len(got)} values, expected {len(ref_values)}')
    worst = 0.0
    bad = 0
    for g, r in zip(got, ref_values):
        err = abs(g - r)
        worst = max(worst, err)
        if err > args.atol + args.rtol * abs(r):
            bad += 1
    print(f'compared {len(got)} values: max abs error {worst:.3g}, '
          f'{bad} outside rtol={args.rtol} atol={args.atol}')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
