//===- ShapeOps.cpp - ONNX shape, layout and indexing ops -----------------===//
//
// Shape sub-graphs are evaluated while importing: on host constants when
// everything is known, element by element (ImportedValue::elements) when
// some dimensions are dynamic. What reaches the IR is tensor/linalg.
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;

namespace {

RankedTensorType i64Vector(MLIRContext *ctx, int64_t size) {
  return RankedTensorType::get({size}, IntegerType::get(ctx, 64));
}

/// Reads a constant 1-D (or scalar) integer input; errors when missing or
/// not known at import time.
FailureOr<SmallVector<int64_t>>
requireConstantInts(NodeContext &ctx, unsigned i, StringRef what) {
  std::optional<SmallVector<int64_t>> values =
      getConstantInts(ctx.getConstantInput(i));
  if (!values)
    return ctx.emitError() << what
                           << " must be a constant known at import time";
  return *values;
}

/// Axes from the attribute (older opsets) or the input (newer ones).
FailureOr<std::optional<SmallVector<int64_t>>>
getAxes(NodeContext &ctx, unsigned inputIndex, int64_t rank) {
  std::optional<SmallVector<int64_t>> axes = ctx.getIntsAttr("axes");
  if (!axes && ctx.hasInput(inputIndex)) {
    FailureOr<SmallVector<int64_t>> values =
        requireConstantInts(ctx, inputIndex, "axes");
    if (failed(values))
      return failure();
    axes = *values;
  }
  if (!axes)
    return std::optional<SmallVector<int64_t>>();
  for (int64_t &axis : *axes) {
    FailureOr<int64_t> normalized = ctx.normalizeAxis(axis, rank);
    if (failed(normalized))
      return failure();
    axis = *normalized;
  }
  llvm::sort(*axes);
  return axes;
}

Value createEmpty(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                  Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

/// tensor.extract_slice, or tensor.empty when the slice has no elements
/// (extract_slice wants offsets inside non-empty dimensions).
Value extractSliceOrEmpty(OpBuilder &b, Location loc, Value input,
                          ArrayRef<OpFoldResult> offsets,
                          ArrayRef<OpFoldResult> sizes,
                          ArrayRef<OpFoldResult> strides) {
  if (llvm::any_of(sizes,
                   [](OpFoldResult s) { return isConstantIntValue(s, 0); }))
    return createEmpty(
        b, loc, sizes,
        cast<RankedTensorType>(input.getType()).getElementType());
  return tensor::ExtractSliceOp::create(b, loc, input, offsets, sizes, strides);
}

LogicalResult importShape(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  int64_t start = ctx.getIntAttr("start", 0);
  int64_t end = ctx.getIntAttr("end", rank);
  auto clampAxis = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::clamp<int64_t>(v, 0, rank);
  };
  start = clampAxis(start);
  end = std::max(clampAxis(end), start);
  SmallVector<OpFoldResult> elements;
  for (int64_t d = start; d < end; ++d)
    elements.push_back(ctx.getInputDimSize(0, d));
  ctx.setShapeResult(0, elements, i64Vector(ctx.getContext(), end - start));
  return success();
}

LogicalResult importSize(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  OpFoldResult count = ctx.getBuilder().getIndexAttr(1);
  for (int64_t d = 0; d < type.getRank(); ++d)
    count = mulIndex(ctx.getBuilder(), ctx.getLoc(), count,
                     ctx.getInputDimSize(0, d));
  ctx.setShapeResult(
      0, {count},
      RankedTensorType::get({}, IntegerType::get(ctx.getContext(), 64)));
  return success();
}

LogicalResult importConstant(NodeContext &ctx) {
  OpBuilder &b = ctx.getBuilder();
  if (const onnx::AttributeProto *value = ctx.getAttr("value")) {
    // Named after the output: the tensor itself is often unnamed.
    FailureOr<ImportedValue> imported = ctx.importer.importTensor(
        value->t(), ctx.getLoc(), "Constant value", ctx.getOutputName(0));
    if (failed(imported))
      return failure();
    // Kept as a constant of any size, exactly as an initializer is: a
    // MatMul or Gemm whose weight some exporters store in a Constant node
    // is still a linear layer.
    ctx.setImportedResult(0, std::move(*imported));
    return success();
  }
  HostTensor tensor;
  if (const onnx::AttributeProto *attr = ctx.getAttr("value_float")) {
    tensor.elementType = b.getF32Type();
    tensor.floats.push_back(attr->f());
  } else if (const onnx::AttributeProto *attr = ctx.getAttr("value_floats")) {
    tensor.elementType = b.getF32Type();
    tensor.shape.push_back(attr->floats_size());
    tensor.floats.assign(attr->floats().begin(), attr->floats().end());
  } else if (const onnx::AttributeProto *attr = ctx.getAttr("value_int")) {
    tensor.elementType = b.getI64Type();
    tensor.ints.push_back(attr->i());
  } else if (const onnx::AttributeProto *attr = ctx.getAttr("value_ints")) {
    tensor.elementType = b.getI64Type();
    tensor.shape.push_back(attr->ints_size());
    tensor.ints.assign(attr->ints().begin(), attr->ints().end());
  } else {
    return ctx.emitError() << "only value, value_float(s) and value_int(s) "
                              "constants are supported";
  }
  ctx.setConstantResult(0, std::move(tensor));
  return success();
}

LogicalResult importConstantOfShape(NodeContext &ctx) {
  std::optional<SmallVector<OpFoldResult>> sizes = ctx.getShapeElements(0);
  if (!sizes)
    return ctx.emitError() << "the shape must be known element by element";
  OpBuilder &b = ctx.getBuilder();
  TypedAttr fill = b.getF32FloatAttr(0);
  bool isUnsigned = false;
  if (const onnx::AttributeProto *value = ctx.getAttr("value")) {
    FailureOr<ImportedValue> imported =
        ctx.importer.importTensor(value->t(), ctx.getLoc(), "value");
    if (failed(imported))
      return failure();
    auto dense = dyn_cast<DenseElementsAttr>(imported->constantAttr);
    if (!dense || dense.getNumElements() != 1)
      return ctx.emitError() << "value must hold one element";
    fill = cast<TypedAttr>(dense.getSplatValue<Attribute>());
    isUnsigned = imported->isUnsigned;
  }
  SmallVector<int64_t> shape = getStaticShape(*sizes);
  if (!ShapedType::isDynamicShape(shape) &&
      getNumElements(shape) <= kMaxHostElements) {
    HostTensor tensor;
    tensor.shape = shape;
    tensor.elementType = fill.getType();
    for (int64_t i = 0, e = getNumElements(shape); i < e; ++i) {
      if (auto f = dyn_cast<FloatAttr>(fill))
        tensor.floats.push_back(f.getValueAsDouble());
      else
        tensor.ints.push_back(cast<IntegerAttr>(fill).getInt());
    }
    ctx.setConstantResult(0, std::move(tensor));
    return success();
  }
  ctx.setResult(0, createFilled(b, ctx.getLoc(), *sizes, fill), isUnsigned);
  return success();
}

/// Whether `groups` (from getReassociationIndicesForReshape) is a safe way
/// to reshape between `small` (fewer dims) and `large`. With dynamic dims the
/// grouping is a guess unless it is forced: a dynamic dim alone in its group
/// maps one to one, and at most one group may merge several dims where any
/// is dynamic (all others then fix its position).
static bool isSafeReassociation(RankedTensorType small, RankedTensorType large,
                                ArrayRef<ReassociationIndices> groups) {
  if (groups.size() != static_cast<size_t>(small.getRank()))
    return false;
  int dynamicMerges = 0;
  for (auto [i, group] : llvm::enumerate(groups)) {
    bool dynamic = small.isDynamicDim(i) || llvm::any_of(group, [&](int64_t d) {
                     return large.isDynamicDim(d);
                   });
    if (!dynamic)
      continue;
    if (group.size() == 1) {
      if (small.isDynamicDim(i) != large.isDynamicDim(group[0]))
        return false;
      continue;
    }
    ++dynamicMerges;
  }
  return dynamicMerges <= 1;
}

/// Reshape to `sizes` (static where known): tensor.expand_shape or
/// tensor.collapse_shape when the reshape only splits or merges dims (what
/// fusion and every backend handle), tensor.reshape otherwise.
Value reshapeTo(OpBuilder &b, Location loc, Value input,
                ArrayRef<OpFoldResult> sizes) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto resultType =
      RankedTensorType::get(getStaticShape(sizes), inputType.getElementType());
  if (resultType == inputType)
    return input;
  if (inputType.getRank() != resultType.getRank()) {
    bool expanding = resultType.getRank() > inputType.getRank();
    RankedTensorType small = expanding ? inputType : resultType;
    RankedTensorType large = expanding ? resultType : inputType;
    std::optional<SmallVector<ReassociationIndices>> groups =
        getReassociationIndicesForReshape(small, large);
    if (groups && isSafeReassociation(small, large, *groups)) {
      if (expanding)
        return tensor::ExpandShapeOp::create(b, loc, resultType, input, *groups,
                                             sizes);
      return tensor::CollapseShapeOp::create(b, loc, resultType, input,
                                             *groups);
    }
  }
  SmallVector<Value> values;
  for (OpFoldResult size : sizes)
    values.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
  Value shape = tensor::FromElementsOp::create(
      b, loc, RankedTensorType::get({(int64_t)sizes.size()}, b.getIndexType()),
      values);
  return tensor::ReshapeOp::create(b, loc, resultType, input, shape);
}

