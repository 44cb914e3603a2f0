#!/usr/bin/env python3
"""Writes benchmark inputs for model.onnx: input_ids_<B>x<S>.npy.

int64 token ids uniform in [0, 2048) from random.Random(<B>*100000 + <S>),
for every B in --batch and S in --seq (default 1,8 x 128,512), into --out
(default build/bench/llama25m, which git ignores). Standard library only.

usage: make_inputs.py [--out DIR] [--batch 1,8] [--seq 128,512]
"""

import argparse
import array
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
VOCAB = 2048


def npy_int64(shape, values):
    arr = array.array("q", values)
    if sys.byteorder != "little":
        arr.byteswap()
    dims = "(%s)" % ", ".join(map(str, shape))
    header = f"{{'descr': '<i8', 'fortran_order': False, 'shape': {dims}, }}"
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return (b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") +
            header.encode("latin1") + arr.tobytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench",
                                                      "llama25m"))
    parser.add_argument("--batch", default="1,8")
    parser.add_argument("--seq", default="128,512")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for b in map(int, args.batch.split(",")):
        for s in map(int, args.seq.split(",")):
            rnd = random.Random(b * 100000 + s)
            ids = [rnd.randrange(VOCAB) for _ in range(b * s)]
            path = os.path.join(args.out, f"input_ids_{b}x{s}.npy")
            with open(path, "wb") as f:
                f.write(npy_int64([b, s], ids))
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
