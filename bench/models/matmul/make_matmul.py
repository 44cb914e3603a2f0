#!/usr/bin/env python3
"""Generates the single-MatMul benchmark models (fp32, K = N = 4096).

    Y[M, 4096] = MatMul(A[M, 4096], B[4096, 4096]),  B a constant initializer

Writes into OUT (default build/bench/matmul, which git ignores):

  matmul_dyn.onnx     A is [M, 4096] with M symbolic ("M")
  matmul_m1.onnx      A is [1, 4096]
  matmul_m512.onnx    A is [512, 4096]
  matmul_B.data       B's 64 MiB of float32, the external data all three share
  A_1x4096.npy        float32 inputs for M = 1 and M = 512
  A_512x4096.npy
  manifest.json       shapes, FLOPs per run (2*M*K*N), sha256 of every file

Values are uniform with a fixed seed (Python's random.Random, exact
arithmetic only, so every machine writes the same bytes): A in [-1, 1),
B in [-1/64, 1/64) (so outputs are of order 1). The graphs are ONNX text
proto encoded by `protoc --encode=onnx.ModelProto` against Debian's
/usr/include/onnx/onnx.proto (packages protobuf-compiler and libonnx-dev,
already build dependencies); opset 20, IR version 10.

usage: make_matmul.py [--out DIR] [--force]
Files already there are kept unless --force.
"""

import argparse
import array
import hashlib
import json
import os
import random
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
K = N = 4096
SEED = 4096
MODELS = {"matmul_dyn.onnx": "M", "matmul_m1.onnx": 1,
          "matmul_m512.onnx": 512}
INPUTS = {"A_1x4096.npy": 1, "A_512x4096.npy": 512}
DATA = "matmul_B.data"
PROTO = "/usr/include/onnx/onnx.proto"


def uniform_f32(seed, count, bound):
    """count float32 values uniform in [-bound, bound), as bytes."""
    rnd = random.Random(seed).random
    two = 2.0 * bound
    out = bytearray()
    step = 1 << 20
    for start in range(0, count, step):
        arr = array.array("f", [rnd() * two - bound
                                for _ in range(min(step, count - start))])
        if sys.byteorder != "little":
            arr.byteswap()
        out += arr.tobytes()
    return bytes(out)


def npy_bytes(shape, data, descr="<f4"):
    """A NumPy .npy (version 1.0) file, C order."""
    dims = "(%s)" % (f"{shape[0]}," if len(shape) == 1 else
                     ", ".join(map(str, shape)))
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}"
    pad = (64 - (10 + len(header) + 1) % 64) % 64
    header += " " * pad + "\n"
    return (b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") +
            header.encode("latin1") + data)


def model_text(m):
    dim = f'dim_param: "{m}"' if isinstance(m, str) else f"dim_value: {m}"

    def value(name, n):
        return (f'  {name} {{ name: "{n[0]}" type {{ tensor_type {{ '
                f'elem_type: 1 shape {{ dim {{ {dim} }} dim {{ dim_value: '
                f'{n[1]} }} }} }} }} }}')
    return "\n".join([
        "ir_version: 10",
        'producer_name: "qopt bench/models/matmul/make_matmul.py"',
        'opset_import { domain: "" version: 20 }',
        "graph {",
        '  name: "matmul"',
        '  node { input: "A" input: "B" output: "Y" name: "matmul" '
        'op_type: "MatMul" }',
        f'  initializer {{ name: "B" dims: {K} dims: {N} data_type: 1 '
        f'data_location: EXTERNAL '
        f'external_data {{ key: "location" value: "{DATA}" }} '
        f'external_data {{ key: "offset" value: "0" }} '
        f'external_data {{ key: "length" value: "{K * N * 4}" }} }}',
        value("input", ("A", K)),
        value("output", ("Y", N)),
        "}",
    ]) + "\n"


def encode_model(text):
    """The binary ModelProto of ONNX text proto `text`; exits on failure."""
    try:
        return subprocess.run(
            ["protoc", "--encode=onnx.ModelProto", "-I",
             os.path.dirname(PROTO), os.path.basename(PROTO)],
            input=text.encode(), capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        err = getattr(e, "stderr", b"") or b""
        sys.exit(f"{os.path.basename(sys.argv[0])}: protoc failed ({e}): "
                 f"{err.decode()}\n(needs protobuf-compiler and libonnx-dev)")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def write(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench",
                                                      "matmul"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    def need(name):
        return args.force or not os.path.isfile(os.path.join(args.out, name))

    if need(DATA):
        write(os.path.join(args.out, DATA),
              uniform_f32(SEED, K * N, 1.0 / 64))
    for name, m in INPUTS.items():
        if need(name):
            write(os.path.join(args.out, name),
                  npy_bytes([m, K], uniform_f32(SEED + m, m * K, 1.0)))
    for name, m in MODELS.items():
        if not need(name):
            continue
        write(os.path.join(args.out, name), encode_model(model_text(m)))

    manifest = {
        "models": {name: {"A": [m, K], "B": [K, N], "Y": [m, N],
                          "flops_per_run": (2 * m * K * N
                                            if isinstance(m, int) else
                                            f"2*M*{K}*{N}")}
                   for name, m in MODELS.items()},
        "inputs": {name: [m, K] for name, m in INPUTS.items()},
        "data_file": DATA,
        "sha256": {name: sha256(os.path.join(args.out, name))
                   for name in sorted([DATA, *INPUTS, *MODELS])},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"make_matmul: models in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
