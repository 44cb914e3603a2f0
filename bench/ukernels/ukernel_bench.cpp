//===- ukernel_bench.cpp - Test and benchmark the runtime ukernels --------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// Standalone: builds against the kernel sources directly (see README.md).
//
//   ukernel_bench --check   compare every kernel against a naive reference
//                           on random problems; exit 1 on any mismatch
//   ukernel_bench [--quick] time sgemm, the weight-only kernels, fused
//                           attention and the depthwise convolution
//
// $QRT_UK_ISA=scalar|avx2|avx512 forces one implementation.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runtime/UKernels.h"

#include "../../lib/Runtime/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

std::mt19937_64 rng(12345);

std::vector<float> randomFloats(size_t n) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

int64_t randomInt(int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int numFailures = 0;

/// Compares C against the reference; `bound[i]` is sum |a||b| for element i,
/// which scales the tolerance to the rounding error fp32 may make.
bool compare(const char *what, const std::string &shape, const float *got,
             const double *want, const double *bound, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    double tol = 1e-5 * bound[i] + 1e-6;
    if (!(std::fabs(double(got[i]) - want[i]) <= tol)) {
      std::printf("FAIL %s %s: element %zu is %.7g, expected %.7g\n", what,
                  shape.c_str(), i, double(got[i]), want[i]);
      ++numFailures;
      return false;
    }
  }
  return true;
}

//===----------------------------------------------------------------------===//
// sgemm
//===----------------------------------------------------------------------===//

void checkSgemm(int64_t M, int64_t N, int64_t K, bool transA, bool transB,
                int64_t cStrideN, bool accumulate, bool packed) {
  // Pad leading dimensions so that strides are not the tight ones.
  int64_t padA = randomInt(0, 3), padB = randomInt(0, 3),
          padC = randomInt(0, 3);
  int64_t ldaM = transA ? 1 : K + padA, ldaK = transA ? M + padA : 1;
  int64_t ldbK = transB ? 1 : N + padB, ldbN = transB ? K + padB : 1;
  int64_t ldcN = cStrideN, ldcM = N * cStrideN + padC;
  std::vector<float> A = randomFloats(
                         std::max<int64_t>(1, M * K + 4 * padA * (M + K))),
                     B = randomFloats(
                         std::max<int64_t>(1, K * N + 4 * padB * (K + N))),
                     C = randomFloats(std::max<int64_t>(1, M * ldcM + 1));
  std::vector<float> c0 = C;
  std::vector<double> want(M * N), bound(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = accumulate ? c0[m * ldcM + n * ldcN] : 0.0, b = std::fabs(s);
      for (int64_t k = 0; k < K; ++k) {
        double p = double(A[m * ldaM + k * ldaK]) * B[k * ldbK + n * ldbN];
        s += p;
        b += std::fabs(p);
      }
      want[m * N + n] = s;
      bound[m * N + n] = b;
    }
  int32_t flags = accumulate ? QRT_UK_ACCUMULATE : 0;
  if (packed) {
    std::vector<float> Bp(qrt_uk_packed_b_f32_size(N, K) + 1);
    qrt_uk_pack_b_f32(N, K, B.data(), ldbK, ldbN, Bp.data());
    qrt_uk_sgemm_packed(M, N, K, A.data(), ldaM, ldaK, Bp.data(), C.data(),
                        ldcM, ldcN, flags);
  } else {
    qrt_uk_sgemm(M, N, K, A.data(), ldaM, ldaK, B.data(), ldbK, ldbN, C.data(),
                 ldcM, ldcN, flags);
  }
  std::vector<float> got(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n)
      got[m * N + n] = C[m * ldcM + n * ldcN];
  char shape[160];
  std::snprintf(shape, sizeof(shape),
                "M=%lld N=%lld K=%lld transA=%d transB=%d ldc_n=%lld acc=%d",
                (long long)M, (long long)N, (long long)K, transA, transB,
                (long long)ldcN, accumulate);
  compare(packed ? "sgemm_packed" : "sgemm", shape, got.data(), want.data(),
          bound.data(), got.size());
  // Elements of C between rows and columns must be untouched.
  for (int64_t m = 0; m < M; ++m)
    for (int64_t j = 0; j < ldcM; ++j)
      if ((j % ldcN != 0 || j / ldcN >= N) &&
          C[m * ldcM + j] != c0[m * ldcM + j]) {
        std::printf("FAIL %s: wrote outside C at row %lld\n", shape,
                    (long long)m);
        ++numFailures;
        return;
      }
}

//===----------------------------------------------------------------------===//
// Weight-only
//===----------------------------------------------------------------------===//

struct QuantWeights {
  int64_t N, K, G, numGroups, rowBytes;
  int bits;
  bool isSigned;
  std::vector<uint8_t> q;
  std::vector<float> scale, zp;
  std::vector<int32_t> values; ///< q(n, k), for the reference.
};

QuantWeights makeQuantWeights(int64_t N, int64_t K, int bits, bool isSigned,
                              int64_t G, bool withZp) {
  QuantWeights w;
  w.N = N;
  w.K = K;
  w.G = G;
  w.bits = bits;
  w.isSigned = isSigned;
  w.numGroups = (K + G - 1) / G;
  w.rowBytes = (K * bits + 7) / 8;
  // One spare byte less would do; the kernels must not read past the end,
  // which AddressSanitizer builds of this program check.
  w.q.assign(N * w.rowBytes, 0);
  w.values.resize(N * K);
  int lo = isSigned ? -(1 << (bits - 1)) : 0;
  int hi = isSigned ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      int v = int(randomInt(lo, hi));
      w.values[n * K + k] = v;
      uint32_t u = uint32_t(v) & ((1u << bits) - 1);
      for (int b = 0; b < bits; ++b)
        if (u >> b & 1) {
          int64_t bit = k * bits + b;
          w.q[n * w.rowBytes + bit / 8] |= uint8_t(1u << (bit % 8));
        }
    }
  w.scale = randomFloats(N * w.numGroups);
  for (float &s : w.scale)
    s = 0.01f + std::fabs(s) * 0.05f;
  if (withZp) {
    w.zp.resize(N * w.numGroups);
    for (float &z : w.zp)
      z = float(randomInt(lo, hi));
  }
  return w;
}

