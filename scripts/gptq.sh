#!/usr/bin/env bash
# GPTQ end to end: calibrate with the Hessian observer, quantize with
# qopt-quantize-weights-gptq, compile. Every intermediate stays in OUT_DIR:
#   OUT_DIR/calib/...            the calibration files, named as scripts/calibrate.sh names them, or
#   OUT_DIR/block<i>/...         those of block i (--true-sequential)
#   OUT_DIR/gptq.mlirbc          the quantized IR (permutations folded)
#   OUT_DIR/model.so(.weights)   the artifact
#   OUT_DIR/times.txt            seconds per step
# Usage: scripts/gptq.sh MODEL.onnx CALIB.jsonl|CALIB.npy OUT_DIR
#            [--true-sequential[=LAYERS]] [--limit N] [--batch N] [--max-memory BYTES]
#            [--threads N] [--no-fold] [GPTQ OPTION=VALUE...]
# GPTQ options are those of qopt-quantize-weights-gptq, e.g. bits=4
# group-size=128 act-order=true granularity=per-channel damp=0.01.
# With act-order=true static-groups=false (permuted groups) the layers'
# inputs get qopt.permute ops, which qopt-fold-input-permutations folds
# into their producers where it can (remarks in OUT_DIR/gptq.log);
# --no-fold leaves them all in place.
# --true-sequential: for each decoder block in order, calibrate only that
# block's layers on the model whose earlier blocks are already quantized,
# then quantize that block (llm-compressor's and GPTQModel's default).
# Blocks: layers named `...layers.<i>...` (optimum exports) group by <i>;
# otherwise consecutive runs of LAYERS linear layers in program order,
# the output head excluded (default 7: q, k, v, o, gate, up, down).
# A calibration set from the bundled model's training stream:
# scripts/calibration_set.py OUT.jsonl -n 32. Tools from $QOPT_BIN.
set -euo pipefail
if [[ $# -lt 3 ]]; then
  sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
model=$1 data=$2 out=$3
shift 3
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin=${QOPT_BIN:-"$root/build/bin"}
sequential=0 per_block=7 calib_flags=() gptq_options=() fold=1
while [[ $# -gt 0 ]]; do
  case "$1" in
  --true-sequential) sequential=1 ;;
  --true-sequential=*) sequential=1 per_block=${1#*=} ;;
  --no-fold) fold=0 ;;
  --limit | --batch | --threads | --max-memory) calib_flags+=("$1" "$2"); shift ;;
  --limit=* | --batch=* | --threads=* | --max-memory=*) calib_flags+=("${1%%=*}" "${1#*=}") ;;
  *=*) gptq_options+=("$1") ;;
  *) echo "gptq.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
options="${gptq_options[*]}"
fold_pass=""
[[ $fold -eq 1 ]] && fold_pass=",qopt-fold-input-permutations"
mkdir -p "$out"
: >"$out/times.txt"

# step NAME COMMAND...: runs it, records and prints its wall time.
step() {
  local name=$1 start end
  shift
  start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N)
  awk -v n="$name" -v s="$start" -v e="$end" \
    'BEGIN { printf "%-28s %8.2f s\n", n, e - s }' |
    tee -a "$out/times.txt" >&2
}

qopt_pass() {  # IN OUT PIPELINE [LOG]: the remarks go to LOG
  local run=("$bin/qopt" "$1" -o "$2" --emit-bytecode
    --pass-pipeline="builtin.module($3)")
  if [[ -n ${4:-} ]]; then
    "${run[@]}" 2>"$4" || { cat "$4" >&2; return 1; }
  else
    "${run[@]}"
  fi
}

qrun_calibrate() {  # DIR: the per-point lines go to DIR/calibrate.log
  "$bin/qrun" calibrate "$1/observed.so" --data "$data" \
    ${calib_flags[@]+"${calib_flags[@]}"} -o "$1/model.qstats" \
    >"$1/calibrate.log" 2>&1 || { tail -5 "$1/calibrate.log" >&2; return 1; }
}

