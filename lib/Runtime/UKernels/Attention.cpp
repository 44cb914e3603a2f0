//===- Attention.cpp - Fused scaled dot-product attention -----------------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// qrt_uk_attention_f32 (UKernels.h): softmax(Q K^T * scale + M) V without
// the [Sq, Skv] score tensor. The unfused graph writes and reads that tensor
// four times (matmul, scale, mask, softmax, matmul), 134 MB per layer and
// batch row at 2048 tokens and 8 heads; here each block of 64 x 64 scores
// lives in L1 (AttentionImpl.inc), and blocks of keys a causal mask hides
// are not computed at all. Tasks are (batch, head, block of queries) on the
// thread pool.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include "../ThreadPool.h"
#include "qopt/Runtime/UKernels.h"

using namespace qrt;
using namespace qrt::uk;

namespace {
#include "AttentionImpl.inc"
} // namespace

void qrt::uk::attnExactRow(const AttnParams &p, int64_t b, int64_t h, int64_t i,
                           float *o, AttnScratch &w) {
  const int64_t hk = h / p.kvGroup;
  const float *q = p.Q + b * p.ldq[0] + h * p.ldq[1] + i * p.ldq[2];
  const float *K = p.K + b * p.ldk[0] + hk * p.ldk[1];
  const float *V = p.V + b * p.ldv[0] + hk * p.ldv[1];
  const float *mr =
      p.M ? p.M + b * p.ldm[0] + h * p.ldm[1] + i * p.ldm[2] : nullptr;
  w.row.resize(size_t(p.Skv));
  float *x = w.row.data();
  for (int64_t j = 0; j < p.Skv; ++j) {
    float s = 0.0f;
    for (int64_t d = 0; d < p.D; ++d)
      s += q[d * p.ldq[3]] * K[j * p.ldk[2] + d * p.ldk[3]];
    s *= p.scale;
    if (mr)
      s += mr[j * p.ldm[3]];
    x[j] = s;
  }
  float max = x[0];
  for (int64_t j = 1; j < p.Skv; ++j)
    max = std::max(max, x[j]);
  float sum = 0.0f;
  for (int64_t j = 0; j < p.Skv; ++j) {
    x[j] = softmaxExpScalar(x[j] - max);
    sum += x[j];
  }
  float inv = 1.0f / sum;
  for (int64_t j = 0; j < p.Skv; ++j)
    x[j] *= inv;
  for (int64_t e = 0; e < p.Dv; ++e) {
    float s = 0.0f;
    for (int64_t j = 0; j < p.Skv; ++j)
      s += x[j] * V[j * p.ldv[2] + e * p.ldv[3]];
    o[e * p.ldo[3]] = s;
  }
}

AttentionArch qrt::uk::getAttentionArchScalar() { return {"scalar", attnTask}; }

namespace {

/// Below this many multiply-adds a call runs on the calling thread.
constexpr int64_t kMinParallelWork = int64_t(1) << 18;

struct AttnCall {
  const AttnParams *p;
  int64_t qBlocks;
  AttnTaskFn task;
};

void attnRange(void *ctx, int64_t begin, int64_t end) {
  const auto &c = *static_cast<const AttnCall *>(ctx);
  thread_local AttnScratch scratch;
  for (int64_t t = begin; t < end; ++t) {
    // Heads vary fastest: a thread's consecutive tasks read the same rows
    // of a mask broadcast over heads (64 rows x Skv, in L2) and, with
    // grouped-query attention, the same packed K and V.
    int64_t h = t % c.p->H, bq = t / c.p->H;
    int64_t qb = bq % c.qBlocks, b = bq / c.qBlocks;
    int64_t q0 = qb * kAttnBQ;
    c.task(*c.p, b, h, q0, std::min(kAttnBQ, c.p->Sq - q0), scratch);
  }
}

} // namespace

