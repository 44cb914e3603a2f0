#!/usr/bin/env python3
"""Trains, exports and scores bytellama, the bundled capability model.

A byte-level (vocab 256, token id = byte value) decoder-only transformer of
the Llama architecture (transformers.LlamaForCausalLM: RMSNorm, RoPE, SwiGLU,
grouped-query attention), context 1024, trained on the deterministic data of
data.py, exported with the dynamo ONNX exporter (opset 20, external data),
checked against onnxruntime and scored on the eval suites in evals/.

Usage (on a machine with a CUDA GPU, from the repository root)::

    python3 models/bytellama/train.py --steps 9000 --max-minutes 8 --out OUTDIR

writes OUTDIR/model.onnx, OUTDIR/model.onnx.data, OUTDIR/ckpt.pt,
OUTDIR/metrics.json and prints learning curves and the final score table.
``--steps 0 --resume ckpt.pt`` only exports and scores a checkpoint.

Requires torch, transformers, onnx, onnxscript, onnxruntime, numpy.
"""

import argparse
import json
import math
import multiprocessing as mp
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402

SUITES = data.TASKS
SEQ = data.SEQ
ROW = SEQ + 1


def make_config():
    import transformers
    return transformers.LlamaConfig(
        vocab_size=256, hidden_size=256, intermediate_size=768,
        num_hidden_layers=6, num_attention_heads=8, num_key_value_heads=4,
        max_position_embeddings=SEQ, rms_norm_eps=1e-5,
        tie_word_embeddings=False, use_cache=False)


def load_suites(root, limit=None):
    suites = {}
    for s in SUITES:
        with open(os.path.join(root, s + ".jsonl")) as f:
            cases = [json.loads(l) for l in f if l.strip()]
        suites[s] = cases[:limit] if limit else cases
    return suites


def exact_match(logits_fn, cases, batch=32):
    """Teacher-forced greedy exact match.

    For each case, prompt+answer bytes go through one forward pass; the case
    is correct iff at every answer position the argmax of the logits at the
    previous position equals the answer byte.  This equals greedy decoding
    of len(answer) bytes compared to the answer (the answer ends in "\\n",
    so stopping is checked too).  logits_fn: int64 array [B, T] -> argmax
    array [B, T]."""
    import numpy as np
    items = []
    for c in cases:
        p, a = c["prompt"].encode(), c["answer"].encode()
        items.append((p + a, len(p)))
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    correct = 0
    for k in range(0, len(order), batch):
        idx = order[k:k + batch]
        T = max(len(items[i][0]) for i in idx) - 1
        ids = np.zeros((len(idx), T), dtype=np.int64)
        for r, i in enumerate(idx):
            seq = items[i][0][:-1]
            ids[r, :len(seq)] = np.frombuffer(seq, dtype=np.uint8)
        am = logits_fn(ids)
        for r, i in enumerate(idx):
            full, lp = items[i]
            tgt = np.frombuffer(full[lp:], dtype=np.uint8)
            if np.array_equal(am[r, lp - 1:len(full) - 1], tgt):
                correct += 1
    return correct / len(cases)


def prose_nll(logprob_fn, text):
    """Mean negative log-likelihood (nats/byte) of text, in chunks of SEQ
    bytes; every byte but the first of each chunk is predicted."""
    import numpy as np
    b = text.encode()
    total, n = 0.0, 0
    for k in range(0, len(b) - 1, SEQ):
        chunk = b[k:k + SEQ]
        if len(chunk) < 2:
            break
        ids = np.frombuffer(chunk, dtype=np.uint8).astype(np.int64)[None]
        lp = logprob_fn(ids)[0]  # [T, 256] log-softmax
        tgt = ids[0, 1:]
        total -= float(lp[np.arange(len(tgt)), tgt].sum())
        n += len(tgt)
    return total / n


