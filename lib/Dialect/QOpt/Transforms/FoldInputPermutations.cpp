//===- FoldInputPermutations.cpp - qopt.permute into its producer --------===//
//
// GPTQ with permuted groups stores a layer's input channels in act-order and
// permutes the layer's input to match (qopt.permute). Permuting channels
// commutes with everything that treats channels independently, so the
// permutation can move backwards through elementwise ops until it reaches
// an op that produces channels independently: a linear layer, whose output
// channels are rows of its weight. There it costs nothing: the rows are
// stored in the new order at compile time. The walk follows the def-use
// graph, never names, and gives up (keeping the op, with a remark) as soon
// as a value on the way is also read in its original order.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"
#include "qopt/Dialect/QOpt/Utils/LinearLayers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <cstring>
#include <queue>

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_FOLDINPUTPERMUTATIONS
#include "qopt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// Bytes per element of a dense constant's storage (DenseElementsAttr keeps
/// sub-byte integers in whole bytes; i1 is bit-packed and not handled).
std::optional<int64_t> storageBytes(Type elementType) {
  if (elementType.isIndex())
    return 8;
  if (!elementType.isIntOrFloat())
    return std::nullopt;
  unsigned bits = elementType.getIntOrFloatBitWidth();
  if (bits <= 1)
    return std::nullopt;
  return (bits + 7) / 8;
}

/// The raw bytes of a constant, whether `dense` or a `dense_resource` whose
/// blob is loaded; nothing for a splat (nothing to move) or another form.
std::optional<ArrayRef<char>> rawBytes(ElementsAttr attr) {
  std::optional<int64_t> width =
      storageBytes(attr.getShapedType().getElementType());
  if (!width)
    return std::nullopt;
  int64_t size = attr.getShapedType().getNumElements() * *width;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (dense.isSplat())
      return std::nullopt;
    ArrayRef<char> data = dense.getRawData();
    if (static_cast<int64_t>(data.size()) != size)
      return std::nullopt;
    return data;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || static_cast<int64_t>(blob->getData().size()) != size)
      return std::nullopt;
    return blob->getData();
  }
  return std::nullopt;
}

/// Whether `value` is a constant whose channels this pass can move.
bool isPermutableConstant(Value value) {
  ElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return false;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr); dense && dense.isSplat())
    return true;
  return rawBytes(attr).has_value();
}

/// `attr` with `out[..., j, ...] = in[..., p[j], ...]` along `dim`; a splat
/// is returned as it is. The copy has the original's form.
ElementsAttr permuteAlong(ElementsAttr attr, int64_t dim, ArrayRef<int64_t> p) {
  if (auto dense = dyn_cast<DenseElementsAttr>(attr); dense && dense.isSplat())
    return attr;
  ShapedType type = attr.getShapedType();
  ArrayRef<char> in = *rawBytes(attr);
  int64_t width = *storageBytes(type.getElementType());
  ArrayRef<int64_t> shape = type.getShape();
  int64_t outer = 1, inner = width;
  for (int64_t d = 0; d < dim; ++d)
    outer *= shape[d];
  for (int64_t d = dim + 1, e = shape.size(); d < e; ++d)
    inner *= shape[d];
  int64_t size = shape[dim];
  std::vector<char> out(in.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < size; ++j)
      std::memcpy(&out[(o * size + j) * inner], &in[(o * size + p[j]) * inner],
                  inner);
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    std::string name = (resource.getRawHandle().getKey() + ".permuted").str();
    return DenseResourceElementsAttr::get(
        type, name,
        HeapAsmResourceBlob::allocateAndCopyWithAlign(out, /*align=*/64));
  }
  return DenseElementsAttr::getFromRawBuffer(type, out);
}

//===----------------------------------------------------------------------===//
// Planning
//===----------------------------------------------------------------------===//

/// An op for a diagnostic: its name, and the layer name of its location.
std::string describe(Operation *op) {
  std::string text = "'" + op->getName().getStringRef().str() + "'";
  StringRef name = getLayerName(op->getLoc());
  if (!name.empty())
    text += " ('" + name.str() + "')";
  return text;
}

