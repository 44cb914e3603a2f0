//===- FuseConvUKernels.cpp - pad + conv + bias + activation as one call --===//
//
// The importer spells Conv as a `tensor.pad` of the input, the convolution
// generic, a generic that adds the bias, and the activation as a generic of
// its own. Each of these is a pass over a feature map through memory (the
// pad a zero fill and a copy); qrt_uk_conv2d_f32_fused reads the unpadded
// input and applies bias and activation to each output block while it is
// in cache. This pass replaces the chain by one call, on tensors (as
// qopt-cpu-fuse-attention does), before elementwise fusion merges the bias and
// activation into other ops.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/CPU/Passes.h"
#include "qopt/Runtime/UKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUFUSECONVUKERNELS
#include "qopt/Codegen/CPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

constexpr StringLiteral kFusedConvKernel = "qrt_uk_conv2d_f32_fused";

/// The value of a scalar f32 constant, if `v` is one.
std::optional<float> getConstantFloat(Value v) {
  FloatAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) || !attr.getType().isF32())
    return std::nullopt;
  return attr.getValue().convertToFloat();
}

/// Whether `op` is an elementwise generic over all-parallel loops whose one
/// init has the identity map, and whose result has the type of `input`.
bool isElementwiseOn(linalg::GenericOp op, Value input) {
  if (!op || op.getNumDpsInits() != 1 || op->getNumResults() != 1 ||
      !op.hasPureTensorSemantics() ||
      op.getNumParallelLoops() != op.getNumLoops() ||
      op->getResult(0).getType() != input.getType())
    return false;
  return op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity();
}

/// The single user of `v` if it is a linalg.generic.
linalg::GenericOp getSingleGenericUser(Value v) {
  if (!v.hasOneUse())
    return {};
  return dyn_cast<linalg::GenericOp>(*v.getUsers().begin());
}

/// Matches the bias generic: y = out + bias[f] with `conv` as its init and
/// bias a 1-D tensor read along the channel dimension. Returns the bias.
Value matchBias(linalg::GenericOp op, Value conv) {
  if (!isElementwiseOn(op, conv) || op.getNumDpsInputs() != 1 ||
      op.getDpsInits()[0] != conv)
    return {};
  Value bias = op.getDpsInputs()[0];
  auto biasType = dyn_cast<RankedTensorType>(bias.getType());
  if (!biasType || biasType.getRank() != 1 ||
      !biasType.getElementType().isF32())
    return {};
  AffineMap map = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  if (map.getNumResults() != 1 ||
      map.getResult(0) != getAffineDimExpr(1, op.getContext()))
    return {};
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 2)
    return {};
  auto add = dyn_cast<arith::AddFOp>(body.front());
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (!add || yield.getNumOperands() != 1 || yield.getOperand(0) != add)
    return {};
  Value in = body.getArgument(0), out = body.getArgument(1);
  if (!((add.getLhs() == in && add.getRhs() == out) ||
        (add.getLhs() == out && add.getRhs() == in)))
    return {};
  return bias;
}

/// The activation of a fused convolution.
struct Activation {
  int32_t kind = QRT_UK_ACT_NONE;
  float alpha = 0.0f, beta = 0.0f;
};

/// If `v` is `op(x, c)` or `op(c, x)` with a constant c, returns c and sets
/// `x` to the other operand.
template <typename OpTy>
std::optional<float> matchBinaryWithConstant(Value v, Value &x) {
  auto op = v.getDefiningOp<OpTy>();
  if (!op)
    return std::nullopt;
  if (std::optional<float> c = getConstantFloat(op.getRhs())) {
    x = op.getLhs();
    return c;
  }
  if (std::optional<float> c = getConstantFloat(op.getLhs())) {
    x = op.getRhs();
    return c;
  }
  return std::nullopt;
}

