/*===- qrt_cuda.h - libqrt's CUDA device ---------------------------*- C -*-===*
 *
 * A CUDA device for libqrt: the driver API reached only through
 * dlopen("libcuda.so.1") and cuGetProcAddress, so libqrt builds and runs
 * without CUDA; on a machine without a driver or GPU, qrt_cuda_open fails
 * with QRT_ERROR_DEVICE and says why. The device uses the GPU's primary
 * context (the one CUDA's runtime and PyTorch use), so device pointers from
 * either can be passed here.
 *
 *   qrt_cuda_device *dev;
 *   if (qrt_cuda_open(0, &dev) != QRT_OK) puts(qrt_last_error());
 *   qrt_cuda_module *mod;
 *   qrt_cuda_module_load_file(dev, "kernels.cubin", &mod);  // or .ptx
 *   qrt_cuda_function fn;
 *   qrt_cuda_module_function(mod, "qopt_w4g128_gemm_m16_t4_w4_u2", &fn);
 *   qrt_cuda_w4_gemm(dev, fn, &cfg, a, w, s, c, m, n, k, splits, stream);
 *
 * Device pointers are uint64_t; streams are CUstream values (0: the legacy
 * default stream). Every call returns a qrt_status with qrt_last_error().
 *
 *===----------------------------------------------------------------------===*/

#ifndef QOPT_RUNTIME_QRT_CUDA_H
#define QOPT_RUNTIME_QRT_CUDA_H

#include "qopt/Runtime/qrt.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qrt_cuda_device qrt_cuda_device;
typedef struct qrt_cuda_module qrt_cuda_module;
typedef void *qrt_cuda_function;

/** Opens GPU `ordinal`: loads the driver, retains the primary context and
    makes it current on the calling thread. */
qrt_status qrt_cuda_open(int ordinal, qrt_cuda_device **out);
void qrt_cuda_close(qrt_cuda_device *dev);
/** Name (NUL-terminated, truncated to `name_size`), SM count, compute
    capability. Any output pointer may be null. */
qrt_status qrt_cuda_device_info(qrt_cuda_device *dev, char *name,
                                size_t name_size, int *sm_count, int *cc_major,
                                int *cc_minor);

/** Loads PTX (text) or a cubin (ELF) from memory; PTX is compiled by the
    driver, and its log is in the error message on failure. */
qrt_status qrt_cuda_module_load(qrt_cuda_device *dev, const void *image,
                                size_t size, qrt_cuda_module **out);
qrt_status qrt_cuda_module_load_file(qrt_cuda_device *dev, const char *path,
                                     qrt_cuda_module **out);
qrt_status qrt_cuda_module_function(qrt_cuda_module *mod, const char *name,
                                    qrt_cuda_function *out);
void qrt_cuda_module_free(qrt_cuda_module *mod);

qrt_status qrt_cuda_malloc(qrt_cuda_device *dev, size_t bytes, uint64_t *out);
qrt_status qrt_cuda_free(qrt_cuda_device *dev, uint64_t ptr);
qrt_status qrt_cuda_copy_to_device(qrt_cuda_device *dev, uint64_t dst,
                                   const void *src, size_t bytes);
qrt_status qrt_cuda_copy_to_host(qrt_cuda_device *dev, void *dst, uint64_t src,
                                 size_t bytes);
qrt_status qrt_cuda_memset32(qrt_cuda_device *dev, uint64_t dst, uint32_t value,
                             size_t count, void *stream);
qrt_status qrt_cuda_synchronize(qrt_cuda_device *dev);

/** Makes the device's context current on the calling thread (each thread
    that launches or allocates needs it once). */
qrt_status qrt_cuda_make_current(qrt_cuda_device *dev);
/** CUDA managed memory (cuMemAllocManaged, attached globally): one pointer
    that both the host and the GPU dereference. */
qrt_status qrt_cuda_malloc_managed(qrt_cuda_device *dev, size_t bytes,
                                   void **out);
qrt_status qrt_cuda_free_managed(qrt_cuda_device *dev, void *ptr);
/** Migrates managed memory to the GPU ahead of use (a hint: devices without
    concurrent managed access ignore it and it never fails the caller). */
void qrt_cuda_prefetch(qrt_cuda_device *dev, const void *ptr, size_t bytes,
                       void *stream);
qrt_status qrt_cuda_stream_synchronize(qrt_cuda_device *dev, void *stream);

/* The devices of CUDA artifacts (ArtifactABI.h, version 4): one per
   process, GPU 0, opened by the first artifact load that needs it. */

/** The device CUDA artifacts run on, opened on first use; QRT_ERROR_DEVICE
    (and the reason) without a driver or GPU. */
