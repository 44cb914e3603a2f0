#!/usr/bin/env python3
"""Writes a deliberately damaged copy of an ONNX model with external data.

    damage-model.py SRC/model.onnx OUT_DIR [--start 0.25] [--end 0.5]
                    [--noise 1.0] [--seed 0]

Copies model.onnx and every other file of its directory (the external data
files keep their names, so the model finds them), then, in the largest file
besides model.onnx (the weights), adds Gaussian noise to the float32 values
between fractions --start and --end of the file: noise of --noise times the
standard deviation of the values in that range. Deterministic; standard
library only. Used by test/Runner/eval.test to get a candidate that must fail
the `qrun eval` gate.
"""

import argparse
import array
import math
import os
import random
import shutil
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("out_dir")
    parser.add_argument("--start", type=float, default=0.25)
    parser.add_argument("--end", type=float, default=0.5)
    parser.add_argument("--noise", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    src_dir = os.path.dirname(os.path.abspath(args.model))
    os.makedirs(args.out_dir, exist_ok=True)
    shutil.copy(args.model, os.path.join(args.out_dir, "model.onnx"))
    data_files = []
    for name in sorted(os.listdir(src_dir)):
        path = os.path.join(src_dir, name)
        if name == os.path.basename(args.model) or not os.path.isfile(path):
            continue
        if name.endswith(".data") or name.endswith(".bin"):
            data_files.append((os.path.getsize(path), name))
            shutil.copy(path, os.path.join(args.out_dir, name))
    if not data_files:
        sys.exit("damage-model.py: no external data file (*.data, *.bin) "
                 "beside " + args.model)
    _, name = max(data_files)
    path = os.path.join(args.out_dir, name)
    with open(path, "rb") as f:
        data = f.read()
    # Whole float32 values (external data offsets are 4-byte aligned).
    begin = int(len(data) * args.start) // 4 * 4
    end = int(len(data) * args.end) // 4 * 4
    values = array.array("f")
    values.frombytes(data[begin:end])
    if sys.byteorder != "little":
        values.byteswap()
    finite = [v for v in values if math.isfinite(v)]
    mean = sum(finite) / max(len(finite), 1)
    std = math.sqrt(sum((v - mean) ** 2 for v in finite) / max(len(finite), 1))
    rng = random.Random(args.seed)
    scale = args.noise * std
    for i in range(len(values)):
        values[i] += rng.gauss(0.0, scale)
    if sys.byteorder != "little":
        values.byteswap()
    with open(path, "wb") as f:
        f.write(data[:begin] + values.tobytes() + data[end:])
    print("damaged %s: bytes [%d, %d), noise std %.4g" % (name, begin, end,
                                                           scale))


if __name__ == "__main__":
    main()
