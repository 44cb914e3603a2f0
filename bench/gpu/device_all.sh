#!/usr/bin/env bash
# The GPU measurements of bench/gpu in one device call (after
# bench/gpu/prepare_all.sh here): the int4 GEMV/GEMM kernels, the prefill
# GEMMs, whole models, then calibration (bench/gpu/prepare_calib.sh; its
# folder travels in a call of its own: with the models it would pass the
# 64 MiB limit); each under its own timeout so that one hang
# still leaves the others' results. Writes $OUT/{w4,gemm,model}.txt and
# prints each one's summary (at most 8 files come back from a call).
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-/tmp/qopt-device}"
mkdir -p "$out" /tmp/qopt-device
export QRT_LIB="$PWD/.devwork/cudamodel/lib/libqrt.so" PYTHONUNBUFFERED=1
nvidia-smi -L
t0=$(date +%s)
step() { # NAME SECONDS COMMAND...
  local name="$1" secs="$2"
  shift 2
  local t=$(date +%s)
  OUT="/tmp/qopt-device/$name" timeout "$secs" "$@" >"$out/$name.txt" 2>&1
  echo "== $name: rc=$? $(($(date +%s) - t)) s"
  tail -n "${TAIL:-25}" "$out/$name.txt"
}
[ "${SKIP_W4:-0}" = 1 ] || step w4 "${W4_S:-150}" bash bench/gpu/run_device.sh
[ "${SKIP_GEMM:-0}" = 1 ] || step gemm "${GEMM_S:-170}" bash bench/gpu/run_gemm_device.sh
[ "${SKIP_MODEL:-0}" = 1 ] || step model "${MODEL_S:-200}" bash bench/gpu/model_device.sh --repeat 10
[ "${SKIP_CALIB:-0}" = 1 ] || step calib "${CALIB_S:-150}" bash bench/gpu/calib_device.sh
echo "all: $(($(date +%s) - t0)) s"
