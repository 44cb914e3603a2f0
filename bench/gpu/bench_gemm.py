#!/usr/bin/env python3
"""Hopper prefill GEMMs on the GPU: qopt's generated wgmma + TMA kernels vs
torch (cuBLAS / cuBLASLt).

Runs on the device machine (CUDA + PyTorch, no LLVM): loads the kernels that
`qopt-gpu-kernel-gen --gemm` built (cubin; the PTX through the driver's JIT as
a check) through libqrt's CUDA device (ctypes), checks every variant against
a float32 reference on fresh random data (output poisoned with NaN first,
and an odd shape that exercises the tile edges), and times the fastest
variant of each type against torch fp16 matmul (cuBLAS), torch._int_mm (s8,
int32 out, no scaling) and torch._scaled_mm (e4m3) on the same shapes, side by
side. C = A[M,K] x B[N,K]^T; s8 and e4m3 are scaled per row of A and per
column of B (W8A8) into f16. Every time is a CUDA graph of back-to-back
calls over rotated B copies (>= 256 MB together, more than the 50 MB L2),
timed with events, the median of 5 replays. run_gemm_device.sh calls this.
"""
import argparse
import ctypes
import math
import os
import statistics
import sys

import torch

ROT_BYTES = 256 << 20
TYPES = {"f16": 0, "bf16": 1, "s8": 2, "e4m3": 3}
OUTS = {"f16": 0, "f32": 1}


def die(msg):
    print("bench_gemm: " + msg, file=sys.stderr)
    sys.exit(1)


class Cfg(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int32), ("out", ctypes.c_int32),
                ("block_n", ctypes.c_int32), ("stages", ctypes.c_int32),
                ("consumers", ctypes.c_int32)]


class QRT:
    """libqrt's CUDA device and GEMM plans (include/qopt/Runtime/qrt_cuda.h)."""

    def __init__(self, path):
        L = self.lib = ctypes.CDLL(path)
        L.qrt_last_error.restype = ctypes.c_char_p
        vp, u64, i64 = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64
        L.qrt_cuda_open.argtypes = [ctypes.c_int, ctypes.POINTER(vp)]
        L.qrt_cuda_module_load_file.argtypes = [vp, ctypes.c_char_p, ctypes.POINTER(vp)]
        L.qrt_cuda_module_function.argtypes = [vp, ctypes.c_char_p, ctypes.POINTER(vp)]
        L.qrt_cuda_device_info.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t,
                                           ctypes.POINTER(ctypes.c_int),
                                           ctypes.POINTER(ctypes.c_int),
                                           ctypes.POINTER(ctypes.c_int)]
        L.qrt_cuda_gemm_plan_create.argtypes = [vp, vp, ctypes.POINTER(Cfg), u64, u64,
                                                i64, i64, i64, ctypes.POINTER(vp)]
        L.qrt_cuda_gemm_plan_launch.argtypes = [vp, u64, u64, u64, vp]
        L.qrt_cuda_gemm_plan_free.argtypes = [vp]
        self.dev = vp()
        self.check(L.qrt_cuda_open(0, ctypes.byref(self.dev)), "qrt_cuda_open")

    def check(self, status, what):
        if status != 0:
            raise RuntimeError("%s: status %d: %s" %
                               (what, status, self.lib.qrt_last_error().decode()))

    def info(self):
        name = ctypes.create_string_buffer(256)
        sms, ma, mi = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        self.check(self.lib.qrt_cuda_device_info(self.dev, name, 256, ctypes.byref(sms),
                                                 ctypes.byref(ma), ctypes.byref(mi)),
                   "device_info")
        return name.value.decode(), sms.value, ma.value, mi.value

    def load(self, path):
        mod = ctypes.c_void_p()
        self.check(self.lib.qrt_cuda_module_load_file(self.dev, path.encode(),
                                                      ctypes.byref(mod)), "load " + path)
        return mod

    def function(self, mod, name):
        fn = ctypes.c_void_p()
        self.check(self.lib.qrt_cuda_module_function(mod, name.encode(),
                                                     ctypes.byref(fn)), name)
        return fn

    def plan(self, fn, cfg, a, b, m, n, k):
        p = ctypes.c_void_p()
        self.check(self.lib.qrt_cuda_gemm_plan_create(self.dev, fn, ctypes.byref(cfg),
                                                      a.data_ptr(), b.data_ptr(), m, n, k,
                                                      ctypes.byref(p)), "plan_create")
        return p

    def launch(self, plan, c, sa, sb):
        st = torch.cuda.current_stream().cuda_stream
        self.check(self.lib.qrt_cuda_gemm_plan_launch(
            plan, c.data_ptr(), sa.data_ptr() if sa is not None else 0,
            sb.data_ptr() if sb is not None else 0, ctypes.c_void_p(st)), "plan_launch")

    def free(self, plan):
        self.lib.qrt_cuda_gemm_plan_free(plan)


