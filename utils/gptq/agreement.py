#!/usr/bin/env python3
"""Agreement of qopt-quantize-weights-gptq with the independent numpy GPTQ.

For each setting: a random layer and a random positive definite Hessian (a
correlated synthetic X with channel scales spread over two orders of
magnitude, one dead channel), written as MLIR (dense_resource blobs for the
weight and the Hessian); `qopt` runs the pass; the packed codes and scales
are read back from the output's blobs and compared with gptq_numpy.py's.
Prints the fraction of identical codes per setting; exits 1 when one is
below --min-agreement (0.999) or the scales differ.

Usage: agreement.py --qopt PATH [--work DIR] [--rows N] [--columns K]
"""

import argparse
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gptq_numpy import gptq  # noqa: E402


def blob(array, align):
    return "0x" + int(align).to_bytes(4, "little").hex() + \
        np.ascontiguousarray(array).tobytes().hex()


def write_mlir(path, W, H, samples):
    rows, columns = W.shape
    with open(path, "w") as f:
        f.write(f"""func.func @layer(%x: tensor<?x{columns}xf32>) -> tensor<?x{rows}xf32> {{
  %w = arith.constant dense_resource<w> : tensor<{rows}x{columns}xf32>
  %h = qopt.observe %x name "fc:input" observer <kind = hessian> stats <samples = {samples}, hessian = dense_resource<h> : tensor<{columns}x{columns}xf64>> : tensor<?x{columns}xf32>
  %y = qopt.linear %h, %w transpose_weight : tensor<?x{columns}xf32>, tensor<{rows}x{columns}xf32> -> tensor<?x{rows}xf32> loc("fc")
  %r = arith.negf %y : tensor<?x{rows}xf32>
  return %r : tensor<?x{rows}xf32>
}}
{{-#
  dialect_resources: {{
    builtin: {{
      w: "{blob(W.astype(np.float32), 4)}",
      h: "{blob(H.astype(np.float64), 8)}"
    }}
  }}
#-}}
""")


def read_blobs(text):
    blobs = {}
    for name, data in re.findall(r'^\s*([\w.]+): "0x([0-9A-Fa-f]*)"', text,
                                 re.M):
        blobs[name] = bytes.fromhex(data)[4:]  # drop the alignment
    return blobs


def unpack(packed, rows, columns, bits, sym):
    """The qopt.pack layout: value j of a row in bits [j*b, (j+1)*b) of the
    row's little-endian bit stream."""
    raw = np.frombuffer(packed, dtype=np.uint8).reshape(rows, -1)
    bitstream = np.unpackbits(raw, axis=1, bitorder="little")
    values = bitstream[:, :columns * bits].reshape(rows, columns, bits)
    codes = (values.astype(np.int64) << np.arange(bits)).sum(axis=2)
    if sym:
        codes = np.where(codes >= 1 << (bits - 1), codes - (1 << bits), codes)
    return codes