/// Everything a fold rewrites.
struct Plan {
  /// Constant operands replaced by their copy permuted along `dim`.
  SmallVector<std::pair<OpOperand *, int64_t>> edits;
  /// Constant values whose every use reads them along the channel: replaced
  /// by their permuted copy.
  SmallVector<Value> constants;
  /// Why not, when the fold is impossible.
  std::string why;
};

/// Plans the fold of `root`: the values whose producers must yield permuted
/// channels, starting at its input. Values are visited latest first (in the
/// block's order), so that when one is visited every op after it that takes
/// part in the fold has been visited already, and its uses can be checked
/// at once.
Plan planFold(PermuteOp root) {
  Plan plan;
  Block *block = root->getBlock();
  // The uses that read a value along the channel in the permuted world.
  llvm::DenseSet<OpOperand *> carrying = {&root->getOpOperand(0)};
  auto later = [](Value a, Value b) {
    return a.getDefiningOp()->isBeforeInBlock(b.getDefiningOp());
  };
  std::priority_queue<Value, std::vector<Value>, decltype(later)> queue(later);
  llvm::DenseSet<Value> queued;
  auto fail = [&](const Twine &why) {
    plan.why = why.str();
    return plan;
  };
  // Queues `operand`'s value (read along the channel at its innermost
  // dimension).
  auto follow = [&](OpOperand &operand) -> bool {
    Value value = operand.get();
    Operation *def = value.getDefiningOp();
    if (!def || def->getBlock() != block)
      return false;
    carrying.insert(&operand);
    if (queued.insert(value).second)
      queue.push(value);
    return true;
  };

  Value start = root.getInput();
  if (!start.getDefiningOp())
    return fail("the input is a block argument");
  if (start.getDefiningOp()->getBlock() != block)
    return fail("the input comes from another block");
  queued.insert(start);
  queue.push(start);
  while (!queue.empty()) {
    Value value = queue.top();
    queue.pop();
    Operation *def = value.getDefiningOp();
    for (OpOperand &use : value.getUses())
      if (!carrying.contains(&use) && !isa<tensor::DimOp>(use.getOwner()))
        return fail("the output of " + describe(def) +
                    " is also read in the original order by " +
                    describe(use.getOwner()));

    // A constant: permute it wholesale.
    if (matchPattern(value, m_Constant())) {
      if (!isPermutableConstant(value))
        return fail("the constant " + describe(def) + " cannot be permuted");
      plan.constants.push_back(value);
      continue;
    }

    // A linear layer: its output channels are rows of its constants.
    auto rows = [&](ArrayRef<std::pair<OpOperand *, int64_t>> operands)
        -> std::optional<Plan> {
      for (auto [operand, dim] : operands) {
        if (!isPermutableConstant(operand->get()))
          return fail("the output channels of " + describe(def) +
                      " come from a non-constant operand #" +
                      Twine(operand->getOperandNumber()));
        plan.edits.push_back({operand, dim});
      }
      return std::nullopt;
    };
    auto perChannel = [](Value v) {
      return v && cast<RankedTensorType>(v.getType()).getRank() >= 1;
    };
    if (auto linear = dyn_cast<LinearOp>(def)) {
      SmallVector<std::pair<OpOperand *, int64_t>> operands = {
          {&linear.getWeightMutable(), linear.getTransposeWeight() ? 0 : 1}};
      if (linear.getBias())
        operands.push_back({&linear.getBiasMutable()[0], 0});
      if (std::optional<Plan> failed = rows(operands))
        return *failed;
      continue;
    }
    if (auto linear = dyn_cast<WeightOnlyLinearOp>(def)) {
      SmallVector<std::pair<OpOperand *, int64_t>> operands = {
          {&linear.getWeightMutable(), 0}};
      if (perChannel(linear.getScale()))
        operands.push_back({&linear.getScaleMutable(), 0});
      if (perChannel(linear.getZeroPoint()))
        operands.push_back({&linear.getZeroPointMutable()[0], 0});
      if (linear.getBias())
        operands.push_back({&linear.getBiasMutable()[0], 0});
      if (std::optional<Plan> failed = rows(operands))
        return *failed;
      continue;
    }
    if (auto linear = dyn_cast<QuantizedLinearOp>(def)) {
      SmallVector<std::pair<OpOperand *, int64_t>> operands = {
          {&linear.getWeightMutable(), 0}};
      if (perChannel(linear.getWeightScale()))
        operands.push_back({&linear.getWeightScaleMutable(), 0});
      if (perChannel(linear.getWeightZeroPoint()))
        operands.push_back({&linear.getWeightZeroPointMutable()[0], 0});
      if (linear.getBias())
        operands.push_back({&linear.getBiasMutable()[0], 0});
      if (std::optional<Plan> failed = rows(operands))
        return *failed;
      continue;
    }

    // A cast only changes what the type says about the sizes.
    if (isa<tensor::CastOp>(def)) {
      if (!follow(def->getOpOperand(0)))
        return fail("the input of " + describe(def) +
                    " is a block argument or comes from another block");
      continue;
    }

    // A reshape that keeps the innermost dimension.
    if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(def)) {
      SmallVector<ReassociationIndices> groups =
          isa<tensor::CollapseShapeOp>(def)
              ? cast<tensor::CollapseShapeOp>(def).getReassociationIndices()
              : cast<tensor::ExpandShapeOp>(def).getReassociationIndices();
      if (groups.empty() || groups.back().size() != 1)
        return fail(describe(def) + " changes the innermost dimension");
      if (!follow(def->getOpOperand(0)))
        return fail("the input of " + describe(def) +
                    " is a block argument or comes from another block");
      continue;
    }

    // An elementwise generic: transparent when every input read along the
    // channel loop can be permuted too.
    auto generic = dyn_cast<linalg::GenericOp>(def);
    if (!generic)
      return fail("the producer " + describe(def) +
                  " is not a linear layer or an elementwise op");
    if (generic->getNumResults() != 1 ||
        generic.getNumParallelLoops() != generic.getNumLoops())
      return fail("the producer " + describe(def) +
                  " is not elementwise (a reduction or several results)");
    Block *body = generic.getBody();
    if (!body->getArgument(generic.getNumDpsInputs()).use_empty() ||
        !body->getOps<linalg::IndexOp>().empty())
      return fail("the producer " + describe(def) +
                  " reads its output or its loop indices");
    AffineMap outMap =
        generic.getMatchingIndexingMap(generic.getDpsInitOperand(0));
    auto channelExpr = outMap.getNumResults()
                           ? dyn_cast<AffineDimExpr>(outMap.getResults().back())
                           : nullptr;
    if (!channelExpr || !outMap.isProjectedPermutation())
      return fail("the producer " + describe(def) +
                  " does not map its innermost dimension to one loop");
    unsigned channel = channelExpr.getPosition();
    for (OpOperand *operand : generic.getDpsInputOperands()) {
      AffineMap map = generic.getMatchingIndexingMap(operand);
      SmallVector<int64_t> positions;
      for (auto [position, expr] : llvm::enumerate(map.getResults())) {
        if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
          if (dim.getPosition() == channel)
            positions.push_back(position);
        } else if (expr.isFunctionOfDim(channel)) {
          return fail("operand #" + Twine(operand->getOperandNumber()) +
                      " of " + describe(def) +
                      " is read at a computed channel index");
        }
      }
      if (positions.empty())
        continue; // Broadcast along the channels: the same for all.
      if (positions.size() > 1)
        return fail("operand #" + Twine(operand->getOperandNumber()) + " of " +
                    describe(def) + " is read along the channels twice");
      if (isPermutableConstant(operand->get())) {
        plan.edits.push_back({operand, positions.front()});
        continue;
      }
      auto type = cast<RankedTensorType>(operand->get().getType());
      if (positions.front() != type.getRank() - 1)
        return fail("operand #" + Twine(operand->getOperandNumber()) + " of " +
                    describe(def) +
                    " carries the channels in another dimension");
      if (!follow(*operand))
        return fail("operand #" + Twine(operand->getOperandNumber()) + " of " +
                    describe(def) +
                    " is a block argument or comes from another block");
    }
  }
  return plan;
}

