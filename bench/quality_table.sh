#!/usr/bin/env bash
# The per-capability quality table of docs/quality.md: the bundled model
# (models/bytellama2, suites evals/v2) quantized with several settings (RTN,
# GPTQ, W8A8, SmoothQuant), each scored by `qrun eval` against the fp32
# baseline on all suites, with
# paired 95% intervals, and the mean KL divergence and top-1 agreement
# against the baseline on the perplexity text.
# QOPT_MODEL and QOPT_SUITES select another model and its suites (v1:
# models/bytellama/model.onnx and evals). QOPT_TABLE_SETTINGS (a grep -E
# regex on the setting names, e.g. 'gptq') compiles only those.
#
# GPTQ rows (qopt-quantize-weights-gptq) need a calibration set:
# $QOPT_GPTQ_CALIB (JSONL or .npy), by default DIR/calib.jsonl made by
# scripts/calibration_set.py from the bundled model's training stream with
# $QOPT_GPTQ_CALIB_N sequences (128) of $QOPT_GPTQ_CALIB_SEQ bytes (2048).
# One Hessian calibration (DIR/gptq-calib, scripts/calibrate.sh) serves
# every GPTQ row but the true-sequential ones (scripts/gptq.sh
# --true-sequential, which calibrates block by block into DIR/<name>/).
# The same calibration set, observed with min_max and abs_max
# (DIR/static-calib), serves the static W8A8 rows: SmoothQuant reads abs_max,
# W8A8 static the (smoothed) min_max ranges. The clipping observers
# (percentile, mse, histogram) on the same set go to DIR/clip-calib, for
# the W8A8 static rows with range=percentile|mse|histogram; min_max and
# abs_max on a prose-only set (DIR/calib-prose.jsonl, calibration_set.py
# --tasks prose) to DIR/prose-calib, for the calibration-set ablation.
#
#   bench/quality_table.sh compile DIR [qopt-compile flags]
#       compiles fp32 and every setting below into DIR (needs the build);
#   bench/quality_table.sh eval DIR [qrun eval flags, e.g. --limit 60]
#       evaluates each DIR/<setting>.so against DIR/fp32.so, writes
#       DIR/<setting>.json and prints the table as markdown rows. Needs only
#       qrun and libqrt ($QRUN, default build/bin/qrun), so the artifacts
#       can be compiled here and evaluated on another machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:?usage: bench/quality_table.sh compile|eval DIR [flags]}"
dir="${2:?usage: bench/quality_table.sh compile|eval DIR [flags]}"
shift 2
model="${QOPT_MODEL:-$root/models/bytellama2/model.onnx}"
suites_dir="${QOPT_SUITES:-$root/evals/v2}"
settings=(
  "int8_pc|RTN int8 per channel|bits=8 granularity=per-channel"
  "int4_g128|RTN int4 g128|bits=4 granularity=per-group group-size=128"
  "int4_pc|RTN int4 per channel|bits=4 granularity=per-channel"
  "int3_g128|RTN int3 g128|bits=3 granularity=per-group group-size=128"
  "int3_g32|RTN int3 g32|bits=3 granularity=per-group group-size=32"
  "int3_pc|RTN int3 per channel|bits=3 granularity=per-channel"
  "int4_g128_clip|RTN int4 g128, clip search|bits=4 granularity=per-group group-size=128 clip-search=true"
  "int3_g128_clip|RTN int3 g128, clip search|bits=3 granularity=per-group group-size=128 clip-search=true"
  "int4_pc_clip|RTN int4 per channel, clip search|bits=4 granularity=per-channel clip-search=true"
  "int2_g32_asym|RTN int2 g32 asymmetric|bits=2 granularity=per-group group-size=32 symmetric=false"
  # name|label|options|kind (gptq: one shared calibration; gptq-seq:
  # true-sequential, calibrated block by block)
  "gptq-int4-g128|GPTQ int4 g128|bits=4 granularity=per-group group-size=128|gptq"
  "gptq-int4-g128-actorder|GPTQ int4 g128 act-order|bits=4 granularity=per-group group-size=128 act-order=true|gptq"
  "gptq-int4-g128-actorder-perm|GPTQ int4 g128 act-order (permuted groups, folded)|bits=4 granularity=per-group group-size=128 act-order=true static-groups=false|gptq"
  "gptq-int4-g128-trueseq|GPTQ int4 g128 true-sequential|bits=4 granularity=per-group group-size=128|gptq-seq"
  "gptq-int4-pc|GPTQ int4 per channel|bits=4 granularity=per-channel|gptq"
  "gptq-int4-pc-actorder|GPTQ int4 per channel act-order|bits=4 granularity=per-channel act-order=true|gptq"
  "gptq-int3-g128|GPTQ int3 g128|bits=3 granularity=per-group group-size=128|gptq"
  "gptq-int3-g128-actorder|GPTQ int3 g128 act-order|bits=3 granularity=per-group group-size=128 act-order=true|gptq"
  "gptq-int3-g128-trueseq|GPTQ int3 g128 true-sequential|bits=3 granularity=per-group group-size=128 act-order=true|gptq-seq"
  "gptq-int3-pc|GPTQ int3 per channel|bits=3 granularity=per-channel|gptq"
  "gptq-int3-pc-actorder|GPTQ int3 per channel act-order|bits=3 granularity=per-channel act-order=true|gptq"
  # clip-search: each grid's range searched for the least |error|^2.4.
  "gptq-int4-g128-actorder-clip|GPTQ int4 g128 act-order, clip search|bits=4 granularity=per-group group-size=128 act-order=true clip-search=true|gptq"
  "gptq-int3-g128-actorder-clip|GPTQ int3 g128 act-order, clip search|bits=3 granularity=per-group group-size=128 act-order=true clip-search=true|gptq"
  "gptq-int4-pc-actorder-clip|GPTQ int4 per channel act-order, clip search|bits=4 granularity=per-channel act-order=true clip-search=true|gptq"
  "gptq-int4-g128-actorder-clip-trueseq|GPTQ int4 g128 act-order, clip search, true-sequential|bits=4 granularity=per-group group-size=128 act-order=true clip-search=true|gptq-seq"
  # kind pipeline: OPTIONS is the pre-pipeline; calibrated: it runs on the
  # IR calibrated with min_max and abs_max.
  "w8a8_dynamic|W8A8 dynamic per token|qopt-quantize-w8a8{activations=dynamic}|pipeline"
  "fp8_dynamic|FP8 E4M3 W8A8 dynamic per token|qopt-quantize-w8a8{activations=dynamic storage=f8E4M3FN}|pipeline"
  "w8a8_static|W8A8 static per tensor (min/max)|qopt-quantize-w8a8{activations=static}|calibrated"
  "sq_w8a8_static|SmoothQuant (alpha 0.5) + W8A8 static|qopt-smooth-quant{alpha=0.5},qopt-quantize-w8a8{activations=static}|calibrated"
  "w8a8_static_pct|W8A8 static per tensor (percentile 99.99)|qopt-quantize-w8a8{activations=static range=percentile}|calibrated-clip"
  "w8a8_static_mse|W8A8 static per tensor (MSE clip)|qopt-quantize-w8a8{activations=static range=mse}|calibrated-clip"
  "w8a8_static_kl|W8A8 static per tensor (histogram KL clip)|qopt-quantize-w8a8{activations=static range=histogram}|calibrated-clip"
  "sq025_w8a8_static|SmoothQuant (alpha 0.25) + W8A8 static|qopt-smooth-quant{alpha=0.25},qopt-quantize-w8a8{activations=static}|calibrated"
  "sq075_w8a8_static|SmoothQuant (alpha 0.75) + W8A8 static|qopt-smooth-quant{alpha=0.75},qopt-quantize-w8a8{activations=static}|calibrated"
  "sq090_w8a8_static|SmoothQuant (alpha 0.9) + W8A8 static|qopt-smooth-quant{alpha=0.9},qopt-quantize-w8a8{activations=static}|calibrated"
  "sq_w8a8_static_prose|SmoothQuant (alpha 0.5) + W8A8 static, prose-only calibration|qopt-smooth-quant{alpha=0.5},qopt-quantize-w8a8{activations=static}|calibrated-prose"
  "w8a8_static_prose|W8A8 static per tensor (min/max), prose-only calibration|qopt-quantize-w8a8{activations=static}|calibrated-prose"
)
if [ -n "${QOPT_TABLE_SETTINGS:-}" ]; then
  selected=()
  for s in "${settings[@]}"; do
    grep -qE "$QOPT_TABLE_SETTINGS" <<<"${s%%|*}" && selected+=("$s")
  done
  settings=("${selected[@]}")