void checkWo(int64_t M, int64_t N, int64_t K, int bits, bool isSigned,
             int64_t G, bool withZp, bool accumulate) {
  QuantWeights w = makeQuantWeights(N, K, bits, isSigned, G, withZp);
  int64_t ldx = K + randomInt(0, 3), ldy = N + randomInt(0, 3);
  std::vector<float> X = randomFloats(M * ldx), Y = randomFloats(M * ldy);
  std::vector<float> y0 = Y;
  std::vector<double> want(M * N), bound(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = accumulate ? y0[m * ldy + n] : 0.0, b = std::fabs(s);
      for (int64_t k = 0; k < K; ++k) {
        int64_t g = n * w.numGroups + k / G;
        double wv = (w.values[n * K + k] - (withZp ? w.zp[g] : 0.0f)) *
                    double(w.scale[g]);
        double p = double(X[m * ldx + k]) * wv;
        s += p;
        // Folding the zero point out of the group sum rounds like the
        // unfolded terms do.
        b += std::fabs(p) +
             (withZp ? std::fabs(X[m * ldx + k] * w.zp[g] * w.scale[g]) * 2
                     : 0.0);
      }
      want[m * N + n] = s;
      bound[m * N + n] = b;
    }
  qrt_uk_wo_gemm(M, N, K, X.data(), ldx, w.q.data(), bits, isSigned,
                 w.scale.data(), withZp ? w.zp.data() : nullptr, G, Y.data(),
                 ldy, accumulate ? QRT_UK_ACCUMULATE : 0);
  std::vector<float> got(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n)
      got[m * N + n] = Y[m * ldy + n];
  char shape[160];
  std::snprintf(shape, sizeof(shape),
                "M=%lld N=%lld K=%lld bits=%d signed=%d G=%lld zp=%d acc=%d",
                (long long)M, (long long)N, (long long)K, bits, isSigned,
                (long long)G, withZp, accumulate);
  compare("wo_gemm", shape, got.data(), want.data(), bound.data(), got.size());
}

//===----------------------------------------------------------------------===//
// Thread pool
//===----------------------------------------------------------------------===//

/// Runs many small loops through the global pool (from one thread, from two
/// threads at once, and nested) and checks that every iteration runs exactly
/// once per loop.
void checkThreadPool() {
  qrt::ThreadPool &pool = qrt::getGlobalThreadPool();
  auto runLoops = [&pool](int loops, uint64_t seed, bool nested) {
    std::mt19937_64 gen(seed);
    std::vector<int> hits;
    for (int l = 0; l < loops; ++l) {
      int64_t n = int64_t(gen() % 200), minChunk = int64_t(gen() % 8) + 1;
      hits.assign(n, 0);
      pool.parallelFor(
          n,
          [&](int64_t begin, int64_t end) {
            if (begin % minChunk != 0 || begin >= end)
              hits[0] = -1000;
            for (int64_t i = begin; i < end; ++i) {
              if (!nested) {
                ++hits[i];
                continue;
              }
              // A nested loop (serial on this thread when the outer loop
              // runs on the pool, on the pool when the outer one is serial).
              std::atomic<int64_t> inner{0};
              pool.parallelFor(
                  3, [&](int64_t b, int64_t e) { inner += e - b; }, 1);
              hits[i] += int(inner.load()) - 2;
            }
          },
          minChunk);
      for (int64_t i = 0; i < n; ++i)
        if (hits[i] != 1)
          return false;
    }
    return true;
  };
  for (int threads : {2, 1, 3, 2}) {
    pool.setNumThreads(threads);
    bool ok = runLoops(5000, threads, false) && runLoops(500, 7, true);
    bool okA = true, okB = true;
    std::thread a([&] { okA = runLoops(3000, 11, false); });
    std::thread b([&] { okB = runLoops(3000, 13, false); });
    a.join();
    b.join();
    if (!ok || !okA || !okB) {
      std::printf("FAIL thread pool with %d threads\n", threads);
      ++numFailures;
    }
  }
}

/// Softmax of `rows` rows of `cols` against a double reference: each output
/// within 1e-6 relative plus the rounding of its shifted input (and 1e-30
/// absolute, for flushed denormals); in
/// place and with strides; rows of -inf and NaN become NaN.
void checkSoftmax(int64_t rows, int64_t cols, bool strided, bool inPlace) {
  int64_t ldxC = strided ? 2 : 1, ldyC = strided ? 3 : 1;
  int64_t ldxR = cols * ldxC + 5, ldyR = cols * ldyC + 7;
  std::vector<float> X(rows * ldxR + 1), Y(std::max(rows * ldyR, int64_t(1)));
  std::uniform_real_distribution<float> dist(-30.0f, 30.0f);
  for (float &x : X)
    x = dist(rng);
  // Masked entries, as attention's causal mask makes them.
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = r + 1; c < cols; c += 2)
      X[r * ldxR + c * ldxC] = -INFINITY;
  std::vector<float> original = X;
  float *out = inPlace ? X.data() : Y.data();
  int64_t outR = inPlace ? ldxR : ldyR, outC = inPlace ? ldxC : ldyC;
  qrt_uk_softmax(rows, cols, X.data(), ldxR, ldxC, out, outR, outC);
  std::string shape = std::to_string(rows) + "x" + std::to_string(cols) +
                      (strided ? " strided" : "") +
                      (inPlace ? " in place" : "");
  for (int64_t r = 0; r < rows; ++r) {
    const float *x = original.data() + r * ldxR;
    double max = -INFINITY, sum = 0;
    for (int64_t c = 0; c < cols; ++c)
      max = std::max(max, double(x[c * ldxC]));
    for (int64_t c = 0; c < cols; ++c)
      sum += std::exp(double(x[c * ldxC]) - max);
    for (int64_t c = 0; c < cols; ++c) {
      double want = std::exp(double(x[c * ldxC]) - max) / sum;
      float got = out[r * outR + c * outC];
      // x - max is rounded to float before exp: a relative error of up to
      // |x - max| * 2^-24 that every fp32 softmax makes.
      double shift = std::fabs(double(x[c * ldxC]) - max);
      double tol = want == 0 ? 0 : (1e-6 + shift * 6e-8) * want + 1e-30;
      if (!(std::fabs(got - want) <= tol)) {
        std::printf("softmax %s: row %lld col %lld: got %g, want %g\n",
                    shape.c_str(), (long long)r, (long long)c, got, want);
        ++numFailures;
        return;
      }
    }
  }
  // Nothing between the rows of Y may be written.
  if (!inPlace)
    for (int64_t i = 0; i < rows * ldyR; ++i)
      if (i % ldyR >= cols * ldyC || (i % ldyR) % ldyC != 0)
        if (Y[i] != 0.0f) {
          std::printf("softmax %s: wrote outside Y at %lld\n", shape.c_str(),
                      (long long)i);
          ++numFailures;
          return;
        }
}

