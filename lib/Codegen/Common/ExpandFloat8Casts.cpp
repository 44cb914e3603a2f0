//===- ExpandFloat8Casts.cpp - float8 casts as integer arithmetic ---------===//
//
// ONNX's float8 types (opset 19) have no LLVM counterpart: values of them
// are stored as i8, and the conversions to and from f32 are spelled out here
// in integer arithmetic that vectorizes like any other elementwise code.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/Common/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

namespace mlir::qopt {
#define GEN_PASS_DEF_EXPANDFLOAT8CASTS
#include "qopt/Codegen/Common/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// The encoding of one of ONNX's float8 types.
struct Float8Format {
  unsigned mantissaBits;
  int bias;
  /// FNUZ types: no infinity, no -0, and 0x80 is their only NaN.
  bool fnuz;
  bool hasInfinity;
  /// Bits of the largest finite magnitude.
  uint32_t maxFinite;
};

std::optional<Float8Format> getFormat(Type type) {
  if (isa<Float8E4M3FNType>(type))
    return Float8Format{3, 7, false, false, 0x7E};
  if (isa<Float8E4M3FNUZType>(type))
    return Float8Format{3, 8, true, false, 0x7F};
  if (isa<Float8E5M2Type>(type))
    return Float8Format{2, 15, false, true, 0x7B};
  if (isa<Float8E5M2FNUZType>(type))
    return Float8Format{2, 16, true, false, 0x7F};
  return std::nullopt;
}

/// 8-bit floats this pass has no encoding for.
bool isOtherFloat8(Type type) {
  auto f = dyn_cast<FloatType>(type);
  return f && f.getWidth() == 8 && !getFormat(type);
}

/// `type` with its element type replaced (scalars and vectors alike).
Type withElementType(Type type, Type element) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    return shaped.clone(element);
  return element;
}

/// Builds elementwise i32 arithmetic on values shaped like one given type.
struct Bits {
  Bits(OpBuilder &b, Location loc, Type like)
      : b(b), loc(loc), i32(withElementType(like, b.getI32Type())) {}

