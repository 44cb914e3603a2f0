//===- RecurrentOps.cpp - ONNX RNN, GRU and LSTM --------------------------===//
//
// A recurrent layer becomes, per direction, one linear layer over the whole
// sequence (X * W^T + Wb, every time step at once) and an scf.for over the
// time steps (counting down for the reverse direction) whose body is the
// recurrent linear layer (H * R^T + Rb) and one elementwise linalg.generic
// for the gates. W and R are sliced per direction (and per gate group where
// GRU needs it) into constants of their own, so each is a `qopt.linear`
// that the quantization passes see like any other layer, named
// `<node>/W`, `<node>/R` (`.reverse` for the backward direction).
//
// sequence_lens follows ONNX Runtime: a batch entry's state stops changing
// past its length, its Y rows there are 0, and a length of 0 gives Y_h (and
// Y_c) of 0. Counting down from the end and skipping steps past a length is
// what ORT's per-entry reversal computes for the reverse direction.
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;

namespace {

enum class CellKind { RNN, GRU, LSTM };

/// Gates per cell: the row blocks of W and R.
int64_t getNumGates(CellKind kind) {
  return kind == CellKind::RNN ? 1 : kind == CellKind::GRU ? 3 : 4;
}

/// Activation functions per direction (f, g, h).
int64_t getNumActivations(CellKind kind) {
  return kind == CellKind::RNN ? 1 : kind == CellKind::GRU ? 2 : 3;
}

/// One entry of the `activations` attribute with its alpha and beta.
struct Activation {
  enum Kind {
    Relu,
    Tanh,
    Sigmoid,
    Affine,
    LeakyRelu,
    ThresholdedRelu,
    ScaledTanh,
    HardSigmoid,
    Elu,
    Softsign,
    Softplus,
    Unknown
  } kind;
  double alpha = 0, beta = 0;
};

/// Reads `activations`, `activation_alpha` and `activation_beta`: one list
/// per direction, forward first. Alphas and betas are taken in order by the
/// functions that use them (as ONNX Runtime does); missing ones get the
/// defaults of the ONNX operators of the same name.
FailureOr<SmallVector<Activation>>
getActivations(NodeContext &ctx, CellKind kind, int64_t numDirections) {
  int64_t perDirection = getNumActivations(kind);
  SmallVector<std::string> names;
  if (const onnx::AttributeProto *attr = ctx.getAttr("activations"))
    names.assign(attr->strings().begin(), attr->strings().end());
  if (names.empty()) {
    static const char *defaults[] = {"Sigmoid", "Tanh", "Tanh"};
    if (kind == CellKind::RNN)
      names.push_back("Tanh");
    else
      names.assign(defaults, defaults + perDirection);
  }
  // One list for both directions is what ORT accepts too.
  if (numDirections == 2 && static_cast<int64_t>(names.size()) == perDirection)
    names.append(SmallVector<std::string>(names));
  if (static_cast<int64_t>(names.size()) != perDirection * numDirections)
    return ctx.emitError() << "attribute 'activations' has " << names.size()
                           << " entries, expected " << perDirection
                           << " per direction (" << numDirections
                           << " direction" << (numDirections == 2 ? "s" : "")
                           << ")";
  SmallVector<double> alphas, betas;
  if (const onnx::AttributeProto *attr = ctx.getAttr("activation_alpha"))
    alphas.assign(attr->floats().begin(), attr->floats().end());
  if (const onnx::AttributeProto *attr = ctx.getAttr("activation_beta"))
    betas.assign(attr->floats().begin(), attr->floats().end());
  size_t nextAlpha = 0, nextBeta = 0;
  SmallVector<Activation> result;
  for (const std::string &name : names) {
    Activation a;
    a.kind = llvm::StringSwitch<Activation::Kind>(StringRef(name).lower())
                 .Case("relu", Activation::Relu)
                 .Case("tanh", Activation::Tanh)
                 .Case("sigmoid", Activation::Sigmoid)
                 .Case("affine", Activation::Affine)
                 .Case("leakyrelu", Activation::LeakyRelu)
                 .Case("thresholdedrelu", Activation::ThresholdedRelu)
                 .Case("scaledtanh", Activation::ScaledTanh)
                 .Case("hardsigmoid", Activation::HardSigmoid)
                 .Case("elu", Activation::Elu)
                 .Case("softsign", Activation::Softsign)
                 .Case("softplus", Activation::Softplus)
                 .Default(Activation::Unknown);
    if (a.kind == Activation::Unknown)
      return ctx.emitError()
             << "attribute 'activations' names unknown function '" << name
             << "' (ONNX defines Relu, Tanh, Sigmoid, Affine, LeakyRelu, "
                "ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, "
                "Softplus)";
    bool usesAlpha =
        a.kind == Activation::Affine || a.kind == Activation::LeakyRelu ||
        a.kind == Activation::ThresholdedRelu ||
        a.kind == Activation::ScaledTanh || a.kind == Activation::HardSigmoid ||
        a.kind == Activation::Elu;
    bool usesBeta = a.kind == Activation::Affine ||
                    a.kind == Activation::ScaledTanh ||
                    a.kind == Activation::HardSigmoid;
    // Affine and ScaledTanh have no ONNX operator to take defaults from.
    bool needsGiven =
        a.kind == Activation::Affine || a.kind == Activation::ScaledTanh;
    if (usesAlpha) {
      if (nextAlpha < alphas.size())
        a.alpha = alphas[nextAlpha++];
      else if (needsGiven)
        return ctx.emitError()
               << "activation '" << name
               << "' needs a value in attribute 'activation_alpha'";
      else
        a.alpha = a.kind == Activation::LeakyRelu     ? 0.01
                  : a.kind == Activation::HardSigmoid ? 0.2
                                                      : 1.0;
    }
    if (usesBeta) {
      if (nextBeta < betas.size())
        a.beta = betas[nextBeta++];
      else if (needsGiven)
        return ctx.emitError()
               << "activation '" << name
               << "' needs a value in attribute 'activation_beta'";
      else
        a.beta = 0.5; // HardSigmoid
    }
    result.push_back(a);
  }
  return result;
}

/// `a(x)` on a scalar.
Value applyActivation(OpBuilder &b, Location loc, const Activation &a,
                      Value x) {
  Type type = x.getType();
  auto cst = [&](double v) { return scalarConstant(b, loc, type, v); };
  auto mul = [&](Value l, Value r) {
    return arith::MulFOp::create(b, loc, l, r).getResult();
  };
  auto add = [&](Value l, Value r) {
    return arith::AddFOp::create(b, loc, l, r).getResult();
  };
  auto cmp = [&](arith::CmpFPredicate p, Value l, Value r) {
    return arith::CmpFOp::create(b, loc, p, l, r).getResult();
  };
  auto select = [&](Value c, Value t, Value f) {
    return arith::SelectOp::create(b, loc, c, t, f).getResult();
  };
  switch (a.kind) {
  case Activation::Relu:
    return arith::MaximumFOp::create(b, loc, x, cst(0));
  case Activation::Tanh:
    return math::TanhOp::create(b, loc, x);
  case Activation::Sigmoid:
    return arith::DivFOp::create(
        b, loc, cst(1),
        add(cst(1),
            math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x))));
  case Activation::Affine:
    return add(mul(cst(a.alpha), x), cst(a.beta));
  case Activation::LeakyRelu:
    return select(cmp(arith::CmpFPredicate::OGE, x, cst(0)), x,
                  mul(cst(a.alpha), x));
  case Activation::ThresholdedRelu:
    return select(cmp(arith::CmpFPredicate::OGT, x, cst(a.alpha)), x, cst(0));
  case Activation::ScaledTanh:
    return mul(cst(a.alpha), math::TanhOp::create(b, loc, mul(cst(a.beta), x)));
  case Activation::HardSigmoid:
    return arith::MinimumFOp::create(
        b, loc,
        arith::MaximumFOp::create(
            b, loc, add(mul(cst(a.alpha), x), cst(a.beta)), cst(0)),
        cst(1));
  case Activation::Elu:
    return select(
        cmp(arith::CmpFPredicate::OGE, x, cst(0)), x,
        mul(cst(a.alpha), arith::SubFOp::create(
                              b, loc, math::ExpOp::create(b, loc, x), cst(1))));
  case Activation::Softsign:
    return arith::DivFOp::create(b, loc, x,
                                 add(cst(1), math::AbsFOp::create(b, loc, x)));
  case Activation::Softplus:
    return math::LogOp::create(b, loc,
                               add(cst(1), math::ExpOp::create(b, loc, x)));
  case Activation::Unknown:
    break;
  }
  llvm_unreachable("activation checked when read");
}

