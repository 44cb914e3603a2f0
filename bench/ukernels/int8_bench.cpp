//===- int8_bench.cpp - Test and benchmark the W8A8 int8 ukernels ---------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// Standalone: builds against the kernel sources directly (see README.md).
//
//   int8_bench --check      every int8 implementation this machine can run
//                           against an exact reference (int32 sums equal,
//                           float results bit-identical), the others'
//                           algorithms emulated in portable C++; exit 1 on
//                           any mismatch
//   int8_bench --print-isa  the implementation a plain call would use
//                           ($QRT_UK_S8_ISA and cpuid)
//   int8_bench [--quick | --min-time=S] [--json] [--cpu-time]
//              [--threads=1,2] [--m=1,16,128,512]
//                           GOP/s of M x 4096 x 4096: fp32 sgemm (packed B)
//                           against every int8 implementation, best of the
//                           calls made in S seconds (default 1.5, --quick
//                           0.3) after a warm-up
//   int8_bench --conv [--quick | --min-time=S] [--threads=1,2]
//                           qrt_uk_conv2d_s8_i32 against qrt_uk_conv2d_f32
//                           on the MobileNet-like bench model's layer
//                           shapes: GMAC/s and the ratio
//
//===----------------------------------------------------------------------===//

#include "qopt/Runtime/UKernels.h"

#include "../../lib/Runtime/UKernels/UKernelsImpl.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <time.h>
#include <vector>

// The reference epilogue rounds after every operation, as the kernels must.
#pragma STDC FP_CONTRACT OFF

using namespace qrt::uk;