/// If `v` is clamp(t, lo, hi) = minimumf(maximumf(t, lo), hi) (constant
/// bounds), returns t and sets lo, hi.
Value matchClamp(Value v, float &lo, float &hi) {
  Value inner, t;
  std::optional<float> h = matchBinaryWithConstant<arith::MinimumFOp>(v, inner);
  if (!h)
    return {};
  std::optional<float> l = matchBinaryWithConstant<arith::MaximumFOp>(inner, t);
  if (!l)
    return {};
  lo = *l;
  hi = *h;
  return t;
}

/// Matches the activation generic on `input` (its only input, identity
/// map): ReLU (maximumf(x, 0)), Clip (clamp(x, lo, hi)), HardSigmoid
/// (clamp(x * a + b, 0, 1)) or HardSwish (x * that), as the importer spells
/// them.
std::optional<Activation> matchActivation(linalg::GenericOp op, Value input) {
  if (!isElementwiseOn(op, input) || op.getNumDpsInputs() != 1 ||
      op.getDpsInputs()[0] != input ||
      !op.getMatchingIndexingMap(op.getDpsInputOperand(0)).isIdentity())
    return std::nullopt;
  Block &body = op.getRegion().front();
  Value x = body.getArgument(0);
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != 1)
    return std::nullopt;
  Value r = yield.getOperand(0);
  // Every op of the body must be part of the pattern: count them.
  size_t numOps = body.getOperations().size() - 1;
  Activation act;
  Value t;
  // ReLU.
  if (std::optional<float> c = matchBinaryWithConstant<arith::MaximumFOp>(r, t);
      c && *c == 0.0f && t == x && numOps == 1) {
    act.kind = QRT_UK_ACT_RELU;
    return act;
  }
  // HardSwish: x * hardsigmoid(x).
  Value gate = r;
  bool swish = false;
  if (auto mul = r.getDefiningOp<arith::MulFOp>()) {
    if (mul.getLhs() == x) {
      gate = mul.getRhs();
      swish = true;
    } else if (mul.getRhs() == x) {
      gate = mul.getLhs();
      swish = true;
    }
  }
  float lo, hi;
  Value clamped = matchClamp(gate, lo, hi);
  if (!clamped)
    return std::nullopt;
  // Clip.
  if (!swish && clamped == x && numOps == 2) {
    act.kind = QRT_UK_ACT_CLIP;
    act.alpha = lo;
    act.beta = hi;
    return act;
  }
  // HardSigmoid's x * alpha + beta.
  Value scaled, xs;
  std::optional<float> beta =
      matchBinaryWithConstant<arith::AddFOp>(clamped, scaled);
  std::optional<float> alpha =
      beta ? matchBinaryWithConstant<arith::MulFOp>(scaled, xs) : std::nullopt;
  if (!alpha || xs != x || lo != 0.0f || hi != 1.0f ||
      numOps != (swish ? 5u : 4u))
    return std::nullopt;
  act.kind = swish ? QRT_UK_ACT_HARDSWISH : QRT_UK_ACT_HARDSIGMOID;
  act.alpha = *alpha;
  act.beta = *beta;
  return act;
}

/// The f32 values of a constant tensor, if `v` is one.
std::optional<SmallVector<float>> getConstantData(Value v) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (!dense.getElementType().isF32())
      return std::nullopt;
    auto values = dense.getValues<float>();
    return SmallVector<float>(values.begin(), values.end());
  }
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data || int64_t(data->size()) != resource.getNumElements())
      return std::nullopt;
    return SmallVector<float>(data->begin(), data->end());
  }
  return std::nullopt;
}

