#!/usr/bin/env python3
"""RNN, GRU and LSTM against ONNX Runtime: writes each case as an ONNX text
model with seeded random weights (initializers, so W and R become linear
layers) and inputs, compiles it with qopt-compile, runs it with qrun and
with ONNX Runtime (utils/ort/ort-run.mjs) and compares every output.

ONNX Runtime's CPU kernels refuse layout = 1 (batch-major), so a layout-1
case is compared with ORT running the same weights at layout 0 on the
transposed inputs, its outputs transposed back.

Prints '<case> <output>: match|MISMATCH ...' per output and 'N of M agree';
exits 1 if any output disagrees. Stdlib only (no numpy, no onnx package).
"""
import argparse
import ast
import os
import random
import shlex
import struct
import subprocess
import sys

# name: (op, attributes, opset, T, B, I, H, optional inputs, outputs)
# Optional inputs: 'B' bias, 'L' sequence_lens, 'H' initial_h,
# 'C' initial_c, 'P' peepholes.
CASES = [
    ('rnn_bidirectional', 'RNN', {'direction': 'bidirectional'}, 14,
     5, 3, 4, 6, 'BH', 'Y Y_h'),
    ('rnn_reverse_relu_seqlens', 'RNN',
     {'direction': 'reverse', 'activations': ['Relu']}, 14,
     6, 4, 3, 5, 'BL', 'Y Y_h'),
    ('rnn_layout1_clip_affine', 'RNN',
     {'layout': 1, 'clip': 0.7, 'direction': 'bidirectional',
      'activations': ['Affine', 'ScaledTanh'],
      'activation_alpha': [0.8, 1.5], 'activation_beta': [0.1, 0.6]}, 14,
     4, 2, 3, 4, 'BHL', 'Y Y_h'),
    ('gru_bidirectional_seqlens', 'GRU', {'direction': 'bidirectional'}, 14,
     6, 3, 4, 5, 'BHL', 'Y Y_h'),
    ('gru_linear_before_reset', 'GRU',
     {'linear_before_reset': 1, 'direction': 'bidirectional'}, 14,
     5, 2, 3, 4, 'BH', 'Y Y_h'),
    ('gru_layout1_activations', 'GRU',
     {'layout': 1, 'direction': 'reverse', 'clip': 1.5,
      'activations': ['HardSigmoid', 'LeakyRelu'],
      'activation_alpha': [0.3, 0.05], 'activation_beta': [0.4]}, 14,
     5, 3, 4, 3, 'BHL', 'Y Y_h'),
    ('gru_opset7_softsign', 'GRU',
     {'activations': ['Sigmoid', 'Softsign'], 'linear_before_reset': 1}, 7,
     4, 2, 3, 4, 'B', 'Y Y_h'),
    ('lstm_bidirectional_peepholes', 'LSTM',
     {'direction': 'bidirectional'}, 14,
     5, 3, 4, 5, 'BHCP', 'Y Y_h Y_c'),
    ('lstm_seqlens_reverse', 'LSTM', {'direction': 'reverse'}, 14,
     6, 4, 3, 4, 'BHCL', 'Y Y_h Y_c'),
    ('lstm_layout1_bidirectional_seqlens', 'LSTM',
     {'layout': 1, 'direction': 'bidirectional'}, 14,
     5, 3, 2, 4, 'BHCLP', 'Y Y_h Y_c'),
    ('lstm_clip_input_forget', 'LSTM',
     {'clip': 0.5, 'input_forget': 1}, 14,
     5, 2, 3, 4, 'BHCP', 'Y Y_h Y_c'),
    ('lstm_activations', 'LSTM',
     {'direction': 'bidirectional',
      'activations': ['HardSigmoid', 'Elu', 'Softplus',
                      'Sigmoid', 'ThresholdedRelu', 'Tanh'],
      'activation_alpha': [0.25, 0.9, 0.1], 'activation_beta': [0.45]}, 14,
     4, 2, 3, 3, 'BH', 'Y Y_h Y_c'),
    ('lstm_opset21_no_y_c', 'LSTM', {}, 21, 4, 2, 3, 5, 'B', 'Y Y_h'),
]


