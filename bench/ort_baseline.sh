#!/usr/bin/env bash
# ONNX Runtime (onnxruntime-node, CPU) side of the issue-4 speed benchmarks:
#  - llama25m (bench/models/llama25m) fp32 forward, batch 1 and 8 x seq 128
#    and 512: median latency, plus session load time;
#  - single MatMul [M,4096] x [4096,4096], M = 1 and 512
#    (bench/models/matmul): GFLOP/s with THREADS threads and with 1;
#  - the machine's fp32 FMA peak (bench/peak_flops.c).
# Regenerates weights/models/inputs under build/bench when missing. Prints a
# table and writes all results as JSON.
#
# usage: bench/ort_baseline.sh [THREADS] [OUT.json]
#   THREADS default: number of cores; OUT default build/bench/ort_baseline.json
#   BENCH_WAIT_IDLE=SECONDS: before each case, wait up to SECONDS for the
#   CPUs to be at least 90% idle (on a shared machine); the idle share seen
#   is recorded with each result.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib.sh"
threads="${1:-$(nproc)}"
out="${2:-$QOPT_BUILD/bench/ort_baseline.json}"
work="$QOPT_BUILD/bench"
mkdir -p "$work"
ensure_ort
python3 "$root/bench/models/llama25m/make_weights.py" >/dev/null
python3 "$root/bench/models/llama25m/make_inputs.py" --out "$work/llama25m" >/dev/null
python3 "$root/bench/models/matmul/make_matmul.py" --out "$work/matmul" >/dev/null
run="node $root/utils/ort/ort-run.mjs"
results="$work/ort_baseline.jsonl"
: >"$results"

idle_pct() {  # % of CPU time idle over one second
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  echo $(( total ? 100 * (b[4] - a[4]) / total : 100 ))
}

idle=100
wait_idle() {
  local deadline=$((SECONDS + ${BENCH_WAIT_IDLE:-0}))
  idle="$(idle_pct)"
  while [ "$idle" -lt 90 ] && [ "$SECONDS" -lt "$deadline" ]; do
    idle="$(idle_pct)"
  done
}

bench() {  # LABEL MODEL INPUT THREADS WARMUP REPEAT
  wait_idle
  log "ORT $1, $4 thread(s) (CPU idle before: $idle%)"
  $run "$2" --input "$3" --threads "$4" --bench --warmup "$5" --repeat "$6" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); d["label"]=sys.argv[1]; d["idle_before_pct"]=int(sys.argv[2]); print(json.dumps(d))' "$1" "$idle" \
    >>"$results"
}

llama="$root/bench/models/llama25m/model.onnx"
for shape in 1x128 1x512 8x128 8x512; do
  reps=10; [ "$shape" = 8x512 ] && reps=5
  bench "llama25m $shape" "$llama" "input_ids=$work/llama25m/input_ids_$shape.npy" \
    "$threads" 2 "$reps"
done
for m in 1 512; do
  for t in $(printf '%s\n' "$threads" 1 | sort -u); do
    reps=50; [ "$m" = 512 ] && reps=10
    bench "matmul m$m" "$work/matmul/matmul_m$m.onnx" "A=$work/matmul/A_${m}x4096.npy" "$t" 3 "$reps"
    bench "matmul dyn m$m" "$work/matmul/matmul_dyn.onnx" "A=$work/matmul/A_${m}x4096.npy" "$t" 3 "$reps"
  done
done
wait_idle
log "peak flops (CPU idle before: $idle%)"
peak="$(bash "$root/bench/peak_flops.sh" "$threads" | tail -1)"

python3 - "$results" "$out" "$peak" <<'PY'
import json, os, platform, sys, time
rows = [json.loads(l) for l in open(sys.argv[1])]
peak = json.loads(sys.argv[3])
print(f"\n{'case':22} {'threads':>7} {'load ms':>8} {'median ms':>10} "
      f"{'min ms':>8} {'GFLOP/s':>8} {'% peak':>7} {'idle':>5}")
for r in rows:
    gf = pct = ""
    if r["label"].startswith("matmul"):
        m = r["inputs"]["A"]["shape"][0]
        g = 2 * m * 4096 * 4096 / (r["median_ms"] * 1e-3) * 1e-9
        roof = peak["single_core_gflops"] if r["threads"] == 1 else peak["all_core_gflops"]
        r["gflops"], r["pct_peak"] = round(g, 1), round(100 * g / roof, 1)
        gf, pct = f"{g:.1f}", f"{100 * g / roof:.0f}%"
    print(f"{r['label']:22} {r['threads']:7d} {r['load_ms']:8.0f} "
          f"{r['median_ms']:10.2f} {r['min_ms']:8.2f} {gf:>8} {pct:>7} "
          f"{r['idle_before_pct']:4d}%")
print(f"\npeak fp32 FMA: {peak['single_core_gflops']} GFLOP/s one core, "
      f"{peak['all_core_gflops']} GFLOP/s {peak['threads']} cores")
load = os.getloadavg()
print(f"load average after the run: {load[0]:.2f}; 'idle' is the share of "
      f"CPU time idle just before each case: other processes skew the numbers")
json.dump({"date": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.node(),
           "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                        if l.startswith("model name")), "?"),
           "loadavg": load, "peak": peak, "results": rows},
          open(sys.argv[2], "w"), indent=1)
print(f"wrote {sys.argv[2]}")
PY
