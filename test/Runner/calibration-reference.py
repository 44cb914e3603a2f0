#!/usr/bin/env python3
"""Independent checks of `qrun calibrate`: the statistics file format of
docs/calibration.md read and written here from the documentation, and the
statistics recomputed from the calibration data. Standard library only.

    calibration-reference.py npy ROWS COLS OUT.npy [--nan ROW COL]
        write a float32 [ROWS, COLS] .npy of deterministic values
    calibration-reference.py check DATA.npy STATS.qstats POINT
        recompute min/max, per-column absmax and 2 X^T X of the [N, K] data
        and compare them with the file's points named POINT
    calibration-reference.py write OUT.qstats CASE
        write a small file for qopt-apply-calibration's error paths
    calibration-reference.py compare A.qstats B.qstats RTOL
        the same points with the same sample counts, every statistic within
        RTOL of the largest magnitude of its vector (bench/gpu: GPU against
        CPU calibration)
"""

import math
import struct
import sys

MAGIC = b"QOPTSTAT"
KINDS = {0: "min_max", 4: "abs_max", 5: "hessian"}


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY"
    length = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + length].decode()
    assert "'<f4'" in header, header
    shape = eval(header)["shape"]
    count = shape[0] * shape[1]
    values = struct.unpack("<%df" % count, data[10 + length:10 + length + 4 * count])
    return [list(values[r * shape[1]:(r + 1) * shape[1]]) for r in range(shape[0])]


def write_npy(path, rows, cols):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (len(rows), cols)
    header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    flat = [v for row in rows for v in row]
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%df" % len(flat), *flat))