/// Rows [firstRow, firstRow + numRows) of direction `d` of a `[D, N, K]`
/// weight, as a `[numRows, K]` tensor. A constant gives a constant of its
/// own (so that the layer is a linear layer with a constant weight, which
/// quantization passes read); anything else is sliced.
Value sliceWeight(OpBuilder &b, Location loc, Value weight, int64_t d,
                  int64_t firstRow, int64_t numRows, StringRef resourceKey) {
  auto type = cast<RankedTensorType>(weight.getType());
  int64_t rows = type.getDimSize(1), cols = type.getDimSize(2);
  auto sliceType =
      RankedTensorType::get({numRows, cols}, type.getElementType());
  Attribute attr;
  if (matchPattern(weight, m_Constant(&attr)) && type.hasStaticShape() &&
      !type.getElementType().isInteger(1)) {
    unsigned elementBytes = type.getElementTypeBitWidth() / 8;
    size_t offset = ((d * rows + firstRow) * cols) * elementBytes;
    size_t size = numRows * cols * elementBytes;
    auto dense = dyn_cast<DenseElementsAttr>(attr);
    if (dense && dense.isSplat())
      return arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(sliceType, dense.getSplatValue<Attribute>()));
    if (dense) {
      ArrayRef<char> raw = dense.getRawData();
      return arith::ConstantOp::create(b, loc,
                                       DenseElementsAttr::getFromRawBuffer(
                                           sliceType, raw.slice(offset, size)));
    }
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
      // The whole tensor: the same blob under the 2-D type, no copy.
      if (type.getDimSize(0) == 1 && numRows == rows)
        return arith::ConstantOp::create(
            b, loc,
            DenseResourceElementsAttr::get(sliceType, resource.getRawHandle()));
      if (AsmResourceBlob *blob = resource.getRawHandle().getBlob()) {
        ArrayRef<char> raw = blob->getData();
        if (raw.size() >= offset + size)
          return arith::ConstantOp::create(
              b, loc,
              DenseResourceElementsAttr::get(
                  sliceType, resourceKey,
                  HeapAsmResourceBlob::allocateAndCopyWithAlign(
                      raw.slice(offset, size), elementBytes)));
      }
    }
  }
  SmallVector<OpFoldResult> offsets = {
      b.getIndexAttr(d), b.getIndexAttr(firstRow), b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(numRows),
                                     b.getIndexAttr(cols)};
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, sliceType, weight, offsets,
                                        sizes, strides);
}

