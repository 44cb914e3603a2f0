#!/usr/bin/env bash
# Builds, on the build machine (LLVM/MLIR + the CUDA toolkit's ptxas), what
# bench/gpu/run_gemm_device.sh needs on the GPU machine, into
# .devwork/gpugemm/: the Hopper prefill GEMM kernels of
# bench/gpu/gemm_kernels.txt as a cubin and as PTX (qopt-gpu-kernel-gen
# --gemm), ptxas -v's report, and libqrt.so (no LLVM inside).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${QOPT_BUILD:-$root/build}"
out="$root/.devwork/gpugemm"
mkdir -p "$out"
args=()
while read -r cfg; do
  [ -n "$cfg" ] && args+=("--gemm=$cfg")
done <"$root/bench/gpu/gemm_kernels.txt"
"$build/bin/qopt-gpu-kernel-gen" "${args[@]}" --emit=ptx -o "$out/gemm.ptx"
"$build/bin/qopt-gpu-kernel-gen" "${args[@]}" --emit=cubin --ptxas-verbose \
  -o "$out/gemm.cubin" 2>"$out/ptxas.txt"
cp "$root/bench/gpu/gemm_kernels.txt" "$out/"
cp "$build/lib/libqrt.so" "$out/"
grep -E "Compiling entry|Used|spill" "$out/ptxas.txt" | paste - - - |
  sed -E 's/ptxas info *: //g; s/Compiling entry function //' | cut -c1-160
if grep -q "C75" "$out/ptxas.txt"; then
  echo "prepare_gemm: ptxas reports a wgmma performance warning:" >&2
  grep "C75" "$out/ptxas.txt" >&2
fi