/// Rows of only -inf, and rows holding a NaN, are NaN throughout.
void checkSoftmaxSpecialRows() {
  for (int64_t cols : {1, 7, 8, 33}) {
    std::vector<float> X(2 * cols, -INFINITY), Y(2 * cols);
    X[cols + cols / 2] = NAN;
    qrt_uk_softmax(2, cols, X.data(), cols, 1, Y.data(), cols, 1);
    for (float y : Y)
      if (!std::isnan(y)) {
        std::printf("softmax special rows (%lld cols): got %g, want NaN\n",
                    (long long)cols, y);
        ++numFailures;
        return;
      }
  }
}

//===----------------------------------------------------------------------===//
// Fused attention
//===----------------------------------------------------------------------===//

enum class MaskKind { None, CausalInf, CausalMin, Random, AllMaskedRows };

/// qrt_uk_attention_f32 on one problem against a reference that rounds the
/// scores to f32 as the unfused graph does (dot, * scale, + mask) and does
/// the rest in double. Layouts: Q and O as [B, S, H, D] views when
/// `transposed`, K stored as [B, Hk, D, Skv] (K^T) when `kT`; the mask is
/// [B, 1, Sq, Skv], broadcast over heads with stride 0.
/// The attention checks' own generator, so that they leave the data of the
/// other checks as it was.
std::mt19937_64 attnRng(777);

std::vector<float> attnRandomFloats(size_t n) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(attnRng);
  return v;
}

int64_t attnRandomInt(int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(attnRng);
}

