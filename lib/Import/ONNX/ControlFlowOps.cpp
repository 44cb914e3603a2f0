//===- ControlFlowOps.cpp - ONNX If, Scan and Loop ------------------------===//
//
// If with a condition known at import time (a constant, a folded shape
// computation, an input bound with --constant-input) imports the chosen
// branch in place; otherwise both branches become the regions of an scf.if.
// Branches see every value defined before the If (ONNX subgraphs capture
// outer values by name); what they define stays inside them. Scan becomes
// an scf.for over its sequence; Loop an scf.for when its trip count does
// not depend on the body's condition, else an scf.while.
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

/// The scf.for of a Scan over `scans` along their axis 0 (Scan-9 semantics,
/// Scan-8 per batch entry): its results are the final states, then the scan
/// outputs. The body is imported twice: once into a draft loop to learn the
/// scan outputs' types (the accumulators' element shapes), then into the
/// loop that stays.
FailureOr<SmallVector<Value>>
buildScanLoop(NodeContext &ctx, const onnx::GraphProto &body,
              ArrayRef<Value> states, ArrayRef<bool> stateUnsigned,
              ArrayRef<Value> scans, ArrayRef<bool> scanUnsigned,
              ArrayRef<int64_t> inDirections, ArrayRef<int64_t> outDirections) {
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  GraphImporter &importer = ctx.importer;
  int64_t numStates = states.size();
  int64_t numScanInputs = scans.size();
  int64_t numScanOutputs = outDirections.size();
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
      v.isUnsigned = scanUnsigned[i];
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
  return SmallVector<Value>(loop->getResults());
}

