#!/usr/bin/env bash
# Whole models on the GPU, checked and timed, on the device machine (CUDA
# driver, Python with numpy, onnxruntime optional; no LLVM). First, on the
# build machine:
#   bench/gpu/prepare_model.sh      # fills .devwork/cudamodel/
# then on the GPU machine, from the repository root, with .devwork/cudamodel
# copied along (the device tool: carry [".devwork/cudamodel"]):
#   bash bench/gpu/model_device.sh  # writes $OUT/model.txt when OUT is set
set -uo pipefail
out="${OUT:-.devwork/cudamodel/out}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total \
  --format=csv 2>&1 | tee "$out/nvidia-smi.txt"
PYTHONUNBUFFERED=1 python3 bench/gpu/model_device.py "$@" 2>&1 |
  tee "$out/model.txt"
exit "${PIPESTATUS[0]}"
