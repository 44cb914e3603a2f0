//===- LowerToUKernels.cpp - matmul-like contractions to ukernel calls ----===//
//
// The f32 matmul is the one kernel where a hand-scheduled register tile
// (BLIS-style packing, an MR x 16 FMA micro-kernel, threads over panels)
// beats what generic tiling and vectorization produce by an order of
// magnitude. Like IREE's ukernels, the runtime provides it and the compiler
// calls it with pointers and strides, so every layout the bufferizer picks
// is accepted without copies.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_LOWERTOUKERNELS
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// Columns per panel of the packed B layout; fixed by the runtime's ABI
/// (include/qopt/Runtime/UKernels.h), independent of the vector ISA.
constexpr int64_t kPanelWidth = 16;

/// Flag bit of the ukernel ABI: add to C instead of overwriting it.
constexpr int32_t kAccumulate = 1;

/// Returns the f32 data of a constant memref.global, or nullopt when the
/// initializer is not available as f32 values.
std::optional<SmallVector<float>> getGlobalData(memref::GlobalOp global) {
  if (!global.getConstant())
    return std::nullopt;
  Attribute init = global.getInitialValue().value_or(Attribute());
  int64_t count = global.getType().getNumElements();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(init)) {
    if (!dense.getElementType().isF32())
      return std::nullopt;
    auto values = dense.getValues<float>();
    return SmallVector<float>(values.begin(), values.end());
  }
  if (auto resource = dyn_cast_or_null<DenseF32ResourceElementsAttr>(init)) {
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data || static_cast<int64_t>(data->size()) != count)
      return std::nullopt;
    return SmallVector<float>(data->begin(), data->end());
  }
  return std::nullopt;
}

struct LowerToUKernelsPass
    : public qopt::impl::LowerToUKernelsBase<LowerToUKernelsPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  func::FuncOp getOrDeclare(StringRef name, FunctionType type);
  /// Calls runtime kernel `name` with `args`, declaring it (with the
  /// argument types) on first use.
  void callKernel(OpBuilder &b, Location loc, StringRef name,
                  ArrayRef<Value> args);
  /// The packed copy of constant `global` read through `map` ((k, n) or
  /// (n, k) over the loops `kDim`, `nDim`), created once per global.
  memref::GlobalOp getPackedGlobal(memref::GlobalOp global, bool kMajor);
  LogicalResult lower(linalg::LinalgOp op);
  /// Lowers a `qopt_wo_gemm` contraction; leaves it as loops (returns
  /// failure) when its buffers are not laid out as the kernel reads them.
  LogicalResult lowerWeightOnly(linalg::GenericOp op);
  /// Lowers a last-dimension f32 softmax on buffers to `qrt_uk_softmax`.
  void lowerSoftmax(linalg::SoftmaxOp op);

  SymbolTable *symbols = nullptr;
  llvm::DenseMap<std::pair<Operation *, unsigned>, memref::GlobalOp> packed;
};

func::FuncOp LowerToUKernelsPass::getOrDeclare(StringRef name,
                                               FunctionType type) {
  if (auto func = symbols->lookup<func::FuncOp>(name))
    return func;
  OpBuilder b(getOperation().getBodyRegion());
  auto func = func::FuncOp::create(b, getOperation().getLoc(), name, type);
  func.setPrivate();
  symbols->insert(func);
  return func;
}

void LowerToUKernelsPass::callKernel(OpBuilder &b, Location loc, StringRef name,
                                     ArrayRef<Value> args) {
  SmallVector<Type> argTypes =
      llvm::map_to_vector(args, [](Value v) { return v.getType(); });
  func::FuncOp decl =
      getOrDeclare(name, FunctionType::get(&getContext(), argTypes, {}));
  func::CallOp::create(b, loc, decl, args);
}

