#!/usr/bin/env python3
"""Writes a small Llama-like block as ONNX text (onnx-text2pb input) for the
permuted act-order tests: RMSNorm -> q_proj, residual add, RMSNorm ->
gate_proj / up_proj -> SiLU(gate) * up -> down_proj, residual add, and an
output head. Weights are deterministic pseudo-random values (standard
library only).

Usage: swiglu-block.py OUT.onnxtxt [--hidden D] [--ffn F]
"""

import argparse
import random


def matrix(rng, rows, cols, scale):
    return [round(rng.gauss(0.0, scale), 4) for _ in range(rows * cols)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--ffn", type=int, default=32)
    parser.add_argument("--classes", type=int, default=4)
    args = parser.parse_args()
    d, f, c = args.hidden, args.ffn, args.classes
    rng = random.Random(20261207)

    def init(name, shape, values):
        dims = ", ".join(str(s) for s in shape)
        body = ", ".join(f"{v:g}" for v in values)
        return f"float[{dims}] {name} = {{{body}}}"

    inits = [
        init("G1", [d], [round(rng.uniform(0.5, 2.0), 3) for _ in range(d)]),
        init("G2", [d], [round(rng.uniform(0.5, 2.0), 3) for _ in range(d)]),
        init("Wq", [d, d], matrix(rng, d, d, 0.3)),
        init("Wg", [d, f], matrix(rng, d, f, 0.3)),
        init("Wu", [d, f], matrix(rng, d, f, 0.3)),
        init("Wd", [f, d], matrix(rng, f, d, 0.2)),
        init("Wh", [d, c], matrix(rng, d, c, 0.3)),
        "float[1] Eps = {1e-5}",
        "int64[1] Axes = {-1}",
    ]
    nodes = """
  S1 = Mul <name = "norm1/Square"> (X, X)
  M1 = ReduceMean <name = "norm1/Mean", keepdims = 1> (S1, Axes)
  E1 = Add <name = "norm1/AddEps"> (M1, Eps)
  R1 = Sqrt <name = "norm1/Sqrt"> (E1)
  D1 = Div <name = "norm1/Div"> (X, R1)
  N1 = Mul <name = "norm1/Gamma"> (D1, G1)
  Q = MatMul <name = "q_proj"> (N1, Wq)
  A = Add <name = "residual1"> (X, Q)
  S2 = Mul <name = "norm2/Square"> (A, A)
  M2 = ReduceMean <name = "norm2/Mean", keepdims = 1> (S2, Axes)
  E2 = Add <name = "norm2/AddEps"> (M2, Eps)
  R2 = Sqrt <name = "norm2/Sqrt"> (E2)
  D2 = Div <name = "norm2/Div"> (A, R2)
  N2 = Mul <name = "norm2/Gamma"> (D2, G2)
  Gt = MatMul <name = "gate_proj"> (N2, Wg)
  Up = MatMul <name = "up_proj"> (N2, Wu)
  Sg = Sigmoid <name = "silu/Sigmoid"> (Gt)
  Si = Mul <name = "silu/Mul"> (Gt, Sg)
  H = Mul <name = "swiglu/Mul"> (Si, Up)
  Dn = MatMul <name = "down_proj"> (H, Wd)
  B = Add <name = "residual2"> (A, Dn)
  Y = MatMul <name = "lm_head"> (B, Wh)
"""
    with open(args.out, "w") as out:
        out.write('<ir_version: 8, opset_import: ["" : 18]>\n')
        out.write(f"block (float[N, {d}] X) => (float[N, {c}] Y)\n")
        out.write("<" + ", ".join(inits) + ">\n{" + nodes + "}\n")


if __name__ == "__main__":
    main()
