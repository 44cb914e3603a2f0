//===- UKernels.h - Runtime micro-kernels called by generated code -*- C
//-*-===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// The C ABI of the runtime's micro-kernels ("ukernels") and of its thread
// pool. Compiler-generated code calls these functions through libqrt, so the
// interface is plain C: no C++ types, sizes and strides are int64_t, and every
// stride is counted in elements, not bytes.
//
// All kernels choose the best implementation for the host CPU at run time
// (AVX-512, AVX2+FMA or portable C++; the int8 kernels also AVX-512 VNNI,
// AVX-VNNI and AMX) and run on the process-wide thread pool
// when the problem is large enough to pay for it. They may be called from
// several threads at once; a call made from inside a pool worker runs
// serially on that worker.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_UKERNELS_H
#define QOPT_RUNTIME_UKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bit 0 of a kernel's `flags`: accumulate into the output (C += A*B) instead
/// of overwriting it (C = A*B).
#define QRT_UK_ACCUMULATE 1

/// Number of columns in one panel of a packed B operand. The packed layout is
/// the same on every ISA so that the compiler can pack weights ahead of time.
#define QRT_UK_PACK_NR 16

/// Sets the number of threads the runtime's kernels use, the calling thread
/// included. `n <= 0` selects the number of CPUs the process may run on. Must
/// not be called while a kernel is running on another thread.
void qrt_set_num_threads(int n);

/// Returns the number of threads the runtime's kernels use.
int qrt_get_num_threads(void);

/// Runs fn(ctx, b, e) over a partition of [begin, end) into contiguous
/// chunks of at least `grain` iterations, one per thread at most, and returns
/// when all are done. Runs fn(ctx, begin, end) on the calling thread when the
/// range is at most one grain, the pool has one thread, or the caller is
/// itself a pool worker. Compiled code calls it for outlined parallel loops.
void qrt_parallel_for(int64_t begin, int64_t end, int64_t grain,
                      void (*fn)(void *ctx, int64_t begin, int64_t end),
                      void *ctx);

/// Ends the model's run because a run-time check failed (a `qopt.check`:
/// sizes that do not broadcast, a reshape that changes the element count, an
/// index out of range). `format` is the check's message, in which `{N}`
/// stands for `values[N]`. Never returns: control goes back to
/// qrt_session_run, which frees the run's buffers and returns
/// QRT_ERROR_CHECK with the formatted message. Called outside a run (or on a
/// pool worker) it prints the message and aborts.
void qrt_check_failed(const char *format, int64_t count, const int64_t *values);

/// Records one observation at point `point` of a calibration build (an
/// index into the descriptor's `observe_points`) into the statistics of the
/// session whose run is on the calling thread. `rank` and `desc` are MLIR's
/// lowering of a `memref<*xf32>` argument: `desc` points at the ranked
/// descriptor {allocated, aligned, offset, sizes[rank], strides[rank]}.
/// Thread-safe (one lock per point), also from the chunks of a
/// qrt_parallel_for that the run started. A call outside any run is
/// ignored; one whose index or shape does not fit its point is ignored and
/// recorded as the session's observation error.
void qrt_observe(int64_t point, int64_t rank, const void *desc);

/// General strided single-precision matrix multiply:
///   C[m*ldc_m + n*ldc_n] = sum_k A[m*lda_m + k*lda_k] * B[k*ldb_k + n*ldb_n]
/// (plus the old value of C when `flags & QRT_UK_ACCUMULATE`), for m < M,
/// n < N, k < K. Any non-negative strides are accepted, so transposed A or B
/// need no copy; unit `lda_k`/`ldb_n`/`ldc_n` are the fast cases. No alignment
/// is assumed. With K == 0 the result is 0 (or C is left unchanged when
/// accumulating).
void qrt_uk_sgemm(int64_t M, int64_t N, int64_t K, const float *A,
                  int64_t lda_m, int64_t lda_k, const float *B, int64_t ldb_k,
                  int64_t ldb_n, float *C, int64_t ldc_m, int64_t ldc_n,
                  int32_t flags);

