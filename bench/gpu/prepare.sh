#!/usr/bin/env bash
# Builds, on the build machine (LLVM/MLIR + the CUDA toolkit's ptxas), what
# bench/gpu/run_device.sh needs on the GPU machine, into .devwork/gpu/:
# the int4 GEMM kernels of bench/gpu/kernels.txt as a cubin and as PTX
# (qopt-gpu-kernel-gen), ptxas -v's report, and libqrt.so (no LLVM inside).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${QOPT_BUILD:-$root/build}"
out="$root/.devwork/gpu"
mkdir -p "$out"
args=()
while read -r cfg; do
  [ -n "$cfg" ] && args+=("--w4-gemm=$cfg")
done <"$root/bench/gpu/kernels.txt"
"$build/bin/qopt-gpu-kernel-gen" "${args[@]}" --emit=ptx -o "$out/kernels.ptx"
"$build/bin/qopt-gpu-kernel-gen" "${args[@]}" --emit=cubin --ptxas-verbose \
  -o "$out/kernels.cubin" 2>"$out/ptxas.txt"
cp "$root/bench/gpu/kernels.txt" "$out/"
cp "$build/lib/libqrt.so" "$out/"
grep -E "Compiling entry|Used|spill" "$out/ptxas.txt" | paste - - - |
  sed -E 's/ptxas info *: //g; s/Compiling entry function //' |
  awk '{print}' | cut -c1-160
