#!/usr/bin/env bash
# RTN weight-only quantization of the CNN speed models (issue 12): the
# MobileNetV3-small-like classifier and the SVTR-like recognizer of
# bench/models/speed/make_models.py (fixed seed, nothing downloaded) are
# compiled in f32 and with qopt-rtn-weight-only int8 and int4 per output
# channel (convolutions and linear layers; the last Gemm/linear, the head,
# stays f32), run by qrun on a few random inputs (uniform in [-1, 1], seeds
# 1..N) next to ONNX Runtime on the f32 model, and compared: max abs error,
# max abs error relative to the reference's max |y|, and top-1 agreement
# (argmax over the last axis, per row: 1 row for the classifier, 80
# positions for the recognizer). cnn_rtn_compare.py does the arithmetic.
#
# usage: bench/cnn_rtn.sh   env INPUTS (default 5), MODELS (default
#   "mobilenetv3s svtr"), THREADS (qrun/ORT threads, default 2)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib.sh"
inputs="${INPUTS:-5}"
models=(${MODELS:-mobilenetv3s svtr})
threads="${THREADS:-2}"
work="$QOPT_BUILD/bench/cnn-rtn"
bin="$QOPT_BUILD/bin"
mkdir -p "$work"
ensure_ort
python3 "$root/bench/models/speed/make_models.py" --out "$work" >/dev/null
ort="node $root/utils/ort/ort-run.mjs"
compare="$root/bench/cnn_rtn_compare.py"

for m in "${models[@]}"; do
  f=$(ls "$work/$m".*.npy | head -1)
  name=${f#"$work/$m."}
  name=${name%.npy}
  log "$m: compiling f32, RTN int8 and int4 per channel"
  "$bin/qopt-compile" "$work/$m.onnx" -o "$work/$m.fp32.so"
  for bits in 8 4; do
    "$bin/qopt-compile" "$work/$m.onnx" -o "$work/$m.int$bits.so" \
      --pre-pipeline="qopt-rtn-weight-only{bits=$bits granularity=per-channel}" \
      2>"$work/$m.int$bits.remarks"
    grep "rtn: quantized [0-9]* layers" "$work/$m.int$bits.remarks" |
      sed "s/^.*remark: /  $m int$bits: /"
  done
  ls -l "$work/$m".*.weights | awk '{print "  " $NF ": " $5 " bytes"}'
  for i in $(seq "$inputs"); do
    python3 "$compare" make-input "$f" "$work/$m.x$i.npy" --seed "$i"
    for v in fp32 int8 int4; do
      rm -rf "$work/$m.$v.out$i"
      "$bin/qrun" run "$work/$m.$v.so" --threads "$threads" \
        --input "$name=$work/$m.x$i.npy" --output-dir "$work/$m.$v.out$i" >/dev/null
    done
    rm -rf "$work/$m.ort.out$i"
    $ort "$work/$m.onnx" --input "$name=$work/$m.x$i.npy" \
      --output-dir "$work/$m.ort.out$i" --threads "$threads" >/dev/null
  done
  python3 "$compare" report "$work" "$m" "$inputs"
done
