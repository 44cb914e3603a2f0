#!/usr/bin/env bash
# The per-capability quality table of docs/quality.md: the bundled model
# (models/bytellama2, suites evals/v2) quantized with several settings (RTN
# weight-only, W8A8), each scored by `qrun eval` against the fp32 baseline
# on all suites, with paired 95% intervals, and the mean KL divergence and
# top-1 agreement against the baseline on the perplexity text.
# QOPT_MODEL and QOPT_SUITES select another model and its suites (v1:
# models/bytellama/model.onnx and evals); QOPT_SETTINGS="int8_pc w8a8_dynamic"
# (names from the list below) compiles and evaluates only those.
#
#   bench/quality_table.sh compile DIR [qopt-compile flags]
#       compiles fp32 and every setting below into DIR (needs the build);
#   bench/quality_table.sh eval DIR [qrun eval flags, e.g. --limit 60]
#       evaluates each DIR/<setting>.so against DIR/fp32.so, writes
#       DIR/<setting>.json and prints the table as markdown rows. Needs only
#       qrun and libqrt ($QRUN, default build/bin/qrun), so the artifacts
#       can be compiled here and evaluated on another machine.
#
# W8A8 static needs calibration statistics: `compile` first writes a
# calibration set from the model's training stream (models/bytellama2/
# data.py calib: $QOPT_CALIB_ROWS rows of $QOPT_CALIB_SEQ bytes, default 64
# x 512; the corpus comes from $QOPT_CORPUS, default .devwork/corpus, built
# with data.py corpus when missing), never from the eval suites, and runs
# scripts/calibrate.sh (min_max) on it into DIR/calib/; the static setting
# compiles DIR/calib/calibrated.mlirbc. $QOPT_CALIB_DATA names another
# calibration set (.jsonl or .npy) instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:?usage: bench/quality_table.sh compile|eval DIR [flags]}"
dir="${2:?usage: bench/quality_table.sh compile|eval DIR [flags]}"
shift 2
model="${QOPT_MODEL:-$root/models/bytellama2/model.onnx}"
suites_dir="${QOPT_SUITES:-$root/evals/v2}"
# name|label|pre-pipeline; "@calib" as the first word of the pipeline means
# "compile the calibrated IR, not the model".
all_settings=(
  "int8_pc|RTN int8 per channel|qopt-rtn-weight-only{bits=8 granularity=per-channel}"
  "int4_g128|RTN int4 g128|qopt-rtn-weight-only{bits=4 granularity=per-group group-size=128}"
  "int4_pc|RTN int4 per channel|qopt-rtn-weight-only{bits=4 granularity=per-channel}"
  "int3_g128|RTN int3 g128|qopt-rtn-weight-only{bits=3 granularity=per-group group-size=128}"
  "int3_g32|RTN int3 g32|qopt-rtn-weight-only{bits=3 granularity=per-group group-size=32}"
  "int3_pc|RTN int3 per channel|qopt-rtn-weight-only{bits=3 granularity=per-channel}"
  "int2_g32_asym|RTN int2 g32 asymmetric|qopt-rtn-weight-only{bits=2 granularity=per-group group-size=32 symmetric=false}"
  "w8a8_dynamic|W8A8 dynamic per token|qopt-quantize-w8a8{activations=dynamic}"
  "w8a8_static|W8A8 static per tensor (min/max)|@calib qopt-quantize-w8a8{activations=static}"
)
settings=()
for s in "${all_settings[@]}"; do
  if [ -n "${QOPT_SETTINGS:-}" ] &&
     [[ " $QOPT_SETTINGS " != *" ${s%%|*} "* ]]; then
    continue
  fi
  settings+=("$s")
