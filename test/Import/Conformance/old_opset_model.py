#!/usr/bin/env python3
"""Writes one ONNX text model per opset (7 to 12) that uses every claimed op
whose attributes or semantics differ before opset 13 in the form of that
opset: Clip/Pad/TopK/Slice attributes that later became inputs, Softmax,
LogSoftmax and Hardmax coerced to 2-D, Upsample (7-9) and Resize-10,
BatchNormalization's `spatial` (7-8), Dropout's mask, Reduce*/Squeeze/
Unsqueeze/Split axes as attributes, Max/Min/Sum/Mean. old-opsets.test runs
each through qopt and ONNX Runtime and compares every output.

usage: old_opset_model.py OPSET          (the model, as ONNX text, on stdout)
       old_opset_model.py OPSET --inputs DIR   (its inputs as DIR/NAME.npy)
"""
import random
import struct
import sys

opset = int(sys.argv[1])
inputs = {'X': [2, 3, 4], 'I': [1, 3, 4, 4], 'Y': [4]}

if len(sys.argv) > 2:
    # Seeded, distinct, non-integer values: no ties for TopK and Hardmax.
    rng = random.Random(opset)
    for name, shape in inputs.items():
        count = 1
        for d in shape:
            count *= d
        values = rng.sample(range(-3000, 3000), count)
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
            ', '.join(str(d) for d in shape) + (',' if len(shape) == 1 else ''))
        header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
        with open('%s/%s.npy' % (sys.argv[3], name), 'wb') as f:
            f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)))
            f.write(header.encode('latin1'))
            f.write(struct.pack('<%df' % count, *[v / 1000 + 0.0005 for v in values]))
    sys.exit(0)

nodes, outputs = [], []
init = ['float[3] bs = {0.5, 1.0, 2.0}', 'float[3] bb = {0.0, -1.0, 0.5}',
        'float[3] bm = {0.1, -0.2, 0.3}', 'float[3] bv = {1.0, 0.5, 2.0}']


def out(name, text, shape=None):
    outputs.append(name)
    nodes.append('  %s = %s' % (name, text))


# Clip: attributes before 11.
if opset < 11:
    out('clip', 'Clip <min = -0.5, max = 0.8> (X)')
    out('clip_min', 'Clip <min = 0.1> (X)')
    out('clip_none', 'Clip (X)')
# Slice: attributes before 10, no steps.
if opset < 10:
    out('slice', 'Slice <starts = [0, 1], ends = [2, -1], axes = [1, 2]> (X)')
    out('slice_all', 'Slice <starts = [1, 0], ends = [1000, 2]> (X)')
else:
    init += ['int64[2] ss = {0, 1}', 'int64[2] se = {2, -1}',
             'int64[2] sa = {1, 2}']
    out('slice', 'Slice (X, ss, se, sa)')
# Softmax family: coerced to 2-D at `axis` (default 1) before 13.
out('softmax', 'Softmax (X)')
out('softmax0', 'Softmax <axis = 0> (X)')
out('softmax_last', 'Softmax <axis = -1> (X)')
out('logsoftmax', 'LogSoftmax (X)')
out('logsoftmax2', 'LogSoftmax <axis = 2> (I)')
out('hardmax', 'Hardmax (X)')
out('hardmax2', 'Hardmax <axis = 2> (I)')
# TopK: k attribute before 10, input from 10.
if opset < 10:
    nodes.append('  topk_v, topk_i = TopK <k = 2> (X)')
else:
    init.append('int64[1] k = {2}')
    nodes.append('  topk_v, topk_i = TopK (X, k)')
outputs += ['topk_v', 'topk_i']
# Pad: attributes before 11.
if opset < 11:
    out('pad', 'Pad <pads = [0, 0, 1, 2, 0, 0, 2, 1], value = 1.5> (I)')
    out('pad_edge', 'Pad <mode = "edge", pads = [0, 0, 1, 0, 0, 0, 0, 2]> (I)')
    out('pad_reflect', 'Pad <mode = "reflect", pads = [0, 0, 2, 1, 0, 0, 1, 2]> (I)')
