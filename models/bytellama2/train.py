#!/usr/bin/env python3
"""Trains, exports and scores bytellama2, the capacity-bound bundled model.

A byte-level (vocab 256, token id = byte value) decoder-only transformer of
the Llama architecture (transformers.LlamaForCausalLM: RMSNorm, RoPE, SwiGLU,
grouped-query attention), context 2048, trained for a fixed wall-clock
budget on data.py's mix of real Debian text (code and prose) and harder
synthetic skills, exported with the dynamo ONNX exporter (opset 20, external
data), checked against onnxruntime and scored on the suites in evals/v2/.

Usage (on a machine with a CUDA GPU, from the repository root; the corpus
built by ``data.py corpus`` must be in --corpus)::

    python3 models/bytellama2/train.py --max-minutes 7 --est-steps 11000 \\
        --corpus .devwork/corpus --out OUTDIR

The learning rate follows the wall clock (linear warm-up over the first
--warmup steps, then a cosine from the peak to 10% of it at --max-minutes),
so the schedule ends when the time budget does.  The long-context
curriculum follows the step index relative to --est-steps, so the data
stream is a function of the step index alone.  Writes OUTDIR/model.onnx,
OUTDIR/model.onnx.data, OUTDIR/ckpt.pt, OUTDIR/metrics.json and prints
learning curves and the final score table.  ``--steps 0 --resume ckpt.pt``
only exports and scores a checkpoint.

Requires torch, transformers, onnx, onnxscript, onnxruntime, numpy.
"""

import argparse
import hashlib
import json
import math
import multiprocessing as mp
import os
import random
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402

T_START = time.time()
SUITES = data.TASKS
SEQ = data.SEQ
ROW = SEQ + 1
PPL_CHUNK = 1024  # as qrun eval: perplexity over chunks of 1024 bytes


def make_config():
    import transformers
    return transformers.LlamaConfig(
        vocab_size=256, hidden_size=256, intermediate_size=512,
        num_hidden_layers=6, num_attention_heads=8, num_key_value_heads=4,
        max_position_embeddings=SEQ, rms_norm_eps=1e-5,
        tie_word_embeddings=False, use_cache=False)


def load_suites(root, limit=None):
    suites = {}
    for s in SUITES:
        with open(os.path.join(root, s + ".jsonl")) as f:
            cases = [json.loads(l) for l in f if l.strip()]
        if limit:
            # A fixed random sample (cases of one kind can be periodic).
            cases = random.Random("quick-" + s).sample(
                cases, min(limit, len(cases)))
        suites[s] = cases
    return suites