void checkAttention(int64_t B, int64_t H, int64_t G, int64_t Sq, int64_t Skv,
                    int64_t D, int64_t Dv, MaskKind maskKind, bool transposed,
                    bool kT) {
  int64_t Hk = H / G;
  std::vector<float> Q = attnRandomFloats(B * H * Sq * D),
                     K = attnRandomFloats(B * Hk * Skv * D),
                     V = attnRandomFloats(B * Hk * Skv * Dv);
  for (float &x : Q)
    x *= 3.0f;
  int64_t ldq[4], ldo[4];
  if (transposed) {
    int64_t q[4] = {Sq * H * D, D, H * D, 1},
            o[4] = {Sq * H * Dv, Dv, H * Dv, 1};
    std::copy(q, q + 4, ldq);
    std::copy(o, o + 4, ldo);
  } else {
    int64_t q[4] = {H * Sq * D, Sq * D, D, 1},
            o[4] = {H * Sq * Dv, Sq * Dv, Dv, 1};
    std::copy(q, q + 4, ldq);
    std::copy(o, o + 4, ldo);
  }
  int64_t ldk[4] = {Hk * Skv * D, Skv * D, kT ? 1 : D, kT ? Skv : 1};
  int64_t ldv[4] = {Hk * Skv * Dv, Skv * Dv, Dv, 1};
  std::vector<float> M;
  int64_t ldm[4] = {Sq * Skv, 0, Skv, 1};
  const float minF = -3.4028235e38f;
  if (maskKind != MaskKind::None) {
    M.resize(B * Sq * Skv);
    std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < Sq; ++i)
        for (int64_t j = 0; j < Skv; ++j) {
          bool hidden = j > i + (Skv - Sq);
          float &m = M[b * Sq * Skv + i * Skv + j];
          switch (maskKind) {
          case MaskKind::CausalInf:
            m = hidden ? -INFINITY : 0.0f;
            break;
          case MaskKind::CausalMin:
            m = hidden ? minF : 0.0f;
            break;
          case MaskKind::Random:
            m = dist(attnRng);
            break;
          case MaskKind::AllMaskedRows:
            // Row 1 all -inf (NaN), row 2 all finfo.min (uniform), the
            // others causal with finfo.min.
            m = i == 1 ? -INFINITY : i == 2 ? minF : hidden ? minF : 0.0f;
            break;
          case MaskKind::None:
            break;
          }
        }
  }
  float scale = 1.0f / std::sqrt(float(D));
  std::vector<float> O(B * H * Sq * Dv, 12345.0f);
  qrt_uk_attention_f32(B, H, Sq, Skv, D, Dv, G, Q.data(), ldq[0], ldq[1],
                       ldq[2], ldq[3], K.data(), ldk[0], ldk[1], ldk[2], ldk[3],
                       V.data(), ldv[0], ldv[1], ldv[2], ldv[3],
                       M.empty() ? nullptr : M.data(), ldm[0], ldm[1], ldm[2],
                       ldm[3], scale, O.data(), ldo[0], ldo[1], ldo[2], ldo[3]);
  std::string shape = "B" + std::to_string(B) + " H" + std::to_string(H) +
                      " G" + std::to_string(G) + " Sq" + std::to_string(Sq) +
                      " Skv" + std::to_string(Skv) + " D" + std::to_string(D) +
                      " Dv" + std::to_string(Dv) + " mask" +
                      std::to_string(int(maskKind)) +
                      (transposed ? " transposed" : "") + (kT ? " kT" : "");
  std::vector<double> x(Skv);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < Sq; ++i) {
        const float *q = Q.data() + b * ldq[0] + h * ldq[1] + i * ldq[2];
        const float *k = K.data() + b * ldk[0] + (h / G) * ldk[1];
        const float *v = V.data() + b * ldv[0] + (h / G) * ldv[1];
        double max = -INFINITY;
        for (int64_t j = 0; j < Skv; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += double(q[d]) * k[j * ldk[2] + d * ldk[3]];
          float s = float(dot) * scale;
          if (!M.empty())
            s += M[b * ldm[0] + i * ldm[2] + j];
          x[j] = s;
          max = std::max(max, x[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < Skv; ++j)
          sum += std::exp(x[j] - max);
        bool nanRow = max == -INFINITY;
        for (int64_t e = 0; e < Dv; ++e) {
          double want = 0, bound = 0;
          for (int64_t j = 0; j < Skv; ++j) {
            double pj = std::exp(x[j] - max) / sum;
            want += pj * v[j * ldv[2] + e];
            bound += pj * std::fabs(v[j * ldv[2] + e]);
          }
          float got = O[b * ldo[0] + h * ldo[1] + i * ldo[2] + e * ldo[3]];
          bool ok = nanRow ? std::isnan(got)
                           : std::fabs(got - want) <= 2e-5 * bound + 1e-6;
          if (!ok) {
            std::printf("FAIL attention %s: b %lld h %lld i %lld e %lld: got "
                        "%.7g, want %.7g\n",
                        shape.c_str(), (long long)b, (long long)h, (long long)i,
                        (long long)e, double(got), want);
            ++numFailures;
            return;
          }
        }
      }
}

void checkAttentionAll() {
  for (int64_t D : {32, 64, 7})
    for (int64_t S : {1, 5, 63, 64, 65, 130, 200}) {
      MaskKind kind = MaskKind(attnRandomInt(0, 4));
      checkAttention(attnRandomInt(1, 2), 4, attnRandomInt(0, 1) ? 2 : 1, S, S,
                     D, D == 7 ? 20 : D, kind, attnRandomInt(0, 1),
                     attnRandomInt(0, 1));
    }
  for (int kind = 0; kind < 5; ++kind) {
    checkAttention(1, 8, 2, 150, 150, 32, 32, MaskKind(kind), false, false);
    checkAttention(2, 2, 1, 37, 300, 64, 64, MaskKind(kind), true, true);
    checkAttention(1, 3, 3, 1, 129, 32, 48, MaskKind(kind), false, false);
  }
}

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

/// qrt_uk_conv2d_f32 against a direct double-precision loop over the
/// definition in UKernels.h; the input is as large as the window needs plus
/// `extraH`/`extraW` unread rows/columns.
void checkConv(int64_t N, int64_t C, int64_t F, int64_t groups, int64_t OH,
               int64_t OW, int64_t KH, int64_t KW, int64_t SH, int64_t SW,
               int64_t DH, int64_t DW, int64_t extraH, int64_t extraW,
               bool accumulate) {
  int64_t H = (OH - 1) * SH + (KH - 1) * DH + 1 + extraH;
  int64_t W = (OW - 1) * SW + (KW - 1) * DW + 1 + extraW;
  int64_t Cg = C / groups, Fg = F / groups;
  std::vector<float> X = randomFloats(N * C * H * W),
                     Wt = randomFloats(F * Cg * KH * KW),
                     Y = randomFloats(N * F * OH * OW);
  std::vector<double> want(Y.size()), bound(Y.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t f = 0; f < F; ++f)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          size_t o = ((n * F + f) * OH + oh) * OW + ow;
          double sum = accumulate ? Y[o] : 0.0;
          double b = std::fabs(sum);
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                double x =
                    X[((n * C + f / Fg * Cg + c) * H + oh * SH + kh * DH) * W +
                      ow * SW + kw * DW];
                double w = Wt[((f * Cg + c) * KH + kh) * KW + kw];
                sum += x * w;
                b += std::fabs(x * w);
              }
          want[o] = sum;
          bound[o] = b;
        }
  qrt_uk_conv2d_f32(N, C, H, W, F, KH, KW, OH, OW, SH, SW, DH, DW, groups,
                    X.data(), Wt.data(), Y.data(),
                    accumulate ? QRT_UK_ACCUMULATE : 0);
  char shape[200];
  std::snprintf(shape, sizeof(shape),
                "N%lld C%lld F%lld g%lld out %lldx%lld k %lldx%lld s %lldx%lld "
                "d %lldx%lld acc %d",
                (long long)N, (long long)C, (long long)F, (long long)groups,
                (long long)OH, (long long)OW, (long long)KH, (long long)KW,
                (long long)SH, (long long)SW, (long long)DH, (long long)DW,
                int(accumulate));
  compare("conv2d", shape, Y.data(), want.data(), bound.data(), Y.size());
}

/// The activation of qrt_uk_conv2d_f32_fused in double precision.
double referenceActivation(int act, double v, double alpha, double beta) {
  switch (act) {
  case QRT_UK_ACT_RELU:
    return std::max(v, 0.0);
  case QRT_UK_ACT_HARDSIGMOID:
    return std::min(std::max(v * alpha + beta, 0.0), 1.0);
  case QRT_UK_ACT_HARDSWISH:
    return v * std::min(std::max(v * alpha + beta, 0.0), 1.0);
  case QRT_UK_ACT_CLIP:
    return std::min(std::max(v, alpha), beta);
  default:
    return v;
  }
}

