#!/usr/bin/env python3
"""ONNX Runtime's dynamically quantized form of the MobileNet-like model.

Writes OUT/mobilenetv3s_int8.onnx (+ .data): make_models.py's
mobilenetv3s with the same weights (the same random stream), every Conv
rewritten as onnxruntime.quantization.quantize_dynamic would (its
ConvInteger form), so that bench/cnn_w8a8.sh can time ORT's int8
convolutions beside qopt's W8A8 ones:

  x -> DynamicQuantizeLinear -> (xq: uint8, xs, xz)
  ConvInteger(xq, wq, xz, wz = 0) -> int32 -> Cast(float)
    -> Mul(xs * ws[F, 1, 1]) -> Add(bias[F, 1, 1])

with wq int8, symmetric per output channel (s = max|W_f| / 127, q =
round-half-even(W / s), as qopt-quantize-w8a8 computes them). The two Gemm
heads stay f32. Needs only protoc and libonnx-dev's onnx.proto, as
make_models.py (python3-onnx, which quantize_dynamic.py needs, is not
required).

usage: make_cnn_int8.py [--out DIR]
"""

import argparse
import math
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_models as mm  # noqa: E402


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def draw(g, n, scale):
    # Exactly Graph.weight's draws, so the weights equal the f32 model's.
    return [f32((g.rnd.random() * 2 - 1) * scale) for _ in range(n)]


def conv_int8(g, x, cin, cout, k, stride=1, group=1, bias=True):
    cg = cin // group
    fan_in = cg * k * k
    w = draw(g, cout * fan_in, 1.0 / math.sqrt(max(fan_in, 1)))
    b = draw(g, cout, 0.1) if bias else None
    q, scales = [], []
    for f in range(cout):
        row = w[f * fan_in:(f + 1) * fan_in]
        amax = max(abs(v) for v in row)
        s = f32(amax / 127) if amax > 0 else 1.0
        scales.append(s)
        q += [max(-127, min(127, int(round(f32(v / s))))) for v in row]
    wq = g.weight([cout, cg, k, k], values=q, dtype="b")
    # Symmetric: one zero point of 0 (ORT takes per-tensor zero points only;
    # the per-channel scales are applied after the integer convolution).
    wz = g.const_i8([0])
    ws = g.weight([cout, 1, 1], values=scales)
    xq, xs, xz = g.op("DynamicQuantizeLinear", [x], outputs=3)
    attrs = " ".join([mm.ints("kernel_shape", [k, k]),
                      mm.ints("pads", [k // 2] * 4),
                      mm.ints("strides", [stride, stride]),
                      mm.attr_i("group", group)])
    acc = g.op("ConvInteger", [xq, wq, xz, wz], attrs)
    y = g.op("Cast", [acc], mm.attr_i("to", 1))
    y = g.op("Mul", [y, g.op("Mul", [xs, ws])])
    if b is not None:
        y = g.op("Add", [y, g.weight([cout, 1, 1], values=b)])
    return y


class Int8Graph(mm.Graph):
    def weight(self, shape, scale=None, values=None, dtype="f"):
        if dtype != "b":
            return super().weight(shape, scale, values, dtype)
        # int8 initializer (ONNX data type 3), inline raw bytes.
        name = self.fresh("w")
        dims = " ".join(f"dims: {d}" for d in shape)
        raw = bytes(v & 0xff for v in values)
        text = "".join("\\%03o" % c for c in raw)
        self.inits.append(f'initializer {{ name: "{name}" {dims} data_type: 3 '
                          f'raw_data: "{text}" }}')
        return name

    def const_i8(self, values):
        name = self.fresh("c")
        raw = "".join("\\%03o" % (v & 0xff) for v in values)
        self.inits.append(f'initializer {{ name: "{name}" dims: {len(values)} '
                          f'data_type: 3 raw_data: "{raw}" }}')
        return name


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(mm.ROOT, "build",
                                                      "bench", "speed"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    mm.conv = conv_int8
    mm.Graph = Int8Graph
    g, _ = mm.mobilenetv3s()
    g.name = "mobilenetv3s_int8"
    text = g.text().replace('value: "mobilenetv3s.data"',
                            'value: "mobilenetv3s_int8.data"')
    mm.write(os.path.join(args.out, "mobilenetv3s_int8.data"), bytes(g.data))
    mm.write(os.path.join(args.out, "mobilenetv3s_int8.onnx"),
             mm.encode_model(text))
    print(f"make_cnn_int8: {args.out}/mobilenetv3s_int8.onnx")


if __name__ == "__main__":
    sys.exit(main())