extern "C" void qrt_uk_attention_f32(
    int64_t B, int64_t H, int64_t Sq, int64_t Skv, int64_t D, int64_t Dv,
    int64_t kv_group, const float *Q, int64_t ldq_b, int64_t ldq_h,
    int64_t ldq_s, int64_t ldq_d, const float *K, int64_t ldk_b, int64_t ldk_h,
    int64_t ldk_s, int64_t ldk_d, const float *V, int64_t ldv_b, int64_t ldv_h,
    int64_t ldv_s, int64_t ldv_d, const float *M, int64_t ldm_b, int64_t ldm_h,
    int64_t ldm_q, int64_t ldm_k, float scale, float *O, int64_t ldo_b,
    int64_t ldo_h, int64_t ldo_s, int64_t ldo_d) {
  if (B <= 0 || H <= 0 || Sq <= 0 || Dv <= 0)
    return;
  if (Skv <= 0) {
    // softmax over no keys: the unfused graph's matmul over an empty K
    // dimension gives 0.
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < Sq; ++i)
          for (int64_t e = 0; e < Dv; ++e)
            O[b * ldo_b + h * ldo_h + i * ldo_s + e * ldo_d] = 0.0f;
    return;
  }
  AttnParams p{B,
               H,
               Sq,
               Skv,
               std::max<int64_t>(D, 0),
               Dv,
               std::max<int64_t>(kv_group, 1),
               Q,
               K,
               V,
               M,
               {ldq_b, ldq_h, ldq_s, ldq_d},
               {ldk_b, ldk_h, ldk_s, ldk_d},
               {ldv_b, ldv_h, ldv_s, ldv_d},
               {ldm_b, ldm_h, ldm_q, ldm_k},
               {ldo_b, ldo_h, ldo_s, ldo_d},
               scale,
               O,
               0,
               0,
               0,
               nullptr,
               nullptr,
               nullptr};
  // Pack K^T and V once per call, block by block, for every task to read
  // (a task per query block would otherwise repack them each time).
  p.Hk = (H + p.kvGroup - 1) / p.kvGroup;
  p.nKB = (Skv + kAttnBK - 1) / kAttnBK;
  p.DvP = (Dv + 15) / 16 * 16;
  const int64_t blocks = B * p.Hk * p.nKB;
  const size_t ktSize = size_t(p.D * kAttnBK), vpSize = size_t(kAttnBK * p.DvP);
  thread_local std::vector<float> packed;
  thread_local std::vector<double> norms;
  if (packed.size() < size_t(blocks) * (ktSize + vpSize))
    packed.resize(size_t(blocks) * (ktSize + vpSize));
  if (norms.size() < size_t(blocks))
    norms.resize(size_t(blocks));
  float *kt = packed.data(), *vp = kt + blocks * ktSize;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t hk = 0; hk < p.Hk; ++hk)
      for (int64_t kb = 0; kb < p.nKB; ++kb) {
        int64_t t = (b * p.Hk + hk) * p.nKB + kb, k0 = kb * kAttnBK;
        int64_t nk = std::min(kAttnBK, Skv - k0);
        const float *Kb = K + b * ldk_b + hk * ldk_h + k0 * ldk_s;
        const float *Vb = V + b * ldv_b + hk * ldv_h + k0 * ldv_s;
        float *ktb = kt + t * ktSize, *vpb = vp + t * vpSize;
        double kNorm = 0.0;
        for (int64_t c = 0; c < kAttnBK; ++c) {
          double n2 = 0.0;
          for (int64_t d = 0; d < p.D; ++d) {
            float x = c < nk ? Kb[c * ldk_s + d * ldk_d] : 0.0f;
            ktb[d * kAttnBK + c] = x;
            n2 += double(x) * x;
          }
          kNorm = std::max(kNorm, n2);
          for (int64_t e = 0; e < p.DvP; ++e)
            vpb[c * p.DvP + e] =
                c < nk && e < Dv ? Vb[c * ldv_s + e * ldv_d] : 0.0f;
        }
        norms[t] = std::sqrt(kNorm);
      }
  p.Kt = kt;
  p.Vp = vp;
  p.kNorm = norms.data();

  int64_t qBlocks = (Sq + kAttnBQ - 1) / kAttnBQ;
  AttnCall call{&p, qBlocks, getAttentionArch().task};
  int64_t tasks = B * H * qBlocks;
  int64_t work = B * H * Sq * Skv * (D + Dv);
  if (tasks == 1 || work < kMinParallelWork ||
      ThreadPool::isInParallelRegion()) {
    attnRange(&call, 0, tasks);
    return;
  }
  getGlobalThreadPool().parallelFor(tasks, attnRange, &call, 1);
}
