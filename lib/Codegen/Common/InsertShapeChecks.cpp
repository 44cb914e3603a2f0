//===- InsertShapeChecks.cpp - run-time checks of dynamic shape contracts -===//
//
// Linalg and tensor ops state contracts between their operands' sizes that
// the verifier can only check where the sizes are static: operands indexed
// by the same loop have the same extent, a window stays inside its input, a
// reshape keeps the element count. With dynamic sizes a model compiled once
// runs at shapes nobody checked, and a broken contract reads or writes out of
// bounds. This pass states each contract that involves a dynamic size as a
// `qopt.check` before the op.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/Common/Passes.h"
#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_INSERTSHAPECHECKS
#include "qopt/Codegen/Common/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// Collects the conditions of one op's contract and writes them as one
/// `qopt.check` whose message names the ONNX node (from the op's location)
/// and shows the sizes involved.
class CheckBuilder {
public:
  explicit CheckBuilder(Operation *op) : op(op), b(op), loc(op->getLoc()) {}

  OpBuilder &builder() { return b; }

  /// `a == b`, unless both are static (the verifier checked those).
  void requireEqual(OpFoldResult lhs, OpFoldResult rhs) {
    if (isConstantIntValue(lhs, 0) && isConstantIntValue(rhs, 0))
      return;
    std::optional<int64_t> l = getConstantIntValue(lhs);
    std::optional<int64_t> r = getConstantIntValue(rhs);
    if (l && r)
      return;
    require(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, value(lhs),
                                  value(rhs)));
  }

  /// `lhs < rhs` (signed), unless both are static.
  void requireLess(OpFoldResult lhs, OpFoldResult rhs, Value orElse = nullptr) {
    std::optional<int64_t> l = getConstantIntValue(lhs);
    std::optional<int64_t> r = getConstantIntValue(rhs);
    if (l && r)
      return;
    Value cond = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                       value(lhs), value(rhs));
    if (orElse)
      cond = arith::OrIOp::create(b, loc, cond, orElse);
    require(cond);
  }

  void require(Value cond) { conditions.push_back(cond); }

  bool empty() const { return conditions.empty(); }

  /// "[{0}, 4]" for the sizes of `tensor`; its dynamic sizes become values
  /// of the message.
  std::string shape(Value tensor) {
    auto type = cast<ShapedType>(tensor.getType());
    std::string text = "[";
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (d)
        text += ", ";
      if (!type.isDynamicDim(d)) {
        text += std::to_string(type.getDimSize(d));
        continue;
      }
      text += placeholder(tensor::DimOp::create(b, loc, tensor, d));
    }
    return text + "]";
  }

  /// "{N}" for a new message value.
  std::string placeholder(Value value) {
    values.push_back(value);
    return "{" + std::to_string(values.size() - 1) + "}";
  }

  /// "{N}" for a dynamic size, the number for a static one.
  std::string size(OpFoldResult size) {
    if (std::optional<int64_t> v = getConstantIntValue(size))
      return std::to_string(*v);
    return placeholder(cast<Value>(size));
  }

  /// Writes the check with `what` after the node's name.
  void emit(const Twine &what) {
    if (conditions.empty())
      return;
    Value all = conditions.front();
    for (Value cond : ArrayRef(conditions).drop_front())
      all = arith::AndIOp::create(b, loc, all, cond);
    qopt::CheckOp::create(b, loc, all,
                          b.getStringAttr(describe() + ": " + what), values);
  }

private:
  Value value(OpFoldResult ofr) {
    return getValueOrCreateConstantIndexOp(b, loc, ofr);
  }

  /// "node 'name'" from the importer's NameLoc, else the op's name.
  std::string describe() {
    Location at = loc;
    if (auto fused = dyn_cast<FusedLoc>(at))
      for (Location inner : fused.getLocations())
        if (isa<NameLoc>(inner)) {
          at = inner;
          break;
        }
    if (auto name = dyn_cast<NameLoc>(at))
      return "node '" + name.getName().str() + "'";
    return "'" + op->getName().getStringRef().str() + "'";
  }

  Operation *op;
  OpBuilder b;
  Location loc;
  SmallVector<Value> conditions;
  SmallVector<Value> values;
};

/// The product of `sizes`, folded where they are constant.
OpFoldResult product(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes) {
  OpFoldResult result = b.getIndexAttr(1);
  for (OpFoldResult size : sizes)
    result = affine::makeComposedFoldedAffineApply(
        b, loc, b.getAffineDimExpr(0) * b.getAffineDimExpr(1), {result, size});
  return result;
}

