#!/usr/bin/env bash
# Builds what bench/gpu/calib_device.sh runs on the GPU machine into
# .devwork/cudacal (about 10 MB): qrun and its libraries (no LLVM) and a
# calibration build (min/max, per-channel absmax and Hessian observers
# inserted before RTN, which quantizes the observed layers after them) of
# the bundled model bytellama2 with RTN int4 g128 weights (small enough to
# travel beside the repository), compiled for the GPU (--target=cuda) and
# for a generic x86-64 CPU (the reference, run on the device's CPU). Run
# from the repository root after the build (qopt-compile, qrun).
set -euo pipefail
build="${QOPT_BUILD:-build}"
dir=.devwork/cudacal
chip="${QOPT_GPU_CHIP:-sm_90a}"
rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/lib" "$dir/art"
cp "$build/bin/qrun" "$dir/bin/"
for lib in libqrt.so libQOptRunner.so libQOptCalibration.so; do
  cp -L "$build/lib/$lib" "$dir/lib/"
done
pre='builtin.module(qopt-insert-observers{observers=min_max,abs_max,hessian},qopt-rtn-weight-only{bits=4 granularity=per-group group-size=128})'
"$build/bin/qopt-compile" models/bytellama2/model.onnx --target=cuda:"$chip" \
  --target-cpu=x86-64-v3 --pre-pipeline="$pre" -o "$dir/art/obs_cuda.so" \
  2>/dev/null
"$build/bin/qopt-compile" models/bytellama2/model.onnx --target-cpu=x86-64-v3 \
  --pre-pipeline="$pre" -o "$dir/art/obs_cpu.so" 2>/dev/null
strip --strip-unneeded "$dir"/bin/* "$dir"/lib/*.so "$dir"/art/*.so
du -sh "$dir"
