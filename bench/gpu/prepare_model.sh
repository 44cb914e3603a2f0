#!/usr/bin/env bash
# Builds what bench/gpu/model_device.sh runs on the GPU machine into
# .devwork/cudamodel (about 40 MB): qrun and its libraries (no LLVM), and
# the bundled model bytellama2 (fp32 and RTN int4 g128) and bench/gpu/mlp.mlir
# compiled for the GPU (--target=cuda:sm_90a) and for a generic x86-64 CPU
# (kept here in .devwork/cudamodel-cpu: their outputs on the checked inputs
# go to .devwork/cudamodel/ref, so that the device call stays under its
# 64 MiB limit). Run from the repository root after the build
# (qopt-compile, qrun).
# --no-fp32-cpu leaves out the fp32 CPU artifact (15 MB), so that the
# device call's working tree stays under its 64 MiB limit; model_device.py
# then checks the fp32 model against ONNX Runtime alone.
set -euo pipefail
no_fp32_cpu=0
[ "${1:-}" = --no-fp32-cpu ] && no_fp32_cpu=1
build="${QOPT_BUILD:-build}"
dir=.devwork/cudamodel
chip="${QOPT_GPU_CHIP:-sm_90a}"
cpu="$dir-cpu"
rm -rf "$dir" "$cpu"
mkdir -p "$dir/bin" "$dir/lib" "$dir/art" "$cpu"
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
    -o "$cpu/${name}_cpu.so" "$@"
}
compile mlp bench/gpu/mlp.mlir
compile bl2_fp32 models/bytellama2/model.onnx
compile bl2_int4 models/bytellama2/model.onnx \
  --pre-pipeline='qopt-rtn-weight-only{bits=4 granularity=per-group group-size=128}'
if [ "$no_fp32_cpu" = 1 ]; then
  rm -f "$dir/art/bl2_fp32_cpu.so" "$dir/art/bl2_fp32_cpu.so.weights"
fi
strip --strip-unneeded "$dir"/bin/* "$dir"/lib/*.so "$dir"/art/*.so
strip --strip-unneeded "$dir"/bin/* "$dir"/lib/*.so "$dir"/art/*.so
"${PYTHON:-/usr/bin/python3}" bench/gpu/model_device.py --dir "$dir" --make-refs "$cpu"
du -sh "$dir"
