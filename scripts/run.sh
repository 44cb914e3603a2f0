#!/usr/bin/env bash
# The main job, end to end: installs what is missing, builds, then
#   1. compiles the bundled capability model (models/bytellama, byte-level
#      Llama, ONNX from torch.onnx) to a native artifact: the fp32 baseline;
#   2. quantizes it with round-to-nearest int4 weights in groups of 128
#      (qopt-rtn-weight-only) and compiles the candidate;
#   3. scores both on the five capability suites (evals/: chat, code_gen,
#      json_tools, math, long_context) plus perplexity, prints the table and
#      exits 1 if any capability dropped by more than --max-drop (3%).
# Usage: scripts/run.sh [extra qrun eval flags, e.g. --limit 50]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_deps
# The main job needs the compiler driver and the runner only; the test
# suite's tools (sanitized importer, fuzzer, plugins) are left to
# scripts/test.sh.
configure_and_build qopt-compile qrun

bin="$QOPT_BUILD/bin"
work="$QOPT_BUILD/main-job"
mkdir -p "$work"
model="$QOPT_ROOT/models/bytellama/model.onnx"
rtn='qopt-rtn-weight-only{bits=4 granularity=per-group group-size=128}'

log "compiling the fp32 baseline ($model)"
"$bin/qopt-compile" "$model" -o "$work/fp32.so"
log "quantizing (RTN int4, groups of 128) and compiling the candidate"
"$bin/qopt-compile" "$model" --pre-pipeline="$rtn" -o "$work/rtn-int4-g128.so"
ls -l "$work"/*.weights | awk '{print "   ", $5, "bytes", $9}' >&2

log "evaluating: fp32 baseline vs RTN int4 g128, all suites"
"$bin/qrun" eval --baseline "$work/fp32.so" \
  --candidate "$work/rtn-int4-g128.so" --suites "$QOPT_ROOT/evals" \
  --json "$work/eval.json" "$@"