/// Matrix multiply with B packed ahead of time by qrt_uk_pack_b_f32():
///   C[m*ldc_m + n*ldc_n] = sum_k A[m*lda_m + k*lda_k] * B(k, n)
/// (plus C when `flags & QRT_UK_ACCUMULATE`). `Bp` holds B in panels of
/// QRT_UK_PACK_NR columns: B(k, n) is Bp[((n/16)*K + k)*16 + n%16], with the
/// columns past N of the last panel zero. For M == 1 this is a GEMV that reads
/// Bp once, front to back.
void qrt_uk_sgemm_packed(int64_t M, int64_t N, int64_t K, const float *A,
                         int64_t lda_m, int64_t lda_k, const float *Bp,
                         float *C, int64_t ldc_m, int64_t ldc_n, int32_t flags);

/// Returns the number of floats a packed B of N columns and K rows occupies:
/// ceil(N/16)*16*K.
int64_t qrt_uk_packed_b_f32_size(int64_t N, int64_t K);

/// Packs B(k, n) = B[k*ldb_k + n*ldb_n] into the layout qrt_uk_sgemm_packed()
/// reads. `Bp` must have room for qrt_uk_packed_b_f32_size(N, K) floats. The
/// compiler calls this at compile time, so it is plain, portable code.
void qrt_uk_pack_b_f32(int64_t N, int64_t K, const float *B, int64_t ldb_k,
                       int64_t ldb_n, float *Bp);

/// Matrix multiply by a weight matrix stored in low-bit integers, dequantized
/// in registers (the fp32 weights are never materialised in full):
///   Y[m*ldy_m + n] = sum_k X[m*ldx_m + k] * w(n, k)   (+ Y if accumulating)
///   w(n, k) = (q(n, k) - zp(n, k/G)) * scale(n, k/G),   G = group_size.
/// `bits` is 8, 4 or 3. Row n of q is stored in row_bytes = ceil(K*bits/8)
/// bytes from `Wq + n*row_bytes`; element k occupies bits [k*bits, k*bits +
/// bits) of the row read as a little-endian bit stream (byte j holds bits 8j
/// to 8j+7, bit 0 is the least significant). `is_signed` selects two's
/// complement, otherwise q is unsigned. `scale` is a row-major float
/// [N, ceil(K/G)] array; `zp` is NULL for symmetric quantization or a float
/// array of the same shape holding the zero point in the integer domain.
/// G == K (or G <= 0) means one scale per output channel. M <= 4 runs as dot
/// products over rows of q; larger M dequantizes cache-sized tiles of W for
/// the sgemm micro-kernel.
void qrt_uk_wo_gemm(int64_t M, int64_t N, int64_t K, const float *X,
                    int64_t ldx_m, const uint8_t *Wq, int32_t bits,
                    int32_t is_signed, const float *scale, const float *zp,
                    int64_t group_size, float *Y, int64_t ldy_m, int32_t flags);

/// Softmax along the rows of a matrix:
///   Y[r*ldy_r + c*ldy_c] = exp(X[r, c] - max_c X[r, c]) / sum_c exp(...)
/// for r < rows, c < cols, with X[r, c] = X[r*ldx_r + c*ldx_c]. Unit column
/// strides are the fast case; X and Y may be the same buffer (in place) but
/// must not otherwise overlap. A row containing NaN, or only -inf, becomes
/// NaN, as the definition gives. exp is computed to within 2 ulp (results
/// below 1.2e-38 flush to 0).
void qrt_uk_softmax(int64_t rows, int64_t cols, const float *X, int64_t ldx_r,
                    int64_t ldx_c, float *Y, int64_t ldy_r, int64_t ldy_c);

