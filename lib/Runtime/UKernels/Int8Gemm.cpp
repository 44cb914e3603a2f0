//===- Int8Gemm.cpp - W8A8 int8 GEMM driver -------------------------------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// The ISA-independent part of the int8 kernels (qrt_uk_s8_*, UKernels.h):
// CPU detection and dispatch, B and A packing, row quantization, threading,
// and the portable implementation. Per call:
//
//   pack A into micro-panels of the implementation's MR rows (in parallel)
//   split the micro-panels and the 32-column pairs of B panels over the
//   threads (a tm x tn grid); per thread:
//     for each L2-sized block of its micro-panels:
//       for each pair of B panels (full K, stays in L2 across the block):
//         for each micro-panel: micro-kernel -> exact int32 tile -> epilogue
//
// Every micro-kernel accumulates the whole K in registers (or AMX tiles), so
// the int32 sums never leave the core before the epilogue. The micro-kernels,
// epilogues and row quantizers come from the ISA's table (UKernelsImpl.h).
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include "../ThreadPool.h"
#include "qopt/Runtime/UKernels.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

// The epilogue is specified operation by operation: never fuse a multiply
// and an add, so that every ISA rounds the same way.
#pragma STDC FP_CONTRACT OFF

using namespace qrt;
using namespace qrt::uk;

//===----------------------------------------------------------------------===//
// CPU features and dispatch
//===----------------------------------------------------------------------===//

namespace {

#if defined(__x86_64__) || defined(__i386__)
uint64_t readXcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}
#endif

/// Asks Linux for the AMX tile data state (off by default for every
/// process: the kernel enables it, per process, on request, since it grows
/// the signal frame by 8 KiB).
bool requestAmxPermission() {
#if defined(__linux__) && defined(__x86_64__)
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

S8CpuFeatures detectCpuFeatures() {
  S8CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return f;
  bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!osxsave || !avx || __get_cpuid_max(0, nullptr) < 7)
    return f;
  // The OS must save the registers: XCR0 bits 1-2 (SSE, AVX), 5-7 (opmask
  // and the upper zmm state), 17-18 (AMX tile config and data).
  uint64_t xcr0 = readXcr0();
  bool osAvx = (xcr0 & 0x6) == 0x6;
  bool osAvx512 = (xcr0 & 0xe6) == 0xe6;
  bool osAmx = (xcr0 & 0x60000) == 0x60000;
  __cpuid_count(7, 0, a, b, c, d);
  unsigned maxSubleaf = a;
  bool avx2 = (b >> 5) & 1;
  bool avx512 = ((b >> 16) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1);
  bool avx512vnni = (c >> 11) & 1;
  bool amx = ((d >> 24) & 1) && ((d >> 25) & 1); // AMX-TILE, AMX-INT8
  bool avxvnni = false;
  if (maxSubleaf >= 1) {
    __cpuid_count(7, 1, a, b, c, d);
    avxvnni = (a >> 4) & 1;
  }
  f.avx2 = osAvx && avx2;
  f.avxvnni = f.avx2 && avxvnni;
  f.avx512vnni = f.avx2 && osAvx512 && avx512 && avx512vnni;
  // The AMX path uses the AVX-512 epilogue and VNNI for small M.
  if (f.avx512vnni && amx) {
    if (!osAmx)
      f.amxNote = " (the OS does not enable the AMX state in XCR0)";
    else if (!requestAmxPermission())
      f.amxNote = " (Linux refused arch_prctl(ARCH_REQ_XCOMP_PERM, "
                  "XTILEDATA))";
    else
      f.amx = true;
  }
#endif
  return f;
}

const char *const kIsaNames[kNumS8Isas] = {"portable", "avx2", "avxvnni",
                                           "avx512vnni", "amx"};

S8Arch archFor(S8Isa isa) {
  switch (isa) {
  case S8Isa::AMX:
    return getS8ArchAMX();
  case S8Isa::AVX512VNNI:
    return getS8ArchAVX512VNNI();
  case S8Isa::AVXVNNI:
    return getS8ArchAVXVNNI();
  case S8Isa::AVX2:
    return getS8ArchAVX2();
  case S8Isa::Portable:
    break;
  }
  return getS8ArchPortable();
}

