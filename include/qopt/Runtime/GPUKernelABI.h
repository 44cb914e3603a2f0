/*===- GPUKernelABI.h - the contract of qopt's generated GPU kernels -*- C
 * -*-===*
 *
 * Constants and layouts shared by the kernel generators (lib/Codegen/GPU),
 * the weight packer (lib/Runtime/GPUPack.cpp) and the CUDA device of libqrt.
 * Plain C: no LLVM, no MLIR, no CUDA.
 *
 * int4 weight-only GEMM, `qopt_w4g128_gemm_*` kernels:
 *
 *   C[m][n] = sum_k A[m][k] * (q[n][k] * s[n][k / 128])
 *
 *   A  fp16, row-major M x K (activations)
 *   W  packed int4 (below), N x K values q in [-8, 7]
 *   S  packed fp16 scales, one per (n, group of 128 k)
 *   C  f32, row-major M x N. With one K split the kernel stores C; with
 *      several (gridDim.y > 1) it atomically adds, so C must be zero first.
 *
 * Kernel parameters, in order: A, W, S, C (global pointers), M, N, K,
 * groups_per_split (i32). Block: 32 * warps threads; grid:
 * (ceil(N / (8 * tiles_per_warp * warps)), splits). Each warp owns
 * tiles_per_warp column tiles of 8 and a K range of groups_per_split groups
 * (a multiple of groups_per_iter); requirements: K % (128 * groups_per_iter)
 * == 0, N % (8 * tiles_per_warp) == 0, 1 <= M <= the kernel's max M.
 *
 * The W layout is the register operand of `mma.sync.m16n8k16` (B, col):
 * for column tile T (8 columns) and group G, 512 contiguous bytes at
 * ((T * K/128) + G) * 512; lane l = 4 g + t of the warp loads its 16 bytes at
 * l * 16: column n = 8 T + g, k in [128 G + 32 t, 128 G + 32 t + 32). Inside
 * each 32-bit word j (k0 = 128 G + 32 t + 8 j) the nibbles hold
 * u = q + 8 of k0 + {0, 2, 4, 6, 1, 3, 5, 7} from nibble 0 up, so that
 * (w & 0x000f000f) and (w & 0x00f000f0), then the same of w >> 8, are the
 * fp16 pairs of two k16 steps once or'ed into 0x6400 (1024 + u) -- the
 * `lop3` dequantization. The kernel permutes A's k the same way, which a dot
 * product does not see.
 *
 * S layout: fp16 at ((T * K/128) + G) * 8 + (n % 8).
 *
 * Hopper prefill GEMM, `qopt_gemm_<type>_<out>_n<BN>_s<S>_c<C>` kernels
 * (sm_90a; qopt-gpu-generate-gemm):
 *
 *   C[m][n] = sum_k A[m][k] * B[n][k]                       (f16, bf16)
 *   C[m][n] = sa[m] * sb[n] * sum_k A[m][k] * B[n][k]        (s8, e4m3)
 *
 *   A  row-major M x K, B row-major N x K (both K-major: B is the weight
 *      as a linear layer stores it); f16/bf16 accumulate in f32, s8 in
 *      s32 (exact), e4m3 in f32 (wgmma's fp8 accumulation).
 *   sa per-row activation scales (f32, M), sb per-column weight scales
 *      (f32, N): the W8A8 scheme of qopt-quantize-w8a8. Unused (may be 0)
 *      for f16/bf16.
 *   C  f16 or f32, row-major M x N.
 *
 * A and B are read by TMA through two CUtensorMaps (128 bytes each, the
 * driver's opaque format) that the host encodes once per (A, B) pair with
 * cuTensorMapEncodeTiled and copies into device memory:
 * qrt_cuda_gemm_plan_create does both. The kernel reads them from global
 * memory (not __grid_constant__ parameters: MLIR's gpu.func has no byval
 * kernel parameters, and a plan's maps never change after the copy, which
 * is ordered before the first launch, so no tensormap proxy fence is
 * needed). Each map is 2-D {K, rows} (innermost first), row stride
 * K * element bytes (a multiple of 16), box {128 bytes of K, rows}: A's
 * box is 128 rows, B's BN rows; 128-byte swizzle, zero fill out of
 * bounds, so M, N and K need not be multiples of the tile: rows past M or
 * N and k past K read as zero.
 *
 * Kernel parameters, in order: the maps (global pointer: A's map at byte
 * 0, B's at 128), C, sa, sb (global pointers), M, N, K (i32). Block:
 * 128 * (1 + C) threads (warpgroup 0 issues the TMA, warpgroups 1..C run
 * wgmma, each on 128 / C rows of the CTA's tile); grid: (ceil(M / 128),
 * ceil(N / BN)); dynamic shared memory QRT_GPU_GEMM_SMEM_BYTES(BN, S):
 * S stages of A (128 x 128 bytes) and B (BN x 128 bytes), 1024-aligned for
 * the swizzle, then the stages' full and empty mbarriers. Requirements:
 * K * element bytes % 16 == 0 (TMA's stride alignment), N % 8 == 0 (C is
 * stored in column pairs), M, N, K >= 1 and M * N < 2^31.
 *
 *===----------------------------------------------------------------------===*/