memref::GlobalOp LowerToUKernelsPass::getPackedGlobal(memref::GlobalOp global,
                                                      bool kMajor) {
  auto key = std::make_pair(global.getOperation(), unsigned(kMajor));
  if (memref::GlobalOp cached = packed.lookup(key))
    return cached;
  MemRefType type = global.getType();
  if (type.getRank() != 2 || !type.hasStaticShape() ||
      !type.getElementType().isF32())
    return {};
  std::optional<SmallVector<float>> data = getGlobalData(global);
  if (!data)
    return {};
  int64_t k = type.getDimSize(kMajor ? 0 : 1);
  int64_t n = type.getDimSize(kMajor ? 1 : 0);
  int64_t panels = llvm::divideCeil(n, kPanelWidth);
  SmallVector<float> packedData(panels * kPanelWidth * k, 0.0f);
  for (int64_t col = 0; col < n; ++col)
    for (int64_t row = 0; row < k; ++row)
      packedData[((col / kPanelWidth) * k + row) * kPanelWidth +
                 col % kPanelWidth] =
          (*data)[kMajor ? row * n + col : col * k + row];

  MLIRContext *ctx = &getContext();
  auto packedType = MemRefType::get({static_cast<int64_t>(packedData.size())},
                                    Float32Type::get(ctx));
  std::string name = (global.getSymName() + "_packed").str();
  auto init = DenseF32ResourceElementsAttr::get(
      RankedTensorType::get(packedType.getShape(), Float32Type::get(ctx)), name,
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef(packedData)));
  OpBuilder b(global);
  auto result = memref::GlobalOp::create(
      b, global.getLoc(), name, b.getStringAttr("private"), packedType, init,
      /*constant=*/true, b.getI64IntegerAttr(64));
  symbols->insert(result);
  packed[key] = result;
  return result;
}

/// Pointer to element `offset` of `memref`'s aligned buffer, as `!llvm.ptr`.
Value getElementPointer(OpBuilder &b, Location loc, Value memref,
                        Value offset) {
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref)
                   .getResult();
  int64_t elementBytes = llvm::divideCeil(
      getElementTypeOrSelf(memref.getType()).getIntOrFloatBitWidth(), 8);
  Value bytes = arith::MulIOp::create(
      b, loc, offset, arith::ConstantIndexOp::create(b, loc, elementBytes));
  Value address = arith::AddIOp::create(b, loc, base, bytes);
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), address);
  return LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext()), asInt);
}

Value toI64(OpBuilder &b, Location loc, Value index) {
  return arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
}

/// Marks the loops around kernel calls as parallel: every iteration writes
/// its own slice of the output. qopt-outline-parallel-loops then runs whole
/// calls on threads (each kernel serially inside), which beats splitting
/// each of many small calls across the pool.
void markParallel(scf::LoopNest &nest) {
  for (scf::ForOp loop : nest.loops)
    loop->setAttr(qopt::kParallelLoopAttrName,
                  UnitAttr::get(loop.getContext()));
}

/// Pointer to the element of `memref` at indices `ivs` in its leading
/// dimensions and 0 in the others.
Value getLeadingPointer(OpBuilder &b, Location loc,
                        memref::ExtractStridedMetadataOp meta, Value memref,
                        ValueRange ivs) {
  Value offset = meta.getOffset();
  for (auto [i, iv] : llvm::enumerate(ivs))
    offset = arith::AddIOp::create(
        b, loc, offset,
        arith::MulIOp::create(b, loc, iv, meta.getStrides()[i]));
  return getElementPointer(b, loc, memref, offset);
}

/// The stride between rows (the second-to-last dimension) of a rank-`rank`
/// memref; 0 for a single row.
Value getRowStride(OpBuilder &b, Location loc,
                   memref::ExtractStridedMetadataOp meta, int64_t rank) {
  if (rank >= 2)
    return meta.getStrides()[rank - 2];
  return arith::ConstantIndexOp::create(b, loc, 0);
}