/// The tables of the ISAs this machine has (the others hold the portable
/// one and are never used) and their small-M companions, indexed by S8Isa.
struct S8Tables {
  S8Arch arch[kNumS8Isas];
  S8Arch small[kNumS8Isas];
  S8Tables() {
    S8CpuFeatures f = getS8CpuFeatures();
    for (int i = 0; i < kNumS8Isas; ++i) {
      arch[i] =
          s8IsaAvailable(S8Isa(i), f) ? archFor(S8Isa(i)) : getS8ArchPortable();
      small[i] = arch[i].small ? arch[i].small() : arch[i];
    }
  }
};

const S8Tables &getTables() {
  static const S8Tables tables;
  return tables;
}

std::atomic<int> forcedIsa{-1};

S8Isa defaultIsa() {
  static const S8Isa isa = [] {
    S8Isa chosen;
    char error[512];
    if (!s8ChooseIsa(getS8CpuFeatures(), std::getenv("QRT_UK_S8_ISA"), chosen,
                     error, sizeof(error))) {
      // A configuration error, not a crash: end the process with the
      // message (_Exit: this may run on a pool worker, where exit()'s
      // destructors would wait for the pool).
      std::fflush(stdout);
      std::fprintf(stderr, "qrt: %s\n", error);
      std::_Exit(1);
    }
    return chosen;
  }();
  return isa;
}

S8Isa currentIsa() {
  int forced = forcedIsa.load(std::memory_order_acquire);
  return forced >= 0 ? S8Isa(forced) : defaultIsa();
}

/// The table for a call with M rows.
const S8Arch &archForRows(int64_t M) {
  const S8Tables &t = getTables();
  int i = int(currentIsa());
  return M < t.arch[i].minM ? t.small[i] : t.arch[i];
}

} // namespace

S8CpuFeatures qrt::uk::getS8CpuFeatures() {
  static const S8CpuFeatures features = detectCpuFeatures();
  return features;
}

const char *qrt::uk::s8IsaName(S8Isa isa) { return kIsaNames[int(isa)]; }

bool qrt::uk::s8IsaAvailable(S8Isa isa, const S8CpuFeatures &f) {
  switch (isa) {
  case S8Isa::Portable:
    return true;
  case S8Isa::AVX2:
    return f.avx2;
  case S8Isa::AVXVNNI:
    return f.avxvnni;
  case S8Isa::AVX512VNNI:
    return f.avx512vnni;
  case S8Isa::AMX:
    return f.amx;
  }
  return false;
}

bool qrt::uk::s8ChooseIsa(const S8CpuFeatures &f, const char *env, S8Isa &isa,
                          char *error, int errorSize) {
  if (!env || !*env) {
    isa = S8Isa::Portable;
    for (int i = kNumS8Isas - 1; i > 0; --i)
      if (s8IsaAvailable(S8Isa(i), f)) {
        isa = S8Isa(i);
        break;
      }
    return true;
  }
  std::string available;
  for (int i = 0; i < kNumS8Isas; ++i)
    if (s8IsaAvailable(S8Isa(i), f))
      available += std::string(available.empty() ? "" : " ") + kIsaNames[i];
  for (int i = 0; i < kNumS8Isas; ++i) {
    if (std::strcmp(env, kIsaNames[i]))
      continue;
    if (s8IsaAvailable(S8Isa(i), f)) {
      isa = S8Isa(i);
      return true;
    }
    std::snprintf(error, size_t(errorSize),
                  "QRT_UK_S8_ISA=%s: this machine cannot run the %s int8 "
                  "kernels%s; it can run: %s",
                  env, env, i == int(S8Isa::AMX) ? f.amxNote : "",
                  available.c_str());
    return false;
  }
  std::snprintf(error, size_t(errorSize),
                "QRT_UK_S8_ISA=%s: unknown implementation; expected one of "
                "portable, avx2, avxvnni, avx512vnni, amx (this machine can "
                "run: %s)",
                env, available.c_str());
  return false;
}

const S8Arch &qrt::uk::getS8Arch() {
  return getTables().arch[int(currentIsa())];
}

bool qrt::uk::setS8IsaForTesting(S8Isa isa) {
  if (!s8IsaAvailable(isa, getS8CpuFeatures()))
    return false;
  forcedIsa.store(int(isa), std::memory_order_release);
  return true;
}

//===----------------------------------------------------------------------===//
// A packing
//===----------------------------------------------------------------------===//

