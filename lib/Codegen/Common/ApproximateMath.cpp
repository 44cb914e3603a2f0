//===- ApproximateMath.cpp - inline polynomial transcendentals ------------===//
//
// LLVM lowers math ops on vectors lane by lane to scalar libm calls (tanhf,
// erff, expf, powf): a vectorized GELU or sigmoid then runs at the speed of
// sixteen function calls per vector. Upstream's polynomial approximations
// are plain arith/math.fma on the same vector type, so the loop stays
// vectorized and inlined.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/Common/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "qopt/Codegen/Common/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

struct ApproximateMathPass
    : public qopt::impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // powf by small constant exponents (GELU's x^3) becomes multiplications.
    populateMathAlgebraicSimplificationPatterns(patterns);
    // The activations of the models qopt compiles, whose approximations are
    // accurate to a few ulp (see the accuracy test). Not log: upstream's
    // polynomial is 7.0 off for subnormal inputs, and log is not hot (one
    // per softmax row at most). Only f32 is rewritten: the f32 expansion of
    // f16/bf16 is not enabled.
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return llvm::is_contained(
          {"math.exp", "math.expm1", "math.tanh", "math.erf"}, name);
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
