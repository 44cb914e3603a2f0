"""Checks a run of qrun eval with several candidates against single runs.

usage: eval-candidates.py MULTI.out MULTI.json ONE.out ONE.json [ONE.out ONE.json ...]

The table of candidate i in MULTI.out (the lines after "candidate i of N:
PATH" up to the blank line) must be exactly ONE_i.out, the output of a run
with that candidate alone, and MULTI.json must be {"baseline", "passed",
"candidates": [ONE_1.json, ...]} with "passed" true only when every
candidate passed. Exits 1 naming the first difference.
"""

import json
import sys


def fail(message):
    print("eval-candidates.py: " + message)
    sys.exit(1)


def main():
    multi_out, multi_json, singles = sys.argv[1], sys.argv[2], sys.argv[3:]
    if len(singles) < 4 or len(singles) % 2:
        fail("usage: MULTI.out MULTI.json ONE.out ONE.json [...]")
    lines = open(multi_out).read().split("\n")
    blocks, current = [], None
    for line in lines:
        if line.startswith("candidate ") and " of " in line and ": " in line:
            current = []
            blocks.append(current)
        elif current is not None and line == "":
            current = None
        elif current is not None:
            current.append(line)
    pairs = list(zip(singles[0::2], singles[1::2]))
    if len(blocks) != len(pairs):
        fail(f"{len(blocks)} tables for {len(pairs)} candidates")
    report = json.load(open(multi_json))
    if len(report.get("candidates", [])) != len(pairs):
        fail("the JSON does not list every candidate")
    passed = True
    for i, ((out, js), block) in enumerate(zip(pairs, blocks)):
        expected = open(out).read().rstrip("\n").split("\n")
        if block != expected:
            fail(f"the table of candidate {i + 1} differs from {out}:\n"
                 + "\n".join(block) + "\n---\n" + "\n".join(expected))
        one = json.load(open(js))
        if report["candidates"][i] != one:
            fail(f"the JSON of candidate {i + 1} differs from {js}")
        passed = passed and one["passed"]
    if report["passed"] != passed or report["baseline"] != report["candidates"][0]["baseline"]:
        fail("wrong \"passed\" or \"baseline\" at the top of the JSON")
    print(f"eval-candidates.py: {len(pairs)} candidates as their own runs")


main()
