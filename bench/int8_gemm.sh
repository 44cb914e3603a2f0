#!/usr/bin/env bash
# The W8A8 int8 kernels (qrt_uk_s8_*, include/qopt/Runtime/UKernels.h)
# against our fp32 sgemm and ONNX Runtime, side by side in one run, for
# Y[M, 4096] = X[M, 4096] W[4096, 4096], M in {1, 16, 128, 512}, with the same
# thread count on every side:
#  - qopt fp32: qrt_uk_sgemm_packed (weights packed ahead of time);
#  - qopt int8, for every implementation this CPU can run (portable only up
#    to M = 16, it takes seconds beyond): `lin` = qrt_uk_s8_linear_f32 (f32
#    X quantized per row on every call, then the int8 GEMM; what ORT's
#    dynamically quantized graph does) and `gemm` = qrt_uk_s8_gemm (X given
#    as int8);
#  - ORT int8: onnxruntime-node running DynamicQuantizeLinear + MatMulInteger
#    + Cast + Mul (bench/models/int8_matmul/make_int8_matmul.py, the graph
#    quantize_dynamic writes; ORT fuses it into DynamicQuantizeMatMul);
#  - ORT fp32: the same product as one MatMul (bench/models/matmul).
# GOP/s = 2*M*N*K / time. Each side's time is the best of all its runs
# over all rounds (the machine is shared: other processes slow any run down,
# never speed it up); the rounds interleave the sides so that each sees the
# same load. Prints the CPU model, the load before and after, a GOP/s table
# and the ratios int8 / qopt fp32 and int8 / ORT int8.
#
# usage: bench/int8_gemm.sh [--rounds R] [--min-time S] [THREADS...]
#        (default: 3 rounds, 0.5 s per qopt measurement, threads 1 2)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib.sh"
rounds=3
min_time=0.5
threads=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --min-time) min_time="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) threads+=("$1"); shift ;;
  esac
done
[ ${#threads[@]} -gt 0 ] || threads=(1 2)

configure_and_build qrt qrt-int8-ukernel-bench
ensure_ort
work="$QOPT_BUILD/bench/int8_gemm"
models="$QOPT_BUILD/bench/int8_matmul"
mkdir -p "$work"
python3 "$root/bench/models/int8_matmul/make_int8_matmul.py" --out "$models" >/dev/null
python3 "$root/bench/models/matmul/make_matmul.py" --out "$QOPT_BUILD/bench/matmul" >/dev/null
bench="$QOPT_BUILD/bin/qrt-int8-ukernel-bench"
ort="node $root/utils/ort/ort-run.mjs"
results="$work/results.jsonl"
: >"$results"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
load_before="$(loadavg)"
ort_bench() {  # KERNEL MODEL M THREADS
  local reps=20
  [ "$3" -ge 128 ] && reps=8
  $ort "$2" --input "A=$models/A_${3}x4096.npy" --threads "$4" --bench \
      --warmup 2 --repeat "$reps" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); k,m,t=sys.argv[1:4]; print(json.dumps({"kernel": k, "isa": "", "M": int(m), "threads": int(t), "best_ms": d["min_ms"], "median_ms": d["median_ms"]}))' \
      "$1" "$3" "$4" >>"$results"
}
for round in $(seq "$rounds"); do
  for t in "${threads[@]}"; do
    log "round $round/$rounds, $t thread(s): qopt (load $(loadavg))"
    "$bench" --json --threads="$t" --min-time="$min_time" >>"$results"
    log "round $round/$rounds, $t thread(s): ONNX Runtime"
    for m in 1 16 128 512; do
      ort_bench ort_int8 "$models/int8_matmul.onnx" "$m" "$t"
      ort_bench ort_f32 "$QOPT_BUILD/bench/matmul/matmul_dyn.onnx" "$m" "$t"
    done
  done
done

python3 - "$results" "$load_before" "$(loadavg)" <<'PY'
import json, subprocess, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
best = {}
for r in rows:
    key = (r["kernel"], r["isa"], r["M"], r["threads"])
    best[key] = min(best.get(key, 1e30), r["best_ms"])
gops = {k: 2 * k[2] * 4096 * 4096 / (ms * 1e-3) * 1e-9 for k, ms in best.items()}
isas = []
for (kernel, isa, _, _) in best:
    if kernel == "s8_linear_f32" and isa not in isas:
        isas.append(isa)
model = next((l.split(":", 1)[1].strip() for l in subprocess.run(
    ["lscpu"], capture_output=True, text=True).stdout.splitlines()
    if l.startswith("Model name")), "?")
print(f"\nCPU: {model}; load average before {sys.argv[2]}, after {sys.argv[3]}")
print("GOP/s of M x 4096 x 4096 (best run of each side); int8 columns are "
      "`lin` (f32 X, quantized per call) / `gemm` (int8 X)")
threads = sorted({k[3] for k in best})
ms = sorted({k[2] for k in best})
head = f"{'M':>4} {'thr':>3} {'qopt f32':>9} {'ORT f32':>8} {'ORT int8':>9}"
for isa in isas:
    head += f" {isa:>17}"
print(head)
def g(kernel, isa, m, t):
    v = gops.get((kernel, isa, m, t))
    return f"{v:.0f}" if v else "-"
for t in threads:
    for m in ms:
        line = (f"{m:4d} {t:3d} {g('sgemm_f32', '', m, t):>9} "
                f"{g('ort_f32', '', m, t):>8} {g('ort_int8', '', m, t):>9}")
        for isa in isas:
            line += f" {g('s8_linear_f32', isa, m, t) + ' / ' + g('s8_gemm', isa, m, t):>17}"
        print(line)
print("\nratios of int8 `lin` to qopt fp32 | to ORT int8")
head = f"{'M':>4} {'thr':>3}"
for isa in isas:
    head += f" {isa:>19}"
print(head)
for t in threads:
    for m in ms:
        line = f"{m:4d} {t:3d}"
        for isa in isas:
            v = gops.get(("s8_linear_f32", isa, m, t))
            f32 = gops.get(("sgemm_f32", "", m, t))
            ort = gops.get(("ort_int8", "", m, t))
            cell = f"{v / f32:.2f}x | {v / ort:.2f}x" if v and f32 and ort else "-"
            line += f" {cell:>19}"
        print(line)
PY
