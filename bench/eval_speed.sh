#!/usr/bin/env bash
# `qrun eval` against ONNX Runtime (onnxruntime-node, CPU) scoring the same
# cases (issue 15): the first N cases of each of the five suites of evals/v2
# on the bundled models/bytellama2, both sides with the same threads and the
# same batches (utils/ort/ort-eval.mjs forms them as qrun eval does and
# computes the same per-case scores: argmax matches, agreement, KLD).
#
# Sides, run interleaved R times (the median counts; the machine is shared):
#   ort          node utils/ort/ort-eval.mjs, baseline and candidate both
#                model.onnx in fp32 (two sessions of T intra-op threads, one
#                batch at a time): ORT cannot run qopt's int4 artifact, and
#                fp32 is what it runs fastest here
#   ort xT       the same with T worker threads, each with its own two
#                sessions of 1 intra-op thread, running T batches at once
#                (what qrun eval does by default since issue 15)
#   qopt fp32    qrun eval, baseline fp32.so, candidate a copy of fp32.so:
#                the same work as the ORT side
#   qopt int4    qrun eval, baseline fp32.so, candidate RTN int4 g128 (the
#                real use: a quantized candidate against its baseline)
#   qopt cached  as qopt int4 with --baseline-cache (primed by an untimed
#                run): only the candidate runs; left out when qrun eval has
#                no --baseline-cache
# Times are wall times of the whole command (load, read, score, print),
# reported per 1000 cases; ratio = the faster ORT side's time / the side's
# time (above 1: the side is faster than ORT). No perplexity text on either side (the suites directory holds
# only the .jsonl files). Prints `uptime` before and after, and the CPU.
#
# usage: bench/eval_speed.sh [--limit N] [--repeat R] [--threads T]
#                            [--batch B]
#   defaults: --limit 40 (200 cases), --repeat 3, --threads 2, --batch 8.
#   QRUN=path/to/qrun runs another qrun; QRUN_BEFORE=path/to/qrun adds the
#   sides "before fp32" and "before int4" run by that one (e.g. a build from
#   before a change), interleaved with the others, on the same artifacts.
#   BEFORE_BIN=path/to/build/bin does the same with that build's qrun and
#   with artifacts compiled by that build's qopt-compile (for a compiler or
#   runtime change: the artifacts link the kernels of their build's libqrt).
#   On a machine without the compiler or Node.js (the GPU machine, pinned
#   to T cores with taskset for a quiet measurement):
#   QOPT_EVAL_WORK=DIR holding fp32.so and int4.so (and before-fp32.so,
#   before-int4.so for the before sides, run by $QRUN_BEFORE, default
#   $QRUN) with QOPT_PREBUILT=1 skips compiling, and
#   ORT_EVAL="python3 bench/ort_eval.py" scores the ORT sides with ONNX
#   Runtime's Python binding (the same ORT version) instead of Node.js.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib.sh"
limit=40 repeat=3 threads=2 batch=8
while [ $# -gt 0 ]; do
  case "$1" in
    --limit) limit="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "eval_speed.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
bin="$QOPT_BUILD/bin"
qrun="${QRUN:-$bin/qrun}"
work="${QOPT_EVAL_WORK:-$QOPT_BUILD/bench/eval_speed}"
mkdir -p "$work"
if [ -n "${ORT_EVAL:-}" ]; then
  read -r -a ort_eval <<<"$ORT_EVAL"
else
  ensure_ort
  ort_eval=(node "$root/utils/ort/ort-eval.mjs")
fi
model="$root/models/bytellama2/model.onnx"

compile() {  # OUT [PRE-PIPELINE]
  local cc="${COMPILER:-$bin/qopt-compile}"
  if [ ! -f "$1" ] || [ "$1" -ot "$cc" ] || [ "$1" -ot "$model.data" ]; then
    log "compiling $(basename "$1")"
    "$cc" "$model" ${2:+--pre-pipeline="$2"} -o "$1"
  fi
}
rtn4='qopt-rtn-weight-only{bits=4 granularity=per-group group-size=128}'
before_fp32="$work/fp32.so" before_int4="$work/int4.so"
if [ "${QOPT_PREBUILT:-0}" = 1 ]; then
  for f in fp32.so int4.so; do
    [ -f "$work/$f" ] || { echo "eval_speed.sh: QOPT_PREBUILT=1 needs $work/$f" >&2; exit 2; }
  done
  if [ -f "$work/before-fp32.so" ]; then
    QRUN_BEFORE="${QRUN_BEFORE:-$qrun}" BEFORE_BIN=prebuilt
    before_fp32="$work/before-fp32.so" before_int4="$work/before-int4.so"
    cp "$before_fp32" "$work/before-fp32-copy.so"
    cp "$before_fp32.weights" "$work/before-fp32-copy.so.weights"
  fi
else
  compile "$work/fp32.so"
  compile "$work/int4.so" "$rtn4"
  if [ -n "${BEFORE_BIN:-}" ]; then
    QRUN_BEFORE="${QRUN_BEFORE:-$BEFORE_BIN/qrun}"
    before_fp32="$work/before-fp32.so" before_int4="$work/before-int4.so"
    COMPILER="$BEFORE_BIN/qopt-compile" compile "$before_fp32"
    COMPILER="$BEFORE_BIN/qopt-compile" compile "$before_int4" "$rtn4"
    cp "$before_fp32" "$work/before-fp32-copy.so"
    cp "$before_fp32.weights" "$work/before-fp32-copy.so.weights"
  fi