namespace {

std::mt19937_64 rng(20261207);

int64_t randomInt(int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

float randomFloat(float lo, float hi) {
  return std::uniform_real_distribution<float>(lo, hi)(rng);
}

/// --cpu-time: time by the process's CPU time instead of the wall clock,
/// which on a loaded machine leaves out the time other processes run (only
/// meaningful with one thread).
bool useCpuTime = false;

double now() {
  if (useCpuTime) {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
  }
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int numFailures = 0;

void fail(const char *format, const std::string &a, const std::string &b) {
  if (numFailures++ < 30)
    std::printf(format, a.c_str(), b.c_str());
}

//===----------------------------------------------------------------------===//
// Problems and the reference
//===----------------------------------------------------------------------===//

/// Operand data: random int8, or the extremes that overflow int16 pair sums
/// of unsigned x signed bytes (VPMADDUBSW with activations offset by 128).
enum class Data {
  Random,
  MinMin,       ///< A = -128, B = -128: the largest positive sums.
  MaxMin,       ///< A = 127, B = -128: offset A is 255, pairs 255*-128*2.
  MinMax,       ///< A = -128, B = 127.
  MaxMax,       ///< A = 127, B = 127.
  Extreme,      ///< A, B each -128 or 127 at random.
  Symmetric127, ///< A, B each -127 or 127 at random (symmetric quantizers).
};
constexpr int kNumData = 7;
const char *const kDataNames[kNumData] = {
    "random", "min*min", "max*min", "min*max", "max*max", "extreme", "sym127"};

int8_t sample(Data d, bool isA) {
  switch (d) {
  case Data::Random:
    return int8_t(randomInt(-128, 127));
  case Data::MinMin:
    return -128;
  case Data::MaxMin:
    return isA ? 127 : -128;
  case Data::MinMax:
    return isA ? -128 : 127;
  case Data::MaxMax:
    return 127;
  case Data::Extreme:
    return randomInt(0, 1) ? 127 : -128;
  case Data::Symmetric127:
    return randomInt(0, 1) ? 127 : -127;
  }
  return 0;
}

struct Problem {
  int64_t M, N, K, lda;
  Data data;
  std::vector<int8_t> A; ///< [M, lda]
  std::vector<int8_t> B; ///< [K, N] row-major (or transposed, see ldb)
  int64_t ldbK, ldbN;
  std::vector<uint8_t> Bp; ///< packed (64-byte aligned storage below)
  uint8_t *bp;
  std::vector<int32_t> ref; ///< [M, N] sums modulo 2^32

  int8_t a(int64_t m, int64_t k) const { return A[m * lda + k]; }
  int8_t b(int64_t k, int64_t n) const { return B[k * ldbK + n * ldbN]; }
  std::string str() const {
    char s[160];
    std::snprintf(s, sizeof(s), "M=%lld N=%lld K=%lld data=%s", (long long)M,
                  (long long)N, (long long)K, kDataNames[int(data)]);
    return s;
  }
};

Problem makeProblem(int64_t M, int64_t N, int64_t K, Data data,
                    bool transB = false) {
  Problem p;
  p.M = M;
  p.N = N;
  p.K = K;
  p.data = data;
  p.lda = K + randomInt(0, 5);
  p.A.resize(std::max<int64_t>(1, M * p.lda));
  for (int8_t &v : p.A)
    v = sample(data, true);
  p.B.resize(std::max<int64_t>(1, K * N));
  for (int8_t &v : p.B)
    v = sample(data, false);
  p.ldbK = transB ? 1 : N;
  p.ldbN = transB ? K : 1;
  p.Bp.resize(qrt_uk_packed_b_s8_size(N, K) + 64);
  p.bp =
      p.Bp.data() + (64 - reinterpret_cast<uintptr_t>(p.Bp.data()) % 64) % 64;
  qrt_uk_pack_b_s8(N, K, p.B.data(), p.ldbK, p.ldbN, p.bp);
  p.ref.assign(M * N, 0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int64_t s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += int64_t(p.a(m, k)) * p.b(k, n);
      p.ref[m * N + n] = int32_t(uint32_t(uint64_t(s)));
    }
  return p;
}

/// The float epilogue of UKernels.h, one rounding per operation.
float epilogueRef(int32_t acc, float sa, float sb, const float *bias, int64_t n,
                  bool accumulate, float old) {
  float y = float(acc);
  y = y * sa;
  y = y * sb;
  if (bias)
    y = y + bias[n];
  if (accumulate)
    y = old + y;
  return y;
}

bool sameFloat(float a, float b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0 ||
         (std::isnan(a) && std::isnan(b));
}

/// Runs the current implementation on `p` in int32 and float modes (with
/// and without accumulation, bias, per-row or per-tensor scale) and checks
/// every result exactly, and that nothing around C is written.
int checkProblem(const Problem &p, const std::string &what) {
  int checks = 0;
  const int64_t M = p.M, N = p.N, K = p.K;
  const int64_t ldc = N + randomInt(0, 3);
  for (int variant = 0; variant < 2; ++variant) {
    bool accumulate = variant == 1;
    // int32
    std::vector<int32_t> C(std::max<int64_t>(1, M * ldc));
    for (int32_t &c : C)
      c = int32_t(randomInt(-1000000, 1000000));
    std::vector<int32_t> c0 = C;
    qrt_uk_s8_gemm_i32(M, N, K, p.A.data(), p.lda, p.bp, C.data(), ldc,
                       accumulate ? QRT_UK_ACCUMULATE : 0);
    ++checks;
    bool ok = true;
    for (int64_t m = 0; m < M && ok; ++m)
      for (int64_t j = 0; j < ldc && ok; ++j) {
        int32_t got = C[m * ldc + j], want = c0[m * ldc + j];
        if (j < N)
          want = int32_t(uint32_t(accumulate ? want : 0) +
                         uint32_t(p.ref[m * N + j]));
        if (got != want) {
          char s[160];
          std::snprintf(s, sizeof(s), "acc=%d at [%lld, %lld]: %d, expected %d",
                        accumulate, (long long)m, (long long)j, got, want);
          fail("FAIL %s s8_gemm_i32 %s\n", what + " " + p.str(), s);
          ok = false;
        }
      }
    // float
    bool perTensor = randomInt(0, 2) == 0, withBias = randomInt(0, 1);
    std::vector<float> sa(std::max<int64_t>(1, M)), sb(std::max<int64_t>(1, N)),
        bias(std::max<int64_t>(1, N));
    for (float &s : sa)
      s = randomFloat(1e-4f, 0.05f);
    for (float &s : sb)
      s = randomFloat(1e-4f, 0.05f);
    for (float &b : bias)
      b = randomFloat(-2.0f, 2.0f);
    std::vector<float> Y(std::max<int64_t>(1, M * ldc));
    for (float &y : Y)
      y = randomFloat(-3.0f, 3.0f);
    std::vector<float> y0 = Y;
    const float *biasPtr = withBias ? bias.data() : nullptr;
    qrt_uk_s8_gemm(M, N, K, p.A.data(), p.lda, sa.data(), perTensor ? 0 : 1,
                   p.bp, sb.data(), biasPtr, Y.data(), ldc,
                   accumulate ? QRT_UK_ACCUMULATE : 0);
    ++checks;
    ok = true;
    for (int64_t m = 0; m < M && ok; ++m)
      for (int64_t j = 0; j < ldc && ok; ++j) {
        float got = Y[m * ldc + j], want = y0[m * ldc + j];
        if (j < N)
          want = epilogueRef(p.ref[m * N + j], sa[perTensor ? 0 : m], sb[j],
                             biasPtr, j, accumulate, y0[m * ldc + j]);
        if (!sameFloat(got, want)) {
          char s[200];
          std::snprintf(s, sizeof(s),
                        "acc=%d bias=%d per-tensor=%d at [%lld, %lld]: %.9g, "
                        "expected %.9g",
                        accumulate, withBias, perTensor, (long long)m,
                        (long long)j, got, want);
          fail("FAIL %s s8_gemm %s\n", what + " " + p.str(), s);
          ok = false;
        }
      }
  }
  return checks;
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

/// UKernels.h's definition, written independently of the kernels.
void quantizeRef(const float *x, int64_t K, int8_t *q, float *scale) {
  bool nonFinite = false;
  float amax = 0.0f;
  for (int64_t k = 0; k < K; ++k) {
    if (!std::isfinite(x[k]))
      nonFinite = true;
    else
      amax = std::max(amax, std::fabs(x[k]));
  }
  if (nonFinite || amax < std::ldexp(1.0f, -119)) {
    *scale = nonFinite ? NAN : 1.0f;
    std::fill(q, q + K, int8_t(0));
    return;
  }
  *scale = amax / 127.0f;
  float inv = 127.0f / amax;
  for (int64_t k = 0; k < K; ++k) {
    float r = std::nearbyint(x[k] * inv);
    q[k] = int8_t(std::min(std::max(r, -127.0f), 127.0f));
  }
}

/// Rows of every kind: magnitudes from 1e-30 to 1e30, all zeros, denormals,
/// exact ties (amax 127 makes x * inv = x), infinities and NaN.
std::vector<float> makeQuantRows(int64_t rows, int64_t K) {
  std::vector<float> X(rows * K);
  for (int64_t r = 0; r < rows; ++r) {
    float *x = X.data() + r * K;
    int kind = int(r % 8);
    float mag = std::pow(10.0f, randomFloat(-30.0f, 30.0f));
    float tiny = std::ldexp(1.0f, int(randomInt(-126, -112)));
    for (int64_t k = 0; k < K; ++k) {
      switch (kind) {
      case 0:
      case 1:
        x[k] = randomFloat(-1.0f, 1.0f) * mag;
        break;
      case 2:
        x[k] = 0.0f;
        break;
      case 3: // denormals and tiny values around the 2^-119 threshold
        x[k] = randomFloat(-1.0f, 1.0f) * tiny;
        break;
      case 4: // ties of round-half-to-even
        x[k] = float(randomInt(-254, 254)) * 0.5f;
        break;
      default:
        x[k] = randomFloat(-4.0f, 4.0f);
        break;
      }
    }
    if (kind == 4)
      x[randomInt(0, K - 1)] = randomInt(0, 1) ? 127.0f : -127.0f;
    if (kind == 3 && randomInt(0, 1)) { // amax at the threshold, or 1 ulp off
      float t = std::ldexp(1.0f, -119);
      int64_t side = randomInt(-1, 1);
      x[randomInt(0, K - 1)] = side ? std::nextafter(t, side * 1.0f) : t;
    }
    if (kind == 6)
      x[randomInt(0, K - 1)] = randomInt(0, 1) ? INFINITY : -INFINITY;
    if (kind == 7)
      x[randomInt(0, K - 1)] = NAN;
  }
  return X;
}

int checkQuantize(const std::string &what) {
  int checks = 0;
  for (int64_t K : {1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 100, 4100}) {
    const int64_t rows = 96;
    std::vector<float> X = makeQuantRows(rows, K);
    std::vector<int8_t> q(rows * K), want(rows * K);
    std::vector<float> scale(rows), wantScale(rows);
    for (int64_t r = 0; r < rows; ++r)
      quantizeRef(X.data() + r * K, K, want.data() + r * K, &wantScale[r]);
    qrt_uk_quantize_rows_s8(rows, K, X.data(), K, q.data(), K, scale.data());
    ++checks;
    for (int64_t r = 0; r < rows; ++r) {
      char s[160];
      if (!sameFloat(scale[r], wantScale[r])) {
        std::snprintf(s, sizeof(s),
                      "K=%lld row %lld: scale %.9g, expected %.9g",
                      (long long)K, (long long)r, scale[r], wantScale[r]);
        fail("FAIL %s quantize %s\n", what, s);
        break;
      }
      if (!std::isnan(scale[r]) &&
          (!std::isfinite(scale[r]) || scale[r] < 1.1754944e-38f)) {
        std::snprintf(s, sizeof(s), "K=%lld row %lld: scale %.9g", (long long)K,
                      (long long)r, scale[r]);
        fail("FAIL %s quantize: unsafe %s\n", what, s);
        break;
      }
      for (int64_t k = 0; k < K; ++k)
        if (q[r * K + k] != want[r * K + k]) {
          std::snprintf(s, sizeof(s),
                        "K=%lld row %lld k %lld: x=%.9g q=%d, "
                        "expected %d",
                        (long long)K, (long long)r, (long long)k, X[r * K + k],
                        q[r * K + k], want[r * K + k]);
          fail("FAIL %s quantize %s\n", what, s);
          r = rows;
          break;
        }
    }
  }
  return checks;
}

/// One long row (a W8A8 convolution's per-tensor quantization, flattened),
/// which the pool splits into chunks: the same bits as the reference, for
/// every kind of row of makeQuantRows.
int checkQuantizeLongRow(const std::string &what) {
  int checks = 0;
  for (int64_t K : {int64_t(1) << 16, int64_t(300001)}) {
    std::vector<float> X = makeQuantRows(8, K);
    for (int64_t r = 0; r < 8; ++r) {
      const float *x = X.data() + r * K;
      std::vector<int8_t> q(static_cast<size_t>(K)),
          want(static_cast<size_t>(K));
      float scale = 0, wantScale = 0;
      quantizeRef(x, K, want.data(), &wantScale);
      qrt_uk_quantize_rows_s8(1, K, x, K, q.data(), K, &scale);
      ++checks;
      char s[160];
      if (!sameFloat(scale, wantScale) || q != want) {
        std::snprintf(s, sizeof(s),
                      "K=%lld row kind %lld: scale %.9g, "
                      "expected %.9g, values %s",
                      (long long)K, (long long)r, scale, wantScale,
                      q == want ? "equal" : "differ");
        fail("FAIL %s quantize long row %s\n", what, s);
      }
    }
  }
  return checks;
}

/// qrt_uk_s8_linear_f32 is quantize + s8_gemm, bit for bit.
int checkLinear(const std::string &what) {
  int checks = 0;
  for (int64_t M : {1, 3, 16, 37})
    for (int64_t K : {5, 64, 300})
      for (int64_t N : {7, 48}) {
        Problem p = makeProblem(1, N, K, Data::Random);
        std::vector<float> X(M * (K + 1)), sb(N), bias(N);
        for (float &x : X)
          x = randomFloat(-2.0f, 2.0f);
        for (float &s : sb)
          s = randomFloat(1e-3f, 1e-2f);
        for (float &b : bias)
          b = randomFloat(-1.0f, 1.0f);
        std::vector<int8_t> q(M * K);
        std::vector<float> sa(M), want(M * N), got(M * N);
        qrt_uk_quantize_rows_s8(M, K, X.data(), K + 1, q.data(), K, sa.data());
        qrt_uk_s8_gemm(M, N, K, q.data(), K, sa.data(), 1, p.bp, sb.data(),
                       bias.data(), want.data(), N, 0);
        qrt_uk_s8_linear_f32(M, N, K, X.data(), K + 1, p.bp, sb.data(),
                             bias.data(), got.data(), N, 0);
        ++checks;
        for (int64_t i = 0; i < M * N; ++i)
          if (!sameFloat(got[i], want[i])) {
            char s[120];
            std::snprintf(s, sizeof(s), "M=%lld N=%lld K=%lld element %lld",
                          (long long)M, (long long)N, (long long)K,
                          (long long)i);
            fail("FAIL %s s8_linear_f32 differs from quantize + gemm: %s\n",
                 what, s);
            break;
          }
      }
  return checks;
}

//===----------------------------------------------------------------------===//
// Emulated algorithms
//===----------------------------------------------------------------------===//
//
// Each implementation's arithmetic, instruction by instruction, in portable
// C++ on the library's own packed A (s8PackA) and packed B: what the
// machine cannot run natively is still checked against the reference.

/// The packed micro-panels of A for an implementation.
std::vector<uint8_t> packA(const Problem &p, S8ALayout layout, bool xor128,
                           int mr) {
  int64_t Kp = s8PaddedK(p.K), bytes = s8PackedAPanelBytes(layout, mr, Kp);
  int64_t panels = (p.M + mr - 1) / mr;
  std::vector<uint8_t> out(std::max<int64_t>(1, panels * bytes));
  for (int64_t i = 0; i < panels; ++i) {
    int rows = int(std::min<int64_t>(mr, p.M - i * mr));
    s8PackA(layout, xor128, mr, p.A.data() + i * mr * p.lda, p.lda, p.K, Kp,
            rows, out.data() + i * bytes);
  }
  return out;
}

const int8_t *panelB(const Problem &p, int64_t n) {
  return reinterpret_cast<const int8_t *>(p.bp) +
         (n / 16) * s8PaddedK(p.K) * 16;
}

int32_t colSum(const Problem &p, int64_t n) {
  int64_t Kp = s8PaddedK(p.K), cols = (p.N + 15) / 16 * 16;
  int32_t v;
  std::memcpy(&v, p.bp + cols * Kp + n * 4, 4);
  return v;
}

/// VPDPBUSD (avx512vnni, avxvnni): u8 x s8, four products summed into each
/// int32 lane with wrap-around, then 128 * colsum subtracted.
std::vector<int32_t> emulateVnni(const Problem &p, int mr) {
  std::vector<uint8_t> ap = packA(p, S8ALayout::Groups4, true, mr);
  int64_t Kp = s8PaddedK(p.K), panelBytes = mr * Kp;
  std::vector<int32_t> out(p.M * p.N);
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t n = 0; n < p.N; ++n) {
      const uint8_t *a = ap.data() + (m / mr) * panelBytes;
      const int8_t *b = panelB(p, n);
      uint32_t acc = 0;
      for (int64_t g = 0; g < Kp / 4; ++g) {
        int32_t dot = 0; // at most 4 * 255 * 128: no overflow
        for (int t = 0; t < 4; ++t)
          dot += int32_t(a[(g * mr + m % mr) * 4 + t]) *
                 int32_t(b[g * 64 + (n % 16) * 4 + t]);
        acc += uint32_t(dot);
      }
      acc -= uint32_t(colSum(p, n)) << 7;
      out[m * p.N + n] = int32_t(acc);
    }
  return out;
}

/// VPMOVSXBW + VPMADDWD (avx2): int16 x int16, pairs summed into int32
/// lanes (k0+k1 and k2+k3 of a group in two lanes), lanes added with
/// wrap-around and the two lanes of a column added by VPHADDD.
std::vector<int32_t> emulateAvx2(const Problem &p, int mr) {
  std::vector<uint8_t> apBytes = packA(p, S8ALayout::Groups4I16, false, mr);
  const int16_t *ap = reinterpret_cast<const int16_t *>(apBytes.data());
  int64_t Kp = s8PaddedK(p.K);
  std::vector<int32_t> out(p.M * p.N);
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t n = 0; n < p.N; ++n) {
      const int16_t *a = ap + (m / mr) * mr * Kp;
      const int8_t *b = panelB(p, n);
      uint32_t lane[2] = {0, 0};
      for (int64_t g = 0; g < Kp / 4; ++g)
        for (int h = 0; h < 2; ++h) {
          int32_t pair = 0; // VPMADDWD: exact
          for (int t = 2 * h; t < 2 * h + 2; ++t)
            pair += int32_t(a[(g * mr + m % mr) * 4 + t]) *
                    int32_t(int16_t(b[g * 64 + (n % 16) * 4 + t]));
          lane[h] += uint32_t(pair);
        }
      out[m * p.N + n] = int32_t(lane[0] + lane[1]);
    }
  return out;
}

/// VPMADDUBSW with activations offset by 128 (the naive AVX2 kernel, not
/// used): u8 x s8 pair sums saturated to int16, then summed in int32.
std::vector<int32_t> emulateNaiveMaddubs(const Problem &p) {
  std::vector<int32_t> out(p.M * p.N);
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t n = 0; n < p.N; ++n) {
      uint32_t acc = 0;
      for (int64_t k = 0; k < p.K; k += 2) {
        int32_t pair = 0;
        for (int64_t t = k; t < std::min(k + 2, p.K); ++t)
          pair += (int32_t(p.a(m, t)) + 128) * int32_t(p.b(t, n));
        pair = std::min(std::max(pair, -32768), 32767);
        acc += uint32_t(pair);
      }
      acc -= uint32_t(colSum(p, n)) << 7;
      out[m * p.N + n] = int32_t(acc);
    }
  return out;
}

/// TDPBSSD (amx): C tile += A tile (16 rows x 64 s8) x B tile (16 groups of
/// 4 k x 16 columns), read at the addresses the kernel gives TILELOADD.
std::vector<int32_t> emulateAmx(const Problem &p) {
  const int mr = kS8MRAMX;
  std::vector<uint8_t> apBytes = packA(p, S8ALayout::AmxTiles, false, mr);
  const int8_t *ap = reinterpret_cast<const int8_t *>(apBytes.data());
  int64_t Kp = s8PaddedK(p.K), blocks = Kp / 64;
  std::vector<int32_t> out(p.M * p.N);
  for (int64_t m0 = 0; m0 < p.M; m0 += 16)
    for (int64_t n0 = 0; n0 < p.N; n0 += 16) {
      uint32_t c[16][16] = {};
      const int8_t *aTiles =
          ap + (m0 / mr) * mr * Kp + ((m0 % mr) / 16) * blocks * 1024;
      for (int64_t kb = 0; kb < blocks; ++kb) {
        const int8_t *at = aTiles + kb * 1024, *bt = panelB(p, n0) + kb * 1024;
        for (int i = 0; i < 16; ++i)
          for (int j = 0; j < 16; ++j)
            for (int g = 0; g < 16; ++g) {
              int32_t dot = 0;
              for (int t = 0; t < 4; ++t)
                dot += int32_t(at[i * 64 + g * 4 + t]) *
                       int32_t(bt[g * 64 + j * 4 + t]);
              c[i][j] += uint32_t(dot);
            }
      }
      for (int i = 0; i < 16 && m0 + i < p.M; ++i)
        for (int j = 0; j < 16 && n0 + j < p.N; ++j)
          out[(m0 + i) * p.N + n0 + j] = int32_t(c[i][j]);
    }
  return out;
}

bool sameSums(const Problem &p, const std::vector<int32_t> &got) {
  return std::equal(got.begin(), got.end(), p.ref.begin());
}

/// Emulations of every implementation on small problems with every kind of
/// data; the naive VPMADDUBSW must differ from the reference on the
/// saturating data (showing that the data does reach the limit) and match
/// elsewhere.
void checkEmulated(bool &saturationShown) {
  struct Emu {
    const char *name;
    std::vector<int32_t> (*run)(const Problem &, int);
    int mr;
  } emus[] = {
      {"avx512vnni", emulateVnni, kS8MRAVX512VNNI},
      {"avxvnni", emulateVnni, kS8MRAVXVNNI},
      {"avx2", emulateAvx2, kS8MRAVX2},
      {"amx", [](const Problem &p, int) { return emulateAmx(p); }, kS8MRAMX},
  };
  int checks[4] = {};
  for (int d = 0; d < kNumData; ++d)
    for (int64_t M : {1, 5, 13, 17, 33, 40})
      for (int64_t K : {1, 3, 63, 64, 65, 130, 4100})
        for (int64_t N : {1, 17, 40}) {
          if (K == 4100 && M > 17)
            continue;
          Problem p = makeProblem(M, N, K, Data(d));
          for (int e = 0; e < 4; ++e) {
            ++checks[e];
            if (!sameSums(p, emus[e].run(p, emus[e].mr)))
              fail("FAIL emulated %s: %s\n", emus[e].name, p.str());
          }
          if (Data(d) == Data::MaxMin && K >= 2 &&
              !sameSums(p, emulateNaiveMaddubs(p)))
            saturationShown = true;
        }
  for (int e = 0; e < 4; ++e)
    std::printf("emulated %s algorithm: %d problems exact\n", emus[e].name,
                checks[e]);
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

void checkDispatch() {
  S8CpuFeatures none, avx2, client, server;
  avx2.avx2 = true;
  client = avx2;
  client.avxvnni = true;
  server = client;
  server.avx512vnni = true;
  server.amx = true;
  S8CpuFeatures refused = server;
  refused.amx = false;
  refused.amxNote = " (Linux refused)";
  struct Case {
    const S8CpuFeatures *f;
    const char *env;
    bool ok;
    const char *want; ///< the ISA, or a piece of the message
  } cases[] = {
      {&none, nullptr, true, "portable"},
      {&avx2, nullptr, true, "avx2"},
      {&avx2, "", true, "avx2"},
      {&client, nullptr, true, "avxvnni"},
      {&server, nullptr, true, "amx"},
      {&refused, nullptr, true, "avx512vnni"},
      {&server, "portable", true, "portable"},
      {&server, "avx2", true, "avx2"},
      {&avx2, "avx512vnni", false,
       "QRT_UK_S8_ISA=avx512vnni: this machine cannot run the avx512vnni "
       "int8 kernels; it can run: portable avx2"},
      {&refused, "amx", false,
       "amx int8 kernels (Linux refused); it can "
       "run: portable avx2 avxvnni avx512vnni"},
      {&none, "avx2", false, "it can run: portable"},
      {&server, "sse", false,
       "QRT_UK_S8_ISA=sse: unknown implementation; expected one of portable, "
       "avx2, avxvnni, avx512vnni, amx"},
  };
  for (const Case &c : cases) {
    S8Isa isa = S8Isa::Portable;
    char error[512] = "";
    bool ok = s8ChooseIsa(*c.f, c.env, isa, error, sizeof(error));
    std::string got = ok ? s8IsaName(isa) : error;
    if (ok != c.ok || got.find(c.want) == std::string::npos)
      fail("FAIL dispatch: got '%s', expected '%s'\n", got, c.want);
  }
}

//===----------------------------------------------------------------------===//
// The check driver
//===----------------------------------------------------------------------===//

/// Every shape of the brief: M in 1..17, 64, 130; K in 1, 3, 63, 64, 65,
/// 4100; N likewise not multiples of the panel widths.
std::vector<Problem> makeProblems() {
  std::vector<Problem> problems;
  std::vector<int64_t> Ms;
  for (int64_t m = 1; m <= 17; ++m)
    Ms.push_back(m);
  Ms.push_back(64);
  Ms.push_back(130);
  int variant = 0;
  for (int64_t M : Ms)
    for (int64_t K : {1, 3, 63, 64, 65, 4100})
      for (int64_t N : {1, 3, 16, 17, 33, 64, 65, 100}) {
        // Random data mostly; every kind of extreme data in turn.
        Data d = variant % 3 ? Data::Random : Data(1 + (variant / 3) % 6);
        problems.push_back(makeProblem(M, N, K, d, variant % 5 == 0));
        ++variant;
      }
  // Sums near and past the int32 limit: exact up to K = 131071, then
  // modulo 2^32 (still the same on every path).
  for (Data d : {Data::MinMin, Data::MaxMin, Data::Extreme})
    problems.push_back(makeProblem(2, 20, QRT_UK_S8_MAX_EXACT_K, d));
  problems.push_back(makeProblem(3, 17, 140000, Data::MinMin));
  // Empty and zero-depth problems.
  problems.push_back(makeProblem(0, 5, 7, Data::Random));
  problems.push_back(makeProblem(5, 0, 7, Data::Random));
  problems.push_back(makeProblem(5, 7, 0, Data::Random));
  problems.push_back(makeProblem(40, 50, 0, Data::Random));
  return problems;
}

/// The packed blob matches the layout documented in UKernels.h.
void checkPacking() {
  for (int64_t N : {1, 16, 17, 40})
    for (int64_t K : {1, 4, 63, 64, 65, 200})
      for (bool trans : {false, true}) {
        Problem p = makeProblem(1, N, K, Data::Random, trans);
        int64_t Kp = (K + 63) / 64 * 64, cols = (N + 15) / 16 * 16;
        if (qrt_uk_packed_b_s8_size(N, K) != cols * Kp + cols * 4)
          fail("FAIL packed size %s%s\n", p.str(), "");
        for (int64_t n = 0; n < cols; ++n) {
          int64_t sum = 0;
          for (int64_t k = 0; k < Kp; ++k) {
            int8_t want = n < N && k < K ? p.b(k, n) : 0;
            sum += want;
            int8_t got = int8_t(
                p.bp[(n / 16) * Kp * 16 + (k / 4) * 64 + (n % 16) * 4 + k % 4]);
            if (got != want) {
              fail("FAIL packing %s%s\n", p.str(), trans ? " transposed" : "");
              return;
            }
          }
          if (colSum(p, n) != int32_t(sum)) {
            fail("FAIL column sum %s%s\n", p.str(), "");
            return;
          }
        }
      }
}

/// qrt_uk_conv2d_s8_i32 against a naive int32 loop (sums modulo 2^32), on
/// convolutions that take each of its paths: 1x1 in place (K below and
/// above the AMX threshold, a 1x1 image), im2col (strided, dilated,
/// grouped, 1-D), depthwise through the exact f32 plane (stride 1 and 2)
/// and the int32 loop (a window over 1024 taps); random and extreme
/// (-128/127) data; overwriting and accumulating.
int checkConv(const std::string &what) {
  struct Shape {
    int64_t N, C, H, W, F, KH, KW, SH, SW, DH, DW, groups;
  };
  const Shape shapes[] = {
      {1, 144, 7, 7, 40, 1, 1, 1, 1, 1, 1, 1},
      {2, 24, 20, 20, 72, 1, 1, 1, 1, 1, 1, 1},
      {1, 96, 1, 1, 24, 1, 1, 1, 1, 1, 1, 1},
      {1, 3, 17, 17, 16, 3, 3, 2, 2, 1, 1, 1},
      {1, 16, 12, 12, 48, 3, 3, 1, 1, 2, 2, 1},
      {2, 8, 5, 5, 6, 1, 1, 1, 1, 1, 1, 2},
      {1, 12, 9, 9, 8, 3, 3, 1, 2, 1, 1, 4},
      {1, 1, 1, 50, 20, 1, 5, 1, 1, 1, 1, 1},
      {2, 16, 13, 13, 16, 3, 3, 1, 1, 1, 1, 16},
      {1, 24, 20, 20, 24, 5, 5, 2, 2, 1, 1, 24},
      {1, 2, 40, 40, 2, 33, 33, 1, 1, 1, 1, 2},
  };
  int checks = 0;
  for (const Shape &s : shapes) {
    int64_t OH = (s.H - (s.KH - 1) * s.DH - 1) / s.SH + 1;
    int64_t OW = (s.W - (s.KW - 1) * s.DW - 1) / s.SW + 1;
    int64_t Cg = s.C / s.groups, Fg = s.F / s.groups;
    for (Data d : {Data::Random, Data::Extreme}) {
      std::vector<int8_t> X(size_t(s.N * s.C * s.H * s.W)),
          Wt(size_t(s.F * Cg * s.KH * s.KW));
      for (int8_t &v : X)
        v = sample(d, true);
      for (int8_t &v : Wt)
        v = sample(d, false);
      std::vector<int32_t> want(size_t(s.N * s.F * OH * OW));
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t f = 0; f < s.F; ++f)
          for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow) {
              uint32_t acc = 0;
              int64_t g = f / Fg;
              for (int64_t c = 0; c < Cg; ++c)
                for (int64_t kh = 0; kh < s.KH; ++kh)
                  for (int64_t kw = 0; kw < s.KW; ++kw) {
                    int64_t ih = oh * s.SH + kh * s.DH,
                            iw = ow * s.SW + kw * s.DW;
                    acc += uint32_t(
                        int32_t(X[size_t(
                            ((n * s.C + g * Cg + c) * s.H + ih) * s.W + iw)]) *
                        int32_t(Wt[size_t(((f * Cg + c) * s.KH + kh) * s.KW +
                                          kw)]));
                  }
              want[size_t(((n * s.F + f) * OH + oh) * OW + ow)] = int32_t(acc);
            }
      for (int accumulate : {0, 1}) {
        std::vector<int32_t> Y(want.size());
        std::vector<int32_t> expect = want;
        for (size_t i = 0; i < Y.size(); ++i) {
          Y[i] = accumulate ? int32_t(randomInt(-1000000, 1000000)) : 12345;
          if (accumulate)
            expect[i] = int32_t(uint32_t(want[i]) + uint32_t(Y[i]));
        }
        qrt_uk_conv2d_s8_i32(s.N, s.C, s.H, s.W, s.F, s.KH, s.KW, OH, OW, s.SH,
                             s.SW, s.DH, s.DW, s.groups, X.data(), Wt.data(),
                             Y.data(), accumulate ? QRT_UK_ACCUMULATE : 0);
        ++checks;
        if (Y != expect) {
          size_t i = 0;
          while (Y[i] == expect[i])
            ++i;
          char buf[256];
          std::snprintf(buf, sizeof(buf),
                        "conv2d_s8 N%lld C%lld %lldx%lld F%lld k%lldx%lld "
                        "s%lld,%lld d%lld,%lld g%lld %s%s: element %zu is "
                        "%d, want %d",
                        (long long)s.N, (long long)s.C, (long long)s.H,
                        (long long)s.W, (long long)s.F, (long long)s.KH,
                        (long long)s.KW, (long long)s.SH, (long long)s.SW,
                        (long long)s.DH, (long long)s.DW, (long long)s.groups,
                        kDataNames[int(d)], accumulate ? " acc" : "", i, Y[i],
                        expect[i]);
          fail("FAIL %s: %s\n", what, buf);
        }
      }
    }
  }
  return checks;
}