/// qrt_uk_conv2d_f32_fused against a direct double-precision loop that
/// reads zero outside the input: padding PT/PL above and left, PB/PR below
/// and right (the output size follows from them), optional bias,
/// activation `act`. The bound of an element is that of its sum (the
/// activations do not increase errors).
void checkConvFused(int64_t N, int64_t C, int64_t F, int64_t groups, int64_t H,
                    int64_t W, int64_t KH, int64_t KW, int64_t SH, int64_t SW,
                    int64_t DH, int64_t DW, int64_t PT, int64_t PL, int64_t PB,
                    int64_t PR, bool withBias, int act, bool accumulate) {
  int64_t OH = (H + PT + PB - (KH - 1) * DH - 1) / SH + 1;
  int64_t OW = (W + PL + PR - (KW - 1) * DW - 1) / SW + 1;
  if (H + PT + PB < (KH - 1) * DH + 1 || W + PL + PR < (KW - 1) * DW + 1)
    return; // No window fits.
  int64_t Cg = C / groups, Fg = F / groups;
  std::vector<float> X = randomFloats(N * C * H * W),
                     Wt = randomFloats(F * Cg * KH * KW),
                     Y = randomFloats(N * F * OH * OW), bias = randomFloats(F);
  float alpha = act == QRT_UK_ACT_CLIP ? -0.5f : 1.0f / 6.0f;
  float beta = 0.5f;
  std::vector<double> want(Y.size()), bound(Y.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t f = 0; f < F; ++f)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          size_t o = ((n * F + f) * OH + oh) * OW + ow;
          double sum = (accumulate ? Y[o] : 0.0) + (withBias ? bias[f] : 0.0);
          double b = std::fabs(sum);
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t ih = oh * SH + kh * DH - PT,
                        iw = ow * SW + kw * DW - PL;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                  continue;
                double x = X[((n * C + f / Fg * Cg + c) * H + ih) * W + iw];
                double w = Wt[((f * Cg + c) * KH + kh) * KW + kw];
                sum += x * w;
                b += std::fabs(x * w);
              }
          want[o] = referenceActivation(act, sum, alpha, beta);
          bound[o] = b;
        }
  // The filter packed as UKernels.h describes (used by AVX-512).
  int64_t K = Cg * KH * KW;
  int64_t Fgp = (Fg + QRT_UK_CONV_PACK_MR - 1) / QRT_UK_CONV_PACK_MR *
                QRT_UK_CONV_PACK_MR;
  std::vector<float> Wp(groups * Fgp * K, 0.0f);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t f = 0; f < Fg; ++f)
      for (int64_t k = 0; k < K; ++k)
        Wp[(g * Fgp + f / QRT_UK_CONV_PACK_MR * QRT_UK_CONV_PACK_MR) * K +
           k * QRT_UK_CONV_PACK_MR + f % QRT_UK_CONV_PACK_MR] =
            Wt[(g * Fg + f) * K + k];
  char shape[240];
  for (bool packed : {false, true}) {
    std::vector<float> Yc = Y;
    qrt_uk_conv2d_f32_fused(N, C, H, W, F, KH, KW, OH, OW, SH, SW, DH, DW, PT,
                            PL, groups, X.data(), Wt.data(),
                            packed ? Wp.data() : nullptr,
                            withBias ? bias.data() : nullptr, act, alpha, beta,
                            Yc.data(), accumulate ? QRT_UK_ACCUMULATE : 0);
    std::snprintf(
        shape, sizeof(shape),
        "N%lld C%lld F%lld g%lld in %lldx%lld k %lldx%lld s %lldx%lld "
        "d %lldx%lld pads %lld %lld %lld %lld bias %d act %d acc %d packed %d",
        (long long)N, (long long)C, (long long)F, (long long)groups,
        (long long)H, (long long)W, (long long)KH, (long long)KW, (long long)SH,
        (long long)SW, (long long)DH, (long long)DW, (long long)PT,
        (long long)PL, (long long)PB, (long long)PR, int(withBias), act,
        int(accumulate), int(packed));
    compare("conv2d_fused", shape, Yc.data(), want.data(), bound.data(),
            Yc.size());
  }
}

/// Padded convolutions of every kind (depthwise at every width class and
/// stride, regular, grouped, pointwise, the squeeze-excite 1x1 on a 1x1
/// image, 1-D) with bias and each activation.
void checkConvsFused() {
  const int acts[] = {QRT_UK_ACT_NONE, QRT_UK_ACT_RELU, QRT_UK_ACT_HARDSIGMOID,
                      QRT_UK_ACT_HARDSWISH, QRT_UK_ACT_CLIP};
  for (int64_t Wd : {1, 2, 5, 7, 14, 15, 16, 17, 28, 33, 56, 70})
    for (int64_t K : {1, 3, 5})
      for (int64_t S : {1, 2}) {
        int64_t P = randomInt(0, K / 2 + 1);
        checkConvFused(randomInt(1, 2), 4, 4, 4, randomInt(1, 9), Wd, K, K, S,
                       S, 1, 1, P, P, randomInt(0, K / 2), randomInt(0, K / 2),
                       randomInt(0, 1), acts[randomInt(0, 4)],
                       randomInt(0, 3) == 0);
      }
  for (int act : acts)
    for (bool bias : {false, true}) {
      // Regular 3x3 with padding, stride 2 (the stem), dilated.
      checkConvFused(1, 3, 16, 1, 17, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, bias,
                     act, false);
      checkConvFused(2, 8, 12, 1, 9, 11, 3, 3, 1, 1, 2, 2, 2, 1, 0, 3, bias,
                     act, act == QRT_UK_ACT_NONE);
      // Grouped, asymmetric padding, non-square kernel.
      checkConvFused(1, 8, 12, 2, 10, 7, 3, 5, 1, 2, 1, 1, 0, 2, 1, 1, bias,
                     act, false);
      // Pointwise (input read in place), squeeze-excite 1x1 planes; a late
      // layer (7x7, hundreds of filters: split into filter blocks).
      checkConvFused(1, 96, 300, 1, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, bias,
                     act, false);
      checkConvFused(1, 12, 90, 3, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, bias,
                     act, act == QRT_UK_ACT_NONE);
      checkConvFused(1, 24, 40, 1, 14, 14, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, bias,
                     act, false);
      checkConvFused(2, 96, 24, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, bias,
                     act, false);
      // Depthwise on the channel-interleaved path (at most 8 output
      // columns, or 16 with a stride): a full and a partial block of
      // channels, dilation, accumulation.
      checkConvFused(2, 20, 20, 20, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, bias,
                     act, act == QRT_UK_ACT_NONE);
      checkConvFused(1, 17, 17, 17, 15, 15, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, bias,
                     act, false);
      checkConvFused(1, 16, 16, 16, 31, 29, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, bias,
                     act, false);
      // Depthwise 5x5 stride 2 with padding 2, 1-D (H = 1).
      checkConvFused(1, 32, 32, 32, 14, 14, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, bias,
                     act, false);
      checkConvFused(2, 6, 4, 1, 1, 33, 1, 3, 1, 2, 1, 1, 0, 1, 0, 0, bias, act,
                     false);
    }
}

