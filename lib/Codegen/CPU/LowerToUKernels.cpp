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

#include "qopt/Codegen/CPU/Passes.h"
#include "qopt/Runtime/UKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPULOWERTOUKERNELS
#include "qopt/Codegen/CPU/Passes.h.inc"
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

struct CPULowerToUKernelsPass
    : public qopt::impl::CPULowerToUKernelsBase<CPULowerToUKernelsPass> {
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
  /// The copy of constant int8 `[N, K]` weight `global` packed as
  /// qrt_uk_pack_b_s8() lays it out, created once per global.
  memref::GlobalOp getPackedS8Global(memref::GlobalOp global);
  /// Lowers a `qopt_s8_gemm` pair (found from its "rescale" op) to
  /// `qrt_uk_s8_gemm`; leaves it as loops (returns failure) when the pair
  /// or its buffers are not what the kernel takes.
  LogicalResult lowerS8Gemm(linalg::GenericOp rescale);
  /// Lowers a `qopt_s8_quantize_rows` triple (found from its "values" op)
  /// to `qrt_uk_quantize_rows_s8`, or leaves it as loops.
  LogicalResult lowerS8QuantizeRows(linalg::GenericOp values);

  SymbolTable *symbols = nullptr;
  llvm::DenseMap<std::pair<Operation *, unsigned>, memref::GlobalOp> packed;
  llvm::DenseMap<Operation *, memref::GlobalOp> packedS8;
};

func::FuncOp CPULowerToUKernelsPass::getOrDeclare(StringRef name,
                                                  FunctionType type) {
  if (auto func = symbols->lookup<func::FuncOp>(name))
    return func;
  OpBuilder b(getOperation().getBodyRegion());
  auto func = func::FuncOp::create(b, getOperation().getLoc(), name, type);
  func.setPrivate();
  symbols->insert(func);
  return func;
}

void CPULowerToUKernelsPass::callKernel(OpBuilder &b, Location loc,
                                        StringRef name, ArrayRef<Value> args) {
  SmallVector<Type> argTypes =
      llvm::map_to_vector(args, [](Value v) { return v.getType(); });
  func::FuncOp decl =
      getOrDeclare(name, FunctionType::get(&getContext(), argTypes, {}));
  func::CallOp::create(b, loc, decl, args);
}

