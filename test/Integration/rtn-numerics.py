#!/usr/bin/env python3
"""Helper of rtn-numerics.test (Python standard library only).

`emit` writes an MLIR module whose @main runs three small linear layers on
deterministic pseudo-random data and prints their results:

  fc1        x[3, K] times a [K, N] weight
  fc1_probe  the K x K identity times the same weight: prints the weight as
             the compiled code sees it, dequantized, exactly
  fc2        x[3, K] times an [N, K] weight (transpose_weight) plus a bias

`check` reads mlir-runner's output and compares it with what RTN quantization
must give, computed here from the documented formulas (f32 arithmetic,
round half to even), independently of qopt:

  symmetric:  s = max|w| / (2^(b-1) - 1), z = 0, q in [-(2^(b-1) - 1), 2^(b-1) - 1]
  asymmetric: lo = min(w, 0), hi = max(w, 0), s = (hi - lo) / (2^b - 1),
              z = clamp(round(-lo / s), 0, 2^b - 1), q in [0, 2^b - 1]
  s = 1 where the range is 0; q = clamp(round(w / s) + z); w' = (q - z) * s
"""

import argparse
import re
import struct
import sys

K, N, M = 64, 8, 3


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


class Lcg:
    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) % 2**64
        return self.state >> 33


def data():
    rng = Lcg(2026)

    def uniform(scale, steps):
        # Multiples of 1/steps in [-scale, scale]: exact in f32 and in decimal.
        return (rng.next() % (2 * scale * steps + 1) - scale * steps) / steps

    x = [[uniform(2, 256) for _ in range(K)] for _ in range(M)]
    w1 = [[uniform(1, 4096) for _ in range(N)] for _ in range(K)]  # [K, N]
    w2 = [[uniform(1, 4096) for _ in range(K)] for _ in range(N)]  # [N, K]
    # Outliers and an all-zero output channel make the ranges uneven.
    w1[5][3] = 3.5
    w2[6][40] = -2.75
    for k in range(K):
        w2[2][k] = 0.0
    # One output channel of fc1 that is all positive (asymmetric ranges are
    # widened to contain 0).
    for k in range(K):
        w1[k][6] = abs(w1[k][6]) + 0.25
    bias = [uniform(1, 64) for _ in range(N)]
    return x, w1, w2, bias


def dense(rows):
    return "[" + ", ".join("[" + ", ".join(repr(v) for v in r) + "]" for r in rows) + "]"


def emit():
    x, w1, w2, bias = data()
    eye = [[1.0 if i == j else 0.0 for j in range(K)] for i in range(K)]
    print(f"""func.func private @printMemrefF32(tensor<*xf32>)

func.func @print(%t: tensor<?x{N}xf32>) {{
  %u = tensor.cast %t : tensor<?x{N}xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}}

func.func @main() {{
  %x = arith.constant dense<{dense(x)}> : tensor<{M}x{K}xf32>
  %eye = arith.constant dense<{dense(eye)}> : tensor<{K}x{K}xf32>
  %w1 = arith.constant dense<{dense(w1)}> : tensor<{K}x{N}xf32>
  %w2 = arith.constant dense<{dense(w2)}> : tensor<{N}x{K}xf32>
  %b = arith.constant dense<[{", ".join(repr(v) for v in bias)}]> : tensor<{N}xf32>
  %y1 = qopt.linear %x, %w1 : tensor<{M}x{K}xf32>, tensor<{K}x{N}xf32> -> tensor<{M}x{N}xf32> loc("fc1")
  %p1 = qopt.linear %eye, %w1 : tensor<{K}x{K}xf32>, tensor<{K}x{N}xf32> -> tensor<{K}x{N}xf32> loc("fc1_probe")
  %y2 = qopt.linear %x, %w2 bias(%b : tensor<{N}xf32>) transpose_weight : tensor<{M}x{K}xf32>, tensor<{N}x{K}xf32> -> tensor<{M}x{N}xf32> loc("fc2")
  %c1 = tensor.cast %y1 : tensor<{M}x{N}xf32> to tensor<?x{N}xf32>
  %c2 = tensor.cast %p1 : tensor<{K}x{N}xf32> to tensor<?x{N}xf32>
  %c3 = tensor.cast %y2 : tensor<{M}x{N}xf32> to tensor<?x{N}xf32>
  call @print(%c1) : (tensor<?x{N}xf32>) -> ()
  call @print(%c2) : (tensor<?x{N}xf32>) -> ()
  call @print(%c3) : (tensor<?x{N}xf32>) -> ()
  return
}}""")


