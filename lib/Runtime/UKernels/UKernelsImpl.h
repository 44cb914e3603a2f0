//===- UKernelsImpl.h - Internal interface of the ukernels ------*- C++ -*-===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// The pieces that differ between ISAs. Each ISA's translation unit is built
// with its own target flags and exports one table of function pointers; the
// ISA-independent drivers (blocking, packing, threading) pick a table once,
// at first use, with __builtin_cpu_supports. Code shared by files built for
// different ISAs must not be an ordinary inline function: the linker would
// keep one copy, possibly the AVX-512 one, for every caller. The helpers
// below are therefore `static` (one private copy per file).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_RUNTIME_UKERNELS_UKERNELSIMPL_H
#define QOPT_LIB_RUNTIME_UKERNELS_UKERNELSIMPL_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

namespace qrt::uk {

/// Columns of a micro-tile and of a packed B panel, on every ISA.
constexpr int kNR = 16;

/// Computes one micro-tile: C[i, j] (+)= sum_k A[k*mrMax + i] * B[k*ldb + j]
/// for i < mr, j < 16, where A is a packed micro-panel of `mrMax` rows (the
/// ISA's MR) and B points to kc rows of 16 consecutive floats, `ldb` floats
/// apart (16 for a packed panel). C has unit column stride. Overwrites C when
/// `accumulate` is 0. mr may be less than the ISA's MR.
using SgemmMicroKernelFn = void (*)(int64_t kc, const float *a, const float *b,
                                    int64_t ldb, float *c, int64_t ldc,
                                    int accumulate, int mr);

/// Blocking of one ISA's sgemm.
struct SgemmArch {
  const char *name;
  SgemmMicroKernelFn kernel;
  int mr; ///< Rows of a micro-tile.
  int mc; ///< Rows of A packed at once (L2-sized block), a multiple of mr.
  int kc; ///< Depth of a block (the B micro-panel stays in L1).
};

SgemmArch getSgemmArchScalar();
SgemmArch getSgemmArchAVX2();
SgemmArch getSgemmArchAVX512();

/// The sgemm implementation for this CPU.
const SgemmArch &getSgemmArch();

/// Packs rows [i0, i0+mc) and depth [k0, k0+kc) of A(i, k) = A[i*ldaM +
/// k*ldaK] as mr-row micro-panels: ap[(i/mr)*mr*kc + k*mr + i%mr]. Rows past
/// the end of the last micro-panel are left uninitialised: the micro-kernel
/// does not store them.
void packAPanels(const float *A, int64_t ldaM, int64_t ldaK, int64_t i0,
                 int64_t mc, int64_t k0, int64_t kc, int mr, float *ap);

/// C[m*ldcM + n] (+)= sum_k A(m, k) * B[k*ldbK + n] for m < M, n < N on the
/// calling thread, with A packed ahead of time as full-depth micro-panels of
/// the ISA's mr rows: A(m, k) = ap[(m/mr)*mr*K + k*mr + m%mr] (rows past M
/// of the last panel are read but not stored).
void sgemmPackedA(int64_t M, int64_t N, int64_t K, const float *ap,
                  const float *B, int64_t ldbK, float *C, int64_t ldcM,
                  bool accumulate);

/// A grow-only, 64-byte aligned scratch buffer. Kernels keep one per thread
/// and purpose (thread_local), so that steady-state calls allocate nothing.
/// Only for the baseline-ISA drivers (see the note on inline code above).
class ScratchBuffer {
public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer &) = delete;
  ScratchBuffer &operator=(const ScratchBuffer &) = delete;
  ~ScratchBuffer() { std::free(data); }

  float *get(int64_t numFloats) {
    if (numFloats > capacity) {
      std::free(data);
      size_t bytes = (size_t(numFloats) * sizeof(float) + 63) & ~size_t(63);
      data = static_cast<float *>(std::aligned_alloc(64, bytes));
      if (!data)
        std::abort();
      capacity = numFloats;
    }
    return data;
  }

private:
  float *data = nullptr;
  int64_t capacity = 0;
};

