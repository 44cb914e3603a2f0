#!/usr/bin/env python3
"""Writes a small tokenizer.json for the tokenizer tests, with changes.

    tiny_tokenizer.py OUT.json [KEY.PATH=JSON ...]

The base: a byte-level BPE (GPT-2's byte-to-character map, ids 0-255 =
bytes), the merges "h e" -> "he" (256) and "l l" -> "ll" (257), an added
token "<|end|>" (258), the GPT-2 pre-tokenizer and a ByteLevel decoder.
Each KEY.PATH=JSON sets a field (dots separate keys, numbers index
lists), e.g. 'normalizer={"type": "NFKC"}' or 'model.type="Unigram"'.
"""

import json
import sys


def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD))
          + list(range(0xAE, 0x100)))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def base_tokenizer():
    chars = bytes_to_unicode()
    vocab = {chars[b]: b for b in range(256)}
    vocab["he"] = 256
    vocab["ll"] = 257
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 258, "content": "<|end|>", "single_word": False,
                          "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                          "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True,
                           "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True,
                    "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": ["h e", "l l"]},
    }
    return tokenizer


def main():
    tokenizer = base_tokenizer()
    for change in sys.argv[2:]:
        path, value = change.split("=", 1)
        keys = path.split(".")
        node = tokenizer
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = json.loads(value)
        else:
            node[last] = json.loads(value)
    with open(sys.argv[1], "w") as f:
        json.dump(tokenizer, f)


if __name__ == "__main__":
    main()
