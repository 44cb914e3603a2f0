//===- Expansions.h - reference expansions of qopt ops ----------*- C++ -*-===//
//
// The reference lowerings of `qopt-expand-quant-ops`, as functions, for
// passes that build on them: a code generator that hands an op to a runtime
// kernel expands it with the reference and marks the resulting linalg ops,
// so that whatever the kernel does not take still computes the reference's
// values, as loops.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_TRANSFORMS_EXPANSIONS_H
#define QOPT_DIALECT_QOPT_TRANSFORMS_EXPANSIONS_H

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir {
class RewriterBase;
namespace qopt {

/// The linalg ops of the expansion of a `qopt.dynamic_quantize`.
struct DynamicQuantizeExpansion {
  /// `amax = max |x|` per group (a row, or the whole tensor), reduced from
  /// 0 in f32 with `arith.maximumf`, so that a NaN propagates.
  linalg::GenericOp absMax;
  /// Two results per group: the scale, and `qmax / amax` (0 when the group
  /// quantizes to zeros: tiny or non-finite `amax`).
  linalg::GenericOp scales;
  /// The stored values, from `x` and the second result of `scales`.
  linalg::GenericOp values;
};

/// Replaces `op` with its reference expansion and returns its linalg ops.
DynamicQuantizeExpansion expandDynamicQuantize(RewriterBase &rewriter,
                                               DynamicQuantizeOp op);

/// The linalg ops of the expansion of a `qopt.quantized_linear`.
struct QuantizedLinearExpansion {
  /// `acc[..., n] = sum_k (x - xz) * (w[n, k] - wz)`, exact in i32 (f32 for
  /// fp8), from a zero-filled init; inputs `x`, the logical `[N, K]` weight
  /// (unpacked first when it is stored packed), then the zero points.
  linalg::GenericOp product;
  /// `y = ((float)acc * input_scale) * weight_scale (+ bias)`, one rounding
  /// per operation; inputs `acc`, the two scales, then the bias.
  linalg::GenericOp rescale;
};

/// Replaces `op` with its reference expansion and returns its linalg ops.
QuantizedLinearExpansion expandQuantizedLinear(RewriterBase &rewriter,
                                               QuantizedLinearOp op);

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_EXPANSIONS_H
