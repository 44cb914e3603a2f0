//===- FuseAttention.cpp - scaled dot-product attention to one ukernel ----===//
//
// Attention as frontends spell it is five ops over a [B, H, Sq, Skv] score
// tensor: Q K^T, * scale, + mask, softmax, * V. At 2048 tokens that tensor
// is 134 MB per layer and batch row, written and read four times, and half
// of it is a causal mask's -inf (or finfo.min) that still costs its matmul
// and exponentials. The runtime's qrt_uk_attention_f32 does the whole chain
// flash-attention style, block by block in L1, skipping masked-out blocks;
// this pass finds the chain on tensors and calls it.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUFUSEATTENTION
#include "qopt/Codegen/CPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// A rank-4 f32 tensor read by the kernel as [batch, head, row, col]:
/// logical dimension l is dimension `dims[l]` of `value` (-1: broadcast,
/// stride 0).
struct Operand {
  Value value;
  SmallVector<int64_t, 4> dims = {0, 1, 2, 3};
  int64_t group = 1;
};

bool isF32Tensor(Value v, int64_t rank) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getElementType().isF32() && type.getRank() == rank;
}

bool isZeroFill(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  FloatAttr value;
  return fill &&
         matchPattern(fill.getInputs()[0], m_Constant<FloatAttr>(&value)) &&
         value.getValueAsDouble() == 0.0;
}

/// Whether `op`'s body is out + in0 * in1 (either operand order).
bool isMulAddBody(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 3)
    return false;
  auto mul = dyn_cast<arith::MulFOp>(&body.front());
  auto add = dyn_cast<arith::AddFOp>(mul ? mul->getNextNode() : nullptr);
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (!mul || !add || yield.getNumOperands() != 1 ||
      yield.getOperand(0) != add.getResult())
    return false;
  Value a0 = body.getArgument(0), a1 = body.getArgument(1),
        out = body.getArgument(2);
  bool mulOk = (mul.getLhs() == a0 && mul.getRhs() == a1) ||
               (mul.getLhs() == a1 && mul.getRhs() == a0);
  bool addOk = (add.getLhs() == out && add.getRhs() == mul.getResult()) ||
               (add.getRhs() == out && add.getLhs() == mul.getResult());
  return mulOk && addOk;
}

/// A batched matmul over [d0, d1] with a zero-filled f32 output
/// [d0, d1, d2, d3] and reduction d4: lhs [d0, d1, d2, d4], rhs [d0, d1,
/// d4, d3] (`rhsTransposed` false) or [d0, d1, d3, d4] (true).
linalg::GenericOp matchBatchMatmul(Value value, bool &rhsTransposed) {
  auto op = value.getDefiningOp<linalg::GenericOp>();
  if (!op || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 5 || !isF32Tensor(value, 4))
    return {};
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned i = 0; i < 5; ++i)
    if ((iterators[i] == utils::IteratorType::reduction) != (i == 4))
      return {};
  MLIRContext *ctx = op.getContext();
  auto map = [&](ArrayRef<unsigned> dims) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d : dims)
      exprs.push_back(getAffineDimExpr(d, ctx));
    return AffineMap::get(5, 0, exprs, ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps[0] != map({0, 1, 2, 4}) || maps[2] != map({0, 1, 2, 3}))
    return {};
  if (maps[1] == map({0, 1, 4, 3}))
    rhsTransposed = false;
  else if (maps[1] == map({0, 1, 3, 4}))
    rhsTransposed = true;
  else
    return {};
  if (!isMulAddBody(op) || !isZeroFill(op.getDpsInits()[0]) ||
      !isF32Tensor(op.getDpsInputs()[0], 4) ||
      !isF32Tensor(op.getDpsInputs()[1], 4))
    return {};
  return op;
}

