#!/usr/bin/env bash
# Everything bench/gpu/device_all.sh runs on the GPU machine, built here in
# one go: the int4 kernels (.devwork/gpu), the prefill GEMMs
# (.devwork/gpugemm) and the whole-model artifacts (.devwork/cudamodel).
# The folders share the model folder's libqrt.so, so that the three fit the
# device call's 64 MiB working-tree limit together; then call the device
# tool with carry [".devwork/gpu", ".devwork/gpugemm", ".devwork/cudamodel"].
set -euo pipefail
cd "$(dirname "$0")/../.."
bash bench/gpu/prepare.sh >/dev/null
bash bench/gpu/prepare_gemm.sh >/dev/null
bash bench/gpu/prepare_model.sh 2>/dev/null
rm -f .devwork/gpu/libqrt.so .devwork/gpugemm/libqrt.so
du -cb .devwork/gpu .devwork/gpugemm .devwork/cudamodel | tail -1
