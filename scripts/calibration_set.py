#!/usr/bin/env python3
"""A calibration set for models/bytellama2 from its training-data generator.

Writes N rows of the training stream (models/bytellama2/data.py
train_chunk: real Debian text and synthetic skills, the model's training
distribution) as JSONL cases (prompt: the row but its last 16 characters, answer: those;
qrun observes both) that `qrun
calibrate --data` reads (docs/calibration.md). The rows come from chunks
numbered from 1,000,000 on, seeds the training run never drew, and never
from the eval suites (evals/v2). Needs the real-text corpus
(`python3 models/bytellama2/data.py corpus --out DIR`, about 2 minutes on a
Debian machine); --corpus builds it there when it is missing.

--tasks draws the rows from only those row kinds of the training mix
(data.ROW_MIX: code, prose, long_context, math, json_tools, chat), keeping
their relative weights, e.g. `--tasks prose` for a prose-only set (the
calibration-set ablation in docs/quality.md).

--synthetic writes whole training examples of the synthetic tasks that
need no corpus (chat, json_tools, math in turn; each case one example's
turns, the last answer the answer, seeds "calib-<seed>-<i>" disjoint from
the training chunks'), for tests that must not build the corpus.

Usage: scripts/calibration_set.py OUT.jsonl [-n 32] [--seq 2048]
           [--corpus .devwork/corpus] [--tasks KIND,...]
       scripts/calibration_set.py OUT.jsonl --synthetic [-n 64] [--seed 0]
"""

import argparse
import json
import os
import random
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, "models", "bytellama2"))
import data  # noqa: E402


def write_synthetic(out, n, seed):
    tasks = ["chat", "json_tools", "math"]
    with open(out + ".tmp", "w") as f:
        for i in range(n):
            rng = random.Random("calib-%d-%d" % (seed, i))
            task = tasks[i % len(tasks)]
            turns = data.train_example(rng, task, 1.0)
            text = "".join(p + a for p, a, _ in turns[:-1]) + turns[-1][0]
            answer = turns[-1][1]
            if len((text + answer).encode()) > data.SEQ:
                continue
            f.write(json.dumps({"prompt": text, "answer": answer,
                                "metric": "exact_match", "kind": task}) + "\n")
    os.replace(out + ".tmp", out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("-n", type=int, default=None,
                    help="sequences (32; --synthetic: cases, 64)")
    ap.add_argument("--seq", type=int, default=2048,
                    help="bytes (= tokens) per sequence (2048)")
    ap.add_argument("--corpus", default=os.path.join(root, ".devwork",
                                                     "corpus"))
    ap.add_argument("--tasks", default="",
                    help="comma-separated row kinds of the training mix "
                    "(default: all of " +
                    ",".join(t for t, _ in data.ROW_MIX) + ")")
    ap.add_argument("--synthetic", action="store_true",
                    help="whole synthetic examples, no corpus needed")
    ap.add_argument("--seed", type=int, default=0,
                    help="--synthetic: seed of the case generator (0)")
    args = ap.parse_args()
    if args.synthetic:
        write_synthetic(args.out, 64 if args.n is None else args.n, args.seed)
        return
    if args.n is None:
        args.n = 32
    if args.tasks:
        wanted = args.tasks.split(",")
        unknown = [t for t in wanted if t not in dict(data.ROW_MIX)]
        if unknown:
            ap.error("unknown --tasks " + ",".join(unknown) + "; expected " +
                     ",".join(t for t, _ in data.ROW_MIX))
        # train_chunk draws each row's kind from data.ROW_MIX.
        data.ROW_MIX = [(t, w) for t, w in data.ROW_MIX if t in wanted]
    if not os.path.exists(os.path.join(args.corpus, data.CORPUS_FILE)):
        print(f"building the corpus in {args.corpus}", file=sys.stderr)
        subprocess.run([sys.executable, data.__file__, "corpus", "--out",
                        args.corpus], check=True)
    data.load_corpus(args.corpus)
    with open(args.out + ".tmp", "w") as f:
        for i in range(args.n):
            row, _ = data.train_chunk(1_000_000 + i, 1, 1.0, seq=args.seq)
            # Rows are cut at a byte count: drop a split UTF-8 character.
            text = row.decode("utf-8", errors="ignore")
            # qrun observes prompt + answer; a case needs a non-empty answer.
            cut = len(text) - 16
            f.write(json.dumps({"prompt": text[:cut], "answer": text[cut:]})
                    + "\n")
    os.replace(args.out + ".tmp", args.out)
    print(f"{args.out}: {args.n} sequences of up to {args.seq} bytes",
          file=sys.stderr)


if __name__ == "__main__":
    main()