/// Parameters of a weight-only matrix multiply (see qrt_uk_wo_gemm).
struct WoParams {
  int64_t M, N, K;
  const float *X;
  int64_t ldxM;
  const uint8_t *Wq;
  int64_t rowBytes;
  int bits;
  bool isSigned;
  const float *scale;
  const float *zp;
  int64_t groupSize;
  int64_t numGroups;
  float *Y;
  int64_t ldyM;
  bool accumulate;
  /// Per-group sums of X, xGroupSum[m * numGroups + g] = sum of X[m, k] over
  /// the k of group g, for the zero-point term; null when zp is null.
  const float *xGroupSum;
  /// For 4-bit weights with group sizes that are multiples of 64, when the
  /// ISA asks for it (WoArch::wantsPermutedX4): X with each whole 64-element
  /// block transposed as an 8x8 matrix, xPerm[m*K + b*64 + 8*j + i] =
  /// X[m, b*64 + 8*i + j], and the sum of X over the whole blocks of each
  /// group, xPermSum[m * numGroups + g]. Null otherwise.
  const float *xPerm;
  const float *xPermSum;
};

/// Computes Y[m, n] for all m < M (M <= kWoGemvMaxM) and n in [n0, n1) by
/// dot products that unpack weights in registers.
constexpr int kWoGemvMaxM = 4;
using WoGemvFn = void (*)(const WoParams &p, int64_t n0, int64_t n1);

/// Writes w(n0 + j, k0 + k) to tile[k * 16 + j] for j < 16, k < kc: one B
/// panel for the sgemm micro-kernel. Columns past N are zero.
using WoDequantTileFn = void (*)(const WoParams &p, int64_t n0, int64_t k0,
                                 int64_t kc, float *tile);

struct WoArch {
  const char *name;
  WoGemvFn gemv;
  WoDequantTileFn dequantTile;
  /// Whether gemv uses WoParams::xPerm and xPermSum.
  bool wantsPermutedX4;
};

WoArch getWoArchScalar();
WoArch getWoArchAVX2();
WoArch getWoArchAVX512();

/// The weight-only implementation for this CPU.
const WoArch &getWoArch();

/// Reads the `bits`-bit field at element k of a row (no sign extension).
static inline uint32_t woExtractBits(const uint8_t *row, int64_t k, int bits) {
  int64_t bit = k * bits;
  const uint8_t *p = row + (bit >> 3);
  unsigned shift = unsigned(bit & 7);
  uint32_t v = p[0];
  // Only touch the next byte when the field spills into it: the row may end
  // with this byte.
  if (shift + unsigned(bits) > 8)
    v |= uint32_t(p[1]) << 8;
  return (v >> shift) & ((1u << bits) - 1);
}

/// Returns q(n, k) as a float, sign-extended when `isSigned`.
static inline float woLoadQ(const uint8_t *row, int64_t k, int bits,
                            bool isSigned) {
  uint32_t u = woExtractBits(row, k, bits);
  int32_t v = int32_t(u);
  if (isSigned && (u >> (bits - 1)))
    v -= int32_t(1) << bits;
  return float(v);
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

// exp(x) = 2^n * exp(r), n = round(x / ln 2), r = x - n ln 2 (ln 2 split in
// two so that n ln 2 is exact), exp(r) by Cephes' degree-7 minimax
// polynomial: within 2 ulp of expf on [kExpLo, kExpHi]. Below kExpLo the
// result is 0 rather than a denormal (at most 1.2e-38 off); softmax shifts
// its inputs to at most 0, so the upper clamp only matters for NaN and inf.
constexpr float kExpHi = 88.0f;
constexpr float kExpLo = -88.0f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kExpP0 = 1.9875691500e-4f;
constexpr float kExpP1 = 1.3981999507e-3f;
constexpr float kExpP2 = 8.3334519073e-3f;
constexpr float kExpP3 = 4.1665795894e-2f;
constexpr float kExpP4 = 1.6666665459e-1f;
constexpr float kExpP5 = 5.0000001201e-1f;

/// exp(x) by the algorithm above, one lane; the x86 kernels use it for row
/// tails so that every element of a row is computed the same way.
static inline float softmaxExpScalar(float x) {
  if (std::isnan(x))
    return x;
  x = std::min(std::max(x, kExpLo), kExpHi);
  float n = std::nearbyint(x * kLog2e);
  float r = std::fma(-n, kLn2Hi, x);
  r = std::fma(-n, kLn2Lo, r);
  float p = kExpP0;
  p = std::fma(p, r, kExpP1);
  p = std::fma(p, r, kExpP2);
  p = std::fma(p, r, kExpP3);
  p = std::fma(p, r, kExpP4);
  p = std::fma(p, r, kExpP5);
  p = std::fma(p, r * r, r) + 1.0f;
  int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof(scale));
  return p * scale;
}

