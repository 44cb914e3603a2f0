#!/usr/bin/env python3
"""Independent reference of the histogram observers (docs/calibration.md).

    histogram-reference.py npy ROWS COLS OUT.npy
        Heavy-tailed f32 data whose later rows hold larger values, so that
        a calibration run in batches has to grow the histogram's range.
    histogram-reference.py check DATA.npy STATS.qstats QRUN_OUTPUT BATCH
        Rebuilds every histogram point's histogram from the data, cut into
        batches of BATCH rows as qrun calibrate runs them, with the
        documented growth rule, and checks it against the file; recomputes
        the percentile, MSE and KL clips from it and checks them against
        the ones qrun printed; and checks that the percentile clip lies
        within one bin above the exact percentile of the sorted data.

Standard library only; shares nothing with the C++ code.
"""
import importlib
import math
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
reference = importlib.import_module("calibration-reference")

PERCENTILE, MSE, HISTOGRAM = 1, 2, 3


def make_data(rows, cols):
    out = []
    for r in range(rows):
        row = []
        for c in range(cols):
            # A bulk in [-1, 1] and a growing tail: row r reaches 1 + r / 4.
            v = ((r * 31 + c * 17) % 101) / 50.0 - 1.0
            if (r * cols + c) % 23 == 0:
                v *= 1.0 + r / 4.0
            row.append(v)
        out.append(row)
    return out


def write_npy(path, rows):
    cols = len(rows[0]) if rows else 0
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (
        len(rows), cols)
    header = header.ljust((10 + len(header) + 1 + 63) // 64 * 64 - 11) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") +
                header.encode("ascii"))
        for row in rows:
            f.write(struct.pack("<%df" % cols, *row))


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def build_histogram(batches, bins):
    counts, rng, absmax = [0] * bins, 0.0, 0.0
    for batch in batches:
        values = [abs(v) for row in batch for v in row]
        absmax = max([absmax] + values)
        if absmax > rng:
            if rng == 0:
                rng = absmax
            else:
                while absmax > rng:
                    rng *= 2
                    counts = [sum(counts[2 * i:2 * i + 2]) for i in range(bins)]
        if rng == 0:
            counts[0] += sum(1 for v in values if v == 0)
            continue
        per_unit = bins / rng
        for v in values:
            counts[min(int(v * per_unit), bins - 1)] += 1
    return counts, rng


def percentile_clip(h, rng, pct):
    total = sum(h)
    target = pct / 100.0 * total
    acc = 0
    for i, c in enumerate(h):
        acc += c
        if acc >= target:
            return (i + 1) * (rng / len(h))
    return rng


def mse_clip(h, rng, bits=8):
    width = rng / len(h)
    qmax = 2 ** (bits - 1) - 1
    best, best_clip = math.inf, rng
    for i in range(len(h)):
        clip = (i + 1) * width
        step = clip / qmax
        err = 0.0
        for b, c in enumerate(h):
            if c:
                centre = (b + 0.5) * width
                err += c * (step * step / 12.0 if centre <= clip
                            else (centre - clip) ** 2)
        if err < best:
            best, best_clip = err, clip
    return best_clip


def kl_clip(h, rng, levels=128):
    bins = len(h)
    if bins < levels:
        return rng
    best, best_i = math.inf, bins
    for i in range(levels, bins + 1):
        p = [float(c) for c in h[:i]]
        p[-1] += sum(h[i:])
        q = [0.0] * i
        for j in range(levels):
            start, end = j * i // levels, (j + 1) * i // levels
            chunk = h[start:end]
            nonzero = sum(1 for c in chunk if c)
            if nonzero:
                share = sum(chunk) / nonzero
                for k in range(start, end):
                    if h[k]:
                        q[k] = share
        sp, sq = sum(p), sum(q)
        if sp <= 0 or sq <= 0:
            continue
        kl, finite = 0.0, True
        for pk, qk in zip(p, q):
            if pk <= 0:
                continue
            if qk <= 0:
                finite = False
                break
            kl += (pk / sp) * math.log((pk / sp) / (qk / sq))
        if finite and kl < best:
            best, best_i = kl, i
    return best_i * (rng / bins)


def check(npy, stats, qrun_output, batch):
    rows = reference.read_npy(npy)
    batches = [rows[i:i + batch] for i in range(0, len(rows), batch)]
    printed = {}
    with open(qrun_output) as f:
        for line in f:
            m = re.match(r"(\S+) per-tensor: .* (\w+) clip (\S+) \(histogram of "
                         r"(\d+) bins over \[0, (\S+)\)\)", line)
            if m:
                printed[(m.group(1), m.group(2))] = float(m.group(3))
    for p in reference.read_stats(stats):
        if p["kind"] not in (PERCENTILE, MSE, HISTOGRAM):
            continue
        name = p["name"]
        counts, rng = build_histogram(batches, p["bins"])
        if list(p["histogram"]) != counts or p["range"] != rng:
            print("%s: histogram differs (range %r vs %r)" % (name, p["range"], rng))
            continue
        print("%s histogram matches (%d bins, range %.9g)" % (name, len(counts), rng))
        if p["kind"] == PERCENTILE:
            clip = percentile_clip(counts, rng, p["percentile"])
            exact = sorted(abs(v) for row in rows for v in row)
            # The nearest-rank percentile of |x|.
            rank = max(1, math.ceil(p["percentile"] / 100.0 * len(exact)))
            value = exact[rank - 1]
            width = rng / len(counts)
            ok = value <= clip + 1e-12 and clip < value + width + 1e-12
            print("%s percentile %g of |x|: exact %.9g, clip %.9g, within one bin: %s"
                  % (name, p["percentile"], value, clip, "yes" if ok else "no"))
        elif p["kind"] == MSE:
            clip = mse_clip(counts, rng)
        else:
            clip = kl_clip(counts, rng)
        got = printed.get(
            (name, {PERCENTILE: "percentile", MSE: "mse", HISTOGRAM: "kl"}[p["kind"]]))
        same = got is not None and abs(got - clip) <= 1e-12 * max(1.0, abs(clip))
        print("%s clip %s (reference %.9g, qrun %s)" % (
            name, "matches" if same else "DIFFERS", clip,
            "%.9g" % got if got is not None else "missing"))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "npy":
        rows, cols, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        write_npy(out, [[f32(v) for v in row] for row in make_data(rows, cols)])
    elif sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
