//===- LinearLayers.h - which linear layers passes select -------*- C++ -*-===//
//
// The rules that every pass choosing linear layers by name applies the same
// way: a layer's name, and which layer is the model's output head.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_UTILS_LINEARLAYERS_H
#define QOPT_DIALECT_QOPT_UTILS_LINEARLAYERS_H

#include "qopt/Dialect/QOpt/IR/QOpt.h"

namespace mlir {
namespace qopt {

/// The layer's name: the first NameLoc in its location (the ONNX node name
/// for imported models), or "" when there is none.
StringRef getLayerName(Location loc);

/// Whether `op` is the output head, which passes leave in full precision by
/// default: a layer whose name contains `lm_head`, or a last linear layer:
/// one whose result reaches a return through shape-only ops
/// (`tensor.expand_shape`, `collapse_shape`, `reshape`, `cast`,
/// `extract_slice`, `linalg.transpose`/`broadcast`) and elementwise ops
/// (all-parallel `linalg.generic`, which is how Add, activations and the
/// importer's Softmax/LogSoftmax reach their result; `linalg.softmax`), and
/// from whose result no other linear layer can be reached at all.
bool isOutputHead(LinearOp op);

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_UTILS_LINEARLAYERS_H