/// Emits "cannot reshape [from] to [to]: the element counts differ".
void emitReshapeCheck(CheckBuilder &check, Value source,
                      ArrayRef<OpFoldResult> to) {
  if (check.empty())
    return;
  std::string target = "[";
  for (auto [j, size] : llvm::enumerate(to))
    target += (j ? ", " : "") + check.size(size);
  check.emit("cannot reshape " + check.shape(source) + " to " + target +
             "]: the element counts differ");
}

/// Whether `expr` never decreases when a dimension grows, so that its value
/// at the loops' last iterations is its maximum.
bool isMonotone(AffineExpr expr) {
  switch (expr.getKind()) {
  case AffineExprKind::Constant:
  case AffineExprKind::DimId:
    return true;
  case AffineExprKind::Add: {
    auto bin = cast<AffineBinaryOpExpr>(expr);
    return isMonotone(bin.getLHS()) && isMonotone(bin.getRHS());
  }
  case AffineExprKind::Mul:
  case AffineExprKind::FloorDiv:
  case AffineExprKind::CeilDiv: {
    auto bin = cast<AffineBinaryOpExpr>(expr);
    auto factor = dyn_cast<AffineConstantExpr>(bin.getRHS());
    bool positive =
        factor &&
        (factor.getValue() > 0 ||
         (expr.getKind() == AffineExprKind::Mul && factor.getValue() == 0));
    return positive && isMonotone(bin.getLHS());
  }
  default:
    return false;
  }
}

/// Operands read or written through the same loop have its extent; a
/// compound index (a convolution's window, a broadcast 0) stays inside its
/// operand whenever the op runs at all.
void checkLinalg(linalg::LinalgOp op) {
  CheckBuilder check(op);
  OpBuilder &b = check.builder();
  Location loc = op.getLoc();
  int64_t numLoops = op.getNumLoops();
  SmallVector<std::optional<OpFoldResult>> loopSizes(numLoops);
  SmallVector<OpOperand *> shaped;
  for (OpOperand &operand : op->getOpOperands())
    if (isa<RankedTensorType>(operand.get().getType()))
      shaped.push_back(&operand);
  // Only ops on tensors: after bufferization the contracts were checked.
  if (shaped.empty())
    return;
  for (OpOperand *operand : shaped) {
    AffineMap map = op.getMatchingIndexingMap(operand);
    for (auto [d, expr] : llvm::enumerate(map.getResults())) {
      auto dim = dyn_cast<AffineDimExpr>(expr);
      if (!dim)
        continue;
      OpFoldResult size = tensor::getMixedSize(b, loc, operand->get(), d);
      std::optional<OpFoldResult> &loop = loopSizes[dim.getPosition()];
      if (!loop)
        loop = size;
      else
        check.requireEqual(*loop, size);
    }
  }
  if (llvm::any_of(loopSizes, [](auto &s) { return !s.has_value(); }))
    return;

  // An op with an empty loop reads nothing.
  Value anyEmpty;
  auto getAnyEmpty = [&]() {
    if (anyEmpty)
      return anyEmpty;
    anyEmpty = arith::ConstantIntOp::create(b, loc, 0, 1);
    for (std::optional<OpFoldResult> &size : loopSizes) {
      std::optional<int64_t> v = getConstantIntValue(*size);
      if (v && *v != 0)
        continue;
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      Value empty = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::eq,
          getValueOrCreateConstantIndexOp(b, loc, *size), zero);
      anyEmpty = arith::OrIOp::create(b, loc, anyEmpty, empty);
    }
    return anyEmpty;
  };
  SmallVector<OpFoldResult> lastIterations;
  for (std::optional<OpFoldResult> &size : loopSizes)
    lastIterations.push_back(affine::makeComposedFoldedAffineApply(
        b, loc, b.getAffineDimExpr(0) - 1, {*size}));
  for (OpOperand *operand : shaped) {
    AffineMap map = op.getMatchingIndexingMap(operand);
    for (auto [d, expr] : llvm::enumerate(map.getResults())) {
      if (isa<AffineDimExpr>(expr) || !isMonotone(expr))
        continue;
      OpFoldResult size = tensor::getMixedSize(b, loc, operand->get(), d);
      OpFoldResult last = affine::makeComposedFoldedAffineApply(
          b, loc, AffineMap::get(numLoops, 0, expr), lastIterations);
      std::optional<int64_t> l = getConstantIntValue(last);
      std::optional<int64_t> s = getConstantIntValue(size);
      if (l && s && *l < *s)
        continue;
      check.requireLess(last, size, getAnyEmpty());
    }
  }
  if (check.empty())
    return;
  std::string shapes;
  for (auto [i, operand] : llvm::enumerate(op.getDpsInputOperands()))
    shapes += (i ? " and " : "") + check.shape(operand->get());
  if (op.getNumDpsInputs() == 0)
    shapes = check.shape(op.getDpsInitOperand(0)->get());
  check.emit("operands of shapes " + shapes +
             " do not fit together: a dynamic size differs from the size "
             "the compiled code assumed (broadcasting a dynamic size that "
             "is 1 at run time is not supported)");
}