qrt_status qrt_cuda_model_device(qrt_cuda_device **out);
/** The allocator of CUDA artifacts: managed memory, blocks cached by size
    for reuse. A failure ends the artifact's run with QRT_ERROR_DEVICE
    (these are called from compiled code only). */
void *qrt_cuda_model_alloc(size_t bytes);
void *qrt_cuda_model_aligned_alloc(size_t alignment, size_t bytes);
void qrt_cuda_model_free(void *ptr);

/** Launches `fn` with `params` (cuLaunchKernel's kernelParams: one pointer
    to each argument's value). */
qrt_status qrt_cuda_launch(qrt_cuda_device *dev, qrt_cuda_function fn,
                           const unsigned grid[3], const unsigned block[3],
                           unsigned shared_bytes, void *stream, void **params);

/** The compile-time shape of a generated int4 kernel (GPUKernelABI.h). */
typedef struct qrt_gpu_w4_config {
  int32_t max_m;
  int32_t tiles_per_warp;
  int32_t warps_per_block;
  int32_t groups_per_iter;
} qrt_gpu_w4_config;

/** C (f32, M x N) = A (fp16, M x K) x dequant(W, S)^T with a kernel of
    shape `cfg`, K split `splits` ways (C zeroed first when splits > 1;
    splits is clamped so each split has whole iterations). Checks the
    sizes against the kernel's requirements. */
qrt_status qrt_cuda_w4_gemm(qrt_cuda_device *dev, qrt_cuda_function fn,
                            const qrt_gpu_w4_config *cfg, uint64_t a,
                            uint64_t w, uint64_t s, uint64_t c, int64_t m,
                            int64_t n, int64_t k, int64_t splits, void *stream);

/** Raises `fn`'s dynamic shared-memory limit to `bytes`
    (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES): needed for more than
    48 KB. */
qrt_status qrt_cuda_function_set_shared(qrt_cuda_function fn, unsigned bytes);

/** Encodes a 2-D tiled TMA descriptor (a CUtensorMap: 128 bytes at `map`,
    host memory, 64-byte aligned) with cuTensorMapEncodeTiled: `outer` rows
    of `inner` elements of CUtensorMapDataType `data_type` at device address
    `base`, rows `row_bytes` apart, box `box_inner` x `box_outer`,
    CUtensorMapSwizzle `swizzle`; 256-byte L2 promotion, zeros out of
    bounds. */
qrt_status qrt_cuda_tensor_map_2d(qrt_cuda_device *dev, void *map,
                                  int data_type, uint64_t base, uint64_t inner,
                                  uint64_t outer, uint64_t row_bytes,
                                  uint32_t box_inner, uint32_t box_outer,
                                  int swizzle);

/** The compile-time shape of a generated Hopper prefill GEMM kernel
    (GPUKernelABI.h; qrt_gpu_gemm_type and qrt_gpu_gemm_out values). */
typedef struct qrt_gpu_gemm_config {
  int32_t type;
  int32_t out;
  int32_t block_n;
  int32_t stages;
  int32_t consumers;
} qrt_gpu_gemm_config;

/** A prefill GEMM bound to its operands: the TMA descriptors of A and B,
    encoded once and kept in device memory, and the launch shape. */
typedef struct qrt_cuda_gemm_plan qrt_cuda_gemm_plan;

/** Plans C (M x N) = A (M x K) x B (N x K)^T with kernel `fn` of shape
    `cfg` on device buffers `a` and `b` (row-major, K-major both): checks
    the sizes (GPUKernelABI.h), raises `fn`'s shared-memory limit, encodes
    the two tensor maps and copies them to the device (synchronously, so
    never while a stream is being captured). */
qrt_status qrt_cuda_gemm_plan_create(qrt_cuda_device *dev, qrt_cuda_function fn,
                                     const qrt_gpu_gemm_config *cfg, uint64_t a,
                                     uint64_t b, int64_t m, int64_t n,
                                     int64_t k, qrt_cuda_gemm_plan **out);
/** Launches a plan on `stream` (capturable into a CUDA graph): C at `c`;
    for s8 and e4m3 the f32 scales `a_scale` (M) and `b_scale` (N), which
    must be non-zero; ignored for f16 and bf16. */
qrt_status qrt_cuda_gemm_plan_launch(qrt_cuda_gemm_plan *plan, uint64_t c,
                                     uint64_t a_scale, uint64_t b_scale,
                                     void *stream);
void qrt_cuda_gemm_plan_free(qrt_cuda_gemm_plan *plan);

#ifdef __cplusplus
}
#endif

#endif /* QOPT_RUNTIME_QRT_CUDA_H */
