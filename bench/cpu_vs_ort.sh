#!/usr/bin/env bash
# qopt's CPU artifacts against ONNX Runtime (onnxruntime-node, CPU), both
# sides in one run, same inputs, same thread count:
#  - llama25m (bench/models/llama25m, 25.7M parameters) fp32 forward at
#    batch 1 and 8 x sequence 128 and 512: median latency and the ratio
#    ORT / qopt (above 1: qopt is faster);
#  - one MatMul [M, 4096] x [4096, 4096] at M = 1 and 512: GFLOP/s of both,
#    and against the machine's measured fp32 peak (bench/peak_flops.sh);
#  - compile time of llama25m from ONNX to artifact, and load times.
#
# usage: bench/cpu_vs_ort.sh [THREADS]     (default: all cores)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib.sh"
threads="${1:-$(nproc)}"
work="$QOPT_BUILD/bench"
mkdir -p "$work"
ensure_ort
python3 "$root/bench/models/llama25m/make_weights.py" >/dev/null
python3 "$root/bench/models/llama25m/make_inputs.py" --out "$work/llama25m" >/dev/null
python3 "$root/bench/models/matmul/make_matmul.py" --out "$work/matmul" >/dev/null
bin="$QOPT_BUILD/bin"
ort="node $root/utils/ort/ort-run.mjs"
results="$work/cpu_vs_ort.jsonl"
: >"$results"

now() { date +%s.%N; }
start=$(now)
"$bin/qopt-compile" "$root/bench/models/llama25m/model.onnx" -o "$work/llama25m.so"
compile_s=$(python3 -c "print(round($(now) - $start, 1))")
for m in 1 512; do
  "$bin/qopt-compile" "$work/matmul/matmul_m$m.onnx" -o "$work/matmul_m$m.so"
done

record() {  # LABEL SIDE JSON
  python3 -c 'import json,sys; d=json.loads(sys.argv[3]); d["label"]=sys.argv[1]; d["side"]=sys.argv[2]; print(json.dumps(d))' \
    "$1" "$2" "$3" >>"$results"
}
qopt_bench() {  # LABEL ARTIFACT SHAPE REPEAT THREADS
  log "qopt $1 ($5 threads)"
  local out
  out=$("$bin/qrun" bench "$2" --shape "$3" --warmup 2 --repeat "$4" --threads "$5" --json)
  record "$1" qopt "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); r=d["runs"][0]; print(json.dumps({"threads": d["threads"], "load_ms": d["load_ms"], "median_ms": r["median_ms"], "min_ms": r["min_ms"]}))' "$out")"
}
ort_bench() {  # LABEL MODEL INPUT REPEAT THREADS
  log "ORT $1 ($5 threads)"
  local out
  out=$($ort "$2" --input "$3" --threads "$5" --bench --warmup 2 --repeat "$4")
  record "$1" ort "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(json.dumps({"threads": d["threads"], "load_ms": d["load_ms"], "median_ms": d["median_ms"], "min_ms": d["min_ms"]}))' "$out")"
}

for shape in 1x128 1x512 8x128 8x512; do
  reps=10; [ "$shape" = 8x512 ] && reps=5
  qopt_bench "llama25m $shape" "$work/llama25m.so" "input_ids=$shape" "$reps" "$threads"
  ort_bench "llama25m $shape" "$root/bench/models/llama25m/model.onnx" \
    "input_ids=$work/llama25m/input_ids_$shape.npy" "$reps" "$threads"
done
for m in 1 512; do
  for t in $(printf '%s\n' "$threads" 1 | sort -u); do
    reps=50; [ "$m" = 512 ] && reps=10
    qopt_bench "matmul m$m" "$work/matmul_m$m.so" "A=${m}x4096" "$reps" "$t"
    ort_bench "matmul m$m" "$work/matmul/matmul_m$m.onnx" "A=$work/matmul/A_${m}x4096.npy" "$reps" "$t"
  done
done
peak="$(bash "$root/bench/peak_flops.sh" "$threads" | tail -1)"

python3 - "$results" "$peak" "$compile_s" <<'PY'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
peak = json.loads(sys.argv[2])
by = {}
for r in rows:
    by.setdefault((r["label"], r["threads"]), {})[r["side"]] = r
print(f"\n{'case':18} {'thr':>3} {'qopt ms':>9} {'ORT ms':>9} {'ORT/qopt':>9}"
      f" {'qopt GF/s':>10} {'ORT GF/s':>9} {'qopt %pk':>9}")
for (label, t), sides in by.items():
    q, o = sides["qopt"], sides["ort"]
    ratio = o["median_ms"] / q["median_ms"]
    extra = ""
    if label.startswith("matmul"):
        m = int(label.split("m")[-1])
        flops = 2 * m * 4096 * 4096
        gq = flops / (q["median_ms"] * 1e-3) * 1e-9
        go = flops / (o["median_ms"] * 1e-3) * 1e-9
        roof = peak["single_core_gflops"] if t == 1 else peak["all_core_gflops"]
        extra = f" {gq:10.1f} {go:9.1f} {100 * gq / roof:8.0f}%"
    print(f"{label:18} {t:3d} {q['median_ms']:9.2f} {o['median_ms']:9.2f}"
          f" {ratio:8.2f}x{extra}")
q_load = [r["load_ms"] for r in rows if r["side"] == "qopt" and r["label"].startswith("llama")]
o_load = [r["load_ms"] for r in rows if r["side"] == "ort" and r["label"].startswith("llama")]
print(f"\nllama25m compile (ONNX -> artifact): {sys.argv[3]} s; load: qopt "
      f"{min(q_load):.1f} ms, ORT session {min(o_load):.1f} ms")
print(f"peak fp32 FMA: {peak['single_core_gflops']} GFLOP/s one core, "
      f"{peak['all_core_gflops']} GFLOP/s {peak['threads']} cores; load "
      f"average now {os.getloadavg()[0]:.2f}")
PY
