#!/usr/bin/env python3
"""Generates the speed benchmark models of bench/models_vs_ort.sh.

Three fp32 models with the shapes of the models issue 12 names, random
weights (Python's random.Random with a fixed seed: every machine writes the
same bytes), no downloads:

  mobilenetv3s.onnx  MobileNetV3-small-like classifier: input [1, 3, 224,
                     224]; conv stem, 11 inverted-residual blocks (1x1
                     expand, depthwise 3x3/5x5 with strides 2, squeeze-excite
                     with HardSigmoid, 1x1 project, residuals), HardSwish and
                     ReLU, global pool, two Gemm heads -> [1, 1000]. 2.5M
                     parameters.
  svtr.onnx          SVTR-like text recognizer: input [1, 3, 32, 320]; two
                     3x3 stride-2 conv stem layers (HardSwish) -> 640 tokens
                     of 64; 2 pre-LN attention blocks (2 heads, MLP 4x, erf
                     GELU); a 3x3 (2, 1)-strided merging conv -> 320 tokens of
                     128; 2 more blocks (4 heads); mean over height, a
                     linear head and softmax -> [1, 80, 97].
  gpt2.onnx          GPT-2-like decoder: input_ids [1, 128] (int64); 6
                     layers, d = 384, 6 heads, causal attention, LayerNorm,
                     tanh-GELU spelled as torch exports it (Pow, Tanh), tied
                     4096-token head -> logits [1, 128, 4096]. 12.3M params.

Weights go to one external data file per model (<name>.data); inputs as
.npy next to them. Graphs are ONNX text-format ModelProtos encoded by
`protoc --encode=onnx.ModelProto` against /usr/include/onnx/onnx.proto
(packages protobuf-compiler and libonnx-dev); opset 17, IR version 8.

usage: make_models.py [--out DIR] [--force]
"""

import argparse
import array
import math
import os
import random
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
PROTO = "/usr/include/onnx/onnx.proto"