int runChecks() {
  checkDispatch();
  checkPacking();
  bool saturationShown = false;
  checkEmulated(saturationShown);
  if (!saturationShown)
    fail("FAIL %s%s\n", "the worst-case data never saturates VPMADDUBSW", "");
  else
    std::printf("naive vpmaddubsw (u8 x s8, int16 saturation) is wrong on the "
                "worst case, as expected: the data reaches the limit\n");

  std::vector<Problem> problems = makeProblems();
  S8CpuFeatures f = getS8CpuFeatures();
  for (int i = 0; i < kNumS8Isas; ++i) {
    S8Isa isa = S8Isa(i);
    std::string name = s8IsaName(isa);
    if (!setS8IsaForTesting(isa)) {
      std::printf("%s: skipped, this machine cannot run it%s (its algorithm "
                  "is emulated above)\n",
                  name.c_str(), isa == S8Isa::AMX ? f.amxNote : "");
      continue;
    }
    int before = numFailures, checks = 0;
    for (int threads : {1, 2}) {
      qrt_set_num_threads(threads);
      std::string what = name + " " + std::to_string(threads) + "T";
      for (const Problem &p : problems)
        checks += checkProblem(p, what);
      checks += checkQuantize(what);
      checks += checkLinear(what);
      checks += checkConv(what);
      checks += checkQuantizeLongRow(what);
    }
    std::printf("%s: %d checks, %s\n", name.c_str(), checks,
                numFailures == before ? "all exact" : "FAILED");
  }
  if (numFailures) {
    std::printf("%d failures\n", numFailures);
    return 1;
  }
  std::printf("all checks passed\n");
  return 0;
}