/// Looks through the head broadcast of grouped-query attention:
///   collapse_shape [[0], [1, 2], [3], [4]] (generic broadcast [b, hk, 1, s,
///   d] -> [b, hk, G, s, d] (expand_shape [[0], [1, 2], [3], [4]] of x))
/// gives x with group G (query head h reads head h / G of x).
Operand peelGroupBroadcast(Value v) {
  Operand plain{v};
  auto collapse = v.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse || collapse.getSrcType().getRank() != 5)
    return plain;
  SmallVector<ReassociationIndices> reassoc =
      collapse.getReassociationIndices();
  if (reassoc.size() != 4 || reassoc[1] != ReassociationIndices{1, 2})
    return plain;
  auto bcast = collapse.getSrc().getDefiningOp<linalg::GenericOp>();
  if (!bcast || bcast.getNumDpsInputs() != 1 || bcast.getNumDpsInits() != 1 ||
      bcast.getNumReductionLoops() != 0)
    return plain;
  Block &body = bcast.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (body.getOperations().size() != 1 || yield.getNumOperands() != 1 ||
      yield.getOperand(0) != body.getArgument(0))
    return plain;
  MLIRContext *ctx = v.getContext();
  AffineExpr d[5];
  for (unsigned i = 0; i < 5; ++i)
    d[i] = getAffineDimExpr(i, ctx);
  SmallVector<AffineMap> maps = bcast.getIndexingMapsArray();
  if (maps[0] != AffineMap::get(
                     5, 0,
                     {d[0], d[1], getAffineConstantExpr(0, ctx), d[3], d[4]},
                     ctx) ||
      !maps[1].isIdentity())
    return plain;
  auto expand = bcast.getDpsInputs()[0].getDefiningOp<tensor::ExpandShapeOp>();
  auto outType = cast<RankedTensorType>(collapse.getSrcType());
  if (!expand || expand.getReassociationIndices() != reassoc ||
      outType.isDynamicDim(2) || !isF32Tensor(expand.getSrc(), 4))
    return plain;
  return Operand{expand.getSrc(), {0, 1, 2, 3}, outType.getDimSize(2)};
}

/// The f32 scalar `v` holds when it is a constant (a rank-0 or splat tensor
/// or a scalar).
std::optional<double> getScalarConstant(Value v) {
  FloatAttr f;
  if (matchPattern(v, m_Constant<FloatAttr>(&f)))
    return f.getValueAsDouble();
  DenseElementsAttr dense;
  if (matchPattern(v, m_Constant(&dense)) && dense.isSplat() &&
      dense.getElementType().isF32())
    return double(dense.getSplatValue<float>());
  return std::nullopt;
}

/// An elementwise f32 generic over 4 loops with an identity output, one
/// input read in full (`chain`) and one other input; the body applies OpTy
/// to them. Returns the other input's operand number, or -1.
template <typename OpTy> int matchBinary(linalg::GenericOp op, Value &chain) {
  if (!op || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 4 || op.getNumReductionLoops() != 0 ||
      !op.getIndexingMapsArray()[2].isIdentity())
    return -1;
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 2)
    return -1;
  auto inner = dyn_cast<OpTy>(&body.front());
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (!inner || yield.getOperand(0) != inner->getResult(0))
    return -1;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  for (int full : {0, 1}) {
    int other = 1 - full;
    if (inner->getOperand(0) != body.getArgument(full) ||
        inner->getOperand(1) != body.getArgument(other))
      // Commutative ops take either order; divf only chain / other.
      if (!OpTy::template hasTrait<OpTrait::IsCommutative>() ||
          inner->getOperand(1) != body.getArgument(full) ||
          inner->getOperand(0) != body.getArgument(other))
        continue;
    if (!maps[full].isIdentity())
      continue;
    chain = op.getDpsInputs()[full];
    return other;
  }
  return -1;
}

/// The mask operand of an add whose other input has map `map`: each result
/// of the map is a loop dimension (read with that dimension's stride) or
/// the constant 0 (a size-1 dimension); loops it does not read broadcast.
std::optional<Operand> getMaskOperand(Value mask, AffineMap map) {
  auto type = dyn_cast<RankedTensorType>(mask.getType());
  if (!type || !type.getElementType().isF32() || map.getNumDims() != 4)
    return std::nullopt;
  Operand result{mask, {-1, -1, -1, -1}};
  for (auto [i, expr] : llvm::enumerate(map.getResults())) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      if (result.dims[dim.getPosition()] != -1)
        return std::nullopt;
      result.dims[dim.getPosition()] = i;
      continue;
    }
    auto c = dyn_cast<AffineConstantExpr>(expr);
    if (!c || c.getValue() != 0)
      return std::nullopt;
  }
  return result;
}

struct CPUFuseAttentionPass
    : public qopt::impl::CPUFuseAttentionBase<CPUFuseAttentionPass> {
  void runOnOperation() override;

private:
  bool fuse(linalg::GenericOp pv);
};

/// The memref view of tensor `v` (read only), its element pointer and its
/// strides, for the call.
struct OperandArgs {
  Value pointer;
  SmallVector<Value, 4> strides;
};

