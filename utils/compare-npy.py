#!/usr/bin/env python3
"""Compares two .npy tensors (stdlib only; no numpy needed).

usage: compare-npy.py ACTUAL.npy EXPECTED.npy [--rtol R] [--max-rel-err E]

Prints the max abs error and the relative error max|a - e| / max|e|; exits 1
if the shapes differ, a value is NaN where the other is not, or the relative
error exceeds --max-rel-err (default 1e-4).
"""
import argparse
import ast
import math
import struct
import sys

FORMATS = {'<f4': 'f', '<f8': 'd', '<i8': 'q', '<i4': 'i', '<i2': 'h',
           '|i1': 'b', '|u1': 'B', '|b1': '?', '<u4': 'I', '<u8': 'Q'}


def read_npy(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:6] != b'\x93NUMPY':
        sys.exit(f'{path}: not an .npy file')
    if data[6] == 1:
        header_len, start = struct.unpack('<H', data[8:10])[0], 10
    else:
        header_len, start = struct.unpack('<I', data[8:12])[0], 12
    header = ast.literal_eval(data[start:start + header_len].decode('latin1'))
    if header['fortran_order']:
        sys.exit(f'{path}: Fortran order is not supported')
    fmt = FORMATS.get(header['descr'])
    if fmt is None:
        sys.exit(f'{path}: unsupported dtype {header["descr"]}')
    shape = tuple(header['shape'])
    count = math.prod(shape)
    body = data[start + header_len:]
    return shape, struct.unpack(f'<{count}{fmt}',
                                body[:count * struct.calcsize(fmt)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('actual')
    parser.add_argument('expected')
    parser.add_argument('--max-rel-err', type=float, default=1e-4)
    args = parser.parse_args()
    shape_a, a = read_npy(args.actual)
    shape_e, e = read_npy(args.expected)
    if shape_a != shape_e:
        print(f'shape mismatch: {shape_a} vs {shape_e}')
        return 1
    max_abs = 0.0
    scale = 0.0
    for x, y in zip(a, e):
        if math.isnan(x) or math.isnan(y):
            if not (math.isnan(x) and math.isnan(y)):
                print('NaN mismatch')
                return 1
            continue
        max_abs = max(max_abs, abs(x - y))
        scale = max(scale, abs(y))
    rel = max_abs / scale if scale else max_abs
    ok = rel <= args.max_rel_err
    print(f'{"match" if ok else "MISMATCH"}: shape {shape_a}, max abs err '
          f'{max_abs:.3g}, rel err {rel:.3g} (limit {args.max_rel_err:g})')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