//===----------------------------------------------------------------------===//
// Benchmark
//===----------------------------------------------------------------------===//

/// Runs `fn` until `minTime` seconds have passed (at least 3 times after a
/// warm-up) and returns the best time of one call.
template <typename Fn> double timeIt(Fn fn, double minTime) {
  fn();
  double best = 1e30, start = now();
  int reps = 0;
  do {
    double t0 = now();
    fn();
    best = std::min(best, now() - t0);
    ++reps;
  } while (now() - start < minTime || reps < 3);
  return best;
}

std::vector<int64_t> parseList(const char *s) {
  std::vector<int64_t> v;
  while (*s) {
    char *end;
    long long x = std::strtoll(s, &end, 10);
    if (end == s || x <= 0)
      return {};
    v.push_back(x);
    s = *end == ',' ? end + 1 : end;
  }
  return v;
}

int runBench(double minTime, bool json, const std::vector<int64_t> &threadList,
             const std::vector<int64_t> &Ms) {
  const int64_t N = 4096, K = 4096;
  std::vector<float> Bf(K * N);
  for (float &b : Bf)
    b = randomFloat(-1.0f, 1.0f) / 64;
  std::vector<float> Bpf(qrt_uk_packed_b_f32_size(N, K));
  qrt_uk_pack_b_f32(N, K, Bf.data(), N, 1, Bpf.data());
  // Symmetric per-channel int8 weights of the same matrix.
  std::vector<int8_t> Bq(K * N);
  std::vector<float> sb(N);
  for (int64_t n = 0; n < N; ++n) {
    float amax = 0;
    for (int64_t k = 0; k < K; ++k)
      amax = std::max(amax, std::fabs(Bf[k * N + n]));
    sb[n] = amax / 127;
    for (int64_t k = 0; k < K; ++k)
      Bq[k * N + n] = int8_t(std::nearbyint(Bf[k * N + n] / sb[n]));
  }
  std::vector<uint8_t> storage(qrt_uk_packed_b_s8_size(N, K) + 64);
  uint8_t *bp = storage.data() +
                (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  qrt_uk_pack_b_s8(N, K, Bq.data(), N, 1, bp);

  S8CpuFeatures f = getS8CpuFeatures();
  std::vector<S8Isa> isas;
  for (int i = 0; i < kNumS8Isas; ++i)
    if (s8IsaAvailable(S8Isa(i), f))
      isas.push_back(S8Isa(i));
  if (!json) {
    std::printf("GOP/s of M x 4096 x 4096 (2*M*N*K / best time): fp32 = "
                "qrt_uk_sgemm_packed; per int8 path, gemm = qrt_uk_s8_gemm "
                "(int8 A given) and lin = qrt_uk_s8_linear_f32 (f32 A, "
                "quantized per call)\n");
  }
  for (int64_t threads : threadList) {
    qrt_set_num_threads(int(threads));
    if (!json) {
      std::printf("\n%lld thread(s)\n%6s %8s", (long long)threads, "M", "fp32");
      for (S8Isa isa : isas)
        std::printf(" %11s %11s",
                    (std::string(s8IsaName(isa)) + " gemm").c_str(), "lin");
      std::printf("\n");
    }
    for (int64_t M : Ms) {
      std::vector<float> X(M * K), Y(M * N), sa(M);
      for (float &x : X)
        x = randomFloat(-1.0f, 1.0f);
      std::vector<int8_t> q(M * K);
      qrt_uk_quantize_rows_s8(M, K, X.data(), K, q.data(), K, sa.data());
      double ops = 2.0 * double(M) * N * K;
      auto report = [&](const char *kernel, const char *isa, double t) {
        double gops = ops / t * 1e-9;
        if (json)
          std::printf("{\"kernel\": \"%s\", \"isa\": \"%s\", \"M\": %lld, "
                      "\"N\": %lld, \"K\": %lld, \"threads\": %lld, "
                      "\"best_ms\": %.4f, \"gops\": %.2f}\n",
                      kernel, isa, (long long)M, (long long)N, (long long)K,
                      (long long)threads, t * 1e3, gops);
        else
          std::printf(kernel[0] == 'f' ? " %8.1f" : " %11.1f", gops);
        std::fflush(stdout);
      };
      if (!json)
        std::printf("%6lld", (long long)M);
      report("sgemm_f32", "",
             timeIt(
                 [&] {
                   qrt_uk_sgemm_packed(M, N, K, X.data(), K, 1, Bpf.data(),
                                       Y.data(), N, 1, 0);
                 },
                 minTime));
      for (S8Isa isa : isas) {
        setS8IsaForTesting(isa);
        const char *name = s8IsaName(isa);
        // The portable kernel takes seconds per call at large M.
        if (isa == S8Isa::Portable && M > 16) {
          if (!json)
            std::printf(" %11s %11s", "-", "-");
          continue;
        }
        report("s8_gemm", name,
               timeIt(
                   [&] {
                     qrt_uk_s8_gemm(M, N, K, q.data(), K, sa.data(), 1, bp,
                                    sb.data(), nullptr, Y.data(), N, 0);
                   },
                   minTime));
        report("s8_linear_f32", name,
               timeIt(
                   [&] {
                     qrt_uk_s8_linear_f32(M, N, K, X.data(), K, bp, sb.data(),
                                          nullptr, Y.data(), N, 0);
                   },
                   minTime));
      }
      if (!json)
        std::printf("\n");
    }
  }
  return 0;
}

} // namespace