def quantize_rows(w, bits, symmetric, granularity, group):
    """RTN of a logical [N, K] weight; returns the dequantized weight."""
    rows, cols = len(w), len(w[0])
    if granularity == "per-tensor":
        blocks = [[(r, c) for r in range(rows) for c in range(cols)]]
    elif granularity == "per-channel":
        blocks = [[(r, c) for c in range(cols)] for r in range(rows)]
    else:
        blocks = [[(r, c) for c in range(g, g + group)]
                  for r in range(rows) for g in range(0, cols, group)]
    out = [[None] * cols for _ in range(rows)]
    for block in blocks:
        values = [w[r][c] for r, c in block]
        if symmetric:
            qmax = 2 ** (bits - 1) - 1
            qmin = -qmax
            s = f32(max(abs(v) for v in values) / qmax)
            if s == 0:
                s = 1.0
            z = 0
        else:
            qmin, qmax = 0, 2**bits - 1
            lo, hi = min(min(values), 0.0), max(max(values), 0.0)
            s = f32(f32(hi - lo) / qmax)
            if s == 0:
                s = 1.0
            z = min(max(round(f32(-lo / s)), qmin), qmax)
        for r, c in block:
            q = min(max(round(f32(w[r][c] / s)) + z, qmin), qmax)
            out[r][c] = f32((q - z) * s)
    return out


def linear(x, w_nk, bias=None):
    """y = x w^T (+ bias), accumulating in f32 in order of k."""
    y = []
    for row in x:
        out = []
        for n, wrow in enumerate(w_nk):
            acc = 0.0
            for a, b in zip(row, wrow):
                acc = f32(acc + f32(a * b))
            if bias is not None:
                acc = f32(acc + bias[n])
            out.append(acc)
        y.append(out)
    return y


def parse_prints(text):
    """The data of every printMemrefF32 call, as flat lists."""
    results = []
    for block in text.split("Unranked Memref")[1:]:
        body = block.split("data =", 1)[1]
        results.append([float(v) for v in re.findall(
            r"[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan)", body)])
    return results


def check(args):
    x, w1, w2, bias = data()
    w1_nk = [[w1[k][n] for k in range(K)] for n in range(N)]
    q1 = quantize_rows(w1_nk, args.bits, args.symmetric, args.granularity,
                       args.group_size)
    q2 = quantize_rows(w2, args.bits, args.symmetric, args.granularity,
                       args.group_size)
    eye = [[1.0 if i == j else 0.0 for j in range(K)] for i in range(K)]
    expected = {
        "fc1": linear(x, q1),
        "fc1_probe": linear(eye, q1),
        "fc2": linear(x, q2, bias),
    }
    full_precision = {
        "fc1": linear(x, w1_nk),
        "fc1_probe": linear(eye, w1_nk),
        "fc2": linear(x, w2, bias),
    }
    with open(args.output) as f:
        printed = parse_prints(f.read())
    if len(printed) != 3:
        print(f"expected 3 printed tensors, got {len(printed)}")
        return 1
    status = 0
    for (name, want), got in zip(expected.items(), printed):
        flat = [v for row in want for v in row]
        fp = [v for row in full_precision[name] for v in row]
        if len(flat) != len(got):
            print(f"{name}: expected {len(flat)} values, got {len(got)}")
            status = 1
            continue
        # printMemrefF32 prints 6 significant digits.
        bad = [(i, g, e) for i, (g, e) in enumerate(zip(got, flat))
               if abs(g - e) > 1e-5 * abs(e) + 1e-6]
        moved = max(abs(a - b) for a, b in zip(flat, fp))
        if bad:
            i, g, e = bad[0]
            print(f"{name}: {len(bad)} of {len(flat)} values differ; first at "
                  f"{i}: got {g!r}, expected {e!r}")
            status = 1
        elif moved < 1e-4:
            print(f"{name}: quantization changed nothing (max {moved})")
            status = 1
        else:
            print(f"{name}: {len(flat)} values match")
    return status


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["emit", "check"])
    parser.add_argument("output", nargs="?", help="mlir-runner output (check)")
    parser.add_argument("--bits", type=int, default=4)
    parser.add_argument("--asymmetric", dest="symmetric", action="store_false")
    parser.add_argument("--granularity", default="per-group",
                        choices=["per-channel", "per-group", "per-tensor"])
    parser.add_argument("--group-size", type=int, default=32)
    args = parser.parse_args()
    if args.mode == "emit":
        emit()
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
