#!/usr/bin/env python3
"""Writes seeded random token ids as an int64 .npy (stdlib only).

usage: make_ids.py OUT.npy BATCHxSEQ [--seed N] [--vocab V]
"""
import argparse
import random
import struct

parser = argparse.ArgumentParser()
parser.add_argument('out')
parser.add_argument('shape')
parser.add_argument('--seed', type=int, default=0)
parser.add_argument('--vocab', type=int, default=256)
args = parser.parse_args()
shape = [int(d) for d in args.shape.split('x')]
rng = random.Random(args.seed)
count = 1
for d in shape:
    count *= d
header = "{'descr': '<i8', 'fortran_order': False, 'shape': (%s), }" % (
    ', '.join(str(d) for d in shape) + (',' if len(shape) == 1 else ''))
header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
with open(args.out, 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)))
    f.write(header.encode())
    f.write(struct.pack('<%dq' % count,
                        *(rng.randrange(args.vocab) for _ in range(count))))