LogicalResult importReshape(NodeContext &ctx) {
  std::optional<SmallVector<OpFoldResult>> target = ctx.getShapeElements(1);
  if (!target)
    return ctx.emitError() << "the target shape must be a constant or be "
                              "computed from shapes";
  bool allowZero = ctx.getIntAttr("allowzero", 0) != 0;
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  RankedTensorType inputType = ctx.getInputType(0);
  // Input sizes without materializing constants we may fold.
  SmallVector<OpFoldResult> inSizes;
  for (int64_t d = 0; d < inputType.getRank(); ++d)
    inSizes.push_back(ctx.getInputDimSize(0, d));
  SmallVector<OpFoldResult> sizes;
  int64_t inferred = -1;
  for (auto [k, element] : llvm::enumerate(*target)) {
    std::optional<int64_t> v = getConstantIntValue(element);
    if (v && *v == 0 && !allowZero) {
      if (k >= inSizes.size())
        return ctx.emitError() << "shape element " << k
                               << " copies a dimension the input lacks";
      sizes.push_back(inSizes[k]);
    } else if (v && *v == -1) {
      if (inferred >= 0)
        return ctx.emitError() << "more than one -1 in the target shape";
      inferred = k;
      sizes.push_back(b.getIndexAttr(1));
    } else if (v && *v < 0) {
      return ctx.emitError() << "invalid target dimension " << *v;
    } else {
      sizes.push_back(element);
    }
  }
  if (inferred >= 0) {
    // Dynamic sizes with the same symbolic name on both sides cancel, so
    // [batch, seq, 64] -> [batch, seq, -1, 16] infers a static 4.
    SmallVector<OpFoldResult> totalFactors(inSizes);
    SmallVector<OpFoldResult> knownFactors;
    for (auto [k, size] : llvm::enumerate(sizes))
      if (static_cast<int64_t>(k) != inferred)
        knownFactors.push_back(size);
    auto symbolOf = [&](OpFoldResult size) -> StringRef {
      if (auto value = dyn_cast<Value>(size))
        return ctx.importer.getDimSymbol(value);
      return {};
    };
    for (auto it = knownFactors.begin(); it != knownFactors.end();) {
      StringRef symbol = symbolOf(*it);
      auto match = symbol.empty()
                       ? totalFactors.end()
                       : llvm::find_if(totalFactors, [&](OpFoldResult f) {
                           return symbolOf(f) == symbol;
                         });
      if (match == totalFactors.end()) {
        ++it;
        continue;
      }
      totalFactors.erase(match);
      it = knownFactors.erase(it);
    }
    OpFoldResult reducedTotal = b.getIndexAttr(1), known = b.getIndexAttr(1);
    for (OpFoldResult factor : totalFactors)
      reducedTotal = mulIndex(b, loc, reducedTotal, factor);
    for (OpFoldResult factor : knownFactors)
      known = mulIndex(b, loc, known, factor);
    sizes[inferred] = divIndex(b, loc, reducedTotal, known);
  }
  SmallVector<int64_t> shape = getStaticShape(sizes);
  if (!inputType.hasStaticShape() || ShapedType::isDynamicShape(shape)) {
    // Checked at run time by the backend.
  } else if (getNumElements(shape) != inputType.getNumElements()) {
    return ctx.emitError() << "cannot reshape " << inputType << " to "
                           << RankedTensorType::get(shape,
                                                    inputType.getElementType());
  }
  // Constants and shape tensors reshape on the host.
  if (const HostTensor *constant = ctx.getConstantInput(0)) {
    if (!ShapedType::isDynamicShape(shape)) {
      HostTensor result = *constant;
      result.shape = shape;
      ctx.setConstantResult(0, std::move(result));
      return success();
    }
  }
  if (std::optional<SmallVector<OpFoldResult>> elements =
          ctx.getShapeElements(0)) {
    if (!ShapedType::isDynamicShape(shape) &&
        getNumElements(shape) == static_cast<int64_t>(elements->size()) &&
        shape.size() <= 1) {
      ctx.setShapeResult(
          0, *elements,
          RankedTensorType::get(shape, inputType.getElementType()));
      return success();
    }
  }
  ctx.setResult(0, reshapeTo(b, loc, ctx.getInput(0), sizes),
                ctx.isUnsignedInput(0));
  return success();
}

LogicalResult importFlatten(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  int64_t axis = ctx.getIntAttr("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return ctx.emitError() << "axis out of range";
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value input = ctx.getInput(0);
  SmallVector<OpFoldResult> inSizes = getSizes(b, loc, input);
  OpFoldResult outer = b.getIndexAttr(1), inner = b.getIndexAttr(1);
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? outer : inner) =
        mulIndex(b, loc, d < axis ? outer : inner, inSizes[d]);
  ctx.setResult(0, reshapeTo(b, loc, input, {outer, inner}),
                ctx.isUnsignedInput(0));
  return success();
}