def batches(lengths, max_rows, max_tokens):
    """Indices sorted by length, grouped so that rows * longest <=
    max_tokens (at least one row) and rows <= max_rows."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    out, cur = [], []
    for i in order:
        if cur and (len(cur) >= max_rows or
                    (len(cur) + 1) * lengths[i] > max_tokens):
            out.append(cur)
            cur = []
        cur.append(i)
    if cur:
        out.append(cur)
    return out


def exact_match(argmax_fn, cases, max_rows=64, max_tokens=64 * 1024,
                per_kind=None):
    """Teacher-forced greedy exact match.

    For each case, prompt+answer bytes go through one forward pass; the case
    is correct iff at every answer position the argmax of the logits at the
    previous position equals the answer byte.  This equals greedy decoding
    of len(answer) bytes compared to the answer (the answer ends in "\\n",
    so stopping is checked too).  argmax_fn: int64 array [B, T] -> argmax
    array [B, T].  per_kind (a dict) collects (n, correct) per case kind."""
    import numpy as np
    items = []
    for c in cases:
        p, a = c["prompt"].encode(), c["answer"].encode()
        items.append((p + a, len(p)))
    correct = 0
    for idx in batches([len(x) - 1 for x, _ in items], max_rows,
                       max_tokens):
        T = max(len(items[i][0]) for i in idx) - 1
        ids = np.zeros((len(idx), T), dtype=np.int64)
        for r, i in enumerate(idx):
            seq = items[i][0][:-1]
            ids[r, :len(seq)] = np.frombuffer(seq, dtype=np.uint8)
        am = argmax_fn(ids)
        for r, i in enumerate(idx):
            full, lp = items[i]
            tgt = np.frombuffer(full[lp:], dtype=np.uint8)
            ok = bool(np.array_equal(am[r, lp - 1:len(full) - 1], tgt))
            correct += ok
            if per_kind is not None:
                kd = str(cases[i].get("kind"))
                n, c = per_kind.get(kd, (0, 0))
                per_kind[kd] = (n + 1, c + int(ok))
    return correct / len(cases)


def prose_nll(logprob_fn, text):
    """Mean negative log-likelihood (nats/byte) of text, in chunks of
    PPL_CHUNK bytes; every byte but the first of each chunk is predicted."""
    import numpy as np
    b = text.encode()
    total, n = 0.0, 0
    for k in range(0, len(b) - 1, PPL_CHUNK):
        chunk = b[k:k + PPL_CHUNK]
        if len(chunk) < 2:
            break
        ids = np.frombuffer(chunk, dtype=np.uint8).astype(np.int64)[None]
        lp = logprob_fn(ids)[0]  # [T, 256] log-softmax
        tgt = ids[0, 1:]
        total -= float(lp[np.arange(len(tgt)), tgt].sum())
        n += len(tgt)
    return total / n


def export_and_check(model, path, shapes=((2, 8), (4, 64), (1, 1024),
                                         (2, 2048))):
    """Exports model (moved to the CPU in fp32, eager attention) with the
    dynamo exporter to path (+ path.data), checks it, compares its logits
    with onnxruntime's; returns (ORT session, max abs diffs)."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch
    model = model.float().cpu()
    model.config._attn_implementation = "eager"
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")

    class Wrap(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.model = m

        def forward(self, input_ids):
            return self.model(input_ids=input_ids, use_cache=False,
                              return_dict=True).logits

    wrap = Wrap(model).eval()
    example = (torch.randint(0, 256, (2, 16), dtype=torch.int64),)
    batch = torch.export.Dim("batch")
    seqd = torch.export.Dim("seq", max=SEQ)
    with torch.no_grad():
        prog = torch.onnx.export(
            wrap, example, f=None, dynamo=True, opset_version=20,
            input_names=["input_ids"], output_names=["logits"],
            dynamic_shapes={"input_ids": {0: batch, 1: seqd}}, optimize=True)
    proto = prog.model_proto
    # Name the symbolic dims "batch" and "seq".
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    mapping = {d.dim_param: want for d, want in zip(dims, ("batch", "seq"))
               if d.HasField("dim_param") and d.dim_param != want}
    if mapping:
        pat = re.compile(r"\b(" + "|".join(map(re.escape, mapping)) + r")\b")
        for v in (list(proto.graph.input) + list(proto.graph.output) +
                  list(proto.graph.value_info)):
            if v.type.HasField("tensor_type"):
                for d in v.type.tensor_type.shape.dim:
                    if d.HasField("dim_param"):
                        d.dim_param = pat.sub(lambda m: mapping[m.group(1)],
                                              d.dim_param)
    # Drop exporter debug metadata (absolute paths, stack traces).
    for node in proto.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    for vals in (proto.graph.input, proto.graph.output,
                 proto.graph.value_info, proto.graph.initializer):
        for v in vals:
            del v.metadata_props[:]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if os.path.exists(path + ".data"):
        os.remove(path + ".data")
    onnx.save_model(proto, path, save_as_external_data=True,
                    all_tensors_to_one_file=True,
                    location=os.path.basename(path) + ".data",
                    size_threshold=1024)
    onnx.checker.check_model(path, full_check=False)
    m2 = onnx.load(path, load_external_data=False)
    io = [(v.name, [d.dim_param or d.dim_value
                    for d in v.type.tensor_type.shape.dim])
          for v in list(m2.graph.input) + list(m2.graph.output)]
    ops = {}
    for n in m2.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print("exported: opset %s io %s nodes %d data %d bytes" % (
        [(o.domain, o.version) for o in m2.opset_import], io,
        len(m2.graph.node), os.path.getsize(path + ".data")), flush=True)
    print("ops:", dict(sorted(ops.items())), flush=True)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 16
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    diffs = {}
    for shape in shapes:
        ids = rng.integers(0, 256, size=shape, dtype=np.int64)
        (o,) = sess.run(["logits"], {"input_ids": ids})
        with torch.no_grad():
            ref = wrap(torch.from_numpy(ids)).numpy()
        diffs["%dx%d" % shape] = float(np.abs(o - ref).max())
    print("torch vs ORT max abs diff:", diffs, flush=True)
    return sess, diffs


def gen_chunk(args):
    chunk, rows, progress = args
    return chunk, data.train_chunk(chunk, rows, progress)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100000,
                    help="step cap (training normally ends on the clock)")
    ap.add_argument("--est-steps", type=int, default=11000,
                    help="expected steps in --max-minutes (curriculum)")
    ap.add_argument("--max-minutes", type=float, default=7.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--answer-weight", type=float, default=3.0)
    ap.add_argument("--eval-every", type=int, default=1500)
    ap.add_argument("--eval-limit", type=int, default=100)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--resume", default=None)
    ap.add_argument("--corpus", default=".devwork/corpus")
    ap.add_argument("--evals", default=os.path.join(HERE, "..", "..",
                                                    "evals", "v2"))
    ap.add_argument("--deadline-minutes", type=float, default=9.3,
                    help="skip the full onnxruntime scoring past this "
                    "(minutes since start)")
    ap.add_argument("--precheck", default=None,
                    help="directory: export the untrained model there "
                    "first and check it against onnxruntime")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    # Corpus and data workers first (fork before CUDA is initialised).
    corpus = data.load_corpus(args.corpus)
    print("corpus sha256 %s: code %d bytes, prose %d bytes (train split)" % (
        corpus["sha256"], len(corpus["code"]), len(corpus["prose"])),
        flush=True)
    ctx = mp.get_context("fork")
    pool = ctx.Pool(args.workers) if args.steps > 0 else None

    import numpy as np
    import torch
    import torch.nn.functional as F
    import transformers

    torch.manual_seed(0)
    dev = "cuda"
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    cfg = make_config()
    cfg._attn_implementation = "sdpa"
    model = transformers.LlamaForCausalLM(cfg).to(dev)
    nparams = sum(p.numel() for p in model.parameters())
    print("params %d (%.2f MB fp32); %s" % (
        nparams, nparams * 4 / 1e6, torch.cuda.get_device_name()), flush=True)
    if args.resume:
        model.load_state_dict(torch.load(args.resume, map_location=dev))
        print("resumed from", args.resume, flush=True)

    precheck = None
    if args.precheck:
        # Export the model as it is now (a copy) and compare with
        # onnxruntime, so that an export problem shows before training.
        import copy
        tp = time.time()
        _, precheck = export_and_check(
            copy.deepcopy(model), os.path.join(args.precheck, "model.onnx"),
            shapes=((2, 8), (1, 2048)))
        print("precheck export OK (%.1f s)" % (time.time() - tp), flush=True)

    print("training data chunk 0 sha256 %s" % hashlib.sha256(
        data.train_chunk(0, args.batch, 0.0)[0]).hexdigest(), flush=True)
    suites_small = load_suites(args.evals, args.eval_limit)
    with open(os.path.join(args.evals, "prose_heldout.txt")) as f:
        prose = f.read()

    def torch_argmax(ids, autocast=True):
        with torch.no_grad(), torch.autocast("cuda", torch.bfloat16,
                                             enabled=autocast):
            lg = model(input_ids=torch.from_numpy(ids).to(dev)).logits
        return lg.argmax(-1).cpu().numpy()

    def torch_logprob(ids, autocast=True):
        with torch.no_grad(), torch.autocast("cuda", torch.bfloat16,
                                             enabled=autocast):
            lg = model(input_ids=torch.from_numpy(ids).to(dev)).logits
        return torch.log_softmax(lg.float(), -1).cpu().numpy()

    def quick_eval():
        model.eval()
        res = {s: exact_match(torch_argmax, c)
               for s, c in suites_small.items()}
        res["ppl"] = math.exp(prose_nll(torch_logprob, prose))
        model.train()
        return res

    curves = []
    train_seconds = 0.0
    steps_done = 0
    if args.steps > 0:
        decay, no_decay = [], []
        for n, p in model.named_parameters():
            (no_decay if p.ndim < 2 else decay).append(p)
        opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": 0.1},
             {"params": no_decay, "weight_decay": 0.0}],
            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=True)
        budget = args.max_minutes * 60

        def lr_at(step, elapsed):
            if step < args.warmup:
                return args.lr * (step + 1) / args.warmup
            t = min(1.0, elapsed / budget)
            return args.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * t)))

        def loss_fn(inp, tgt, w):
            lg = model(input_ids=inp).logits
            l = F.cross_entropy(lg.float().view(-1, 256), tgt.reshape(-1),
                                reduction="none")
            return (l * w.view(-1)).sum() / w.sum()

        work = ((i, args.batch, min(1.0, i / args.est_steps))
                for i in range(args.steps))
        it = pool.imap(gen_chunk, work, chunksize=1)
        model.train()
        t0 = time.time()
        eval_time = 0.0
        ema = None
        wait = 0.0
        step = 0
        for step in range(args.steps):
            tw = time.time()
            _, (d, m) = next(it)
            wait += time.time() - tw
            x = torch.frombuffer(bytearray(d), dtype=torch.uint8).view(
                args.batch, ROW).to(dev, non_blocking=True).long()
            mk = torch.frombuffer(bytearray(m), dtype=torch.uint8).view(
                args.batch, ROW).to(dev, non_blocking=True).float()
            w = 1.0 + (args.answer_weight - 1.0) * mk[:, 1:]
            elapsed = time.time() - t0 - eval_time
            for g in opt.param_groups:
                g["lr"] = lr_at(step, elapsed)
            with torch.autocast("cuda", torch.bfloat16):
                loss = loss_fn(x[:, :-1], x[:, 1:], w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if step % 50 == 0:
                lv = loss.item()
                ema = lv if ema is None else 0.8 * ema + 0.2 * lv
            elapsed = time.time() - t0 - eval_time
            last = step == args.steps - 1 or elapsed > budget
            if step % args.eval_every == 0 and step > 0 or last:
                te = time.time()
                res = quick_eval()
                eval_time += time.time() - te
                res.update(step=step, seconds=round(elapsed, 1),
                           loss=round(ema, 4), lr=lr_at(step, elapsed),
                           data_wait=round(wait, 1))
                curves.append(res)
                print("step %5d %6.1fs loss %.3f | %s | ppl %.3f | "
                      "data wait %.1fs" % (
                          step, res["seconds"], ema, " ".join(
                              "%s %.2f" % (s[:6], res[s]) for s in SUITES),
                          res["ppl"], wait), flush=True)
            if last:
                break
        torch.cuda.synchronize()
        steps_done = step + 1
        train_seconds = time.time() - t0 - eval_time
        print("trained %d steps in %.1f s (%d tokens; %.1f s in quick "
              "evals, %.1f s waiting for data)" % (
                  steps_done, train_seconds, steps_done * args.batch * SEQ,
                  eval_time, wait), flush=True)
        pool.terminate()
        torch.save(model.state_dict(), os.path.join(args.out, "ckpt.pt"))

    # ---- fp32 torch scores -------------------------------------------------
    model.eval()
    suites = load_suites(args.evals)
    t1 = time.time()
    torch_kinds = {s: {} for s in SUITES}
    torch_scores = {s: exact_match(lambda i: torch_argmax(i, False), c,
                                   per_kind=torch_kinds[s])
                    for s, c in suites.items()}
    torch_scores["ppl"] = math.exp(
        prose_nll(lambda i: torch_logprob(i, False), prose))
    print("torch fp32 scores (%.1fs): %s" % (time.time() - t1, json.dumps(
        {k: round(v, 4) for k, v in torch_scores.items()})), flush=True)
    for s in SUITES:
        print("  %-13s %s" % (s, " ".join(
            "%s %d/%d" % (k, c, n) for k, (n, c) in
            sorted(torch_kinds[s].items()))), flush=True)

    # ---- export ------------------------------------------------------------
    import onnxruntime as ort
    import onnx
    chance = {}
    for s, cases in suites.items():
        counts = {}
        for c in cases:
            counts[c["answer"]] = counts.get(c["answer"], 0) + 1
        ch = sum((v / len(cases)) ** 2 for v in counts.values())
        if s == "long_context":
            ch = max(ch, sum(1 / c["n_records"] for c in cases) / len(cases))
        chance[s] = ch
    state = {"diffs": {}, "ort": {}, "ort_kinds": {s: {} for s in SUITES}}

    def write_metrics():
        with open(os.path.join(args.out, "metrics.json"), "w") as f:
            json.dump({"params": nparams, "train_seconds": train_seconds,
                       "steps": steps_done, "batch": args.batch, "seq": SEQ,
                       "device": torch.cuda.get_device_name(),
                       "corpus_sha256": corpus["sha256"],
                       "versions": {"torch": torch.__version__,
                                    "transformers": transformers.__version__,
                                    "onnx": onnx.__version__,
                                    "onnxruntime": ort.__version__},
                       "curves": curves, "torch_fp32": torch_scores,
                       "torch_fp32_per_kind": torch_kinds,
                       "ort_fp32": state["ort"],
                       "ort_fp32_per_kind": state["ort_kinds"],
                       "chance": chance,
                       "torch_vs_ort_max_abs_diff": state["diffs"],
                       "precheck": precheck,
                       "total_seconds": time.time() - T_START,
                       "args": vars(args)}, f, indent=1)

    write_metrics()
    path = os.path.join(args.out, "model.onnx")
    sess, state["diffs"] = export_and_check(model, path)
    write_metrics()

    ort_scores = state["ort"]
    ort_kinds = state["ort_kinds"]
    t1 = time.time()

    def ort_argmax(ids):
        return sess.run(["logits"], {"input_ids": ids})[0].argmax(-1)

    def ort_logprob(ids):
        lg = sess.run(["logits"], {"input_ids": ids})[0].astype(np.float64)
        lg -= lg.max(-1, keepdims=True)
        return lg - np.log(np.exp(lg).sum(-1, keepdims=True))

    ort_scores["ppl"] = math.exp(prose_nll(ort_logprob, prose))
    for s in sorted(SUITES, key=lambda s: s == "long_context"):
        if time.time() - T_START > args.deadline_minutes * 60:
            print("deadline: ORT scoring of %s skipped" % s, flush=True)
            continue
        ort_scores[s] = exact_match(ort_argmax, suites[s], 16, 16 * 1024,
                                    per_kind=ort_kinds[s])
        write_metrics()
    print("ORT fp32 scores (%.1fs)" % (time.time() - t1), flush=True)

    print("\n%-14s %5s %8s %8s %8s" % ("suite", "n", "chance", "torch",
                                       "ort"))
    for s in SUITES:
        print("%-14s %5d %8.3f %8.3f %8s" % (
            s, len(suites[s]), chance[s], torch_scores[s],
            "%.3f" % ort_scores[s] if s in ort_scores else "-"))
    print("%-14s %5s %8s %8.4f %8.4f" % (
        "perplexity", "", "", torch_scores["ppl"], ort_scores["ppl"]))
    write_metrics()
    print("total %.1f s" % (time.time() - T_START), flush=True)

if __name__ == "__main__":
    # Exit hard so that data workers never keep the process alive.
    try:
        main()
    except BaseException:
        import traceback
        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