/// Depthwise planes of every width class (vector blocks, tails, the narrow
/// unit-stride path), strides 1-3, dilation, unread margins, accumulation;
/// then regular, grouped and pointwise convolutions.
void checkConvs() {
  for (int64_t OW : {1, 3, 4, 7, 14, 15, 16, 17, 28, 33, 56, 63, 64, 70})
    for (int64_t K : {1, 3, 5})
      for (int64_t S : {1, 2, 3}) {
        int64_t OH = randomInt(1, 9), D = randomInt(0, 3) == 0 ? 2 : 1;
        checkConv(randomInt(1, 2), 3, 3, 3, OH, OW, K, K, S, S, D, D,
                  randomInt(0, 2), randomInt(0, 2), randomInt(0, 1));
      }
  // Non-square kernels, strides and dilations.
  checkConv(1, 5, 5, 5, 6, 9, 3, 5, 1, 1, 2, 1, 0, 0, true);
  checkConv(1, 5, 5, 5, 6, 9, 5, 3, 1, 2, 1, 3, 1, 0, false);
  checkConv(2, 4, 4, 4, 5, 11, 1, 3, 2, 1, 1, 2, 0, 1, false);
  for (bool acc : {false, true}) {
    checkConv(2, 8, 16, 1, 15, 17, 3, 3, 1, 1, 1, 1, 0, 0, acc);
    checkConv(1, 8, 16, 1, 8, 9, 3, 3, 2, 2, 1, 1, 1, 0, acc);
    checkConv(1, 8, 12, 2, 11, 13, 3, 3, 1, 1, 2, 2, 0, 0, acc);
    checkConv(2, 16, 24, 1, 14, 14, 1, 1, 1, 1, 1, 1, 0, 0, acc);
    checkConv(1, 16, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, acc);
  }
}

int runChecks() {
  checkThreadPool();
  const int64_t sizes[] = {1, 3, 17, 100};
  for (int threads : {1, 2}) {
    qrt_set_num_threads(threads);
    // Every combination of the small sizes and layouts.
    for (int64_t M : sizes)
      for (int64_t N : sizes)
        for (int64_t K : sizes)
          for (int layout = 0; layout < 4; ++layout)
            for (bool packed : {false, true})
              checkSgemm(M, N, K, layout & 1, layout & 2,
                         randomInt(0, 3) == 0 ? 3 : 1, randomInt(0, 1), packed);
    // Degenerate and large ones.
    for (bool acc : {false, true})
      for (bool packed : {false, true}) {
        checkSgemm(0, 5, 7, false, false, 1, acc, packed);
        checkSgemm(5, 0, 7, false, false, 1, acc, packed);
        checkSgemm(5, 7, 0, false, false, 1, acc, packed);
        checkSgemm(3, 21, 0, true, true, 2, acc, packed);
        checkSgemm(1, 4095, 300, false, false, 1, acc, packed);
        checkSgemm(1, 300, 4095, false, true, 1, acc, packed);
        checkSgemm(4095, 17, 100, false, false, 1, acc, packed);
        checkSgemm(7, 100, 4095, true, false, 1, acc, packed);
        checkSgemm(300, 200, 600, false, false, 1, acc, packed);
        checkSgemm(300, 200, 600, true, true, 2, acc, packed);
        checkSgemm(13, 4096, 520, false, false, 1, acc, packed);
        checkSgemm(200, 4111, 257, false, false, 1, acc, packed);
      }

    for (int bits : {8, 4, 3})
      for (bool isSigned : {false, true})
        for (bool withZp : {false, true})
          for (int64_t M : {1, 2, 3, 4, 5, 8, 9, 17})
            for (int64_t K : {1, 3, 17, 64, 100, 256, 520})
              for (int64_t G :
                   {int64_t(8), int64_t(20), int64_t(32), int64_t(128), K}) {
                if (G > K)
                  continue;
                int64_t N = randomInt(1, 40);
                checkWo(M, N, K, bits, isSigned, G, withZp, randomInt(0, 1));
              }
    for (int bits : {8, 4, 3}) {
      checkWo(1, 4100, 1024, bits, true, 128, false, false);
      checkWo(2, 300, 4095, bits, false, 4095, true, true);
      checkWo(100, 260, 600, bits, true, 32, true, false);
      checkWo(33, 100, 4095, bits, false, 64, false, true);
    }
    for (int64_t rows : {1, 2, 5, 64, 300})
      for (int64_t cols : {1, 3, 8, 15, 16, 17, 100, 512, 1000})
        for (int variant = 0; variant < 3; ++variant)
          checkSoftmax(rows, cols, variant == 1, variant == 2);
    checkSoftmaxSpecialRows();
    checkAttentionAll();
    checkConvs();
    checkConvsFused();
  }
  if (numFailures) {
    std::printf("%d failures\n", numFailures);
    return 1;
  }
  std::printf("all checks passed\n");
  return 0;
}

//===----------------------------------------------------------------------===//
// Benchmarks
//===----------------------------------------------------------------------===//

/// Runs `fn` until `minTime` seconds have passed (at least twice, the first
/// one a warm-up) and returns the best time of one call.
template <typename Fn> double timeIt(Fn fn, double minTime) {
  fn();
  double best = 1e30, start = now();
  int reps = 0;
  do {
    double t0 = now();
    fn();
    best = std::min(best, now() - t0);
    ++reps;
  } while (now() - start < minTime || reps < 2);
  return best;
}