/// Each group of the result multiplies out to its source dimension.
void checkExpandShape(tensor::ExpandShapeOp op) {
  CheckBuilder check(op);
  OpBuilder &b = check.builder();
  Location loc = op.getLoc();
  SmallVector<OpFoldResult> outSizes = op.getMixedOutputShape();
  for (auto [d, group] : llvm::enumerate(op.getReassociationIndices())) {
    SmallVector<OpFoldResult> groupSizes;
    for (int64_t j : group)
      groupSizes.push_back(outSizes[j]);
    check.requireEqual(product(b, loc, groupSizes),
                       tensor::getMixedSize(b, loc, op.getSrc(), d));
  }
  emitReshapeCheck(check, op.getSrc(), outSizes);
}

/// The source and the new shape have the same number of elements.
void checkReshape(tensor::ReshapeOp op) {
  auto shapeType = dyn_cast<RankedTensorType>(op.getShape().getType());
  auto resultType = dyn_cast<RankedTensorType>(op.getResult().getType());
  if (!shapeType || !resultType || !shapeType.hasStaticShape())
    return;
  CheckBuilder check(op);
  OpBuilder &b = check.builder();
  Location loc = op.getLoc();
  SmallVector<OpFoldResult> outSizes;
  for (int64_t d = 0; d < resultType.getRank(); ++d) {
    if (!resultType.isDynamicDim(d)) {
      outSizes.push_back(b.getIndexAttr(resultType.getDimSize(d)));
      continue;
    }
    Value at = arith::ConstantIndexOp::create(b, loc, d);
    Value size = tensor::ExtractOp::create(b, loc, op.getShape(), at);
    if (!size.getType().isIndex())
      size = arith::IndexCastOp::create(b, loc, b.getIndexType(), size);
    outSizes.push_back(size);
  }
  check.requireEqual(
      product(b, loc, tensor::getMixedSizes(b, loc, op.getSource())),
      product(b, loc, outSizes));
  emitReshapeCheck(check, op.getSource(), outSizes);
}

/// A dynamic size cast to a static one has that size.
void checkCast(tensor::CastOp op) {
  auto from = dyn_cast<RankedTensorType>(op.getSource().getType());
  auto to = dyn_cast<RankedTensorType>(op.getType());
  if (!from || !to)
    return;
  CheckBuilder check(op);
  OpBuilder &b = check.builder();
  for (int64_t d = 0; d < to.getRank(); ++d)
    if (from.isDynamicDim(d) && !to.isDynamicDim(d))
      check.requireEqual(
          tensor::getMixedSize(b, op.getLoc(), op.getSource(), d),
          b.getIndexAttr(to.getDimSize(d)));
  std::string assumed = "[";
  for (int64_t d = 0; d < to.getRank(); ++d)
    assumed += (d ? ", " : "") + (to.isDynamicDim(d)
                                      ? std::string("?")
                                      : std::to_string(to.getDimSize(d)));
  check.emit("shape " + check.shape(op.getSource()) + " is not the shape " +
             assumed +
             "] the compiled code assumed (broadcasting a dynamic size that "
             "is 1 at run time is not supported)");
}

/// Inputs of a concatenation agree outside the concatenated dimension.
void checkConcat(tensor::ConcatOp op) {
  CheckBuilder check(op);
  OpBuilder &b = check.builder();
  Location loc = op.getLoc();
  int64_t axis = op.getDim();
  Value first = op.getInputs().front();
  int64_t rank = cast<RankedTensorType>(first.getType()).getRank();
  for (Value input : op.getInputs().drop_front())
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        check.requireEqual(tensor::getMixedSize(b, loc, first, d),
                           tensor::getMixedSize(b, loc, input, d));
  if (check.empty())
    return;
  std::string shapes;
  for (auto [i, input] : llvm::enumerate(op.getInputs()))
    shapes += (i ? ", " : "") + check.shape(input);
  check.emit("cannot concatenate " + shapes + " along dimension " +
             Twine(axis) + ": other dimensions differ");
}