int64_t qrt::uk::s8PackedAPanelBytes(S8ALayout layout, int mr, int64_t Kp) {
  return int64_t(mr) * Kp * (layout == S8ALayout::Groups4I16 ? 2 : 1);
}

void qrt::uk::s8PackA(S8ALayout layout, bool xor128, int mr, const int8_t *A,
                      int64_t ldaM, int64_t K, int64_t Kp, int rows,
                      void *dst) {
  const uint8_t pad = xor128 ? 0x80 : 0;
  if (layout == S8ALayout::AmxTiles) {
    // Row i of the panel, bytes [b*64, b*64 + 64) go to tile (i/16, b).
    uint8_t *d = static_cast<uint8_t *>(dst);
    const int64_t blocks = Kp / kS8KAlign;
    for (int i = 0; i < mr; ++i) {
      const int8_t *a = i < rows ? A + i * ldaM : nullptr;
      for (int64_t b = 0; b < blocks; ++b) {
        uint8_t *t = d + ((i / 16) * blocks + b) * 1024 + (i % 16) * 64;
        int64_t k0 = b * kS8KAlign;
        int64_t n = a ? std::min<int64_t>(kS8KAlign, K - k0) : 0;
        n = std::max<int64_t>(n, 0);
        for (int64_t k = 0; k < n; ++k)
          t[k] = uint8_t(a[k0 + k]) ^ pad;
        std::memset(t + n, pad, size_t(kS8KAlign - n));
      }
    }
    return;
  }
  const int64_t groups = Kp / kS8KR, fullGroups = K / kS8KR;
  if (layout == S8ALayout::Groups4I16) {
    int16_t *d = static_cast<int16_t *>(dst);
    for (int i = 0; i < mr; ++i) {
      const int8_t *a = i < rows ? A + i * ldaM : nullptr;
      for (int64_t g = 0; g < groups; ++g)
        for (int t = 0; t < kS8KR; ++t) {
          int64_t k = g * kS8KR + t;
          d[(g * mr + i) * kS8KR + t] = a && k < K ? a[k] : 0;
        }
    }
    return;
  }
  uint8_t *d = static_cast<uint8_t *>(dst);
  const uint32_t flip = xor128 ? 0x80808080u : 0u;
  for (int i = 0; i < rows; ++i) {
    const int8_t *a = A + i * ldaM;
    int64_t g = 0;
    for (; g < fullGroups; ++g) {
      uint32_t w;
      std::memcpy(&w, a + g * kS8KR, 4);
      w ^= flip;
      std::memcpy(d + (g * mr + i) * kS8KR, &w, 4);
    }
    for (; g < groups; ++g)
      for (int t = 0; t < kS8KR; ++t) {
        int64_t k = g * kS8KR + t;
        d[(g * mr + i) * kS8KR + t] = k < K ? uint8_t(a[k]) ^ pad : pad;
      }
  }
  for (int i = rows; i < mr; ++i)
    for (int64_t g = 0; g < groups; ++g)
      std::memset(d + (g * mr + i) * kS8KR, pad, kS8KR);
}

//===----------------------------------------------------------------------===//
// Portable implementation
//===----------------------------------------------------------------------===//