/// Scaled dot-product attention, fused (flash-attention style: an online
/// softmax over blocks of keys; the [Sq, Skv] score matrix is never stored):
///   x[j]    = (sum_d Q[b,h,i,d] * K[b,h/G,j,d]) * scale (+ M[b,h,i,j])
///   O[b,h,i,e] = sum_j softmax_j(x)[j] * V[b,h/G,j,e]
/// for b < B, h < H, i < Sq, j < Skv, d < D, e < Dv, with G = kv_group query
/// heads per key/value head (grouped-query attention; 1 for plain
/// multi-head). Every operand is read through four element strides (batch,
/// head, row, column), so transposed or broadcast (stride 0) operands need no
/// copy; `M` is an additive mask and may be NULL. Runs on the thread pool
/// over (batch, head, block of queries).
///
/// A block of keys whose mask entries are all <= -1e30 (-inf or the -3.4e38
/// "finfo.min" masks frontends write) is skipped when |scale| |q_i| |k_j|
/// bounds the scores to 1e29, which makes every skipped term exp(x - max)
/// exactly 0 in f32; causal attention thus does about half the work. A row
/// whose running max stays at or below -8e29 (every key masked) or whose sum
/// is not a positive number (NaN) is recomputed without skipping, in the
/// order of the unfused ops (max, exp, sum, divide, then the product with
/// V), so fully masked rows give what the unfused graph gives: NaN for a
/// row masked with -inf only (exp(-inf - -inf)), the mean of V's rows for
/// the same finite mask value everywhere. exp is qrt_uk_softmax's (2 ulp).
/// The results differ from the unfused graph's only in rounding (summation
/// order, the division by the sum after the product with V).
void qrt_uk_attention_f32(
    int64_t B, int64_t H, int64_t Sq, int64_t Skv, int64_t D, int64_t Dv,
    int64_t kv_group, const float *Q, int64_t ldq_b, int64_t ldq_h,
    int64_t ldq_s, int64_t ldq_d, const float *K, int64_t ldk_b, int64_t ldk_h,
    int64_t ldk_s, int64_t ldk_d, const float *V, int64_t ldv_b, int64_t ldv_h,
    int64_t ldv_s, int64_t ldv_d, const float *M, int64_t ldm_b, int64_t ldm_h,
    int64_t ldm_q, int64_t ldm_k, float scale, float *O, int64_t ldo_b,
    int64_t ldo_h, int64_t ldo_s, int64_t ldo_d);

/// 2-D convolution of dense row-major NCHW f32 tensors (a 1-D convolution is
/// one with H = KH = OH = 1), without padding (pad the input first):
///   Y[n, f, oh, ow] = sum_{c, kh, kw} X[n, g*Cg + c, oh*SH + kh*DH,
///                                       ow*SW + kw*DW] * Wt[f, c, kh, kw]
/// (plus the old Y when `flags & QRT_UK_ACCUMULATE`), with Cg = C / groups,
/// g = f / (F / groups), X of shape [N, C, H, W], Wt [F, Cg, KH, KW], Y [N, F,
/// OH, OW]. Regular and grouped convolutions run as im2col + the sgemm
/// kernel, depthwise ones (Cg = 1 and F = C) as a direct loop; both on the
/// thread pool. A call whose sizes do not fit together (C or F not a
/// multiple of groups, a window past H or W, a size or step below 1)
/// returns without writing Y.
void qrt_uk_conv2d_f32(int64_t N, int64_t C, int64_t H, int64_t W, int64_t F,
                       int64_t KH, int64_t KW, int64_t OH, int64_t OW,
                       int64_t SH, int64_t SW, int64_t DH, int64_t DW,
                       int64_t groups, const float *X, const float *Wt,
                       float *Y, int32_t flags);

/// Activations of qrt_uk_conv2d_f32_fused's epilogue, applied to
/// v = convolution + bias (+ the old Y when accumulating):
#define QRT_UK_ACT_NONE 0        ///< v
#define QRT_UK_ACT_RELU 1        ///< max(v, 0)
#define QRT_UK_ACT_HARDSIGMOID 2 ///< min(max(v * alpha + beta, 0), 1)
#define QRT_UK_ACT_HARDSWISH 3   ///< v * min(max(v * alpha + beta, 0), 1)
#define QRT_UK_ACT_CLIP 4        ///< min(max(v, alpha), beta)