/// Softmax of one contiguous row: y[i] = exp(x[i] - max) / sum; x and y may
/// be the same array.
using SoftmaxRowFn = void (*)(const float *x, float *y, int64_t n);

struct SoftmaxArch {
  const char *name;
  SoftmaxRowFn row;
};

SoftmaxArch getSoftmaxArchScalar();
SoftmaxArch getSoftmaxArchAVX2();
SoftmaxArch getSoftmaxArchAVX512();

/// The softmax implementation for this CPU.
const SoftmaxArch &getSoftmaxArch();

//===----------------------------------------------------------------------===//
// Fused attention (qrt_uk_attention_f32)
//===----------------------------------------------------------------------===//

/// Queries and keys per block of the fused attention kernel. kAttnBK is a
/// multiple of 32 (the score tile's width).
constexpr int64_t kAttnBQ = 64;
constexpr int64_t kAttnBK = 64;
/// A mask entry at or below this masks its key out (UKernels.h).
constexpr float kAttnMaskedOut = -1e30f;
/// Bound on |scale * q.k| under which masked-out blocks may be skipped.
constexpr double kAttnScoreBound = 1e29;
/// A row whose max score stays at or below this is recomputed exactly.
constexpr float kAttnFallbackMax = -8e29f;

/// qrt_uk_attention_f32's arguments; strides in elements, [b, h, row, col].
struct AttnParams {
  int64_t B, H, Sq, Skv, D, Dv, kvGroup;
  const float *Q, *K, *V, *M;
  int64_t ldq[4], ldk[4], ldv[4], ldm[4], ldo[4];
  float scale;
  float *O;
  // Packed once per call (Attention.cpp), for every (b, kv head, key block
  // kb), index t = (b * Hk + hk) * nKB + kb: K^T at Kt + t * D * kAttnBK
  // ([D][kAttnBK], zero past Skv), V at Vp + t * kAttnBK * DvP ([kAttnBK]
  // [DvP], zero past Skv and Dv), and the largest |k_j| of the block in
  // kNorm[t].
  int64_t Hk, nKB, DvP;
  const float *Kt, *Vp;
  const double *kNorm;
};

/// Per-thread buffers of one task (AttentionImpl.inc).
struct AttnScratch {
  std::vector<float> storage;
  std::vector<float> row; // attnExactRow's scores
  float *Qp = nullptr, *S = nullptr, *acc = nullptr, *m = nullptr, *l = nullptr;
  void reserve(int64_t D, int64_t DvP) {
    size_t need =
        size_t(kAttnBQ * D + kAttnBQ * kAttnBK + kAttnBQ * DvP + 2 * kAttnBQ);
    if (storage.size() < need)
      storage.resize(need);
    Qp = storage.data();
    S = Qp + kAttnBQ * D;
    acc = S + kAttnBQ * kAttnBK;
    m = acc + kAttnBQ * DvP;
    l = m + kAttnBQ;
  }
};

/// Row i of (b, h) computed as the unfused ops do (max, exp, sum, divide,
/// then the product with V) into o[e * ldo[3]]; for rows whose keys are all
/// masked out. Portable code, shared by every ISA.
void attnExactRow(const AttnParams &p, int64_t b, int64_t h, int64_t i,
                  float *o, AttnScratch &w);

/// Computes queries [q0, q0 + nq) (nq <= kAttnBQ) of (b, h).
using AttnTaskFn = void (*)(const AttnParams &p, int64_t b, int64_t h,
                            int64_t q0, int64_t nq, AttnScratch &w);

struct AttentionArch {
  const char *name;
  AttnTaskFn task;
};

