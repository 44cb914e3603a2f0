#!/usr/bin/env python3
"""Writes the bytes of a file as token ids, a [1, n] int32 .npy array.

    bytes-to-npy.py IN OUT.npy [--append ID ...]

The ids of a byte-level model (token id = byte value), for `qrun eval
--tokens`; --append adds ids after them (e.g. one outside the vocabulary).
Standard library only (NPY format 1.0).
"""

import argparse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--append", type=int, action="append", default=[])
    args = parser.parse_args()
    with open(args.input, "rb") as f:
        ids = list(f.read()) + args.append
    header = "{'descr': '<i4', 'fortran_order': False, 'shape': (1, %d), }" % (
        len(ids))
    # The magic, version and length take 10 bytes; the header ends with a
    # newline and pads the whole preamble to a multiple of 64.
    header = header.ljust((10 + len(header) + 1 + 63) // 64 * 64 - 11) + "\n"
    with open(args.output, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") +
                header.encode("ascii") +
                b"".join(i.to_bytes(4, "little", signed=True) for i in ids))


if __name__ == "__main__":
    main()
