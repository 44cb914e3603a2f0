#!/usr/bin/env python3
"""Checks that qrun eval scored the reference's answer tokens.

    check-suite-tokens.py EVAL.json REFERENCE.json NAME

EVAL.json: `qrun eval --json` of suite/capitals.jsonl with tokenizer NAME.
Its suite's "tokens" (answer tokens scored) must be the number of answer
tokens that make-reference.mjs got from the independent implementation for
the suite's cases. Prints both; exits 1 when they differ.
"""

import json
import sys


def main():
    result = json.load(open(sys.argv[1]))["suites"]["capitals"]
    reference = json.load(open(sys.argv[2]))["tokenizers"][sys.argv[3]]
    cases = [c for c in reference["suite"] if c["in_suite"]]
    want = sum(len(c["answer_ids"]) for c in cases)
    print("%s: %d cases, %d answer tokens scored, reference %d"
          % (sys.argv[3], result["n"], result["tokens"], want))
    sys.exit(0 if result["tokens"] == want and result["n"] == len(cases)
             else 1)


if __name__ == "__main__":
    main()
