#!/usr/bin/env python3
"""Accuracy of compiled f32 transcendentals against a double reference.

usage: math_accuracy.py make X.npy
       math_accuracy.py check OUTDIR [--max NAME=BOUND ...]

`make` writes a 1-D float32 input: every 8192nd f32 bit pattern (both
signs, subnormals and the whole normal range, 524288 values, NaN patterns
skipped), then 0, -0, +-inf, NaN and a dense sweep of [-10, 10].

`check` reads OUTDIR/<name>.npy for each function of the model in
math-accuracy.test and prints, per function, the largest error against
Python's double-precision math rounded to f32: in units in the last place
(ulp) for exp, tanh, erf, log and sigmoid, and max(|error|/max(|ref|, 1))
for the two GELUs (whose f32 formulas cancel for large negative x, in libm as
well). Infinite and NaN references must be matched exactly (same class and
sign). Exits 1 when a bound given by --max is exceeded.
"""
import math
import struct
import sys


def read_npy(path):
    with open(path, 'rb') as f:
        data = f.read()
    hlen = struct.unpack('<H', data[8:10])[0]
    header = data[10:10 + hlen].decode('latin1')
    assert "'<f4'" in header, header
    body = data[10 + hlen:]
    return list(struct.unpack('<%df' % (len(body) // 4), body))


def write_npy(path, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % len(values)
    header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)))
        f.write(header.encode())
        f.write(struct.pack('<%df' % len(values), *values))


def inputs():
    xs = []
    for bits in range(0, 1 << 32, 8192):
        if (bits >> 23) & 0xff == 0xff and bits & 0x7fffff:
            continue  # NaN patterns: one NaN below is enough
        xs.append(struct.unpack('<f', struct.pack('<I', bits))[0])
    xs += [0.0, -0.0, math.inf, -math.inf, math.nan]
    xs += [-10 + i * (20 / 65536) for i in range(65537)]
    return [struct.unpack('<f', struct.pack('<f', x))[0] for x in xs]


def f32(x):
    try:
        return struct.unpack('<f', struct.pack('<f', x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def ulp(x):
    """Spacing of f32 values at |x| (subnormal spacing below 2^-126)."""
    x = abs(x)
    if x < 2.0 ** -126:
        return 2.0 ** -149
    return 2.0 ** (math.frexp(x)[1] - 1 - 23)


def sigmoid(x):
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def safe(fn):
    def g(x):
        if math.isnan(x):
            return math.nan
        try:
            return fn(x)
        except (ValueError, OverflowError):
            return None
    return g


def exp_ref(x):
    if x > 709:
        return math.inf
    return math.exp(x)


def log_ref(x):
    if x < 0:
        return math.nan
    if x == 0:
        return -math.inf
    return math.log(x)


def gelu_tanh(x):
    if math.isinf(x):
        return x if x > 0 else math.nan  # -inf * 0, as the formula gives
    return 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) *
                                    (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    if math.isinf(x):
        return x if x > 0 else math.nan  # -inf * 0, as the formula gives
    return 0.5 * x * (1 + math.erf(x / math.sqrt(2)))


FUNCS = {  # name: (reference, metric)
    'exp': (exp_ref, 'ulp'), 'tanh': (math.tanh, 'ulp'),
    'erf': (math.erf, 'ulp'), 'log': (log_ref, 'ulp'),
    'sigmoid': (sigmoid, 'ulp'), 'gelu_tanh': (gelu_tanh, 'rel'),
    'gelu_erf': (gelu_erf, 'rel'),
}


def check(outdir, bounds):
    xs = inputs()
    failed = False
    for name, (ref_fn, metric) in FUNCS.items():
        ys = read_npy('%s/%s.npy' % (outdir, name))
        worst, worst_x, bad = 0.0, None, []
        for x, y in zip(xs, ys):
            r = safe(ref_fn)(x)
            if r is None:
                continue
            r = f32(r)
            if math.isnan(r) or math.isinf(r) or math.isnan(y) or math.isinf(y):
                if not ((math.isnan(r) and math.isnan(y)) or r == y):
                    bad.append((x, y, r))
                continue
            if metric == 'ulp':
                # Results below 2^-126 may flush to zero (the exp polynomial
                # builds 2^n from the exponent field): error counted in ulps
                # of the smallest normal there.
                err = 0.0 if abs(r) < 2.0 ** -126 and y == 0 else abs(y - r) / ulp(r)
            else:
                err = abs(y - r) / max(abs(r), 1.0)
            if err > worst:
                worst, worst_x = err, x
        unit = 'ulp' if metric == 'ulp' else 'rel'
        print('%-10s max error %.3g %s at x = %r; %d wrong specials%s' % (
            name, worst, unit, worst_x, len(bad),
            (' e.g. x=%r got %r want %r' % bad[0]) if bad else ''))
        bound = bounds.get(name)
        if bad or (bound is not None and worst > bound):
            print('FAIL: %s' % name)
            failed = True
    return 1 if failed else 0


def main():
    if sys.argv[1] == 'make':
        write_npy(sys.argv[2], inputs())
        return 0
    bounds = {}
    args = sys.argv[3:]
    for i, a in enumerate(args):
        if a == '--max':
            name, value = args[i + 1].split('=')
            bounds[name] = float(value)
    return check(sys.argv[2], bounds)


if __name__ == '__main__':
    sys.exit(main())