/// Scan with every scan axis 0: an scf.for over the sequence whose
/// iter_args are the state variables and one accumulator per scan output.
/// Scan-8 (opset 8) has a batch axis 0 before the sequence axis and an
/// optional sequence_lens first input: each batch entry is its own loop
/// (unrolled, for a static batch of at most 64), the results stacked.
LogicalResult importScan(NodeContext &ctx) {
  bool scan8 = ctx.getOpset() < 9;
  const onnx::AttributeProto *bodyAttr = ctx.getAttr("body");
  if (!bodyAttr || !bodyAttr->has_g())
    return ctx.emitError() << "attribute 'body' must be a graph";
  const onnx::GraphProto &body = bodyAttr->g();
  // Scan-8's sequence_lens comes before the states.
  int64_t first = scan8 ? 1 : 0;
  int64_t numInputs = ctx.getNumInputs() - first;
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
  if (auto d = ctx.getIntsAttr(scan8 ? "directions" : "scan_input_directions"))
    for (auto [i, v] : llvm::enumerate(*d))
      if (static_cast<int64_t>(i) < numScanInputs)
        inDirections[i] = v;
  if (auto d = ctx.getIntsAttr("scan_output_directions"))
    for (auto [i, v] : llvm::enumerate(*d))
      if (static_cast<int64_t>(i) < numScanOutputs)
        outDirections[i] = v;

  SmallVector<Value> states, scans;
  SmallVector<bool> stateUnsigned, scanUnsigned;
  for (int64_t i = 0; i < numStates; ++i) {
    states.push_back(ctx.getInput(first + i));
    stateUnsigned.push_back(ctx.isUnsignedInput(first + i));
  }
  for (int64_t i = 0; i < numScanInputs; ++i) {
    Value scan = ctx.getInput(first + numStates + i);
    if (cast<RankedTensorType>(scan.getType()).getRank() < 1 + first)
      return ctx.emitError()
             << "scan input " << i << " must have rank >= " << 1 + first;
    scans.push_back(scan);
    scanUnsigned.push_back(ctx.isUnsignedInput(first + numStates + i));
  }
  auto setResults = [&](ArrayRef<Value> results) {
    for (unsigned i = 0; i < ctx.getNumOutputs(); ++i)
      if (ctx.hasOutput(i))
        ctx.setResult(i, results[i],
                      static_cast<int64_t>(i) < numStates && stateUnsigned[i]);
  };
  if (!scan8) {
    FailureOr<SmallVector<Value>> results =
        buildScanLoop(ctx, body, states, stateUnsigned, scans, scanUnsigned,
                      inDirections, outDirections);
    if (failed(results))
      return failure();
    setResults(*results);
    return success();
  }

  // Scan-8: per batch entry b, the loop over the rank-reduced slices [b].
  int64_t batch = cast<RankedTensorType>(scans[0].getType()).getDimSize(0);
  if (ShapedType::isDynamic(batch) || batch > 64)
    return ctx.emitError()
           << "Scan-8's batch size must be static and at most 64, got "
           << (ShapedType::isDynamic(batch) ? std::string("a dynamic size")
                                            : std::to_string(batch))
           << "; " << ctx.importer.getStaticShapeHint();
  if (ctx.hasInput(0)) {
    // Every sequence at full length is the same as none given.
    const HostTensor *lens = ctx.getConstantInput(0);
    int64_t length = cast<RankedTensorType>(scans[0].getType()).getDimSize(1);
    if (!lens || ShapedType::isDynamic(length) ||
        llvm::any_of(lens->ints, [&](int64_t n) { return n != length; }))
      return ctx.emitError()
             << "sequence_lens shorter than the sequence are not supported "
                "(Scan-8); leave it out, or export at opset 9 or later";
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  auto sliceAt = [&](Value v, int64_t index) -> Value {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
    offsets[0] = b.getIndexAttr(index);
    SmallVector<OpFoldResult> sizes = getSizes(b, loc, v);
    sizes[0] = b.getIndexAttr(1);
    SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
    auto sliceType = RankedTensorType::get(type.getShape().drop_front(),
                                           type.getElementType());
    return tensor::ExtractSliceOp::create(b, loc, sliceType, v, offsets, sizes,
                                          strides);
  };
  SmallVector<SmallVector<Value>> perBatch;
  for (int64_t index = 0; index < batch; ++index) {
    SmallVector<Value> entryStates, entryScans;
    for (Value v : states)
      entryStates.push_back(sliceAt(v, index));
    for (Value v : scans)
      entryScans.push_back(sliceAt(v, index));
    FailureOr<SmallVector<Value>> results =
        buildScanLoop(ctx, body, entryStates, stateUnsigned, entryScans,
                      scanUnsigned, inDirections, outDirections);
    if (failed(results))
      return failure();
    perBatch.push_back(std::move(*results));
  }
  // Stacked along a new axis 0.
  SmallVector<Value> stacked;
  for (size_t k = 0; k < perBatch[0].size(); ++k) {
    SmallVector<Value> parts;
    for (SmallVector<Value> &entry : perBatch) {
      auto type = cast<RankedTensorType>(entry[k].getType());
      SmallVector<int64_t> shape = {1};
      llvm::append_range(shape, type.getShape());
      SmallVector<ReassociationIndices> groups;
      if (type.getRank() == 0) {
        // A scalar becomes [1]: no groups.
      } else {
        groups.push_back({0, 1});
        for (int64_t d = 1; d < type.getRank(); ++d)
          groups.push_back({d + 1});
      }
      parts.push_back(tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get(shape, type.getElementType()), entry[k],
          groups));
    }
    stacked.push_back(
        parts.size() == 1
            ? parts[0]
            : tensor::ConcatOp::create(b, loc, 0, parts).getResult());
  }
  setResults(stacked);
  return success();
}

/// A rank-0 bool constant that handlers can fold.
ImportedValue makeBoolConstant(MLIRContext *context, bool value) {
  auto type = RankedTensorType::get({}, IntegerType::get(context, 1));
  ImportedValue result;
  result.constantAttr = DenseElementsAttr::get(type, value);
  auto host = std::make_shared<HostTensor>();
  host->elementType = type.getElementType();
  host->ints.push_back(value);
  result.constant = std::move(host);
  return result;
}

/// The single element of a one-element tensor of any rank.
Value extractScalar(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return tensor::ExtractOp::create(
      b, loc, tensor,
      SmallVector<Value>(type.getRank(),
                         arith::ConstantIndexOp::create(b, loc, 0)));
}