calibrate() {  # DIR INPUT.mlirbc INCLUDE_REGEX -> DIR/calibrated.mlirbc
  local dir=$1 input=$2 include=$3
  mkdir -p "$dir"
  step "$(basename "$dir"): observers" qopt_pass "$input" "$dir/observed.mlirbc" \
    "qopt-insert-observers{observers=hessian include=\"$include\"}"
  step "$(basename "$dir"): compile" \
    "$bin/qopt-compile" "$dir/observed.mlirbc" -o "$dir/observed.so"
  step "$(basename "$dir"): qrun calibrate" qrun_calibrate "$dir"
  grep -h "^qrun calibrate:" "$dir/calibrate.log" >&2 || true
  step "$(basename "$dir"): apply" qopt_pass "$dir/observed.mlirbc" \
    "$dir/calibrated.mlirbc" "qopt-apply-calibration{stats=$dir/model.qstats}"
}

total_start=$(date +%s.%N)
step "import" "$bin/qopt-import" "$model" --emit=bytecode -o "$out/model.mlirbc"
if [[ $sequential -eq 0 ]]; then
  calibrate "$out/calib" "$out/model.mlirbc" ""
  step "gptq" qopt_pass "$out/calib/calibrated.mlirbc" "$out/gptq.mlirbc" \
    "qopt-quantize-weights-gptq{$options},canonicalize,cse$fold_pass" \
    "$out/gptq.log"
else
  # The layers in program order (the names of the points that
  # qopt-insert-observers would create: the head is not among them).
  mapfile -t layers < <("$bin/qopt" "$out/model.mlirbc" \
    --mlir-elide-resource-strings-if-larger=16 \
    --pass-pipeline="builtin.module(qopt-insert-observers{observers=min_max})" |
    grep -o 'qopt.observe [^ ]* name "[^"]*:input"' |
    sed 's/.*name "\(.*\):input"/\1/')
  # Block of each layer: layers.<i> in the name, else LAYERS per block.
  blocks=()
  for i in "${!layers[@]}"; do
    if [[ ${layers[$i]} =~ layers[._/]([0-9]+)[./_] ]]; then
      blocks+=("${BASH_REMATCH[1]}")
    else
      blocks+=("$((i / per_block))")
    fi
  done
  mapfile -t ids < <(printf '%s\n' "${blocks[@]}" | awk '!seen[$0]++')
  echo "true-sequential: ${#layers[@]} layers in ${#ids[@]} blocks" >&2
  current="$out/model.mlirbc"
  for b in "${ids[@]}"; do
    regex=""
    for i in "${!layers[@]}"; do
      [[ ${blocks[$i]} == "$b" ]] || continue
      # Regex-escape the name (llvm::Regex, POSIX ERE).
      name=$(printf '%s' "${layers[$i]}" | sed 's/[][\.^$*+?(){}|]/\\&/g')
      regex+="${regex:+|}$name"
    done
    calibrate "$out/block$b" "$current" "^($regex)\$"
    step "block$b: gptq" qopt_pass "$out/block$b/calibrated.mlirbc" \
      "$out/block$b/quantized.mlirbc" \
      "qopt-quantize-weights-gptq{$options only-calibrated=true}" \
      "$out/block$b/gptq.log"
    grep -h "gptq: quantized" "$out/block$b/gptq.log" >&2 || true
    current="$out/block$b/quantized.mlirbc"
  done
  # Layers outside the blocks, if any, by RTN (with a remark each).
  step "gptq (rest)" qopt_pass "$current" "$out/gptq.mlirbc" \
    "qopt-quantize-weights-gptq{$options},canonicalize,cse$fold_pass" \
    "$out/gptq.log"
fi
step "compile" "$bin/qopt-compile" "$out/gptq.mlirbc" -o "$out/model.so"
total_end=$(date +%s.%N)
grep -h "gptq: quantized\|fold-input-permutations: folded" "$out/gptq.log" >&2 ||
  true
awk -v s="$total_start" -v e="$total_end" \
  'BEGIN { printf "%-28s %8.2f s\n", "total", e - s }' |
  tee -a "$out/times.txt" >&2
echo "gptq: $out/model.so" >&2
