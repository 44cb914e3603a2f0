#!/usr/bin/env bash
# W8A8 convolutions (issue 12) on the MobileNetV3-small-like classifier of
# bench/models/speed/make_models.py (fixed seed, nothing downloaded):
#
#   qopt fp32      qopt-compile of the f32 model
#   qopt w8a8      --pre-pipeline=qopt-quantize-w8a8 (dynamic: int8 filters
#                  per output channel, int8 activations per tensor at run
#                  time; the first Gemm too, the last one is the head;
#                  depthwise convolutions stay f32, the pass's default)
#   qopt w8a8+dw   the same with quantize-depthwise=true
#   qopt w8a8-st   static activation scales from min_max calibration on the
#                  model's input file (scripts/calibrate.sh)
#   ORT fp32       onnxruntime-node on the f32 model
#   ORT int8       onnxruntime-node on make_cnn_int8.py's ConvInteger model
#                  (quantize_dynamic's form: uint8 activations per tensor at
#                  run time, int8 filters per output channel; Gemms f32)
#
# First the outputs, against qopt fp32: max abs error, that over max |y|,
# and whether the argmax agrees. Then the speed: rounds alternate all sides
# (so that load from other processes hits them alike), each round a qrun
# bench / ort-run --bench median of REPEAT runs; printed are the medians
# over the rounds, the fastest single run of each side, and the ratios of
# both (above 1: the row's side is faster).
#
# usage: bench/cnn_w8a8.sh [THREADS...]   (default: 1 2)
#   env ROUNDS (default 7), REPEAT (default 10), ORT_RUN (ort-run.mjs to
#   use; default utils/ort/ort-run.mjs after ensure_ort)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib.sh"
threads=("$@")
[ ${#threads[@]} -eq 0 ] && threads=(1 2)
rounds="${ROUNDS:-7}"
repeat="${REPEAT:-10}"
work="$QOPT_BUILD/bench/cnn-w8a8"
bin="$QOPT_BUILD/bin"
mkdir -p "$work"
if [ -z "${ORT_RUN:-}" ]; then
  ensure_ort
  ORT_RUN="$root/utils/ort/ort-run.mjs"
fi
ort="node $ORT_RUN"
python3 "$root/bench/models/speed/make_models.py" --out "$work" >/dev/null
python3 "$root/bench/models/speed/make_cnn_int8.py" --out "$work" >/dev/null
m=mobilenetv3s
in="input=$work/$m.input.npy"

log "compiling fp32, w8a8 (dynamic, without and with depthwise) and w8a8 (static, calibrated on the input)"
"$bin/qopt-compile" "$work/$m.onnx" -o "$work/fp32.so"
"$bin/qopt-compile" "$work/$m.onnx" -o "$work/w8a8.so" \
  --pre-pipeline="builtin.module(qopt-quantize-w8a8)" 2>"$work/w8a8.remarks"
grep "w8a8: quantized" "$work/w8a8.remarks" | sed 's/^.*remark: /  /'
"$bin/qopt-compile" "$work/$m.onnx" -o "$work/w8a8+dw.so" \
  --pre-pipeline="builtin.module(qopt-quantize-w8a8{quantize-depthwise=true})" \
  2>"$work/w8a8+dw.remarks"
grep "w8a8: quantized" "$work/w8a8+dw.remarks" | sed 's/^.*remark: /  /'
QOPT_BIN="$bin" "$root/scripts/calibrate.sh" "$work/$m.onnx" \
  "$work/$m.input.npy" "$work/calib" --observers=min_max >/dev/null 2>&1
"$bin/qopt-compile" "$work/calib/calibrated.mlirbc" -o "$work/w8a8-st.so" \
  --pre-pipeline="builtin.module(qopt-quantize-w8a8{activations=static})" \
  2>"$work/w8a8-st.remarks"

for v in fp32 w8a8 w8a8+dw w8a8-st; do
  rm -rf "$work/out-$v"
  "$bin/qrun" run "$work/$v.so" --input "$in" --output-dir "$work/out-$v" >/dev/null
done
for v in "$m" "${m}_int8"; do
  rm -rf "$work/out-$v"
  $ort "$work/$v.onnx" --input "$in" --output-dir "$work/out-$v" --threads 1 >/dev/null
done
python3 - "$work" "$m" <<'PY'
import ast, struct, sys
work, m = sys.argv[1], sys.argv[2]
def read(path):
    data = open(path, "rb").read()
    n = int.from_bytes(data[8:10], "little")
    shape = ast.literal_eval(data[10:10 + n].decode("latin1"))["shape"]
    count = 1
    for d in shape:
        count *= d
    return struct.unpack("<%df" % count, data[10 + n:10 + n + 4 * count])
ref = read(f"{work}/out-fp32/logits.npy")
top = max(abs(v) for v in ref)
arg = max(range(len(ref)), key=lambda i: ref[i])
print(f"\n{'output vs qopt fp32':22} {'max abs err':>12} {'/ max |y|':>10} {'argmax':>7}")
for name, d in [("qopt w8a8 (dynamic)", "w8a8"), ("qopt w8a8+dw", "w8a8+dw"),
                ("qopt w8a8 (static)", "w8a8-st"),
                ("ORT fp32", m), ("ORT int8", m + "_int8")]:
    y = read(f"{work}/out-{d}/logits.npy")
    err = max(abs(a - b) for a, b in zip(y, ref))
    same = max(range(len(y)), key=lambda i: y[i]) == arg
    print(f"{name:22} {err:12.3g} {err / top:10.3g} {'same' if same else 'DIFF':>7}")
PY

results="$work/results.jsonl"
: >"$results"
for t in "${threads[@]}"; do
  for r in $(seq "$rounds"); do
    for v in fp32 w8a8 w8a8+dw w8a8-st; do
      q=$("$bin/qrun" bench "$work/$v.so" --warmup 2 --repeat "$repeat" \
            --threads "$t" --json)
      python3 -c 'import json,sys; r=json.loads(sys.argv[1])["runs"][0]; print(json.dumps({"side": "qopt " + sys.argv[2], "threads": int(sys.argv[3]), "ms": r["median_ms"], "min": r["min_ms"]}))' \
        "$q" "$v" "$t" >>"$results"
    done
    for v in "$m" "${m}_int8"; do
      o=$($ort "$work/$v.onnx" --input "$in" --threads "$t" --bench \
            --warmup 2 --repeat "$repeat")
      side="ORT fp32"
      [ "$v" = "$m" ] || side="ORT int8"
      python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(json.dumps({"side": sys.argv[2], "threads": int(sys.argv[3]), "ms": r["median_ms"], "min": r["min_ms"]}))' \
        "$o" "$side" "$t" >>"$results"
    done
  done
  log "$t threads: done"
done

python3 - "$results" <<'PY'
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["threads"], {}).setdefault(r["side"], []).append(r)
# Median over the rounds of each round's median, and the fastest single
# run (on a shared machine the minimum is the least disturbed estimate).
print(f"\n{'side':14} {'thr':>3} {'median ms':>9} {'min ms':>7}   ratios of medians (mins): "
      f"{'vs qopt fp32':>14} {'vs ORT fp32':>14} {'vs ORT int8':>14}")
for t, sides in by.items():
    med = {s: statistics.median(r["ms"] for r in v) for s, v in sides.items()}
    low = {s: min(r["min"] for r in v) for s, v in sides.items()}
    for s in med:
        cells = " ".join(f"{med[b] / med[s]:6.2f}x ({low[b] / low[s]:4.2f}x)"
                         for b in ("qopt fp32", "ORT fp32", "ORT int8"))
        print(f"{s:14} {t:3d} {med[s]:9.2f} {low[s]:7.2f}   {cells}")
n = len(next(iter(next(iter(by.values())).values())))
print(f"\n({n} alternating rounds; ratio = that side's time / this row's, "
      f"above 1: this row is faster; load average now "
      f"{os.getloadavg()[0]:.2f})")
PY
