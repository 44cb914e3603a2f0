#!/usr/bin/env python3
"""An independent implementation of qrun eval's paired bootstrap.

Prints, for the cases that unittests/Runner/EvalTest.cpp also computes with
the library (lib/Runner/EvalStats.cpp), the numbers both must produce;
test/Runner/eval-stats.test checks both outputs against the same lines.
Written from the specification in include/qopt/Runner/EvalStats.h and
docs/eval.md, not from the C++: SplitMix64, resampling unit
(next() % n) n times per resample, deltas of the resampled weighted means,
NaN deltas dropped, then the type 7 quantiles (linear interpolation between
order statistics) at (1 - confidence) / 2 and (1 + confidence) / 2.
Standard library only.
"""

import math

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def delta(b, c, kind):
    if kind == "relative":
        if b == 0:
            return 0.0 if c == 0 else math.inf
        return (c - b) / b
    if kind == "absolute":
        return c - b
    return math.expm1(c - b)


def quantile(xs, q):
    if not xs:
        return math.nan
    h = (len(xs) - 1) * q
    i = math.floor(h)
    if i + 1 >= len(xs):
        return xs[-1]
    f = h - i
    if f == 0 or xs[i] == xs[i + 1]:
        return xs[i]
    return xs[i] + f * (xs[i + 1] - xs[i])


def bootstrap(units, kind, confidence=0.95, resamples=2000, seed=0x5EED):
    sb = sum(u[0] for u in units)
    sc = sum(u[1] for u in units)
    sw = sum(u[2] for u in units)
    point = delta(sb / sw, sc / sw, kind)
    rng = SplitMix64(seed)
    n = len(units)
    deltas = []
    for _ in range(resamples):
        b = c = w = 0.0
        for _ in range(n):
            u = units[rng.next() % n]
            b += u[0]
            c += u[1]
            w += u[2]
        d = delta(b / w, c / w, kind)
        if not math.isnan(d):
            deltas.append(d)
    deltas.sort()
    tail = (1 - confidence) / 2
    return point, quantile(deltas, tail), quantile(deltas, 1 - tail)


# The cases; EvalTest.cpp spells out the same units.
CASES = [
    # 8 exact-match cases, the candidate fails 2 (test/Runner/eval.test's
    # damaged json_tools).
    ("json8", [(1, 1, 1), (1, 0, 1), (1, 1, 1), (1, 1, 1), (1, 0, 1),
               (1, 1, 1), (1, 1, 1), (1, 1, 1)], "relative", 0.95, 2000,
     0x5EED),
    # The same at 90% with another seed and fewer resamples.
    ("json8-90", [(1, 1, 1), (1, 0, 1), (1, 1, 1), (1, 1, 1), (1, 0, 1),
                  (1, 1, 1), (1, 1, 1), (1, 1, 1)], "relative", 0.90, 1000, 7),
    # Token accuracy: correct answer tokens of each side over answer tokens.
    ("tokens10", [(5, 5, 5), (3, 2, 4), (7, 7, 7), (2, 1, 3), (6, 6, 6),
                  (4, 3, 4), (9, 8, 9), (1, 1, 2), (5, 4, 5), (8, 8, 8)],
     "relative", 0.95, 2000, 0x5EED),
    # KLD sums over answer tokens (the baseline's are 0).
    ("kld6", [(0, 0.03, 3), (0, 0.25, 5), (0, 0.0, 2), (0, 0.12, 4),
              (0, 0.07, 1), (0, 0.4, 6)], "absolute", 0.95, 2000, 0x5EED),
    # Blocks of negative log-likelihood sums, for perplexity.
    ("ppl5", [(40.5, 41.0, 64), (38.25, 38.5, 64), (45.0, 47.5, 64),
              (12.0, 12.25, 20), (50.0, 50.5, 64)], "exp", 0.95, 2000,
     0x5EED),
]


def main():
    rng = SplitMix64(0)
    print("splitmix64 seed 0: " +
          " ".join("%016x" % rng.next() for _ in range(3)))
    for name, units, kind, confidence, resamples, seed in CASES:
        point, low, high = bootstrap(units, kind, confidence, resamples, seed)
        print("bootstrap %s: delta %.10g interval [%.10g, %.10g]" %
              (name, point, low, high))


if __name__ == "__main__":
    main()
