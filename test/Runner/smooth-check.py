#!/usr/bin/env python3
"""Helpers of the SmoothQuant postcondition test (standard library only).

    smooth-check.py ids DATA.jsonl OUT.npy [--cases N] [--length L]
        The first N cases' prompt + answer bytes (a byte-level model's token
        ids), each cut to L bytes (default: the shortest case), as one
        [N, L] int64 batch.
    smooth-check.py compare A.npy B.npy [--tol T]
        Reads two f32 arrays of the same shape and prints
        max |a - b| / max |a|, the error relative to the output's range
        (per-element relative errors are meaningless for logits near 0);
        exits 1 when it exceeds T (default 1e-5) or a value is not finite.
"""

import argparse
import ast
import json
import math
import struct
import sys


def write_npy(path, descr, shape, payload):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % d for d in shape))
    header = header.ljust((10 + len(header) + 1 + 63) // 64 * 64 - 11) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") +
                header.encode("ascii") + payload)


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        sys.exit("%s: not an .npy file" % path)
    major = data[6]
    if major == 1:
        length, start = int.from_bytes(data[8:10], "little"), 10
    else:
        length, start = int.from_bytes(data[8:12], "little"), 12
    header = ast.literal_eval(data[start:start + length].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        sys.exit("%s: expected little-endian f32, got %s" %
                 (path, header["descr"]))
    count = math.prod(header["shape"])
    body = data[start + length:]
    return tuple(header["shape"]), struct.unpack("<%df" % count,
                                                 body[:4 * count])


def cmd_ids(args):
    cases = []
    with open(args.data, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                case = json.loads(line)
                cases.append((case["prompt"] + case["answer"]).encode())
            if len(cases) == args.cases:
                break
    length = args.length or min(len(c) for c in cases)
    if any(len(c) < length for c in cases):
        sys.exit("a case is shorter than --length %d" % length)
    ids = b"".join(struct.pack("<%dq" % length, *c[:length]) for c in cases)
    write_npy(args.output, "<i8", (len(cases), length), ids)


def cmd_compare(args):
    shape_a, a = read_npy(args.a)
    shape_b, b = read_npy(args.b)
    if shape_a != shape_b:
        sys.exit("shapes differ: %s and %s" % (shape_a, shape_b))
    if not all(math.isfinite(v) for v in a + b):
        print("non-finite values")
        sys.exit(1)
    scale = max(abs(v) for v in a)
    err = max(abs(x - y) for x, y in zip(a, b)) / scale
    print("max |a - b| / max |a| = %.3g over %d values (max |a| = %.4g)" %
          (err, len(a), scale))
    print("within %g: %s" % (args.tol, "yes" if err <= args.tol else "no"))
    sys.exit(0 if err <= args.tol else 1)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ids")
    p.add_argument("data")
    p.add_argument("output")
    p.add_argument("--cases", type=int, default=1)
    p.add_argument("--length", type=int, default=0)
    p = sub.add_parser("compare")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--tol", type=float, default=1e-5)
    args = parser.parse_args()
    {"ids": cmd_ids, "compare": cmd_compare}[args.cmd](args)


if __name__ == "__main__":
    main()