def fmt_attr(name, value):
    if isinstance(value, str):
        return f'{name} = "{value}"'
    if isinstance(value, list):
        if isinstance(value[0], str):
            return f'{name} = [' + ', '.join(f'"{v}"' for v in value) + ']'
        return f'{name} = [' + ', '.join(repr(float(v)) for v in value) + ']'
    if isinstance(value, float):
        return f'{name} = {value!r}'
    return f'{name} = {value}'


def tensor_text(dtype, shape, name, values):
    dims = ', '.join(str(d) for d in shape)
    body = ', '.join(repr(v) for v in values)
    return f'{dtype}[{dims}] {name} = {{{body}}}'


def write_npy(path, descr, shape, fmt, values):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ''.join('%d,' % d for d in shape))
    header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)))
        f.write(header.encode('latin1'))
        f.write(struct.pack('<%d%s' % (len(values), fmt), *values))


def build_case(case, directory, rng, suffix='', layout_override=None):
    name, op, attrs, opset, T, B, I, H, optional, outputs = case
    if layout_override is not None:
        attrs = dict(attrs, layout=layout_override)
        if not layout_override:
            del attrs['layout']
    name += suffix
    gates = {'RNN': 1, 'GRU': 3, 'LSTM': 4}[op]
    D = 2 if attrs.get('direction') == 'bidirectional' else 1
    layout = attrs.get('layout', 0)
    rand = lambda n, s=0.5: [round(rng.uniform(-s, s), 4) for _ in range(n)]
    inits = [tensor_text('float', [D, gates * H, I], 'W',
                         rand(D * gates * H * I)),
             tensor_text('float', [D, gates * H, H], 'R',
                         rand(D * gates * H * H))]
    inputs = {'X': ([B, T, I] if layout else [T, B, I], 'f')}
    node_inputs = ['X', 'W', 'R']
    state = [B, D, H] if layout else [D, B, H]
    extra = [('B', 'B'), ('L', 'sequence_lens'), ('H', 'initial_h')]
    if op == 'LSTM':
        extra += [('C', 'initial_c'), ('P', 'P')]
    for key, input_name in extra:
        if key not in optional:
            node_inputs.append('')
            continue
        node_inputs.append(input_name)
        if key == 'B':
            inits.append(tensor_text('float', [D, 2 * gates * H], 'B',
                                     rand(D * 2 * gates * H)))
        elif key == 'P':
            inits.append(tensor_text('float', [D, 3 * H], 'P', rand(D * 3 * H)))
        elif key == 'L':
            inputs['sequence_lens'] = ([B], 'i')
        else:
            inputs[input_name] = (state, 'f')
    while node_inputs and node_inputs[-1] == '':
        node_inputs.pop()
    out_names = outputs.split()
    shapes = {'Y': [B, T, D, H] if layout else [T, D, B, H],
              'Y_h': state, 'Y_c': state}
    node_outputs = [o if o in out_names else ''
                    for o in ['Y', 'Y_h', 'Y_c'][:3 if op == 'LSTM' else 2]]
    while node_outputs[-1] == '':
        node_outputs.pop()
    all_attrs = dict(attrs, hidden_size=H)
    sig_in = ', '.join(
        f'{"int32" if fmt == "i" else "float"}[{", ".join(map(str, s))}] {n}'
        for n, (s, fmt) in inputs.items())
    sig_out = ', '.join(f'float[{", ".join(map(str, shapes[o]))}] {o}'
                        for o in out_names)
    text = (f'<ir_version: 8, opset_import: ["" : {opset}]>\n'
            f'g ({sig_in}) => ({sig_out})\n<{", ".join(inits)}>\n{{\n'
            f'  {", ".join(node_outputs)} = {op} <'
            + ', '.join(fmt_attr(k, v) for k, v in sorted(all_attrs.items()))
            + f'> ({", ".join(node_inputs)})\n}}\n')
    model_txt = os.path.join(directory, name + '.onnxtxt')
    with open(model_txt, 'w') as f:
        f.write(text)
    args = []
    for n, (shape, fmt) in inputs.items():
        path = os.path.join(directory, f'{name}_{n}.npy')
        count = 1
        for d in shape:
            count *= d
        if fmt == 'i':
            # The full length, an empty sequence (ORT zeroes its final
            # states), then lengths from 1 to T.
            values = [T, 0] + [rng.randint(1, T) for _ in range(count - 2)]
            write_npy(path, '<i4', shape, 'i', values)
        else:
            write_npy(path, '<f4', shape, 'f', rand(count, 1.0))
        args += ['--input', f'{n}={path}']
    return model_txt, args, out_names