LogicalResult importUnsqueeze(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t outRank = type.getRank();
  std::optional<SmallVector<int64_t>> rawAxes = ctx.getIntsAttr("axes");
  if (!rawAxes) {
    FailureOr<SmallVector<int64_t>> values =
        requireConstantInts(ctx, 1, "axes");
    if (failed(values))
      return failure();
    rawAxes = *values;
  }
  outRank += rawAxes->size();
  llvm::SmallDenseSet<int64_t> axes;
  for (int64_t axis : *rawAxes) {
    FailureOr<int64_t> normalized = ctx.normalizeAxis(axis, outRank);
    if (failed(normalized))
      return failure();
    axes.insert(*normalized);
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  // Shape tensors (scalar -> [1]) keep their elements.
  if (std::optional<SmallVector<OpFoldResult>> elements =
          ctx.getShapeElements(0)) {
    if (outRank <= 1) {
      SmallVector<int64_t> shape(outRank, elements->size());
      ctx.setShapeResult(0, *elements,
                         RankedTensorType::get(shape, type.getElementType()));
      return success();
    }
  }
  SmallVector<int64_t> shape;
  SmallVector<ReassociationIndices> groups;
  int64_t in = 0;
  for (int64_t d = 0; d < outRank; ++d) {
    if (axes.contains(d)) {
      shape.push_back(1);
    } else {
      shape.push_back(type.getDimSize(in++));
    }
  }
  if (const HostTensor *constant = ctx.getConstantInput(0)) {
    HostTensor result = *constant;
    result.shape = shape;
    ctx.setConstantResult(0, std::move(result));
    return success();
  }
  // Each input dimension takes the unit dimensions after it (the leading
  // ones go with the first).
  for (int64_t d = 0; d < outRank; ++d) {
    if (!axes.contains(d) || groups.empty())
      groups.emplace_back();
    groups.back().push_back(d);
  }
  if (type.getRank() == 0)
    groups.clear();
  else if (groups.size() > static_cast<size_t>(type.getRank())) {
    // Leading unit dims formed their own group: merge it into the next.
    ReassociationIndices first = groups.front();
    groups.erase(groups.begin());
    groups.front().insert(groups.front().begin(), first.begin(), first.end());
  }
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  Value result = tensor::ExpandShapeOp::create(b, loc, resultType,
                                               ctx.getInput(0), groups);
  ctx.setResult(0, result, ctx.isUnsignedInput(0));
  return success();
}

LogicalResult importSqueeze(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  FailureOr<std::optional<SmallVector<int64_t>>> axes = getAxes(ctx, 1, rank);
  if (failed(axes))
    return failure();
  llvm::SmallDenseSet<int64_t> squeezed;
  if (*axes) {
    for (int64_t axis : **axes) {
      if (!type.isDynamicDim(axis) && type.getDimSize(axis) != 1)
        return ctx.emitError() << "cannot squeeze dimension " << axis
                               << " of size " << type.getDimSize(axis);
      squeezed.insert(axis);
    }
  } else {
    for (int64_t d = 0; d < rank; ++d)
      if (!type.isDynamicDim(d) && type.getDimSize(d) == 1)
        squeezed.insert(d);
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d)
    if (!squeezed.contains(d))
      shape.push_back(type.getDimSize(d));
  if (std::optional<SmallVector<OpFoldResult>> elements =
          ctx.getShapeElements(0)) {
    if (shape.size() <= 1) {
      ctx.setShapeResult(0, *elements,
                         RankedTensorType::get(shape, type.getElementType()));
      return success();
    }
  }
  if (const HostTensor *constant = ctx.getConstantInput(0)) {
    HostTensor result = *constant;
    result.shape = shape;
    ctx.setConstantResult(0, std::move(result));
    return success();
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value input = ctx.getInput(0);
  // Dimensions squeezed by name may be dynamic: they must be 1.
  SmallVector<int64_t> staticInput(type.getShape());
  for (int64_t d : squeezed)
    staticInput[d] = 1;
  auto castType = RankedTensorType::get(staticInput, type.getElementType());
  if (castType != type)
    input = tensor::CastOp::create(b, loc, castType, input);
  // Squeezed dimensions join the group of the kept dimension before them
  // (leading ones, the first kept dimension's).
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  for (int64_t d = 0; d < rank; ++d) {
    if (squeezed.contains(d)) {
      if (groups.empty())
        pending.push_back(d);
      else
        groups.back().push_back(d);
      continue;
    }
    ReassociationIndices group = pending;
    pending.clear();
    group.push_back(d);
    groups.push_back(group);
  }
  if (shape.empty())
    groups.clear();
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  Value result =
      tensor::CollapseShapeOp::create(b, loc, resultType, input, groups);
  ctx.setResult(0, result, ctx.isUnsignedInput(0));
  return success();
}

LogicalResult importTranspose(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  SmallVector<int64_t> perm;
  if (std::optional<SmallVector<int64_t>> attr = ctx.getIntsAttr("perm"))
    perm = *attr;
  else
    for (int64_t d = rank - 1; d >= 0; --d)
      perm.push_back(d);
  if (static_cast<int64_t>(perm.size()) != rank)
    return ctx.emitError() << "perm has " << perm.size()
                           << " entries for a tensor of rank " << rank;
  llvm::SmallDenseSet<int64_t> seen;
  for (int64_t p : perm)
    if (p < 0 || p >= rank || !seen.insert(p).second)
      return ctx.emitError() << "perm is not a permutation";
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  bool fromConstant = ctx.isConstantInput(0);
  Value input = ctx.getInput(0);
  SmallVector<OpFoldResult> inSizes = getSizes(b, loc, input);
  SmallVector<OpFoldResult> outSizes;
  for (int64_t p : perm)
    outSizes.push_back(inSizes[p]);
  Value init = createEmpty(b, loc, outSizes, type.getElementType());
  Value result =
      linalg::TransposeOp::create(b, loc, input, init, perm).getResult()[0];
  ctx.setResult(0, result, ctx.isUnsignedInput(0));
  if (rank == 2 && perm[0] == 1 && fromConstant)
    ctx.setTransposedConstant(0, input);
  return success();
}

LogicalResult importConcat(NodeContext &ctx) {
  unsigned n = ctx.getNumInputs();
  RankedTensorType first = ctx.getInputType(0);
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.getIntAttr("axis", 0), first.getRank());
  if (failed(axis))
    return failure();
  for (unsigned i = 1; i < n; ++i)
    if (ctx.getInputType(i).getElementType() != first.getElementType() ||
        ctx.getInputType(i).getRank() != first.getRank())
      return ctx.emitError() << "inputs differ in element type or rank";
  // Shape tensors concatenate element by element.
  if (first.getRank() == 1) {
    SmallVector<OpFoldResult> all;
    bool tracked = true;
    for (unsigned i = 0; i < n && tracked; ++i) {
      std::optional<SmallVector<OpFoldResult>> elements =
          ctx.getShapeElements(i);
      if (!elements)
        tracked = false;
      else
        all.append(elements->begin(), elements->end());
    }
    if (tracked) {
      ctx.setShapeResult(
          0, all,
          RankedTensorType::get({(int64_t)all.size()}, first.getElementType()));
      return success();
    }
  }
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < n; ++i)
    inputs.push_back(ctx.getInput(i));
  if (n == 1) {
    ctx.setResult(0, inputs[0], ctx.isUnsignedInput(0));
    return success();
  }
  Value result =
      tensor::ConcatOp::create(ctx.getBuilder(), ctx.getLoc(), *axis, inputs);
  ctx.setResult(0, result, ctx.isUnsignedInput(0));
  return success();
}