/// Output channels per panel of a convolution filter packed ahead of time
/// for qrt_uk_conv2d_f32_fused (the micro-tile height of the AVX-512 sgemm,
/// which reads such panels in place).
#define QRT_UK_CONV_PACK_MR 14

/// qrt_uk_conv2d_f32 with zero padding, a bias and an activation folded in,
/// so that neither a padded copy of X nor a pass over Y for the epilogue is
/// needed:
///   Y[n, f, oh, ow] = act(sum_{c, kh, kw} X'(n, g*Cg + c, oh*SH + kh*DH - PT,
///                         ow*SW + kw*DW - PL) * Wt[f, c, kh, kw] + bias[f])
/// where X'(n, c, h, w) is X[n, c, h, w] inside [0, H) x [0, W) and 0
/// outside (the padding; its bottom and right extents follow from OH and
/// OW). `bias` may be NULL (no bias); `act` is a QRT_UK_ACT_* value with its
/// parameters `alpha` and `beta`. With `flags & QRT_UK_ACCUMULATE` the old Y
/// is added before the activation. The epilogue runs on each block of Y
/// while it is still in cache. A call whose sizes do not fit together (C or
/// F not a multiple of groups, a size or step below 1, a padding below 0, an
/// unknown activation) returns without writing Y.
///
/// `Wp` is NULL or the filter packed ahead of time (by the compiler):
/// Wp[(g*Fgp + (f/14)*14)*K + k*14 + f%14] = Wt[g*Fg + f, k] for f < Fg,
/// zero for Fg <= f < Fgp, with Fg = F/groups, Fgp = ceil(Fg/14)*14,
/// K = Cg*KH*KW and k the flattened (c, kh, kw). The implementation whose
/// micro-tile has QRT_UK_CONV_PACK_MR rows (AVX-512) then reads it in place
/// instead of repacking Wt on every call; the others, depthwise
/// convolutions and 1x1 output planes ignore it.
void qrt_uk_conv2d_f32_fused(int64_t N, int64_t C, int64_t H, int64_t W,
                             int64_t F, int64_t KH, int64_t KW, int64_t OH,
                             int64_t OW, int64_t SH, int64_t SW, int64_t DH,
                             int64_t DW, int64_t PT, int64_t PL, int64_t groups,
                             const float *X, const float *Wt, const float *Wp,
                             const float *bias, int32_t act, float alpha,
                             float beta, float *Y, int32_t flags);

