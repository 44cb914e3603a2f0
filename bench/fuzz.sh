#!/usr/bin/env bash
# Exploratory fuzzing of qrun's tensor and model readers (qrun-tensor-fuzzer)
# and of the importer (onnx-import-fuzzer), both ASan + UBSan, side by side
# (one core each) for SECONDS, from a random seed and a fresh corpus under
# BUILD_DIR/fuzz-runs/. The test suite's fuzz tests are deterministic
# (-seed=1, a fixed -runs) and replay test/*/Inputs/fuzz-regressions; this is
# where new bugs are found. libFuzzer runs in fork mode and keeps going after
# a crash; every input that crashed, leaked, hung or ran out of memory lands
# in the run's findings/ folder, and the script ends by saying how to turn
# each into a regression corpus file.
#
# usage: bench/fuzz.sh [SECONDS] [BUILD_DIR]
#   QOPT_FUZZ_SEED=N  repeat a run's seed (the script prints it)
#   QOPT_FUZZERS="qrun-tensor-fuzzer"  fuzz only some targets
# Exit status: 0 without findings, 1 with findings, 2 on usage errors.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-600}"
build="${2:-$root/build}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: bench/fuzz.sh [SECONDS] [BUILD_DIR]" >&2
  exit 2
fi
fuzzers=(${QOPT_FUZZERS:-qrun-tensor-fuzzer onnx-import-fuzzer})
for fuzzer in "${fuzzers[@]}"; do
  if [ ! -x "$build/bin/$fuzzer" ]; then
    echo "fuzz.sh: $build/bin/$fuzzer is missing (ninja -C $build $fuzzer)" >&2
    exit 2
  fi
done
seed="${QOPT_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
run="$build/fuzz-runs/$(date -u +%Y%m%d-%H%M%S)"
proto=/usr/include/onnx
echo "fuzz.sh: seed $seed, $seconds s per fuzzer, in $run"

# The seeds of the test suite's fuzz tests, plus their regression corpora.
seed_corpus() {
  local fuzzer="$1" corpus="$2"
  mkdir -p "$corpus"
  case "$fuzzer" in
  qrun-tensor-fuzzer)
    cp "$root"/test/Runner/Inputs/*.npy \
      "$root"/test/Runner/Inputs/fuzz-regressions/* \
      "$root/test/Import/Inputs/models/llama.onnx" "$corpus/"
    printf 'dims: 2\ndims: 3\ndata_type: 1\nraw_data: "\\000\\000\\200?\\000\\000\\000@\\000\\000@@\\000\\000\\200@\\000\\000\\240@\\000\\000\\300@"\n' |
      protoc --encode=onnx.TensorProto -I "$proto" onnx.proto > "$corpus/raw.pb"
    printf 'dims: 3\ndata_type: 1\nfloat_data: 1\nfloat_data: 2\nfloat_data: 3\n' |
      protoc --encode=onnx.TensorProto -I "$proto" onnx.proto > "$corpus/floats.pb"
    printf 'dims: 2\ndata_type: 7\nint64_data: -1\nint64_data: 5\n' |
      protoc --encode=onnx.TensorProto -I "$proto" onnx.proto > "$corpus/ints.pb"
    ;;
  onnx-import-fuzzer)
    cp "$root"/test/Import/Inputs/models/*.onnx \
      "$root"/test/Import/Inputs/fuzz-regressions/* "$corpus/"
    grep -v '^#' "$root/test/Import/ONNX/Inputs/external.textproto" |
      protoc --encode=onnx.ModelProto -I "$proto" onnx.proto > "$corpus/external.onnx"
    local text="$run/$fuzzer/text"
    /usr/lib/llvm-22/bin/split-file "$root/test/Import/fuzz.test" "$text"
    for graph in "$text"/*.onnxtxt; do
      "$build/bin/onnx-text2pb" "$graph" "$corpus/$(basename "$graph" .onnxtxt).onnx"
    done
    ;;
  esac
}

for fuzzer in "${fuzzers[@]}"; do
  dir="$run/$fuzzer"
  mkdir -p "$dir/findings"
  seed_corpus "$fuzzer" "$dir/corpus"
  echo "fuzz.sh: $fuzzer: $(ls "$dir/corpus" | wc -l) seed inputs"
  (cd "$dir" && "$build/bin/$fuzzer" -seed="$seed" -max_total_time="$seconds" \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$dir/findings/" "$dir/corpus" > "$dir/log" 2>&1) &
done
wait || true

status=0
for fuzzer in "${fuzzers[@]}"; do
  dir="$run/$fuzzer"
  # Fork mode's progress lines: "#N: cov: C ft: F corp: K exec/s: E ...".
  last="$(grep -E '^#[0-9]+: cov:' "$dir/log" | tail -n 1 || true)"
  echo "fuzz.sh: $fuzzer: ${last:-no progress line (see $dir/log)}"
  mapfile -t found < <(find "$dir/findings" -type f | sort)
  if [ "${#found[@]}" -eq 0 ]; then
    echo "  no findings; corpus $dir/corpus ($(ls "$dir/corpus" | wc -l) inputs)"
    continue
  fi
  status=1
  case "$fuzzer" in
  qrun-tensor-fuzzer) regressions=test/Runner/Inputs/fuzz-regressions ;;
  onnx-import-fuzzer) regressions=test/Import/Inputs/fuzz-regressions ;;
  esac
  echo "  ${#found[@]} finding(s):"
  for file in "${found[@]}"; do
    echo "    $file"
  done
  cat <<EOF
  To turn a finding into a regression corpus file:
    1. reproduce it (libFuzzer runs a file given as an argument once):
         $build/bin/$fuzzer FINDING
    2. optionally shrink it first:
         $build/bin/$fuzzer -minimize_crash=1 -runs=100000 -exact_artifact_path=SMALL FINDING
    3. fix the bug, then keep the input under a name that says what broke:
         cp FINDING $root/$regressions/WHAT-BROKE.EXT
       The fuzz test replays every file there and seeds its bounded run with
       them; add a lit test with the error message too where one applies.
EOF
done
exit "$status"
