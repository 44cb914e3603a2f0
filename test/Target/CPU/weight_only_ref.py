#!/usr/bin/env python3
"""Writes weight-only linear layers with given packed weights as MLIR, an
input, and the expected outputs computed here, independently of qopt:
y[m, n] = sum_k x[m, k] * (q[n, k] - zp[n, k / G]) * s[n, k / G].

usage: weight_only_ref.py OUT_DIR
Writes OUT_DIR/{x.npy, <case>.mlir, <case>.expected.npy} for the cases
int4_sym_g32, int4_asym_g32 (ui4 with zero points), int8_sym_pc,
int3_sym_g32 and int3_asym_g16 (ui3 with zero points).
"""
import os
import random
import struct
import sys

M, K, N = 3, 64, 24


def npy(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ', '.join(map(str, shape)) + (',' if len(shape) == 1 else ''))
    header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)))
        f.write(header.encode())
        f.write(struct.pack('<%df' % len(values), *values))


def f32(v):
    return struct.unpack('<f', struct.pack('<f', v))[0]


def dense(rows):
    return '[' + ', '.join('[' + ', '.join(rows_i) + ']' for rows_i in rows) + ']'


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(7)
    x = [[f32(rng.uniform(-1, 1)) for _ in range(K)] for _ in range(M)]
    npy(os.path.join(out, 'x.npy'), [M, K], [v for row in x for v in row])
    cases = {
        'int4_sym_g32': dict(bits=4, signed=True, group=32, zp=False),
        'int4_asym_g32': dict(bits=4, signed=False, group=32, zp=True),
        'int8_sym_pc': dict(bits=8, signed=True, group=K, zp=False),
        'int3_sym_g32': dict(bits=3, signed=True, group=32, zp=False),
        'int3_asym_g16': dict(bits=3, signed=False, group=16, zp=True),
    }
    for name, c in cases.items():
        bits, group = c['bits'], c['group']
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if c['signed'] \
            else (0, (1 << bits) - 1)
        q = [[rng.randint(lo, hi) for _ in range(K)] for _ in range(N)]
        groups = K // group
        s = [[f32(rng.uniform(0.01, 0.1)) for _ in range(groups)]
             for _ in range(N)]
        zp = [[rng.randint(lo, hi) if c['zp'] else 0 for _ in range(groups)]
              for _ in range(N)]
        y = []
        for m in range(M):
            for n in range(N):
                acc = 0.0
                for k in range(K):
                    g = k // group
                    acc += x[m][k] * (q[n][k] - zp[n][g]) * s[n][g]
                y.append(acc)
        npy(os.path.join(out, name + '.expected.npy'), [M, N], y)
        # Packed little-endian bit stream per row: element k in bits
        # [k * bits, (k + 1) * bits).
        if bits == 8:
            packed = [[str(v) for v in row] for row in q]
            wtype = 'tensor<%dx%dxi8>' % (N, K)
        else:
            packed = []
            mask = (1 << bits) - 1
            for row in q:
                stream = 0
                for k, v in enumerate(row):
                    stream |= (v & mask) << (k * bits)
                b = []
                for j in range(K * bits // 8):
                    byte = (stream >> (8 * j)) & 255
                    b.append(str(byte - 256 if byte > 127 else byte))
                packed.append(b)
            wtype = 'tensor<%dx%dxi8>' % (N, K * bits // 8)
        storage = ('i' if c['signed'] else 'ui') + str(bits)
        if group == K:
            gran = 'granularity = per_channel, axis = 0'
            stype = 'tensor<%dxf32>' % N
            scale = '[' + ', '.join(repr(r[0]) for r in s) + ']'
        else:
            gran = 'granularity = per_group, axis = 1, group_size = %d' % group
            stype = 'tensor<%dx%dxf32>' % (N, groups)
            scale = dense([[repr(v) for v in r] for r in s])
        zp_part = ''
        consts = ''
        if c['zp']:
            ztype = 'tensor<%dx%dxi%d>' % (N, groups, bits)
            consts += '  %%z = arith.constant dense<%s> : %s\n' % (
                dense([[str(v - (1 << bits) if v >= (1 << (bits - 1)) else v)
                        for v in r] for r in zp]),
                ztype)
            zp_part = ' zero_point(%%z : %s)' % ztype
        sym = '' if not c['zp'] else ', symmetric = false'
        with open(os.path.join(out, name + '.mlir'), 'w') as f:
            f.write(
                'func.func @main(%%x: tensor<?x%dxf32>) -> tensor<?x%dxf32> {\n'
                '  %%w = arith.constant dense<%s> : %s\n'
                '  %%s = arith.constant dense<%s> : %s\n%s'
                '  %%y = qopt.weight_only_linear %%x, %%w scale(%%s : %s)%s '
                'scheme <storage = %s, %s%s> : tensor<?x%dxf32>, %s -> '
                'tensor<?x%dxf32>\n'
                '  return %%y : tensor<?x%dxf32>\n}\n' % (
                    K, N, dense(packed), wtype, scale, stype, consts, stype,
                    zp_part, storage, gran, sym, K, wtype, N, N))


if __name__ == '__main__':
    main()