AttentionArch getAttentionArchScalar();
AttentionArch getAttentionArchAVX2();
AttentionArch getAttentionArchAVX512();

/// The fused attention implementation for this CPU.
const AttentionArch &getAttentionArch();

//===----------------------------------------------------------------------===//
// Convolution (qrt_uk_conv2d_f32)
//===----------------------------------------------------------------------===//

/// Geometry of one input plane [H, W] and output plane [OH, OW] of a 2-D
/// convolution (1-D ones have H = KH = OH = 1).
struct ConvPlaneArgs {
  int64_t H, W, KH, KW, OH, OW, SH, SW, DH, DW;
  bool accumulate;
};

/// Floats of scratch a depthwise plane needs: the column split of a stride-2
/// row (H*W), or the stride-1/2 sub-planes (at most (H+1)*(W+1)) and the wide
/// output rows (at most OH*(W+1)) of the narrow-plane path.
inline int64_t depthwiseScratchSize(const ConvPlaneArgs &a) {
  return (a.H + 1) * (a.W + 1) + a.OH * (a.W + 1);
}

/// One channel of a depthwise convolution: y (+)= conv(x, w[KH, KW]);
/// `scratch` holds depthwiseScratchSize(a) floats.
using DepthwisePlaneFn = void (*)(const ConvPlaneArgs &a, const float *x,
                                  const float *w, float *y, float *scratch);

/// The epilogue of qrt_uk_conv2d_f32_fused (bias may be null).
struct ConvEpilogue {
  const float *bias;
  int32_t act;
  float alpha, beta;
};

/// Applies `e` to y[r*ldy + i] for r < rows, i < n, with bias[f0 + r].
using ConvEpilogueFn = void (*)(const ConvEpilogue &e, int64_t f0, int64_t rows,
                                float *y, int64_t ldy, int64_t n);

/// Channels of one depthwise block of the channel-interleaved path.
constexpr int64_t kDwLanes = 16;

/// One block of a depthwise convolution in channel-interleaved form: output
/// rows [oh0, oh1) of the nc <= kDwLanes channels whose input planes start
/// at x (H*W floats apart), filters at w (KH*KW floats apart) and output
/// planes at y (OH*OW floats apart), with zero padding PT/PL above and left
/// (below and right as far as the windows reach). The input rows are
/// copied into a zero-bordered [row][column][kDwLanes] tile, so that every
/// tap is one vector multiply-add over the channels whatever the stride or
/// plane width; the output is copied back per channel (accumulating if
/// a.accumulate). `scratch` holds depthwiseLanesScratchSize(...) floats.
/// Applies no epilogue.
using DepthwiseLanesFn = void (*)(const ConvPlaneArgs &a, int64_t PT,
                                  int64_t PL, int64_t nc, int64_t oh0,
                                  int64_t oh1, const float *x, const float *w,
                                  float *y, float *scratch);

/// Padded width of the channel-interleaved tile.
inline int64_t depthwiseLanesWidth(const ConvPlaneArgs &a, int64_t PL) {
  return std::max(a.W + PL, (a.OW - 1) * a.SW + (a.KW - 1) * a.DW + 1);
}

/// Floats of scratch a DepthwiseLanesFn call for `rows` output rows needs:
/// the filters, the input tile and the output tile.
inline int64_t depthwiseLanesScratchSize(const ConvPlaneArgs &a, int64_t PL,
                                         int64_t rows) {
  int64_t inRows = (rows - 1) * a.SH + (a.KH - 1) * a.DH + 1;
  return kDwLanes *
         (a.KH * a.KW + inRows * depthwiseLanesWidth(a, PL) + rows * a.OW);
}

/// y[f] = sum_k w[f*K + k] * x[k] (+ y[f] when accumulating) for f < nf:
/// a convolution of a 1x1 plane (squeeze-excite), too small to pack.
using ConvDotRowsFn = void (*)(const float *w, const float *x, int64_t K,
                               int64_t nf, float *y, bool accumulate);

struct ConvArch {
  const char *name;
  DepthwisePlaneFn depthwisePlane;
  ConvEpilogueFn epilogue;
  DepthwiseLanesFn depthwiseLanes;
  ConvDotRowsFn dotRows;
};

