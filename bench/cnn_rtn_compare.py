#!/usr/bin/env python3
"""Helper of bench/cnn_rtn.sh (Python standard library only).

make-input LIKE.npy OUT.npy --seed S: an f32 tensor of LIKE's shape,
  uniform in [-1, 1] (random.Random(S)).
report DIR MODEL N: for inputs 1..N, compares the outputs of MODEL's
  int8 and int4 artifacts (DIR/MODEL.int{8,4}.out<i>/) with the f32
  artifact's (DIR/MODEL.fp32.out<i>/) and ONNX Runtime's
  (DIR/MODEL.ort.out<i>/), and the f32 artifact with ONNX Runtime: max abs
  error, max abs error / max |reference|, top-1 agreement over the last
  axis (one argmax per row).
"""
import ast
import glob
import os
import random
import struct
import sys


def read(path):
    with open(path, 'rb') as f:
        data = f.read()
    hlen = struct.unpack('<H', data[8:10])[0]
    header = ast.literal_eval(data[10:10 + hlen].decode('latin1'))
    assert header['descr'] == '<f4', (path, header['descr'])
    count = 1
    for d in header['shape']:
        count *= d
    return list(header['shape']), struct.unpack(
        '<%df' % count, data[10 + hlen:10 + hlen + 4 * count])


def write(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ', '.join(map(str, shape)) + (',' if len(shape) == 1 else ''))
    header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)))
        f.write(header.encode())
        f.write(struct.pack('<%df' % len(values), *values))


def output(directory):
    files = sorted(glob.glob(os.path.join(directory, '*.npy')))
    assert len(files) == 1, (directory, files)
    return read(files[0])


def top1(shape, values):
    row = shape[-1]
    return [max(range(row), key=lambda j: values[i + j])
            for i in range(0, len(values), row)]


def main():
    if sys.argv[1] == 'make-input':
        shape, _ = read(sys.argv[2])
        rng = random.Random(int(sys.argv[5]))
        count = 1
        for d in shape:
            count *= d
        write(sys.argv[3], shape, [rng.uniform(-1, 1) for _ in range(count)])
        return 0
    directory, model, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
    pairs = [('fp32', 'ort'), ('int8', 'fp32'), ('int8', 'ort'),
             ('int4', 'fp32'), ('int4', 'ort')]
    print('%s, %d random inputs:' % (model, n))
    print('  %-14s %12s %12s %14s' % ('candidate', 'max abs err',
                                      'max rel err', 'top-1 agree'))
    for cand, ref in pairs:
        err = rel = 0.0
        agree = rows = 0
        for i in range(1, n + 1):
            shape, a = output(os.path.join(directory,
                                           '%s.%s.out%d' % (model, cand, i)))
            rshape, b = output(os.path.join(directory,
                                            '%s.%s.out%d' % (model, ref, i)))
            assert shape == rshape, (shape, rshape)
            e = max(abs(x - y) for x, y in zip(a, b))
            err = max(err, e)
            rel = max(rel, e / max(abs(y) for y in b))
            ta, tb = top1(shape, a), top1(shape, b)
            agree += sum(x == y for x, y in zip(ta, tb))
            rows += len(ta)
        print('  %-14s %12.3g %12.3g %8d/%-5d' % (
            '%s vs %s' % (cand, ref), err, rel, agree, rows))
    return 0


if __name__ == '__main__':
    sys.exit(main())
