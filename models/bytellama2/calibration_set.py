#!/usr/bin/env python3
"""Writes a calibration set (eval-suite JSONL: prompt + answer) drawn from
the training generator of data.py, never from evals/v2, so that calibrating
on it measures nothing the scored suites contain.

Usage: calibration_set.py [-n CASES] [--seed S] > calib.jsonl

Only the synthetic tasks (chat, json_tools, math) are drawn: they need no
corpus. Each case is one training example's turns, the last answer being
the answer, the rest the prompt, as a chat/tool/math row of training would
show them. Seeds are "calib-<seed>-<i>", disjoint from the training chunks'
"train-<chunk>".
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    tasks = ["chat", "json_tools", "math"]
    for i in range(args.n):
        rng = random.Random("calib-%d-%d" % (args.seed, i))
        task = tasks[i % len(tasks)]
        turns = data.train_example(rng, task, 1.0)
        text = "".join(p + a for p, a, _ in turns[:-1]) + turns[-1][0]
        answer = turns[-1][1]
        if len((text + answer).encode()) > data.SEQ:
            continue
        print(json.dumps({"prompt": text, "answer": answer,
                          "metric": "exact_match", "kind": task}))


if __name__ == "__main__":
    main()
