//===- ControlFlowOps.cpp - ONNX If and Scan ------------------------------===//
//
// If with a condition known at import time (a constant, a folded shape
// computation, an input bound with --constant-input) imports the chosen
// branch in place; otherwise both branches become the regions of an scf.if.
// Branches see every value defined before the If (ONNX subgraphs capture
// outer values by name); what they define stays inside them.
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
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

/// Scan (opset 9 and later) with every scan axis 0: an scf.for over the
/// sequence whose iter_args are the state variables and one accumulator per
/// scan output. The body is imported twice: once into a draft loop to learn
/// the scan outputs' types (the accumulators' element shapes), then into the
/// loop that stays.
LogicalResult importScan(NodeContext &ctx) {
  if (ctx.getOpset() < 9)
    return ctx.emitError() << "Scan-8 (batch axis and sequence_lens) is not "
                              "supported; opset 9 and later are";
  const onnx::AttributeProto *bodyAttr = ctx.getAttr("body");
  if (!bodyAttr || !bodyAttr->has_g())
    return ctx.emitError() << "attribute 'body' must be a graph";
  const onnx::GraphProto &body = bodyAttr->g();
  int64_t numInputs = ctx.getNumInputs();
  int64_t numScanInputs = ctx.getIntAttr("num_scan_inputs", -1);
  if (numScanInputs < 1 || numScanInputs > numInputs)
    return ctx.emitError() << "attribute 'num_scan_inputs' is " << numScanInputs
                           << ", expected 1 to " << numInputs;
  int64_t numStates = numInputs - numScanInputs;
  int64_t numScanOutputs = body.output_size() - numStates;
  if (body.input_size() != numInputs || numScanOutputs < 0 ||
      static_cast<int64_t>(ctx.getNumOutputs()) > body.output_size())
    return ctx.emitError() << "the body has " << body.input_size()
                           << " inputs and " << body.output_size()
                           << " outputs, which do not fit " << numStates
                           << " state variables and " << numScanInputs
                           << " scan inputs";
  for (StringRef name : {"scan_input_axes", "scan_output_axes"})
    if (auto axes = ctx.getIntsAttr(name))
      for (int64_t axis : *axes)
        if (axis != 0)
          return ctx.emitError() << "attribute '" << name << "' has axis "
                                 << axis << "; only axis 0 is supported";
  SmallVector<int64_t> inDirections(numScanInputs, 0);
  SmallVector<int64_t> outDirections(numScanOutputs, 0);
  if (auto d = ctx.getIntsAttr("scan_input_directions"))
    for (auto [i, v] : llvm::enumerate(*d))
      if (static_cast<int64_t>(i) < numScanInputs)
        inDirections[i] = v;
  if (auto d = ctx.getIntsAttr("scan_output_directions"))
    for (auto [i, v] : llvm::enumerate(*d))
      if (static_cast<int64_t>(i) < numScanOutputs)
        outDirections[i] = v;

  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  GraphImporter &importer = ctx.importer;
  SmallVector<Value> states, scans;
  SmallVector<bool> stateUnsigned;
  for (int64_t i = 0; i < numStates; ++i) {
    states.push_back(ctx.getInput(i));
    stateUnsigned.push_back(ctx.isUnsignedInput(i));
  }
  for (int64_t i = 0; i < numScanInputs; ++i) {
    Value scan = ctx.getInput(numStates + i);
    if (cast<RankedTensorType>(scan.getType()).getRank() < 1)
      return ctx.emitError() << "scan input " << i << " must have rank >= 1";
    scans.push_back(scan);
  }
  OpFoldResult length = tensor::getMixedSize(b, loc, scans[0], 0);
  Value lengthValue = getValueOrCreateConstantIndexOp(b, loc, length);
  Value last = getValueOrCreateConstantIndexOp(
      b, loc, subIndex(b, loc, length, b.getIndexAttr(1)));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);

  // Imports the body into a loop with `accumulators` after the states;
  // returns the loop and the per-step scan output values' types.
  SmallVector<Type> sliceTypes;
  auto buildLoop = [&](ArrayRef<Value> accumulators,
                       bool draft) -> FailureOr<scf::ForOp> {
    SmallVector<Value> iterArgs(states);
    iterArgs.append(accumulators.begin(), accumulators.end());
    auto loop = scf::ForOp::create(b, loc, zero, lengthValue, one, iterArgs);
    OpBuilder::InsertionGuard guard(b);
    Block *block = loop.getBody();
    if (!block->empty() && block->back().hasTrait<OpTrait::IsTerminator>())
      block->back().erase();
    b.setInsertionPointToEnd(block);
    Value step = loop.getInductionVar();
    Value reversed = arith::SubIOp::create(b, loc, last, step);
    llvm::StringMap<ImportedValue> scope = importer.saveScope();
    for (int64_t i = 0; i < numStates; ++i) {
      ImportedValue v;
      v.value = loop.getRegionIterArg(i);
      v.isUnsigned = stateUnsigned[i];
      importer.define(body.input(i).name(), v);
    }
    for (int64_t i = 0; i < numScanInputs; ++i) {
      auto type = cast<RankedTensorType>(scans[i].getType());
      Value t = inDirections[i] ? reversed : step;
      SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
      offsets[0] = t;
      SmallVector<OpFoldResult> sizes = getSizes(b, loc, scans[i]);
      sizes[0] = b.getIndexAttr(1);
      SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
      auto sliceType = RankedTensorType::get(type.getShape().drop_front(),
                                             type.getElementType());
      ImportedValue v;
      v.value = tensor::ExtractSliceOp::create(b, loc, sliceType, scans[i],
                                               offsets, sizes, strides);
      v.isUnsigned = ctx.isUnsignedInput(numStates + i);
      importer.define(body.input(numStates + i).name(), v);
    }
    FailureOr<SmallVector<ImportedValue>> outputs =
        importer.importSubgraph(body, loc);
    if (failed(outputs)) {
      importer.restoreScope(std::move(scope));
      loop.erase();
      return failure();
    }
    SmallVector<Value> yielded;
    for (int64_t i = 0; i < numStates; ++i) {
      Value v = importer.materialize((*outputs)[i], loc);
      Type want = loop.getRegionIterArg(i).getType();
      if (v.getType() != want) {
        if (!tensor::CastOp::areCastCompatible(v.getType(), want)) {
          InFlightDiagnostic diag = ctx.emitError()
                                    << "state variable " << i << " is " << want
                                    << " before the body and " << v.getType()
                                    << " after it";
          importer.restoreScope(std::move(scope));
          loop.erase();
          return diag;
        }
        v = tensor::CastOp::create(b, loc, want, v);
      }
      yielded.push_back(v);
    }
    for (int64_t k = 0; k < numScanOutputs; ++k) {
      Value v = importer.materialize((*outputs)[numStates + k], loc);
      auto type = dyn_cast<RankedTensorType>(v.getType());
      if (draft) {
        if (!type || !type.hasStaticShape()) {
          InFlightDiagnostic diag =
              ctx.emitError() << "scan output " << k << " is " << v.getType()
                              << "; only static shapes are supported";
          importer.restoreScope(std::move(scope));
          loop.erase();
          return diag;
        }
        sliceTypes.push_back(type);
        continue;
      }
      Value acc = loop.getRegionIterArg(numStates + k);
      Value t = outDirections[k] ? reversed : step;
      SmallVector<OpFoldResult> offsets(type.getRank() + 1, b.getIndexAttr(0));
      offsets[0] = t;
      SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
      for (int64_t s : type.getShape())
        sizes.push_back(b.getIndexAttr(s));
      SmallVector<OpFoldResult> strides(type.getRank() + 1, b.getIndexAttr(1));
      yielded.push_back(tensor::InsertSliceOp::create(b, loc, v, acc, offsets,
                                                      sizes, strides));
    }
    if (draft) {
      importer.restoreScope(std::move(scope));
      loop.erase();
      return scf::ForOp();
    }
    scf::YieldOp::create(b, loc, yielded);
    importer.restoreScope(std::move(scope));
    return loop;
  };
  if (failed(buildLoop({}, /*draft=*/true)))
    return failure();
  SmallVector<Value> accumulators;
  for (Type type : sliceTypes) {
    auto sliceType = cast<RankedTensorType>(type);
    SmallVector<OpFoldResult> sizes = {length};
    for (int64_t s : sliceType.getShape())
      sizes.push_back(b.getIndexAttr(s));
    accumulators.push_back(
        tensor::EmptyOp::create(b, loc, sizes, sliceType.getElementType()));
  }
  FailureOr<scf::ForOp> loop = buildLoop(accumulators, /*draft=*/false);
  if (failed(loop))
    return failure();
  for (unsigned i = 0; i < ctx.getNumOutputs(); ++i)
    if (ctx.hasOutput(i))
      ctx.setResult(i, loop->getResult(i),
                    static_cast<int64_t>(i) < numStates && stateUnsigned[i]);
  return success();
}

} // namespace

void onnx_import::registerControlFlowOps(OpRegistry &r) {
  r["If"] = importIf;
  r["Scan"] = importScan;
}