LogicalResult LowerToUKernelsPass::lower(linalg::LinalgOp op) {
  linalg::ContractionDimensions dims = *linalg::inferContractionDims(op);
  unsigned kDim = dims.k.front(), nDim = dims.n.front();
  // The innermost m dimension is the kernel's M; outer ones (a [B, S, K]
  // input to a linear layer) are looped over like batch dimensions, except
  // that B does not move along them.
  std::optional<unsigned> mDim;
  SmallVector<unsigned> loopDims(dims.batch.begin(), dims.batch.end());
  if (!dims.m.empty()) {
    mDim = dims.m.back();
    loopDims.append(dims.m.begin(), std::prev(dims.m.end()));
  }

  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Range> ranges = op.createLoopRanges(b, loc);
  auto loopSize = [&](unsigned dim) {
    return getValueOrCreateConstantIndexOp(b, loc, ranges[dim].size);
  };
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value m = mDim ? loopSize(*mDim) : one;
  Value n = loopSize(nDim), k = loopSize(kDim);

  // Per operand: its strided metadata and, per loop dim, the stride along it
  // (zero where the operand does not depend on that loop).
  struct OperandInfo {
    Value memref;
    AffineMap map;
    mutable memref::ExtractStridedMetadataOp meta;
    Value strideAlong(unsigned dim, Value zero) const {
      for (auto [i, expr] : llvm::enumerate(map.getResults()))
        if (cast<AffineDimExpr>(expr).getPosition() == dim)
          return meta.getStrides()[i];
      return zero;
    }
  };
  SmallVector<OperandInfo> operands;
  for (OpOperand &operand : op->getOpOperands()) {
    OperandInfo info{operand.get(), op.getMatchingIndexingMap(&operand), {}};
    info.meta = memref::ExtractStridedMetadataOp::create(b, loc, operand.get());
    operands.push_back(info);
  }

  // A constant 2-D B is repacked at compile time.
  memref::GlobalOp packedB;
  if (packConstantWeights && dims.batch.empty())
    if (auto getGlobal =
            operands[1].memref.getDefiningOp<memref::GetGlobalOp>())
      if (auto global = symbols->lookup<memref::GlobalOp>(getGlobal.getName()))
        packedB = getPackedGlobal(
            global,
            cast<AffineDimExpr>(operands[1].map.getResult(0)).getPosition() ==
                kDim);

  Type i32 = b.getI32Type();

  SmallVector<Value> lbs, ubs, steps;
  for (unsigned dim : loopDims) {
    lbs.push_back(zero);
    ubs.push_back(loopSize(dim));
    steps.push_back(one);
  }
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, [&](OpBuilder &b, Location loc, ValueRange ivs) {
        // Element offset of the current batch in each operand.
        auto pointerTo = [&](const OperandInfo &info) {
          Value offset = info.meta.getOffset();
          for (auto [dim, iv] : llvm::zip(loopDims, ivs))
            offset = arith::AddIOp::create(
                b, loc, offset,
                arith::MulIOp::create(b, loc, iv, info.strideAlong(dim, zero)));
          return getElementPointer(b, loc, info.memref, offset);
        };
        const OperandInfo &a = operands[0], &bInfo = operands[1],
                          &c = operands[2];
        SmallVector<Value> args = {toI64(b, loc, m), toI64(b, loc, n),
                                   toI64(b, loc, k), pointerTo(a)};
        args.push_back(toI64(b, loc, mDim ? a.strideAlong(*mDim, zero) : zero));
        args.push_back(toI64(b, loc, a.strideAlong(kDim, zero)));
        StringRef callee;
        if (packedB) {
          callee = "qrt_uk_sgemm_packed";
          Value global = memref::GetGlobalOp::create(b, loc, packedB.getType(),
                                                     packedB.getSymName());
          args.push_back(getElementPointer(b, loc, global, zero));
        } else {
          callee = "qrt_uk_sgemm";
          args.push_back(pointerTo(bInfo));
          args.push_back(toI64(b, loc, bInfo.strideAlong(kDim, zero)));
          args.push_back(toI64(b, loc, bInfo.strideAlong(nDim, zero)));
        }
        args.push_back(pointerTo(c));
        args.push_back(toI64(b, loc, mDim ? c.strideAlong(*mDim, zero) : zero));
        args.push_back(toI64(b, loc, c.strideAlong(nDim, zero)));
        args.push_back(arith::ConstantIntOp::create(b, loc, i32, kAccumulate));

        callKernel(b, loc, callee, args);
      });
  markParallel(nest);
  op->erase();
  return success();
}