/// qrt_uk_conv2d_s8_i32 against qrt_uk_conv2d_f32 on the layer shapes of
/// the MobileNetV3-small-like bench model (bench/models/speed): GMAC/s of
/// each and the ratio, per thread count. Padding is left out (both kernels
/// take padded inputs): the input is the padded size.
int runConvBench(double minTime, const std::vector<int64_t> &threadList) {
  struct Layer {
    const char *what;
    int64_t C, H, F, K, S, groups;
  };
  const Layer layers[] = {
      {"stem 3x3 s2 3->16 @224", 3, 225, 16, 3, 2, 1},
      {"1x1 16->72 @56", 16, 56, 72, 1, 1, 1},
      {"1x1 72->24 @28", 72, 28, 24, 1, 1, 1},
      {"1x1 24->88 @28", 24, 28, 88, 1, 1, 1},
      {"1x1 40->240 @14", 40, 14, 240, 1, 1, 1},
      {"1x1 240->40 @14", 240, 14, 40, 1, 1, 1},
      {"1x1 96->576 @7", 96, 7, 576, 1, 1, 1},
      {"1x1 576->96 @7", 576, 7, 96, 1, 1, 1},
      {"dw 3x3 s1 88 @28", 88, 30, 88, 3, 1, 88},
      {"dw 5x5 s2 96 @28", 96, 31, 96, 5, 2, 96},
  };
  std::printf("int8 implementation: %s\n", getS8Arch().name);
  std::printf("%-24s %3s %10s %10s %7s\n", "conv layer", "thr", "f32 GMAC/s",
              "s8 GMAC/s", "s8/f32");
  for (int64_t t : threadList) {
    qrt_set_num_threads(int(t));
    for (const Layer &l : layers) {
      int64_t O = (l.H - l.K) / l.S + 1, Cg = l.C / l.groups;
      std::vector<float> xf(size_t(l.C * l.H * l.H)),
          wf(size_t(l.F * Cg * l.K * l.K)), yf(size_t(l.F * O * O));
      std::vector<int8_t> xq(xf.size()), wq(wf.size());
      std::vector<int32_t> yq(yf.size());
      for (size_t i = 0; i < xf.size(); ++i)
        xq[i] = int8_t(randomInt(-127, 127)), xf[i] = float(xq[i]);
      for (size_t i = 0; i < wf.size(); ++i)
        wq[i] = int8_t(randomInt(-127, 127)), wf[i] = float(wq[i]);
      double macs = double(l.F) * double(O * O) * double(Cg * l.K * l.K);
      double tf = timeIt(
          [&] {
            qrt_uk_conv2d_f32(1, l.C, l.H, l.H, l.F, l.K, l.K, O, O, l.S, l.S,
                              1, 1, l.groups, xf.data(), wf.data(), yf.data(),
                              0);
          },
          minTime);
      double tq = timeIt(
          [&] {
            qrt_uk_conv2d_s8_i32(1, l.C, l.H, l.H, l.F, l.K, l.K, O, O, l.S,
                                 l.S, 1, 1, l.groups, xq.data(), wq.data(),
                                 yq.data(), 0);
          },
          minTime);
      std::printf("%-24s %3lld %10.2f %10.2f %6.2fx\n", l.what, (long long)t,
                  macs / tf * 1e-9, macs / tq * 1e-9, tf / tq);
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  bool check = false, printIsa = false, quick = false, json = false,
       conv = false;
  double minTime = 1.5;
  std::vector<int64_t> threads = {1, 2}, Ms = {1, 16, 128, 512};
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (!std::strcmp(arg, "--check"))
      check = true;
    else if (!std::strcmp(arg, "--conv"))
      conv = true;
    else if (!std::strcmp(arg, "--print-isa"))
      printIsa = true;
    else if (!std::strcmp(arg, "--quick"))
      quick = true;
    else if (!std::strcmp(arg, "--json"))
      json = true;
    else if (!std::strcmp(arg, "--cpu-time"))
      useCpuTime = true;
    else if (!std::strncmp(arg, "--min-time=", 11) &&
             (minTime = std::atof(arg + 11)) > 0)
      ;
    else if (!std::strncmp(arg, "--threads=", 10) &&
             !(threads = parseList(arg + 10)).empty())
      ;
    else if (!std::strncmp(arg, "--m=", 4) &&
             !(Ms = parseList(arg + 4)).empty())
      ;
    else {
      std::fprintf(stderr,
                   "usage: %s --check | --print-isa | [--conv] [--quick] "
                   "[--json] "
                   "[--cpu-time] [--min-time=S] [--threads=1,2] "
                   "[--m=1,16,128,512]\n",
                   argv[0]);
      return 2;
    }
  }
  if (check)
    return runChecks();
  if (printIsa) {
    std::printf("%s\n", getS8Arch().name);
    return 0;
  }
  if (conv)
    return runConvBench(quick ? 0.3 : minTime, threads);
  return runBench(quick ? 0.3 : minTime, json, threads, Ms);
}
