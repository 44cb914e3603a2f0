#!/usr/bin/env bash
# The prefill GEMM measurement in one go, on the device machine (CUDA
# driver, PyTorch; no LLVM needed). First, on the build machine:
#   bench/gpu/prepare_gemm.sh          # fills .devwork/gpugemm/
# then on the GPU machine, from the repository root, with .devwork/gpugemm
# copied along (the device tool: carry [".devwork/gpugemm"]):
#   bash bench/gpu/run_gemm_device.sh  # writes $OUT/gemm.txt when OUT is set
set -uo pipefail
out="${OUT:-.devwork/gpugemm/out}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem \
  --format=csv 2>&1 | tee "$out/nvidia-smi.txt"
# The SASS of the kernels, when the toolkit is there: HGMMA/IGMMA/QGMMA
# mean wgmma reached the tensor cores.
for d in /usr/local/cuda/bin ""; do
  if command -v "${d:+$d/}cuobjdump" >/dev/null 2>&1; then
    "${d:+$d/}cuobjdump" -sass .devwork/gpugemm/gemm.cubin >"$out/gemm.sass" 2>&1 &&
      grep -oE "\b(HGMMA|IGMMA|QGMMA|UTMALDG)[A-Z0-9_.]*" "$out/gemm.sass" |
      cut -d. -f1-2 | sort | uniq -c
    break
  fi
done
export PYTHONUNBUFFERED=1
# The edge-shape checks first, under a timeout: a kernel that waits forever
# on an mbarrier then still leaves the device call its output.
timeout 90 python3 bench/gpu/bench_gemm.py --dir .devwork/gpugemm --smoke 2>&1 |
  tee "$out/smoke.txt"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || exit "$rc"
timeout "${BENCH_TIMEOUT:-300}" python3 bench/gpu/bench_gemm.py \
  --dir .devwork/gpugemm "$@" 2>&1 | tee "$out/gemm.txt"
exit "${PIPESTATUS[0]}"
