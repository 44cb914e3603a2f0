#!/usr/bin/env bash
# qopt's CPU artifacts against ONNX Runtime (onnxruntime-node, CPU) on the
# three speed models of issue 12 (bench/models/speed/make_models.py,
# generated here with a fixed seed; nothing downloaded): a MobileNetV3-small-
# like classifier, an SVTR-like text recognizer and a 6-layer GPT-2-like
# decoder. Both sides run the same model with the same inputs and thread
# count; the outputs are compared first (compare-npy, relative error 1e-4),
# then timed. Rounds alternate qopt and ORT so that load from other
# processes hits both alike; each side's median over the rounds is printed
# with the ratio ORT/qopt (above 1: qopt is faster).
#
# usage: bench/models_vs_ort.sh [THREADS...]   (default: 1 2)
#   env ROUNDS (default 5), REPEAT (timed runs per round, default 5),
#   MODELS (default "mobilenetv3s svtr gpt2"), QOPT_COMPILE (the compiler
#   to time, default build/bin/qopt-compile: point it at another build to
#   compare).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib.sh"
threads=("$@")
[ ${#threads[@]} -eq 0 ] && threads=(1 2)
rounds="${ROUNDS:-5}"
repeat="${REPEAT:-5}"
models=(${MODELS:-mobilenetv3s svtr gpt2})
work="$QOPT_BUILD/bench/speed"
bin="$QOPT_BUILD/bin"
compile="${QOPT_COMPILE:-$bin/qopt-compile}"
ensure_ort
python3 "$root/bench/models/speed/make_models.py" --out "$work" >/dev/null
ort="node $root/utils/ort/ort-run.mjs"
results="$work/results.jsonl"
: >"$results"

input_of() {  # MODEL -> NAME=FILE of its one input
  local f
  f=$(ls "$work/$1".*.npy)
  local name=${f#"$work/$1."}
  echo "${name%.npy}=$f"
}
shape_of() {  # MODEL -> NAME=DxD for qrun bench
  python3 - "$1" <<'PY'
import ast, sys
arg = sys.argv[1]
name, path = arg.split("=", 1)
with open(path, "rb") as f:
    data = f.read(128)
hlen = int.from_bytes(data[8:10], "little")
h = ast.literal_eval(data[10:10 + hlen].decode("latin1"))
print(name + "=" + "x".join(map(str, h["shape"])))
PY
}

for m in "${models[@]}"; do
  log "compiling $m"
  "$compile" "$work/$m.onnx" -o "$work/$m.so"
  in=$(input_of "$m")
  rm -rf "$work/q-$m" "$work/o-$m"
  "$bin/qrun" run "$work/$m.so" --input "$in" --output-dir "$work/q-$m" >/dev/null
  $ort "$work/$m.onnx" --input "$in" --output-dir "$work/o-$m" --threads 1 >/dev/null
  for f in "$work/q-$m"/*.npy; do
    python3 "$root/utils/compare-npy.py" "$f" "$work/o-$m/$(basename "$f")"
  done
done

for t in "${threads[@]}"; do
  for m in "${models[@]}"; do
    in=$(input_of "$m")
    shape=$(shape_of "$in")
    for r in $(seq "$rounds"); do
      q=$("$bin/qrun" bench "$work/$m.so" --shape "$shape" --int-range 4096 \
            --warmup 2 --repeat "$repeat" --threads "$t" --json)
      o=$($ort "$work/$m.onnx" --input "$in" --threads "$t" --bench \
            --warmup 2 --repeat "$repeat")
      python3 -c 'import json,sys; q=json.loads(sys.argv[1]); o=json.loads(sys.argv[2]); print(json.dumps({"model": sys.argv[3], "threads": int(sys.argv[4]), "qopt_ms": q["runs"][0]["median_ms"], "ort_ms": o["median_ms"]}))' \
        "$q" "$o" "$m" "$t" >>"$results"
    done
    log "$m, $t threads: done"
  done
done

python3 - "$results" <<'PY'
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault((r["model"], r["threads"]), []).append(r)
print(f"\n{'model':14} {'thr':>3} {'qopt ms':>9} {'ORT ms':>9} {'ORT/qopt':>9}")
for (m, t), rs in by.items():
    q = statistics.median(r["qopt_ms"] for r in rs)
    o = statistics.median(r["ort_ms"] for r in rs)
    print(f"{m:14} {t:3d} {q:9.2f} {o:9.2f} {o / q:8.2f}x")
print(f"\n(medians of {len(rs)} alternating rounds; load average now "
      f"{os.getloadavg()[0]:.2f})")
PY