/// `input` with the order of its elements along `axes` reversed (a gather:
/// element i of an axis of size n reads element n - 1 - i).
Value reverseAxes(OpBuilder &b, Location loc, Value input,
                  ArrayRef<int64_t> axes) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, input);
  // The last index of each reversed axis.
  SmallVector<Value> lastIndex(sizes.size());
  for (int64_t axis : axes)
    lastIndex[axis] = getValueOrCreateConstantIndexOp(
        b, loc, subIndex(b, loc, sizes[axis], b.getIndexAttr(1)));
  return buildGenerated(
      b, loc, sizes, type.getElementType(),
      [&](OpBuilder &nb, Location nl, ArrayRef<Value> indices) -> Value {
        SmallVector<Value> source(indices.begin(), indices.end());
        for (int64_t axis : axes)
          source[axis] =
              arith::SubIOp::create(nb, nl, lastIndex[axis], indices[axis]);
        return tensor::ExtractOp::create(nb, nl, input, source);
      });
}

LogicalResult importSlice(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  // Before opset 10 (Slice-1) starts, ends and axes are attributes, and
  // there are no steps.
  bool attributes = ctx.getOpset() < 10;
  std::optional<SmallVector<OpFoldResult>> starts, ends;
  if (attributes) {
    std::optional<SmallVector<int64_t>> startsAttr = ctx.getIntsAttr("starts");
    std::optional<SmallVector<int64_t>> endsAttr = ctx.getIntsAttr("ends");
    if (!startsAttr || !endsAttr)
      return ctx.emitError()
             << "the starts and ends attributes are required before opset 10";
    starts = getAsIndexOpFoldResult(b.getContext(), *startsAttr);
    ends = getAsIndexOpFoldResult(b.getContext(), *endsAttr);
  } else {
    starts = ctx.getShapeElements(1);
    ends = ctx.getShapeElements(2);
  }
  if (!starts || !ends)
    return ctx.emitError() << "starts and ends must be known at import time "
                              "or computed from shapes";
  SmallVector<int64_t> axes;
  if (attributes) {
    if (std::optional<SmallVector<int64_t>> axesAttr = ctx.getIntsAttr("axes"))
      axes = *axesAttr;
    else
      axes = llvm::to_vector(
          llvm::seq<int64_t>(0, static_cast<int64_t>(starts->size())));
  } else if (ctx.hasInput(3)) {
    FailureOr<SmallVector<int64_t>> values =
        requireConstantInts(ctx, 3, "axes");
    if (failed(values))
      return failure();
    axes = *values;
  } else {
    for (int64_t d = 0; d < static_cast<int64_t>(starts->size()); ++d)
      axes.push_back(d);
  }
  SmallVector<int64_t> steps(axes.size(), 1);
  if (!attributes && ctx.hasInput(4)) {
    FailureOr<SmallVector<int64_t>> values =
        requireConstantInts(ctx, 4, "steps");
    if (failed(values))
      return failure();
    steps = *values;
  }
  if (starts->size() != axes.size() || ends->size() != axes.size() ||
      steps.size() != axes.size())
    return ctx.emitError() << "starts, ends, axes and steps differ in length";

  // Sizes without materializing constant inputs.
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < rank; ++d)
    sizes.push_back(
        type.isDynamicDim(d)
            ? OpFoldResult(
                  tensor::DimOp::create(b, loc, ctx.getInput(0), d).getResult())
            : OpFoldResult(b.getIndexAttr(type.getDimSize(d))));
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  SmallVector<OpFoldResult> outSizes = sizes;
  // Axes sliced with a negative step: sliced forwards, then reversed.
  SmallVector<int64_t> reversedAxes;
  for (auto [k, rawAxis] : llvm::enumerate(axes)) {
    FailureOr<int64_t> axis = ctx.normalizeAxis(rawAxis, rank);
    if (failed(axis))
      return failure();
    if (steps[k] == 0)
      return ctx.emitError() << "step is zero";
    bool backwards = steps[k] < 0;
    int64_t stride = backwards ? -steps[k] : steps[k];
    OpFoldResult dim = sizes[*axis];
    // Negative positions count from the end; then clamp to [0, dim] going
    // forwards, to [-1, dim - 1] going backwards.
    OpFoldResult low = backwards ? b.getIndexAttr(-1) : b.getIndexAttr(0);
    OpFoldResult high =
        backwards ? subIndex(b, loc, dim, b.getIndexAttr(1)) : dim;
    auto normalize = [&](OpFoldResult position) -> OpFoldResult {
      std::optional<int64_t> v = getConstantIntValue(position);
      if (v && *v >= (1LL << 40))
        return high; // INT64_MAX-style "to the end".
      if (v && *v <= -(1LL << 40))
        return low; // INT64_MIN-style "to the beginning".
      if (v && *v < 0)
        position = addIndex(b, loc, dim, position);
      else if (!v) {
        Value p = getValueOrCreateConstantIndexOp(b, loc, position);
        Value d = getValueOrCreateConstantIndexOp(b, loc, dim);
        Value zero = arith::ConstantIndexOp::create(b, loc, 0);
        Value negative =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, p, zero);
        position = arith::SelectOp::create(
                       b, loc, negative, arith::AddIOp::create(b, loc, p, d), p)
                       .getResult();
      }
      return minIndex(b, loc, maxIndex(b, loc, position, low), high);
    };
    OpFoldResult start = normalize((*starts)[k]);
    OpFoldResult end = normalize((*ends)[k]);
    // Going backwards, the elements start, start - s, ... > end are those
    // of the forward slice from start - (length - 1) * s, reversed.
    OpFoldResult length =
        backwards ? maxIndex(b, loc,
                             ceilDivIndex(b, loc, subIndex(b, loc, start, end),
                                          b.getIndexAttr(stride)),
                             b.getIndexAttr(0))
                  : maxIndex(b, loc,
                             ceilDivIndex(b, loc, subIndex(b, loc, end, start),
                                          b.getIndexAttr(stride)),
                             b.getIndexAttr(0));
    OpFoldResult first = start;
    if (backwards) {
      first = subIndex(
          b, loc, start,
          mulIndex(b, loc,
                   maxIndex(b, loc, subIndex(b, loc, length, b.getIndexAttr(1)),
                            b.getIndexAttr(0)),
                   b.getIndexAttr(stride)));
      first = maxIndex(b, loc, first, b.getIndexAttr(0));
      reversedAxes.push_back(*axis);
    }
    // An empty slice reads nothing; its offset must still be in bounds.
    offsets[*axis] =
        isConstantIntValue(length, 0) ? OpFoldResult(b.getIndexAttr(0)) : first;
    outSizes[*axis] = length;
    strides[*axis] = b.getIndexAttr(stride);
  }
  // Slicing a shape tensor picks elements.
  if (rank == 1 && reversedAxes.empty()) {
    std::optional<SmallVector<OpFoldResult>> elements = ctx.getShapeElements(0);
    std::optional<int64_t> start = getConstantIntValue(offsets[0]);
    std::optional<int64_t> length = getConstantIntValue(outSizes[0]);
    std::optional<int64_t> step = getConstantIntValue(strides[0]);
    if (elements && start && length && step) {
      SmallVector<OpFoldResult> picked;
      for (int64_t i = 0; i < *length; ++i)
        picked.push_back((*elements)[*start + i * *step]);
      ctx.setShapeResult(
          0, picked, RankedTensorType::get({*length}, type.getElementType()));
      return success();
    }
  }
  Value result =
      extractSliceOrEmpty(b, loc, ctx.getInput(0), offsets, outSizes, strides);
  if (!reversedAxes.empty())
    result = reverseAxes(b, loc, result, reversedAxes);
  ctx.setResult(0, result, ctx.isUnsignedInput(0));
  return success();
}

