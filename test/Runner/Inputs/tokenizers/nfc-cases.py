#!/usr/bin/env python3
"""Writes the NFC test of qopt's tokenizers (test/Runner/tokenizer-nfc.test).

    nfc-cases.py OUT_DIR

OUT_DIR/nfc-tokenizer.json: tiny_tokenizer.py's byte-level BPE with an NFC
normalizer, no merges, no added tokens and no regex, so that
decode(encode(s)) is NFC(s).
OUT_DIR/nfc-cases.json: [[s, NFC(s)], ...] with NFC from Python's
unicodedata (the source of lib/Runner/UnicodeData.inc, so the same Unicode
version): every character with a canonical decomposition, alone and
decomposed; every combining mark after a letter; Hangul; and seeded random
strings of starters and marks in any order. Deterministic.
"""

import json
import os
import random
import sys
import unicodedata

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_tokenizer import base_tokenizer  # noqa: E402


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    tokenizer = base_tokenizer()
    tokenizer["added_tokens"] = []
    tokenizer["normalizer"] = {"type": "NFC"}
    tokenizer["pre_tokenizer"]["use_regex"] = False
    tokenizer["model"]["merges"] = []
    with open(os.path.join(out, "nfc-tokenizer.json"), "w") as f:
        json.dump(tokenizer, f)

    decomposable, marks = [], []
    for cp in range(0x110000):
        c = chr(cp)
        if unicodedata.category(c) in ("Cs", "Cn"):
            continue
        if unicodedata.decomposition(c) and not unicodedata.decomposition(
                c).startswith("<"):
            decomposable.append(c)
        if unicodedata.combining(c):
            marks.append(c)
    hangul = [chr(cp) for cp in list(range(0x1100, 0x1113))
              + list(range(0x1161, 0x1176)) + list(range(0x11A8, 0x11C3))]
    hangul += [chr(0xAC00), chr(0xAC01), chr(0xD7A3), chr(0xAC1C)]
    starters = list("aeiouAEOUcnsyzkgrlwCNSYZKG ") + hangul + [
        unicodedata.normalize("NFD", c)[0] for c in decomposable]
    strings = []
    for c in decomposable:
        strings += [c, unicodedata.normalize("NFD", c), "x" + c + "y"]
    for m in marks:
        strings += ["a" + m, "e" + m + "\u0301", m + "a", "\u1100" + m]
    rng = random.Random(15)
    pool = starters + marks + hangul
    for _ in range(30000):
        strings.append("".join(rng.choice(pool)
                               for _ in range(rng.randint(1, 7))))
    cases = [[s, unicodedata.normalize("NFC", s)] for s in strings]
    with open(os.path.join(out, "nfc-cases.json"), "w") as f:
        json.dump(cases, f)
    print("%d cases, Unicode %s" % (len(cases), unicodedata.unidata_version))


if __name__ == "__main__":
    main()