class Graph:
    """Builds a ModelProto in protobuf text format, weights in one file."""

    def __init__(self, name, seed):
        self.name = name
        self.rnd = random.Random(seed)
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.data = bytearray()
        self.count = 0

    def fresh(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def weight(self, shape, scale=None, values=None, dtype="f"):
        """An initializer; uniform in [-scale, scale) by default, scale =
        1/sqrt(fan_in) (fan_in = product of all dims but the first)."""
        name = self.fresh("w")
        n = 1
        for d in shape:
            n *= d
        if values is None:
            if scale is None:
                fan_in = n // shape[0] if len(shape) > 1 else shape[0]
                scale = 1.0 / math.sqrt(max(fan_in, 1))
            values = [(self.rnd.random() * 2 - 1) * scale for _ in range(n)]
        arr = array.array(dtype, values)
        if sys.byteorder != "little":
            arr.byteswap()
        while len(self.data) % 64:
            self.data.append(0)
        offset = len(self.data)
        self.data += arr.tobytes()
        elem = {"f": 1, "q": 7}[dtype]
        dims = " ".join(f"dims: {d}" for d in shape)
        self.inits.append(
            f'initializer {{ name: "{name}" {dims} data_type: {elem} '
            f'data_location: EXTERNAL external_data {{ key: "location" '
            f'value: "{self.name}.data" }} external_data {{ key: "offset" '
            f'value: "{offset}" }} external_data {{ key: "length" value: '
            f'"{len(arr) * arr.itemsize}" }} }}')
        return name

    def const(self, values, shape=None, dtype="f"):
        """An inline initializer (ONNX Runtime's shape inference reads
        Reshape's shapes only from inline data)."""
        shape = shape if shape is not None else [len(values)]
        name = self.fresh("c")
        dims = " ".join(f"dims: {d}" for d in shape)
        field = "int64_data" if dtype == "q" else "float_data"
        vals = " ".join(f"{field}: {v!r}" for v in values)
        self.inits.append(f'initializer {{ name: "{name}" {dims} data_type: '
                          f'{7 if dtype == "q" else 1} {vals} }}')
        return name

    def op(self, op_type, inputs, attrs="", outputs=1):
        outs = [self.fresh(op_type.lower()) for _ in range(outputs)]
        ins = " ".join(f'input: "{i}"' for i in inputs)
        os_ = " ".join(f'output: "{o}"' for o in outs)
        self.nodes.append(f'node {{ {ins} {os_} name: "{outs[0]}" '
                          f'op_type: "{op_type}" {attrs} }}')
        return outs[0] if outputs == 1 else outs

    def value_info(self, name, elem, shape):
        dims = " ".join(f"dim {{ dim_value: {d} }}" for d in shape)
        return (f'{{ name: "{name}" type {{ tensor_type {{ elem_type: {elem} '
                f'shape {{ {dims} }} }} }} }}')

    def text(self):
        body = "\n  ".join(self.nodes + self.inits)
        ins = "\n  ".join(f"input {v}" for v in self.inputs)
        outs = "\n  ".join(f"output {v}" for v in self.outputs)
        return (f'ir_version: 8\nproducer_name: "qopt make_models.py"\n'
                f'opset_import {{ domain: "" version: 17 }}\n'
                f'graph {{\n  name: "{self.name}"\n  {body}\n  {ins}\n  '
                f'{outs}\n}}\n')


def ints(name, values):
    return (f'attribute {{ name: "{name}" type: INTS ' +
            " ".join(f"ints: {v}" for v in values) + " }")


def attr_i(name, v):
    return f'attribute {{ name: "{name}" type: INT i: {v} }}'


def attr_f(name, v):
    return f'attribute {{ name: "{name}" type: FLOAT f: {v!r} }}'


def conv(g, x, cin, cout, k, stride=1, group=1, bias=True):
    w = g.weight([cout, cin // group, k, k])
    ins = [x, w] + ([g.weight([cout], scale=0.1)] if bias else [])
    attrs = " ".join([ints("kernel_shape", [k, k]),
                      ints("pads", [k // 2] * 4),
                      ints("strides", [stride, stride]), attr_i("group", group)])
    return g.op("Conv", ins, attrs)


def act(g, x, kind):
    return g.op("HardSwish" if kind == "HS" else "Relu", [x])


def mobilenetv3s():
    g = Graph("mobilenetv3s", 1)
    g.inputs.append(g.value_info("input", 1, [1, 3, 224, 224]))
    x = act(g, conv(g, "input", 3, 16, 3, 2), "HS")
    cin = 16
    blocks = [(3, 16, 16, True, "RE", 2), (3, 72, 24, False, "RE", 2),
              (3, 88, 24, False, "RE", 1), (5, 96, 40, True, "HS", 2),
              (5, 240, 40, True, "HS", 1), (5, 240, 40, True, "HS", 1),
              (5, 120, 48, True, "HS", 1), (5, 144, 48, True, "HS", 1),
              (5, 288, 96, True, "HS", 2), (5, 576, 96, True, "HS", 1),
              (5, 576, 96, True, "HS", 1)]
    for k, exp, cout, se, kind, s in blocks:
        y = x
        if exp != cin:
            y = act(g, conv(g, y, cin, exp, 1), kind)
        y = act(g, conv(g, y, exp, exp, k, s, group=exp), kind)
        if se:
            mid = max(8, (exp // 4 + 7) // 8 * 8)
            p = g.op("GlobalAveragePool", [y])
            p = g.op("Relu", [conv(g, p, exp, mid, 1)])
            p = g.op("HardSigmoid", [conv(g, p, mid, exp, 1)],
                     attr_f("alpha", 1 / 6) + " " + attr_f("beta", 0.5))
            y = g.op("Mul", [y, p])
        y = conv(g, y, exp, cout, 1)
        if s == 1 and cin == cout:
            y = g.op("Add", [x, y])
        x, cin = y, cout
    x = act(g, conv(g, x, cin, 576, 1), "HS")
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])])
    x = g.op("HardSwish", [g.op("Gemm", [x, g.weight([1024, 576]),
                                         g.weight([1024], scale=0.1)],
                                attr_i("transB", 1))])
    x = g.op("Gemm", [x, g.weight([1000, 1024]), g.weight([1000], scale=0.1)],
             attr_i("transB", 1))
    g.nodes[-1] = g.nodes[-1].replace(f'output: "{x}"', 'output: "logits"')
    g.outputs.append(g.value_info("logits", 1, [1, 1000]))
    return g, {"input": ([1, 3, 224, 224], "f")}


def layer_norm(g, x, d):
    return g.op("LayerNormalization",
                [x, g.const([1.0] * d), g.const([0.0] * d)],
                attr_i("axis", -1) + " " + attr_f("epsilon", 1e-5))


def linear(g, x, din, dout):
    return g.op("Add", [g.op("MatMul", [x, g.weight([din, dout],
                                                    scale=1 / math.sqrt(din))]),
                        g.weight([dout], scale=0.02)])


def gelu(g, x, tanh):
    if tanh:  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), torch's
        x3 = g.op("Pow", [x, g.const([3.0], [])])
        inner = g.op("Add", [x, g.op("Mul", [x3, g.const([0.044715], [])])])
        t = g.op("Tanh", [g.op("Mul", [inner, g.const(
            [math.sqrt(2 / math.pi)], [])])])
        return g.op("Mul", [g.op("Mul", [x, g.const([0.5], [])]),
                            g.op("Add", [t, g.const([1.0], [])])])
    e = g.op("Erf", [g.op("Div", [x, g.const([math.sqrt(2)], [])])])
    return g.op("Mul", [g.op("Mul", [x, g.op("Add", [e, g.const([1.0], [])])]),
                        g.const([0.5], [])])


def attention(g, x, s, d, heads, mask=None):
    hd = d // heads
    qkv = linear(g, x, d, 3 * d)                       # [1, s, 3d]
    qkv = g.op("Reshape", [qkv, g.const([1, s, 3, heads, hd], [5], "q")])
    qkv = g.op("Transpose", [qkv], ints("perm", [2, 0, 3, 1, 4]))
    q, k, v = g.op("Split", [qkv], attr_i("axis", 0), outputs=3)
    sq = g.const([0], [1], "q")
    q, k, v = (g.op("Squeeze", [t, sq]) for t in (q, k, v))  # [1, h, s, hd]
    kt = g.op("Transpose", [k], ints("perm", [0, 1, 3, 2]))
    scores = g.op("Mul", [g.op("MatMul", [q, kt]),
                          g.const([1 / math.sqrt(hd)], [])])
    if mask is not None:
        scores = g.op("Add", [scores, mask])
    p = g.op("Softmax", [scores], attr_i("axis", -1))
    o = g.op("MatMul", [p, v])                          # [1, h, s, hd]
    o = g.op("Transpose", [o], ints("perm", [0, 2, 1, 3]))
    o = g.op("Reshape", [o, g.const([1, s, d], [3], "q")])
    return linear(g, o, d, d)


def block(g, x, s, d, heads, tanh_gelu, mask=None):
    x = g.op("Add", [x, attention(g, layer_norm(g, x, d), s, d, heads, mask)])
    h = gelu(g, linear(g, layer_norm(g, x, d), d, 4 * d), tanh_gelu)
    return g.op("Add", [x, linear(g, h, 4 * d, d)])


def svtr():
    g = Graph("svtr", 2)
    g.inputs.append(g.value_info("image", 1, [1, 3, 32, 320]))
    x = act(g, conv(g, "image", 3, 32, 3, 2), "HS")     # [1, 32, 16, 160]
    x = act(g, conv(g, x, 32, 64, 3, 2), "HS")          # [1, 64, 8, 80]
    x = g.op("Reshape", [x, g.const([1, 64, 640], [3], "q")])
    x = g.op("Transpose", [x], ints("perm", [0, 2, 1]))  # [1, 640, 64]
    for _ in range(2):
        x = block(g, x, 640, 64, 2, False)
    x = g.op("Transpose", [x], ints("perm", [0, 2, 1]))
    x = g.op("Reshape", [x, g.const([1, 64, 8, 80], [4], "q")])
    w = g.weight([128, 64, 3, 3])
    x = g.op("Conv", [x, w, g.weight([128], scale=0.1)],
             ints("kernel_shape", [3, 3]) + " " + ints("pads", [1, 1, 1, 1]) +
             " " + ints("strides", [2, 1]))             # [1, 128, 4, 80]
    x = g.op("Reshape", [x, g.const([1, 128, 320], [3], "q")])
    x = g.op("Transpose", [x], ints("perm", [0, 2, 1]))  # [1, 320, 128]
    for _ in range(2):
        x = block(g, x, 320, 128, 4, False)
    x = layer_norm(g, x, 128)
    x = g.op("Reshape", [x, g.const([1, 4, 80, 128], [4], "q")])
    x = g.op("ReduceMean", [x], ints("axes", [1]) + " " +
             attr_i("keepdims", 0))                      # [1, 80, 128]
    x = g.op("Softmax", [linear(g, x, 128, 97)], attr_i("axis", -1))
    g.nodes[-1] = g.nodes[-1].replace(f'output: "{x}"', 'output: "probs"')
    g.outputs.append(g.value_info("probs", 1, [1, 80, 97]))
    return g, {"image": ([1, 3, 32, 320], "f")}


def gpt2(seq=128, d=384, heads=6, layers=6, vocab=4096):
    g = Graph("gpt2", 3)
    g.inputs.append(g.value_info("input_ids", 7, [1, seq]))
    wte = g.weight([vocab, d], scale=0.02)
    x = g.op("Gather", [wte, "input_ids"])
    x = g.op("Add", [x, g.weight([1, seq, d], scale=0.01)])
    mask = g.const([0.0 if j <= i else -1e9 for i in range(seq)
                    for j in range(seq)], [seq, seq])
    for _ in range(layers):
        x = block(g, x, seq, d, heads, True, mask)
    x = layer_norm(g, x, d)
    wt = g.op("Transpose", [wte], ints("perm", [1, 0]))
    x = g.op("MatMul", [x, wt])
    g.nodes[-1] = g.nodes[-1].replace(f'output: "{x}"', 'output: "logits"')
    g.outputs.append(g.value_info("logits", 1, [1, seq, vocab]))
    return g, {"input_ids": ([1, seq], "q")}


def npy_bytes(shape, data, descr):
    dims = "(%s)" % (f"{shape[0]}," if len(shape) == 1 else
                     ", ".join(map(str, shape)))
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}"
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return (b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") +
            header.encode("latin1") + data)


def encode_model(text):
    try:
        return subprocess.run(
            ["protoc", "--encode=onnx.ModelProto", "-I",
             os.path.dirname(PROTO), os.path.basename(PROTO)],
            input=text.encode(), capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        err = getattr(e, "stderr", b"") or b""
        sys.exit(f"make_models.py: protoc failed ({e}): {err.decode()}")


def write(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench",
                                                      "speed"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for make in (mobilenetv3s, svtr, gpt2):
        path = os.path.join(args.out, make.__name__ + ".onnx")
        if os.path.isfile(path) and not args.force:
            continue
        g, inputs = make()
        write(os.path.join(args.out, g.name + ".data"), bytes(g.data))
        write(path, encode_model(g.text()))
        rnd = random.Random(99)
        for name, (shape, dtype) in inputs.items():
            n = 1
            for dim in shape:
                n *= dim
            if dtype == "q":
                vals = array.array("q", [rnd.randrange(4096) for _ in range(n)])
                descr = "<i8"
            else:
                vals = array.array("f", [rnd.random() * 2 - 1
                                         for _ in range(n)])
                descr = "<f4"
            write(os.path.join(args.out, f"{g.name}.{name}.npy"),
                  npy_bytes(shape, vals.tobytes(), descr))
        print(f"make_models: {path} ({len(g.data) // 4} weights)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
