#!/usr/bin/env bash
# Builds what bench/gpu/model_device.sh runs on the GPU machine into
# .devwork/cudamodel (about 40 MB): qrun and its libraries (no LLVM), and
# the bundled model bytellama2 (fp32 and RTN int4 g128) and bench/gpu/mlp.mlir
# compiled for the GPU (--target=cuda:sm_90a) and for a generic x86-64 CPU
# (the reference, run on the device's CPU). Run from the repository root
# after the build (qopt-compile, qrun).
set -euo pipefail
build="${QOPT_BUILD:-build}"
dir=.devwork/cudamodel
chip="${QOPT_GPU_CHIP:-sm_90a}"
rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/lib" "$dir/art"
cp "$build/bin/qrun" "$dir/bin/"
for lib in libqrt.so libQOptRunner.so libQOptCalibration.so; do
  cp -L "$build/lib/$lib" "$dir/lib/"
done
compile() { # NAME INPUT [qopt-compile flags...]
  local name="$1" input="$2"
  shift 2
  # Host code for x86-64-v3 (AVX2): what any H100 host runs.
  "$build/bin/qopt-compile" "$input" --target=cuda:"$chip" \
    --target-cpu=x86-64-v3 -o "$dir/art/${name}_cuda.so" "$@"
  "$build/bin/qopt-compile" "$input" --target-cpu=x86-64-v3 \
    -o "$dir/art/${name}_cpu.so" "$@"
}
compile mlp bench/gpu/mlp.mlir
compile bl2_fp32 models/bytellama2/model.onnx
compile bl2_int4 models/bytellama2/model.onnx \
  --pre-pipeline='qopt-rtn-weight-only{bits=4 granularity=per-group group-size=128}'
du -sh "$dir"
