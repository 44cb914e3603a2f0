#!/usr/bin/env python3
"""Per-channel activation outliers from .qstats files (docs/calibration.md).

    scripts/outlier-stats.py BEFORE.qstats [AFTER.qstats]

For every abs_max point: the largest and the median channel abs-max and
their ratio (max / median), the number SmoothQuant is meant to shrink;
with AFTER (the smoothed model calibrated again on the same data), both
side by side. Standard library only; the reader is the tests' independent
one (test/Runner/calibration-reference.py).
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "Runner"))
import importlib  # noqa: E402

reference = importlib.import_module("calibration-reference")

ABS_MAX = 4


def ratios(path):
    out = {}
    for p in reference.read_stats(path):
        if p["kind"] != ABS_MAX or not p["absmax"]:
            continue
        med = statistics.median(p["absmax"])
        top = max(p["absmax"])
        out[p["name"]] = (top, med, top / med if med > 0 else float("inf"))
    return out


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    before = ratios(sys.argv[1])
    after = ratios(sys.argv[2]) if len(sys.argv) == 3 else {}
    head = "%-24s %10s %10s %8s" % ("point", "max", "median", "ratio")
    if after:
        head += "  | %10s %10s %8s" % ("max", "median", "ratio")
    print(head)
    for name, (top, med, r) in before.items():
        line = "%-24s %10.4g %10.4g %8.1f" % (name, top, med, r)
        if name in after:
            line += "  | %10.4g %10.4g %8.1f" % after[name]
        print(line)


if __name__ == "__main__":
    main()