LogicalResult importSplit(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getIntAttr("axis", 0), rank);
  if (failed(axis))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value input = ctx.getInput(0);
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, input);
  unsigned n = ctx.getNumOutputs();
  SmallVector<OpFoldResult> parts;
  if (ctx.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> split =
        requireConstantInts(ctx, 1, "split");
    if (failed(split))
      return failure();
    if (split->size() != n)
      return ctx.emitError() << "split has " << split->size() << " entries for "
                             << n << " outputs";
    for (int64_t part : *split)
      parts.push_back(b.getIndexAttr(part));
  } else {
    if (const onnx::AttributeProto *attr = ctx.getAttr("split")) {
      for (int64_t part : attr->ints())
        parts.push_back(b.getIndexAttr(part));
    } else {
      // Equal parts; the last may be smaller (opset 18 num_outputs).
      OpFoldResult part = ceilDivIndex(b, loc, sizes[*axis], b.getIndexAttr(n));
      OpFoldResult used = b.getIndexAttr(0);
      for (unsigned i = 0; i < n; ++i) {
        OpFoldResult size =
            i + 1 == n ? subIndex(b, loc, sizes[*axis], used) : part;
        parts.push_back(size);
        used = addIndex(b, loc, used, size);
      }
    }
  }
  OpFoldResult offset = b.getIndexAttr(0);
  for (unsigned i = 0; i < n; ++i) {
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
    SmallVector<OpFoldResult> partSizes = sizes;
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    // Empty parts read nothing; their offset must still be in bounds.
    offsets[*axis] = isConstantIntValue(parts[i], 0)
                         ? OpFoldResult(b.getIndexAttr(0))
                         : offset;
    partSizes[*axis] = parts[i];
    Value part =
        extractSliceOrEmpty(b, loc, input, offsets, partSizes, strides);
    ctx.setResult(i, part, ctx.isUnsignedInput(0));
    offset = addIndex(b, loc, offset, parts[i]);
  }
  return success();
}

/// Checks that dimension d of `indices` relates to dimension d of `data` by
/// `predicate` (sle or eq) for each d in `dims`, as the gathers that walk
/// both with one loop need: at compile time where both sizes are static,
/// with one run-time check for the rest. `rule` completes "sizes of indices
/// ...".
LogicalResult checkIndexSizes(NodeContext &ctx, Value indices, Value data,
                              ArrayRef<int64_t> dims,
                              arith::CmpIPredicate predicate, StringRef rule) {
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  auto indexType = cast<RankedTensorType>(indices.getType());
  auto dataType = cast<RankedTensorType>(data.getType());
  SmallVector<Value> sizes;
  Value holds = arith::ConstantIntOp::create(b, loc, 1, 1);
  for (int64_t d : dims) {
    int64_t have = indexType.getDimSize(d), limit = dataType.getDimSize(d);
    if (!ShapedType::isDynamic(have) && !ShapedType::isDynamic(limit)) {
      bool ok =
          predicate == arith::CmpIPredicate::eq ? have == limit : have <= limit;
      if (!ok)
        return ctx.emitError() << "sizes of indices " << rule << ": " << have
                               << " vs " << limit << " in dimension " << d;
      continue;
    }
    Value haveValue = tensor::DimOp::create(b, loc, indices, d);
    Value limitValue = tensor::DimOp::create(b, loc, data, d);
    holds = arith::AndIOp::create(
        b, loc, holds,
        arith::CmpIOp::create(b, loc, predicate, haveValue, limitValue));
    sizes.append({haveValue, limitValue});
  }
  if (sizes.empty())
    return success();
  std::string what = "sizes of indices " + rule.str() + " (indices vs data:";
  for (size_t i = 0; i < sizes.size(); i += 2)
    what += (i ? ", {" : " {") + std::to_string(i) + "} vs {" +
            std::to_string(i + 1) + "}";
  emitCheck(ctx, holds, what + ")", sizes);
  return success();
}

LogicalResult importGather(NodeContext &ctx) {
  RankedTensorType dataType = ctx.getInputType(0);
  RankedTensorType indicesType = ctx.getInputType(1);
  int64_t rank = dataType.getRank();
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getIntAttr("axis", 0), rank);
  if (failed(axis))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  // Picking elements of a shape tensor.
  if (rank == 1 && indicesType.getRank() <= 1) {
    std::optional<SmallVector<OpFoldResult>> elements = ctx.getShapeElements(0);
    std::optional<SmallVector<int64_t>> indices =
        getConstantInts(ctx.getConstantInput(1));
    if (elements && indices) {
      SmallVector<OpFoldResult> picked;
      int64_t size = elements->size();
      for (int64_t index : *indices) {
        if (index < -size || index >= size)
          return ctx.emitError() << "index " << index << " is out of range";
        picked.push_back((*elements)[index < 0 ? index + size : index]);
      }
      ctx.setShapeResult(0, picked,
                         RankedTensorType::get(indicesType.getShape(),
                                               dataType.getElementType()));
      return success();
    }
  }
  Value data = ctx.getInput(0);
  Value indices = ctx.getInput(1);
  SmallVector<OpFoldResult> dataSizes = getSizes(b, loc, data);
  SmallVector<OpFoldResult> indexSizes = getSizes(b, loc, indices);
  SmallVector<OpFoldResult> outSizes(dataSizes.begin(),
                                     dataSizes.begin() + *axis);
  outSizes.append(indexSizes);
  outSizes.append(dataSizes.begin() + *axis + 1, dataSizes.end());
  int64_t outRank = outSizes.size();
  int64_t indexRank = indicesType.getRank();
  MLIRContext *context = b.getContext();
  SmallVector<AffineExpr> indexExprs;
  for (int64_t d = 0; d < indexRank; ++d)
    indexExprs.push_back(getAffineDimExpr(*axis + d, context));
  checkIndicesInRange(ctx, indices, dataSizes[*axis]);
  Value init = createEmpty(b, loc, outSizes, dataType.getElementType());
  Value axisSize = getValueOrCreateConstantIndexOp(b, loc, dataSizes[*axis]);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{indices}, ValueRange{init},
      ArrayRef<AffineMap>{AffineMap::get(outRank, 0, indexExprs, context),
                          AffineMap::getMultiDimIdentityMap(outRank, context)},
      SmallVector<utils::IteratorType>(outRank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> at;
        for (int64_t d = 0; d < *axis; ++d)
          at.push_back(linalg::IndexOp::create(nb, nl, d));
        at.push_back(toIndex(nb, nl, args[0], axisSize));
        for (int64_t d = *axis + indexRank; d < outRank; ++d)
          at.push_back(linalg::IndexOp::create(nb, nl, d));
        Value element = tensor::ExtractOp::create(nb, nl, data, at);
        linalg::YieldOp::create(nb, nl, ValueRange{element});
      });
  ctx.setResult(0, generic.getResult(0), ctx.isUnsignedInput(0));
  return success();
}

