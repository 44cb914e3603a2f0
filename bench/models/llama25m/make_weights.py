#!/usr/bin/env python3
"""Regenerates model.onnx.data (the external weights of model.onnx).

The weights are not in git (~100 MiB); they are random, and this script
rebuilds them byte for byte from `weights.json`, the manifest written by
`export_llama25m.py` when model.onnx was exported. For every external
initializer the manifest records where it lives in the data file (offset,
length, as model.onnx says), its dtype and shape, and how its values are made:

* "uniform": float32 values uniform in [-a, a), a = std * sqrt(3) (so the
  standard deviation is `std`, 0.02 as in Hugging Face's initializer range),
  drawn from Python's Mersenne Twister `random.Random(s)` with
  s = first 8 bytes (little-endian) of sha256("<seed>/<initializer name>");
* "ones" / "zeros": constant float32 (RMSNorm weights are ones);
* "literal": the bytes themselves, hex in the manifest (small tensors only).

Only the standard library is used and only exact arithmetic
(random() * 2a - a, rounded to float32), so the result does not depend on
the platform's libm: the same file comes out on every machine, and the
manifest's sha256 checks it. Gaps between tensors (alignment padding) are
zero bytes.

usage: make_weights.py [--manifest weights.json] [--out model.onnx.data]
                       [--force]
Without --force an existing file with the right size and sha256 is kept.
Exit status 1 on any error (including a sha256 mismatch).
"""

import argparse
import array
import hashlib
import json
import math
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHUNK = 1 << 20  # elements generated per step, bounds memory use


def tensor_seed(seed, name):
    digest = hashlib.sha256(f"{seed}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def float32_bytes(values):
    arr = array.array("f", values)
    if arr.itemsize != 4:
        raise SystemExit("make_weights: array('f') is not 4 bytes here")
    if sys.byteorder != "little":
        arr.byteswap()
    return arr.tobytes()


def generate(entry, seed):
    """Yields the bytes of one initializer, in chunks."""
    kind = entry["init"]
    length = entry["length"]
    if kind == "literal":
        data = bytes.fromhex(entry["hex"])
        if len(data) != length:
            raise SystemExit(f"make_weights: {entry['name']}: literal has "
                             f"{len(data)} bytes, expected {length}")
        yield data
        return
    if entry["dtype"] != "float32":
        raise SystemExit(f"make_weights: {entry['name']}: init '{kind}' "
                         f"needs float32, not {entry['dtype']}")
    count = math.prod(entry["shape"])
    if count * 4 != length:
        raise SystemExit(f"make_weights: {entry['name']}: shape "
                         f"{entry['shape']} is {count * 4} bytes, the model "
                         f"says {length}")
    if kind in ("ones", "zeros"):
        chunk = float32_bytes([1.0 if kind == "ones" else 0.0] *
                              min(count, CHUNK))
        left = count
        while left:
            n = min(left, CHUNK)
            yield chunk[:4 * n]
            left -= n
        return
    if kind != "uniform":
        raise SystemExit(f"make_weights: {entry['name']}: unknown init "
                         f"'{kind}'")
    a = float(entry["std"]) * math.sqrt(3.0)
    two_a = 2.0 * a
    rnd = random.Random(tensor_seed(seed, entry["name"])).random
    left = count
    while left:
        n = min(left, CHUNK)
        yield float32_bytes([rnd() * two_a - a for _ in range(n)])
        left -= n


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def write_data(manifest, out):
    """Writes the data file described by `manifest` to `out`."""
    entries = sorted(manifest["initializers"], key=lambda e: e["offset"])
    seed = manifest["seed"]
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        pos = 0
        for entry in entries:
            if entry["offset"] < pos:
                raise SystemExit(f"make_weights: {entry['name']} overlaps "
                                 f"the previous initializer")
            f.write(b"\0" * (entry["offset"] - pos))
            written = 0
            for chunk in generate(entry, seed):
                f.write(chunk)
                written += len(chunk)
            if written != entry["length"]:
                raise SystemExit(f"make_weights: {entry['name']}: wrote "
                                 f"{written} bytes, expected "
                                 f"{entry['length']}")
            pos = entry["offset"] + entry["length"]
        size = manifest.get("data_file_bytes", pos)
        if size < pos:
            raise SystemExit("make_weights: data_file_bytes is too small")
        f.write(b"\0" * (size - pos))
    os.replace(tmp, out)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", default=os.path.join(HERE,
                                                           "weights.json"))
    parser.add_argument("--out", default=None,
                        help="default: the manifest's data_file next to it")
    parser.add_argument("--force", action="store_true",
                        help="regenerate even if the file is up to date")
    args = parser.parse_args()
    try:
        with open(args.manifest) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"make_weights: cannot read manifest: {e}")
    out = args.out or os.path.join(os.path.dirname(
        os.path.abspath(args.manifest)), manifest["data_file"])
    want = manifest.get("sha256")
    if (not args.force and want and os.path.isfile(out)
            and os.path.getsize(out) == manifest["data_file_bytes"]
            and sha256_file(out) == want):
        print(f"make_weights: {out} is up to date")
        return 0
    write_data(manifest, out)
    got = sha256_file(out)
    if want and got != want:
        print(f"make_weights: error: {out} has sha256 {got}, the manifest "
              f"expects {want}", file=sys.stderr)
        return 1
    print(f"make_weights: wrote {out} ({os.path.getsize(out)} bytes, "
          f"sha256 {got})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
