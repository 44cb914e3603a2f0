//===- ControlFlowOps.cpp - ONNX If ---------------------------------------===//
//
// If with a condition known at import time (a constant, a folded shape
// computation, an input bound with --constant-input) imports the chosen
// branch in place; otherwise both branches become the regions of an scf.if.
// Branches see every value defined before the If (ONNX subgraphs capture
// outer values by name); what they define stays inside them.
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;

namespace {

/// The type both branches' values fit: equal types as they are, sizes that
/// differ become dynamic; null when element types or ranks differ.
RankedTensorType joinTypes(RankedTensorType a, RankedTensorType b) {
  if (a == b)
    return a;
  if (a.getElementType() != b.getElementType() || a.getRank() != b.getRank())
    return {};
  SmallVector<int64_t> shape;
  for (auto [x, y] : llvm::zip(a.getShape(), b.getShape()))
    shape.push_back(x == y ? x : ShapedType::kDynamic);
  return RankedTensorType::get(shape, a.getElementType());
}

LogicalResult importIf(NodeContext &ctx) {
  const onnx::AttributeProto *thenAttr = ctx.getAttr("then_branch");
  const onnx::AttributeProto *elseAttr = ctx.getAttr("else_branch");
  if (!thenAttr || !thenAttr->has_g() || !elseAttr || !elseAttr->has_g())
    return ctx.emitError() << "then_branch and else_branch must be graphs";
  const onnx::GraphProto &thenGraph = thenAttr->g();
  const onnx::GraphProto &elseGraph = elseAttr->g();
  unsigned numResults = ctx.getNumOutputs();
  if (thenGraph.output_size() != static_cast<int>(numResults) ||
      elseGraph.output_size() != static_cast<int>(numResults))
    return ctx.emitError() << "the node has " << numResults
                           << " outputs, but its branches have "
                           << thenGraph.output_size() << " and "
                           << elseGraph.output_size();
  RankedTensorType condType = ctx.getInputType(0);
  if (!condType.getElementType().isInteger(1) ||
      getNumElements(condType.getShape()) != 1)
    return ctx.emitError() << "the condition must be a single bool, got "
                           << condType;
  GraphImporter &importer = ctx.importer;

  // A condition known now: only the branch taken is imported, in place, so
  // that everything it computes keeps folding.
  if (const HostTensor *cond = ctx.getConstantInput(0)) {
    const onnx::GraphProto &taken = cond->getInt(0) ? thenGraph : elseGraph;
    FailureOr<SmallVector<ImportedValue>> outputs =
        importer.importSubgraph(taken, ctx.getLoc());
    if (failed(outputs))
      return failure();
    for (unsigned i = 0; i < numResults; ++i)
      ctx.setImportedResult(i, (*outputs)[i]);
    return success();
  }

  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value cond = ctx.getInput(0);
  Value condScalar = tensor::ExtractOp::create(
      b, loc, cond,
      SmallVector<Value>(condType.getRank(),
                         arith::ConstantIndexOp::create(b, loc, 0)));
  // Branches are imported into a result-less scf.if first: the results'
  // types are known only once both are.
  auto draft = scf::IfOp::create(b, loc, TypeRange{}, condScalar,
                                 /*withElseRegion=*/true);
  SmallVector<SmallVector<Value>> branchValues;
  SmallVector<bool> resultUnsigned(numResults, false);
  for (auto [index, graph] : llvm::enumerate(
           std::array<const onnx::GraphProto *, 2>{&thenGraph, &elseGraph})) {
    Block *block = index == 0 ? draft.thenBlock() : draft.elseBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(block->getTerminator());
    // What a branch defines is not visible after it.
    llvm::StringMap<ImportedValue> scope = importer.saveScope();
    FailureOr<SmallVector<ImportedValue>> outputs =
        importer.importSubgraph(*graph, loc);
    if (failed(outputs)) {
      importer.restoreScope(std::move(scope));
      draft.erase();
      return failure();
    }
    SmallVector<Value> values;
    for (auto [i, output] : llvm::enumerate(*outputs)) {
      values.push_back(importer.materialize(output, loc));
      if (index == 0)
        resultUnsigned[i] = output.isUnsigned;
    }
    branchValues.push_back(std::move(values));
    importer.restoreScope(std::move(scope));
  }
  SmallVector<Type> resultTypes;
  for (unsigned i = 0; i < numResults; ++i) {
    auto thenType = dyn_cast<RankedTensorType>(branchValues[0][i].getType());
    auto elseType = dyn_cast<RankedTensorType>(branchValues[1][i].getType());
    RankedTensorType joined =
        thenType && elseType ? joinTypes(thenType, elseType) : nullptr;
    if (!joined) {
      // Reported before the draft (which holds these values) goes.
      InFlightDiagnostic diag = ctx.emitError() << "output " << i << " is "
                                                << branchValues[0][i].getType()
                                                << " in then_branch but "
                                                << branchValues[1][i].getType()
                                                << " in else_branch";
      draft.erase();
      return diag;
    }
    resultTypes.push_back(joined);
  }
  auto ifOp = scf::IfOp::create(b, loc, resultTypes, condScalar,
                                /*withElseRegion=*/true);
  for (unsigned index = 0; index < 2; ++index) {
    Region &region = index == 0 ? ifOp.getThenRegion() : ifOp.getElseRegion();
    // The new op's own blocks make way for the imported ones.
    region.getBlocks().clear();
    region.takeBody(index == 0 ? draft.getThenRegion() : draft.getElseRegion());
    Block &block = region.front();
    Operation *oldYield = block.getTerminator();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(oldYield);
    SmallVector<Value> yielded;
    for (auto [value, type] : llvm::zip(branchValues[index], resultTypes))
      yielded.push_back(
          value.getType() == type
              ? value
              : tensor::CastOp::create(b, loc, type, value).getResult());
    scf::YieldOp::create(b, loc, yielded);
    oldYield->erase();
  }
  draft.erase();
  for (unsigned i = 0; i < numResults; ++i)
    ctx.setResult(i, ifOp.getResult(i), resultUnsigned[i]);
  return success();
}

} // namespace

void onnx_import::registerControlFlowOps(OpRegistry &r) { r["If"] = importIf; }
