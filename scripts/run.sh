#!/usr/bin/env bash
# The main job, end to end: installs what is missing, builds, then
#   1. compiles the bundled capability model (models/bytellama2: a
#      capacity-bound byte-level Llama, ONNX from torch.onnx) to a native
#      artifact: the fp32 baseline;
#   2. quantizes it twice and compiles both candidates: round-to-nearest int4
#      weights in groups of 128 (the common 4-bit setting) and RTN int8 per
#      output channel (the best setting qopt has today; GPTQ and SmoothQuant
#      rows join when they land);
#   3. scores both against the baseline on the five capability suites
#      (evals/v2: chat, code_gen, json_tools, math, long_context) plus
#      perplexity (the baseline runs once), prints each candidate's table,
#      writes an HTML report, then one table with the story: fp32 vs RTN
#      int4 vs the best, with confidence intervals.
# Exit status: the gate of the best candidate (0: every capability kept).
# The int4 candidate failing its gate is the finding, not an error.
#
# Usage: scripts/run.sh [extra qrun eval flags]
#   QOPT_RUN_LIMIT=N  cases per suite (default 100; 0 = all 1600 cases, about
#                     3x longer)
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
model="$QOPT_ROOT/models/bytellama2/model.onnx"
suites="$QOPT_ROOT/evals/v2"
limit="${QOPT_RUN_LIMIT:-100}"
limit_flags=()
[ "$limit" = 0 ] || limit_flags=(--limit "$limit")
# name|label|RTN options
candidates=(
  "rtn-int4-g128|RTN int4 g128|bits=4 granularity=per-group group-size=128"
  "rtn-int8-pc|RTN int8 per channel|bits=8 granularity=per-channel"
)

log "compiling the fp32 baseline ($model)"
"$bin/qopt-compile" "$model" -o "$work/fp32.so"
for c in "${candidates[@]}"; do
  IFS='|' read -r name label options <<<"$c"
  log "quantizing ($label) and compiling the candidate"
  "$bin/qopt-compile" "$model" --pre-pipeline="qopt-rtn-weight-only{$options}" \
    -o "$work/$name.so"
done
ls -l "$work"/*.weights | awk '{print "   ", $5, "bytes", $9}' >&2

labels=() cand_flags=()
for c in "${candidates[@]}"; do
  IFS='|' read -r name label _ <<<"$c"
  labels+=("$label")
  cand_flags+=(--candidate "$work/$name.so")
done
log "evaluating: the fp32 baseline once, then ${labels[*]}${limit_flags:+ (first $limit cases per suite)}"
# Exit code 1 is a failed gate, a result here; 2 is an error.
rc=0
"$bin/qrun" eval --baseline "$work/fp32.so" "${cand_flags[@]}" \
  --suites "$suites" "${limit_flags[@]}" --json "$work/eval.json" \
  --report "$work/report.html" "$@" || rc=$?
[ "$rc" -le 1 ] || exit "$rc"

log "the story: fp32 vs RTN int4 vs the best available (HTML: $work/report.html)"
python3 - "$work/eval.json" "${labels[@]}" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
runs = list(zip(sys.argv[2:], data["candidates"]))
first = runs[0][1]
suites = list(first["suites"])
def pc(v, pct):  # JSON null: an infinite relative change
    return "%+.*f" % (pct, 100 * v) if v is not None else "inf"
def cell(x, digits=3, pct=1):
    lo, hi = x["interval"]
    return "%.*f %s%% [%s, %s]" % (digits, x["candidate"],
                                   pc(x["delta"], pct), pc(lo, pct),
                                   pc(hi, pct))
w = 34
print(("%-13s %5s %9s" % ("suite", "n", "fp32") +
       "".join("  %-*s" % (w, label) for label, _ in runs)).rstrip())
for s in suites:
    row = "%-13s %5d %9.3f" % (s, first["suites"][s]["n"],
                               first["suites"][s]["baseline"])
    for _, r in runs:
        x = r["suites"][s]
        mark = "" if x["passed"] else " FAIL"
        row += "  %-*s" % (w, cell(x) + mark)
    print(row.rstrip())
p = first["perplexity"]
if p:
    row = "%-13s %5s %9.4f" % ("perplexity", "", p["baseline"])
    for _, r in runs:
        row += "  %-*s" % (w, cell(r["perplexity"], 4, 2))
    print(row.rstrip())
    row = "%-13s %5s %9s" % ("KLD / top-1", "", "")
    for _, r in runs:
        q = r["perplexity"]
        row += "  %-*s" % (w, "%.4f / %.2f%%" % (q["kld"],
                                               100 * q["top1_agreement"]))
    print(row.rstrip())
row = "%-13s %5s %9s" % ("gate", "", "")
for _, r in runs:
    failed = [s for s in suites if not r["suites"][s]["passed"]]
    row += "  %-*s" % (w, "FAIL (%s)" % ", ".join(failed) if failed
                       else "PASS")
print(row.rstrip())
# The exit status: the gate of the best candidate, the last one.
sys.exit(0 if runs[-1][1]["passed"] else 1)
PY
