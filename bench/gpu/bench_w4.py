#!/usr/bin/env python3
"""int4 weight-only GEMM on the GPU: qopt's generated kernels vs torch.

Runs on the device machine (CUDA + PyTorch, no LLVM): loads the kernels that
`qopt-gpu-kernel-gen` built (cubin, and the PTX through the driver's JIT as a
check) through libqrt's CUDA device (ctypes), checks them against torch on
fresh random data, and times them against torch fp16 (cuBLAS), torch's int4
kernel (aten._weight_int4pack_mm, bf16) and a device-to-device copy. Every
timing is a CUDA graph of back-to-back calls over rotated weight copies
(together >= 256 MB, so nothing stays in the 50 MB L2), timed with events;
the median of several replays. bench/gpu/run_device.sh calls this.
"""
import argparse
import ctypes
import math
import os
import statistics
import sys

import torch

ROT_BYTES = 256 << 20


def die(msg):
    print("bench_w4: " + msg, file=sys.stderr)
    sys.exit(1)


class QRT:
    """libqrt's CUDA device and int4 packer (include/qopt/Runtime/qrt_cuda.h,
    GPUKernelABI.h) through ctypes."""

    class Cfg(ctypes.Structure):
        _fields_ = [("max_m", ctypes.c_int32), ("tiles_per_warp", ctypes.c_int32),
                    ("warps_per_block", ctypes.c_int32),
                    ("groups_per_iter", ctypes.c_int32)]

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
        L.qrt_cuda_w4_gemm.argtypes = [vp, vp, ctypes.POINTER(QRT.Cfg), u64, u64,
                                       u64, u64, i64, i64, i64, i64, vp]
        L.qrt_gpu_w4_pack.argtypes = [i64, i64, vp, vp, vp, vp]
        self.dev = vp()
        self.check(L.qrt_cuda_open(0, ctypes.byref(self.dev)), "qrt_cuda_open")

    def check(self, status, what):
        if status != 0:
            die("%s: status %d: %s" % (what, status,
                                        self.lib.qrt_last_error().decode()))

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

    def pack(self, q, s):
        """q: int8 [N, K] (cpu), s: f32 [N, K/128] (cpu) -> packed (cpu)."""
        n, k = q.shape
        pw = torch.empty(n * k // 2, dtype=torch.uint8)
        ps = torch.empty(n * (k // 128), dtype=torch.int16)
        q, s = q.contiguous(), s.contiguous()
        r = self.lib.qrt_gpu_w4_pack(n, k, q.data_ptr(), s.data_ptr(),
                                     pw.data_ptr(), ps.data_ptr())
        if r != 0:
            die("qrt_gpu_w4_pack failed")
        return pw, ps

    def gemm(self, fn, cfg, a, w, s, c, m, n, k, splits):
        st = torch.cuda.current_stream().cuda_stream
        self.check(self.lib.qrt_cuda_w4_gemm(self.dev, fn, ctypes.byref(cfg), a, w, s,
                                             c, m, n, k, splits, ctypes.c_void_p(st)),
                   "qrt_cuda_w4_gemm")


def graph_time(fn, copies, reps=5, calls=None):
    """Seconds per call of fn(i): a CUDA graph of `calls` calls rotating over
    `copies` inputs, replayed `reps` times; the median."""
    if calls is None:
        calls = max(copies * 4, 64)
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


def copy_bandwidth():
    """Device-to-device copy of 1 GiB (bytes read + written), the best of a
    float32 copy_ and cudaMemcpyAsync (tensor.copy_ of contiguous tensors of
    one dtype is a memcpy)."""
    n = 1 << 28
    src = torch.randn(n, device="cuda")
    dst = torch.empty_like(src)
    t1 = graph_time(lambda i: dst.copy_(src), 1, reps=5, calls=20)
    t2 = graph_time(lambda i: torch.add(src, 0.0, out=dst), 1, reps=5, calls=20)
    print("copy: copy_ %.0f GB/s, add-kernel %.0f GB/s" % (8 * n / t1 / 1e9, 8 * n / t2 / 1e9))
    return 8 * n / min(t1, t2)


def rtn_int4(w):
    """Symmetric int4 RTN in groups of 128 (qopt-quantize-weights-rtn:
    narrow range, scale = absmax / 7). w: f32 [N, K] -> q int8, s f32."""
    n, k = w.shape
    g = w.view(n, k // 128, 128)
    s = g.abs().amax(-1) / 7.0
    s = torch.where(s == 0, torch.ones_like(s), s)
    q = torch.clamp(torch.round(g / s[..., None]), -7, 7).to(torch.int8)
    return q.view(n, k), s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=".devwork/gpu")
    ap.add_argument("--out", default=None)
    ap.add_argument("--quick", action="store_true", help="one shape, no sweep")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.cuda.init()
    torch.empty(1, device="cuda")
    # QRT_LIB: one libqrt for several carried folders (device_all.sh).
    qrt = QRT(os.environ.get("QRT_LIB", os.path.join(args.dir, "libqrt.so")))
    name, sms, ma, mi = qrt.info()
    props = torch.cuda.get_device_properties(0)
    print("device: %s (%d SMs, sm_%d%d), L2 %d MB, torch %s" %
          (name, sms, ma, mi, props.L2_cache_size >> 20, torch.__version__))

    configs = []
    for line in open(os.path.join(args.dir, "kernels.txt")):
        f = line.strip().split(",")
        if len(f) < 4:
            continue
        configs.append(tuple(map(int, f[:4])) + (len(f) == 5 and f[4] == "p",))
    cubin = qrt.load(os.path.join(args.dir, "kernels.cubin"))
    ptxmod = qrt.load(os.path.join(args.dir, "kernels.ptx"))  # driver JIT
    kern = {}
    for c in configs:
        kname = "qopt_w4g128_gemm_m%d_t%d_w%d_u%d" % c[:4] + ("_p" if c[4] else "")
        kern[c] = (qrt.function(cubin, kname), QRT.Cfg(*c[:4]), qrt.function(ptxmod, kname))
    print("loaded %d kernels from kernels.cubin and kernels.ptx" % len(kern))

    bw = copy_bandwidth()
    print("copy bandwidth (read + write): %.0f GB/s" % (bw / 1e9))

    shapes = [(4096, 4096), (8192, 8192), (4096, 14336), (14336, 4096)]  # K x N
    ms = [1, 16]
    if args.quick:
        shapes, ms = [(4096, 4096)], [1, 16]
    rows = []
    worst_err = 0.0
    for (K, N) in shapes:
        w = torch.randn(N, K, device="cuda") * 0.02
        q, s = rtn_int4(w)
        pw, ps = qrt.pack(q.cpu(), s.float().cpu())
        s16 = ps.view(torch.float16)  # packed order; reference uses s rounded:
        s_ref = s.half().float()
        wdq = (q.float().view(N, K // 128, 128) * s_ref[..., None]).view(N, K)
        wbytes = pw.numel() + ps.numel() * 2
        copies = max(2, math.ceil(ROT_BYTES / wbytes))
        pws = [pw.cuda() for _ in range(copies)]
        pss = [ps.cuda() for _ in range(copies)]
        # torch baselines' weights, also rotated.
        w16 = wdq.half()
        f16_copies = max(2, math.ceil(ROT_BYTES / (N * K * 2)))
        w16s = [w16.clone() for _ in range(f16_copies)]
        try:
            wu8 = torch.randint(0, 256, (N, K // 2), dtype=torch.uint8, device="cuda")
            tp = torch.ops.aten._convert_weight_to_int4pack(wu8, 8)
            sz = torch.randn(K // 128, N, 2, device="cuda").to(torch.bfloat16) * 0.01
            tps = [tp.clone() for _ in range(copies)]
        except Exception as e:  # noqa: BLE001
            tps = None
            print("torch int4 kernel unavailable: %s" % str(e).splitlines()[0])
        for M in ms:
            a = (torch.randn(M, K, device="cuda")).half()
            ref = (a.double() @ wdq.double().t())
            c = torch.empty(M, N, device="cuda", dtype=torch.float32)
            best = None
            for cfg, (fn, ccfg, fnptx) in kern.items():
                if cfg[0] < M or N % (8 * cfg[1]) or K % (128 * cfg[3]):
                    continue
                iters = K // (128 * cfg[3])
                for splits in [1, 2, 4, 8, 16, 32]:
                    if splits > iters:
                        break
                    ok = True
                    for which, f in (("cubin", fn), ("ptx", fnptx)):
                        if which == "ptx" and splits != 1:
                            continue
                        c.fill_(float("nan"))
                        qrt.gemm(f, ccfg, a.data_ptr(), pws[0].data_ptr(), pss[0].data_ptr(),
                                 c.data_ptr(), M, N, K, splits)
                        torch.cuda.synchronize()
                        err = ((c.double() - ref).norm() / ref.norm()).item()
                        if not math.isfinite(err) or err > 1e-4:
                            print("WRONG: %s K=%d N=%d M=%d cfg=%s splits=%d rel err %.3g" %
                                  (which, K, N, M, cfg, splits, err))
                            d = (c.double() - ref).abs()
                            bad = (d > 1e-3 * ref.abs().max()) | ~torch.isfinite(c)
                            idx = bad.nonzero()[:8].tolist()
                            print("   bad count %d of %d, first %s" % (bad.sum().item(), bad.numel(), idx))
                            for (i0, j0) in idx[:4]:
                                print("   c[%d,%d]=%g ref=%g" % (i0, j0, c[i0, j0].item(), ref[i0, j0].item()))
                            err = float("inf")
                            ok = False
                        worst_err = max(worst_err, err)
                    if not ok:
                        continue
                    t = graph_time(lambda i: qrt.gemm(fn, ccfg, a.data_ptr(), pws[i].data_ptr(),
                                                      pss[i].data_ptr(), c.data_ptr(), M, N, K,
                                                      splits), copies)
                    if best is None or t < best[0]:
                        best = (t, cfg, splits)
            if best is None:
                rows.append((K, N, M, None, None, None, None, None))
                continue
            t_ours, cfg, splits = best
            t_f16 = graph_time(lambda i: torch.nn.functional.linear(a, w16s[i]), f16_copies)
            t_t4 = None
            if tps is not None:
                ab = a.to(torch.bfloat16)
                try:
                    t_t4 = graph_time(lambda i: torch.ops.aten._weight_int4pack_mm(ab, tps[i], 128, sz),
                                      copies)
                except Exception as e:  # noqa: BLE001
                    print("torch int4 kernel failed: %s" % str(e).splitlines()[0])
            bytes_ours = wbytes + M * K * 2 + M * N * 4
            rows.append((K, N, M, t_ours, cfg, splits, t_f16, t_t4, bytes_ours / t_ours / bw))
            print("K=%d N=%d M=%d: ours %.2f us (cfg %s, splits %d, %.0f GB/s), "
                  "cuBLAS fp16 %.2f us, torch int4 %s" %
                  (K, N, M, t_ours * 1e6, cfg, splits, bytes_ours / t_ours / 1e9, t_f16 * 1e6,
                   "%.2f us" % (t_t4 * 1e6) if t_t4 else "n/a"))
        del pws, pss, w16s

    print()
    print("device %s; copy bandwidth %.0f GB/s; worst rel error (all kernels/splits) %.2e" %
          (name, bw / 1e9, worst_err))
    print("%-12s %3s %9s %9s %9s %7s %8s %8s  %s" % ("KxN", "M", "ours us", "fp16 us", "int4t us",
                                                   "%copy", "x fp16", "x int4t", "cfg/splits"))
    cfgstr = lambda c: ",".join(map(str, c[:4])) + (",p" if c[4] else "")
    for r in rows:
        K, N, M = r[:3]
        if r[3] is None:
            print("%-12s %3d  no kernel fits" % ("%dx%d" % (K, N), M))
            continue
        t, cfg, splits, tf, tt, frac = r[3:]
        print("%-12s %3d %9.2f %9.2f %9s %6.0f%% %8.2f %8s  %s/%d" %
              ("%dx%d" % (K, N), M, t * 1e6, tf * 1e6, "%.2f" % (tt * 1e6) if tt else "n/a",
               frac * 100, tf / t, "%.2f" % (tt / t) if tt else "n/a", cfgstr(cfg),
               splits))
    if worst_err == float("inf"):
        sys.exit(1)


if __name__ == "__main__":
    main()