/// Rewrites the IR as `plan` says and removes `root`.
void applyFold(PermuteOp root, const Plan &plan) {
  ArrayRef<int64_t> p = root.getPermutation();
  // Constants may be shared (CSE merges equal ones): each old one is
  // erased once, when nothing reads it any more.
  llvm::SetVector<Operation *> oldConstants;
  for (auto [operand, dim] : plan.edits) {
    Value old = operand->get();
    ElementsAttr attr;
    matchPattern(old, m_Constant(&attr));
    ElementsAttr permuted = permuteAlong(attr, dim, p);
    if (permuted == attr)
      continue; // A splat.
    OpBuilder b(operand->getOwner());
    operand->set(
        arith::ConstantOp::create(b, old.getLoc(), cast<TypedAttr>(permuted)));
    oldConstants.insert(old.getDefiningOp());
  }
  for (Value value : plan.constants) {
    ElementsAttr attr;
    matchPattern(value, m_Constant(&attr));
    int64_t dim = attr.getShapedType().getRank() - 1;
    ElementsAttr permuted = permuteAlong(attr, dim, p);
    if (permuted == attr)
      continue;
    OpBuilder b(value.getDefiningOp());
    Value replacement =
        arith::ConstantOp::create(b, value.getLoc(), cast<TypedAttr>(permuted));
    value.replaceAllUsesWith(replacement);
    oldConstants.insert(value.getDefiningOp());
  }
  root.getResult().replaceAllUsesWith(root.getInput());
  root->erase();
  for (Operation *op : oldConstants)
    if (op && op->use_empty())
      op->erase();
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct FoldInputPermutationsPass
    : public qopt::impl::FoldInputPermutationsBase<FoldInputPermutationsPass> {
  using Base::Base;

  void runOnOperation() override;
};

void FoldInputPermutationsPass::runOnOperation() {
  // Identical permutations of one value (q, k and v behind one norm): one
  // op, so that they fold or stay together.
  SmallVector<PermuteOp> roots;
  llvm::MapVector<std::pair<Value, ArrayRef<int64_t>>, PermuteOp> unique;
  getOperation()->walk([&](PermuteOp op) {
    auto [it, inserted] =
        unique.try_emplace({op.getInput(), op.getPermutation()}, op);
    if (inserted) {
      roots.push_back(op);
      return;
    }
    PermuteOp first = it->second;
    // Keep the first, which dominates this one in the same block.
    if (first->getBlock() == op->getBlock()) {
      op.getResult().replaceAllUsesWith(first.getResult());
      op->erase();
    } else {
      roots.push_back(op);
    }
  });

  int64_t folded = 0, kept = 0;
  for (PermuteOp root : roots) {
    Plan plan = planFold(root);
    if (!plan.why.empty()) {
      // The layer: named by the permutation's location (GPTQ gives it the
      // layer's), else by a consumer's.
      StringRef layer = getLayerName(root.getLoc());
      for (Operation *user : root->getUsers())
        if (layer.empty())
          layer = getLayerName(user->getLoc());
      emitRemark(root.getLoc(), "fold-input-permutations: kept the "
                                "permutation of ")
          << (layer.empty() ? std::string("a layer's")
                            : ("'" + layer + "'").str())
          << " input: " << plan.why;
      ++kept;
      continue;
    }
    applyFold(root, plan);
    ++folded;
  }
  emitRemark(getOperation()->getLoc(), "fold-input-permutations: folded ")
      << folded << ", kept " << kept;
}

} // namespace