LogicalResult importGatherElements(NodeContext &ctx) {
  RankedTensorType dataType = ctx.getInputType(0);
  int64_t rank = dataType.getRank();
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getIntAttr("axis", 0), rank);
  if (failed(axis))
    return failure();
  if (ctx.getInputType(1).getRank() != rank)
    return ctx.emitError() << "indices must have the rank of data";
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value data = ctx.getInput(0), indices = ctx.getInput(1);
  Value init =
      createEmpty(b, loc, getSizes(b, loc, indices), dataType.getElementType());
  Value axisSize = tensor::DimOp::create(b, loc, data, *axis);
  checkIndicesInRange(ctx, indices, axisSize);
  // Outside the axis, the output's position is the data's.
  SmallVector<int64_t> others;
  for (int64_t d = 0; d < rank; ++d)
    if (d != *axis)
      others.push_back(d);
  if (failed(checkIndexSizes(ctx, indices, data, others,
                             arith::CmpIPredicate::sle,
                             "must not be larger than the data's outside "
                             "the axis")))
    return failure();
  MLIRContext *context = b.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{indices}, ValueRange{init},
      ArrayRef<AffineMap>{identity, identity},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> at;
        for (int64_t d = 0; d < rank; ++d)
          at.push_back(d == *axis
                           ? toIndex(nb, nl, args[0], axisSize)
                           : linalg::IndexOp::create(nb, nl, d).getResult());
        Value element = tensor::ExtractOp::create(nb, nl, data, at);
        linalg::YieldOp::create(nb, nl, ValueRange{element});
      });
  ctx.setResult(0, generic.getResult(0), ctx.isUnsignedInput(0));
  return success();
}

LogicalResult importGatherND(NodeContext &ctx) {
  RankedTensorType dataType = ctx.getInputType(0);
  RankedTensorType indicesType = ctx.getInputType(1);
  int64_t batchDims = ctx.getIntAttr("batch_dims", 0);
  int64_t indexRank = indicesType.getRank();
  if (indexRank < 1 || indicesType.isDynamicDim(indexRank - 1))
    return ctx.emitError() << "the last dimension of indices must be static";
  int64_t k = indicesType.getDimSize(indexRank - 1);
  if (batchDims < 0 || batchDims >= indexRank ||
      batchDims + k > dataType.getRank())
    return ctx.emitError() << "batch_dims " << batchDims << " and index depth "
                           << k << " do not fit data of rank "
                           << dataType.getRank();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value data = ctx.getInput(0), indices = ctx.getInput(1);
  SmallVector<OpFoldResult> dataSizes = getSizes(b, loc, data);
  SmallVector<OpFoldResult> indexSizes = getSizes(b, loc, indices);
  // Output: indices.shape[:-1] + data.shape[batch_dims + k:].
  SmallVector<OpFoldResult> outSizes(indexSizes.begin(), indexSizes.end() - 1);
  outSizes.append(dataSizes.begin() + batchDims + k, dataSizes.end());
  // The batch dimensions are shared: the output's position is the data's.
  if (failed(checkIndexSizes(ctx, indices, data,
                             llvm::to_vector(llvm::seq<int64_t>(batchDims)),
                             arith::CmpIPredicate::eq,
                             "must equal the data's in the batch "
                             "dimensions")))
    return failure();
  // Index j of each tuple picks along data dimension batch_dims + j.
  for (int64_t j = 0; j < k; ++j) {
    SmallVector<OpFoldResult> offsets(indexRank, b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes(indexSizes);
    SmallVector<OpFoldResult> strides(indexRank, b.getIndexAttr(1));
    offsets.back() = b.getIndexAttr(j);
    sizes.back() = b.getIndexAttr(1);
    Value column = tensor::ExtractSliceOp::create(b, loc, indices, offsets,
                                                  sizes, strides);
    checkIndicesInRange(ctx, column, dataSizes[batchDims + j]);
  }
  Value result = buildGenerated(
      b, loc, outSizes, dataType.getElementType(),
      [&](OpBuilder &nb, Location nl, ArrayRef<Value> loops) -> Value {
        SmallVector<Value> at(loops.begin(), loops.begin() + batchDims);
        for (int64_t j = 0; j < k; ++j) {
          SmallVector<Value> indexAt(loops.begin(),
                                     loops.begin() + indexRank - 1);
          indexAt.push_back(arith::ConstantIndexOp::create(nb, nl, j));
          Value raw = tensor::ExtractOp::create(nb, nl, indices, indexAt);
          Value dim =
              getValueOrCreateConstantIndexOp(nb, nl, dataSizes[batchDims + j]);
          at.push_back(toIndex(nb, nl, raw, dim));
        }
        at.append(loops.begin() + indexRank - 1, loops.end());
        return tensor::ExtractOp::create(nb, nl, data, at);
      });
  ctx.setResult(0, result, ctx.isUnsignedInput(0));
  return success();
}

LogicalResult importExpand(NodeContext &ctx) {
  std::optional<SmallVector<OpFoldResult>> target = ctx.getShapeElements(1);
  if (!target)
    return ctx.emitError() << "the target shape must be known at import time "
                              "or computed from shapes";
  RankedTensorType type = ctx.getInputType(0);
  int64_t inRank = type.getRank();
  int64_t outRank = std::max<int64_t>(inRank, target->size());
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  SmallVector<OpFoldResult> outSizes;
  SmallVector<bool> broadcast(inRank, false);
  for (int64_t d = 0; d < outRank; ++d) {
    int64_t j = d - (outRank - inRank);
    int64_t t = d - (outRank - static_cast<int64_t>(target->size()));
    OpFoldResult want = t >= 0 ? (*target)[t] : OpFoldResult(b.getIndexAttr(1));
    if (j < 0) {
      outSizes.push_back(want);
      continue;
    }
    if (!type.isDynamicDim(j)) {
      int64_t have = type.getDimSize(j);
      if (have == 1) {
        outSizes.push_back(want);
        broadcast[j] = !isConstantIntValue(want, 1);
        continue;
      }
      std::optional<int64_t> w = getConstantIntValue(want);
      if (w && *w != 1 && *w != have)
        return ctx.emitError()
               << "cannot expand dimension of size " << have << " to " << *w;
      outSizes.push_back(b.getIndexAttr(have));
      continue;
    }
    // Dynamic input size: valid broadcasts make the result the larger one.
    OpFoldResult have =
        tensor::DimOp::create(b, loc, ctx.getInput(0), j).getResult();
    outSizes.push_back(
        isConstantIntValue(want, 1) ? have : maxIndex(b, loc, have, want));
  }
  Value input = ctx.getInput(0);
  MLIRContext *context = b.getContext();
  SmallVector<AffineExpr> exprs;
  for (int64_t j = 0; j < inRank; ++j)
    exprs.push_back(broadcast[j]
                        ? getAffineConstantExpr(0, context)
                        : getAffineDimExpr(j + outRank - inRank, context));
  Value init = createEmpty(b, loc, outSizes, type.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{input}, ValueRange{init},
      ArrayRef<AffineMap>{AffineMap::get(outRank, 0, exprs, context),
                          AffineMap::getMultiDimIdentityMap(outRank, context)},
      SmallVector<utils::IteratorType>(outRank, utils::IteratorType::parallel),
      [](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, ValueRange{args[0]});
      });
  ctx.setResult(0, generic.getResult(0), ctx.isUnsignedInput(0));
  return success();
}