/// Whether `type` has unit stride in its last dimension and, when
/// `contiguous`, the strides of a packed row-major array: what the kernel's
/// raw pointers assume.
bool isKernelLayout(MemRefType type, bool contiguous) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  if (!strides.empty() && strides.back() != 1)
    return false;
  if (!contiguous)
    return true;
  return type.getLayout().isIdentity() ||
         (type.hasStaticShape() &&
          memref::isStaticShapeAndContiguousRowMajor(type));
}

LogicalResult LowerToUKernelsPass::lowerWeightOnly(linalg::GenericOp op) {
  auto config =
      op->getAttrOfType<DictionaryAttr>(qopt::kWeightOnlyGemmAttrName);
  auto bits = config ? config.getAs<IntegerAttr>("bits") : nullptr;
  auto isSigned = config ? config.getAs<BoolAttr>("signed") : nullptr;
  auto groupSize = config ? config.getAs<IntegerAttr>("group_size") : nullptr;
  if (!bits || !isSigned || !groupSize)
    return failure();
  unsigned numInputs = op.getNumDpsInputs();
  if (numInputs != 3 && numInputs != 4)
    return failure();
  Value x = op.getDpsInputOperand(0)->get();
  Value w = op.getDpsInputOperand(1)->get();
  Value scale = op.getDpsInputOperand(2)->get();
  Value zp = numInputs == 4 ? op.getDpsInputOperand(3)->get() : Value();
  Value y = op.getDpsInitOperand(0)->get();
  if (!isKernelLayout(cast<MemRefType>(x.getType()), false) ||
      !isKernelLayout(cast<MemRefType>(y.getType()), false) ||
      !isKernelLayout(cast<MemRefType>(w.getType()), true) ||
      !isKernelLayout(cast<MemRefType>(scale.getType()), true) ||
      (zp && !isKernelLayout(cast<MemRefType>(zp.getType()), true)))
    return failure();

  // Loops: outer dims..., n, k; the last outer dim is the kernel's M.
  unsigned numLoops = op.getNumLoops();
  unsigned rank = numLoops - 1;
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Range> ranges =
      cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, loc);
  auto loopSize = [&](unsigned dim) {
    return getValueOrCreateConstantIndexOp(b, loc, ranges[dim].size);
  };
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value m = rank >= 2 ? loopSize(rank - 2) : one;
  Value n = loopSize(rank - 1), k = loopSize(rank);
  auto xMeta = memref::ExtractStridedMetadataOp::create(b, loc, x);
  auto yMeta = memref::ExtractStridedMetadataOp::create(b, loc, y);
  auto wMeta = memref::ExtractStridedMetadataOp::create(b, loc, w);
  auto sMeta = memref::ExtractStridedMetadataOp::create(b, loc, scale);
  memref::ExtractStridedMetadataOp zMeta;
  if (zp)
    zMeta = memref::ExtractStridedMetadataOp::create(b, loc, zp);

  SmallVector<Value> lbs, ubs, steps;
  for (unsigned dim = 0; dim + 2 < rank; ++dim) {
    lbs.push_back(zero);
    ubs.push_back(loopSize(dim));
    steps.push_back(one);
  }
  MLIRContext *ctx = &getContext();
  Type i32 = b.getI32Type();
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, [&](OpBuilder &b, Location loc, ValueRange ivs) {
        // x and y share the outer dims, which come first in both.
        auto at = [&](memref::ExtractStridedMetadataOp meta, Value memref) {
          return getLeadingPointer(b, loc, meta, memref, ivs);
        };
        auto rowStride = [&](memref::ExtractStridedMetadataOp meta) {
          return getRowStride(b, loc, meta, rank);
        };
        Value zpPointer =
            zp ? getElementPointer(b, loc, zp, zMeta.getOffset())
               : LLVM::ZeroOp::create(b, loc, LLVM::LLVMPointerType::get(ctx))
                     .getResult();
        SmallVector<Value> args = {
            toI64(b, loc, m),
            toI64(b, loc, n),
            toI64(b, loc, k),
            at(xMeta, x),
            toI64(b, loc, rowStride(xMeta)),
            getElementPointer(b, loc, w, wMeta.getOffset()),
            arith::ConstantIntOp::create(b, loc, i32, bits.getInt()),
            arith::ConstantIntOp::create(b, loc, i32, isSigned.getValue()),
            getElementPointer(b, loc, scale, sMeta.getOffset()),
            zpPointer,
            arith::ConstantIntOp::create(b, loc, b.getI64Type(),
                                         groupSize.getInt()),
            at(yMeta, y),
            toI64(b, loc, rowStride(yMeta)),
            arith::ConstantIntOp::create(b, loc, i32, kAccumulate)};
        callKernel(b, loc, "qrt_uk_wo_gemm", args);
      });
  markParallel(nest);
  op->erase();
  return success();
}