def read_npy(path):
    with open(path, 'rb') as f:
        data = f.read()
    header_len = struct.unpack('<H', data[8:10])[0]
    header = ast.literal_eval(data[10:10 + header_len].decode('latin1'))
    shape = list(header['shape'])
    fmt = {'<f4': 'f', '<i4': 'i'}[header['descr']]
    count = 1
    for d in shape:
        count *= d
    values = struct.unpack(f'<{count}{fmt}',
                           data[10 + header_len:10 + header_len + 4 * count])
    return header['descr'], fmt, shape, list(values)


def transpose_npy(src, dst, perm):
    descr, fmt, shape, values = read_npy(src)
    out_shape = [shape[p] for p in perm]
    strides = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        strides[i] = strides[i + 1] * shape[i + 1]
    out = []
    index = [0] * len(out_shape)
    for _ in range(len(values)):
        out.append(values[sum(index[k] * strides[perm[k]]
                              for k in range(len(perm)))])
        for k in range(len(out_shape) - 1, -1, -1):
            index[k] += 1
            if index[k] < out_shape[k]:
                break
            index[k] = 0
    write_npy(dst, descr, out_shape, fmt, out)


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f'{" ".join(cmd)} failed:\n{out.stdout}{out.stderr}')
    return out.stdout


def main():
    p = argparse.ArgumentParser()
    for flag in ('--text2pb', '--compile', '--qrun', '--ort', '--compare',
                 '--dir'):
        p.add_argument(flag, required=True)
    p.add_argument('--compile-args', default='')
    a = p.parse_args()
    rng = random.Random(12)
    agree = total = 0
    for case in CASES:
        name = case[0]
        layout = case[2].get('layout', 0)
        seed = rng.random()
        model_txt, inputs, outputs = build_case(case, a.dir, random.Random(seed))
        model = model_txt.replace('.onnxtxt', '.onnx')
        art = model_txt.replace('.onnxtxt', '.so')
        run([a.text2pb, model_txt, model])
        run([a.compile, model, '-o', art] + shlex.split(a.compile_args))
        ours = os.path.join(a.dir, name + '_qopt')
        ref = os.path.join(a.dir, name + '_ort')
        run([a.qrun, 'run', art, '--output-dir', ours] + inputs)
        ort_model, ort_inputs = model, inputs
        if layout:
            # The same weights (same seed) at layout 0, for ORT.
            ort_txt, _, _ = build_case(case, a.dir, random.Random(seed),
                                       '_layout0', 0)
            ort_model = ort_txt.replace('.onnxtxt', '.onnx')
            run([a.text2pb, ort_txt, ort_model])
            ort_inputs = []
            for i in range(0, len(inputs), 2):
                input_name, path = inputs[i + 1].split('=', 1)
                if input_name != 'sequence_lens':
                    transposed = path.replace('.npy', '_layout0.npy')
                    transpose_npy(path, transposed, [1, 0, 2])
                    path = transposed
                ort_inputs += ['--input', f'{input_name}={path}']
        run(shlex.split(a.ort) + [ort_model, '--output-dir', ref,
                                  '--threads', '1'] + ort_inputs)
        for out in outputs:
            expected = os.path.join(ref, out + '.npy')
            if layout:
                back = expected.replace('.npy', '_layout1.npy')
                transpose_npy(expected, back,
                              [2, 0, 1, 3] if out == 'Y' else [1, 0, 2])
                expected = back
            cmp = subprocess.run(
                shlex.split(a.compare) + [os.path.join(ours, out + '.npy'),
                                          expected],
                capture_output=True, text=True)
            total += 1
            agree += cmp.returncode == 0
            print(f'{name} {out}: {(cmp.stdout + cmp.stderr).strip()}')
    print(f'{agree} of {total} agree')
    return 0 if agree == total else 1


if __name__ == '__main__':
    sys.exit(main())
