#!/usr/bin/env python3
"""utils/ort/ort-eval.mjs for ONNX Runtime's Python binding.

   python3 bench/ort_eval.py --baseline MODEL.onnx --candidate MODEL.onnx
        --suites DIR [--limit N] [--threads N] [--batch B] [--workers W]
        [--scores OUT]

The same work, batches, session options and JSON output as ort-eval.mjs
(read its header): bench/eval_speed.sh runs it instead of the Node.js one
when ORT_EVAL="python3 bench/ort_eval.py" is set, on machines that have
the onnxruntime Python package (the GPU machine: onnxruntime 1.30.0, the
version utils/ort pins for onnxruntime-node) but not Node.js. Scoring runs
in numpy (float64 log-softmax with the maximum subtracted, as the Node.js
one); --workers W runs W batches at once in threads with their own two
sessions of N / W intra-op threads (ONNX Runtime releases the GIL in
run()), longest batches first.
"""

import argparse
import concurrent.futures
import json
import os
import sys
import threading
import time

import numpy as np

# qrun eval's kMaxBatchTokens (include/qopt/Runner/Eval.h).
MAX_BATCH_TOKENS = 1024


def read_suites(directory, limit):
    names = sorted(n for n in os.listdir(directory) if n.endswith(".jsonl"))
    if not names:
        raise SystemExit(f"ort_eval: error: no suites (*.jsonl) in '{directory}'")
    suites = []
    for name in names:
        cases = []
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            for index, line in enumerate(f):
                if not line.strip() or (limit and len(cases) >= limit):
                    continue
                c = json.loads(line)

                def ids(text, ids_list):
                    if ids_list is not None:
                        return [int(x) for x in ids_list]
                    return list(text.encode("utf-8"))

                cases.append({
                    "line": index + 1,
                    "prompt": ids(c.get("prompt"), c.get("prompt_ids")),
                    "answer": ids(c.get("answer"), c.get("answer_ids")),
                })
        suites.append({"name": name[:-len(".jsonl")], "cases": cases})
    return suites


def make_batches(suites, batch):
    batches = []
    for index, suite in enumerate(suites):
        cases = suite["cases"]
        n = len(cases)

        def length(c):
            return len(c["prompt"]) + len(c["answer"]) - 1

        order = sorted(range(n), key=lambda i: (length(cases[i]), i))
        suite["scores"] = [None] * n
        first = 0
        while first < n:
            last = first + 1
            while (last < n and last - first < batch and
                   (last - first + 1) * length(cases[order[last]]) <=
                   MAX_BATCH_TOKENS):
                last += 1
            members = order[first:last]
            cols = length(cases[order[last - 1]])
            ids = np.zeros((len(members), cols), dtype=np.int64)
            for r, i in enumerate(members):
                seq = cases[i]["prompt"] + cases[i]["answer"][:-1]
                ids[r, :len(seq)] = seq
            batches.append({
                "suite": index, "members": members, "cols": cols, "ids": ids,
                "rows": [(len(cases[i]["prompt"]), cases[i]["answer"])
                         for i in members],
            })
            first = last
    return batches


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))


def run_batch(sessions, batch):
    logits = []
    for session in sessions:
        feeds = {session.get_inputs()[0].name: batch["ids"]}
        logits.append(session.run([session.get_outputs()[0].name], feeds)[0])
    p, q = logits
    scores = []
    for r, (prompt_length, answer) in enumerate(batch["rows"]):
        at = slice(prompt_length - 1, prompt_length - 1 + len(answer))
        pr, qr = p[r, at], q[r, at]
        b, k = pr.argmax(axis=-1), qr.argmax(axis=-1)
        target = np.asarray(answer)
        lp, lq = log_softmax(pr), log_softmax(qr)
        prob = np.exp(lp)
        kld = np.where(prob == 0, 0.0, prob * (lp - lq)).sum(axis=-1)
        scores.append({
            "tokens": len(answer),
            "correct": [int((b == target).sum()), int((k == target).sum())],
            "agreed": int((b == k).sum()),
            "kld": float(kld.sum()),
        })
    return scores


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--candidate", required=True)
    ap.add_argument("--suites", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--scores")
    args = ap.parse_args()
    for flag in ("limit", "threads", "batch", "workers"):
        if getattr(args, flag) < (0 if flag == "limit" else 1):
            ap.error(f"--{flag} is too small")
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise SystemExit(f"ort_eval: error: cannot import onnxruntime ({e})")

    t0 = time.perf_counter()
    suites = read_suites(args.suites, args.limit)
    read_ms = (time.perf_counter() - t0) * 1000
    batches = make_batches(suites, args.batch)
    fed = sum(len(b["members"]) * b["cols"] for b in batches)

    def options(threads):
        o = ort.SessionOptions()
        o.intra_op_num_threads = threads
        o.inter_op_num_threads = 1
        o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return o

    def open_sessions(threads):
        return [ort.InferenceSession(m, options(threads),
                                     providers=["CPUExecutionProvider"])
                for m in (args.baseline, args.candidate)]

    def store(batch, scores):
        for i, s in zip(batch["members"], scores):
            suites[batch["suite"]]["scores"][i] = s

    if args.workers == 1:
        t1 = time.perf_counter()
        sessions = open_sessions(args.threads)
        load_ms = (time.perf_counter() - t1) * 1000
        t2 = time.perf_counter()
        for batch in batches:
            store(batch, run_batch(sessions, batch))
        score_ms = (time.perf_counter() - t2) * 1000
    else:
        threads = max(1, args.threads // args.workers)
        t1 = time.perf_counter()
        pool = [open_sessions(threads) for _ in range(args.workers)]
        load_ms = (time.perf_counter() - t1) * 1000
        queue = sorted(range(len(batches)),
                       key=lambda i: (-batches[i]["cols"], i))
        lock = threading.Lock()

        def worker(sessions):
            while True:
                with lock:
                    if not queue:
                        return
                    index = queue.pop(0)
                store(batches[index], run_batch(sessions, batches[index]))

        t2 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.workers) as ex:
            for f in [ex.submit(worker, s) for s in pool]:
                f.result()
        score_ms = (time.perf_counter() - t2) * 1000

    cases = 0
    summary = {}
    lines = []
    for suite in suites:
        s = {"n": len(suite["cases"]), "exact": [0, 0], "answer_tokens": 0,
             "correct": [0, 0], "agreed": 0, "kld": 0.0}
        for c, score in zip(suite["cases"], suite["scores"]):
            for side in (0, 1):
                s["exact"][side] += score["correct"][side] == score["tokens"]
                s["correct"][side] += score["correct"][side]
            s["answer_tokens"] += score["tokens"]
            s["agreed"] += score["agreed"]
            s["kld"] += score["kld"]
            if args.scores:
                lines.append(json.dumps({"suite": suite["name"],
                                         "line": c["line"], **score}))
        summary[suite["name"]] = s
        cases += s["n"]
    if args.scores:
        with open(args.scores, "w") as f:
            f.write("\n".join(lines) + "\n")
    print(json.dumps({
        "threads": args.threads, "batch": args.batch,
        "workers": args.workers, "cases": cases, "tokens": fed,
        "load_ms": round(load_ms, 3), "read_ms": round(read_ms, 3),
        "score_ms": round(score_ms, 3), "suites": summary,
        "engine": "onnxruntime " + ort.__version__ + " (Python)",
    }))


if __name__ == "__main__":
    main()
