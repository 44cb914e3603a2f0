#!/usr/bin/env python3
"""Generates the decode-shaped benchmark models (fp32, M = 1).

    Y_l[1, N] = MatMul(X[1, K], W_l[K, N]),  l = 0 .. L-1, W_l initializers

for (K, N) = (8192, 8192) and (4096, 14336), L = 4 layers each: 1 GiB and
896 MiB of fp32 weights, far beyond any last-level cache, so one run streams
every layer's weights from memory once (the layers are "rotated" by being
different tensors). Writes into OUT (default build/bench/decode, which git
ignores):

  decode_KxN.onnx       the model, weights in decode_KxN.data
  X_K.npy               a float32 input
  manifest.json         shapes and weight bytes per run

Weight values only have to be plausible for quantization, not distinct: each
layer is a 16 MiB block of uniform [-1/64, 1/64) values (Python's
random.Random, fixed seed) repeated with a per-layer rotation, which keeps the
generator fast. Graphs are encoded with protoc against Debian's onnx.proto,
as in bench/models/matmul.

usage: make_decode.py [--out DIR] [--force]
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "matmul"))
from make_matmul import encode_model, npy_bytes, uniform_f32, write  # noqa: E402,E501

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SHAPES = [(8192, 8192), (4096, 14336)]
LAYERS = 4
SEED = 8192
BLOCK = 4 << 20  # floats per random block (16 MiB)


def model_text(k, n, data):
    lines = [
        "ir_version: 10",
        'producer_name: "qopt bench/models/decode/make_decode.py"',
        'opset_import { domain: "" version: 20 }',
        "graph {",
        f'  name: "decode_{k}x{n}"',
    ]
    for l in range(LAYERS):
        lines.append(f'  node {{ input: "X" input: "W{l}" output: "Y{l}" '
                     f'name: "layer{l}" op_type: "MatMul" }}')
    for l in range(LAYERS):
        lines.append(
            f'  initializer {{ name: "W{l}" dims: {k} dims: {n} data_type: 1 '
            f'data_location: EXTERNAL '
            f'external_data {{ key: "location" value: "{data}" }} '
            f'external_data {{ key: "offset" value: "{l * k * n * 4}" }} '
            f'external_data {{ key: "length" value: "{k * n * 4}" }} }}')
    lines.append(f'  input {{ name: "X" type {{ tensor_type {{ elem_type: 1 '
                 f'shape {{ dim {{ dim_value: 1 }} dim {{ dim_value: {k} }} '
                 f'}} }} }} }}')
    for l in range(LAYERS):
        lines.append(f'  output {{ name: "Y{l}" type {{ tensor_type {{ '
                     f'elem_type: 1 shape {{ dim {{ dim_value: 1 }} dim {{ '
                     f'dim_value: {n} }} }} }} }} }}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench",
                                                      "decode"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    block = uniform_f32(SEED, BLOCK, 1.0 / 64)
    manifest = {"layers": LAYERS, "models": {}}
    for k, n in SHAPES:
        name = f"decode_{k}x{n}"
        data = name + ".data"
        path = os.path.join(args.out, data)
        per_layer = k * n * 4
        if args.force or not os.path.isfile(path) or \
                os.path.getsize(path) != LAYERS * per_layer:
            with open(path + ".tmp", "wb") as f:
                for l in range(LAYERS):
                    rotated = block[l * 4096 * 4:] + block[:l * 4096 * 4]
                    left = per_layer
                    while left:
                        chunk = rotated[:min(left, len(rotated))]
                        f.write(chunk)
                        left -= len(chunk)
            os.replace(path + ".tmp", path)
        write(os.path.join(args.out, name + ".onnx"),
              encode_model(model_text(k, n, data)))
        xname = f"X_{k}.npy"
        write(os.path.join(args.out, xname),
              npy_bytes([1, k], uniform_f32(SEED + k, k, 1.0)))
        manifest["models"][name] = {"K": k, "N": n,
                                    "weight_bytes_fp32": LAYERS * per_layer,
                                    "input": xname}
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"make_decode: models in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
