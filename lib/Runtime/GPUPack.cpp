//===- GPUPack.cpp - weight packing for the generated GPU kernels ---------===//
//
// The compile-time half of the int4 kernels' contract
// (include/qopt/Runtime/GPUKernelABI.h): weights and scales rearranged into
// the register layout of mma.sync's B operand, so that each thread's 16-byte
// load is exactly the operands of its eight k16 steps. Plain C++, no LLVM.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runtime/GPUKernelABI.h"

#include <cmath>
#include <cstring>

namespace {

/// IEEE fp16 bits of `f`, round to nearest even (scales are finite and
/// positive in practice; infinities and NaN are kept).
uint16_t toHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) // inf or nan
    return sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u);
  if (absx >= 0x477ff000u) // rounds to >= 65520: inf
    return sign | 0x7c00u;
  if (absx < 0x38800000u) { // subnormal half (or zero)
    float a;
    std::memcpy(&a, &absx, 4);
    // 2^-24 is the smallest subnormal: round a / 2^-24 to an integer.
    uint32_t m = static_cast<uint32_t>(std::nearbyint(a * 16777216.0f));
    return sign | m;
  }
  uint32_t e = ((absx >> 23) - 112) << 10; // rebias 127 -> 15
  uint32_t m = absx & 0x7fffffu;
  uint32_t h = e | (m >> 13);
  uint32_t rest = m & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
    ++h; // may carry into the exponent, which is still right
  return sign | h;
}

} // namespace

extern "C" size_t qrt_gpu_w4_packed_weight_bytes(int64_t n, int64_t k) {
  if (n <= 0 || k <= 0)
    return 0;
  return static_cast<size_t>(n) * static_cast<size_t>(k) / 2;
}

extern "C" size_t qrt_gpu_w4_packed_scale_bytes(int64_t n, int64_t k) {
  if (n <= 0 || k <= 0)
    return 0;
  return static_cast<size_t>(n) * static_cast<size_t>(k / QRT_GPU_W4_GROUP) * 2;
}

extern "C" int qrt_gpu_w4_pack(int64_t n, int64_t k, const int8_t *q,
                               const float *s, uint8_t *packedW,
                               uint16_t *packedS) {
  if (n <= 0 || k <= 0 || n % QRT_GPU_W4_TILE_N || k % QRT_GPU_W4_GROUP || !q ||
      !s || !packedW || !packedS)
    return -1;
  const int64_t groups = k / QRT_GPU_W4_GROUP;
  const int64_t tiles = n / QRT_GPU_W4_TILE_N;
  // Nibble i of a word holds k0 + kNibbleK[i] (GPUKernelABI.h).
  static const int kNibbleK[8] = {0, 2, 4, 6, 1, 3, 5, 7};
  for (int64_t tile = 0; tile < tiles; ++tile) {
    for (int64_t g = 0; g < groups; ++g) {
      uint8_t *dst = packedW + (tile * groups + g) * QRT_GPU_W4_TILE_BYTES;
      for (int lane = 0; lane < 32; ++lane) {
        int64_t col = tile * 8 + lane / 4;
        const int8_t *row =
            q + col * k + g * QRT_GPU_W4_GROUP + 32 * (lane % 4);
        for (int word = 0; word < 4; ++word) {
          uint32_t w = 0;
          for (int nib = 0; nib < 8; ++nib) {
            int v = row[8 * word + kNibbleK[nib]];
            if (v < -8 || v > 7)
              return -1;
            w |= static_cast<uint32_t>(v + 8) << (4 * nib);
          }
          std::memcpy(dst + lane * 16 + word * 4, &w, 4);
        }
      }
      for (int c = 0; c < 8; ++c)
        packedS[(tile * groups + g) * 8 + c] =
            toHalf(s[(tile * 8 + c) * groups + g]);
    }
  }
  return 0;
}
