#!/usr/bin/env bash
# W8A8 through the whole compiler: artifacts built by qopt-compile and timed
# by `qrun bench`, fp32 against W8A8 dynamic (qopt-quantize-w8a8: int8
# weights per channel, int8 activations per token, run on the int8 kernels
# qrt_uk_quantize_rows_s8 + qrt_uk_s8_gemm) with the same thread count:
#  - one linear layer Y[M, 4096] = X[M, 4096] W[4096, 4096]
#    (bench/models/matmul's matmul_dyn.onnx, quantize-head=true since its
#    only layer is the graph's output), M in {1, 16, 128, 512}: GOP/s =
#    2*M*N*K / time;
#  - the bundled model (models/bytellama2: 42 linear layers of K = 256 or
#    512, an fp32 head, attention) at input_ids 1x1, 1x128, 1x512 and
#    8x128, also against RTN int8 weight-only (qopt-rtn-weight-only), whose
#    activations stay f32, and against ONNX Runtime (onnxruntime-node,
#    utils/ort) running the fp32 model and its dynamically quantized form:
#    every constant-weight MatMul as DynamicQuantizeLinear + MatMulInteger
#    + Cast + Mul, the graph onnxruntime.quantization.quantize_dynamic writes
#    (bench/models/ort_dynamic/quantize_dynamic.py; ORT fuses each chain
#    into DynamicQuantizeMatMul), same thread count (intra-op threads).
# Each time is the best of all runs over all rounds (the machine is shared:
# other processes only slow a run down); the rounds interleave the sides so
# that each sees the same load. Prints the CPU (lscpu model name, its
# AMX/VNNI/AVX-512 flags), the int8 implementation the runtime picks
# ($QRT_UK_S8_ISA forces one), the load before and after, and the ratios.
#
# usage: bench/w8a8_e2e.sh [--rounds R] [THREADS...]
#        (default: 3 rounds, threads 1 2)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib.sh"
rounds=3
threads=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) threads+=("$1"); shift ;;
  esac
done
[ ${#threads[@]} -gt 0 ] || threads=(1 2)

configure_and_build qopt-compile qrun qrt qrt-int8-ukernel-bench
ensure_ort
bin="$QOPT_BUILD/bin"
work="$QOPT_BUILD/bench/w8a8_e2e"
mkdir -p "$work"
ort="node $root/utils/ort/ort-run.mjs"
python3 "$root/bench/models/matmul/make_matmul.py" \
  --out "$QOPT_BUILD/bench/matmul" >/dev/null
model="$root/models/bytellama2/model.onnx"

compile() {  # OUT INPUT [PRE-PIPELINE]
  local out="$work/$1.so"
  if [ ! -f "$out" ] || [ "$out" -ot "$bin/qopt-compile" ] ||
     [ "$out" -ot "${BASH_SOURCE[0]}" ]; then
    log "compiling $1"
    "$bin/qopt-compile" "$2" ${3:+--pre-pipeline="$3"} -o "$out" \
      2>"$work/$1.log" || { cat "$work/$1.log" >&2; exit 1; }
  fi
}
compile linear_fp32 "$QOPT_BUILD/bench/matmul/matmul_dyn.onnx"
compile linear_w8a8 "$QOPT_BUILD/bench/matmul/matmul_dyn.onnx" \
  'qopt-quantize-w8a8{activations=dynamic quantize-head=true}'
compile model_fp32 "$model"
compile model_rtn8 "$model" \
  'qopt-rtn-weight-only{bits=8 granularity=per-channel}'
compile model_w8a8 "$model" 'qopt-quantize-w8a8{activations=dynamic}'
# ORT's int8 model (Debian's python3-onnx and numpy: /usr/bin/python3) and
# the token ids ORT reads (qrun bench makes its own random ones).
ort_int8="$work/model_ort_int8.onnx"
if [ ! -f "$ort_int8" ] || [ "$ort_int8" -ot "$model" ] ||
   [ "$ort_int8" -ot "$root/bench/models/ort_dynamic/quantize_dynamic.py" ]; then
  log "quantizing $model for ONNX Runtime (quantize_dynamic's graph)"
  /usr/bin/python3 "$root/bench/models/ort_dynamic/quantize_dynamic.py" \
    "$model" "$ort_int8" >"$work/model_ort_int8.log"
fi
for s in 1x1 1x128 1x512 8x128; do
  /usr/bin/python3 -c 'import numpy as np, sys; r, c = map(int, sys.argv[1].split("x"))
np.save(sys.argv[2], np.random.default_rng(r * 10007 + c).integers(0, 256, (r, c), dtype=np.int64))' \
    "$s" "$work/ids_$s.npy"
done

results="$work/results.jsonl"
: >"$results"
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
load_before="$(loadavg)"
bench() {  # ARTIFACT THREADS SHAPE...
  local art="$1" t="$2"
  shift 2
  local shapes=()
  for s in "$@"; do shapes+=(--shape "$s"); done
  "$bin/qrun" bench "$work/$art.so" "${shapes[@]}" --warmup 2 --repeat 10 \
      --threads "$t" --json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); a,t=sys.argv[1:3]
for r in d["runs"]: print(json.dumps({"artifact": a, "threads": int(t), "shape": r["shape"], "best_ms": r["min_ms"], "median_ms": r["median_ms"]}))' \
      "$art" "$t" >>"$results"
}
ort_bench() {  # NAME MODEL SHAPE THREADS
  $ort "$2" --input "input_ids=$work/ids_$3.npy" --threads "$4" --bench \
      --warmup 2 --repeat 10 |
    python3 -c 'import json,sys; d=json.load(sys.stdin); a,s,t=sys.argv[1:4]; print(json.dumps({"artifact": a, "threads": int(t), "shape": "input_ids=" + s, "best_ms": d["min_ms"], "median_ms": d["median_ms"]}))' \
      "$1" "$3" "$4" >>"$results"
}
for round in $(seq "$rounds"); do
  for t in "${threads[@]}"; do
    log "round $round/$rounds, $t thread(s) (load $(loadavg))"
    for side in fp32 w8a8; do
      bench "linear_$side" "$t" A=1x4096 A=16x4096 A=128x4096 A=512x4096
    done
    for side in fp32 rtn8 w8a8; do
      bench "model_$side" "$t" input_ids=1x1 input_ids=1x128 input_ids=1x512 \
        input_ids=8x128
    done
    for s in 1x1 1x128 1x512 8x128; do
      ort_bench model_ort_fp32 "$model" "$s" "$t"
      ort_bench model_ort_int8 "$ort_int8" "$s" "$t"
    done
  done
done

cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
flags="$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
  grep -E '^(avx2|avx512f|avx512_vnni|avx_vnni|amx_tile|amx_int8)$' | tr '\n' ' ')"
