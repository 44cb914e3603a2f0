//===- CudaGemm.cpp - launching the Hopper prefill GEMM kernels -----------===//
//
// Plans bind a generated `qopt_gemm_*` kernel (GPUKernelABI.h) to its A and
// B buffers: the two TMA descriptors are encoded once on the host and kept
// in device memory, so a launch is one cuLaunchKernel (capturable in a
// CUDA graph). Built only on the public CUDA device API of qrt_cuda.h.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runtime/GPUKernelABI.h"
#include "qopt/Runtime/qrt_cuda.h"

#include "Error.h"

#include <cstdio>
#include <cstring>
#include <new>

namespace {

// CUtensorMapDataType and CUtensorMapSwizzle values (cuda.h).
constexpr int kTmaUInt8 = 0, kTmaFloat16 = 6, kTmaBFloat16 = 9;
constexpr int kSwizzle128B = 3;

qrt_status fail(qrt_status status, const char *message) {
  qrt::setLastError(message);
  return status;
}

} // namespace

struct qrt_cuda_gemm_plan {
  qrt_cuda_device *dev;
  qrt_cuda_function fn;
  qrt_gpu_gemm_config cfg;
  uint64_t maps; // device copy of the two tensor maps
  int32_t m, n, k;
};

extern "C" qrt_status qrt_cuda_gemm_plan_create(qrt_cuda_device *dev,
                                                qrt_cuda_function fn,
                                                const qrt_gpu_gemm_config *cfg,
                                                uint64_t a, uint64_t b,
                                                int64_t m, int64_t n, int64_t k,
                                                qrt_cuda_gemm_plan **out) {
  // The config and the shape are checked before the device, so that bad
  // sizes are diagnosed the same with or without a GPU.
  if (!cfg || !out)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_gemm_plan_create: null argument");
  *out = nullptr;
  int elemBytes;
  int dataType;
  switch (cfg->type) {
  case QRT_GPU_GEMM_F16:
    elemBytes = 2, dataType = kTmaFloat16;
    break;
  case QRT_GPU_GEMM_BF16:
    elemBytes = 2, dataType = kTmaBFloat16;
    break;
  case QRT_GPU_GEMM_S8:
  case QRT_GPU_GEMM_E4M3:
    // TMA copies bytes; the kernel interprets them.
    elemBytes = 1, dataType = kTmaUInt8;
    break;
  default:
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_gemm_plan_create: unknown element type");
  }
  if ((cfg->out != QRT_GPU_GEMM_OUT_F16 && cfg->out != QRT_GPU_GEMM_OUT_F32) ||
      cfg->block_n < 64 || cfg->block_n > 256 || cfg->block_n % 16 ||
      cfg->stages < 2 || cfg->stages > 8 || cfg->consumers < 1 ||
      cfg->consumers > 2)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_gemm_plan_create: bad config");
  if (m < 1 || n < 1 || k < 1 || n % 8 || (k * elemBytes) % 16 ||
      m >= (int64_t(1) << 31) || n >= (int64_t(1) << 31) ||
      k >= (int64_t(1) << 31) || m * n >= (int64_t(1) << 31) ||
      (n + cfg->block_n - 1) / cfg->block_n > 65535) {
    char msg[256];
    snprintf(msg, sizeof(msg),
             "GEMM of M=%lld N=%lld K=%lld does not fit the kernel (N %% 8 "
             "== 0, K * %d bytes %% 16 == 0, M * N < 2^31)",
             (long long)m, (long long)n, (long long)k, elemBytes);
    return fail(QRT_ERROR_SHAPE, msg);
  }
  if (!dev || !fn || !a || !b)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_gemm_plan_create: null device, kernel or operand");
  unsigned shared = QRT_GPU_GEMM_SMEM_BYTES(cfg->block_n, cfg->stages);
  if (qrt_status s = qrt_cuda_function_set_shared(fn, shared))
    return s;

  alignas(64) unsigned char maps[2 * QRT_GPU_GEMM_TENSOR_MAP_BYTES];
  std::memset(maps, 0, sizeof(maps));
  uint32_t boxK = QRT_GPU_GEMM_STAGE_K_BYTES / elemBytes;
  uint64_t rowBytes = uint64_t(k) * elemBytes;
  if (qrt_status s = qrt_cuda_tensor_map_2d(dev, maps, dataType, a, uint64_t(k),
                                            uint64_t(m), rowBytes, boxK,
                                            QRT_GPU_GEMM_BLOCK_M, kSwizzle128B))
    return s;
  if (qrt_status s = qrt_cuda_tensor_map_2d(
          dev, maps + QRT_GPU_GEMM_TENSOR_MAP_BYTES, dataType, b, uint64_t(k),
          uint64_t(n), rowBytes, boxK, uint32_t(cfg->block_n), kSwizzle128B))
    return s;
  uint64_t devMaps = 0;
  if (qrt_status s = qrt_cuda_malloc(dev, sizeof(maps), &devMaps))
    return s;
  if (qrt_status s =
          qrt_cuda_copy_to_device(dev, devMaps, maps, sizeof(maps))) {
    qrt_cuda_free(dev, devMaps);
    return s;
  }
  auto *plan = new (std::nothrow) qrt_cuda_gemm_plan{
      dev, fn, *cfg, devMaps, int32_t(m), int32_t(n), int32_t(k)};
  if (!plan) {
    qrt_cuda_free(dev, devMaps);
    return fail(QRT_ERROR_OUT_OF_MEMORY, "qrt_cuda_gemm_plan_create: out of "
                                         "memory");
  }
  *out = plan;
  return QRT_OK;
}

extern "C" qrt_status qrt_cuda_gemm_plan_launch(qrt_cuda_gemm_plan *plan,
                                                uint64_t c, uint64_t aScale,
                                                uint64_t bScale, void *stream) {
  if (!plan || !c)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_gemm_plan_launch: null argument");
  bool scaled =
      plan->cfg.type == QRT_GPU_GEMM_S8 || plan->cfg.type == QRT_GPU_GEMM_E4M3;
  if (scaled && (!aScale || !bScale))
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_gemm_plan_launch: s8 and e4m3 GEMMs need both "
                "scales");
  void *params[QRT_GPU_GEMM_NUM_PARAMS] = {
      &plan->maps, &c, &aScale, &bScale, &plan->m, &plan->n, &plan->k};
  unsigned grid[3] = {
      unsigned((plan->m + QRT_GPU_GEMM_BLOCK_M - 1) / QRT_GPU_GEMM_BLOCK_M),
      unsigned((plan->n + plan->cfg.block_n - 1) / plan->cfg.block_n), 1};
  unsigned block[3] = {unsigned(128 * (1 + plan->cfg.consumers)), 1, 1};
  return qrt_cuda_launch(
      plan->dev, plan->fn, grid, block,
      QRT_GPU_GEMM_SMEM_BYTES(plan->cfg.block_n, plan->cfg.stages), stream,
      params);
}

extern "C" void qrt_cuda_gemm_plan_free(qrt_cuda_gemm_plan *plan) {
  if (!plan)
    return;
  qrt_cuda_free(plan->dev, plan->maps);
  delete plan;
}
