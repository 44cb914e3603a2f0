#!/usr/bin/env bash
# Decode-shaped matrix-vector products (M = 1) with weight-only quantization:
# qopt's fp32, RTN int8 (per channel) and RTN int4 (groups of 128) artifacts
# against each other and against ONNX Runtime's fp32 (onnxruntime-node, CPU),
# in one run, same input and thread count. Each model holds 4 layers of
# [K, N] weights (bench/models/decode/make_decode.py): (8192, 8192) and
# (4096, 14336), 1 GiB and 896 MiB in fp32, so every run streams all weights
# from memory. Prints time per layer, the weight bandwidth it implies (fp32
# bytes, so all rows compare the same work) and the speed-ups.
#
# usage: bench/decode_vs_ort.sh [THREADS]     (default: all cores)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib.sh"
threads="${1:-$(nproc)}"
work="$QOPT_BUILD/bench/decode"
mkdir -p "$work"
ensure_ort
python3 "$root/bench/models/decode/make_decode.py" --out "$work" >/dev/null
bin="$QOPT_BUILD/bin"
ort="node $root/utils/ort/ort-run.mjs"
results="$work/decode_vs_ort.jsonl"
: >"$results"

record() {  # MODEL SIDE MEDIAN_MS
  printf '{"model": "%s", "side": "%s", "median_ms": %s}\n' "$1" "$2" "$3" >>"$results"
}
for model in decode_8192x8192 decode_4096x14336; do
  k="${model#decode_}"; k="${k%x*}"
  for scheme in fp32 int8 int4; do
    case "$scheme" in
      fp32) pre="" ;;
      # Every layer's output is a graph output here, which RTN otherwise
      # takes for the LM head and keeps in fp32.
      int8) pre='qopt-rtn-weight-only{bits=8 granularity=per-channel quantize-head=true}' ;;
      int4) pre='qopt-rtn-weight-only{bits=4 granularity=per-group group-size=128 quantize-head=true}' ;;
    esac
    art="$work/$model-$scheme.so"
    if [ ! -f "$art" ] || [ "$art" -ot "$bin/qopt-compile" ] ||
       [ "$art" -ot "${BASH_SOURCE[0]}" ]; then
      log "compiling $model ($scheme)"
      "$bin/qopt-compile" "$work/$model.onnx" ${pre:+--pre-pipeline="$pre"} -o "$art"
    fi
    log "qopt $model $scheme ($threads threads)"
    out=$("$bin/qrun" bench "$art" --shape "X=1x$k" --warmup 2 --repeat 20 \
      --threads "$threads" --json)
    record "$model" "$scheme" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["runs"][0]["median_ms"])' "$out")"
  done
  log "ORT $model fp32 ($threads threads)"
  out=$($ort "$work/$model.onnx" --input "X=$work/X_$k.npy" --threads "$threads" \
    --bench --warmup 2 --repeat 20)
  record "$model" ort "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["median_ms"])' "$out")"
done

python3 - "$results" "$work/manifest.json" "$threads" <<'PY'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
manifest = json.load(open(sys.argv[2]))
layers = manifest["layers"]
print(f"\n{'model (4 layers)':22} {'side':>10} {'ms/layer':>9} {'fp32 GB/s':>10}"
      f" {'vs qopt fp32':>13} {'vs ORT fp32':>12}   ({sys.argv[3]} threads)")
for name, info in manifest["models"].items():
    by = {r["side"]: r["median_ms"] for r in rows if r["model"] == name}
    for side in ("ort", "fp32", "int8", "int4"):
        ms = by[side] / layers
        gbs = info["weight_bytes_fp32"] / layers / (ms * 1e-3) * 1e-9
        label = "ORT fp32" if side == "ort" else "qopt " + side
        print(f"{name:22} {label:>10} {ms:9.3f} {gbs:10.1f}"
              f" {by['fp32'] / by[side]:12.2f}x {by['ort'] / by[side]:11.2f}x")
print(f"load average now {os.getloadavg()[0]:.2f}")
PY