namespace {

constexpr int kPortableMR = kS8MRPortable;

/// Plain loops over the packed layouts; sums modulo 2^32 (unsigned, so that
/// wrapping is defined).
void kernelPortable(const S8Params &p, const void *ap, int rows, int64_t n0,
                    int np, int32_t *tile, const int8_t *, int64_t) {
  const int8_t *a = static_cast<const int8_t *>(ap);
  const int64_t groups = p.Kp / kS8KR;
  for (int q = 0; q < np; ++q) {
    const int8_t *b = p.Bp + (n0 / kS8NR + q) * p.Kp * kS8NR;
    for (int i = 0; i < rows; ++i) {
      uint32_t acc[kS8NR] = {};
      for (int64_t g = 0; g < groups; ++g) {
        const int8_t *ag = a + (g * kPortableMR + i) * kS8KR;
        const int8_t *bg = b + g * kS8KR * kS8NR;
        for (int j = 0; j < kS8NR; ++j) {
          int32_t s = 0;
          for (int t = 0; t < kS8KR; ++t)
            s += int32_t(ag[t]) * int32_t(bg[j * kS8KR + t]);
          acc[j] += uint32_t(s);
        }
      }
      for (int j = 0; j < kS8NR; ++j)
        tile[i * kS8TileN + q * kS8NR + j] = int32_t(acc[j]);
    }
  }
}

void epiloguePortable(const S8Params &p, const int32_t *tile, int64_t m0,
                      int rows, int64_t n0, int cols) {
  for (int i = 0; i < rows; ++i) {
    int64_t m = m0 + i;
    const int32_t *t = tile + i * kS8TileN;
    if (!p.f32) {
      int32_t *c = p.Ci + m * p.ldcM + n0;
      for (int j = 0; j < cols; ++j)
        c[j] = p.accumulate ? int32_t(uint32_t(c[j]) + uint32_t(t[j])) : t[j];
      continue;
    }
    float sa = p.aScale[m * p.aScaleStride];
    float *c = p.Cf + m * p.ldcM + n0;
    for (int j = 0; j < cols; ++j) {
      float y = float(t[j]);
      y = y * sa;
      y = y * p.bScale[n0 + j];
      if (p.bias)
        y = y + p.bias[n0 + j];
      if (p.accumulate)
        y = c[j] + y;
      c[j] = y;
    }
  }
}

void quantizeRowPortable(const float *x, int64_t K, int8_t *q, float *scale) {
  uint32_t amax = 0;
  for (int64_t k = 0; k < K; ++k) {
    uint32_t bits;
    std::memcpy(&bits, &x[k], 4);
    amax = std::max(amax, bits & 0x7fffffffu);
  }
  float inv;
  if (!s8RowScale(amax, *scale, inv)) {
    std::memset(q, 0, size_t(K));
    return;
  }
  for (int64_t k = 0; k < K; ++k)
    q[k] = s8QuantizeValue(x[k], inv);
}

} // namespace

