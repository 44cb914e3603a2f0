//===- LinearLayers.h - which linear layers passes select -------*- C++ -*-===//
//
// The rules that every pass choosing linear layers by name applies the same
// way: a layer's name, and which layer is the model's output head.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_UTILS_LINEARLAYERS_H
#define QOPT_DIALECT_QOPT_UTILS_LINEARLAYERS_H

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

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

/// Whether `op` is a convolution layer with a constant f32 filter: a
/// `linalg.generic` with two inputs and one init whose payload is
/// `out + in0 * in1` (the importer's Conv, regular, grouped or depthwise),
/// whose second input (the filter, `[F, C/group, kernel...]`, output
/// channels first) is a static f32 constant of rank >= 3 with an identity
/// indexing map over some of the loops, whose first loop of that map is
/// parallel and is the output's dimension 1 (the output channel). Weight
/// quantizers use it to find convolutions; the output-channel condition is
/// what makes one scale per filter row a per-output-channel scale. With
/// `requireConstantFilter` false, any static f32 filter counts (so that a
/// pass can say why it leaves a computed one alone).
bool isConvolutionLayer(linalg::GenericOp op,
                        bool requireConstantFilter = true);

/// The convolution layers under `root` (isConvolutionLayer), in walk order.
SmallVector<linalg::GenericOp>
getConvolutionLayers(Operation *root, bool requireConstantFilter = true);

/// For passes that quantize linear layers only: a remark
/// `<tag>: left '<name>' fp32: convolution (<why>)` for every convolution
/// layer under `root`, so that no layer is silently left alone. Returns how
/// many there were.
int64_t remarkConvolutionsLeftFp32(Operation *root, StringRef tag,
                                   StringRef why);

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_UTILS_LINEARLAYERS_H