ConvArch getConvArchScalar();
ConvArch getConvArchAVX2();
ConvArch getConvArchAVX512();

/// The convolution implementation for this CPU.
const ConvArch &getConvArch();

//===----------------------------------------------------------------------===//
// W8A8 int8 GEMM (qrt_uk_s8_*)
//===----------------------------------------------------------------------===//

/// Columns of a packed int8 B panel, k per 4-byte group, K alignment (see
/// UKernels.h for the layout).
constexpr int kS8NR = 16;
constexpr int kS8KR = 4;
constexpr int kS8KAlign = 64;
/// Columns of the int32 tile a micro-kernel produces: two panels.
constexpr int kS8TileN = 2 * kS8NR;
/// Rows of that tile, the largest MR of any implementation.
constexpr int kS8TileM = 32;

/// Rows per micro-panel of each implementation (here, not in the ISA files,
/// so that code for other ISAs can know them without calling into those).
constexpr int kS8MRPortable = 4;
constexpr int kS8MRAVX2 = 6;
constexpr int kS8MRAVXVNNI = 6;
constexpr int kS8MRAVX512VNNI = 12;
constexpr int kS8MRAMX = 32;

/// K rounded up to the packed layout's alignment.
static inline int64_t s8PaddedK(int64_t K) {
  return (K + kS8KAlign - 1) / kS8KAlign * kS8KAlign;
}

/// One call of the int8 GEMM, as the micro-kernels and epilogues see it.
struct S8Params {
  int64_t M, N, K;
  int64_t Kp;            ///< K padded to kS8KAlign.
  const int8_t *Bp;      ///< Packed panels; panel j starts at Bp + j*Kp*16.
  const int32_t *colSum; ///< Column sums from the packed blob.
  // Epilogue.
  bool f32;        ///< Float epilogue into Cf, else int32 into Ci.
  bool accumulate; ///< Add to the old C.
  float *Cf;
  int32_t *Ci;
  int64_t ldcM;
  const float *aScale;
  int64_t aScaleStride; ///< 1: per row, 0: per tensor.
  const float *bScale;
  const float *bias; ///< Null for none.
};

/// How an implementation wants A packed (s8PackA does it, in portable code).
enum class S8ALayout {
  /// Micro-panels of mr rows, each k group of 4 bytes of row i at byte
  /// ((g*mr) + i)*4; with `xor128`, each byte is qa ^ 0x80 (qa + 128 as u8).
  Groups4,
  /// The same with each byte sign-extended to int16 (AVX2's VPMADDWD).
  Groups4I16,
  /// AMX tiles: for each 16-row tile r and 64-byte k block b, the 16 x 64
  /// byte A tile at byte ((r*Kp/64) + b)*1024, rows 64 bytes apart.
  AmxTiles,
};

/// Packs rows [0, rows) of A (row i at A + i*ldaM, K bytes) as one
/// micro-panel of `mr` rows (mr >= rows) and Kp (>= K) columns. Rows past
/// `rows` and k past K are zero (0x80 with xor128: a zero activation).
void s8PackA(S8ALayout layout, bool xor128, int mr, const int8_t *A,
             int64_t ldaM, int64_t K, int64_t Kp, int rows, void *dst);
/// Bytes of one packed micro-panel.
int64_t s8PackedAPanelBytes(S8ALayout layout, int mr, int64_t Kp);

/// Computes the exact int32 products of one packed micro-panel of A (`rows`
/// rows) by `np` (1 or 2) panels of B starting at column n0 (a multiple of
/// 16): tile[i*kS8TileN + j] = acc[m0 + i, n0 + j] for i < rows, j < 16*np.
/// Along the way it may prefetch [prefetch, prefetch + prefetchBytes) into
/// L2: a share of the B panels the next micro-tiles need.
using S8KernelFn = void (*)(const S8Params &p, const void *ap, int rows,
                            int64_t n0, int np, int32_t *tile,
                            const int8_t *prefetch, int64_t prefetchBytes);
/// Writes C[m0 + i, n0 + j] for i < rows, j < cols from such a tile.
using S8EpilogueFn = void (*)(const S8Params &p, const int32_t *tile,
                              int64_t m0, int rows, int64_t n0, int cols);