def synthetic(rng, rows, columns, tokens):
    W = rng.standard_normal((rows, columns)) * 0.05
    W[:, 3] *= 8  # an outlier channel
    mix = np.eye(columns) + 0.3 * rng.standard_normal((columns, columns)) / \
        np.sqrt(columns)
    X = rng.standard_normal((tokens, columns)) @ mix
    X *= np.exp(rng.uniform(-2.3, 2.3, columns))  # scales over 100x
    X[:, 7] = 0  # a dead channel
    H = 2 * X.T @ X  # what the hessian observer accumulates
    return W.astype(np.float32).astype(np.float64), H


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qopt", required=True)
    parser.add_argument("--work", default=".")
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--columns", type=int, default=512)
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--min-agreement", type=float, default=0.999)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)

    settings = [  # (bits, sym, group size or -1, act-order, static groups[,
        # clip search])
        (4, True, -1, False, True), (4, True, -1, True, True),
        (4, True, 32, False, True), (4, True, 32, True, True),
        (4, True, 128, False, True), (4, True, 128, True, True),
        (4, False, 128, False, True), (3, True, 128, True, True),
        # Act-order with groups over the permuted columns (desc_act): the
        # codes in that order, and the input permutation.
        (4, True, 32, True, False), (4, True, 128, True, False),
        (4, False, 128, True, False), (3, True, 128, True, False),
        # The clip search (clip-search=true, the reference's mse grid).
        (4, True, 128, True, True, True), (3, True, -1, False, True, True),
        (4, False, 32, False, True, True), (3, True, 128, True, False, True),
    ]
    failed = False
    for index, setting in enumerate(settings):
        bits, sym, group, actorder, static = setting[:5]
        mse = len(setting) > 5 and setting[5]
        rng = np.random.default_rng(1234 + index)
        W, H = synthetic(rng, args.rows, args.columns, args.tokens)
        path = os.path.join(args.work, f"layer{index}.mlir")
        write_mlir(path, W, H, args.tokens)
        options = [f"bits={bits}", f"symmetric={'true' if sym else 'false'}",
                   "resource-threshold=0",
                   f"act-order={'true' if actorder else 'false'}",
                   f"static-groups={'true' if static else 'false'}",
                   f"clip-search={'true' if mse else 'false'}"]
        if group == -1:
            options.append("granularity=per-channel")
        else:
            options += ["granularity=per-group", f"group-size={group}"]
        result = subprocess.run(
            [args.qopt, path,
             "--qopt-quantize-weights-gptq=" + " ".join(options)],
            capture_output=True, text=True)
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
            return 1
        blobs = read_blobs(result.stdout)
        got = unpack(blobs["gptq.fc.weight"], args.rows, args.columns, bits,
                     sym)
        got_scales = np.frombuffer(blobs["gptq.fc.scale"], dtype=np.float32)

        want, scales, zeros, perm = gptq(
            W, H / args.tokens, bits=bits, sym=sym, groupsize=group,
            actorder=actorder, static_groups=static, return_perm=True,
            mse=mse)
        # The layer's input permutation (none when the columns keep their
        # order): it must be the reference's column order.
        found = re.search(r"qopt\.permute %\S+ \[([0-9, ]*)\]", result.stdout)
        got_perm = (np.array([int(v) for v in found.group(1).split(",")])
                    if found else np.arange(args.columns))
        perm_equal = np.array_equal(got_perm, perm)
        if not sym:
            got = got.astype(np.int64)
        agreement = float(np.mean(got == want))
        scales_equal = np.array_equal(got_scales, scales.reshape(-1))
        label = (f"int{bits} {'sym' if sym else 'asym'} "
                 f"{'per-channel' if group == -1 else f'g{group}'}"
                 f"{' act-order' if actorder else ''}"
                 f"{' permuted' if not static else ''}"
                 f"{' clip' if mse else ''}")
        # How much GPTQ changed (H = I gives round to nearest): the test
        # means something only if this is not small.
        rtn, _, _ = gptq(W, np.eye(args.columns), bits=bits, sym=sym,
                         groupsize=group, actorder=False, mse=mse)
        moved = float(np.mean(rtn != want))
        # Permuted groups: RTN over the same (permuted) groups, so that the
        # comparison is between like layouts.
        if not static:
            rtn, _, _ = gptq(W[:, perm], np.eye(args.columns), bits=bits,
                             sym=sym, groupsize=group, actorder=False,
                             mse=mse)
            moved = float(np.mean(rtn != want))
        # Clip search: the share of grids it clipped (it must clip some,
        # or the case would test nothing beyond min/max).
        clipped = ""
        if mse:
            _, plain, _ = gptq(W, H / args.tokens, bits=bits, sym=sym,
                               groupsize=group, actorder=actorder,
                               static_groups=static)
            share = float(np.mean(scales < plain))
            clipped = f", {share:.0%} of grids clipped"
        ok = (agreement >= args.min_agreement and scales_equal and
              perm_equal and moved > 0.05 and (not mse or share > 0.05) and
              (static or not np.array_equal(perm, np.arange(args.columns))))
        failed |= not ok
        print(f"{label:34s} {args.rows}x{args.columns}: identical codes "
              f"{agreement:.6f} ({np.sum(got != want)} differ; "
              f"{moved:.1%} differ from RTN), scales "
              f"{'identical' if scales_equal else 'DIFFER'}"
              f"{'' if static else (', permutation identical' if perm_equal else ', permutation DIFFERS')}"
              f"{clipped}: "
              f"{'ok' if ok else 'FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