def read_stats(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == MAGIC, "bad magic"
    version, _, size, checksum = struct.unpack("<IIQQ", data[8:32])
    assert version == 2, version
    payload = data[32:]
    assert len(payload) == size and fnv1a64(payload) == checksum, "checksum"
    at = 0

    def take(fmt):
        nonlocal at
        values = struct.unpack_from("<" + fmt, payload, at)
        at += struct.calcsize("<" + fmt)
        return values

    points = []
    (count,) = take("I")
    for _ in range(count):
        (n,) = take("I")
        name = payload[at:at + n].decode()
        at += n
        kind, axis, bins, percentile, samples, elements, nonfinite, c = take("iiqdqqqq")
        mins, maxs, absmax = take("%df" % c), take("%df" % c), take("%df" % c)
        (k,) = take("q")
        hessian = take("%dd" % (k * k))
        (bins_h,) = take("q")
        (hist_range,) = take("d")
        histogram = take("%dq" % bins_h)
        points.append(dict(name=name, kind=kind, axis=axis, samples=samples,
                           nonfinite=nonfinite, min=mins, max=maxs,
                           absmax=absmax, k=k, hessian=hessian, bins=bins,
                           percentile=percentile, histogram=histogram,
                           range=hist_range))
    assert at == len(payload)
    return points


def encode_point(name, kind, axis, samples, nonfinite, mins, maxs, absmax, k=0, hessian=(),
                 histogram=(), hist_range=0.0, bins=2048, percentile=99.99):
    out = struct.pack("<I", len(name)) + name.encode()
    out += struct.pack("<iiqdqqqq", kind, axis, bins, percentile, samples,
                       samples * max(len(mins), 1), nonfinite, len(mins))
    for values in (mins, maxs, absmax):
        out += struct.pack("<%df" % len(values), *values)
    out += struct.pack("<q", k) + struct.pack("<%dd" % len(hessian), *hessian)
    out += struct.pack("<qd", len(histogram), hist_range)
    out += struct.pack("<%dq" % len(histogram), *histogram)
    return out


def write_stats(path, points, version=2, corrupt=False):
    payload = struct.pack("<I", len(points)) + b"".join(points)
    checksum = fnv1a64(payload) ^ (1 if corrupt else 0)
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<IIQQ", version, 0, len(payload), checksum) + payload)


def close(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def check(npy, stats, point):
    x = read_npy(npy)
    n, k = len(x), len(x[0])
    flat = [v for row in x for v in row]
    found = 0
    for p in read_stats(stats):
        if p["name"] != point:
            continue
        found += 1
        kind = KINDS[p["kind"]]
        assert p["samples"] == n, (kind, p["samples"], n)
        if kind == "min_max":
            assert p["min"] == (min(flat),) and p["max"] == (max(flat),), p
        elif kind == "abs_max":
            expected = tuple(max(abs(row[j]) for row in x) for j in range(k))
            assert p["absmax"] == expected, (p["absmax"], expected)
        elif kind == "hessian":
            assert p["k"] == k
            for i in range(k):
                for j in range(k):
                    h = 2.0 * math.fsum(row[i] * row[j] for row in x)
                    assert close(p["hessian"][i * k + j], h), (i, j, p["hessian"][i * k + j], h)
        print("%s %s matches (%d samples)" % (point, kind, n))
    assert found, "no point " + point


def compare(a_path, b_path, rtol):
    a, b = read_stats(a_path), read_stats(b_path)
    index = {(p["name"], p["kind"]): p for p in b}
    assert len(a) == len(b), "%d points against %d" % (len(a), len(b))
    worst, where = 0.0, ""
    for p in a:
        q = index.get((p["name"], p["kind"]))
        assert q is not None, "no point %s (%s) in %s" % (p["name"], KINDS[p["kind"]], b_path)
        assert p["samples"] == q["samples"], (p["name"], p["samples"], q["samples"])
        for field in ("min", "max", "absmax", "hessian"):
            u, v = p[field], q[field]
            assert len(u) == len(v), (p["name"], field, len(u), len(v))
            if not u:
                continue
            scale = max(max(abs(x) for x in u), 1e-30)
            diff = max(abs(x - y) for x, y in zip(u, v)) / scale
            if diff > worst:
                worst, where = diff, "%s %s" % (p["name"], field)
    print("%d points agree: largest relative difference %.3g (%s)" % (len(a), worst, where or "-"))
    assert worst <= rtol, "above %g" % rtol


def main():
    command = sys.argv[1]
    if command == "npy":
        rows, cols, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        x = [[((r * cols + c) * 37 % 97) / 8.0 - 6.0 for c in range(cols)] for r in range(rows)]
        if "--nan" in sys.argv:
            i = sys.argv.index("--nan")
            x[int(sys.argv[i + 1])][int(sys.argv[i + 2])] = float("nan")
        write_npy(out, x, cols)
    elif command == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "compare":
        compare(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif command == "write":
        out, case = sys.argv[2], sys.argv[3]
        good = encode_point("fc1:input", 0, -1, 4, 0, [-1.0], [2.0], [2.0])
        if case == "good":
            write_stats(out, [good, encode_point("gone:input", 0, -1, 4, 0, [0.0], [1.0], [1.0])])
        elif case == "version":
            write_stats(out, [good], version=7)
        elif case == "percentile":
            write_stats(out, [encode_point("fc1:input", 1, -1, 4, 0, [-3.0], [3.0], [3.0],
                                           histogram=[1, 1, 1, 1], hist_range=4.0,
                                           bins=4, percentile=50.0)])
        elif case == "version1":
            # The layout before histograms: no histogram fields.
            write_stats(out, [good[:-16]], version=1)
        elif case == "checksum":
            write_stats(out, [good], corrupt=True)
        elif case == "nan":
            write_stats(out, [encode_point("fc1:input", 0, -1, 4, 3, [-1.0], [2.0], [2.0])])
        elif case == "empty":
            write_stats(out, [encode_point("fc1:input", 0, -1, 0, 0, [], [], [])])
        elif case == "channels":
            write_stats(out, [encode_point("fc1:input", 0, -1, 4, 0, [0.0, 1.0], [1.0, 2.0], [1.0, 2.0])])
        elif case == "missing":
            write_stats(out, [encode_point("other:input", 0, -1, 4, 0, [0.0], [1.0], [1.0])])
        elif case == "badlength":
            # A valid header around a point whose name runs past the end.
            write_stats(out, [struct.pack("<I", 1000) + b"fc1"])
        elif case == "truncated":
            write_stats(out, [good])
            with open(out, "rb") as f:
                data = f.read()
            with open(out, "wb") as f:
                f.write(data[:-3])
        else:
            raise SystemExit("unknown case " + case)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
