//===- Builtins.cpp - compiler-rt conversions artifacts may call ----------===//
//
// LLVM lowers some conversions to half and bfloat16 to calls into
// compiler-rt's builtins library (`__truncsfbf2`, and the f16 ones on CPUs
// without F16C). Debian's libgcc 12 lacks the bfloat16 ones and artifacts
// must not depend on compiler-rt being installed, so libqrt defines them,
// with compiler-rt's semantics: round to nearest even, NaN stays NaN.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstring>

namespace {

uint16_t floatToBF16Bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: keep it quiet
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

uint16_t floatToHalfBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  uint32_t sign = (bits >> 16) & 0x8000u;
  uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) // NaN
    return static_cast<uint16_t>(sign | 0x7e00u);
  if (magnitude >= 0x477ff000u) // rounds to infinity (or is infinite)
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (magnitude < 0x38800000u) { // subnormal half or zero
    if (magnitude < 0x33000000u)
      return static_cast<uint16_t>(sign);
    uint32_t exponent = magnitude >> 23;
    uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - exponent; // 14..24
    uint32_t half = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1);
    uint32_t midpoint = 1u << (shift - 1);
    if (rest > midpoint || (rest == midpoint && (half & 1)))
      ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t rounded = magnitude - 0x38000000u; // rebias 127 -> 15
  rounded += 0xfffu + ((rounded >> 13) & 1);
  return static_cast<uint16_t>(sign | (rounded >> 13));
}

float halfBitsToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ffu, bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else { // subnormal: normalise
    exponent = 113;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

template <typename To> To fromBits(uint16_t bits) {
  To value;
  std::memcpy(&value, &bits, sizeof(bits));
  return value;
}

} // namespace

extern "C" {
__bf16 __truncsfbf2(float value) {
  return fromBits<__bf16>(floatToBF16Bits(value));
}
__bf16 __truncdfbf2(double value) {
  // Through float can round twice; compiler-rt does the same on x86.
  return fromBits<__bf16>(floatToBF16Bits(static_cast<float>(value)));
}
_Float16 __truncsfhf2(float value) {
  return fromBits<_Float16>(floatToHalfBits(value));
}
_Float16 __truncdfhf2(double value) {
  return fromBits<_Float16>(floatToHalfBits(static_cast<float>(value)));
}
float __extendhfsf2(_Float16 value) {
  uint16_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return halfBitsToFloat(bits);
}
} // extern "C"