/// True when a value-info names a sequence, map or optional (tensors only
/// are supported as loop values).
bool isNonTensor(const onnx::ValueInfoProto &info) {
  return info.has_type() && !info.type().has_tensor_type() &&
         info.type().value_case() != onnx::TypeProto::VALUE_NOT_SET;
}

/// Loop (every opset; Loop-11's loop-carried values whose shapes change
/// between iterations included): inputs M (max trip count) and cond, both
/// optional, then N loop-carried values; the body maps (iteration_num,
/// cond, N values) to (cond, N values, K scan outputs), the scan outputs
/// stacked along a new axis 0.
///
/// The body runs only while the condition is true, so its cond input is
/// the constant true inside it (an omitted cond starts true). When the
/// body's cond output is a constant too (the Identity of its cond input),
/// the trip count is known before the loop starts: the loop is an scf.for
/// over `cond ? M : 0` iterations (`min(M, 1)` when the body ends it),
/// static when M and cond are constants. Otherwise, or when a loop-carried
/// value changes size, it is an scf.while over (iteration, cond, values,
/// scan buffers) that stops when cond is false or M iterations ran; its
/// scan outputs are buffers grown by doubling and cut to the iteration
/// count at the end.
///
/// The body is imported into throwaway drafts first: to learn its cond
/// output and the types its values take (a loop-carried value whose size
/// changes between iterations gets a dynamic size), then into the loop
/// that stays.
LogicalResult importLoop(NodeContext &ctx) {
  const onnx::AttributeProto *bodyAttr = ctx.getAttr("body");
  if (!bodyAttr || !bodyAttr->has_g())
    return ctx.emitError() << "attribute 'body' must be a graph";
  const onnx::GraphProto &body = bodyAttr->g();
  if (ctx.getNumInputs() < 2)
    return ctx.emitError() << "has " << ctx.getNumInputs()
                           << " inputs; Loop takes M and cond (either may be "
                              "the empty name) before its loop-carried values";
  int64_t numCarried = ctx.getNumInputs() - 2;
  int64_t numScan = body.output_size() - 1 - numCarried;
  if (body.input_size() != numCarried + 2 || numScan < 0 ||
      static_cast<int64_t>(ctx.getNumOutputs()) > numCarried + numScan)
    return ctx.emitError() << "the body has " << body.input_size()
                           << " inputs and " << body.output_size()
                           << " outputs, which do not fit " << numCarried
                           << " loop-carried values (it needs "
                           << numCarried + 2 << " inputs and at least "
                           << numCarried + 1 << " outputs)";
  for (const auto *infos : {&body.input(), &body.output()})
    for (const onnx::ValueInfoProto &info : *infos)
      if (isNonTensor(info))
        return ctx.emitError()
               << "the body's value '" << info.name()
               << "' is a sequence or optional; only tensors are supported as "
                  "loop values (rewrite the model to carry tensors, e.g. a "
                  "scan output instead of SequenceInsert)";
  for (int64_t i = 0; i < numCarried; ++i)
    if (!ctx.hasInput(2 + i))
      return ctx.emitError() << "loop-carried input " << i
                             << " is empty; only tensors are supported";

  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  GraphImporter &importer = ctx.importer;
  MLIRContext *context = b.getContext();

  // The trip count M (clamped at 0), as an index.
  std::optional<OpFoldResult> maxTrips;
  if (ctx.hasInput(0)) {
    RankedTensorType type = ctx.getInputType(0);
    if (!type.getElementType().isInteger(64) ||
        getNumElements(type.getShape()) != 1)
      return ctx.emitError() << "M must be a single int64, got " << type;
    std::optional<SmallVector<OpFoldResult>> elements = ctx.getShapeElements(0);
    OpFoldResult m;
    if (elements && elements->size() == 1)
      m = (*elements)[0];
    else
      m = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                     extractScalar(b, loc, ctx.getInput(0)))
              .getResult();
    maxTrips = maxIndex(b, loc, m, b.getIndexAttr(0));
  }
  // The first condition: a constant, a run-time i1, or absent (true).
  std::optional<bool> firstCond;
  Value firstCondValue;
  if (ctx.hasInput(1)) {
    RankedTensorType type = ctx.getInputType(1);
    if (!type.getElementType().isInteger(1) ||
        getNumElements(type.getShape()) != 1)
      return ctx.emitError() << "cond must be a single bool, got " << type;
    if (const HostTensor *c = ctx.getConstantInput(1))
      firstCond = c->getInt(0) != 0;
    else
      firstCondValue = extractScalar(b, loc, ctx.getInput(1));
  } else {
    firstCond = true;
  }

  SmallVector<Value> inits;
  SmallVector<RankedTensorType> carriedTypes;
  SmallVector<bool> carriedUnsigned;
  for (int64_t i = 0; i < numCarried; ++i) {
    inits.push_back(ctx.getInput(2 + i));
    carriedTypes.push_back(cast<RankedTensorType>(inits.back().getType()));
    carriedUnsigned.push_back(ctx.isUnsignedInput(2 + i));
  }

  // Defines the body's inputs and imports it at the builder's insertion
  // point; the caller saves and restores the scope.
  auto importBody =
      [&](OpFoldResult iteration,
          ValueRange carried) -> FailureOr<SmallVector<ImportedValue>> {
    ImportedValue iterationNum;
    auto i64Scalar = RankedTensorType::get({}, b.getI64Type());
    if (std::optional<int64_t> known = getConstantIntValue(iteration)) {
      HostTensor host;
      host.elementType = b.getI64Type();
      host.ints.push_back(*known);
      iterationNum.constantAttr = host.toAttr();
      iterationNum.constant = std::make_shared<HostTensor>(std::move(host));
    } else {
      iterationNum.value = tensor::FromElementsOp::create(
          b, loc, i64Scalar,
          ValueRange{arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                                cast<Value>(iteration))});
      // Known element by element, so Slice, Gather... take it as an index.
      iterationNum.elements = SmallVector<OpFoldResult>{iteration};
      iterationNum.elementsType = i64Scalar;
    }
    importer.define(body.input(0).name(), iterationNum);
    importer.define(body.input(1).name(), makeBoolConstant(context, true));
    for (int64_t i = 0; i < numCarried; ++i) {
      ImportedValue v;
      v.value = carried[i];
      v.isUnsigned = carriedUnsigned[i];
      importer.define(body.input(2 + i).name(), v);
    }
    return importer.importSubgraph(body, loc);
  };
  auto castTo = [&](Value v, Type type) -> Value {
    return v.getType() == type ? v : tensor::CastOp::create(b, loc, type, v);
  };

  // Drafts: the body's cond output and the types of its values.
  std::optional<bool> bodyCond;
  SmallVector<RankedTensorType> scanTypes;
  SmallVector<bool> scanUnsigned;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  while (true) {
    SmallVector<Value> draftInits;
    for (auto [v, type] : llvm::zip(inits, carriedTypes))
      draftInits.push_back(castTo(v, type));
    auto draft = scf::ForOp::create(b, loc, zero, one, one, draftInits);
    auto eraseDraft = [&] {
      draft.erase();
      for (auto [cast, v] : llvm::zip(draftInits, inits))
        if (cast != v)
          cast.getDefiningOp()->erase();
    };
    llvm::StringMap<ImportedValue> scope = importer.saveScope();
    // Everything below, the materialized outputs included, goes into the
    // draft.
    OpBuilder::InsertionGuard guard(b);
    Block *draftBody = draft.getBody();
    if (!draftBody->empty() &&
        draftBody->back().hasTrait<OpTrait::IsTerminator>())
      draftBody->back().erase();
    b.setInsertionPointToEnd(draftBody);
    FailureOr<SmallVector<ImportedValue>> outputs =
        importBody(draft.getInductionVar(), draft.getRegionIterArgs());
    auto fail = [&](InFlightDiagnostic diag) -> LogicalResult {
      eraseDraft();
      importer.restoreScope(std::move(scope));
      return diag;
    };
    if (failed(outputs)) {
      eraseDraft();
      importer.restoreScope(std::move(scope));
      return failure();
    }
    ImportedValue &condOut = (*outputs)[0];
    RankedTensorType condType;
    if (condOut.value)
      condType = dyn_cast<RankedTensorType>(condOut.value.getType());
    else if (condOut.constantAttr)
      condType = cast<RankedTensorType>(condOut.constantAttr.getType());
    else
      condType = condOut.elementsType;
    if (!condType || !condType.getElementType().isInteger(1) ||
        getNumElements(condType.getShape()) != 1)
      return fail(ctx.emitError() << "the body's condition output must be a "
                                     "single bool, got "
                                  << condType);
    bodyCond.reset();
    if (condOut.constant)
      bodyCond = condOut.constant->getInt(0) != 0;
    bool changed = false;
    for (int64_t i = 0; i < numCarried; ++i) {
      Value v = importer.materialize((*outputs)[1 + i], loc);
      auto type = dyn_cast<RankedTensorType>(v.getType());
      RankedTensorType joined =
          type ? joinTypes(carriedTypes[i], type) : nullptr;
      if (!joined)
        return fail(ctx.emitError()
                    << "loop-carried value " << i << " is " << carriedTypes[i]
                    << " before the body and " << v.getType() << " after it");
      changed |= joined != carriedTypes[i];
      carriedTypes[i] = joined;
    }
    scanTypes.clear();
    scanUnsigned.clear();
    for (int64_t k = 0; k < numScan; ++k) {
      ImportedValue &out = (*outputs)[1 + numCarried + k];
      Value v = importer.materialize(out, loc);
      auto type = dyn_cast<RankedTensorType>(v.getType());
      if (!type)
        return fail(ctx.emitError() << "scan output " << k << " is "
                                    << v.getType() << "; it must be a tensor");
      scanTypes.push_back(type);
      scanUnsigned.push_back(out.isUnsigned);
    }
    eraseDraft();
    importer.restoreScope(std::move(scope));
    // Sizes only ever become dynamic, so this ends within rank + 1 rounds.
    if (!changed)
      break;
  }

  // The body's cond output decides the trip count when it is a constant.
  // ONNX's text calls it ignored when the node's cond is omitted, but ONNX
  // Runtime and ONNX's reference implementation stop on it all the same;
  // so does this.
  std::optional<bool> stepCond = bodyCond;
  SmallVector<Value> carriedInits;
  for (auto [v, type] : llvm::zip(inits, carriedTypes))
    carriedInits.push_back(castTo(v, type));
  SmallVector<Value> results;

  // Yields the body's values converted to the loop's types; scan outputs
  // go through `store`.
  auto finishBody =
      [&](ArrayRef<ImportedValue> outputs, SmallVector<Value> &yielded,
          function_ref<Value(int64_t, Value)> store) -> LogicalResult {
    for (int64_t i = 0; i < numCarried; ++i) {
      Value v = importer.materialize(
          const_cast<ImportedValue &>(outputs[1 + i]), loc);
      if (!tensor::CastOp::areCastCompatible(v.getType(), carriedTypes[i]))
        return ctx.emitError()
               << "loop-carried value " << i << " is " << carriedTypes[i]
               << " before the body and " << v.getType() << " after it";
      yielded.push_back(castTo(v, carriedTypes[i]));
    }
    for (int64_t k = 0; k < numScan; ++k) {
      Value v = importer.materialize(
          const_cast<ImportedValue &>(outputs[1 + numCarried + k]), loc);
      if (!tensor::CastOp::areCastCompatible(v.getType(), scanTypes[k]))
        return ctx.emitError() << "scan output " << k << " is " << v.getType()
                               << " in one import of the body and "
                               << scanTypes[k] << " in another";
      yielded.push_back(store(k, castTo(v, scanTypes[k])));
    }
    return success();
  };
  // Inserts one iteration's scan output `v` at `iteration` of `acc`. A
  // size that is dynamic in the body is checked at run time: ONNX stacks
  // the iterations' outputs, which must all have one shape.
  auto insertAt = [&](int64_t k, Value v, Value acc, Value iteration) -> Value {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<OpFoldResult> offsets(type.getRank() + 1, b.getIndexAttr(0));
    offsets[0] = iteration;
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
    llvm::append_range(sizes, getSizes(b, loc, v));
    SmallVector<OpFoldResult> strides(type.getRank() + 1, b.getIndexAttr(1));
    Value same;
    SmallVector<Value> shown;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d))
        continue;
      Value got = getValueOrCreateConstantIndexOp(b, loc, sizes[1 + d]);
      Value want = tensor::DimOp::create(b, loc, acc, 1 + d);
      Value eq =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, got, want);
      same = same ? arith::AndIOp::create(b, loc, same, eq).getResult() : eq;
      shown.append({got, want});
    }
    if (same) {
      std::string what = "scan output " + std::to_string(k) +
                         " changes shape between iterations (dynamic size";
      for (size_t i = 0; i < shown.size(); i += 2)
        what += (i ? ", " : " ") + ("{" + std::to_string(i) + "} vs {" +
                                    std::to_string(i + 1) + "}");
      emitCheck(ctx, same, what + ")", shown);
    }
    return tensor::InsertSliceOp::create(b, loc, v, acc, offsets, sizes,
                                         strides);
  };
  // The type of scan output `k`'s accumulator of `rows` rows (dynamic
  // when unknown).
  auto accType = [&](int64_t k, std::optional<int64_t> rows) {
    SmallVector<int64_t> shape = {rows.value_or(ShapedType::kDynamic)};
    llvm::append_range(shape, scanTypes[k].getShape());
    return RankedTensorType::get(shape, scanTypes[k].getElementType());
  };
  // An accumulator of `count` rows; its dynamic row sizes are
  // `dynamicSizes` (0 when not given).
  auto emptyScan = [&](int64_t k, OpFoldResult count,
                       ArrayRef<OpFoldResult> dynamicSizes) -> Value {
    SmallVector<OpFoldResult> sizes = {count};
    unsigned next = 0;
    for (int64_t s : scanTypes[k].getShape())
      sizes.push_back(!ShapedType::isDynamic(s)    ? b.getIndexAttr(s)
                      : next < dynamicSizes.size() ? dynamicSizes[next++]
                                                   : b.getIndexAttr(0));
    return castTo(
        tensor::EmptyOp::create(b, loc, sizes, scanTypes[k].getElementType()),
        accType(k, getConstantIntValue(count)));
  };

  if (stepCond && !maxTrips && *stepCond &&
      firstCond != std::optional<bool>(false))
    return ctx.emitError()
           << "has no trip count M and its condition is true on every "
              "iteration, so it never ends";
  // A loop-carried value whose size changes between iterations needs
  // scf.while: canonicalization folds an scf.for's tensor.cast of a static
  // initial value into its iter_arg, which would fix the size.
  bool sizesVary = llvm::any_of(llvm::zip(inits, carriedTypes), [](auto pair) {
    return std::get<0>(pair).getType() != std::get<1>(pair);
  });
  if (stepCond && !sizesVary) {
    // cond ? (bodyCond ? M : min(M, 1)) : 0 iterations.
    OpFoldResult count = b.getIndexAttr(1);
    if (maxTrips)
      count = *stepCond ? *maxTrips
                        : minIndex(b, loc, *maxTrips, b.getIndexAttr(1));
    if (firstCond == std::optional<bool>(false))
      count = b.getIndexAttr(0);
    else if (firstCondValue)
      count = arith::SelectOp::create(
                  b, loc, firstCondValue,
                  getValueOrCreateConstantIndexOp(b, loc, count), zero)
                  .getResult();
    // Scan output sizes that are dynamic in the body: those of the first
    // iteration, from a copy of the body before the loop whose other work
    // folds away (an accumulator of size 0 would let canonicalization
    // assume that size in the loop).
    SmallVector<SmallVector<OpFoldResult>> rowSizes(numScan);
    SmallVector<Type> sizeTypes;
    for (RankedTensorType type : scanTypes)
      sizeTypes.append(type.getNumDynamicDims(), b.getIndexType());
    if (!sizeTypes.empty()) {
      Value countValue = getValueOrCreateConstantIndexOp(b, loc, count);
      Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                        countValue, zero);
      auto first = scf::IfOp::create(b, loc, sizeTypes, any,
                                     /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(first.thenBlock());
        llvm::StringMap<ImportedValue> scope = importer.saveScope();
        FailureOr<SmallVector<ImportedValue>> outputs =
            importBody(b.getIndexAttr(0), carriedInits);
        if (failed(outputs)) {
          importer.restoreScope(std::move(scope));
          first.erase();
          return failure();
        }
        SmallVector<Value> sizes;
        for (int64_t k = 0; k < numScan; ++k) {
          Value v = importer.materialize((*outputs)[1 + numCarried + k], loc);
          for (int64_t d = 0; d < scanTypes[k].getRank(); ++d)
            if (scanTypes[k].isDynamicDim(d))
              sizes.push_back(tensor::DimOp::create(b, loc, v, d));
        }
        importer.restoreScope(std::move(scope));
        scf::YieldOp::create(b, loc, sizes);
        b.setInsertionPointToStart(first.elseBlock());
        scf::YieldOp::create(b, loc,
                             SmallVector<Value>(sizeTypes.size(), zero));
      }
      unsigned next = 0;
      for (int64_t k = 0; k < numScan; ++k)
        for (size_t n = 0; n < scanTypes[k].getNumDynamicDims(); ++n)
          rowSizes[k].push_back(first.getResult(next++));
    }
    SmallVector<Value> iterArgs(carriedInits);
    for (int64_t k = 0; k < numScan; ++k)
      iterArgs.push_back(emptyScan(k, count, rowSizes[k]));
    auto loop = scf::ForOp::create(
        b, loc, zero, getValueOrCreateConstantIndexOp(b, loc, count), one,
        iterArgs);
    llvm::StringMap<ImportedValue> scope = importer.saveScope();
    OpBuilder::InsertionGuard guard(b);
    Block *block = loop.getBody();
    if (!block->empty() && block->back().hasTrait<OpTrait::IsTerminator>())
      block->back().erase();
    b.setInsertionPointToEnd(block);
    Value iv = loop.getInductionVar();
    FailureOr<SmallVector<ImportedValue>> outputs =
        importBody(iv, loop.getRegionIterArgs().take_front(numCarried));
    SmallVector<Value> yielded;
    if (failed(outputs) ||
        failed(finishBody(*outputs, yielded, [&](int64_t k, Value v) {
          return insertAt(k, v, loop.getRegionIterArg(numCarried + k), iv);
        }))) {
      importer.restoreScope(std::move(scope));
      loop.erase();
      return failure();
    }
    scf::YieldOp::create(b, loc, yielded);
    importer.restoreScope(std::move(scope));
    results.append(loop.getResults().begin(), loop.getResults().end());
  } else {
    // scf.while over (iteration, cond, loop-carried values, scan buffers).
    // A scan buffer starts at min(M, 64) rows (no rows without a constant
    // M) and doubles when full.
    int64_t capacity = 0;
    if (maxTrips)
      if (std::optional<int64_t> m = getConstantIntValue(*maxTrips))
        capacity = std::min<int64_t>(*m, 64);
    SmallVector<Value> whileInits = {
        zero, firstCondValue
                  ? firstCondValue
                  : arith::ConstantIntOp::create(b, loc, *firstCond ? 1 : 0, 1)
                        .getResult()};
    whileInits.append(carriedInits);
    for (int64_t k = 0; k < numScan; ++k)
      // Sizes known only in the body wait for the first row.
      whileInits.push_back(castTo(
          emptyScan(
              k, b.getIndexAttr(scanTypes[k].hasStaticShape() ? capacity : 0),
              {}),
          accType(k, std::nullopt)));
    SmallVector<Type> types =
        llvm::to_vector(ValueRange(whileInits).getTypes());
    SmallVector<Location> locs(types.size(), loc);
    auto loop = scf::WhileOp::create(b, loc, types, whileInits);
    OpBuilder::InsertionGuard guard(b);
    Block *before = b.createBlock(&loop.getBefore(), {}, types, locs);
    Value keepGoing = before->getArgument(1);
    if (maxTrips)
      keepGoing = arith::AndIOp::create(
          b, loc, keepGoing,
          arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::slt, before->getArgument(0),
              getValueOrCreateConstantIndexOp(b, loc, *maxTrips)));
    scf::ConditionOp::create(b, loc, keepGoing, before->getArguments());
    Block *after = b.createBlock(&loop.getAfter(), {}, types, locs);
    Value iteration = after->getArgument(0);
    llvm::StringMap<ImportedValue> scope = importer.saveScope();
    FailureOr<SmallVector<ImportedValue>> outputs =
        importBody(iteration, after->getArguments().slice(2, numCarried));
    SmallVector<Value> yielded;
    if (succeeded(outputs)) {
      yielded.push_back(arith::AddIOp::create(b, loc, iteration, one));
      yielded.push_back(
          extractScalar(b, loc, importer.materialize((*outputs)[0], loc)));
    }
    if (failed(outputs) ||
        failed(finishBody(*outputs, yielded, [&](int64_t k, Value v) {
          Value acc = after->getArgument(2 + numCarried + k);
          // Full: a buffer twice as large (at least 8 rows) with the rows
          // so far.
          Value rows = tensor::DimOp::create(b, loc, acc, 0);
          Value full = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                             iteration, rows);
          auto grow = scf::IfOp::create(b, loc, acc.getType(), full,
                                        /*withElseRegion=*/true);
          {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(grow.thenBlock());
            Value doubled = arith::MaxSIOp::create(
                b, loc,
                arith::MulIOp::create(
                    b, loc, rows, arith::ConstantIndexOp::create(b, loc, 2)),
                arith::ConstantIndexOp::create(b, loc, 8));
            SmallVector<OpFoldResult> rowSizes;
            for (int64_t d = 0; d < scanTypes[k].getRank(); ++d)
              if (scanTypes[k].isDynamicDim(d))
                rowSizes.push_back(tensor::getMixedSize(b, loc, v, d));
            Value larger =
                castTo(emptyScan(k, doubled, rowSizes), acc.getType());
            SmallVector<OpFoldResult> offsets(scanTypes[k].getRank() + 1,
                                              b.getIndexAttr(0));
            SmallVector<OpFoldResult> sizes = getSizes(b, loc, acc);
            SmallVector<OpFoldResult> strides(scanTypes[k].getRank() + 1,
                                              b.getIndexAttr(1));
            scf::YieldOp::create(
                b, loc,
                ValueRange{tensor::InsertSliceOp::create(
                    b, loc, acc, larger, offsets, sizes, strides)});
            b.setInsertionPointToStart(grow.elseBlock());
            scf::YieldOp::create(b, loc, acc);
          }
          return insertAt(k, v, grow.getResult(0), iteration);
        }))) {
      importer.restoreScope(std::move(scope));
      loop.erase();
      return failure();
    }
    scf::YieldOp::create(b, loc, yielded);
    importer.restoreScope(std::move(scope));
    b.setInsertionPointAfter(loop);
    Value count = loop.getResult(0);
    for (int64_t i = 0; i < numCarried; ++i)
      results.push_back(loop.getResult(2 + i));
    // The scan outputs: the rows written.
    for (int64_t k = 0; k < numScan; ++k) {
      Value acc = loop.getResult(2 + numCarried + k);
      SmallVector<OpFoldResult> offsets(scanTypes[k].getRank() + 1,
                                        b.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes = getSizes(b, loc, acc);
      sizes[0] = count;
      SmallVector<OpFoldResult> strides(scanTypes[k].getRank() + 1,
                                        b.getIndexAttr(1));
      results.push_back(
          tensor::ExtractSliceOp::create(b, loc, acc, offsets, sizes, strides));
    }
  }
  for (unsigned i = 0; i < ctx.getNumOutputs(); ++i)
    if (ctx.hasOutput(i))
      ctx.setResult(i, results[i],
                    static_cast<int64_t>(i) < numCarried
                        ? carriedUnsigned[i]
                        : scanUnsigned[i - numCarried]);
  return success();
}

} // namespace

void onnx_import::registerControlFlowOps(OpRegistry &r) {
  r["If"] = importIf;
  r["Scan"] = importScan;
  r["Loop"] = importLoop;
}
