//===- Builders.h - IR building blocks for ONNX op handlers ----*- C++ -*-===//

#ifndef QOPT_LIB_IMPORT_ONNX_BUILDERS_H
#define QOPT_LIB_IMPORT_ONNX_BUILDERS_H

#include "Importer.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

namespace mlir {
namespace qopt {
namespace onnx_import {

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// numpy-style broadcast shape of `shapes`, or failure (with an error on the
/// node) when two static sizes disagree. Dynamic sizes are assumed to match
/// the other side unless that side is a static 1.
FailureOr<SmallVector<int64_t>>
broadcastShapes(NodeContext &ctx, ArrayRef<ArrayRef<int64_t>> shapes);

/// An elementwise linalg.generic over the broadcast of `inputs`.
FailureOr<Value> buildElementwise(NodeContext &ctx, ArrayRef<Value> inputs,
                                  Type resultElementType, BodyFn body);

/// Sizes of `value` as OpFoldResults.
SmallVector<OpFoldResult> getSizes(OpBuilder &b, Location loc, Value value);

/// `tensor.empty` of `sizes` filled with `fill`.
Value createFilled(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                   TypedAttr fill);

/// The iteration space of a reduction of `input` over `axes`: identity map
/// for the input, the result's map and sizes (reduced dimensions dropped or
/// kept as 1), and the iterator types.
struct ReductionLayout {
  AffineMap inMap, outMap;
  SmallVector<OpFoldResult> outSizes;
  SmallVector<utils::IteratorType> iterators;
};
ReductionLayout getReductionLayout(OpBuilder &b, Location loc, Value input,
                                   ArrayRef<int64_t> axes, bool keepDims);

/// A reduction of `input` over the sorted, normalized `axes`: `combine`
/// folds (element, accumulator) into the accumulator, starting at `init`.
Value buildReduction(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> axes, bool keepDims, TypedAttr init,
                     BodyFn combine);

/// The float mean of `input` over the sorted, normalized `axes`: a sum
/// reduction divided by the element count (dynamic sizes included).
Value buildMean(NodeContext &ctx, Value input, ArrayRef<int64_t> axes,
                bool keepDims);

/// A tensor of `sizes` whose every element `element` computes from its
/// indices (a linalg.generic without inputs): for gathers and generated
/// values that read their operands with tensor.extract.
Value buildGenerated(
    OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes, Type elementType,
    function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> element);

/// A scalar constant of `type` (integer or float).
Value scalarConstant(OpBuilder &b, Location loc, Type type, double value);

/// Evaluates an elementwise op on host constants with numpy broadcasting;
/// fails when the result would be larger than kMaxHostElements.
std::optional<HostTensor>
foldElementwise(ArrayRef<const HostTensor *> inputs, Type resultElementType,
                function_ref<int64_t(ArrayRef<int64_t>)> intFn,
                function_ref<double(ArrayRef<double>)> floatFn);

/// Reads a 1-D integer constant input (axes, shapes, pads...) as values.
std::optional<SmallVector<int64_t>> getConstantInts(const HostTensor *tensor);

/// Builds a HostTensor of i64 values.
HostTensor makeI64Tensor(MLIRContext *ctx, ArrayRef<int64_t> shape,
                         ArrayRef<int64_t> values);

/// Index arithmetic on OpFoldResults that folds when both sides are known.
OpFoldResult addIndex(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);
OpFoldResult subIndex(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);
OpFoldResult mulIndex(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);
OpFoldResult divIndex(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);
OpFoldResult ceilDivIndex(OpBuilder &b, Location loc, OpFoldResult x,
                          OpFoldResult y);
OpFoldResult minIndex(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);
OpFoldResult maxIndex(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);

/// The static shape that `sizes` describe (dynamic where not constant).
SmallVector<int64_t> getStaticShape(ArrayRef<OpFoldResult> sizes);

/// Emits a run-time check (`qopt.check`) that `condition` holds: when it
/// does not, the model's run ends with "node '<name>' (<op>): <what>", each
/// `{N}` in `what` showing the run-time value of `values[N]`.
void emitCheck(NodeContext &ctx, Value condition, const Twine &what,
               ValueRange values);

/// Emits a run-time check that every element of the integer tensor
/// `indices` is in [-size, size), as gathers need: two reductions (min and
/// max) over the indices, then one comparison.
void checkIndicesInRange(NodeContext &ctx, Value indices, OpFoldResult size);

/// A scalar tensor element converted to an index (negative values wrap
/// around `dimSize`, as ONNX indices do).
Value toIndex(OpBuilder &b, Location loc, Value scalar, Value dimSize);

} // namespace onnx_import
} // namespace qopt
} // namespace mlir

#endif // QOPT_LIB_IMPORT_ONNX_BUILDERS_H