LogicalResult importRange(NodeContext &ctx) {
  Type elementType = ctx.getInputType(0).getElementType();
  const HostTensor *start = ctx.getConstantInput(0);
  const HostTensor *limit = ctx.getConstantInput(1);
  const HostTensor *delta = ctx.getConstantInput(2);
  if (start && limit && delta) {
    HostTensor result;
    result.elementType = elementType;
    double s = start->getDouble(0), l = limit->getDouble(0),
           d = delta->getDouble(0);
    if (d == 0)
      return ctx.emitError() << "delta is zero";
    int64_t n =
        std::max<int64_t>(0, static_cast<int64_t>(std::ceil((l - s) / d)));
    if (n > kMaxHostElements)
      return ctx.emitError() << "Range of " << n << " elements is too large";
    result.shape.push_back(n);
    for (int64_t i = 0; i < n; ++i) {
      if (result.isFloat())
        result.floats.push_back(s + i * d);
      else
        result.ints.push_back(start->getInt(0) + i * delta->getInt(0));
    }
    ctx.setConstantResult(0, std::move(result));
    return success();
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    // A run-time float range: the number of elements is computed in f64,
    // as ONNX's reference (numpy.arange) does, the elements in the input's
    // type.
    for (unsigned i = 0; i < 3; ++i)
      if (ctx.getInputType(i).getNumElements() != 1)
        return ctx.emitError() << "operand " << i << " must be a scalar";
    auto scalar = [&](unsigned i) -> Value {
      RankedTensorType type = ctx.getInputType(i);
      SmallVector<Value> zeros(type.getRank(),
                               arith::ConstantIndexOp::create(b, loc, 0));
      return tensor::ExtractOp::create(b, loc, ctx.getInput(i), zeros);
    };
    Value startV = scalar(0), limitV = scalar(1), deltaV = scalar(2);
    Type f64 = b.getF64Type();
    auto toF64 = [&](Value v) -> Value {
      return floatType.getWidth() < 64 ? arith::ExtFOp::create(b, loc, f64, v)
                                       : v;
    };
    Value count = math::CeilOp::create(
        b, loc,
        arith::DivFOp::create(
            b, loc, arith::SubFOp::create(b, loc, toF64(limitV), toF64(startV)),
            toF64(deltaV)));
    // Non-positive counts (and NaN, from a zero delta) give no elements.
    Value zeroF = arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.0));
    Value positive =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, count, zeroF);
    count = arith::SelectOp::create(b, loc, positive, count, zeroF);
    Value size = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        arith::FPToSIOp::create(b, loc, b.getI64Type(), count));
    Value result = buildGenerated(
        b, loc, {OpFoldResult(size)}, elementType,
        [&](OpBuilder &nb, Location nl, ArrayRef<Value> indices) -> Value {
          Value i =
              arith::IndexCastOp::create(nb, nl, nb.getI64Type(), indices[0]);
          Value fi = arith::SIToFPOp::create(nb, nl, elementType, i);
          return arith::AddFOp::create(
              nb, nl, startV, arith::MulFOp::create(nb, nl, fi, deltaV));
        });
    ctx.setResult(0, result);
    return success();
  }
  if (!isa<IntegerType>(elementType))
    return ctx.emitError() << "expects integer or float operands";
  // Integer ranges over a dynamic extent (sequence positions).
  std::optional<SmallVector<OpFoldResult>> s = ctx.getShapeElements(0);
  std::optional<SmallVector<OpFoldResult>> l = ctx.getShapeElements(1);
  std::optional<SmallVector<OpFoldResult>> d = ctx.getShapeElements(2);
  OpFoldResult startValue, limitValue, deltaValue;
  auto scalar = [&](std::optional<SmallVector<OpFoldResult>> &elements,
                    unsigned i) -> OpFoldResult {
    if (elements && elements->size() == 1)
      return (*elements)[0];
    Value v = tensor::ExtractOp::create(b, loc, ctx.getInput(i), ValueRange{});
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v).getResult();
  };
  startValue = scalar(s, 0);
  limitValue = scalar(l, 1);
  deltaValue = scalar(d, 2);
  OpFoldResult size =
      maxIndex(b, loc,
               ceilDivIndex(b, loc, subIndex(b, loc, limitValue, startValue),
                            deltaValue),
               b.getIndexAttr(0));
  Value startV = getValueOrCreateConstantIndexOp(b, loc, startValue);
  Value deltaV = getValueOrCreateConstantIndexOp(b, loc, deltaValue);
  Value result = buildGenerated(
      b, loc, {size}, elementType,
      [&](OpBuilder &nb, Location nl, ArrayRef<Value> indices) -> Value {
        Value v = arith::AddIOp::create(
            nb, nl, startV, arith::MulIOp::create(nb, nl, indices[0], deltaV));
        return arith::IndexCastOp::create(nb, nl, elementType, v);
      });
  ctx.setResult(0, result);
  return success();
}

LogicalResult importTrilu(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  if (rank < 2)
    return ctx.emitError() << "input must have rank >= 2";
  int64_t k = 0;
  if (ctx.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> values = requireConstantInts(ctx, 1, "k");
    if (failed(values))
      return failure();
    k = (*values)[0];
  }
  bool upper = ctx.getIntAttr("upper", 1) != 0;
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value input = ctx.getInput(0);
  Value init =
      createEmpty(b, loc, getSizes(b, loc, input), type.getElementType());
  MLIRContext *context = b.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{input}, ValueRange{init},
      ArrayRef<AffineMap>{identity, identity},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value i = linalg::IndexOp::create(nb, nl, rank - 2);
        Value j = linalg::IndexOp::create(nb, nl, rank - 1);
        Value diff = arith::SubIOp::create(nb, nl, j, i);
        Value kv = arith::ConstantIndexOp::create(nb, nl, k);
        Value keep = arith::CmpIOp::create(nb, nl,
                                           upper ? arith::CmpIPredicate::sge
                                                 : arith::CmpIPredicate::sle,
                                           diff, kv);
        Value zero = scalarConstant(nb, nl, args[0].getType(), 0);
        Value result = arith::SelectOp::create(nb, nl, keep, args[0], zero);
        linalg::YieldOp::create(nb, nl, ValueRange{result});
      });
  ctx.setResult(0, generic.getResult(0), ctx.isUnsignedInput(0));
  return success();
}

/// Tile: out[i] = in[i mod size] along each axis, `repeats` times longer.
LogicalResult importTile(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  FailureOr<SmallVector<int64_t>> repeats =
      requireConstantInts(ctx, 1, "repeats");
  if (failed(repeats))
    return failure();
  if (static_cast<int64_t>(repeats->size()) != rank)
    return ctx.emitError() << "repeats has " << repeats->size()
                           << " values for an input of rank " << rank;
  if (llvm::any_of(*repeats, [](int64_t r) { return r < 0; }))
    return ctx.emitError() << "repeats must not be negative";
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value input = ctx.getInput(0);
  SmallVector<OpFoldResult> inSizes = getSizes(b, loc, input);
  SmallVector<OpFoldResult> outSizes;
  for (int64_t d = 0; d < rank; ++d)
    outSizes.push_back(
        mulIndex(b, loc, inSizes[d], b.getIndexAttr((*repeats)[d])));
  SmallVector<Value> inDims;
  for (OpFoldResult size : inSizes)
    inDims.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
  Value result = buildGenerated(
      b, loc, outSizes, type.getElementType(),
      [&](OpBuilder &nb, Location nl, ArrayRef<Value> indices) -> Value {
        SmallVector<Value> source;
        for (int64_t d = 0; d < rank; ++d)
          source.push_back(
              (*repeats)[d] == 1
                  ? indices[d]
                  : arith::RemUIOp::create(nb, nl, indices[d], inDims[d])
                        .getResult());
        return tensor::ExtractOp::create(nb, nl, input, source);
      });
  ctx.setResult(0, result, ctx.isUnsignedInput(0));
  return success();
}