OperandArgs getOperandArgs(OpBuilder &b, Location loc, const Operand &operand,
                           bool readOnly, Value buffer = {}) {
  auto tensorType = cast<RankedTensorType>(operand.value.getType());
  int64_t rank = tensorType.getRank();
  if (!buffer) {
    SmallVector<int64_t> strides(rank, ShapedType::kDynamic);
    auto layout =
        StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, strides);
    auto memrefType = MemRefType::get(tensorType.getShape(),
                                      tensorType.getElementType(), layout);
    auto toBuffer =
        bufferization::ToBufferOp::create(b, loc, memrefType, operand.value);
    toBuffer.setReadOnly(readOnly);
    buffer = toBuffer.getResult();
  }
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer)
                   .getResult();
  Value bytes = arith::MulIOp::create(
      b, loc, meta.getOffset(), arith::ConstantIndexOp::create(b, loc, 4));
  Value address = arith::AddIOp::create(b, loc, base, bytes);
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), address);
  OperandArgs args;
  args.pointer = LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext()), asInt);
  Value zero = arith::ConstantIntOp::create(b, loc, 0, 64);
  for (int64_t dim : operand.dims)
    args.strides.push_back(
        dim < 0 ? zero
                : arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                             meta.getStrides()[dim])
                      .getResult());
  return args;
}

