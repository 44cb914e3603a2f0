#!/usr/bin/env python3
"""Helper of w8a8-conv.test (Python standard library only).

The model and input are rtn_conv.py's (`emit`): a 3x3 conv, a depthwise
3x3 stride-2 conv and a grouped 1x1 conv, with biases and Relus.

`check FP.npy Q.npy` reads the outputs of the f32 artifact and of the
W8A8 one (qopt-quantize-w8a8, dynamic activations) and checks two things,
from the weights and the input alone, never from observed outputs:

1. The W8A8 output equals an independent re-computation of the integer
   arithmetic the pass defines, step by step in f32 (each result rounded
   with struct's float conversion, which rounds to nearest even):
     weights, per output channel f:  s_f = max|W_f| / 127,
                                     qw = clamp(rne(W / s_f), -127, 127)
     input of each conv, per tensor: amax = max|a|, sx = amax / 127,
                                     qa = clamp(rne(a * (127 / amax)), +-127)
     acc = conv(qa, qw) in integers (zero padding);
     y = ((f32)acc * sx) * s_f, then + bias, then Relu.
   Every element must match exactly (`--ulps N` allows N units in the last
   place, for a build that contracts multiply-adds).
   With `--static` (scales from calibration on this same input, min_max)
   the scales are the fp32 model's max |x| / 127, which the f32 artifact
   computes with its own rounding; they are taken from the double-precision
   reference here, so this comparison is skipped and only 2. is checked.

2. Against the fp32 model (computed here in double precision, h), the
   W8A8 output stays within a bound derived from the quantization steps:
   with e the bound on |a - h| of a layer's input (0 for the model input),
   |qa * sx - a| <= sx / 2 and |qw * s - W| <= s / 2, so per layer
     |y' - y| <= conv(e + sx/2, |W| + s/2) + conv(|h|, s/2)
   (Relu is 1-Lipschitz), plus 1e-5 relative slack for summation order.
   The f32 artifact must match h to that slack too.
"""

import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtn_conv  # noqa: E402


def f32(v):
    return struct.unpack('<f', struct.pack('<f', v))[0]


def rne(v):
    # Python's round() rounds half to even.
    return int(round(v))


def quantize_weights(w):
    qw, scales = [], []
    for row in w:
        amax = max(abs(v) for v in row)
        s = f32(amax / 127) if amax > 0 else 1.0
        if not s > 0:
            s = 1.0
        scales.append(s)
        qw.append([max(-127, min(127, rne(f32(v / s)))) for v in row])
    return qw, scales


def quantize_tensor(a):
    amax = max(abs(v) for v in a)
    if amax < 2.0 ** -119:
        return [0] * len(a), 1.0
    sx = f32(amax / 127)
    inv = f32(127 / amax)
    return [max(-127, min(127, rne(f32(v * inv)))) for v in a], sx


def integer_reference():
    """The W8A8 model's output, computed as the pass defines it."""
    ws, x = rtn_conv.weights()
    shape = [rtn_conv.N, rtn_conv.C, rtn_conv.H, rtn_conv.W]
    a = [f32(v) for v in x]
    steps = []
    for name, wshape, group, stride, pad, bias, relu in rtn_conv.LAYERS:
        w, b = ws[name]
        qw, sw = quantize_weights(w)
        qa, sx = quantize_tensor(a)
        steps.append(sx)
        acc, oshape = rtn_conv.conv(qa, shape, qw, wshape, group, stride, pad)
        plane = oshape[2] * oshape[3]
        out = []
        for i, v in enumerate(acc):
            f = (i // plane) % oshape[1]
            y = f32(f32(f32(float(int(v))) * sx) * sw[f])
            if b is not None:
                y = f32(y + b[f])
            if relu:
                y = max(y, 0.0)
            out.append(y)
        a, shape = out, oshape
    return a, shape, steps


def ulp_distance(p, q):
    def key(v):
        i = struct.unpack('<i', struct.pack('<f', v))[0]
        return i if i >= 0 else -(i & 0x7fffffff)
    return abs(key(p) - key(q))


def check(args):
    ref, shape, steps = integer_reference()
    ws, x = rtn_conv.weights()
    fshape, fp = rtn_conv.npy_read(args.fp)
    qshape, q = rtn_conv.npy_read(args.q)
    if fshape != shape or qshape != shape:
        print("FAIL: shapes %s %s, expected %s" % (fshape, qshape, shape))
        return 1
    off = [] if args.static else [
        i for i in range(len(q)) if ulp_distance(q[i], ref[i]) > args.ulps]
    if off:
        i = off[0]
        print("FAIL: %d W8A8 values differ from the integer reference, first "
              "at %d: %r vs %r" % (len(off), i, q[i], ref[i]))
        return 1

    # The fp32 model in double precision, and the error bound.
    shape = [rtn_conv.N, rtn_conv.C, rtn_conv.H, rtn_conv.W]
    h, mag, dev = list(x), [abs(v) for v in x], [0.0] * len(x)
    for (name, wshape, group, stride, pad, bias, relu), sx in zip(
            rtn_conv.LAYERS, steps):
        w, b = ws[name]
        if args.static:
            # The calibrated scale, from the fp32 activations (relative
            # rounding of the f32 artifact covered by 1e-6).
            sx = max(abs(v) for v in h) / 127 * (1 + 1e-6)
        _, sw = quantize_weights(w)
        absw = [[abs(v) for v in row] for row in w]
        widened = [[abs(v) + sw[f] / 2 for v in row] for f, row in enumerate(w)]
        half = [[sw[f] / 2] * len(row) for f, row in enumerate(w)]
        out, oshape = rtn_conv.conv(h, shape, w, wshape, group, stride, pad)
        m, _ = rtn_conv.conv(mag, shape, absw, wshape, group, stride, pad)
        d1, _ = rtn_conv.conv([e + sx / 2 for e in dev], shape, widened,
                              wshape, group, stride, pad)
        d2, _ = rtn_conv.conv([abs(v) for v in h], shape, half, wshape, group,
                              stride, pad)
        plane = oshape[2] * oshape[3]
        if b is not None:
            for i in range(len(out)):
                f = (i // plane) % oshape[1]
                out[i] += b[f]
                m[i] += abs(b[f])
        dev = [p + r for p, r in zip(d1, d2)]
        if relu:
            out = [max(v, 0.0) for v in out]
        h, mag, shape = out, m, oshape
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
        print("FAIL: w8a8: %d values outside the bound, first at %d: "
              "|%r - %r| > %r" % (len(over), i, q[i], h[i], dev[i]))
        return 1
    err = max(abs(a - c) for a, c in zip(q, fp))
    if err == 0.0:
        print("FAIL: w8a8: the quantized outputs equal the f32 ones")
        return 1
    top = max(abs(v) for v in fp)
    ratio = max(abs(q[i] - h[i]) / dev[i] for i in range(len(h)) if dev[i] > 0)
    print("w8a8%s: %d values %slie within the bound; max abs error vs f32 "
          "%.3g (%.3g of max |y| %.3g), at most %.2f of the bound" %
          (" static" if args.static else "", len(h),
           "" if args.static else "equal the integer reference and ",
           err, err / top, top, ratio))
    return 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("fp")
    c.add_argument("q")
    c.add_argument("--ulps", type=int, default=0)
    c.add_argument("--static", action="store_true")
    args = parser.parse_args()
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