/// The filter `w` ([F, Cg, k...], constant) packed in the layout
/// qrt_uk_conv2d_f32_fused reads (UKernels.h: QRT_UK_CONV_PACK_MR-row
/// panels per group, full depth), as a new constant; null if `w` is not a
/// constant.
Value packFilter(OpBuilder &b, Location loc, Value w, int64_t groups) {
  std::optional<SmallVector<float>> data = getConstantData(w);
  if (!data)
    return {};
  auto type = cast<RankedTensorType>(w.getType());
  constexpr int64_t mr = QRT_UK_CONV_PACK_MR;
  int64_t f = type.getDimSize(0), fg = f / groups;
  int64_t k = type.getNumElements() / f;
  int64_t fgp = llvm::divideCeil(fg, mr) * mr;
  SmallVector<float> packed(groups * fgp * k, 0.0f);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t row = 0; row < fg; ++row)
      for (int64_t col = 0; col < k; ++col)
        packed[(g * fgp + row / mr * mr) * k + col * mr + row % mr] =
            (*data)[(g * fg + row) * k + col];
  auto packedType =
      RankedTensorType::get({int64_t(packed.size())}, b.getF32Type());
  auto attr = DenseResourceElementsAttr::get(
      packedType, "conv_filter_packed",
      HeapAsmResourceBlob::allocateAndCopyWithAlign(
          ArrayRef<char>(reinterpret_cast<const char *>(packed.data()),
                         packed.size() * sizeof(float)),
          64));
  return arith::ConstantOp::create(b, loc, attr);
}

/// The element pointer of a dense row-major view of tensor `v`.
Value getReadPointer(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
  auto toBuffer = bufferization::ToBufferOp::create(b, loc, memrefType, v);
  toBuffer.setReadOnly(true);
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, toBuffer);
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), base);
  return LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext()), asInt);
}

struct CPUFuseConvUKernelsPass
    : public qopt::impl::CPUFuseConvUKernelsBase<CPUFuseConvUKernelsPass> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, qopt::UKernelConvolution>> convs;
    getOperation().walk([&](linalg::GenericOp op) {
      if (!op.hasPureTensorSemantics() ||
          !op->hasAttr(qopt::kConvZeroInitAttrName))
        return;
      // f32 convolutions only: W8A8 ones (i8 x i8 -> i32) go to
      // qrt_uk_conv2d_s8_i32 through qopt-cpu-lower-conv-to-ukernels.
      if (!llvm::all_of(op->getOperandTypes(),
                        [](Type t) { return getElementTypeOrSelf(t).isF32(); }))
        return;
      if (std::optional<qopt::UKernelConvolution> conv =
              qopt::matchUKernelConvolution(op))
        convs.emplace_back(op, *conv);
    });
    for (auto &[op, conv] : convs)
      fuse(op, conv);
  }

  void fuse(linalg::GenericOp op, const qopt::UKernelConvolution &conv);
  func::FuncOp getDeclaration(TypeRange argTypes);
};

func::FuncOp CPUFuseConvUKernelsPass::getDeclaration(TypeRange argTypes) {
  ModuleOp module = getOperation();
  if (auto decl = module.lookupSymbol<func::FuncOp>(kFusedConvKernel))
    return decl;
  OpBuilder b(module.getBodyRegion());
  auto decl =
      func::FuncOp::create(b, module.getLoc(), kFusedConvKernel,
                           FunctionType::get(&getContext(), argTypes, {}));
  decl.setPrivate();
  return decl;
}

