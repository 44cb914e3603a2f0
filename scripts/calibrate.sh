#!/usr/bin/env bash
# Calibration in one command, every intermediate kept as a file in OUT_DIR
# (docs/calibration.md has the steps; a build system runs them one by one):
#   OUT_DIR/model.mlirbc       imported model          (qopt-import)
#   OUT_DIR/observed.mlirbc    with observation points (qopt-insert-observers)
#   OUT_DIR/observed.so        calibration build       (qopt-compile)
#   OUT_DIR/model.qstats       statistics              (qrun calibrate)
#   OUT_DIR/calibrated.mlirbc  #qopt.stats attached    (qopt-apply-calibration)
# Usage: scripts/calibrate.sh MODEL.onnx DATA.jsonl|DATA.npy OUT_DIR
#            [--observers=min_max,abs_max,hessian] [qrun calibrate flags...]
# Tools come from $QOPT_BIN (default: build/bin beside this script).
set -euo pipefail
if [[ $# -lt 3 ]]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
model=$1 data=$2 out=$3
shift 3
observers=min_max
if [[ ${1:-} == --observers=* ]]; then
  observers=${1#--observers=}
  shift
fi
bin=${QOPT_BIN:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/bin"}
mkdir -p "$out"
"$bin/qopt-import" "$model" --emit=bytecode -o "$out/model.mlirbc"
# Bytecode, not qopt's default text: text drops the locations, i.e. the
# ONNX node names that per-layer options and messages go by.
"$bin/qopt" "$out/model.mlirbc" -emit-bytecode -o "$out/observed.mlirbc" \
  --pass-pipeline="builtin.module(qopt-insert-observers{observers=$observers})"
"$bin/qopt-compile" "$out/observed.mlirbc" -o "$out/observed.so"
"$bin/qrun" calibrate "$out/observed.so" --data "$data" "$@" \
  -o "$out/model.qstats"
"$bin/qopt" "$out/observed.mlirbc" -emit-bytecode -o "$out/calibrated.mlirbc" \
  --pass-pipeline="builtin.module(qopt-apply-calibration{stats=$out/model.qstats})"
echo "calibrated: $out/calibrated.mlirbc" >&2