/// `[rows, cols]` at (rowOffset, colOffset) of a 2-D or (with `lead`, the
/// index of the leading dimension, dropped) 3-D tensor.
Value slice2D(OpBuilder &b, Location loc, Value source,
              std::optional<OpFoldResult> lead, OpFoldResult rowOffset,
              int64_t colOffset, OpFoldResult rows, int64_t cols) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> offsets, sizes;
  if (lead) {
    offsets.push_back(*lead);
    sizes.push_back(b.getIndexAttr(1));
  }
  offsets.append({rowOffset, b.getIndexAttr(colOffset)});
  sizes.append({rows, b.getIndexAttr(cols)});
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  SmallVector<int64_t> shape = getStaticShape({rows});
  shape.push_back(cols);
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  return tensor::ExtractSliceOp::create(b, loc, resultType, source, offsets,
                                        sizes, strides);
}

/// `[batch]` of the lengths (per batch entry) or `[hidden]` (peepholes, per
/// hidden unit) or `[batch, hidden]` operands of a step's elementwise math.
enum class Broadcast { Full, PerBatch, PerHidden };

/// One linalg.generic over `[batch, hidden]` with one result per entry of
/// `outInits`: written in place of that tensor (the loop's state, so that
/// each step updates its iter_args' buffers), or of a new one where null.
/// `body` gets the inputs' elements, then the inits' (the old state).
SmallVector<Value> buildStepGeneric(
    OpBuilder &b, Location loc, ArrayRef<std::pair<Value, Broadcast>> inputs,
    ArrayRef<OpFoldResult> sizes, Type elementType, ArrayRef<Value> outInits,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body) {
  MLIRContext *context = b.getContext();
  AffineExpr d0 = getAffineDimExpr(0, context);
  AffineExpr d1 = getAffineDimExpr(1, context);
  SmallVector<AffineMap> maps;
  SmallVector<Value> operands;
  for (auto [value, kind] : inputs) {
    operands.push_back(value);
    maps.push_back(
        kind == Broadcast::Full       ? AffineMap::get(2, 0, {d0, d1}, context)
        : kind == Broadcast::PerBatch ? AffineMap::get(2, 0, {d0}, context)
                                      : AffineMap::get(2, 0, {d1}, context));
  }
  SmallVector<Value> inits;
  for (Value init : outInits)
    inits.push_back(
        init ? init
             : tensor::EmptyOp::create(b, loc, sizes, elementType).getResult());
  maps.append(inits.size(), AffineMap::get(2, 0, {d0, d1}, context));
  SmallVector<Type> types = llvm::to_vector(
      llvm::map_range(inits, [](Value v) { return v.getType(); }));
  auto generic = linalg::GenericOp::create(
      b, loc, types, operands, inits, maps,
      SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> results = body(nb, nl, args);
        linalg::YieldOp::create(nb, nl, results);
      });
  return SmallVector<Value>(generic.getResults());
}

/// Transposes `value` by `perm` (layout 1 to and from layout 0).
Value transpose(OpBuilder &b, Location loc, Value value,
                ArrayRef<int64_t> perm) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, value);
  SmallVector<OpFoldResult> permuted;
  for (int64_t p : perm)
    permuted.push_back(sizes[p]);
  Value init = tensor::EmptyOp::create(
      b, loc, permuted,
      cast<RankedTensorType>(value.getType()).getElementType());
  return linalg::TransposeOp::create(b, loc, value, init, perm).getResult()[0];
}