/// Quantizes one row (qrt_uk_quantize_rows_s8 for M = 1).
using S8QuantizeRowFn = void (*)(const float *x, int64_t K, int8_t *q,
                                 float *scale);

/// The implementations, best last.
enum class S8Isa { Portable, AVX2, AVXVNNI, AVX512VNNI, AMX };
constexpr int kNumS8Isas = 5;

struct S8Arch {
  S8Isa isa;
  const char *name;
  S8ALayout aLayout;
  bool xor128;
  int mr; ///< Rows per micro-panel (<= kS8TileM).
  S8KernelFn kernel;
  S8EpilogueFn epilogue;
  S8QuantizeRowFn quantizeRow;
  /// Called on each thread before and after its micro-kernels (AMX tile
  /// configuration and release); may be null.
  void (*taskBegin)();
  void (*taskEnd)();
  /// Calls with fewer rows use `small` instead (AMX: VNNI for GEMV-like M).
  int minM;
  S8Arch (*small)();
};

/// The tables. Each ISA's is built by code compiled for that ISA (which may
/// use its instructions even to return the struct): only call the getter of
/// an ISA the machine has.
S8Arch getS8ArchPortable();
S8Arch getS8ArchAVX2();
S8Arch getS8ArchAVXVNNI();
S8Arch getS8ArchAVX512VNNI();
S8Arch getS8ArchAMX();

/// What this CPU and OS offer the int8 kernels (cpuid, XCR0 and, for AMX,
/// Linux's permission to use the tile data state).
struct S8CpuFeatures {
  bool avx2 = false, avxvnni = false, avx512vnni = false, amx = false;
  /// Why AMX is missing when the CPU has it (the OS refused), else empty.
  const char *amxNote = "";
};
S8CpuFeatures getS8CpuFeatures();
bool s8IsaAvailable(S8Isa isa, const S8CpuFeatures &f);
const char *s8IsaName(S8Isa isa);

/// The implementation $QRT_UK_S8_ISA (`env`, may be null) asks for on a CPU
/// with features `f`, or the best one when `env` is null or empty. On an
/// unknown name or one the CPU lacks returns false with a message in
/// `error` (a buffer of `errorSize` bytes).
bool s8ChooseIsa(const S8CpuFeatures &f, const char *env, S8Isa &isa,
                 char *error, int errorSize);

/// The implementation in use: chosen on first use from cpuid and
/// $QRT_UK_S8_ISA (aborting with the message above if that cannot be
/// honoured), unless a test has forced one.
const S8Arch &getS8Arch();
/// For tests and benchmarks: makes later calls use `isa`; returns false (and
/// changes nothing) if this machine cannot run it. Not thread-safe with
/// respect to kernels in flight.
bool setS8IsaForTesting(S8Isa isa);

/// Same rounding as the kernels: one value of a quantized row, given
/// inv = 127 / amax (round half to even, the default rounding mode).
static inline int8_t s8QuantizeValue(float x, float inv) {
  float r = std::nearbyint(x * inv);
  r = std::min(std::max(r, -127.0f), 127.0f);
  return int8_t(r);
}

/// The row's scale and 127 / amax from the bits of amax (|x| as an integer,
/// so that a NaN compares above everything): returns false when the row
/// quantizes to zeros (tiny or non-finite amax; `scale` is then 1 or NaN).
static inline bool s8RowScale(uint32_t amaxBits, float &scale, float &inv) {
  if (amaxBits >= 0x7f800000u) { // inf or NaN
    scale = std::numeric_limits<float>::quiet_NaN();
    inv = 0.0f;
    return false;
  }
  if (amaxBits < 0x04000000u) { // below 2^-119, zero included
    scale = 1.0f;
    inv = 0.0f;
    return false;
  }
  float amax;
  std::memcpy(&amax, &amaxBits, sizeof(amax));
  scale = amax / 127.0f;
  inv = 127.0f / amax;
  return true;
}

} // namespace qrt::uk

#endif // QOPT_LIB_RUNTIME_UKERNELS_UKERNELSIMPL_H