/// EyeLike: ones on the k-th diagonal of a 2-D tensor shaped like the input.
LogicalResult importEyeLike(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  if (type.getRank() != 2)
    return ctx.emitError() << "input must have rank 2";
  Type elementType = type.getElementType();
  bool isUnsigned = ctx.isUnsignedInput(0);
  if (const onnx::AttributeProto *dtype = ctx.getAttr("dtype")) {
    elementType =
        convertONNXElementType(ctx.getContext(), dtype->i(), isUnsigned);
    if (!elementType)
      return ctx.emitError()
             << "unsupported dtype " << getONNXTypeName(dtype->i());
  }
  int64_t k = ctx.getIntAttr("k", 0);
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value result = buildGenerated(
      b, loc, getSizes(b, loc, ctx.getInput(0)), elementType,
      [&](OpBuilder &nb, Location nl, ArrayRef<Value> indices) -> Value {
        Value diff = arith::SubIOp::create(nb, nl, indices[1], indices[0]);
        Value onDiagonal =
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, diff,
                                  arith::ConstantIndexOp::create(nb, nl, k));
        return arith::SelectOp::create(nb, nl, onDiagonal,
                                       scalarConstant(nb, nl, elementType, 1),
                                       scalarConstant(nb, nl, elementType, 0));
      });
  ctx.setResult(0, result, isUnsigned);
  return success();
}

/// OneHot: a new axis of size `depth` that holds values[1] where its index
/// equals the (negative-wrapped) index, values[0] elsewhere.
LogicalResult importOneHot(NodeContext &ctx) {
  RankedTensorType indicesType = ctx.getInputType(0);
  int64_t rank = indicesType.getRank() + 1;
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getIntAttr("axis", -1), rank);
  if (failed(axis))
    return failure();
  const HostTensor *depthTensor = ctx.getConstantInput(1);
  if (!depthTensor || depthTensor->getNumElements() != 1)
    return ctx.emitError() << "depth must be a constant scalar";
  // Float depths are allowed and truncated.
  int64_t depth = static_cast<int64_t>(depthTensor->getDouble(0));
  if (depth <= 0)
    return ctx.emitError() << "depth must be positive, got " << depth;
  RankedTensorType valuesType = ctx.getInputType(2);
  if (valuesType.getRank() != 1 ||
      (valuesType.hasStaticShape() && valuesType.getDimSize(0) != 2))
    return ctx.emitError() << "values must be a 1-D tensor of 2 elements";
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value indices = ctx.getInput(0);
  Value values = ctx.getInput(2);
  bool indicesUnsigned = ctx.isUnsignedInput(0);
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, indices);
  sizes.insert(sizes.begin() + *axis, b.getIndexAttr(depth));
  Value result = buildGenerated(
      b, loc, sizes, valuesType.getElementType(),
      [&](OpBuilder &nb, Location nl, ArrayRef<Value> idx) -> Value {
        SmallVector<Value> source(idx.begin(), idx.end());
        source.erase(source.begin() + *axis);
        Value index = tensor::ExtractOp::create(nb, nl, indices, source);
        index = convertScalar(nb, nl, index, nb.getI64Type(), indicesUnsigned,
                              false);
        Value depthValue = arith::ConstantIntOp::create(nb, nl, depth, 64);
        Value zero = arith::ConstantIntOp::create(nb, nl, 0, 64);
        Value negative = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::slt, index, zero);
        index = arith::SelectOp::create(
            nb, nl, negative, arith::AddIOp::create(nb, nl, index, depthValue),
            index);
        Value position =
            arith::IndexCastOp::create(nb, nl, nb.getI64Type(), idx[*axis]);
        Value hot = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq,
                                          index, position);
        Value on = tensor::ExtractOp::create(
            nb, nl, values,
            ValueRange{arith::ConstantIndexOp::create(nb, nl, 1)});
        Value off = tensor::ExtractOp::create(
            nb, nl, values,
            ValueRange{arith::ConstantIndexOp::create(nb, nl, 0)});
        return arith::SelectOp::create(nb, nl, hot, on, off);
      });
  ctx.setResult(0, result, ctx.isUnsignedInput(2));
  return success();
}

LogicalResult importCumSum(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  FailureOr<SmallVector<int64_t>> axisValues =
      requireConstantInts(ctx, 1, "axis");
  if (failed(axisValues))
    return failure();
  FailureOr<int64_t> axis = ctx.normalizeAxis((*axisValues)[0], rank);
  if (failed(axis))
    return failure();
  bool exclusive = ctx.getIntAttr("exclusive", 0) != 0;
  bool reverse = ctx.getIntAttr("reverse", 0) != 0;
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value input = ctx.getInput(0);
  Type elementType = type.getElementType();
  // out[..., i, ...] = sum over j of x[..., j, ...] where j precedes i: a
  // reduction over an extra loop j (quadratic in the axis length, which is a
  // sequence of positions here, not a hot path).
  MLIRContext *context = b.getContext();
  SmallVector<AffineExpr> inExprs;
  for (int64_t d = 0; d < rank; ++d)
    inExprs.push_back(getAffineDimExpr(d == *axis ? rank : d, context));
  SmallVector<AffineExpr> outExprs;
  for (int64_t d = 0; d < rank; ++d)
    outExprs.push_back(getAffineDimExpr(d, context));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Value filled = createFilled(b, loc, getSizes(b, loc, input),
                              cast<TypedAttr>(b.getZeroAttr(elementType)));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{filled.getType()}, ValueRange{input},
      ValueRange{filled},
      ArrayRef<AffineMap>{AffineMap::get(rank + 1, 0, inExprs, context),
                          AffineMap::get(rank + 1, 0, outExprs, context)},
      iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value i = linalg::IndexOp::create(nb, nl, *axis);
        Value j = linalg::IndexOp::create(nb, nl, rank);
        arith::CmpIPredicate predicate =
            reverse ? (exclusive ? arith::CmpIPredicate::sgt
                                 : arith::CmpIPredicate::sge)
                    : (exclusive ? arith::CmpIPredicate::slt
                                 : arith::CmpIPredicate::sle);
        Value take = arith::CmpIOp::create(nb, nl, predicate, j, i);
        Value zero = scalarConstant(nb, nl, elementType, 0);
        Value term = arith::SelectOp::create(nb, nl, take, args[0], zero);
        Value sum =
            isa<FloatType>(elementType)
                ? arith::AddFOp::create(nb, nl, args[1], term).getResult()
                : arith::AddIOp::create(nb, nl, args[1], term).getResult();
        linalg::YieldOp::create(nb, nl, ValueRange{sum});
      });
  ctx.setResult(0, generic.getResult(0), ctx.isUnsignedInput(0));
  return success();
}

} // namespace

void onnx_import::registerShapeOps(OpRegistry &r) {
  r["Shape"] = importShape;
  r["Size"] = importSize;
  r["Constant"] = importConstant;
  r["ConstantOfShape"] = importConstantOfShape;
  r["Reshape"] = importReshape;
  r["Flatten"] = importFlatten;
  r["Unsqueeze"] = importUnsqueeze;
  r["Squeeze"] = importSqueeze;
  r["Transpose"] = importTranspose;
  r["Concat"] = importConcat;
  r["Slice"] = importSlice;
  r["Split"] = importSplit;
  r["Gather"] = importGather;
  r["GatherElements"] = importGatherElements;
  r["GatherND"] = importGatherND;
  r["Expand"] = importExpand;
  r["Range"] = importRange;
  r["Trilu"] = importTrilu;
  r["Tile"] = importTile;
  r["EyeLike"] = importEyeLike;
  r["OneHot"] = importOneHot;
  r["CumSum"] = importCumSum;
}