#ifndef QOPT_RUNTIME_GPUKERNELABI_H
#define QOPT_RUNTIME_GPUKERNELABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Group size along K of the int4 kernels' scales. */
#define QRT_GPU_W4_GROUP 128
/** Columns per mma tile (the n of m16n8k16). */
#define QRT_GPU_W4_TILE_N 8
/** Bytes of packed weights per (column tile, group). */
#define QRT_GPU_W4_TILE_BYTES 512
/** Number of kernel parameters and their order (see above). */
#define QRT_GPU_W4_NUM_PARAMS 8

/** Bytes of packed weights for N x K (N % 8 == 0, K % 128 == 0). */
size_t qrt_gpu_w4_packed_weight_bytes(int64_t n, int64_t k);
/** Bytes of packed fp16 scales for N x K. */
size_t qrt_gpu_w4_packed_scale_bytes(int64_t n, int64_t k);

/** Packs int4 weights `q` (row-major N x K, int8 values in [-8, 7]) and
    scales `s` (row-major N x K/128, f32, rounded to fp16 here) into the
    kernel layout. Returns 0, or -1 on bad sizes or a value out of range. */
int qrt_gpu_w4_pack(int64_t n, int64_t k, const int8_t *q, const float *s,
                    uint8_t *packed_w, uint16_t *packed_s);

/** Rows of C per CTA of the prefill GEMM kernels. */
#define QRT_GPU_GEMM_BLOCK_M 128
/** Bytes of K per pipeline stage (one 128-byte swizzle atom per row). */
#define QRT_GPU_GEMM_STAGE_K_BYTES 128
/** Bytes of one CUtensorMap; the kernels read two (A, then B). */
#define QRT_GPU_GEMM_TENSOR_MAP_BYTES 128
/** Number of prefill GEMM kernel parameters (see above). */
#define QRT_GPU_GEMM_NUM_PARAMS 7
/** Dynamic shared memory of a prefill GEMM kernel with BN columns and S
    stages: the stages, then 128 bytes of mbarriers (S <= 8). */
#define QRT_GPU_GEMM_SMEM_BYTES(bn, stages)                                    \
  ((stages) * (QRT_GPU_GEMM_BLOCK_M + (bn)) * QRT_GPU_GEMM_STAGE_K_BYTES + 128)

/** Operand element types of the prefill GEMM kernels. */
typedef enum qrt_gpu_gemm_type {
  QRT_GPU_GEMM_F16 = 0,
  QRT_GPU_GEMM_BF16 = 1,
  QRT_GPU_GEMM_S8 = 2,
  QRT_GPU_GEMM_E4M3 = 3,
} qrt_gpu_gemm_type;

/** Output element types of the prefill GEMM kernels. */
typedef enum qrt_gpu_gemm_out {
  QRT_GPU_GEMM_OUT_F16 = 0,
  QRT_GPU_GEMM_OUT_F32 = 1,
} qrt_gpu_gemm_out;

#ifdef __cplusplus
}
#endif

#endif /* QOPT_RUNTIME_GPUKERNELABI_H */
