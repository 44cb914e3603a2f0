#!/usr/bin/env bash
# Calibration on the GPU against the CPU, on the device machine (after
# bench/gpu/prepare_calib.sh here; the device tool: carry
# [".devwork/cudacal"]): the same calibration build of bytellama2 (RTN int4
# g128, min/max + absmax + Hessian observers at every linear input) run by
# `qrun calibrate --device cuda` and on the device's CPU over the same 32
# cases of evals/v2/chat.jsonl; test/Runner/calibration-reference.py then
# compares every statistic of the two files.
set -uo pipefail
d=.devwork/cudacal
out="${OUT:-$d/out}"
mkdir -p "$out"
export LD_LIBRARY_PATH="$d/lib"
limit="${LIMIT:-32}"
for dev in cuda cpu; do
  start=$(date +%s%N)
  "$d/bin/qrun" calibrate "$d/art/obs_$dev.so" --device "$dev" \
    --data evals/v2/chat.jsonl --limit "$limit" -o "$out/$dev.qstats" \
    >/dev/null 2>"$out/$dev.err" || { cat "$out/$dev.err"; exit 1; }
  tail -1 "$out/$dev.err"
  echo "calibrate --device $dev: $((($(date +%s%N) - start) / 1000000)) ms wall"
done
python3 test/Runner/calibration-reference.py compare "$out/cpu.qstats" \
  "$out/cuda.qstats" "${RTOL:-1e-3}"