/// A slice stays inside its source (or, for insert_slice, its destination).
void checkSlice(Operation *op, Value whole,
                OffsetSizeAndStrideOpInterface slice) {
  CheckBuilder check(op);
  OpBuilder &b = check.builder();
  Location loc = op->getLoc();
  SmallVector<OpFoldResult> offsets = slice.getMixedOffsets();
  SmallVector<OpFoldResult> sizes = slice.getMixedSizes();
  SmallVector<OpFoldResult> strides = slice.getMixedStrides();
  auto wholeType = cast<RankedTensorType>(whole.getType());
  if (static_cast<int64_t>(offsets.size()) != wholeType.getRank())
    return;
  AffineExpr o = b.getAffineDimExpr(0), s = b.getAffineDimExpr(1),
             t = b.getAffineDimExpr(2);
  for (int64_t d = 0; d < wholeType.getRank(); ++d) {
    OpFoldResult last = affine::makeComposedFoldedAffineApply(
        b, loc, o + (s - 1) * t, {offsets[d], sizes[d], strides[d]});
    OpFoldResult extent = tensor::getMixedSize(b, loc, whole, d);
    std::optional<int64_t> l = getConstantIntValue(last);
    std::optional<int64_t> e = getConstantIntValue(extent);
    std::optional<int64_t> off = getConstantIntValue(offsets[d]);
    if (l && e && off && *l < *e && *off >= 0)
      continue;
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value empty = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        getValueOrCreateConstantIndexOp(b, loc, sizes[d]), zero);
    Value offsetOk = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::sge,
        getValueOrCreateConstantIndexOp(b, loc, offsets[d]), zero);
    Value lastOk =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                              getValueOrCreateConstantIndexOp(b, loc, last),
                              getValueOrCreateConstantIndexOp(b, loc, extent));
    check.require(arith::OrIOp::create(
        b, loc, empty, arith::AndIOp::create(b, loc, offsetOk, lastOk)));
  }
  if (check.empty())
    return;
  std::string where = "[";
  for (int64_t d = 0; d < wholeType.getRank(); ++d)
    where +=
        (d ? ", " : "") + check.size(offsets[d]) + ":+" + check.size(sizes[d]);
  check.emit("slice " + where + "] is out of bounds of " + check.shape(whole));
}

/// An element read outside any loop body (shape arithmetic) is in bounds.
void checkExtract(tensor::ExtractOp op) {
  CheckBuilder check(op);
  OpBuilder &b = check.builder();
  Location loc = op.getLoc();
  std::string at;
  for (auto [d, index] : llvm::enumerate(op.getIndices())) {
    OpFoldResult extent =
        tensor::getMixedSize(b, loc, op.getTensor(), static_cast<int64_t>(d));
    std::optional<int64_t> i = getConstantIntValue(index);
    std::optional<int64_t> e = getConstantIntValue(extent);
    if (i && e && *i >= 0 && *i < *e)
      continue;
    // Unsigned: a negative index is out of range too.
    check.require(
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, index,
                              getValueOrCreateConstantIndexOp(b, loc, extent)));
  }
  if (check.empty())
    return;
  for (auto [d, index] : llvm::enumerate(op.getIndices()))
    at += (d ? ", " : "") + check.placeholder(index);
  check.emit("index [" + at + "] is out of bounds of " +
             check.shape(op.getTensor()));
}

struct InsertShapeChecksPass
    : public qopt::impl::InsertShapeChecksBase<InsertShapeChecksPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      // Reads inside loop bodies depend on the data; the importer checks
      // gathers' indices up front.
      if (op->getParentOfType<linalg::LinalgOp>())
        return;
      ops.push_back(op);
    });
    for (Operation *op : ops) {
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
        checkLinalg(linalgOp);
      else if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
        checkExpandShape(expand);
      else if (auto reshape = dyn_cast<tensor::ReshapeOp>(op))
        checkReshape(reshape);
      else if (auto castOp = dyn_cast<tensor::CastOp>(op))
        checkCast(castOp);
      else if (auto concat = dyn_cast<tensor::ConcatOp>(op))
        checkConcat(concat);
      else if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op))
        checkSlice(op, slice.getSource(), slice);
      else if (auto slice = dyn_cast<tensor::InsertSliceOp>(op))
        checkSlice(op, slice.getDest(), slice);
      else if (auto extract = dyn_cast<tensor::ExtractOp>(op))
        checkExtract(extract);
    }
  }
};
} // namespace