isa="$("$bin/qrt-int8-ukernel-bench" --print-isa)"
python3 - "$results" "$cpu" "$flags" "$isa" "$load_before" "$(loadavg)" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cpu, flags, isa, before, after = sys.argv[2:7]
best, med = {}, {}
for r in rows:
    key = (r["artifact"], r["threads"], r["shape"])
    best[key] = min(best.get(key, 1e30), r["best_ms"])
    med.setdefault(key, []).append(r["median_ms"])
threads = sorted({r["threads"] for r in rows})
print(f"\nCPU: {cpu}; flags: {flags.strip()}; int8 kernels: {isa}")
print(f"load average before {before}, after {after}; best of "
      f"{len(med[next(iter(med))])} rounds x 10 runs (ms)\n")
print("One linear layer, K = N = 4096 (GOP/s = 2*M*N*K / best time):\n")
print("| M | threads | fp32 ms | W8A8 ms | fp32 GOP/s | W8A8 GOP/s | speed-up |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for t in threads:
    for m in (1, 16, 128, 512):
        shape = f"A={m}x4096"
        f, w = best[("linear_fp32", t, shape)], best[("linear_w8a8", t, shape)]
        ops = 2 * m * 4096 * 4096
        print(f"| {m} | {t} | {f:.3f} | {w:.3f} | {ops / f / 1e6:.0f} | "
              f"{ops / w / 1e6:.0f} | {f / w:.2f}x |")
print("\nmodels/bytellama2 end to end (qrun bench, best ms):\n")
print("| input_ids | threads | fp32 | RTN int8 | W8A8 dynamic | RTN int8 speed-up | W8A8 speed-up |")
print("|---|---:|---:|---:|---:|---:|---:|")
for t in threads:
    for s in ("1x1", "1x128", "1x512", "8x128"):
        shape = "input_ids=" + s
        f = best[("model_fp32", t, shape)]
        r = best[("model_rtn8", t, shape)]
        w = best[("model_w8a8", t, shape)]
        print(f"| {s} | {t} | {f:.2f} | {r:.2f} | {w:.2f} | {f / r:.2f}x | "
              f"{f / w:.2f}x |")
print("\nAgainst ONNX Runtime (best ms; int8 = quantize_dynamic's graph, "
      "MatMulInteger; ratios > 1: qopt faster):\n")
print("| input_ids | threads | qopt fp32 | ORT fp32 | qopt W8A8 | ORT int8 | "
      "fp32: ORT ms / qopt ms | int8: ORT ms / qopt ms | ORT int8 speed-up over ORT fp32 |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for t in threads:
    for s in ("1x1", "1x128", "1x512", "8x128"):
        shape = "input_ids=" + s
        f = best[("model_fp32", t, shape)]
        w = best[("model_w8a8", t, shape)]
        of = best[("model_ort_fp32", t, shape)]
        oi = best[("model_ort_int8", t, shape)]
        print(f"| {s} | {t} | {f:.2f} | {of:.2f} | {w:.2f} | {oi:.2f} | "
              f"{of / f:.2f}x | {oi / w:.2f}x | {of / oi:.2f}x |")
PY
