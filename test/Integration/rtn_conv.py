#!/usr/bin/env python3
"""Helper of rtn-conv.test (Python standard library only).

`emit DIR` writes DIR/cnn.onnxtxt, a small CNN with constant weights, and
its input DIR/x.npy:

  c1  Conv 3x3, pads 1, 4 -> 8 channels, bias; Relu
  c2  depthwise Conv 3x3 (group 8), stride 2, pads 1, bias; Relu
  c3  grouped Conv 1x1 (group 2), 8 -> 6 channels  -> y [2, 6, 5, 5]

Output channels get weight ranges that differ by up to 8x, so that per
channel scales matter.

`check DIR FP.npy Q.npy --bits B` reads the outputs of the f32 artifact
and of the RTN-quantized one and checks each output element of the
quantized model against a bound derived from the quantization step alone,
never from observed outputs. Symmetric RTN per output channel rounds every
weight of channel f to a multiple of s_f = max|W_f| / (2^(B-1) - 1), so
|W' - W| <= s_f / 2 and |W'| <= |W| + s_f / 2. Propagated through a layer
(out = conv(h, W) + b; Relu is 1-Lipschitz), with the f32 reference
activations h computed here in double precision:

  |out' - out| <= conv(|h' - h|, |W| + s/2) + conv(|h|, s/2)

The f32 artifact must match the double-precision reference to 1e-5
relative to the magnitude conv(|h|, |W|) + |b| (summation order); the
quantized one must stay within the bound plus the same slack, and must
differ from the f32 one somewhere (a pass that quantized nothing fails).
"""

import argparse
import ast
import struct
import sys

N, C, H, W = 2, 4, 10, 10


class Lcg:
    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) % 2**64
        return self.state >> 33


def uniform(rng, scale):
    # Multiples of 1/1024 in [-scale, scale]: exact in f32 and in decimal.
    steps = int(scale * 1024)
    return (rng.next() % (2 * steps + 1) - steps) / 1024


# name, shape [F, C/group, kh, kw], group, stride, pad, bias, relu
LAYERS = [
    ("c1", [8, 4, 3, 3], 1, 1, 1, True, True),
    ("c2", [8, 1, 3, 3], 8, 2, 1, True, True),
    ("c3", [6, 4, 1, 1], 2, 1, 0, False, False),
]


def weights():
    rng = Lcg(2027)
    result = {}
    for name, shape, group, stride, pad, bias, relu in LAYERS:
        f, k = shape[0], shape[1] * shape[2] * shape[3]
        w = [[uniform(rng, 0.125 * (1 + (i % 4) * 2)) for _ in range(k)]
             for i in range(f)]
        b = [uniform(rng, 0.5) for _ in range(f)] if bias else None
        result[name] = (w, b)
    x = [uniform(rng, 1.0) for _ in range(N * C * H * W)]
    return result, x


def npy_write(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ', '.join(map(str, shape)) + (',' if len(shape) == 1 else ''))
    header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)))
        f.write(header.encode())
        f.write(struct.pack('<%df' % len(values), *values))


def npy_read(path):
    with open(path, 'rb') as f:
        data = f.read()
    hlen = struct.unpack('<H', data[8:10])[0]
    header = ast.literal_eval(data[10:10 + hlen].decode('latin1'))
    assert header['descr'] == '<f4', header
    count = 1
    for d in header['shape']:
        count *= d
    return list(header['shape']), list(
        struct.unpack('<%df' % count, data[10 + hlen:10 + hlen + 4 * count]))


def emit(out):
    ws, x = weights()
    inits = []
    nodes = []
    prev = "x"
    for name, shape, group, stride, pad, bias, relu in LAYERS:
        w, b = ws[name]
        flat = [v for row in w for v in row]
        inits.append("float[%s] %s_w = {%s}" % (
            ", ".join(map(str, shape)), name, ", ".join(map(repr, flat))))
        args = "%s, %s_w" % (prev, name)
        if b is not None:
            inits.append("float[%d] %s_b = {%s}" % (
                shape[0], name, ", ".join(map(repr, b))))
            args += ", %s_b" % name
        attrs = "group = %d, strides = [%d, %d], pads = [%d, %d, %d, %d]" % (
            group, stride, stride, pad, pad, pad, pad)
        result = "y" if name == LAYERS[-1][0] else name
        nodes.append("  %s = Conv <%s> (%s)" % (result, attrs, args))
        prev = result
        if relu:
            nodes.append("  %s_relu = Relu (%s)" % (name, result))
            prev = name + "_relu"
    with open(out + "/cnn.onnxtxt", "w") as f:
        f.write('<ir_version: 8, opset_import: ["" : 13]>\n')
        f.write("cnn (float[%d, %d, %d, %d] x) => (float[2, 6, 5, 5] y)\n" %
                (N, C, H, W))
        f.write("<" + ", ".join(inits) + ">\n{\n" + "\n".join(nodes) + "\n}\n")
    npy_write(out + "/x.npy", [N, C, H, W], x)


