#!/usr/bin/env python3
"""Checks a screenshot PNG (Chromium's --screenshot) without PIL: its size,
that it is not blank, and that given colours cover enough pixels.

    check-screenshot.py OUT.png --size 1200x900 \
        --colour pass=#2e7d32:200 --colour fail=#c62828:200

Prints one line per check ("size 1200x900", "colour pass #2e7d32: ok") and
exits 1 on the first failure. Decodes 8-bit RGB and RGBA, non-interlaced
(what Chromium writes): the chunks, zlib, and the five scanline filters.
"""

import argparse
import struct
import sys
import zlib


def fail(message):
    print("error: " + message)
    sys.exit(1)


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + ": not a PNG")
    pos, header, idat = 8, None, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        fail(path + ": no IHDR")
    width, height, depth, colour_type, _, _, interlace = header
    if depth != 8 or colour_type not in (2, 6) or interlace:
        fail("%s: unsupported PNG (bit depth %d, colour type %d, interlace "
             "%d)" % (path, depth, colour_type, interlace))
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        fail(path + ": truncated image data")
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (
                    b if pb <= pc else c)
                line[i] = (line[i] + predictor) & 0xFF
        elif kind != 0:
            fail("%s: bad filter type %d" % (path, kind))
        rows.append(bytes(line))
        previous = line
    return width, height, bpp, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("png")
    parser.add_argument("--size", required=True, help="WIDTHxHEIGHT")
    parser.add_argument("--colour", action="append", default=[],
                        help="NAME=#RRGGBB:MIN_PIXELS")
    parser.add_argument("--min-colours", type=int, default=8,
                        help="distinct colours a page that is not blank has")
    args = parser.parse_args()

    width, height, bpp, rows = read_png(args.png)
    expected = tuple(int(v) for v in args.size.split("x"))
    if (width, height) != expected:
        fail("size %dx%d, expected %dx%d" % ((width, height) + expected))
    print("size %dx%d" % (width, height))

    counts = {}
    for row in rows:
        for x in range(0, len(row), bpp):
            pixel = row[x:x + 3]
            counts[pixel] = counts.get(pixel, 0) + 1
    white = counts.get(b"\xff\xff\xff", 0)
    if len(counts) < args.min_colours or white == width * height:
        fail("blank: %d distinct colours" % len(counts))
    print("not blank: %d distinct colours, %.0f%% white" %
          (len(counts), 100.0 * white / (width * height)))

    for spec in args.colour:
        name, rest = spec.split("=", 1)
        colour, minimum = rest.split(":")
        rgb = bytes.fromhex(colour.lstrip("#"))
        found = counts.get(rgb, 0)
        if found < int(minimum):
            fail("colour %s %s: %d pixels, expected at least %s" %
                 (name, colour, found, minimum))
        print("colour %s %s: ok" % (name, colour))


if __name__ == "__main__":
    main()
