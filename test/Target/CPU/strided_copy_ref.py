#!/usr/bin/env python3
"""Writes the input and expected outputs of strided-copy.test.

x is 512 x 512 float32 with x[i, j] = i * 512 + j (exact in f32); the
outputs are x[:, 1::2] and x[1::2, :].

usage: strided_copy_ref.py OUT_DIR
"""
import array
import os
import sys


def npy(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ', '.join(map(str, shape)))
    header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
    data = array.array('f', values)
    if sys.byteorder != 'little':
        data.byteswap()
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + len(header).to_bytes(2, 'little') +
                header.encode('latin1') + data.tobytes())


out = sys.argv[1]
os.makedirs(out, exist_ok=True)
n = 512
npy(os.path.join(out, 'x.npy'), [n, n], [float(v) for v in range(n * n)])
npy(os.path.join(out, 'a.npy'), [n, n // 2],
    [float(i * n + j) for i in range(n) for j in range(1, n, 2)])
npy(os.path.join(out, 'b.npy'), [n // 2, n],
    [float(i * n + j) for i in range(1, n, 2) for j in range(n)])
