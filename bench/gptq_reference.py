#!/usr/bin/env python3
"""PyTorch reference GPTQ timing: the GPTQ authors' `fasterquant` on one
layer, to compare with qopt's pass (bench/gptq_layer.sh).

The algorithm is the reference's (f32 like the original: Hessian, Cholesky
of H^-1 upper, lazy block updates of 128 columns, int4, groups of 128,
static groups with --act-order), with qopt's grid (symmetric narrow range)
so that the arithmetic per column is the same as the pass's; qopt computes
in f64, so expect it to be slower per FLOP on a GPU, not on a CPU of the
same threads. The Hessian comes from TOKENS synthetic tokens (default 128 x
2048) with channel scales over 100x, as in bench/gptq_layer.sh; its
accumulation is timed apart (the `add_batch` of the reference).

    python3 bench/gptq_reference.py                      # cpu and cuda
    python3 bench/gptq_reference.py --device cpu --threads 2
    python3 bench/gptq_reference.py --rows 4096 --cols 4096 --dtype float64

Prints one line per device: GPTQ time, Hessian time, and with --qopt-seconds
S (this machine's bench/gptq_layer.sh number) the ratio qopt / reference.
"""

import argparse
import math
import time

import torch


def quantize(x, scale, zero, qmin, qmax):
    q = torch.clamp(torch.round(x / scale) + zero, qmin, qmax)
    return scale * (q - zero)


class Quantizer:
    def __init__(self, bits):
        self.qmax = 2 ** (bits - 1) - 1
        self.qmin = -self.qmax

    def find_params(self, x):
        lo = torch.clamp(x.min(dim=1).values, max=0)
        hi = torch.clamp(x.max(dim=1).values, min=0)
        scale = torch.maximum(-lo, hi) / self.qmax
        scale[scale == 0] = 1
        self.scale = scale.unsqueeze(1)
        self.zero = torch.zeros_like(self.scale)

    def __call__(self, x):
        return quantize(x, self.scale, self.zero, self.qmin, self.qmax)


def fasterquant(W, H, bits=4, blocksize=128, percdamp=0.01, groupsize=128,
                actorder=False):
    """The reference implementation's loop (GPTQ repository, gptq.py)."""
    W = W.clone()
    H = H.clone()
    columns = W.shape[1]
    quantizer = Quantizer(bits)
    quantizer.find_params(W)
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    groups = []
    if actorder and groupsize != -1:
        for i in range(0, columns, groupsize):
            q = Quantizer(bits)
            q.find_params(W[:, i:i + groupsize])
            groups.append(q)
    if actorder:
        perm = torch.argsort(torch.diag(H), descending=True)
        W = W[:, perm]
        H = H[perm][:, perm]
        invperm = torch.argsort(perm)
    Q = torch.zeros_like(W)
    damp = percdamp * torch.mean(torch.diag(H))
    diag = torch.arange(columns, device=W.device)
    H[diag, diag] += damp
    H = torch.linalg.cholesky(H)
    H = torch.cholesky_inverse(H)
    H = torch.linalg.cholesky(H, upper=True)
    Hinv = H
    for i1 in range(0, columns, blocksize):
        i2 = min(i1 + blocksize, columns)
        count = i2 - i1
        W1 = W[:, i1:i2].clone()
        Q1 = torch.zeros_like(W1)
        Err1 = torch.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        for i in range(count):
            w = W1[:, i]
            d = Hinv1[i, i]
            if groupsize != -1:
                if not actorder:
                    if (i1 + i) % groupsize == 0:
                        quantizer.find_params(W[:, (i1 + i):(i1 + i + groupsize)])
                else:
                    quantizer = groups[int(perm[i1 + i]) // groupsize]
            q = quantizer(w.unsqueeze(1)).flatten()
            Q1[:, i] = q
            err1 = (w - q) / d
            W1[:, i:] -= err1.unsqueeze(1).matmul(Hinv1[i, i:].unsqueeze(0))
            Err1[:, i] = err1
        Q[:, i1:i2] = Q1
        W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])
    if actorder:
        Q = Q[:, invperm]
    return Q


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def run(device, args, dtype):
    gen = torch.Generator(device="cpu").manual_seed(0)
    rows, cols = args.rows, args.cols
    W = (torch.randn(rows, cols, generator=gen) * 0.02).to(device, dtype)
    mix = (torch.eye(cols) + 0.3 * torch.randn(cols, cols, generator=gen) /
           math.sqrt(cols)).to(device)
    scale = torch.exp(torch.empty(cols).uniform_(-2.3, 2.3, generator=gen)).to(device)
    # Hessian accumulation (the reference's add_batch), 2048 tokens a batch.
    sync(device)
    start = time.perf_counter()
    H = torch.zeros(cols, cols, device=device, dtype=dtype)
    done = 0
    while done < args.tokens:
        n = min(2048, args.tokens - done)
        X = (torch.randn(n, cols, device=device) @ mix) * scale
        H += (2.0 * X.T @ X).to(dtype)
        done += n
    H /= args.tokens
    sync(device)
    hessian_s = time.perf_counter() - start
    times = []
    for _ in range(args.repeat):
        sync(device)
        start = time.perf_counter()
        fasterquant(W, H, bits=args.bits, groupsize=args.group_size,
                    actorder=args.act_order)
        sync(device)
        times.append(time.perf_counter() - start)
    gptq_s = min(times)
    name = (torch.cuda.get_device_name(device) if device.type == "cuda"
            else f"cpu, {torch.get_num_threads()} threads")
    line = (f"reference gptq {rows}x{cols} int{args.bits} g{args.group_size}"
            f"{' act-order' if args.act_order else ''} {dtype} on {name}: "
            f"{gptq_s:.2f} s (Hessian of {args.tokens} tokens: "
            f"{hessian_s:.2f} s)")
    if args.qopt_seconds:
        line += f"; qopt / reference = {args.qopt_seconds / gptq_s:.2f}"
    print(line, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    ap.add_argument("--threads", type=int, default=0,
                    help="CPU threads (default: torch's)")
    ap.add_argument("--rows", type=int, default=4096)
    ap.add_argument("--cols", type=int, default=4096)
    ap.add_argument("--tokens", type=int, default=128 * 2048)
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--group-size", type=int, default=128)
    ap.add_argument("--act-order", action="store_true")
    ap.add_argument("--dtype", choices=["float32", "float64"],
                    default="float32")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--qopt-seconds", type=float, default=0.0,
                    help="qopt's time for the same layer, for the ratio")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    devices = []
    if args.device in ("cpu", "all"):
        devices.append(torch.device("cpu"))
    if args.device in ("cuda", "all") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    for device in devices:
        run(device, args, dtype)


if __name__ == "__main__":
    main()