fi
# The same artifact under another name, so that qopt's fp32 side runs two
# artifacts like the ORT side.
cp "$work/fp32.so" "$work/fp32-copy.so"
cp "$work/fp32.so.weights" "$work/fp32-copy.so.weights"

suites="$work/suites-$limit"
rm -rf "$suites" && mkdir -p "$suites"
for f in "$root"/evals/v2/*.jsonl; do
  head -n "$limit" "$f" >"$suites/$(basename "$f")"
done
cases=$(cat "$suites"/*.jsonl | grep -c .)

cached=0
usage="$("$qrun" eval --help 2>&1 || true)"
case "$usage" in *--baseline-cache*) cached=1 ;; esac
cache="$work/cache"
rm -rf "$cache"
common=(--suites "$suites" --threads "$threads" --batch "$batch")
if [ "$cached" = 1 ]; then
  log "priming the baseline cache"
  "$qrun" eval --baseline "$work/fp32.so" --candidate "$work/int4.so" \
    "${common[@]}" --baseline-cache "$cache" >/dev/null 2>&1 || true
fi

results="$work/results.jsonl"
: >"$results"
now() { date +%s.%N; }
timed() {  # SIDE COMMAND...
  local side="$1"; shift
  local start end
  start=$(now)
  "$@" >"$work/last.out" 2>"$work/last.err" || [ $? -eq 1 ] || {
    cat "$work/last.err" >&2; exit 1; }
  end=$(now)
  python3 -c 'import json,sys; print(json.dumps({"side": sys.argv[1], "seconds": float(sys.argv[3]) - float(sys.argv[2])}))' \
    "$side" "$start" "$end" >>"$results"
  cp "$work/last.out" "$work/${side// /-}.out"
}
log "load before: $(uptime)"
echo "uptime before: $(uptime)" >"$work/load.txt"
for r in $(seq "$repeat"); do
  log "round $r of $repeat ($cases cases, $threads threads)"
  timed ort "${ort_eval[@]}" --baseline "$model" \
    --candidate "$model" "${common[@]}"
  if [ "$threads" -gt 1 ]; then
    timed "ort x$threads" "${ort_eval[@]}" --baseline "$model" \
      --candidate "$model" "${common[@]}" --workers "$threads"
  fi
  timed "qopt fp32" "$qrun" eval --baseline "$work/fp32.so" \
    --candidate "$work/fp32-copy.so" "${common[@]}" --json "$work/fp32.json"
  timed "qopt int4" "$qrun" eval --baseline "$work/fp32.so" \
    --candidate "$work/int4.so" "${common[@]}" --json "$work/int4.json"
  if [ -n "${QRUN_BEFORE:-}" ]; then
    before_copy="$work/fp32-copy.so"
    [ -z "${BEFORE_BIN:-}" ] || before_copy="$work/before-fp32-copy.so"
    timed "before fp32" "$QRUN_BEFORE" eval --baseline "$before_fp32" \
      --candidate "$before_copy" "${common[@]}" --json "$work/before-fp32.json"
    timed "before int4" "$QRUN_BEFORE" eval --baseline "$before_fp32" \
      --candidate "$before_int4" "${common[@]}" --json "$work/before-int4.json"
  fi
  if [ "$cached" = 1 ]; then
    timed "qopt cached" "$qrun" eval --baseline "$work/fp32.so" \
      --candidate "$work/int4.so" "${common[@]}" --baseline-cache "$cache" \
      --json "$work/cached.json"
  fi
done
echo "uptime after: $(uptime)" >>"$work/load.txt"

python3 - "$results" "$cases" "$work" "$threads" <<'PY'
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cases, work, threads = int(sys.argv[2]), sys.argv[3], sys.argv[4]
by = {}
for r in rows:
    by.setdefault(r["side"], []).append(r["seconds"])
ort = min(statistics.median(t) for side, t in by.items() if side.startswith("ort"))
print(f"\n{cases} cases (evals/v2, first cases of each suite), {threads} threads")
print(f"{'side':12} {'runs (s)':>28} {'median s':>9} {'s/1000 cases':>13} {'ORT/side':>9}")
for side, times in by.items():
    m = statistics.median(times)
    runs = " ".join(f"{t:.2f}" for t in times)
    print(f"{side:12} {runs:>28} {m:9.2f} {m / cases * 1000:13.2f} {ort / m:8.2f}x")
# The same cases were scored: the baseline's exact-match counts of both.
o = json.load(open(os.path.join(work, "ort.out")))
q = json.load(open(os.path.join(work, "fp32.json")))
q = q["candidates"][0] if "candidates" in q else q
print("\nbaseline exact match, ORT / qopt:", ", ".join(
    f"{name} {s['exact'][0]}/{round(q['suites'][name]['baseline'] * s['n'])}"
    for name, s in o["suites"].items()))
for a, b in (("fp32.json", "before-fp32.json"), ("int4.json", "before-int4.json"),
             ("int4.json", "cached.json")):
    pa, pb = os.path.join(work, a), os.path.join(work, b)
    if os.path.exists(pa) and os.path.exists(pb):
        print(f"{a} and {b}:", "identical" if open(pa).read() == open(pb).read() else "DIFFER")
print("ORT side:", o.get("engine", "onnxruntime-node (utils/ort/ort-eval.mjs)"))
lscpu = os.popen("lscpu").read().splitlines()
print(next((l for l in lscpu if l.startswith("Model name")), "").strip())
print(open(os.path.join(work, "load.txt")).read().strip())
PY