bool CPUFuseAttentionPass::fuse(linalg::GenericOp pvOp) {
  // O = P V.
  bool vTransposed = false;
  if (matchBatchMatmul(pvOp.getResult(0), vTransposed) != pvOp)
    return false;
  auto softmax = pvOp.getDpsInputs()[0].getDefiningOp<linalg::SoftmaxOp>();
  if (!softmax || softmax.getDimension() != 3 ||
      !softmax.getResult()[0].hasOneUse())
    return false;
  Operand v = vTransposed ? Operand{pvOp.getDpsInputs()[1], {0, 1, 3, 2}}
                          : peelGroupBroadcast(pvOp.getDpsInputs()[1]);

  // P = softmax([Q K^T * scale] [+ mask]).
  SmallVector<Operation *> chain = {pvOp, softmax};
  Value x = softmax.getInput();
  std::optional<Operand> mask;
  double scale = 1.0;
  if (auto add = x.getDefiningOp<linalg::GenericOp>()) {
    Value inner;
    int other = matchBinary<arith::AddFOp>(add, inner);
    if (other >= 0 && x.hasOneUse()) {
      mask = getMaskOperand(add.getDpsInputs()[other],
                            add.getIndexingMapsArray()[other]);
      if (!mask)
        return false;
      chain.push_back(add);
      x = inner;
    }
  }
  if (auto mul = x.getDefiningOp<linalg::GenericOp>()) {
    Value inner;
    int other = matchBinary<arith::MulFOp>(mul, inner);
    bool isDiv = false;
    if (other < 0) {
      other = matchBinary<arith::DivFOp>(mul, inner);
      isDiv = other >= 0;
    }
    if (other >= 0 && x.hasOneUse()) {
      std::optional<double> c = getScalarConstant(mul.getDpsInputs()[other]);
      if (c && (!isDiv || *c != 0.0)) {
        scale = isDiv ? 1.0 / *c : *c;
        chain.push_back(mul);
        x = inner;
      }
    }
  }
  bool kNotTransposed = false;
  linalg::GenericOp qkOp = matchBatchMatmul(x, kNotTransposed);
  if (!qkOp || !x.hasOneUse())
    return false;
  chain.push_back(qkOp);
  Operand q{qkOp.getDpsInputs()[0]};
  Value kValue = qkOp.getDpsInputs()[1];
  Operand k;
  if (kNotTransposed) {
    k = peelGroupBroadcast(kValue);
  } else if (auto t = kValue.getDefiningOp<linalg::TransposeOp>();
             t && t.getPermutation() == ArrayRef<int64_t>{0, 1, 3, 2} &&
             isF32Tensor(t.getInput(), 4)) {
    k = peelGroupBroadcast(t.getInput());
  } else {
    // K^T itself: K's rows are its columns.
    k = Operand{kValue, {0, 1, 3, 2}};
  }
  // One group for K and V, or none.
  if (k.group != v.group) {
    if (k.group != 1 || v.group != 1)
      return false;
  }
  int64_t group = k.group;

  // The output: [B, H, Sq, Dv], or [B, Sq, H, Dv] when its one user is that
  // transpose.
  Operation *last = pvOp;
  Value result = pvOp.getResult(0);
  auto resultType = cast<RankedTensorType>(result.getType());
  bool absorbTranspose = false;
  if (result.hasOneUse())
    if (auto t = dyn_cast<linalg::TransposeOp>(*result.getUsers().begin());
        t && t.getPermutation() == ArrayRef<int64_t>{0, 2, 1, 3}) {
      absorbTranspose = true;
      last = t;
      result = t.getResult()[0];
      resultType = cast<RankedTensorType>(result.getType());
    }

  OpBuilder b(last);
  Location loc = last->getLoc();
  auto dimOf = [&](const Operand &o, int64_t logical) -> Value {
    return tensor::DimOp::create(b, loc, o.value, o.dims[logical]);
  };
  auto i64 = [&](Value index) -> Value {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  };
  Value batch = dimOf(q, 0), heads = dimOf(q, 1), sq = dimOf(q, 2),
        d = dimOf(q, 3), skv = dimOf(k, 2), dv = dimOf(v, 3);
  // The output buffer, in the result's layout.
  SmallVector<Value> dynSizes;
  Value sizes[4] = {batch, absorbTranspose ? sq : heads,
                    absorbTranspose ? heads : sq, dv};
  for (int64_t i = 0; i < 4; ++i)
    if (resultType.isDynamicDim(i))
      dynSizes.push_back(sizes[i]);
  auto outType =
      MemRefType::get(resultType.getShape(), resultType.getElementType());
  Value out = memref::AllocOp::create(b, loc, outType, dynSizes,
                                      b.getI64IntegerAttr(64));
  Operand o{result, absorbTranspose ? SmallVector<int64_t, 4>{0, 2, 1, 3}
                                    : SmallVector<int64_t, 4>{0, 1, 2, 3}};

  OperandArgs qa = getOperandArgs(b, loc, q, true),
              ka = getOperandArgs(b, loc, k, true),
              va = getOperandArgs(b, loc, v, true),
              oa = getOperandArgs(b, loc, o, false, out);
  SmallVector<Value> args = {i64(batch),
                             i64(heads),
                             i64(sq),
                             i64(skv),
                             i64(d),
                             i64(dv),
                             arith::ConstantIntOp::create(b, loc, group, 64)};
  for (OperandArgs *a : {&qa, &ka, &va}) {
    args.push_back(a->pointer);
    llvm::append_range(args, a->strides);
  }
  if (mask) {
    OperandArgs ma = getOperandArgs(b, loc, *mask, true);
    args.push_back(ma.pointer);
    llvm::append_range(args, ma.strides);
  } else {
    args.push_back(LLVM::ZeroOp::create(
        b, loc, LLVM::LLVMPointerType::get(b.getContext())));
    Value zero = arith::ConstantIntOp::create(b, loc, 0, 64);
    args.append(4, zero);
  }
  args.push_back(arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                                APFloat(float(scale))));
  args.push_back(oa.pointer);
  llvm::append_range(args, oa.strides);

  // Declare the kernel on first use.
  ModuleOp module = getOperation();
  StringRef name = "qrt_uk_attention_f32";
  auto fnType = FunctionType::get(
      &getContext(),
      llvm::map_to_vector(args, [](Value a) { return a.getType(); }), {});
  auto decl = module.lookupSymbol<func::FuncOp>(name);
  if (!decl) {
    OpBuilder mb(module.getBodyRegion());
    decl = func::FuncOp::create(mb, module.getLoc(), name, fnType);
    decl.setPrivate();
  }
  func::CallOp::create(b, loc, decl, args);
  auto toTensor = bufferization::ToTensorOp::create(b, loc, resultType, out);
  toTensor.setRestrict(true);
  toTensor.setWritable(true);
  result.replaceAllUsesWith(toTensor.getResult());
  // The chain, then what only fed it (K's transpose, the head broadcasts,
  // the zero fills).
  llvm::SetVector<Operation *> worklist;
  auto erase = [&](Operation *op) {
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        worklist.insert(def);
    worklist.remove(op);
    op->erase();
  };
  if (absorbTranspose)
    erase(last);
  for (Operation *op : chain)
    erase(op);
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (isOpTriviallyDead(op))
      erase(op);
  }
  return true;
}

void CPUFuseAttentionPass::runOnOperation() {
  SmallVector<linalg::GenericOp> candidates;
  getOperation().walk([&](linalg::GenericOp op) {
    if (op.getNumDpsInputs() == 2 &&
        op.getDpsInputs()[0].getDefiningOp<linalg::SoftmaxOp>())
      candidates.push_back(op);
  });
  for (linalg::GenericOp op : candidates)
    (void)fuse(op);
}

} // namespace
