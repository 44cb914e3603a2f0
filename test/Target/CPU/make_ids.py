#!/usr/bin/env python3
"""Writes seeded random token ids as an int64 .npy (stdlib only).

usage: make_ids.py OUT.npy BATCHxSEQ [--seed N] [--vocab V] [--dtype float32]

With --dtype float32 the same integers are written as floats (exact inputs
for models that take activations).
"""
import argparse
import random
import struct

parser = argparse.ArgumentParser()
parser.add_argument('out')
parser.add_argument('shape')
parser.add_argument('--seed', type=int, default=0)
parser.add_argument('--vocab', type=int, default=256)
parser.add_argument('--dtype', choices=['int64', 'float32'], default='int64')
args = parser.parse_args()
shape = [int(d) for d in args.shape.split('x')]
rng = random.Random(args.seed)
count = 1
for d in shape:
    count *= d
descr, code = {'int64': ('<i8', 'q'), 'float32': ('<f4', 'f')}[args.dtype]
header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
    descr, ', '.join(str(d) for d in shape) + (',' if len(shape) == 1 else ''))
header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
with open(args.out, 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)))
    f.write(header.encode())
    f.write(struct.pack('<%d%s' % (count, code),
                        *(rng.randrange(args.vocab) for _ in range(count))))