  Value c(uint32_t v) {
    auto element = IntegerAttr::get(b.getI32Type(), APInt(32, v));
    TypedAttr attr = element;
    if (auto shaped = dyn_cast<ShapedType>(i32))
      attr = DenseElementsAttr::get(shaped, cast<Attribute>(element));
    return arith::ConstantOp::create(b, loc, i32, attr);
  }
  Value andi(Value x, uint32_t m) {
    return arith::AndIOp::create(b, loc, x, c(m));
  }
  Value ori(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value ori(Value x, uint32_t m) { return ori(x, c(m)); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value shl(Value x, Value s) { return arith::ShLIOp::create(b, loc, x, s); }
  Value shl(Value x, uint32_t s) { return shl(x, c(s)); }
  Value shr(Value x, Value s) { return arith::ShRUIOp::create(b, loc, x, s); }
  Value shr(Value x, uint32_t s) { return shr(x, c(s)); }
  Value minu(Value x, uint32_t v) {
    return arith::MinUIOp::create(b, loc, x, c(v));
  }
  Value maxu(Value x, uint32_t v) {
    return arith::MaxUIOp::create(b, loc, x, c(v));
  }
  Value cmp(arith::CmpIPredicate p, Value x, uint32_t v) {
    return arith::CmpIOp::create(b, loc, p, x, c(v));
  }
  Value select(Value cond, Value x, Value y) {
    return arith::SelectOp::create(b, loc, cond, x, y);
  }
  Value select(Value cond, uint32_t x, Value y) {
    return select(cond, c(x), y);
  }
  Value bitcast(Value x, Type element) {
    return arith::BitcastOp::create(b, loc,
                                    withElementType(x.getType(), element), x);
  }

  /// `x >> shift` rounded to nearest, ties to even: adding half an ulp less
  /// one, plus the kept lowest bit, carries exactly when rounding up. `x +
  /// 2^(shift - 1)` must not wrap (the magnitudes here are below 2^31).
  Value roundingShift(Value x, Value shift) {
    Value one = c(1);
    Value halfMinusOne = sub(shl(one, sub(shift, one)), one); // 2^(shift-1) - 1
    Value lsb = arith::AndIOp::create(b, loc, shr(x, shift), one);
    return shr(add(add(x, halfMinusOne), lsb), shift);
  }

  OpBuilder &b;
  Location loc;
  Type i32;
};

/// The float8 bits (in i32) of f32 value `x`, rounded to nearest even,
/// overflowing to infinity or NaN.
Value truncateBits(Bits &bits, Value x, const Float8Format &f) {
  using P = arith::CmpIPredicate;
  Value u = bits.bitcast(x, bits.b.getI32Type());
  Value sign = bits.shr(bits.andi(u, 0x80000000u), 24);
  Value abs = bits.andi(u, 0x7FFFFFFFu);
  unsigned m = f.mantissaBits;
  // Normal results: rebias the exponent, round away 23 - M mantissa bits.
  Value rebiased = bits.sub(abs, bits.c(uint32_t(127 - f.bias) << 23));
  Value normal = bits.roundingShift(rebiased, bits.c(23 - m));
  // Subnormal results count units of 2^(1 - bias - M): the mantissa with
  // its implicit bit shifted right by (151 - bias - M) - exponent, at most
  // 31 (below half the smallest subnormal everything rounds to 0; f32
  // subnormals do too, whatever their missing implicit bit). At least 1
  // keeps the shifts of the unused lanes (normal values) defined.
  Value exponent = bits.shr(abs, 23);
  Value mantissa = bits.ori(bits.andi(abs, 0x7FFFFF), 0x800000);
  Value shift = bits.maxu(
      bits.minu(bits.sub(bits.c(uint32_t(151 - f.bias - m)), exponent), 31), 1);
  Value subnormal = bits.roundingShift(mantissa, shift);
  Value isNormal = bits.cmp(P::uge, abs, uint32_t(128 - f.bias) << 23);
  Value magnitude = bits.select(isNormal, normal, subnormal);
  // Infinity and NaN inputs land above the largest finite value too.
  Value overflow = bits.cmp(P::ugt, magnitude, f.maxFinite);
  Value result = bits.ori(sign, magnitude);
  if (f.fnuz) {
    // No -0: a negative value that rounds to zero is +0; 0x80 is NaN.
    Value zero = bits.cmp(P::eq, magnitude, 0);
    result = bits.select(zero, 0u, result);
    return bits.select(overflow, 0x80u, result);
  }
  if (!f.hasInfinity)
    return bits.select(overflow, bits.ori(sign, 0x7F), result);
  Value isNaN = bits.cmp(P::ugt, abs, 0x7F800000u);
  result = bits.select(overflow, bits.ori(sign, 0x7C), result);
  return bits.select(isNaN, bits.ori(sign, 0x7F), result);
}

/// The f32 bits (in i32) of float8 bits `q` (in i32, 0..255).
Value extendBits(Bits &bits, Value q, const Float8Format &f) {
  using P = arith::CmpIPredicate;
  OpBuilder &b = bits.b;
  unsigned m = f.mantissaBits;
  Value sign = bits.shl(bits.andi(q, 0x80), 24);
  Value magnitude = bits.andi(q, 0x7F);
  Value normal = bits.add(bits.shl(magnitude, 23 - m),
                          bits.c(uint32_t(127 - f.bias) << 23));
  // Subnormals: the mantissa times 2^(1 - bias - M), exact in f32.
  Type f32 = withElementType(q.getType(), b.getF32Type());
  Value count = arith::UIToFPOp::create(b, bits.loc, f32, magnitude);
  double unit = std::ldexp(1.0, 1 - f.bias - static_cast<int>(m));
  TypedAttr unitAttr = b.getF32FloatAttr(static_cast<float>(unit));
  if (auto shaped = dyn_cast<ShapedType>(f32))
    unitAttr = DenseElementsAttr::get(shaped, cast<Attribute>(unitAttr));
  Value scaled = arith::MulFOp::create(
      b, bits.loc, count,
      arith::ConstantOp::create(b, bits.loc, f32, unitAttr));
  Value subnormal = bits.bitcast(scaled, b.getI32Type());
  Value isSubnormal = bits.cmp(P::ult, magnitude, 1u << m);
  Value result = bits.ori(sign, bits.select(isSubnormal, subnormal, normal));
  // Quiet NaN with the code's sign, as ONNX Runtime decodes (FNUZ's 0x80 is
  // negative).
  Value nan = bits.ori(sign, 0x7FC00000u);
  if (f.fnuz)
    return bits.select(bits.cmp(P::eq, q, 0x80), nan, result);
  if (!f.hasInfinity)
    return bits.select(bits.cmp(P::eq, magnitude, 0x7F), nan, result);
  Value inf = bits.ori(sign, 0x7F800000u);
  result = bits.select(bits.cmp(P::eq, magnitude, 0x7C), inf, result);
  return bits.select(bits.cmp(P::ugt, magnitude, 0x7C), nan, result);
}

/// Converts `value` between float types whose LLVM lowering is native
/// (f16, bf16, f32, f64).
Value convertNative(OpBuilder &b, Location loc, Value value, Type to) {
  auto from = cast<FloatType>(getElementTypeOrSelf(value.getType()));
  auto toElement = cast<FloatType>(getElementTypeOrSelf(to));
  if (from == toElement)
    return value;
  if (from.getWidth() < toElement.getWidth())
    return arith::ExtFOp::create(b, loc, to, value);
  return arith::TruncFOp::create(b, loc, to, value);
}

LogicalResult expandTruncF(arith::TruncFOp op, const Float8Format &f) {
  if (std::optional<arith::RoundingMode> mode = op.getRoundingmode();
      mode && *mode != arith::RoundingMode::to_nearest_even)
    return op.emitOpError() << "to " << getElementTypeOrSelf(op.getType())
                            << " rounds " << arith::stringifyRoundingMode(*mode)
                            << "; only to_nearest_even is implemented";
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type f32 = withElementType(op.getType(), b.getF32Type());
  Value x = convertNative(b, loc, op.getIn(), f32);
  Bits bits(b, loc, op.getType());
  Value q = truncateBits(bits, x, f);
  Type i8 = withElementType(op.getType(), b.getI8Type());
  Value byte = arith::TruncIOp::create(b, loc, i8, q);
  op.replaceAllUsesWith(
      arith::BitcastOp::create(b, loc, op.getType(), byte).getResult());
  op.erase();
  return success();
}

void expandExtF(arith::ExtFOp op, const Float8Format &f) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type type = op.getIn().getType();
  Value byte = arith::BitcastOp::create(
      b, loc, withElementType(type, b.getI8Type()), op.getIn());
  Bits bits(b, loc, type);
  Value q = arith::ExtUIOp::create(b, loc, bits.i32, byte);
  Value u = extendBits(bits, q, f);
  Value x = bits.bitcast(u, b.getF32Type());
  op.replaceAllUsesWith(convertNative(b, loc, x, op.getType()));
  op.erase();
}

struct ExpandFloat8CastsPass
    : qopt::impl::ExpandFloat8CastsBase<ExpandFloat8CastsPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    ModuleOp module = getOperation();
    // Everything but the casts themselves computes in f32.
    SmallVector<Type> float8Types = {
        Float8E4M3FNType::get(context), Float8E4M3FNUZType::get(context),
        Float8E5M2Type::get(context), Float8E5M2FNUZType::get(context)};
    TypeConverter converter;
    arith::populateEmulateUnsupportedFloatsConversions(
        converter, float8Types, Float32Type::get(context));
    RewritePatternSet patterns(context);
    arith::populateEmulateUnsupportedFloatsPatterns(patterns, converter);
    ConversionTarget target(*context);
    arith::populateEmulateUnsupportedFloatsLegality(target, converter);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    bool failed = false;
    module.walk([&](Operation *op) {
      if (auto trunc = dyn_cast<arith::TruncFOp>(op)) {
        Type to = getElementTypeOrSelf(trunc.getType());
        if (std::optional<Float8Format> f = getFormat(to)) {
          failed |= mlir::failed(expandTruncF(trunc, *f));
        } else if (isOtherFloat8(to)) {
          trunc.emitOpError() << "to " << to << " has no CPU lowering";
          failed = true;
        }
      } else if (auto ext = dyn_cast<arith::ExtFOp>(op)) {
        Type from = getElementTypeOrSelf(ext.getIn().getType());
        if (std::optional<Float8Format> f = getFormat(from)) {
          expandExtF(ext, *f);
        } else if (isOtherFloat8(from)) {
          ext.emitOpError() << "from " << from << " has no CPU lowering";
          failed = true;
        }
      }
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
