//===- LinearLayers.cpp - which linear layers passes select ---------------===//

#include "qopt/Dialect/QOpt/Utils/LinearLayers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace mlir::qopt;

StringRef qopt::getLayerName(Location loc) {
  StringRef name;
  loc->walk([&](Location nested) {
    if (auto nameLoc = dyn_cast<NameLoc>(nested)) {
      name = nameLoc.getName().strref();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}

/// Linear layers in any of their forms (before and after quantization).
static bool isLinearLayer(Operation *op) {
  return isa<LinearOp, WeightOnlyLinearOp, QuantizedLinearOp>(op);
}

/// Ops through which a result still counts as "the model's output": they
/// only move elements, or compute each output element from the elements at
/// the same position (plus broadcast operands).
static bool passesOutputThrough(OpOperand &use) {
  Operation *user = use.getOwner();
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp,
          linalg::TransposeOp, linalg::BroadcastOp, linalg::SoftmaxOp>(user))
    return true;
  if (isa<tensor::ReshapeOp, tensor::ExtractSliceOp>(user))
    return use.getOperandNumber() == 0;
  if (auto generic = dyn_cast<linalg::GenericOp>(user))
    return generic.getNumLoops() == generic.getNumParallelLoops() &&
           generic.getNumResults() == 1;
  return false;
}

/// True when the result reaches a return through shape-only and
/// elementwise ops (passesOutputThrough).
static bool feedsReturn(LinearOp op) {
  SmallVector<Value> worklist = {op.getResult()};
  DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (user->hasTrait<OpTrait::ReturnLike>()) {
        Operation *parent = user->getParentOp();
        if (isa<FunctionOpInterface>(parent))
          return true;
        // A branch's yield: the value goes on as the parent's result.
        if (use.getOperandNumber() < parent->getNumResults())
          worklist.push_back(parent->getResult(use.getOperandNumber()));
        continue;
      }
      if (passesOutputThrough(use))
        worklist.push_back(user->getResult(0));
    }
  }
  return false;
}

/// True when another linear layer uses the result, through any ops (a
/// layer that feeds the residual stream of the next block is not the last).
static bool reachesLinearLayer(LinearOp op) {
  SmallVector<Operation *> worklist = {op};
  DenseSet<Operation *> seen;
  while (!worklist.empty()) {
    Operation *current = worklist.pop_back_val();
    for (Value result : current->getResults())
      for (Operation *user : result.getUsers()) {
        // A use inside a region (an scf.if branch) flows on through the
        // ops that hold it.
        for (Operation *holder = user; holder; holder = holder->getParentOp()) {
          if (isLinearLayer(holder))
            return true;
          if (seen.insert(holder).second)
            worklist.push_back(holder);
          if (isa<FunctionOpInterface>(holder->getParentOp()))
            break;
        }
      }
  }
  return false;
}

bool qopt::isOutputHead(LinearOp op) {
  if (getLayerName(op.getLoc()).contains("lm_head"))
    return true;
  return feedsReturn(op) && !reachesLinearLayer(op);
}

bool qopt::isConvolutionLayer(linalg::GenericOp op,
                              bool requireConstantFilter) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics())
    return false;
  // Payload: yield(out + in0 * in1), in any operand order.
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 3)
    return false;
  auto mul = dyn_cast<arith::MulFOp>(&body.front());
  auto add = dyn_cast<arith::AddFOp>(mul ? mul->getNextNode() : nullptr);
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  if (!mul || !add || !yield || yield.getValues().size() != 1 ||
      yield.getValues()[0] != add.getResult())
    return false;
  Value in0 = body.getArgument(0), in1 = body.getArgument(1),
        out = body.getArgument(2);
  auto isPair = [](Value a, Value b, Value x, Value y) {
    return (a == x && b == y) || (a == y && b == x);
  };
  if (!isPair(mul.getLhs(), mul.getRhs(), in0, in1) ||
      !isPair(add.getLhs(), add.getRhs(), out, mul.getResult()))
    return false;
  Value filter = op.getDpsInputs()[1];
  auto type = dyn_cast<RankedTensorType>(filter.getType());
  if (!type || !type.getElementType().isF32() || !type.hasStaticShape() ||
      type.getRank() < 3 ||
      (requireConstantFilter && !matchPattern(filter, m_Constant())))
    return false;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap filterMap = maps[1], outMap = maps[2];
  if (filterMap.getNumResults() != type.getRank() ||
      !filterMap.isProjectedPermutation() || outMap.getNumResults() < 2)
    return false;
  auto channel = dyn_cast<AffineDimExpr>(filterMap.getResult(0));
  return channel && outMap.getResult(1) == channel &&
         op.getIteratorTypesArray()[channel.getPosition()] ==
             utils::IteratorType::parallel;
}

SmallVector<linalg::GenericOp>
qopt::getConvolutionLayers(Operation *root, bool requireConstantFilter) {
  SmallVector<linalg::GenericOp> convs;
  root->walk([&](linalg::GenericOp op) {
    if (isConvolutionLayer(op, requireConstantFilter))
      convs.push_back(op);
  });
  return convs;
}

int64_t qopt::remarkConvolutionsLeftFp32(Operation *root, StringRef tag,
                                         StringRef why) {
  SmallVector<linalg::GenericOp> convs = getConvolutionLayers(root);
  for (linalg::GenericOp op : convs) {
    StringRef name = getLayerName(op.getLoc());
    emitRemark(op.getLoc(), tag)
        << ": left "
        << (name.empty() ? std::string("an unnamed convolution")
                         : "'" + name.str() + "'")
        << " fp32: convolution (" << why << ")";
  }
  return convs.size();
}