done
case "$mode" in
compile)
  source "$root/scripts/lib.sh"
  mkdir -p "$dir"
  "$QOPT_BUILD/bin/qopt-compile" "$model" -o "$dir/fp32.so" "$@"
  for s in "${settings[@]}"; do
    IFS='|' read -r name _ pipeline <<<"$s"
    input="$model"
    if [[ $pipeline == "@calib "* ]]; then
      pipeline=${pipeline#@calib }
      input="$dir/calib/calibrated.mlirbc"
      if [ ! -f "$input" ]; then
        data="${QOPT_CALIB_DATA:-}"
        if [ -z "$data" ]; then
          corpus="${QOPT_CORPUS:-$root/.devwork/corpus}"
          [ -f "$corpus/corpus.json.xz" ] ||
            python3 "$root/models/bytellama2/data.py" corpus --out "$corpus"
          data="$dir/calib.jsonl"
          python3 "$root/models/bytellama2/data.py" calib --corpus "$corpus" \
            --out "$data" -n "${QOPT_CALIB_ROWS:-64}" \
            --seq "${QOPT_CALIB_SEQ:-512}"
        fi
        QOPT_BIN="$QOPT_BUILD/bin" "$root/scripts/calibrate.sh" "$model" \
          "$data" "$dir/calib" --observers=min_max --batch 8
      fi
    fi
    # The quantization passes' remarks (one per layer) go to a log.
    if ! "$QOPT_BUILD/bin/qopt-compile" "$input" -o "$dir/$name.so" \
      --pre-pipeline="$pipeline" "$@" 2>"$dir/$name.log"; then
      cat "$dir/$name.log" >&2
      exit 1
    fi
    tail -n 1 "$dir/$name.log" >&2
  done
  ;;
eval)
  qrun="${QRUN:-$root/build/bin/qrun}"
  done_settings=()
  for s in "${settings[@]}"; do
    IFS='|' read -r name _ _ <<<"$s"
    # A setting not compiled into DIR is left out of the table.
    [ -f "$dir/$name.so" ] || continue
    done_settings+=("$s")
    # Exit code 1 is a failed gate, which is a result here.
    "$qrun" eval --baseline "$dir/fp32.so" --candidate "$dir/$name.so" \
      --suites "$suites_dir" --json "$dir/$name.json" "$@" >/dev/null ||
      [ $? -eq 1 ]
  done
  python3 - "$dir" "${done_settings[@]}" <<'PY'
import json, os, sys
d = sys.argv[1]
suites = ["chat", "code_gen", "json_tools", "long_context", "math"]
first = None
rows = []
for spec in sys.argv[2:]:
    name, label, _ = spec.split("|")
    r = json.load(open(os.path.join(d, name + ".json")))
    first = first or r
    size = os.path.getsize(os.path.join(d, name + ".so.weights")) / 1e6
    def cell(x):
        lo, hi = x["interval"]
        return (f'{x["candidate"]:.3f} ({100 * x["delta"]:+.1f}% '
                f'[{100 * lo:+.1f}, {100 * hi:+.1f}])')
    cells = [cell(r["suites"][s]) for s in suites]
    p = r["perplexity"]
    lo, hi = p["interval"]
    ppl = (f'{p["candidate"]:.4f} ({100 * p["delta"]:+.2f}% '
           f'[{100 * lo:+.2f}, {100 * hi:+.2f}])')
    failed = [s for s in suites if not r["suites"][s]["passed"]]
    gate = "FAIL (" + ", ".join(failed) + ")" if failed else "PASS"
    rows.append(f'| {label} | {size:.1f} MB | ' + " | ".join(cells) +
                f' | {ppl} | {p["kld"]:.4f} | {100 * p["top1_agreement"]:.2f}% | {gate} |')
ns = ", ".join(f'{s} {first["suites"][s]["n"]}' for s in suites)
base = [f'{first["suites"][s]["baseline"]:.3f}' for s in suites]
fp32 = os.path.getsize(os.path.join(d, "fp32.so.weights")) / 1e6
print(f"cases: {ns}; score (relative delta [95% paired interval, %])")
print("| setting | weights | " + " | ".join(suites) +
      " | perplexity | KLD | top-1 agr. | gate |")
print("|---|---:|" + "---:|" * (len(suites) + 3) + "---|")
print(f"| fp32 | {fp32:.1f} MB | " + " | ".join(base) +
      f' | {first["perplexity"]["baseline"]:.4f} | - | - | - |')
print("\n".join(rows))
PY
  ;;
*)
  echo "usage: bench/quality_table.sh compile|eval DIR [flags]" >&2
  exit 2
  ;;
esac