LogicalResult importRecurrent(NodeContext &ctx, CellKind kind) {
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  StringRef opType = ctx.getOpType();
  int64_t numGates = getNumGates(kind);
  int64_t numOutputs = kind == CellKind::LSTM ? 3 : 2;
  for (unsigned i = numOutputs; i < ctx.getNumOutputs(); ++i)
    if (ctx.hasOutput(i))
      return ctx.emitError() << opType << " has " << numOutputs
                             << " outputs, but output " << i << " is used";

  // Attributes.
  std::string direction = ctx.getStringAttr("direction").value_or("forward");
  if (direction != "forward" && direction != "reverse" &&
      direction != "bidirectional")
    return ctx.emitError() << "attribute 'direction' is '" << direction
                           << "', expected forward, reverse or bidirectional";
  int64_t numDirections = direction == "bidirectional" ? 2 : 1;
  int64_t layout = ctx.getIntAttr("layout", 0);
  if (layout != 0 && layout != 1)
    return ctx.emitError() << "attribute 'layout' is " << layout
                           << ", expected 0 or 1";
  std::optional<double> clip;
  if (ctx.getAttr("clip")) {
    clip = ctx.getFloatAttr("clip", 0);
    if (!(*clip > 0))
      return ctx.emitError() << "attribute 'clip' is " << *clip
                             << ", expected a positive threshold";
  }
  bool linearBeforeReset =
      kind == CellKind::GRU && ctx.getIntAttr("linear_before_reset", 0) != 0;
  bool inputForget =
      kind == CellKind::LSTM && ctx.getIntAttr("input_forget", 0) != 0;
  FailureOr<SmallVector<Activation>> activations =
      getActivations(ctx, kind, numDirections);
  if (failed(activations))
    return failure();

  // Inputs and their shapes.
  RankedTensorType xType = ctx.getInputType(0);
  RankedTensorType wType = ctx.getInputType(1);
  RankedTensorType rType = ctx.getInputType(2);
  Type elementType = xType.getElementType();
  if (!isa<FloatType>(elementType))
    return ctx.emitError() << "X must be a float tensor, got " << xType;
  if (xType.getRank() != 3)
    return ctx.emitError() << "X must be 3-D, got " << xType;
  if (wType.getRank() != 3 || rType.getRank() != 3 || !wType.hasStaticShape() ||
      !rType.hasStaticShape())
    return ctx.emitError() << "W and R must be 3-D with static shapes, got "
                           << wType << " and " << rType;
  if (wType.getElementType() != elementType ||
      rType.getElementType() != elementType)
    return ctx.emitError() << "X, W and R must have one element type, got "
                           << xType << ", " << wType << " and " << rType;
  int64_t hidden = rType.getDimSize(2);
  int64_t hiddenAttr = ctx.getIntAttr("hidden_size", hidden);
  if (hiddenAttr != hidden)
    return ctx.emitError() << "attribute 'hidden_size' is " << hiddenAttr
                           << " but R " << rType << " has hidden size "
                           << hidden;
  int64_t inputSize = wType.getDimSize(2);
  if (wType.getDimSize(0) != numDirections ||
      rType.getDimSize(0) != numDirections ||
      wType.getDimSize(1) != numGates * hidden ||
      rType.getDimSize(1) != numGates * hidden)
    return ctx.emitError() << "W " << wType << " and R " << rType
                           << " do not fit direction '" << direction
                           << "' and hidden_size " << hidden << " (expected ["
                           << numDirections << ", " << numGates * hidden
                           << ", ...])";
  if (!xType.isDynamicDim(2) && xType.getDimSize(2) != inputSize)
    return ctx.emitError() << "X " << xType << " has input size "
                           << xType.getDimSize(2) << " but W " << wType
                           << " expects " << inputSize;
  auto checkShape = [&](unsigned input, StringRef name,
                        ArrayRef<int64_t> expected) -> LogicalResult {
    RankedTensorType type = ctx.getInputType(input);
    bool fits = type.getRank() == static_cast<int64_t>(expected.size()) &&
                type.getElementType() == elementType;
    for (auto [i, size] : llvm::enumerate(expected))
      fits = fits && (i >= static_cast<size_t>(type.getRank()) ||
                      ShapedType::isDynamic(size) || type.isDynamicDim(i) ||
                      type.getDimSize(i) == size);
    if (fits)
      return success();
    InFlightDiagnostic diag = ctx.emitError();
    diag << "input " << name << " is " << type << ", expected [";
    llvm::interleaveComma(expected, diag, [&](int64_t s) {
      if (ShapedType::isDynamic(s))
        diag << "?";
      else
        diag << s;
    });
    return diag << "] of " << elementType;
  };
  // Batch-major inputs (layout 1) are made time-major once.
  int64_t batchDim = layout == 0 ? 1 : 0;
  int64_t batchSize = xType.getDimSize(batchDim);
  SmallVector<int64_t> stateShape =
      layout == 0 ? SmallVector<int64_t>{numDirections, batchSize, hidden}
                  : SmallVector<int64_t>{batchSize, numDirections, hidden};
  if (ctx.hasInput(3) &&
      failed(checkShape(3, "B", {numDirections, 2 * numGates * hidden})))
    return failure();
  if (ctx.hasInput(5) && failed(checkShape(5, "initial_h", stateShape)))
    return failure();
  bool isLSTM = kind == CellKind::LSTM;
  if (isLSTM && ctx.hasInput(6) &&
      failed(checkShape(6, "initial_c", stateShape)))
    return failure();
  if (isLSTM && ctx.hasInput(7) &&
      failed(checkShape(7, "P", {numDirections, 3 * hidden})))
    return failure();
  bool hasLengths = ctx.hasInput(4);
  if (hasLengths) {
    RankedTensorType type = ctx.getInputType(4);
    if (type.getRank() != 1 || !type.getElementType().isInteger(32) ||
        (!type.isDynamicDim(0) && !ShapedType::isDynamic(batchSize) &&
         type.getDimSize(0) != batchSize))
      return ctx.emitError() << "input sequence_lens is " << type
                             << ", expected [" << batchSize << "] of int32";
  }

  Value x = ctx.getInput(0);
  if (layout == 1)
    x = transpose(b, loc, x, {1, 0, 2});
  auto toTimeMajorState = [&](unsigned input) {
    Value v = ctx.getInput(input);
    return layout == 1 ? transpose(b, loc, v, {1, 0, 2}) : v;
  };
  Value initialH = ctx.hasInput(5) ? toTimeMajorState(5) : Value();
  Value initialC = isLSTM && ctx.hasInput(6) ? toTimeMajorState(6) : Value();
  Value bias = ctx.hasInput(3) ? ctx.getInput(3) : Value();
  Value peepholes = isLSTM && ctx.hasInput(7) ? ctx.getInput(7) : Value();
  Value lengths = hasLengths ? ctx.getInput(4) : Value();
  Value weightW = ctx.getInput(1);
  Value weightR = ctx.getInput(2);

  OpFoldResult seqLen = tensor::getMixedSize(b, loc, x, 0);
  OpFoldResult batch = tensor::getMixedSize(b, loc, x, 1);
  OpFoldResult hiddenSize = b.getIndexAttr(hidden);
  auto zeroAttr = cast<TypedAttr>(b.getZeroAttr(elementType));
  Value zeroState = createFilled(b, loc, {batch, hiddenSize}, zeroAttr);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value seqLenValue = getValueOrCreateConstantIndexOp(b, loc, seqLen);
  Value lastStep = getValueOrCreateConstantIndexOp(
      b, loc, subIndex(b, loc, seqLen, b.getIndexAttr(1)));

  bool wantY = ctx.hasOutput(0);
  Value y = wantY ? createFilled(b, loc,
                                 {seqLen, b.getIndexAttr(numDirections), batch,
                                  hiddenSize},
                                 zeroAttr)
                  : Value();
  SmallVector<Value> finalH, finalC;
  std::string nodeName;
  if (auto nameLoc = dyn_cast<NameLoc>(loc))
    nodeName = nameLoc.getName().str();

  for (int64_t d = 0; d < numDirections; ++d) {
    bool reverse = direction == "reverse" || d == 1;
    ArrayRef<Activation> acts =
        ArrayRef<Activation>(*activations)
            .slice(d * getNumActivations(kind), getNumActivations(kind));
    std::string suffix = reverse ? ".reverse" : "";
    auto layerLoc = [&](StringRef what) -> Location {
      return NameLoc::get(
          StringAttr::get(b.getContext(), nodeName + "/" + what + suffix), loc);
    };
    auto biasSlice = [&](int64_t offset, int64_t size) -> Value {
      if (!bias)
        return Value();
      auto type = RankedTensorType::get({size}, elementType);
      return tensor::ExtractSliceOp::create(
          b, loc, type, bias,
          ArrayRef<OpFoldResult>{b.getIndexAttr(d), b.getIndexAttr(offset)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(size)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    };
    auto linear = [&](OpBuilder &lb, Location ll, Value input, Value weight,
                      Value linearBias) -> Value {
      auto inType = cast<RankedTensorType>(input.getType());
      SmallVector<int64_t> shape(inType.getShape());
      shape.back() = cast<RankedTensorType>(weight.getType()).getDimSize(0);
      return LinearOp::create(lb, ll, RankedTensorType::get(shape, elementType),
                              input, weight, linearBias,
                              /*transpose_weight=*/true);
    };
    std::string keyBase = "onnx." + nodeName + suffix;
    for (char &c : keyBase)
      if (!llvm::isAlnum(c) && c != '_' && c != '.')
        c = '_';

    // X * W^T + Wb for every time step at once: [T, B, G*H].
    Location wLoc = layerLoc("W");
    Value wD =
        sliceWeight(b, wLoc, weightW, d, 0, numGates * hidden, keyBase + ".W");
    Value xw = linear(b, wLoc, x, wD, biasSlice(0, numGates * hidden));
    // The recurrent weights: GRU without linear_before_reset applies Rh to
    // r (.) H, so its rows are two layers.
    bool splitR = kind == CellKind::GRU && !linearBeforeReset;
    Location rLoc = layerLoc("R");
    Location rhLoc = layerLoc("Rh");
    Value rMain =
        sliceWeight(b, rLoc, weightR, d, 0,
                    splitR ? 2 * hidden : numGates * hidden, keyBase + ".R");
    Value rBiasMain =
        biasSlice(numGates * hidden, splitR ? 2 * hidden : numGates * hidden);
    Value rHidden, rBiasHidden;
    if (splitR) {
      rHidden = sliceWeight(b, rhLoc, weightR, d, 2 * hidden, hidden,
                            keyBase + ".Rh");
      rBiasHidden = biasSlice(numGates * hidden + 2 * hidden, hidden);
    }
    Value peepI, peepO, peepF;
    if (peepholes) {
      auto slice = [&](int64_t gate) -> Value {
        auto type = RankedTensorType::get({hidden}, elementType);
        return tensor::ExtractSliceOp::create(
            b, loc, type, peepholes,
            ArrayRef<OpFoldResult>{b.getIndexAttr(d),
                                   b.getIndexAttr(gate * hidden)},
            ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(hidden)},
            ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
      };
      peepI = slice(0), peepO = slice(1), peepF = slice(2);
    }
    auto initialState = [&](Value all) -> Value {
      if (!all)
        return zeroState;
      return slice2D(b, loc, all, b.getIndexAttr(d), b.getIndexAttr(0), 0,
                     batch, hidden);
    };
    SmallVector<Value> iterInit = {initialState(initialH)};
    if (isLSTM)
      iterInit.push_back(initialState(initialC));
    if (wantY)
      iterInit.push_back(y);

    auto loop = scf::ForOp::create(
        b, loc, zero, seqLenValue, one, iterInit,
        [&](OpBuilder &lb, Location ll, Value step, ValueRange iter) {
          Value t = step;
          if (reverse)
            t = arith::SubIOp::create(lb, ll, lastStep, step);
          Value hPrev = iter[0];
          Value cPrev = isLSTM ? iter[1] : Value();
          auto gate = [&](Value source, std::optional<OpFoldResult> lead,
                          int64_t index) {
            return slice2D(lb, ll, source, lead, lb.getIndexAttr(0),
                           index * hidden, batch, hidden);
          };
          auto xGate = [&](int64_t index) {
            return gate(xw, OpFoldResult(t), index);
          };
          Value t32;
          if (lengths)
            t32 = arith::IndexCastOp::create(lb, ll, lb.getI32Type(), t);
          auto clipped = [&](OpBuilder &bb, Location bl, Value v) -> Value {
            if (!clip)
              return v;
            Value limit = scalarConstant(bb, bl, elementType, *clip);
            Value negLimit = scalarConstant(bb, bl, elementType, -*clip);
            return arith::MaximumFOp::create(
                bb, bl, arith::MinimumFOp::create(bb, bl, v, limit), negLimit);
          };
          auto act = [&](OpBuilder &bb, Location bl, unsigned which, Value v) {
            return applyActivation(bb, bl, acts[which], clipped(bb, bl, v));
          };
          auto addf = [](OpBuilder &bb, Location bl, Value l, Value r) {
            return arith::AddFOp::create(bb, bl, l, r).getResult();
          };
          auto mulf = [](OpBuilder &bb, Location bl, Value l, Value r) {
            return arith::MulFOp::create(bb, bl, l, r).getResult();
          };
          // Masks the new state with the lengths: (state, Y row) for
          // each new state value, given the previous one.
          auto finish = [&](OpBuilder &bb, Location bl, ValueRange newValues,
                            ValueRange oldValues, Value length,
                            SmallVector<Value> &results) {
            Value valid;
            if (length)
              valid = arith::CmpIOp::create(bb, bl, arith::CmpIPredicate::slt,
                                            t32, length);
            for (auto [n, o] : llvm::zip(newValues, oldValues))
              results.push_back(
                  valid
                      ? arith::SelectOp::create(bb, bl, valid, n, o).getResult()
                      : n);
            if (wantY)
              results.push_back(
                  valid ? arith::SelectOp::create(
                              bb, bl, valid, newValues[0],
                              scalarConstant(bb, bl, elementType, 0))
                              .getResult()
                        : newValues[0]);
          };
          SmallVector<std::pair<Value, Broadcast>> inputs;
          auto addInput = [&](Value v, Broadcast kind = Broadcast::Full) {
            inputs.push_back({v, kind});
            return inputs.size() - 1;
          };
          auto lengthArg = [&](ValueRange args, int64_t index) {
            return index < 0 ? Value() : args[index];
          };
          // The new state goes into the buffers of the old one.
          SmallVector<Value> stepInits = {hPrev};
          if (isLSTM)
            stepInits.push_back(cPrev);
          if (wantY)
            stepInits.push_back(Value());
          // The old state, read where the new one is written.
          auto stateArg = [&](ValueRange args, unsigned k) {
            return args[args.size() - stepInits.size() + k];
          };
          SmallVector<Value> stepResults;
          // H * R^T + Rb (GRU without linear_before_reset: rows z and r).
          Value hr = linear(lb, rLoc, hPrev, rMain, rBiasMain);
          if (kind == CellKind::RNN) {
            size_t xi = addInput(xGate(0)), ri = addInput(hr);
            int64_t li = lengths ? static_cast<int64_t>(
                                       addInput(lengths, Broadcast::PerBatch))
                                 : -1;
            stepResults = buildStepGeneric(
                lb, ll, inputs, {batch, hiddenSize}, elementType, stepInits,
                [&](OpBuilder &bb, Location bl, ValueRange args) {
                  Value h = act(bb, bl, 0, addf(bb, bl, args[xi], args[ri]));
                  SmallVector<Value> results;
                  finish(bb, bl, {h}, {stateArg(args, 0)}, lengthArg(args, li),
                         results);
                  return results;
                });
          } else if (kind == CellKind::GRU) {
            // Gates z, r, h.
            size_t xz = addInput(xGate(0)), xr = addInput(xGate(1)),
                   xh = addInput(xGate(2));
            size_t rz = addInput(gate(hr, std::nullopt, 0)),
                   rr = addInput(gate(hr, std::nullopt, 1));
            auto gates = [&](OpBuilder &bb, Location bl, ValueRange args) {
              Value z = act(bb, bl, 0, addf(bb, bl, args[xz], args[rz]));
              Value r = act(bb, bl, 0, addf(bb, bl, args[xr], args[rr]));
              return std::make_pair(z, r);
            };
            auto output = [&](OpBuilder &bb, Location bl, Value z, Value hTilde,
                              Value hOld, Value length) {
              Value oneF = scalarConstant(bb, bl, elementType, 1);
              Value h = addf(
                  bb, bl,
                  mulf(bb, bl, arith::SubFOp::create(bb, bl, oneF, z), hTilde),
                  mulf(bb, bl, z, hOld));
              SmallVector<Value> results;
              finish(bb, bl, {h}, {hOld}, length, results);
              return results;
            };
            if (linearBeforeReset) {
              size_t rh = addInput(gate(hr, std::nullopt, 2));
              int64_t li = lengths ? static_cast<int64_t>(
                                         addInput(lengths, Broadcast::PerBatch))
                                   : -1;
              stepResults = buildStepGeneric(
                  lb, ll, inputs, {batch, hiddenSize}, elementType, stepInits,
                  [&](OpBuilder &bb, Location bl, ValueRange args) {
                    auto [z, r] = gates(bb, bl, args);
                    Value hTilde =
                        act(bb, bl, 1,
                            addf(bb, bl, args[xh], mulf(bb, bl, r, args[rh])));
                    return output(bb, bl, z, hTilde, stateArg(args, 0),
                                  lengthArg(args, li));
                  });
            } else {
              // z and r (.) H first; then Rh on the latter.
              size_t hi = addInput(hPrev);
              SmallVector<Value> zr = buildStepGeneric(
                  lb, ll, inputs, {batch, hiddenSize}, elementType,
                  {Value(), Value()},
                  [&](OpBuilder &bb, Location bl, ValueRange args) {
                    auto [z, r] = gates(bb, bl, args);
                    return SmallVector<Value>{z, mulf(bb, bl, r, args[hi])};
                  });
              Value rh = linear(lb, rhLoc, zr[1], rHidden, rBiasHidden);
              inputs.clear();
              size_t xh2 = addInput(xGate(2)), rh2 = addInput(rh),
                     z2 = addInput(zr[0]);
              int64_t li = lengths ? static_cast<int64_t>(
                                         addInput(lengths, Broadcast::PerBatch))
                                   : -1;
              stepResults = buildStepGeneric(
                  lb, ll, inputs, {batch, hiddenSize}, elementType, stepInits,
                  [&](OpBuilder &bb, Location bl, ValueRange args) {
                    Value hTilde =
                        act(bb, bl, 1, addf(bb, bl, args[xh2], args[rh2]));
                    return output(bb, bl, args[z2], hTilde, stateArg(args, 0),
                                  lengthArg(args, li));
                  });
            }
          } else {
            // Gates i, o, f, c.
            size_t xi = addInput(xGate(0)), xo = addInput(xGate(1)),
                   xf = addInput(xGate(2)), xc = addInput(xGate(3));
            size_t ri = addInput(gate(hr, std::nullopt, 0)),
                   ro = addInput(gate(hr, std::nullopt, 1)),
                   rf = addInput(gate(hr, std::nullopt, 2)),
                   rc = addInput(gate(hr, std::nullopt, 3));
            int64_t pi = -1, po = -1, pf = -1;
            if (peepholes) {
              pi = addInput(peepI, Broadcast::PerHidden);
              po = addInput(peepO, Broadcast::PerHidden);
              pf = addInput(peepF, Broadcast::PerHidden);
            }
            int64_t li = lengths ? static_cast<int64_t>(
                                       addInput(lengths, Broadcast::PerBatch))
                                 : -1;
            stepResults = buildStepGeneric(
                lb, ll, inputs, {batch, hiddenSize}, elementType, stepInits,
                [&](OpBuilder &bb, Location bl, ValueRange args) {
                  Value c = stateArg(args, 1);
                  auto pre = [&](size_t xIndex, size_t rIndex, int64_t pIndex,
                                 Value cell) {
                    Value v = addf(bb, bl, args[xIndex], args[rIndex]);
                    if (pIndex >= 0)
                      v = addf(bb, bl, v, mulf(bb, bl, args[pIndex], cell));
                    return v;
                  };
                  Value i = act(bb, bl, 0, pre(xi, ri, pi, c));
                  Value f = inputForget
                                ? arith::SubFOp::create(
                                      bb, bl,
                                      scalarConstant(bb, bl, elementType, 1), i)
                                      .getResult()
                                : act(bb, bl, 0, pre(xf, rf, pf, c));
                  Value g = act(bb, bl, 1, addf(bb, bl, args[xc], args[rc]));
                  Value cNew =
                      addf(bb, bl, mulf(bb, bl, f, c), mulf(bb, bl, i, g));
                  Value o = act(bb, bl, 0, pre(xo, ro, po, cNew));
                  Value h =
                      mulf(bb, bl, o, applyActivation(bb, bl, acts[2], cNew));
                  SmallVector<Value> results;
                  Value length = lengthArg(args, li);
                  finish(bb, bl, {h, cNew}, {stateArg(args, 0), c}, length,
                         results);
                  return results;
                });
          }
          SmallVector<Value> yielded(stepResults.begin(),
                                     stepResults.begin() + (isLSTM ? 2 : 1));
          if (wantY) {
            Value row = stepResults.back();
            Value yAll = iter.back();
            SmallVector<OpFoldResult> offsets = {
                t, lb.getIndexAttr(d), lb.getIndexAttr(0), lb.getIndexAttr(0)};
            SmallVector<OpFoldResult> sizes = {
                lb.getIndexAttr(1), lb.getIndexAttr(1), batch, hiddenSize};
            SmallVector<OpFoldResult> strides(4, lb.getIndexAttr(1));
            yielded.push_back(tensor::InsertSliceOp::create(
                lb, ll, row, yAll, offsets, sizes, strides));
          }
          scf::YieldOp::create(lb, ll, yielded);
        });
    SmallVector<Value> states = {loop.getResult(0)};
    if (isLSTM)
      states.push_back(loop.getResult(1));
    if (wantY)
      y = loop.getResults().back();
    // A length of 0 gives final states of 0 (ORT), not the initial ones.
    if (lengths) {
      for (Value &state : states) {
        state = buildStepGeneric(
            b, loc, {{state, Broadcast::Full}, {lengths, Broadcast::PerBatch}},
            {batch, hiddenSize}, elementType, {Value()},
            [&](OpBuilder &bb, Location bl, ValueRange args) {
              Value empty = arith::CmpIOp::create(
                  bb, bl, arith::CmpIPredicate::sle, args[1],
                  arith::ConstantIntOp::create(bb, bl, 0, 32));
              return SmallVector<Value>{arith::SelectOp::create(
                  bb, bl, empty, scalarConstant(bb, bl, elementType, 0),
                  args[0])};
            })[0];
      }
    }
    finalH.push_back(states[0]);
    if (isLSTM)
      finalC.push_back(states[1]);
  }

  // [D, B, H] from the directions' [B, H], batch-major for layout 1.
  auto stackStates = [&](ArrayRef<Value> perDirection) -> Value {
    Value all = tensor::EmptyOp::create(
        b, loc, {b.getIndexAttr(numDirections), batch, hiddenSize},
        elementType);
    for (auto [d, state] : llvm::enumerate(perDirection))
      all = tensor::InsertSliceOp::create(
          b, loc, state, all,
          ArrayRef<OpFoldResult>{b.getIndexAttr(d), b.getIndexAttr(0),
                                 b.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), batch, hiddenSize},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                                 b.getIndexAttr(1)});
    return layout == 1 ? transpose(b, loc, all, {1, 0, 2}) : all;
  };
  if (wantY)
    ctx.setResult(0, layout == 1 ? transpose(b, loc, y, {2, 0, 1, 3}) : y);
  if (ctx.hasOutput(1))
    ctx.setResult(1, stackStates(finalH));
  if (isLSTM && ctx.hasOutput(2))
    ctx.setResult(2, stackStates(finalC));
  return success();
}

} // namespace

void onnx_import::registerRecurrentOps(OpRegistry &r) {
  r["RNN"] = [](NodeContext &ctx) {
    return importRecurrent(ctx, CellKind::RNN);
  };
  r["GRU"] = [](NodeContext &ctx) {
    return importRecurrent(ctx, CellKind::GRU);
  };
  r["LSTM"] = [](NodeContext &ctx) {
    return importRecurrent(ctx, CellKind::LSTM);
  };
}