S8Arch qrt::uk::getS8ArchPortable() {
  return {S8Isa::Portable,
          "portable",
          S8ALayout::Groups4,
          false,
          kPortableMR,
          kernelPortable,
          epiloguePortable,
          quantizeRowPortable,
          nullptr,
          nullptr,
          0,
          nullptr};
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

namespace {

/// Below this many multiply-adds a call runs on the calling thread.
constexpr int64_t kMinParallelMacs = int64_t(1) << 20;
/// Below this many bytes (or floats) of A, packing (quantizing) runs on the
/// calling thread.
constexpr int64_t kMinParallelPack = int64_t(1) << 18;
/// Bytes of packed A a thread keeps in L2 while it sweeps the B panels.
constexpr int64_t kL2BlockBytes = int64_t(768) << 10;

thread_local ScratchBuffer tlPackA;
thread_local ScratchBuffer tlQuantA;
thread_local ScratchBuffer tlQuantScale;

struct S8Job {
  S8Params p;
  const S8Arch *arch;
  const int8_t *A;
  int64_t ldaM;
  uint8_t *packedA;
  int64_t panelBytes, numPanels;
  int64_t pairs; ///< 32-column units of N.
  int tm, tn;
};

void packTask(void *ctx, int64_t begin, int64_t end) {
  const S8Job &job = *static_cast<const S8Job *>(ctx);
  const S8Arch &arch = *job.arch;
  for (int64_t i = begin; i < end; ++i) {
    int64_t m0 = i * arch.mr;
    int rows = int(std::min<int64_t>(arch.mr, job.p.M - m0));
    s8PackA(arch.aLayout, arch.xor128, arch.mr, job.A + m0 * job.ldaM, job.ldaM,
            job.p.K, job.p.Kp, rows, job.packedA + i * job.panelBytes);
  }
}

void gemmTask(void *ctx, int64_t begin, int64_t end) {
  const S8Job &job = *static_cast<const S8Job *>(ctx);
  const S8Arch &arch = *job.arch;
  const S8Params &p = job.p;
  const int64_t blockPanels = std::max<int64_t>(
      1, kL2BlockBytes / std::max<int64_t>(1, job.panelBytes));
  alignas(64) int32_t tile[kS8TileM * kS8TileN];
  if (arch.taskBegin)
    arch.taskBegin();
  for (int64_t t = begin; t < end; ++t) {
    int64_t ti = t / job.tn, tj = t % job.tn;
    int64_t r0 = job.numPanels * ti / job.tm,
            r1 = job.numPanels * (ti + 1) / job.tm;
    int64_t q0 = job.pairs * tj / job.tn, q1 = job.pairs * (tj + 1) / job.tn;
    for (int64_t rb = r0; rb < r1; rb += blockPanels) {
      int64_t re = std::min(r1, rb + blockPanels);
      for (int64_t q = q0; q < q1; ++q) {
        int64_t n0 = q * kS8TileN;
        int cols = int(std::min<int64_t>(kS8TileN, p.N - n0));
        int np = cols > kS8NR ? 2 : 1;
        // The micro-tiles of this pair share the prefetching of the next
        // pair's panels into L2 (this thread's next pair, or its first for
        // the next block), so that the first micro-tile of a pair does not
        // wait for L3. With one or two micro-tiles per pair the product
        // streams B, which the hardware prefetchers do better alone.
        int64_t next = q + 1 < q1 ? q + 1 : q0;
        bool prefetch = re - rb >= 3 && (next != q || re < r1);
        const int8_t *nextB = p.Bp + next * 2 * p.Kp * kS8NR;
        int64_t nextBytes =
            std::min<int64_t>(2, (p.N - next * kS8TileN + kS8NR - 1) / kS8NR) *
            p.Kp * kS8NR;
        for (int64_t r = rb; r < re; ++r) {
          int64_t m0 = r * arch.mr;
          int rows = int(std::min<int64_t>(arch.mr, p.M - m0));
          int64_t share0 = nextBytes * (r - rb) / (re - rb);
          int64_t share1 = nextBytes * (r + 1 - rb) / (re - rb);
          arch.kernel(p, job.packedA + r * job.panelBytes, rows, n0, np, tile,
                      prefetch ? nextB + share0 : nullptr,
                      prefetch ? share1 - share0 : 0);
          arch.epilogue(p, tile, m0, rows, n0, cols);
        }
      }
    }
  }
  if (arch.taskEnd)
    arch.taskEnd();
}

/// The split of C into tm x tn rectangles, one per thread, with the least
/// per-thread cost (multiply-adds including padding to whole micro-panels
/// and pairs, plus the A and B bytes each thread streams).
void chooseGrid(S8Job &job, int threads) {
  job.tm = job.tn = 1;
  const S8Params &p = job.p;
  if (threads <= 1 || p.M * p.N * p.K < kMinParallelMacs)
    return;
  const int mr = job.arch->mr;
  double best = 0;
  for (int tn = 1; tn <= threads; ++tn) {
    if (threads % tn)
      continue;
    int tm = threads / tn;
    if (tn > job.pairs || tm > job.numPanels)
      continue;
    double cols = double((job.pairs + tn - 1) / tn * kS8TileN);
    double rows = double((job.numPanels + tm - 1) / tm * mr);
    double cost =
        rows * cols * double(p.Kp) + 8.0 * double(p.Kp) * (rows + cols);
    if (job.tm * job.tn == 1 || cost <= best) {
      best = cost;
      job.tm = tm;
      job.tn = tn;
    }
  }
}

void runS8Gemm(S8Params &p, const int8_t *A, int64_t ldaM) {
  if (p.M <= 0 || p.N <= 0)
    return;
  const S8Arch &arch = archForRows(p.M);
  S8Job job;
  job.p = p;
  job.arch = &arch;
  job.A = A;
  job.ldaM = ldaM;
  job.panelBytes = s8PackedAPanelBytes(arch.aLayout, arch.mr, p.Kp);
  job.numPanels = (p.M + arch.mr - 1) / arch.mr;
  job.pairs = (p.N + kS8TileN - 1) / kS8TileN;
  int64_t packedBytes = job.numPanels * job.panelBytes;
  job.packedA = reinterpret_cast<uint8_t *>(
      tlPackA.get(std::max<int64_t>(1, (packedBytes + 3) / 4)));

  ThreadPool &pool = getGlobalThreadPool();
  int threads = ThreadPool::isInParallelRegion() ? 1 : pool.getNumThreads();
  if (threads > 1 && packedBytes >= kMinParallelPack && job.numPanels > 1)
    pool.parallelFor(job.numPanels, packTask, &job);
  else
    packTask(&job, 0, job.numPanels);

  chooseGrid(job, threads);
  int64_t tasks = int64_t(job.tm) * job.tn;
  if (tasks == 1)
    gemmTask(&job, 0, 1);
  else
    pool.parallelFor(tasks, gemmTask, &job);
}

S8Params makeParams(int64_t M, int64_t N, int64_t K, const void *Bp,
                    int32_t flags) {
  S8Params p{};
  p.M = M;
  p.N = N;
  p.K = K;
  p.Kp = s8PaddedK(std::max<int64_t>(K, 0));
  p.Bp = static_cast<const int8_t *>(Bp);
  int64_t panels = (N + kS8NR - 1) / kS8NR;
  p.colSum = reinterpret_cast<const int32_t *>(p.Bp + panels * kS8NR * p.Kp);
  p.accumulate = (flags & QRT_UK_ACCUMULATE) != 0;
  return p;
}

struct QuantJob {
  const S8Arch *arch;
  int64_t K;
  const float *X;
  int64_t ldxM;
  int8_t *Q;
  int64_t ldqM;
  float *scale;
};

void quantTask(void *ctx, int64_t begin, int64_t end) {
  const QuantJob &j = *static_cast<const QuantJob *>(ctx);
  for (int64_t m = begin; m < end; ++m)
    j.arch->quantizeRow(j.X + m * j.ldxM, j.K, j.Q + m * j.ldqM, j.scale + m);
}

/// One long row (a per-tensor quantization flattened to one row: the input
/// of a W8A8 convolution) split over the pool in chunks: max |x| per chunk,
/// then the values with the row's 127 / amax. The same bits as the row
/// quantizers: the same max over |x| as integers (NaN above everything),
/// the same s8RowScale, and round half to even by adding and subtracting
/// 1.5 * 2^23 (exact for |x * inv| <= 127 + 1, where the sum's unit in the
/// last place is 1), then the same clamp.
constexpr int64_t kMinParallelRow = int64_t(1) << 16;

struct LongRowJob {
  const float *x;
  int8_t *q;
  int64_t K, chunk;
  uint32_t *amax; ///< One per chunk.
  float inv;
};

void longRowAmaxTask(void *ctx, int64_t begin, int64_t end) {
  const LongRowJob &j = *static_cast<const LongRowJob *>(ctx);
  for (int64_t c = begin; c < end; ++c) {
    int64_t k0 = c * j.chunk, k1 = std::min(j.K, k0 + j.chunk);
    uint32_t m = 0;
    for (int64_t k = k0; k < k1; ++k) {
      uint32_t bits;
      std::memcpy(&bits, &j.x[k], 4);
      m = std::max(m, bits & 0x7fffffffu);
    }
    j.amax[c] = m;
  }
}

void longRowValuesTask(void *ctx, int64_t begin, int64_t end) {
  const LongRowJob &j = *static_cast<const LongRowJob *>(ctx);
  const float magic = 0x1.8p23f;
  for (int64_t c = begin; c < end; ++c) {
    int64_t k0 = c * j.chunk, k1 = std::min(j.K, k0 + j.chunk);
    for (int64_t k = k0; k < k1; ++k) {
      float r = (j.x[k] * j.inv + magic) - magic;
      r = std::min(std::max(r, -127.0f), 127.0f);
      j.q[k] = int8_t(r);
    }
  }
}

void quantizeLongRow(int64_t K, const float *X, int8_t *Q, float *scale,
                     int threads) {
  ThreadPool &pool = getGlobalThreadPool();
  int64_t chunks = std::min<int64_t>(4 * threads, K / 4096);
  LongRowJob job{X, Q, K, (K + chunks - 1) / chunks, nullptr, 0.0f};
  uint32_t amax[64] = {};
  chunks = std::min<int64_t>(chunks, 64);
  job.chunk = (K + chunks - 1) / chunks;
  job.amax = amax;
  pool.parallelFor(chunks, longRowAmaxTask, &job);
  uint32_t m = 0;
  for (int64_t c = 0; c < chunks; ++c)
    m = std::max(m, amax[c]);
  if (!s8RowScale(m, *scale, job.inv)) {
    std::memset(Q, 0, size_t(K));
    return;
  }
  pool.parallelFor(chunks, longRowValuesTask, &job);
}

void quantizeRows(int64_t M, int64_t K, const float *X, int64_t ldxM, int8_t *Q,
                  int64_t ldqM, float *scale) {
  if (M <= 0)
    return;
  QuantJob job{&getS8Arch(), std::max<int64_t>(K, 0), X, ldxM, Q, ldqM, scale};
  ThreadPool &pool = getGlobalThreadPool();
  if (M == 1 && K >= kMinParallelRow && !ThreadPool::isInParallelRegion() &&
      pool.getNumThreads() > 1)
    return quantizeLongRow(K, X, Q, scale, pool.getNumThreads());
  if (M > 1 && M * K >= kMinParallelPack && !ThreadPool::isInParallelRegion() &&
      pool.getNumThreads() > 1)
    pool.parallelFor(M, quantTask, &job);
  else
    quantTask(&job, 0, M);
}

} // namespace

//===----------------------------------------------------------------------===//
// C entry points
//===----------------------------------------------------------------------===//

extern "C" int64_t qrt_uk_packed_b_s8_size(int64_t N, int64_t K) {
  int64_t cols = (N + kS8NR - 1) / kS8NR * kS8NR;
  return cols * s8PaddedK(K) + cols * int64_t(sizeof(int32_t));
}

extern "C" void qrt_uk_pack_b_s8(int64_t N, int64_t K, const int8_t *B,
                                 int64_t ldb_k, int64_t ldb_n, void *Bp) {
  const int64_t Kp = s8PaddedK(K), panels = (N + kS8NR - 1) / kS8NR;
  int8_t *dst = static_cast<int8_t *>(Bp);
  int32_t *colSum = reinterpret_cast<int32_t *>(dst + panels * kS8NR * Kp);
  for (int64_t j = 0; j < panels; ++j) {
    int8_t *panel = dst + j * Kp * kS8NR;
    std::memset(panel, 0, size_t(Kp * kS8NR));
    int64_t cols = std::min<int64_t>(kS8NR, N - j * kS8NR);
    uint32_t sums[kS8NR] = {};
    for (int64_t k = 0; k < K; ++k) {
      const int8_t *src = B + k * ldb_k + j * kS8NR * ldb_n;
      int8_t *d = panel + (k / kS8KR) * kS8KR * kS8NR + k % kS8KR;
      for (int64_t c = 0; c < cols; ++c) {
        int8_t v = src[c * ldb_n];
        d[c * kS8KR] = v;
        sums[c] += uint32_t(int32_t(v));
      }
    }
    for (int c = 0; c < kS8NR; ++c)
      colSum[j * kS8NR + c] = int32_t(sums[c]);
  }
}

extern "C" void qrt_uk_quantize_rows_s8(int64_t M, int64_t K, const float *X,
                                        int64_t ldx_m, int8_t *Q, int64_t ldq_m,
                                        float *scale) {
  quantizeRows(M, K, X, ldx_m, Q, ldq_m, scale);
}

extern "C" void qrt_uk_s8_gemm(int64_t M, int64_t N, int64_t K, const int8_t *A,
                               int64_t lda_m, const float *a_scale,
                               int64_t a_scale_stride, const void *Bp,
                               const float *b_scale, const float *bias,
                               float *C, int64_t ldc_m, int32_t flags) {
  S8Params p = makeParams(M, N, K, Bp, flags);
  p.f32 = true;
  p.Cf = C;
  p.ldcM = ldc_m;
  p.aScale = a_scale;
  p.aScaleStride = a_scale_stride;
  p.bScale = b_scale;
  p.bias = bias;
  runS8Gemm(p, A, lda_m);
}

extern "C" void qrt_uk_s8_gemm_i32(int64_t M, int64_t N, int64_t K,
                                   const int8_t *A, int64_t lda_m,
                                   const void *Bp, int32_t *C, int64_t ldc_m,
                                   int32_t flags) {
  S8Params p = makeParams(M, N, K, Bp, flags);
  p.f32 = false;
  p.Ci = C;
  p.ldcM = ldc_m;
  runS8Gemm(p, A, lda_m);
}

extern "C" void qrt_uk_s8_linear_f32(int64_t M, int64_t N, int64_t K,
                                     const float *X, int64_t ldx_m,
                                     const void *Bp, const float *b_scale,
                                     const float *bias, float *Y, int64_t ldy_m,
                                     int32_t flags) {
  if (M <= 0 || N <= 0)
    return;
  int64_t k = std::max<int64_t>(K, 0);
  int8_t *q = reinterpret_cast<int8_t *>(
      tlQuantA.get(std::max<int64_t>(1, (M * k + 3) / 4)));
  float *scale = tlQuantScale.get(M);
  quantizeRows(M, k, X, ldx_m, q, k, scale);
  qrt_uk_s8_gemm(M, N, K, q, k, scale, 1, Bp, b_scale, bias, Y, ldy_m, flags);
}