void LowerToUKernelsPass::lowerSoftmax(linalg::SoftmaxOp op) {
  auto inputType = cast<MemRefType>(op.getInput().getType());
  int64_t rank = inputType.getRank();
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto xMeta = memref::ExtractStridedMetadataOp::create(b, loc, op.getInput());
  auto yMeta = memref::ExtractStridedMetadataOp::create(b, loc, op.getOutput());
  Value rows = rank >= 2 ? Value(xMeta.getSizes()[rank - 2]) : one;
  Value cols = xMeta.getSizes()[rank - 1];
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t dim = 0; dim + 2 < rank; ++dim) {
    lbs.push_back(zero);
    ubs.push_back(xMeta.getSizes()[dim]);
    steps.push_back(one);
  }
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, [&](OpBuilder &b, Location loc, ValueRange ivs) {
        auto at = [&](memref::ExtractStridedMetadataOp meta, Value memref) {
          return getLeadingPointer(b, loc, meta, memref, ivs);
        };
        auto rowStride = [&](memref::ExtractStridedMetadataOp meta) {
          return toI64(b, loc, getRowStride(b, loc, meta, rank));
        };
        SmallVector<Value> args = {toI64(b, loc, rows),
                                   toI64(b, loc, cols),
                                   at(xMeta, op.getInput()),
                                   rowStride(xMeta),
                                   toI64(b, loc, xMeta.getStrides()[rank - 1]),
                                   at(yMeta, op.getOutput()),
                                   rowStride(yMeta),
                                   toI64(b, loc, yMeta.getStrides()[rank - 1])};
        callKernel(b, loc, "qrt_uk_softmax", args);
      });
  markParallel(nest);
  op->erase();
}

void LowerToUKernelsPass::runOnOperation() {
  SymbolTable table(getOperation());
  symbols = &table;
  SmallVector<linalg::LinalgOp> targets;
  SmallVector<linalg::GenericOp> weightOnly;
  SmallVector<linalg::SoftmaxOp> softmaxOps;
  getOperation().walk([&](linalg::LinalgOp op) {
    if (!op.hasPureBufferSemantics())
      return;
    if (op->hasAttr(qopt::kWeightOnlyGemmAttrName))
      weightOnly.push_back(cast<linalg::GenericOp>(op.getOperation()));
    else if (qopt::isUKernelContraction(op))
      targets.push_back(op);
  });
  for (linalg::LinalgOp op : targets)
    if (failed(lower(op)))
      return signalPassFailure();
  // A weight-only contraction the kernel cannot take stays a loop nest.
  for (linalg::GenericOp op : weightOnly)
    (void)lowerWeightOnly(op);
  // The kernel takes any strides. qopt-raise-softmax creates no other
  // softmax (element type, axis) than the kernel's.
  getOperation().walk([&](linalg::SoftmaxOp op) {
    auto type = dyn_cast<MemRefType>(op.getInput().getType());
    if (type && type.getElementType().isF32() &&
        isa<MemRefType>(op.getOutput().getType()) &&
        op.getDimension() + 1 == static_cast<uint64_t>(type.getRank()))
      softmaxOps.push_back(op);
  });
  for (linalg::SoftmaxOp op : softmaxOps)
    lowerSoftmax(op);
  symbols = nullptr;
}

} // namespace