def graph_time(fn, copies, reps=5, calls=None):
    """Seconds per call of fn(i): a CUDA graph of `calls` calls rotating over
    `copies` inputs, replayed `reps` times; the median."""
    if calls is None:
        calls = max(copies * 2, 32)
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for i in range(3):
            fn(i % copies)
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for i in range(calls):
            fn(i % copies)
    g.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        g.replay()
        e1.record()
        torch.cuda.synchronize()
        times.append(e0.elapsed_time(e1) / 1e3 / calls)
    del g
    return statistics.median(times)


def make_inputs(typ, m, n, k):
    """A, B (device, the kernel's element type), f32 scales (None for
    f16/bf16) and the float32 reference C."""
    if typ in ("f16", "bf16"):
        dt = torch.float16 if typ == "f16" else torch.bfloat16
        a = torch.randn(m, k, device="cuda").to(dt)
        b = (torch.randn(n, k, device="cuda") * 0.05).to(dt)
        ref = a.float() @ b.float().t()
        return a, b, None, None, ref
    if typ == "s8":
        a = torch.randint(-127, 128, (m, k), device="cuda", dtype=torch.int8)
        b = torch.randint(-127, 128, (n, k), device="cuda", dtype=torch.int8)
        acc = (a.double() @ b.double().t()).float()  # exact below 2^53
    else:
        a = torch.randn(m, k, device="cuda").to(torch.float8_e4m3fn)
        b = torch.randn(n, k, device="cuda").to(torch.float8_e4m3fn)
        acc = (a.double() @ b.double().t()).float()
    sa = torch.rand(m, device="cuda") * 1e-3 + 5e-4
    sb = torch.rand(n, device="cuda") * 1e-3 + 5e-4
    if typ == "e4m3":
        sa, sb = sa * 300, sb * 300
    ref = acc * sa[:, None] * sb[None, :]
    return a, b, sa, sb, ref


def rel_err(out, ref):
    out = out.float()
    if not torch.isfinite(out).all():
        return float("inf")
    return ((out.double() - ref.double()).norm() / ref.double().norm()).item()


def diagnose(out, ref):
    """Where a wrong result is wrong: NaN (unwritten) and bad fractions by
    row (mod 128, in blocks of 8) and column (mod 64, in blocks of 8)."""
    m, n = out.shape
    nan = ~torch.isfinite(out)
    badm = nan | ((out - ref).abs() > 1e-2 * ref.abs().max())
    print("   unwritten %d, bad %d of %d" % (nan.sum().item(), badm.sum().item(), badm.numel()))
    print("   out[0,:6] %s" % out[0, :6].tolist())
    print("   ref[0,:6] %s" % ref[0, :6].tolist())
    rows = torch.arange(m, device=out.device) % 128 // 8
    cols = torch.arange(n, device=out.device) % 64 // 8
    fr = [badm[rows == i].float().mean().item() for i in range(16)]
    fc = [badm[:, cols == j].float().mean().item() for j in range(8)]
    print("   bad by row block: %s" % " ".join("%.2f" % x for x in fr))
    print("   bad by col block: %s" % " ".join("%.2f" % x for x in fc))
    # Is it a K-ordering problem? Compare with the product over the first
    # 128 bytes of K only.
    print("   corr(out, ref) %.4f" % torch.corrcoef(torch.stack(
        [torch.nan_to_num(out).flatten(), ref.flatten()]))[0, 1].item())