void benchSgemm(double minTime) {
  std::printf("\nsgemm GFLOP/s (row-major A, B, C)\n");
  std::printf("%-18s %10s %10s %10s %10s\n", "MxNxK", "1T", "2T", "packed 1T",
              "packed 2T");
  const int64_t N = 4096, K = 4096;
  std::vector<float> B = randomFloats(K * N);
  std::vector<float> Bp(qrt_uk_packed_b_f32_size(N, K));
  qrt_uk_pack_b_f32(N, K, B.data(), N, 1, Bp.data());
  for (int64_t M : {1, 8, 128, 512}) {
    std::vector<float> A = randomFloats(M * K), C(M * N);
    double flops = 2.0 * M * N * K, r[4];
    for (int packed = 0; packed < 2; ++packed)
      for (int threads = 1; threads <= 2; ++threads) {
        qrt_set_num_threads(threads);
        double t = timeIt(
            [&] {
              if (packed)
                qrt_uk_sgemm_packed(M, N, K, A.data(), K, 1, Bp.data(),
                                    C.data(), N, 1, 0);
              else
                qrt_uk_sgemm(M, N, K, A.data(), K, 1, B.data(), N, 1, C.data(),
                             N, 1, 0);
            },
            minTime);
        r[packed * 2 + threads - 1] = flops / t * 1e-9;
      }
    std::printf("%-18s %10.1f %10.1f %10.1f %10.1f\n",
                (std::to_string(M) + "x4096x4096").c_str(), r[0], r[1], r[2],
                r[3]);
  }
}

/// Decode-shaped GEMV: fp32 packed sgemm against the weight-only kernels,
/// each cycling through enough weight copies to overflow the last-level
/// cache, so every call streams its weights from memory.
void benchWeightOnly(double minTime) {
  const size_t kStreamBytes = size_t(160) << 20;
  struct Shape {
    int64_t N, K;
  } shapes[] = {{8192, 8192}, {4096, 14336}};
  for (Shape s : shapes) {
    std::printf("\ndecode 1x%lldx%lld (N=%lld, K=%lld): time per call, GB/s "
                "of weights, speed-up over fp32\n",
                (long long)s.N, (long long)s.K, (long long)s.N, (long long)s.K);
    std::vector<float> X = randomFloats(s.K), Y(s.N);
    double fp32Time[2] = {0, 0};
    // fp32 first: it is the baseline of the speed-ups.
    for (int bits : {32, 8, 4, 3}) {
      size_t bytes = bits == 32 ? size_t(qrt_uk_packed_b_f32_size(s.N, s.K)) * 4
                                : size_t(s.N) * ((s.K * bits + 7) / 8);
      int copies = int(std::max<size_t>(1, (kStreamBytes + bytes - 1) / bytes));
      std::vector<std::vector<float>> fp32;
      std::vector<QuantWeights> quant;
      if (bits == 32) {
        std::vector<float> B = randomFloats(s.K * s.N);
        for (int c = 0; c < copies; ++c) {
          fp32.emplace_back(qrt_uk_packed_b_f32_size(s.N, s.K));
          qrt_uk_pack_b_f32(s.N, s.K, B.data(), s.N, 1, fp32.back().data());
        }
      } else {
        QuantWeights w = makeQuantWeights(s.N, s.K, bits, true, 128, false);
        w.values.clear();
        for (int c = 0; c < copies; ++c)
          quant.push_back(w);
      }
      std::printf("  %-6s",
                  bits == 32 ? "fp32" : ("int" + std::to_string(bits)).c_str());
      for (int threads = 1; threads <= 2; ++threads) {
        qrt_set_num_threads(threads);
        int next = 0;
        double t = timeIt(
            [&] {
              int c = next++ % copies;
              if (bits == 32)
                qrt_uk_sgemm_packed(1, s.N, s.K, X.data(), s.K, 1,
                                    fp32[c].data(), Y.data(), s.N, 1, 0);
              else
                qrt_uk_wo_gemm(1, s.N, s.K, X.data(), s.K, quant[c].q.data(),
                               bits, 1, quant[c].scale.data(), nullptr, 128,
                               Y.data(), s.N, 0);
            },
            minTime);
        if (bits == 32)
          fp32Time[threads - 1] = t;
        std::printf("   %dT: %7.3f ms %6.1f GB/s %5.2fx", threads, t * 1e3,
                    double(bytes) / t * 1e-9, fp32Time[threads - 1] / t);
      }
      std::printf("\n");
    }
  }
}

void benchWeightOnlyPrefill(double minTime) {
  std::printf("\nweight-only GFLOP/s for larger M (N=K=4096, G=128)\n");
  const int64_t N = 4096, K = 4096;
  for (int64_t M : {8, 16, 128}) {
    std::vector<float> X = randomFloats(M * K), Y(M * N);
    std::printf("  M=%-4lld", (long long)M);
    for (int bits : {8, 4}) {
      QuantWeights w = makeQuantWeights(N, K, bits, true, 128, true);
      for (int threads = 1; threads <= 2; ++threads) {
        qrt_set_num_threads(threads);
        double t = timeIt(
            [&] {
              qrt_uk_wo_gemm(M, N, K, X.data(), K, w.q.data(), bits, 1,
                             w.scale.data(), w.zp.data(), 128, Y.data(), N, 0);
            },
            minTime);
        std::printf("  int%d %dT: %6.1f", bits, threads,
                    2.0 * M * N * K / t * 1e-9);
      }
    }
    std::printf("\n");
  }
}

} // namespace

