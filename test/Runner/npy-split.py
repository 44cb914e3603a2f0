#!/usr/bin/env python3
"""Cuts a float32 [N, K] .npy into the layouts `qrun calibrate --data` takes,
for the tests (standard library only; written from the .npy format, not
from qrun's reader).

    npy-split.py rows IN.npy OUT_PREFIX N1,N2,...
        OUT_PREFIX0.npy holds rows [0, N1), OUT_PREFIX1.npy the next N2, ...
    npy-split.py samples IN.npy OUT_DIR
        one [K] file per row: OUT_DIR/sample_0000.npy, ...
    npy-split.py f64 IN.npy OUT.npy
        the same values as float64 (a dtype an f32 input does not take)
    npy-split.py add IN_A.npy IN_B.npy OUT.npy
        the elementwise sum, float32 (what Add(X, Z) feeds the next layer)
"""

import struct
import sys


def read(path):
    data = open(path, "rb").read()
    assert data[:6] == b"\x93NUMPY"
    length = struct.unpack("<H", data[8:10])[0]
    header = eval(data[10:10 + length].decode())
    assert header["descr"] == "<f4", header
    shape = header["shape"]
    count = 1
    for d in shape:
        count *= d
    values = struct.unpack("<%df" % count,
                           data[10 + length:10 + length + 4 * count])
    cols = shape[1]
    return [list(values[r * cols:(r + 1) * cols]) for r in range(shape[0])], cols


def write(path, descr, shape, flat):
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, dims)
    header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    fmt = {"<f4": "f", "<f8": "d"}[descr]
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) +
                header.encode())
        f.write(struct.pack("<%d%s" % (len(flat), fmt), *flat))


def main():
    mode = sys.argv[1]
    if mode == "rows":
        rows, cols = read(sys.argv[2])
        start = 0
        for i, n in enumerate(int(x) for x in sys.argv[4].split(",")):
            part = rows[start:start + n]
            write("%s%d.npy" % (sys.argv[3], i), "<f4", (len(part), cols),
                  [v for r in part for v in r])
            start += n
    elif mode == "samples":
        rows, cols = read(sys.argv[2])
        for i, row in enumerate(rows):
            write("%s/sample_%04d.npy" % (sys.argv[3], i), "<f4", (cols,), row)
    elif mode == "f64":
        rows, cols = read(sys.argv[2])
        write(sys.argv[3], "<f8", (len(rows), cols), [v for r in rows for v in r])
    elif mode == "add":
        a, cols = read(sys.argv[2])
        b, _ = read(sys.argv[3])
        flat = [x + y for ra, rb in zip(a, b) for x, y in zip(ra, rb)]
        flat = list(struct.unpack("<%df" % len(flat),
                                  struct.pack("<%df" % len(flat), *flat)))
        write(sys.argv[4], "<f4", (len(a), cols), flat)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