def gen_chunk(args):
    chunk, rows, progress = args
    return chunk, data.train_chunk(chunk, rows, progress)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=9000)
    ap.add_argument("--max-minutes", type=float, default=8.0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--answer-weight", type=float, default=3.0)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--eval-limit", type=int, default=100)
    ap.add_argument("--workers", type=int, default=12)
    ap.add_argument("--compile", type=int, default=0)
    ap.add_argument("--resume", default=None)
    ap.add_argument("--evals", default=os.path.join(HERE, "..", "..", "evals"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--skip-ort-score", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    # Data workers first (fork before CUDA is initialised).
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

    import hashlib
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
        res = {s: exact_match(torch_argmax, c, 64)
               for s, c in suites_small.items()}
        res["prose_ppl"] = math.exp(prose_nll(torch_logprob, prose))
        model.train()
        return res

    curves = []
    train_seconds = 0.0
    if args.steps > 0:
        decay, no_decay = [], []
        for n, p in model.named_parameters():
            (no_decay if p.ndim < 2 else decay).append(p)
        opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": 0.1},
             {"params": no_decay, "weight_decay": 0.0}],
            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=True)

        def lr_at(step):
            if step < args.warmup:
                return args.lr * (step + 1) / args.warmup
            t = (step - args.warmup) / max(1, args.steps - args.warmup)
            return args.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * min(1, t))))

        def loss_fn(inp, tgt, w):
            lg = model(input_ids=inp).logits
            l = F.cross_entropy(lg.float().view(-1, 256), tgt.reshape(-1),
                                reduction="none")
            return (l * w.view(-1)).sum() / w.sum()

        step_fn = torch.compile(loss_fn) if args.compile else loss_fn
        work = ((i, args.batch, min(1.0, i / args.steps))
                for i in range(args.steps))
        it = pool.imap(gen_chunk, work, chunksize=1)
        model.train()
        t0 = time.time()
        tlast = t0
        ema = None
        step = 0
        for step in range(args.steps):
            _, (d, m) = next(it)
            x = torch.frombuffer(bytearray(d), dtype=torch.uint8).view(
                args.batch, ROW).to(dev, non_blocking=True).long()
            mk = torch.frombuffer(bytearray(m), dtype=torch.uint8).view(
                args.batch, ROW).to(dev, non_blocking=True).float()
            w = 1.0 + (args.answer_weight - 1.0) * mk[:, 1:]
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            with torch.autocast("cuda", torch.bfloat16):
                loss = step_fn(x[:, :-1], x[:, 1:], w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if step % 50 == 0:
                lv = loss.item()
                ema = lv if ema is None else 0.8 * ema + 0.2 * lv
            elapsed = time.time() - t0
            last = (step == args.steps - 1 or
                    elapsed > args.max_minutes * 60)
            if step % args.eval_every == 0 and step > 0 or last:
                res = quick_eval()
                res.update(step=step, seconds=round(time.time() - t0, 1),
                           loss=round(ema, 4), lr=lr_at(step))
                curves.append(res)
                print("step %5d %6.1fs loss %.3f | %s | ppl %.3f" % (
                    step, res["seconds"], ema, " ".join(
                        "%s %.2f" % (s[:6], res[s]) for s in SUITES),
                    res["prose_ppl"]), flush=True)
            if last:
                break
        torch.cuda.synchronize()
        train_seconds = time.time() - t0
        print("trained %d steps in %.1f s (%d tokens)" % (
            step + 1, train_seconds, (step + 1) * args.batch * SEQ),
            flush=True)
        pool.terminate()
        torch.save(model.state_dict(), os.path.join(args.out, "ckpt.pt"))

    # ---- fp32 torch scores -------------------------------------------------
    model.eval()
    suites = load_suites(args.evals)
    t1 = time.time()
    torch_scores = {s: exact_match(lambda i: torch_argmax(i, False), c, 64)
                    for s, c in suites.items()}
    torch_scores["prose_ppl"] = math.exp(
        prose_nll(lambda i: torch_logprob(i, False), prose))
    print("torch fp32 scores (%.1fs): %s" % (time.time() - t1, json.dumps(
        {k: round(v, 4) for k, v in torch_scores.items()})), flush=True)

    # ---- export ------------------------------------------------------------
    import onnx
    import onnxruntime as ort
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
    path = os.path.join(args.out, "model.onnx")
    if os.path.exists(path + ".data"):
        os.remove(path + ".data")
    onnx.save_model(proto, path, save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data",
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
    for shape in ((2, 8), (4, 64), (1, 1024)):
        ids = rng.integers(0, 256, size=shape, dtype=np.int64)
        (o,) = sess.run(["logits"], {"input_ids": ids})
        with torch.no_grad():
            ref = wrap(torch.from_numpy(ids)).numpy()
        diffs["%dx%d" % shape] = float(np.abs(o - ref).max())
    print("torch vs ORT max abs diff:", diffs, flush=True)

    ort_scores = {}
    if not args.skip_ort_score:
        t1 = time.time()

        def ort_argmax(ids):
            return sess.run(["logits"], {"input_ids": ids})[0].argmax(-1)

        def ort_logprob(ids):
            lg = sess.run(["logits"], {"input_ids": ids})[0].astype(
                np.float64)
            lg -= lg.max(-1, keepdims=True)
            return lg - np.log(np.exp(lg).sum(-1, keepdims=True))

        ort_scores = {s: exact_match(ort_argmax, c, 16)
                      for s, c in suites.items()}
        ort_scores["prose_ppl"] = math.exp(prose_nll(ort_logprob, prose))
        print("ORT fp32 scores (%.1fs)" % (time.time() - t1), flush=True)

    chance = {}
    for s, cases in suites.items():
        counts = {}
        for c in cases:
            counts[c["answer"]] = counts.get(c["answer"], 0) + 1
        ch = sum((v / len(cases)) ** 2 for v in counts.values())
        if s == "long_context":
            ch = max(ch, sum(1 / c["n_records"] for c in cases) / len(cases))
        chance[s] = ch
    print("\n%-14s %5s %8s %8s %8s" % ("suite", "n", "chance", "torch",
                                       "ort"))
    for s in SUITES:
        print("%-14s %5d %8.3f %8.3f %8s" % (
            s, len(suites[s]), chance[s], torch_scores[s],
            "%.3f" % ort_scores[s] if s in ort_scores else "-"))
    print("%-14s %5s %8s %8.4f %8s" % (
        "prose ppl", "", "", torch_scores["prose_ppl"],
        "%.4f" % ort_scores["prose_ppl"] if ort_scores else "-"))
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"params": nparams, "train_seconds": train_seconds,
                   "steps": args.steps, "batch": args.batch,
                   "device": torch.cuda.get_device_name(),
                   "versions": {"torch": torch.__version__,
                                "transformers": transformers.__version__,
                                "onnx": onnx.__version__,
                                "onnxruntime": ort.__version__},
                   "curves": curves, "torch_fp32": torch_scores,
                   "ort_fp32": ort_scores, "chance": chance,
                   "torch_vs_ort_max_abs_diff": diffs,
                   "args": vars(args)}, f, indent=1)


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