/// bytellama2's attention (8 query heads of 32, 4 key/value heads, causal
/// finfo.min mask as its graph builds it): the fused kernel against the
/// unfused kernels (sgemm Q K^T per head, scale + mask, softmax rows, sgemm
/// P V), one batch row, 1 thread.
void benchAttention(double minTime) {
  std::printf("\nattention, 8 heads x 32, GQA 2, causal mask, 1 thread: ms\n");
  std::printf("%-8s %10s %10s %8s\n", "S", "unfused", "fused", "speedup");
  qrt_set_num_threads(1);
  const int64_t H = 8, G = 2, D = 32;
  for (int64_t S : {128, 512, 2048}) {
    std::vector<float> Q = randomFloats(H * S * D),
                       K = randomFloats(H / G * S * D),
                       V = randomFloats(H / G * S * D), O(H * S * D), M(S * S),
                       P(H * S * S);
    for (int64_t i = 0; i < S; ++i)
      for (int64_t j = 0; j < S; ++j)
        M[i * S + j] = j > i ? -3.4028235e38f : 0.0f;
    float scale = 1.0f / std::sqrt(float(D));
    double unfused = timeIt(
        [&] {
          for (int64_t h = 0; h < H; ++h) {
            float *p = P.data() + h * S * S;
            qrt_uk_sgemm(S, S, D, Q.data() + h * S * D, D, 1,
                         K.data() + (h / G) * S * D, 1, D, p, S, 1, 0);
            for (int64_t i = 0; i < S * S; ++i)
              p[i] = p[i] * scale + M[i];
          }
          qrt_uk_softmax(H * S, S, P.data(), S, 1, P.data(), S, 1);
          for (int64_t h = 0; h < H; ++h)
            qrt_uk_sgemm(S, D, S, P.data() + h * S * S, S, 1,
                         V.data() + (h / G) * S * D, D, 1, O.data() + h * S * D,
                         D, 1, 0);
        },
        minTime);
    double fused = timeIt(
        [&] {
          qrt_uk_attention_f32(1, H, S, S, D, D, G, Q.data(), 0, S * D, D, 1,
                               K.data(), 0, S * D, D, 1, V.data(), 0, S * D, D,
                               1, M.data(), 0, 0, S, 1, scale, O.data(), 0,
                               S * D, D, 1);
        },
        minTime);
    std::printf("%-8lld %10.2f %10.2f %7.2fx\n", (long long)S, unfused * 1e3,
                fused * 1e3, unfused / fused);
  }
}

/// The depthwise layers of a MobileNetV3-small (224x224 input): channels,
/// output size, kernel, stride; the input padded as the compiler pads it.
void benchDepthwise(double minTime) {
  std::printf("\ndepthwise conv2d GMAC/s (1 thread)\n");
  struct Layer {
    int64_t C, O, K, S;
  } layers[] = {{16, 56, 3, 2}, {72, 28, 3, 2},  {88, 28, 3, 1},
                {96, 14, 5, 2}, {240, 14, 5, 1}, {144, 14, 5, 1},
                {288, 7, 5, 2}, {576, 7, 5, 1}};
  qrt_set_num_threads(1);
  for (const Layer &l : layers) {
    int64_t H = (l.O - 1) * l.S + l.K;
    std::vector<float> X = randomFloats(l.C * H * H),
                       Wt = randomFloats(l.C * l.K * l.K), Y(l.C * l.O * l.O);
    double t = timeIt(
        [&] {
          qrt_uk_conv2d_f32(1, l.C, H, H, l.C, l.K, l.K, l.O, l.O, l.S, l.S, 1,
                            1, l.C, X.data(), Wt.data(), Y.data(), 0);
        },
        minTime);
    std::printf("C%-4lld %3lldx%-3lld k%lld s%lld %8.2f GMAC/s %8.1f us\n",
                (long long)l.C, (long long)l.O, (long long)l.O, (long long)l.K,
                (long long)l.S, double(l.C * l.O * l.O * l.K * l.K) / t * 1e-9,
                t * 1e6);
  }
}

/// The pointwise (1x1) layers of the same network: input and output
/// channels, plane size.
void benchPointwise(double minTime) {
  std::printf("\npointwise conv2d GMAC/s (1 thread)\n");
  struct Layer {
    int64_t C, F, O;
  } layers[] = {{16, 16, 56},  {16, 72, 56},  {72, 24, 28},  {24, 88, 28},
                {88, 24, 28},  {24, 96, 28},  {96, 40, 14},  {40, 240, 14},
                {240, 40, 14}, {48, 144, 14}, {144, 48, 14}, {96, 576, 7},
                {576, 96, 7}};
  qrt_set_num_threads(1);
  for (const Layer &l : layers) {
    std::vector<float> X = randomFloats(l.C * l.O * l.O),
                       Wt = randomFloats(l.C * l.F), Y(l.F * l.O * l.O);
    double t = timeIt(
        [&] {
          qrt_uk_conv2d_f32(1, l.C, l.O, l.O, l.F, 1, 1, l.O, l.O, 1, 1, 1, 1,
                            1, X.data(), Wt.data(), Y.data(), 0);
        },
        minTime);
    std::printf("C%-4lld F%-4lld %3lldx%-3lld %8.2f GMAC/s %8.1f us\n",
                (long long)l.C, (long long)l.F, (long long)l.O, (long long)l.O,
                double(l.C * l.F * l.O * l.O) / t * 1e-9, t * 1e6);
  }
}

int main(int argc, char **argv) {
  bool check = false, quick = false;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--check"))
      check = true;
    else if (!std::strcmp(argv[i], "--quick"))
      quick = true;
    else if (!std::strncmp(argv[i], "--only=", 7))
      only = argv[i] + 7;
    else {
      std::fprintf(
          stderr,
          "usage: %s [--check | [--quick] "
          "[--only=sgemm|decode|prefill|attention|depthwise|pointwise]]\n",
          argv[0]);
      return 2;
    }
  }
  if (check)
    return runChecks();
  double minTime = quick ? 0.2 : 1.0;
  if (only.empty() || only == "sgemm")
    benchSgemm(minTime);
  if (only.empty() || only == "decode")
    benchWeightOnly(minTime);
  if (only.empty() || only == "prefill")
    benchWeightOnlyPrefill(minTime);
  if (only.empty() || only == "attention")
    benchAttention(minTime);
  if (only.empty() || only == "depthwise")
    benchDepthwise(minTime);
  if (only.empty() || only == "pointwise")
    benchPointwise(minTime);
  return 0;
}