void CPUFuseConvUKernelsPass::fuse(linalg::GenericOp op,
                                   const qopt::UKernelConvolution &conv) {
  bool is2D = conv.spatialRank == 2;
  Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1];
  // The zero padding of the spatial dimensions.
  int64_t padTop = 0, padLeft = 0;
  if (auto pad = x.getDefiningOp<tensor::PadOp>()) {
    std::optional<float> value =
        getConstantFloat(pad.getConstantPaddingValue());
    SmallVector<int64_t> low = llvm::to_vector(pad.getStaticLow());
    SmallVector<int64_t> high = llvm::to_vector(pad.getStaticHigh());
    bool ok = value && *value == 0.0f && !pad.getNofold() && low[0] == 0 &&
              low[1] == 0 && high[0] == 0 && high[1] == 0;
    for (int64_t v : llvm::concat<int64_t>(low, high))
      ok = ok && !ShapedType::isDynamic(v) && v >= 0;
    if (ok) {
      padTop = is2D ? low[2] : 0;
      padLeft = low.back();
      x = pad.getSource();
    }
  }
  // Bias, then activation, each only when it is the sole user.
  SmallVector<Operation *> chain = {op};
  Value result = op->getResult(0), bias;
  if (linalg::GenericOp biasOp = getSingleGenericUser(result)) {
    if ((bias = matchBias(biasOp, result))) {
      chain.push_back(biasOp);
      result = biasOp->getResult(0);
    }
  }
  Activation act;
  if (linalg::GenericOp actOp = getSingleGenericUser(result)) {
    if (std::optional<Activation> a = matchActivation(actOp, result)) {
      act = *a;
      chain.push_back(actOp);
      result = actOp->getResult(0);
    }
  }

  OpBuilder b(chain.back());
  Location loc = op.getLoc();
  Type i64 = b.getI64Type();
  auto constant = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, i64, v);
  };
  Value y = op.getDpsInits()[0];
  auto nullPointer = [&]() -> Value {
    return LLVM::ZeroOp::create(b, loc,
                                LLVM::LLVMPointerType::get(&getContext()));
  };
  // A constant filter of a convolution that runs as a GEMM (not depthwise,
  // more than one output pixel) is packed once, here.
  auto yType = cast<RankedTensorType>(y.getType());
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t pixels = 1;
  for (int64_t d : yType.getShape().drop_front(2))
    pixels = ShapedType::isDynamic(d) || pixels == ShapedType::kDynamic
                 ? ShapedType::kDynamic
                 : pixels * d;
  bool depthwise =
      wType.getDimSize(1) == 1 && wType.getDimSize(0) == conv.groups;
  Value packed;
  if (!depthwise && pixels != 1)
    packed = packFilter(b, loc, w, conv.groups);
  SmallVector<Value> args = buildConvGeometryArgs(b, loc, conv, x, w, y);
  args.append({constant(padTop), constant(padLeft), constant(conv.groups),
               getReadPointer(b, loc, x), getReadPointer(b, loc, w),
               packed ? getReadPointer(b, loc, packed) : nullPointer(),
               bias ? getReadPointer(b, loc, bias) : nullPointer(),
               arith::ConstantIntOp::create(b, loc, b.getI32Type(), act.kind),
               arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                              APFloat(act.alpha)),
               arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                              APFloat(act.beta))});
  auto resultType = cast<RankedTensorType>(result.getType());
  SmallVector<Value> dynSizes;
  for (int64_t i = 0; i < resultType.getRank(); ++i)
    if (resultType.isDynamicDim(i))
      dynSizes.push_back(tensor::DimOp::create(b, loc, y, i));
  auto outType =
      MemRefType::get(resultType.getShape(), resultType.getElementType());
  Value out = memref::AllocOp::create(b, loc, outType, dynSizes,
                                      b.getI64IntegerAttr(64));
  Value outBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, out);
  Value outInt = arith::IndexCastOp::create(b, loc, i64, outBase);
  args.push_back(LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(&getContext()), outInt));
  args.push_back(arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0));
  func::FuncOp decl = getDeclaration(
      llvm::map_to_vector(args, [](Value a) { return a.getType(); }));
  func::CallOp::create(b, loc, decl, args);
  auto toTensor = bufferization::ToTensorOp::create(b, loc, resultType, out);
  toTensor.setRestrict(true);
  toTensor.setWritable(true);
  result.replaceAllUsesWith(toTensor.getResult());

  // The chain, last first, then what only fed it (the pad, empty inits).
  llvm::SetVector<Operation *> worklist;
  for (Operation *dead : llvm::reverse(chain)) {
    for (Value operand : dead->getOperands())
      if (Operation *def = operand.getDefiningOp())
        worklist.insert(def);
    worklist.remove(dead);
    dead->erase();
  }
  while (!worklist.empty()) {
    Operation *dead = worklist.pop_back_val();
    if (!isOpTriviallyDead(dead))
      continue;
    for (Value operand : dead->getOperands())
      if (Operation *def = operand.getDefiningOp())
        worklist.insert(def);
    dead->erase();
  }
}

} // namespace
