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
// (AVX-512, AVX2+FMA or portable C++) and run on the process-wide thread pool
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

#ifdef __cplusplus
} // extern "C"
#endif

#endif // QOPT_RUNTIME_UKERNELS_H