TOL = {"f16": 2e-3, "bf16": 1e-2, "s8": 2e-3, "e4m3": 1e-2}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=".devwork/gpugemm")
    ap.add_argument("--quick", action="store_true", help="one shape")
    ap.add_argument("--smoke", action="store_true",
                    help="only the edge-shape checks")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.cuda.init()
    torch.empty(1, device="cuda")
    # QRT_LIB: one libqrt for several carried folders (device_all.sh).
    qrt = QRT(os.environ.get("QRT_LIB", os.path.join(args.dir, "libqrt.so")))
    name, sms, ma, mi = qrt.info()
    props = torch.cuda.get_device_properties(0)
    print("device: %s (%d SMs, sm_%d%d), L2 %d MB, torch %s" %
          (name, sms, ma, mi, props.L2_cache_size >> 20, torch.__version__))

    configs = []
    for line in open(os.path.join(args.dir, "gemm_kernels.txt")):
        f = line.strip().split(",")
        if len(f) == 5:
            configs.append((f[0], f[1], int(f[2]), int(f[3]), int(f[4])))
    cubin = qrt.load(os.path.join(args.dir, "gemm.cubin"))
    try:
        ptxmod = qrt.load(os.path.join(args.dir, "gemm.ptx"))  # driver JIT
    except RuntimeError as e:
        print("PTX load failed: %s" % e)
        ptxmod = None
    kern = {}
    for c in configs:
        kname = "qopt_gemm_%s_%s_n%d_s%d_c%d" % c
        kern[c] = (qrt.function(cubin, kname), Cfg(TYPES[c[0]], OUTS[c[1]], *c[2:]),
                   qrt.function(ptxmod, kname) if ptxmod else None)
    print("loaded %d kernels" % len(kern))

    worst = {}
    bad = []

    def check(c, fn, ccfg, a, b, sa, sb, ref, m, n, k, what):
        out_dt = torch.float16 if c[1] == "f16" else torch.float32
        cc = torch.full((m, n), float("nan"), device="cuda", dtype=out_dt)
        plan = qrt.plan(fn, ccfg, a, b, m, n, k)
        try:
            qrt.launch(plan, cc, sa, sb)
            torch.cuda.synchronize()
        finally:
            qrt.free(plan)
        err = rel_err(cc, ref)
        worst[c[0]] = max(worst.get(c[0], 0.0), err)
        if not (err <= TOL[c[0]]):
            bad.append((c, what, m, n, k, err))
            print("WRONG: %s %s M=%d N=%d K=%d rel err %.3g" % (c, what, m, n, k, err))
            if len(bad) <= 2:
                diagnose(cc.float(), ref)
        return cc, err

    # Tile edges: M, N, K not multiples of the tiles (zero-filled by TMA,
    # stores predicated), every variant, cubin and PTX.
    for c, (fn, ccfg, fnptx) in kern.items():
        m, n, k = 777, 264, 336
        a, b, sa, sb, ref = make_inputs(c[0], m, n, k)
        check(c, fn, ccfg, a, b, sa, sb, ref, m, n, k, "cubin-edge")
        if fnptx:
            check(c, fnptx, ccfg, a, b, sa, sb, ref, m, n, k, "ptx-edge")
    print("edge-shape checks done: %d wrong; worst %s" % (
        len(bad), ", ".join("%s %.2e" % kv for kv in worst.items())))
    if args.smoke:
        sys.exit(1 if bad else 0)

    shapes = [(4096, 4096), (8192, 8192), (4096, 14336), (14336, 4096)]  # K x N
    ms = [512, 4096]
    if args.quick:
        shapes, ms = [(8192, 8192)], [4096]
    rows = []
    for (K, N) in shapes:
        for M in ms:
            row = {"K": K, "N": N, "M": M}
            flop = 2.0 * M * N * K
            for typ in ("f16", "s8", "e4m3", "bf16"):
                a, b, sa, sb, ref = make_inputs(typ, M, N, K)
                copies = max(2, math.ceil(ROT_BYTES / b.numel() / b.element_size()))
                bs = [b] + [b.clone() for _ in range(copies - 1)]
                # torch's result and time on the same data.
                tt, terr, tname = None, None, ""
                try:
                    if typ == "f16":
                        tname = "cuBLAS f16"
                        tfn = lambda i: torch.nn.functional.linear(a, bs[i])
                    elif typ == "bf16":
                        tname = "cuBLAS bf16"
                        tfn = lambda i: torch.nn.functional.linear(a, bs[i])
                    elif typ == "s8":
                        tname = "_int_mm (s32 out)"
                        tfn = lambda i: torch._int_mm(a, bs[i].t())
                    else:
                        tname = "_scaled_mm rowwise"
                        sa2, sb2 = sa[:, None].contiguous(), sb[None, :].contiguous()
                        tfn = lambda i: torch._scaled_mm(a, bs[i].t(), scale_a=sa2,
                                                         scale_b=sb2,
                                                         out_dtype=torch.bfloat16)
                        try:
                            tfn(0)
                        except Exception:  # noqa: BLE001
                            tname = "_scaled_mm tensorwise"
                            one = torch.ones((), device="cuda")
                            tfn = lambda i: torch._scaled_mm(a, bs[i].t(), scale_a=one,
                                                             scale_b=one,
                                                             out_dtype=torch.float16)
                    tres = tfn(0)
                    torch.cuda.synchronize()
                    if typ == "s8":
                        tres = tres.float() * sa[:, None] * sb[None, :]
                    if tname != "_scaled_mm tensorwise":
                        terr = rel_err(tres, ref)
                    tt = graph_time(tfn, copies)
                except Exception as e:  # noqa: BLE001
                    print("torch %s failed: %s" % (typ, str(e).splitlines()[0]))
                    tres = None
                best = None
                for c, (fn, ccfg, _) in kern.items():
                    if c[0] != typ or c[1] != "f16":
                        continue
                    cc, err = check(c, fn, ccfg, a, b, sa, sb, ref, M, N, K, "cubin")
                    if not (err <= TOL[typ]):
                        continue
                    maxdiff = None
                    if tres is not None and tname != "_scaled_mm tensorwise":
                        maxdiff = (cc.float() - tres.float()).abs().max().item()
                    plans = [qrt.plan(fn, ccfg, a, bi, M, N, K) for bi in bs]
                    try:
                        t = graph_time(lambda i: qrt.launch(plans[i], cc, sa, sb), copies)
                    finally:
                        for p in plans:
                            qrt.free(p)
                    if best is None or t < best[0]:
                        best = (t, c, err, maxdiff)
                row[typ] = (best, tt, terr, tname)
                del bs
                print("K=%d N=%d M=%d %s: ours %s, torch %s %s" % (
                    K, N, M, typ,
                    "%.1f TF/s (%s, err %.2e, max|ours-torch| %s)" % (
                        flop / best[0] / 1e12, "n%d_s%d_c%d" % best[1][2:], best[2],
                        "%.3g" % best[3] if best[3] is not None else "n/a")
                    if best else "none",
                    tname, "%.1f TF/s (err %s)" % (flop / tt / 1e12,
                                                   "%.2e" % terr if terr is not None
                                                   else "n/a") if tt else "n/a"))
            rows.append(row)

    print()
    print("device %s; worst rel error vs f32 reference: %s; %d wrong" % (
        name, ", ".join("%s %.2e" % kv for kv in worst.items()), len(bad)))
    print("TFLOP/s (C = A[M,K] x B[N,K]^T); x16 = ours over cuBLAS fp16")
    hdr = "%-11s %4s %7s %7s %5s %7s %7s %5s %7s %7s %5s %7s %7s" % (
        "KxN", "M", "cuB16", "ours16", "x16", "intmm", "oursS8", "x16", "scmm",
        "oursF8", "x16", "cuBbf", "oursbf")
    print(hdr)
    for r in rows:
        def tf(t):
            return "%7.1f" % (2.0 * r["M"] * r["N"] * r["K"] / t / 1e12) if t else "    n/a"
        f16 = r["f16"][1]

        def ours(typ):
            best = r[typ][0]
            return best[0] if best else None

        def ratio(t):
            return "%5.2f" % (f16 / t) if t and f16 else "  n/a"
        print("%-11s %4d %s %s %s %s %s %s %s %s %s %s %s" % (
            "%dx%d" % (r["K"], r["N"]), r["M"], tf(f16), tf(ours("f16")),
            ratio(ours("f16")), tf(r["s8"][1]), tf(ours("s8")), ratio(ours("s8")),
            tf(r["e4m3"][1]), tf(ours("e4m3")), ratio(ours("e4m3")),
            tf(r["bf16"][1]), tf(ours("bf16"))))
    print("best variants:", "; ".join(
        "%dx%d/%d %s" % (r["K"], r["N"], r["M"], ",".join(
            "%s:n%d_s%d_c%d" % ((t,) + r[t][0][1][2:]) for t in ("f16", "s8", "e4m3", "bf16")
            if r[t][0])) for r in rows))
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