//===----------------------------------------------------------------------===//
// W8A8: int8 activations x int8 weights, int32 accumulation
//===----------------------------------------------------------------------===//
//
// The kernels of qopt.quantized_linear:
//
//   acc[m, n] = sum_k qa[m, k] * qb[k, n]                       (int32)
//   y[m, n]   = ((float)acc[m, n] * sa[m]) * sb[n]  (+ bias[n])  (f32)
//
// qa is a signed int8 [M, K] activation matrix, symmetric (no zero point),
// with one scale per row (dynamic, per token) or one for the whole tensor
// (static): sa[m] = a_scale[m * a_scale_stride], stride 1 or 0. qb is a
// signed int8 [K, N] weight matrix, symmetric, one scale per output channel
// sb[n], packed once (at compile time) by qrt_uk_pack_b_s8(). Any int8 value
// is accepted on both sides, -128 included (symmetric quantizers produce
// -127..127; the kernels do not rely on it).
//
// Exactness: the int32 sums are computed exactly, as sums modulo 2^32, on
// every instruction set, so every implementation returns the same bits. They
// are the true sums whenever those fit in int32, which any data guarantees
// for K <= QRT_UK_S8_MAX_EXACT_K (|qa*qb| <= 2^14). The float epilogue is the
// operation sequence above, one rounding per operation (no fused
// multiply-add), also identical everywhere, and the one of the reference
// lowering of qopt.quantized_linear (qopt-expand-quant-ops), whose results
// the kernels therefore reproduce bit for bit. That op's weight is [N, K]:
// pack it with ldb_k = 1, ldb_n = K.
//
// Implementations (chosen once per process from cpuid and the OS's XCR0
// state; $QRT_UK_S8_ISA=portable|avx2|avxvnni|avx512vnni|amx forces one; a
// name the machine cannot run ends the process (exit status 1) at the first
// call with a message naming what it can run):
//  * amx: AMX-INT8 tiles (TDPBSSD) for M >= 16, avx512vnni below. Linux
//    must grant the process the tile state (arch_prctl ARCH_REQ_XCOMP_PERM);
//    when it refuses, the best other path is used.
//  * avx512vnni: VPDPBUSD on zmm. VPDPBUSD multiplies unsigned by signed
//    bytes, so activations are offset by 128 (qa ^ 0x80 = qa + 128 as u8)
//    and 128 * colsum(qb) is subtracted; the packed B carries the column
//    sums.
//  * avxvnni: the same with the VEX-encoded VPDPBUSD on ymm.
//  * avx2: VPMOVSXBW + VPMADDWD: both operands sign-extended to int16, pairs
//    of products summed into int32, which cannot overflow. (VPMADDUBSW would
//    be one instruction less, but its int16 pair sums saturate: with the +128
//    offset, 255*127 + 255*127 > 32767.)
//  * portable: plain C++.

/// Columns of one panel of a packed int8 B.
#define QRT_UK_S8_PACK_NR 16
/// Consecutive k of one column stored together in a packed int8 B (the
/// operand order of VPDPBUSD and of AMX's B tiles).
#define QRT_UK_S8_PACK_KR 4
/// K of a packed int8 B is padded with zeros to a multiple of this (one AMX
/// tile row of A: 64 bytes).
#define QRT_UK_S8_PACK_KALIGN 64
/// Largest K for which the int32 sums are exact for any int8 data.
#define QRT_UK_S8_MAX_EXACT_K 131071

/// Returns the number of bytes a packed int8 B of N columns and K rows
/// occupies: panels of ceil(N/16)*16 * Kp bytes, Kp = K rounded up to a
/// multiple of 64, followed by ceil(N/16)*16 int32 column sums.
int64_t qrt_uk_packed_b_s8_size(int64_t N, int64_t K);

/// Packs the int8 weights B(k, n) = B[k*ldb_k + n*ldb_n] for
/// qrt_uk_s8_gemm() and friends. `Bp` must have room for
/// qrt_uk_packed_b_s8_size(N, K) bytes, and should be 64-byte aligned (any
/// alignment works, 4 bytes at least for the column sums). Layout, the same
/// on every ISA:
///   byte Bp[(n/16)*Kp*16 + (k/4)*64 + (n%16)*4 + k%4] = B(k, n),
/// zero for k >= K or for the columns past N of the last panel; then, at
/// byte offset ceil(N/16)*16*Kp, int32 colsum[n] = sum_k B(k, n) (zero past
/// N). The compiler calls this at compile time: plain, portable code.
void qrt_uk_pack_b_s8(int64_t N, int64_t K, const int8_t *B, int64_t ldb_k,
                      int64_t ldb_n, void *Bp);

/// Quantizes each row of X (row m at X + m*ldx_m, K floats) symmetrically to
/// int8 with its own scale (dynamic per-token quantization):
///   amax = max_k |X[m, k]|,  scale[m] = amax / 127,
///   Q[m*ldq_m + k] = clamp(rne(X[m, k] * (127 / amax)), -127, 127)
/// where each of amax / 127 and 127 / amax is one correctly rounded f32
/// division and rne rounds half to even (in the default rounding mode).
/// Rows whose amax is below 2^-119 (all-zero rows included) get Q = 0 and
/// scale 1, so that scale is never 0, denormal or infinite. Rows holding an
/// infinity or a NaN get Q = 0 and scale NaN, so their outputs are NaN, as
/// an fp32 product would be non-finite. Every ISA returns the same bits.
void qrt_uk_quantize_rows_s8(int64_t M, int64_t K, const float *X,
                             int64_t ldx_m, int8_t *Q, int64_t ldq_m,
                             float *scale);

