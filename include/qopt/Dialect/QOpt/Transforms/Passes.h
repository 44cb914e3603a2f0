//===- Passes.h - qopt dialect passes ---------------------------*- C++ -*-===//

#ifndef QOPT_DIALECT_QOPT_TRANSFORMS_PASSES_H
#define QOPT_DIALECT_QOPT_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace qopt {

#define GEN_PASS_DECL
#include "qopt/Dialect/QOpt/Transforms/Passes.h.inc"

/// Patterns that rewrite qopt.quantize/dequantize/pack/unpack/smooth into
/// linalg on tensors; with `expandLinear`, the two linear ops too.
void populateExpandQuantOpsPatterns(RewritePatternSet &patterns,
                                    bool expandLinear);

#define GEN_PASS_REGISTRATION
#include "qopt/Dialect/QOpt/Transforms/Passes.h.inc"

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_PASSES_H
