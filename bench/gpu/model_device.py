#!/usr/bin/env python3
"""Whole models on the GPU: correctness and time (bench/gpu/model_device.sh).

For each model compiled by bench/gpu/prepare_model.sh, runs the CUDA
artifact (qrun --device cuda) on the inputs that prepare_model.sh ran the CPU
artifact on (`--make-refs`, on the build machine: the CPU artifacts stay
there so that the device call fits its 64 MiB limit) and prints the largest absolute and relative difference (relative to the
largest |value| of the CPU output) and the agreement of the arg-max; for
the fp32 model also against ONNX Runtime on models/bytellama2/model.onnx
(an independent reference). Then times one forward at several shapes with
`qrun bench` (GPU and CPU) and ONNX Runtime (CUDA EP when the installed
onnxruntime has it, else CPU).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def qrun(d, *args, check=True, extra_env=None):
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(d, "lib"))
    env.update(extra_env or {})
    try:
        r = subprocess.run([os.path.join(d, "bin", "qrun"), *args], env=env,
                           capture_output=True, text=True, timeout=150)
    except subprocess.TimeoutExpired as e:
        r = subprocess.CompletedProcess(e.cmd, 124, e.stdout or "",
                                        "timed out after 150 s")
    if check and r.returncode != 0:
        print("FAILED: qrun", " ".join(args), "\n", r.stdout, r.stderr,
              flush=True)
    return r


def run_artifact(d, art, device, name, x, tmp, extra_env=None):
    inp = os.path.join(tmp, "in.npy")
    np.save(inp, x)
    out = tempfile.mkdtemp(dir=tmp)
    r = qrun(d, "run", art, "--device", device, "--input", f"{name}={inp}",
             "--output-dir", out, extra_env=extra_env)
    if r.returncode != 0:
        return None, r
    files = sorted(os.listdir(out))
    return np.load(os.path.join(out, files[0])), r


def cases():
    """The checked inputs, the same on both machines (fixed seed)."""
    rng = np.random.default_rng(0)
    for rows in (1, 7, 300):
        yield ("mlp", f"x{rows}", "x",
               rng.uniform(-2, 2, size=(rows, 64)).astype(np.float32))
    for shape in ((1, 16), (1, 128), (4, 64)):
        ids = rng.integers(0, 256, size=shape, dtype=np.int64)
        for model in ("bl2_fp32", "bl2_int4"):
            yield (model, "x".join(map(str, shape)), "input_ids", ids)


def make_refs(d, cpu_dir):
    """On the build machine: the CPU artifacts' outputs, the reference."""
    ref = os.path.join(d, "ref")
    os.makedirs(ref, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for model, tag, name, x in cases():
            c, r = run_artifact(d, os.path.join(cpu_dir, f"{model}_cpu.so"),
                                "cpu", name, x, tmp)
            if c is None:
                print(r.stdout, r.stderr)
                return 1
            np.save(os.path.join(ref, f"{model}_{tag}.npy"), c)
    return 0


def compare(label, got, ref):
    if got is None or ref is None:
        print(f"  {label}: no result", flush=True)
        return False
    if got.shape != ref.shape:
        print(f"  {label}: shape {got.shape} vs {ref.shape}", flush=True)
        return False
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    scale = max(np.abs(ref).max(), 1e-30)
    agree = (got.reshape(-1, got.shape[-1]).argmax(-1) ==
             ref.reshape(-1, ref.shape[-1]).argmax(-1)).mean()
    ok = bool(np.isfinite(got).all() and diff.max() / scale < 1e-3)
    print(f"  {label}: max abs {diff.max():.3g}, max rel {diff.max() / scale:.3g}"
          f", arg-max agreement {agree * 100:.2f}% {'ok' if ok else 'FAIL'}",
          flush=True)
    return ok


def bench(d, art, device, shapes, repeat, extra_env=None):
    args = ["bench", art, "--device", device, "--json", "--warmup", "3",
            "--repeat", str(repeat)]
    for s in shapes:
        args += ["--shape", s]
    r = qrun(d, *args, extra_env=extra_env)
    if r.returncode != 0:
        return {}
    line = [l for l in r.stdout.splitlines() if l.startswith("{")][-1]
    j = json.loads(line)
    return {run["shape"]: run["median_ms"] for run in j["runs"]} | {
        "load_ms": j.get("load_ms")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.path.join(ROOT, ".devwork/cudamodel"))
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--make-refs", metavar="CPU_ARTIFACT_DIR",
                    help="write DIR/ref/ from the CPU artifacts, then exit")
    a = ap.parse_args()
    d = a.dir
    if a.make_refs:
        return make_refs(d, a.make_refs)
    art = os.path.join(d, "art")
    rng = np.random.default_rng(1)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        try:
            import onnxruntime as ort
            sess = ort.InferenceSession(
                os.path.join(ROOT, "models/bytellama2/model.onnx"),
                providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001
            print("onnxruntime unavailable:", e)
            sess = None
        print("== CUDA artifact vs the CPU artifact's output (build machine)"
              + (" and ONNX Runtime (fp32)" if sess else ""), flush=True)
        for model, tag, name, x in cases():
            c = np.load(os.path.join(d, "ref", f"{model}_{tag}.npy"))
            cuda = os.path.join(art, f"{model}_cuda.so")
            g, r = run_artifact(d, cuda, "cuda", name, x, tmp)
            if g is None:
                print(r.stdout, r.stderr)
            ok &= compare(f"{model} {tag} vs CPU", g, c)
            if model == "mlp":
                continue
            ga, r = run_artifact(d, cuda, "cuda", name, x, tmp,
                                 {"QRT_CUDA_SYNC": "1"})
            if ga is None:
                print(r.stdout, r.stderr)
            ok &= compare(f"{model} {tag} QRT_CUDA_SYNC=1 vs CPU", ga, c)
            if model == "bl2_fp32" and sess is not None:
                ref = sess.run(None, {"input_ids": x})[0]
                ok &= compare(f"{model} {tag} vs ONNX Runtime", g, ref)

        print("== time per forward (median ms; qrun bench)", flush=True)
        bshapes = ["input_ids=1x1", "input_ids=1x128", "input_ids=1x512",
                   "input_ids=8x128"]
        for model in ("bl2_fp32", "bl2_int4"):
            for device, env in (("cuda", None), ("cuda", {"QRT_CUDA_SYNC": "1"})):
                t = bench(d, os.path.join(art, f"{model}_{device}.so"), device,
                          bshapes, a.repeat, env)
                tag = " QRT_CUDA_SYNC=1 (wait after every launch)" if env else ""
                print(f"  {model} {device}{tag}: " + ", ".join(
                    f"{k} {v:.3f}" for k, v in t.items() if v is not None),
                      flush=True)
        try:
            import onnxruntime as ort
            avail = ort.get_available_providers()
            for prov in ("CUDAExecutionProvider", "CPUExecutionProvider"):
                if prov not in avail:
                    print(f"  onnxruntime {prov}: not available")
                    continue
                s = ort.InferenceSession(
                    os.path.join(ROOT, "models/bytellama2/model.onnx"),
                    providers=[prov])
                res = []
                for spec in bshapes:
                    shape = tuple(int(v) for v in spec.split("=")[1].split("x"))
                    ids = rng.integers(0, 256, size=shape, dtype=np.int64)
                    for _ in range(3):
                        s.run(None, {"input_ids": ids})
                    ts = []
                    for _ in range(a.repeat):
                        t0 = time.perf_counter()
                        s.run(None, {"input_ids": ids})
                        ts.append((time.perf_counter() - t0) * 1e3)
                    res.append(f"{spec} {sorted(ts)[len(ts) // 2]:.3f}")
                print(f"  onnxruntime {prov}: " + ", ".join(res), flush=True)
        except Exception as e:  # noqa: BLE001
            print("onnxruntime timing failed:", e)
    print("RESULT:", "all match" if ok else "MISMATCH", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
