#!/usr/bin/python3
"""What ONNX Runtime must compute for the model quantize_dynamic.py writes,
from the ONNX operator definitions (DynamicQuantizeLinear, MatMulInteger),
independently of the generator: for the test model two.onnxtxt of
ort-quantize-dynamic.test, Y = relu(X W1) W2 with each product quantized as
quantize_dynamic does (W symmetric int8 per tensor, X uint8 per run).

    quantize-dynamic-reference.py X.npy W1 W2 ORT_OUT.npy
W1 and W2 are comma-separated row-major values with shapes [4, 3], [3, 2].
Prints "match" when ORT's output agrees to 1e-5 of its largest value.
"""

import sys

import numpy as np


def dynamic_quantize(x):
    # DynamicQuantizeLinear: uint8, the range extended to include 0.
    lo, hi = min(0.0, float(x.min())), max(0.0, float(x.max()))
    scale = np.float32((hi - lo) / 255.0)
    zp = np.clip(np.rint(-lo / scale), 0, 255) if scale != 0 else 0.0
    q = np.clip(np.rint(x / scale) + zp, 0, 255)
    return q.astype(np.int64), scale, int(zp)


def quantized_matmul(x, w):
    absmax = float(np.abs(w).max())
    w_scale = np.float32(absmax / 127.0)
    w_q = np.clip(np.rint(w / w_scale), -127, 127).astype(np.int64)
    x_q, x_scale, x_zp = dynamic_quantize(x)
    acc = (x_q - x_zp) @ w_q  # MatMulInteger, exact in int64
    return acc.astype(np.float32) * np.float32(x_scale * w_scale)


def main():
    x = np.load(sys.argv[1]).astype(np.float32)
    w1 = np.array([float(v) for v in sys.argv[2].split(",")],
                  np.float32).reshape(4, 3)
    w2 = np.array([float(v) for v in sys.argv[3].split(",")],
                  np.float32).reshape(3, 2)
    got = np.load(sys.argv[4])
    want = quantized_matmul(np.maximum(quantized_matmul(x, w1), 0), w2)
    err = float(np.abs(got - want).max())
    scale = float(np.abs(want).max())
    print("match" if err <= 1e-5 * scale else "MISMATCH", f"max|diff| {err:.3g}")


if __name__ == "__main__":
    main()