/// The W8A8 product with the float epilogue:
///   C[m*ldc_m + n] = ((float)acc[m, n] * a_scale[m*a_scale_stride]) *
///                    b_scale[n] (+ bias[n] when bias is not NULL)
/// (added to the old C when `flags & QRT_UK_ACCUMULATE`), acc as above,
/// qa(m, k) = A[m*lda_m + k], qb the weights packed in `Bp` by
/// qrt_uk_pack_b_s8(N, K, ...). a_scale_stride is 1 (per-row scales) or 0
/// (one per-tensor scale). With K == 0, acc is 0.
void qrt_uk_s8_gemm(int64_t M, int64_t N, int64_t K, const int8_t *A,
                    int64_t lda_m, const float *a_scale, int64_t a_scale_stride,
                    const void *Bp, const float *b_scale, const float *bias,
                    float *C, int64_t ldc_m, int32_t flags);

/// The W8A8 product without epilogue: C[m*ldc_m + n] = acc[m, n] (or C +=
/// acc, modulo 2^32, when accumulating). For integer matmuls
/// (MatMulInteger) and for tests.
void qrt_uk_s8_gemm_i32(int64_t M, int64_t N, int64_t K, const int8_t *A,
                        int64_t lda_m, const void *Bp, int32_t *C,
                        int64_t ldc_m, int32_t flags);

/// A dynamically quantized linear layer on f32 activations: quantizes the
/// rows of X as qrt_uk_quantize_rows_s8() does (into a per-thread buffer),
/// then computes Y = qrt_uk_s8_gemm(...) with those per-row scales. The
/// result is bit-identical to calling the two in turn.
void qrt_uk_s8_linear_f32(int64_t M, int64_t N, int64_t K, const float *X,
                          int64_t ldx_m, const void *Bp, const float *b_scale,
                          const float *bias, float *Y, int64_t ldy_m,
                          int32_t flags);

/// The W8A8 convolution (qopt-quantize-w8a8 on a Conv): the integer part
/// of qrt_uk_conv2d_f32 on int8 tensors,
///   Y[n, f, oh, ow] = sum_{c, kh, kw} X[n, g*Cg + c, oh*SH + kh*DH,
///                                       ow*SW + kw*DW] * Wt[f, c, kh, kw]
/// in int32 (sums modulo 2^32, the true sums for Cg*KH*KW <=
/// QRT_UK_S8_MAX_EXACT_K; plus the old Y when `flags & QRT_UK_ACCUMULATE`),
/// with the sizes and the refusal of sizes that do not fit of
/// qrt_uk_conv2d_f32. Wt is the plain [F, Cg, KH, KW] int8 filter (packed
/// per call: it is small next to the work). Regular, grouped and 1x1
/// convolutions run on the int8 GEMM micro-kernels (the implementation
/// qrt_uk_s8_gemm uses; $QRT_UK_S8_ISA applies), depthwise ones as a direct
/// loop; both on the thread pool. The float rescale is left to the caller
/// (generated elementwise code), so every implementation returns the same
/// bits.
void qrt_uk_conv2d_s8_i32(int64_t N, int64_t C, int64_t H, int64_t W, int64_t F,
                          int64_t KH, int64_t KW, int64_t OH, int64_t OW,
                          int64_t SH, int64_t SW, int64_t DH, int64_t DW,
                          int64_t groups, const int8_t *X, const int8_t *Wt,
                          int32_t *Y, int32_t flags);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // QOPT_RUNTIME_UKERNELS_H
