#!/usr/bin/env bash
# The whole GPU measurement in one go, on the device machine (CUDA driver,
# PyTorch; no LLVM needed). First, on the build machine:
#   bench/gpu/prepare.sh            # fills .devwork/gpu/
# then on the GPU machine, from the repository root, with .devwork/gpu
# copied along (the device tool: carry [".devwork/gpu"]):
#   bash bench/gpu/run_device.sh    # writes $OUT/bench.txt when OUT is set
set -uo pipefail
out="${OUT:-.devwork/gpu/out}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem \
  --format=csv 2>&1 | tee "$out/nvidia-smi.txt"
PYTHONUNBUFFERED=1 python3 bench/gpu/bench_w4.py --dir .devwork/gpu "$@" 2>&1 |
  tee "$out/bench.txt"
exit "${PIPESTATUS[0]}"