def conv(h, shape_in, w, shape, group, stride, pad):
    """NCHW convolution in double precision; w is [F][K]."""
    n, c, hh, ww = shape_in
    f = shape[0]
    cg, kh, kw = shape[1], shape[2], shape[3]
    fg = f // group
    oh = (hh + 2 * pad - kh) // stride + 1
    ow = (ww + 2 * pad - kw) // stride + 1
    out = [0.0] * (n * f * oh * ow)
    for b in range(n):
        for o in range(f):
            g = o // fg
            row = w[o]
            for y in range(oh):
                for xo in range(ow):
                    acc = 0.0
                    for ci in range(cg):
                        ch = g * cg + ci
                        for i in range(kh):
                            yi = y * stride - pad + i
                            if yi < 0 or yi >= hh:
                                continue
                            for j in range(kw):
                                xi = xo * stride - pad + j
                                if xi < 0 or xi >= ww:
                                    continue
                                acc += h[((b * c + ch) * hh + yi) * ww + xi] * \
                                    row[(ci * kh + i) * kw + j]
                    out[((b * f + o) * oh + y) * ow + xo] = acc
    return out, [n, f, oh, ow]


def check(args):
    ws, x = weights()
    qmax = 2 ** (args.bits - 1) - 1
    shape = [N, C, H, W]
    h, mag, dev = list(x), [abs(v) for v in x], [0.0] * len(x)
    for name, wshape, group, stride, pad, bias, relu in LAYERS:
        w, b = ws[name]
        steps = [max(abs(v) for v in row) / qmax / 2 for row in w]
        absw = [[abs(v) for v in row] for row in w]
        widened = [[abs(v) + steps[f] for v in row] for f, row in enumerate(w)]
        half = [[steps[f]] * len(row) for f, row in enumerate(w)]
        out, oshape = conv(h, shape, w, wshape, group, stride, pad)
        m, _ = conv(mag, shape, absw, wshape, group, stride, pad)
        d1, _ = conv(dev, shape, widened, wshape, group, stride, pad)
        d2, _ = conv([abs(v) for v in h], shape, half, wshape, group, stride,
                     pad)
        plane = oshape[2] * oshape[3]
        if b is not None:
            for i in range(len(out)):
                f = (i // plane) % oshape[1]
                out[i] += b[f]
                m[i] += abs(b[f])
        dev = [a + c for a, c in zip(d1, d2)]
        if relu:
            out = [max(v, 0.0) for v in out]
        h, mag, shape = out, m, oshape
    fshape, fp = npy_read(args.fp)
    qshape, q = npy_read(args.q)
    if fshape != shape or qshape != shape:
        print("FAIL: shapes %s %s, expected %s" % (fshape, qshape, shape))
        return 1
    slack = [1e-5 * (1.0 + v) for v in mag]
    bad = [i for i in range(len(h)) if abs(fp[i] - h[i]) > slack[i]]
    if bad:
        i = bad[0]
        print("FAIL: f32 artifact: %d values off the reference, first at %d: "
              "%r vs %r" % (len(bad), i, fp[i], h[i]))
        return 1
    over = [i for i in range(len(h)) if abs(q[i] - h[i]) > dev[i] + slack[i]]
    if over:
        i = over[0]
        print("FAIL: int%d: %d values outside the bound, first at %d: "
              "|%r - %r| > %r" % (args.bits, len(over), i, q[i], h[i], dev[i]))
        return 1
    err = max(abs(a - c) for a, c in zip(q, fp))
    if err == 0.0:
        print("FAIL: int%d: the quantized outputs equal the f32 ones" % args.bits)
        return 1
    ref = max(abs(v) for v in fp)
    ratio = max(abs(q[i] - h[i]) / dev[i] for i in range(len(h)) if dev[i] > 0)
    print("int%d: %d values within the bound; max abs error %.3g (%.3g of "
          "max |y| %.3g), at most %.2f of the bound" %
          (args.bits, len(h), err, err / ref, ref, ratio))
    return 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("emit")
    e.add_argument("dir")
    c = sub.add_parser("check")
    c.add_argument("fp")
    c.add_argument("q")
    c.add_argument("--bits", type=int, required=True)
    args = parser.parse_args()
    if args.cmd == "emit":
        emit(args.dir)
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
