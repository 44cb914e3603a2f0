#!/usr/bin/env bash
# Builds and runs bench/peak_flops.c: this machine's fp32 AVX2 FMA peak
# (GFLOP/s, one core and all cores), the roof for the matmul benchmarks.
#
# usage: bench/peak_flops.sh [THREADS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${QOPT_BUILD:-$root/build}/peak_flops"
mkdir -p "$(dirname "$bin")"
clang-22 -O2 -mavx2 -mfma -pthread "$root/bench/peak_flops.c" -o "$bin"
"$bin" "$@"