# BatchNormalization: `spatial` in 7 and 8.
out('bn', 'BatchNormalization <epsilon = 0.01> (I, bs, bb, bm, bv)')
if opset < 9:
    init += ['float[3, 4, 4] ps = {%s}' % ', '.join('%.2f' % (0.5 + i / 48) for i in range(48)),
             'float[3, 4, 4] pb = {%s}' % ', '.join('%.2f' % (i / 24 - 1) for i in range(48)),
             'float[3, 4, 4] pm = {%s}' % ', '.join('%.2f' % (i / 96) for i in range(48)),
             'float[3, 4, 4] pv = {%s}' % ', '.join('%.2f' % (1 + i / 48) for i in range(48))]
    out('bn_per_element', 'BatchNormalization <spatial = 0> (I, ps, pb, pm, pv)')
# Dropout: inference, the mask is the input's type before 10, bool after.
nodes.append('  drop, drop_mask = Dropout %s (X)' % ('<ratio = 0.3>' if opset < 12 else ''))
outputs += ['drop', 'drop_mask']
# Upsample (7-9) and Resize-10: asymmetric coordinates.
if opset < 9:
    out('up', 'Upsample <mode = "nearest", scales = [1.0, 1.0, 2.0, 3.0]> (I)')
    out('up_linear', 'Upsample <mode = "linear", scales = [1.0, 1.0, 2.0, 2.0]> (I)')
elif opset == 9:
    init += ['float[4] us = {1.0, 1.0, 2.0, 3.0}', 'float[4] ul = {1.0, 1.0, 2.0, 2.0}']
    out('up', 'Upsample <mode = "nearest"> (I, us)')
    out('up_linear', 'Upsample <mode = "linear"> (I, ul)')
elif opset == 10:
    init += ['float[4] us = {1.0, 1.0, 2.0, 3.0}', 'float[4] ul = {1.0, 1.0, 2.0, 2.0}',
             'float[4] ud = {1.0, 1.0, 0.5, 0.75}']
    out('up', 'Resize <mode = "nearest"> (I, us)')
    out('up_linear', 'Resize <mode = "linear"> (I, ul)')
    out('down', 'Resize <mode = "nearest"> (I, ud)')
    out('down_linear', 'Resize <mode = "linear"> (I, ud)')
# Axes as attributes: Reduce* before 13 (ReduceSum) / 18, Squeeze,
# Unsqueeze and Split before 13.
out('rsum', 'ReduceSum <axes = [1], keepdims = 0> (X)')
out('rmean', 'ReduceMean <axes = [0, 2]> (X)')
out('rmax', 'ReduceMax <axes = [-1], keepdims = 0> (X)')
out('rl2', 'ReduceL2 <axes = [1]> (X)')
out('unsq', 'Unsqueeze <axes = [0, 3]> (X)')
out('sq', 'Squeeze <axes = [0]> (I)')
nodes.append('  sp1, sp2 = Split <axis = 2, split = [1, 3]> (X)')
outputs += ['sp1', 'sp2']
# Variadic ops: same shapes in 7 (no broadcasting before 8).
if opset < 8:
    out('vmax', 'Max (X, X)')
    out('vsum', 'Sum (X, X, X)')
else:
    out('vmax', 'Max (X, Y)')
    out('vmin', 'Min (X, Y)')
    out('vsum', 'Sum (X, Y, X)')
    out('vmean', 'Mean (X, Y)')

print('<ir_version: %d, opset_import: ["" : %d]>' % (3 if opset < 9 else 5, opset))
print('old%d (float[2, 3, 4] X, float[1, 3, 4, 4] I, float[4] Y) => (%s)' % (
    opset, ', '.join('%s %s' % ('int64' if o == 'topk_i' else
                               'bool' if o == 'drop_mask' and opset >= 10
                               else 'float', o) for o in outputs)))
print('<%s>' % ', '.join(init))
print('{')
print('\n'.join(nodes))
print('}')
