#!/usr/bin/env bash
# The long differential-testing run against ONNX Runtime (issue 11): random
# small ONNX graphs (utils/difftest/gen.mjs) compiled by qopt-compile under
# every option variant (default, -O0, --ukernels=false, --vectorize=false,
# static shapes), run by qrun with 1 and 2 threads and by onnxruntime-node,
# compared with ONNX's backend-test tolerance. Prints the graphs tried, the
# findings (each minimized to the fewest consecutive nodes that still fail)
# and where they are. test/Target/CPU/difftest.test runs a fixed seed range
# of the same generator in the test suite.
#
# usage: bench/difftest.sh [--count N | --time SECONDS] [--seed-base S]
#                          [--findings DIR] [--build DIR] [--variants V]
#   defaults: --time 1800, a seed base from the clock (printed, so a run can
#   be repeated), findings in build/difftest-findings, variants "all".
#
# The tools are copied out of the build dir first (under the build lock that
# every build takes), so that a rebuild during the run cannot mix versions.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build"
count=""
seconds=1800
base=""
findings=""
variants=all
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; seconds=""; shift 2 ;;
    --time) seconds="$2"; shift 2 ;;
    --seed-base) base="$2"; shift 2 ;;
    --findings) findings="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --variants) variants="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
    *) echo "bench/difftest.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
findings="${findings:-$build/difftest-findings}"
# Seeds below 1000000 belong to the test suite's fixed range and to earlier
# runs; a clock-based base keeps long runs exploring new graphs.
base="${base:-$(( ($(date +%s) % 100000) * 10000 + 1000000 ))}"

# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"
ensure_ort

snap="$(mktemp -d /tmp/qopt-difftest-tools.XXXXXX)"
trap 'rm -rf "$snap"' EXIT
mkdir -p "$snap/bin" "$snap/lib"
flock /tmp/qopt-build.lock sh -c '
  cp "$1"/bin/qopt-compile "$1"/bin/qrun "$1"/bin/onnx-text2pb "$2/bin/" &&
  cp "$1"/lib/*.so "$2/lib/"' sh "$build" "$snap"

limit=(--count "${count:-1000000}")
[ -n "$seconds" ] && limit=(--time "$seconds")
echo "difftest: seed base $base, variants $variants, ${seconds:+$seconds s}${count:+$count graphs}"
# The binaries' RUNPATH names the build dir; LD_LIBRARY_PATH wins over it.
LD_LIBRARY_PATH="$snap/lib" node "$root/utils/difftest/difftest.mjs" \
  --bin "$snap/bin" --seed-base "$base" "${limit[@]}" --variants "$variants" \
  --findings "$findings" --minimize --stats
