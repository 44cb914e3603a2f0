#!/usr/bin/env python3
"""Generates ONNX Runtime's dynamically quantized MatMul (K = N = 4096).

The graph onnxruntime.quantization.quantize_dynamic writes for a MatMul
with per-channel int8 weights, which ORT's graph optimizer fuses into one
DynamicQuantizeMatMul kernel (MLAS's u8 x s8 QGEMM):

    A_q, A_scale, A_zp = DynamicQuantizeLinear(A)      A f32 [M, 4096]
    Y_i32 = MatMulInteger(A_q, W_q, A_zp)              W_q int8 [4096, 4096]
    Y = Cast(Y_i32, float) * (A_scale * W_scale)       W_scale f32 [4096]

Writes into OUT (default build/bench/int8_matmul, which git ignores):

  int8_matmul.onnx    A is [M, 4096], M symbolic ("M")
  int8_matmul.data    W_q (16 MiB of int8) then W_scale (16 KiB of float32)
  A_<M>x4096.npy      float32 inputs for M = 1, 16, 128, 512
  manifest.json       shapes, operations per run (2*M*K*N), sha256 of every
                      file

Values come from Python's random.Random with a fixed seed (the same bytes on
every machine): W_q uniform in [-127, 127] (symmetric), W_scale in
[1/8128, 2/8128), A uniform in [-1, 1). The graph is ONNX text proto encoded
by `protoc --encode=onnx.ModelProto` against Debian's
/usr/include/onnx/onnx.proto, as bench/models/matmul/make_matmul.py does;
opset 20, IR version 10.

usage: make_int8_matmul.py [--out DIR] [--force]
Files already there are kept unless --force.
"""

import argparse
import json
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "bench", "models", "matmul"))
from make_matmul import encode_model, npy_bytes, sha256, uniform_f32, write  # noqa: E402

K = N = 4096
SEED = 8128
MS = (1, 16, 128, 512)
MODEL = "int8_matmul.onnx"
DATA = "int8_matmul.data"


def weights():
    """W_q as bytes: uniform int8 in [-127, 127] (0x80 = -128 never occurs)."""
    rnd = random.Random(SEED)
    raw = rnd.getrandbits(8 * K * N).to_bytes(K * N, "little")
    table = bytes(range(256)).replace(b"\x80", b"\x81")
    return raw.translate(table)


def scales():
    rnd = random.Random(SEED + 1)
    return struct.pack(f"<{N}f", *[(1.0 + rnd.random()) / 8128 for _ in range(N)])


def model_text():
    def ext(offset, length):
        return (f'data_location: EXTERNAL '
                f'external_data {{ key: "location" value: "{DATA}" }} '
                f'external_data {{ key: "offset" value: "{offset}" }} '
                f'external_data {{ key: "length" value: "{length}" }}')

    def value(kind, name):
        return (f'  {kind} {{ name: "{name}" type {{ tensor_type {{ '
                f'elem_type: 1 shape {{ dim {{ dim_param: "M" }} '
                f'dim {{ dim_value: {K if name == "A" else N} }} }} }} }} }}')
    return "\n".join([
        "ir_version: 10",
        'producer_name: "qopt bench/models/int8_matmul/make_int8_matmul.py"',
        'opset_import { domain: "" version: 20 }',
        "graph {",
        '  name: "int8_matmul"',
        '  node { input: "A" output: "A_q" output: "A_scale" output: "A_zp" '
        'name: "quantize" op_type: "DynamicQuantizeLinear" }',
        '  node { input: "A_q" input: "W_q" input: "A_zp" output: "Y_i32" '
        'name: "matmul" op_type: "MatMulInteger" }',
        '  node { input: "Y_i32" output: "Y_f" name: "cast" op_type: "Cast" '
        'attribute { name: "to" i: 1 type: INT } }',
        '  node { input: "A_scale" input: "W_scale" output: "scale" '
        'name: "scale" op_type: "Mul" }',
        '  node { input: "Y_f" input: "scale" output: "Y" name: "dequantize" '
        'op_type: "Mul" }',
        f'  initializer {{ name: "W_q" dims: {K} dims: {N} data_type: 3 '
        f'{ext(0, K * N)} }}',
        f'  initializer {{ name: "W_scale" dims: {N} data_type: 1 '
        f'{ext(K * N, N * 4)} }}',
        value("input", "A"),
        value("output", "Y"),
        "}",
    ]) + "\n"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench",
                                                      "int8_matmul"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    def need(name):
        return args.force or not os.path.isfile(os.path.join(args.out, name))

    inputs = {f"A_{m}x{K}.npy": m for m in MS}
    if need(DATA):
        write(os.path.join(args.out, DATA), weights() + scales())
    for name, m in inputs.items():
        if need(name):
            write(os.path.join(args.out, name),
                  npy_bytes([m, K], uniform_f32(SEED + m, m * K, 1.0)))
    if need(MODEL):
        write(os.path.join(args.out, MODEL), encode_model(model_text()))

    manifest = {
        "model": {"A": ["M", K], "W_q": [K, N], "W_scale": [N], "Y": ["M", N],
                  "ops_per_run": f"2*M*{K}*{N}"},
        "inputs": {name: [m, K] for name, m in inputs.items()},
        "sha256": {name: sha256(os.path.join(args.out, name))
                   for name in sorted([DATA, MODEL, *inputs])},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"make_int8_matmul: model in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