memref::GlobalOp
CPULowerToUKernelsPass::getPackedGlobal(memref::GlobalOp global, bool kMajor) {
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
/// its own slice of the output. qopt-cpu-outline-parallel-loops then runs whole
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

LogicalResult CPULowerToUKernelsPass::lower(linalg::LinalgOp op) {
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

LogicalResult CPULowerToUKernelsPass::lowerWeightOnly(linalg::GenericOp op) {
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

//===----------------------------------------------------------------------===//
// int8 (W8A8) kernels
//===----------------------------------------------------------------------===//

/// The int8 values of a constant memref.global, or nullopt.
std::optional<SmallVector<int8_t>> getGlobalS8Data(memref::GlobalOp global) {
  if (!global.getConstant() || !global.getType().getElementType().isInteger(8))
    return std::nullopt;
  Attribute init = global.getInitialValue().value_or(Attribute());
  int64_t count = global.getType().getNumElements();
  if (auto dense = dyn_cast_or_null<DenseIntElementsAttr>(init)) {
    SmallVector<int8_t> values;
    values.reserve(count);
    for (const APInt &v : dense.getValues<APInt>())
      values.push_back(static_cast<int8_t>(v.getSExtValue()));
    return values;
  }
  if (auto resource = dyn_cast_or_null<DenseI8ResourceElementsAttr>(init)) {
    std::optional<ArrayRef<int8_t>> data = resource.tryGetAsArrayRef();
    if (!data || static_cast<int64_t>(data->size()) != count)
      return std::nullopt;
    return SmallVector<int8_t>(data->begin(), data->end());
  }
  return std::nullopt;
}

memref::GlobalOp
CPULowerToUKernelsPass::getPackedS8Global(memref::GlobalOp global) {
  if (memref::GlobalOp cached = packedS8.lookup(global))
    return cached;
  MemRefType type = global.getType();
  if (type.getRank() != 2 || !type.hasStaticShape())
    return {};
  std::optional<SmallVector<int8_t>> data = getGlobalS8Data(global);
  if (!data)
    return {};
  // The layout of qrt_uk_pack_b_s8 (UKernels.h) for B(k, n) = W[n, k]:
  // panels of 16 columns, 4 consecutive k of a column together, K padded to
  // a multiple of 64, then the int32 column sums. It is the same on every
  // instruction set, so it is fixed here, once.
  constexpr int64_t nr = QRT_UK_S8_PACK_NR, kr = QRT_UK_S8_PACK_KR;
  int64_t n = type.getDimSize(0), k = type.getDimSize(1);
  int64_t kp = llvm::alignTo(k, QRT_UK_S8_PACK_KALIGN);
  int64_t panels = llvm::divideCeil(n, nr);
  int64_t panelBytes = panels * nr * kp;
  SmallVector<int8_t> bytes(panelBytes + panels * nr * sizeof(int32_t), 0);
  for (int64_t col = 0; col < n; ++col) {
    uint32_t sum = 0;
    for (int64_t row = 0; row < k; ++row) {
      int8_t value = (*data)[col * k + row];
      bytes[(col / nr) * kp * nr + (row / kr) * kr * nr + (col % nr) * kr +
            row % kr] = value;
      sum += static_cast<uint32_t>(static_cast<int32_t>(value));
    }
    // Little-endian int32, as the x86-64 runtime reads it.
    for (int byte = 0; byte < 4; ++byte)
      bytes[panelBytes + col * 4 + byte] =
          static_cast<int8_t>((sum >> (8 * byte)) & 0xff);
  }

  MLIRContext *ctx = &getContext();
  auto i8 = IntegerType::get(ctx, 8);
  auto packedType = MemRefType::get({static_cast<int64_t>(bytes.size())}, i8);
  std::string name = (global.getSymName() + "_s8packed").str();
  auto init = DenseResourceElementsAttr::get(
      RankedTensorType::get(packedType.getShape(), i8), name,
      HeapAsmResourceBlob::allocateAndCopyWithAlign(
          ArrayRef<char>(reinterpret_cast<const char *>(bytes.data()),
                         bytes.size()),
          64));
  OpBuilder b(global);
  auto result = memref::GlobalOp::create(
      b, global.getLoc(), name, b.getStringAttr("private"), packedType, init,
      /*constant=*/true, b.getI64IntegerAttr(64));
  symbols->insert(result);
  packedS8[global] = result;
  return result;
}

/// The generic marked `attr` = `part` that writes `buffer` (has it as an
/// init), if there is exactly one.
linalg::GenericOp findMarkedWriter(Value buffer, StringRef attr,
                                   StringRef part) {
  linalg::GenericOp writer;
  for (OpOperand &use : buffer.getUses()) {
    auto generic = dyn_cast<linalg::GenericOp>(use.getOwner());
    auto mark = generic ? generic->getAttrOfType<StringAttr>(attr) : nullptr;
    if (!mark || mark.getValue() != part || !generic.isDpsInit(&use))
      continue;
    if (writer && writer != generic)
      return {};
    writer = generic;
  }
  return writer;
}

/// Erases the ops a kernel call replaced, then what only served them: the
/// marked fills of `buffers` (the values the erased ops passed between
/// them) and their allocations, once nothing else uses them. The erased
/// ops' results had no other readers on tensors; a buffer shared with other
/// values after bufferization keeps its other users.
void eraseGroup(ArrayRef<Operation *> ops, ArrayRef<Value> buffers,
                StringRef attr) {
  for (Operation *op : ops)
    op->erase();
  for (Value buffer : buffers) {
    auto isMarkedFill = [&](Operation *user) {
      auto fill = dyn_cast<linalg::FillOp>(user);
      return fill && fill->hasAttr(attr);
    };
    if (!llvm::all_of(buffer.getUsers(), isMarkedFill))
      continue;
    for (Operation *user : llvm::make_early_inc_range(buffer.getUsers()))
      user->erase();
    if (Operation *alloc = buffer.getDefiningOp())
      if (isa<memref::AllocOp>(alloc) && alloc->use_empty())
        alloc->erase();
  }
}

/// Erases allocations that are only written now that the int8 groups that
/// read them are gone: the zero fills of their reductions, and the copies
/// of such fills that bufferization makes when CSE has merged the fills of
/// several layers into one. Repeats until the sources of erased copies are
/// dead too.
void eraseWriteOnlyBuffers(ModuleOp module) {
  auto isDeadWrite = [](Operation *user, Value buffer) {
    if (auto fill = dyn_cast<linalg::FillOp>(user))
      return fill.getDpsInitOperand(0)->get() == buffer &&
             (fill->hasAttr(qopt::kS8GemmAttrName) ||
              fill->hasAttr(qopt::kS8QuantizeRowsAttrName));
    if (auto copy = dyn_cast<memref::CopyOp>(user))
      return copy.getTarget() == buffer && copy.getSource() != buffer;
    return false;
  };
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<memref::AllocOp> dead;
    module.walk([&](memref::AllocOp alloc) {
      Value buffer = alloc.getResult();
      if (!buffer.use_empty() &&
          llvm::all_of(buffer.getUsers(), [&](Operation *user) {
            return isDeadWrite(user, buffer);
          }))
        dead.push_back(alloc);
    });
    for (memref::AllocOp alloc : dead) {
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        user->erase();
      alloc->erase();
      changed = true;
    }
  }
}

/// How a call covers the leading dimensions of a rank-`rank` row-major
/// problem ([outer..., inner]): all of them as the kernel's M when every
/// buffer in `rowBuffers` is contiguous (one call over B * S rows), else
/// loops over all but the last, which becomes M.
struct RowPlan {
  unsigned numLoops = 0;
  bool collapsed = false;
};

RowPlan planRows(int64_t rank, ArrayRef<Value> rowBuffers) {
  RowPlan plan;
  if (rank <= 2)
    return plan;
  plan.collapsed = llvm::all_of(rowBuffers, [](Value buffer) {
    return isKernelLayout(cast<MemRefType>(buffer.getType()), true);
  });
  if (!plan.collapsed)
    plan.numLoops = rank - 2;
  return plan;
}

/// The kernel's M for `plan`: the product of the leading sizes when
/// collapsed, else the size of dimension rank - 2 (1 for rank 1).
Value getRows(OpBuilder &b, Location loc, const RowPlan &plan,
              memref::ExtractStridedMetadataOp meta, int64_t rank) {
  if (rank < 2)
    return arith::ConstantIndexOp::create(b, loc, 1);
  Value rows = meta.getSizes()[rank - 2];
  if (plan.collapsed)
    for (int64_t d = 0; d + 2 < rank; ++d)
      rows = arith::MulIOp::create(b, loc, rows, meta.getSizes()[d]);
  return rows;
}

LogicalResult CPULowerToUKernelsPass::lowerS8Gemm(linalg::GenericOp rescale) {
  unsigned numInputs = rescale.getNumDpsInputs();
  if (numInputs != 3 && numInputs != 4)
    return failure();
  Value acc = rescale.getDpsInputOperand(0)->get();
  Value aScale = rescale.getDpsInputOperand(1)->get();
  Value bScale = rescale.getDpsInputOperand(2)->get();
  Value bias = numInputs == 4 ? rescale.getDpsInputOperand(3)->get() : Value();
  Value y = rescale.getDpsInitOperand(0)->get();
  linalg::GenericOp product =
      findMarkedWriter(acc, qopt::kS8GemmAttrName, "product");
  if (!product || product.getNumDpsInputs() != 2 ||
      product->getBlock() != rescale->getBlock() ||
      !product->isBeforeInBlock(rescale))
    return failure();
  Value x = product.getDpsInputOperand(0)->get();
  Value w = product.getDpsInputOperand(1)->get();

  // The weight: a constant [N, K] global read as (n, k).
  auto getGlobal = w.getDefiningOp<memref::GetGlobalOp>();
  auto global = getGlobal
                    ? symbols->lookup<memref::GlobalOp>(getGlobal.getName())
                    : memref::GlobalOp();
  AffineMap wMap =
      product.getMatchingIndexingMap(product.getDpsInputOperand(1));
  unsigned rank = product.getNumLoops() - 1;
  if (!global || wMap.getNumResults() != 2 ||
      wMap.getResult(0) != getAffineDimExpr(rank - 1, &getContext()) ||
      wMap.getResult(1) != getAffineDimExpr(rank, &getContext()))
    return failure();
  auto layout = [](Value v, bool contiguous) {
    return isKernelLayout(cast<MemRefType>(v.getType()), contiguous);
  };
  bool perToken = cast<MemRefType>(aScale.getType()).getRank() > 0;
  if (!layout(x, false) || !layout(y, false) || !layout(bScale, true) ||
      (bias && !layout(bias, true)) ||
      cast<MemRefType>(bScale.getType()).getRank() != 1)
    return failure();
  memref::GlobalOp packedB = getPackedS8Global(global);
  if (!packedB)
    return failure();

  int64_t n = global.getType().getDimSize(0),
          k = global.getType().getDimSize(1);
  SmallVector<Value> rowBuffers = {x, y};
  if (perToken)
    rowBuffers.push_back(aScale);
  RowPlan plan = planRows(rank, rowBuffers);

  OpBuilder b(rescale);
  Location loc = rescale.getLoc();
  MLIRContext *ctx = &getContext();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto xMeta = memref::ExtractStridedMetadataOp::create(b, loc, x);
  auto yMeta = memref::ExtractStridedMetadataOp::create(b, loc, y);
  auto aMeta = memref::ExtractStridedMetadataOp::create(b, loc, aScale);
  auto bMeta = memref::ExtractStridedMetadataOp::create(b, loc, bScale);
  memref::ExtractStridedMetadataOp biasMeta;
  if (bias)
    biasMeta = memref::ExtractStridedMetadataOp::create(b, loc, bias);
  Value m = getRows(b, loc, plan, xMeta, rank);

  SmallVector<Value> lbs, ubs, steps;
  for (unsigned d = 0; d < plan.numLoops; ++d) {
    lbs.push_back(zero);
    ubs.push_back(xMeta.getSizes()[d]);
    steps.push_back(one);
  }
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, [&](OpBuilder &b, Location loc, ValueRange ivs) {
        auto at = [&](memref::ExtractStridedMetadataOp meta, Value memref) {
          return getLeadingPointer(b, loc, meta, memref, ivs);
        };
        Value aPointer, aStride;
        if (perToken) {
          // One scale per row: the rows run along the scale's last dim.
          aPointer = at(aMeta, aScale);
          aStride = toI64(b, loc, aMeta.getStrides().back());
        } else {
          aPointer = getElementPointer(b, loc, aScale, aMeta.getOffset());
          aStride = arith::ConstantIntOp::create(b, loc, i64, 0);
        }
        Value global = memref::GetGlobalOp::create(b, loc, packedB.getType(),
                                                   packedB.getSymName());
        Value biasPointer =
            bias ? getElementPointer(b, loc, bias, biasMeta.getOffset())
                 : LLVM::ZeroOp::create(b, loc, LLVM::LLVMPointerType::get(ctx))
                       .getResult();
        SmallVector<Value> args = {
            toI64(b, loc, m),
            arith::ConstantIntOp::create(b, loc, i64, n),
            arith::ConstantIntOp::create(b, loc, i64, k),
            at(xMeta, x),
            toI64(b, loc, getRowStride(b, loc, xMeta, rank)),
            aPointer,
            aStride,
            getElementPointer(b, loc, global, zero),
            getElementPointer(b, loc, bScale, bMeta.getOffset()),
            biasPointer,
            at(yMeta, y),
            toI64(b, loc, getRowStride(b, loc, yMeta, rank)),
            arith::ConstantIntOp::create(b, loc, i32, 0)};
        callKernel(b, loc, "qrt_uk_s8_gemm", args);
      });
  markParallel(nest);
  eraseGroup({rescale, product}, {acc}, qopt::kS8GemmAttrName);
  return success();
}

LogicalResult
CPULowerToUKernelsPass::lowerS8QuantizeRows(linalg::GenericOp values) {
  if (values.getNumDpsInputs() != 2 || values.getNumDpsInits() != 1)
    return failure();
  Value x = values.getDpsInputOperand(0)->get();
  Value inverse = values.getDpsInputOperand(1)->get();
  Value q = values.getDpsInitOperand(0)->get();
  StringRef attr = qopt::kS8QuantizeRowsAttrName;
  linalg::GenericOp scales = findMarkedWriter(inverse, attr, "scales");
  if (!scales || scales.getNumDpsInits() != 2 ||
      scales.getNumDpsInputs() != 1 ||
      scales.getDpsInitOperand(1)->get() != inverse)
    return failure();
  Value scale = scales.getDpsInitOperand(0)->get();
  Value amax = scales.getDpsInputOperand(0)->get();
  linalg::GenericOp absMax = findMarkedWriter(amax, attr, "absmax");
  if (!absMax || absMax.getNumDpsInputs() != 1 ||
      absMax.getDpsInputOperand(0)->get() != x)
    return failure();
  // In program order, in one block: the call goes where the values are
  // computed, and nothing between reads the scales (they feed the layers
  // that read the values).
  Block *block = values->getBlock();
  if (scales->getBlock() != block || absMax->getBlock() != block ||
      !absMax->isBeforeInBlock(scales) || !scales->isBeforeInBlock(values))
    return failure();
  auto layout = [](Value v, bool contiguous) {
    return isKernelLayout(cast<MemRefType>(v.getType()), contiguous);
  };
  if (!layout(x, false) || !layout(q, false) || !layout(scale, false))
    return failure();

  int64_t rank = cast<MemRefType>(x.getType()).getRank();
  RowPlan plan = planRows(rank, {x, q, scale});
  OpBuilder b(values);
  Location loc = values.getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto xMeta = memref::ExtractStridedMetadataOp::create(b, loc, x);
  auto qMeta = memref::ExtractStridedMetadataOp::create(b, loc, q);
  auto sMeta = memref::ExtractStridedMetadataOp::create(b, loc, scale);
  Value m = getRows(b, loc, plan, xMeta, rank);
  Value k = xMeta.getSizes()[rank - 1];
  SmallVector<Value> lbs, ubs, steps;
  for (unsigned d = 0; d < plan.numLoops; ++d) {
    lbs.push_back(zero);
    ubs.push_back(xMeta.getSizes()[d]);
    steps.push_back(one);
  }
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, [&](OpBuilder &b, Location loc, ValueRange ivs) {
        auto at = [&](memref::ExtractStridedMetadataOp meta, Value memref) {
          return getLeadingPointer(b, loc, meta, memref, ivs);
        };
        SmallVector<Value> args = {
            toI64(b, loc, m), toI64(b, loc, k),
            at(xMeta, x),     toI64(b, loc, getRowStride(b, loc, xMeta, rank)),
            at(qMeta, q),     toI64(b, loc, getRowStride(b, loc, qMeta, rank)),
            at(sMeta, scale)};
        callKernel(b, loc, "qrt_uk_quantize_rows_s8", args);
      });
  markParallel(nest);
  eraseGroup({values, scales, absMax}, {inverse, amax}, attr);
  return success();
}

void CPULowerToUKernelsPass::lowerSoftmax(linalg::SoftmaxOp op) {
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

void CPULowerToUKernelsPass::runOnOperation() {
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
  // So do int8 groups; each is found from its last op, so erasing a group
  // never invalidates another's.
  SmallVector<linalg::GenericOp> s8Gemms, s8Quantizes;
  getOperation().walk([&](linalg::GenericOp op) {
    if (!op.hasPureBufferSemantics())
      return;
    auto gemm = op->getAttrOfType<StringAttr>(qopt::kS8GemmAttrName);
    auto rows = op->getAttrOfType<StringAttr>(qopt::kS8QuantizeRowsAttrName);
    if (gemm && gemm.getValue() == "rescale")
      s8Gemms.push_back(op);
    else if (rows && rows.getValue() == "values")
      s8Quantizes.push_back(op);
  });
  for (linalg::GenericOp op : s8Gemms)
    (void)lowerS8Gemm(op);
  for (linalg::GenericOp op : s8Quantizes)
    (void)lowerS8QuantizeRows(op);
  eraseWriteOnlyBuffers(getOperation());
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
