#!/usr/bin/env python3
"""Prints a JSON document one value per line, `PATH = VALUE`, for FileCheck.

usage: flatten-json.py [--depth N] FILE|-

Reads FILE (or stdin) with Python's json module and fails (exit 1) on
anything that is not strict JSON: NaN or Infinity, a duplicate key, bytes
that are not UTF-8, text after the value. Objects and arrays less than N
levels deep (default 1: the top level) are expanded, one line per member
(`.suites.chat`) or element (`.runs[0]`), in the file's order; deeper values,
empty objects and empty arrays are printed as compact JSON with ", " and ": "
separators, floats as Python writes them (the shortest text that reads back
as the same double: 1.0, 0.03, 1e-300), integers without a point.
"""

import argparse
import json
import sys


def reject_constant(name):
    raise ValueError(f"not strict JSON: {name}")


def unique_keys(pairs):
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate keys: {duplicates}")
    return dict(pairs)


def emit(path, value, depth):
    if depth > 0 and isinstance(value, dict) and value:
        for key, member in value.items():
            emit(f"{path}.{key}", member, depth - 1)
    elif depth > 0 and isinstance(value, list) and value:
        for index, element in enumerate(value):
            emit(f"{path or '.'}[{index}]", element, depth - 1)
    else:
        print(f"{path or '.'} = {json.dumps(value, ensure_ascii=False)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("file")
    args = parser.parse_args()
    data = (sys.stdin.buffer if args.file == "-" else open(args.file, "rb")).read()
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=reject_constant,
                           object_pairs_hook=unique_keys)
    except (UnicodeDecodeError, ValueError) as error:
        sys.exit(f"{args.file}: {error}")
    emit("", value, args.depth)


if __name__ == "__main__":
    main()