fi
case "$mode" in
compile)
  source "$root/scripts/lib.sh"
  mkdir -p "$dir"
  "$QOPT_BUILD/bin/qopt-compile" "$model" -o "$dir/fp32.so" "$@"
  calib="${QOPT_GPTQ_CALIB:-$dir/calib.jsonl}"
  for s in "${settings[@]}"; do
    IFS='|' read -r name _ options kind <<<"$s"
    case "${kind:-rtn}" in
    rtn)
      "$QOPT_BUILD/bin/qopt-compile" "$model" -o "$dir/$name.so" \
        --pre-pipeline="qopt-rtn-weight-only{$options}" "$@"
      ;;
    pipeline)
      "$QOPT_BUILD/bin/qopt-compile" "$model" -o "$dir/$name.so" \
        --pre-pipeline="$options" "$@" 2>"$dir/$name.log" ||
        { cat "$dir/$name.log" >&2; exit 1; }
      ;;
    calibrated | calibrated-clip | calibrated-prose)
      # Three calibrations, each run once per DIR: min/max + per-channel
      # abs-max on the mixed set (static W8A8, SmoothQuant), the clipping
      # observers on the mixed set, and min/max + abs-max on prose only
      # (the calibration-set ablation).
      set_file="$calib" observers=min_max,abs_max cdir="$dir/static-calib"
      case "$kind" in
      calibrated-clip)
        observers=percentile,mse,histogram cdir="$dir/clip-calib" ;;
      calibrated-prose)
        set_file="$dir/calib-prose.jsonl" cdir="$dir/prose-calib"
        [ -f "$set_file" ] || python3 "$root/scripts/calibration_set.py" \
          "$set_file" --tasks prose -n "${QOPT_GPTQ_CALIB_N:-128}" \
          --seq "${QOPT_GPTQ_CALIB_SEQ:-2048}"
        ;;
      esac
      [ -f "$calib" ] || python3 "$root/scripts/calibration_set.py" "$calib" \
        -n "${QOPT_GPTQ_CALIB_N:-128}" --seq "${QOPT_GPTQ_CALIB_SEQ:-2048}"
      if [ ! -f "$cdir/calibrated.mlirbc" ]; then
        QOPT_BIN="$QOPT_BUILD/bin" "$root/scripts/calibrate.sh" "$model" \
          "$set_file" "$cdir" --observers="$observers" --batch 4
      fi
      "$QOPT_BUILD/bin/qopt-compile" "$cdir/calibrated.mlirbc" \
        -o "$dir/$name.so" --pre-pipeline="$options" "$@" \
        2>"$dir/$name.log" || { cat "$dir/$name.log" >&2; exit 1; }
      ;;
    gptq | gptq-seq)
      if [ ! -f "$calib" ]; then
        python3 "$root/scripts/calibration_set.py" "$calib" \
          -n "${QOPT_GPTQ_CALIB_N:-128}" --seq "${QOPT_GPTQ_CALIB_SEQ:-2048}"
      fi
      if [ "$kind" = gptq-seq ]; then
        QOPT_BIN="$QOPT_BUILD/bin" "$root/scripts/gptq.sh" "$model" "$calib" \
          "$dir/$name" --true-sequential $options
        cp "$dir/$name/model.so" "$dir/$name.so"
        cp "$dir/$name/model.so.weights" "$dir/$name.so.weights"
        continue
      fi
      if [ ! -f "$dir/gptq-calib/calibrated.mlirbc" ]; then
        QOPT_BIN="$QOPT_BUILD/bin" "$root/scripts/calibrate.sh" "$model" \
          "$calib" "$dir/gptq-calib" --observers=hessian
      fi
      "$QOPT_BUILD/bin/qopt" "$dir/gptq-calib/calibrated.mlirbc" \
        -o "$dir/$name.mlirbc" --emit-bytecode --pass-pipeline="builtin.module(qopt-quantize-weights-gptq{$options},canonicalize,cse,qopt-fold-input-permutations)" \
        2> >(grep "gptq: quantized\|fold-input-permutations: folded" >&2)
      "$QOPT_BUILD/bin/qopt-compile" "$dir/$name.mlirbc" -o "$dir/$name.so" "$@"
      ;;
    esac
  done
  ;;
eval)
  qrun="${QRUN:-$root/build/bin/qrun}"
  done_settings=()
  for s in "${settings[@]}"; do
    IFS='|' read -r name _ _ _ <<<"$s"
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
    name, label = spec.split("|")[:2]
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
