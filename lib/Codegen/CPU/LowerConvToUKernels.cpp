//===- LowerConvToUKernels.cpp - convolutions to qrt_uk_conv2d_f32 --------===//
//
// A convolution is a GEMM in disguise (im2col) or, depthwise, a short
// stencil; neither fits the innermost-dimension vectorization scheme of
// qopt-cpu-tile-and-vectorize, which leaves convolutions as serial scalar
// loops. The runtime's kernel does both on the thread pool; this pass calls it
// with the sizes, steps and base pointers of dense buffers.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPULOWERCONVTOUKERNELS
#include "qopt/Codegen/CPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// Flag bit of the ukernel ABI: add to the output instead of overwriting it.
constexpr int32_t kAccumulate = 1;
constexpr StringLiteral kConvKernel = "qrt_uk_conv2d_f32";
constexpr StringLiteral kS8ConvKernel = "qrt_uk_conv2d_s8_i32";

/// Whether `type` is laid out as a dense row-major array (any offset): what
/// the kernel's raw pointers assume.
bool isDenseRowMajor(MemRefType type) {
  if (type.getLayout().isIdentity())
    return true;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  return type.hasStaticShape() &&
         memref::isStaticShapeAndContiguousRowMajor(type);
}

/// Pointer to the first element of `memref` (its aligned base plus offset).
Value getBasePointer(OpBuilder &b, Location loc, Value memref) {
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  int64_t elementBytes =
      cast<MemRefType>(memref.getType()).getElementTypeBitWidth() / 8;
  Value bytes = arith::MulIOp::create(
      b, loc, meta.getOffset(),
      arith::ConstantIndexOp::create(b, loc, elementBytes));
  Value address = arith::AddIOp::create(b, loc, base, bytes);
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), address);
  return LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext()), asInt);
}

struct CPULowerConvToUKernelsPass
    : public qopt::impl::CPULowerConvToUKernelsBase<
          CPULowerConvToUKernelsPass> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, qopt::UKernelConvolution>> convs;
    getOperation().walk([&](linalg::GenericOp op) {
      if (!op.hasPureBufferSemantics())
        return;
      std::optional<qopt::UKernelConvolution> conv =
          qopt::matchUKernelConvolution(op);
      if (!conv)
        return;
      for (Value operand : op->getOperands()) {
        if (isDenseRowMajor(cast<MemRefType>(operand.getType())))
          continue;
        // Stays a loop nest: the output's zero init comes back.
        if (op->removeAttr(qopt::kConvZeroInitAttrName)) {
          OpBuilder b(op);
          Type element = getElementTypeOrSelf(op.getDpsInits()[0].getType());
          Value zero = arith::ConstantOp::create(
              b, op.getLoc(), cast<TypedAttr>(b.getZeroAttr(element)));
          linalg::FillOp::create(b, op.getLoc(), zero, op.getDpsInits()[0]);
        }
        return;
      }
      convs.emplace_back(op, *conv);
    });
    if (convs.empty())
      return;

    SymbolTable symbols(getOperation());
    MLIRContext *ctx = &getContext();
    Type i64 = IntegerType::get(ctx, 64), i32 = IntegerType::get(ctx, 32);
    Type ptr = LLVM::LLVMPointerType::get(ctx);
    SmallVector<Type> argTypes(14, i64);
    argTypes.append({ptr, ptr, ptr, i32});
    auto declare = [&](StringRef name) {
      auto decl = symbols.lookup<func::FuncOp>(name);
      if (!decl) {
        OpBuilder b(getOperation().getBodyRegion());
        decl = func::FuncOp::create(b, getOperation().getLoc(), name,
                                    FunctionType::get(ctx, argTypes, {}));
        decl.setPrivate();
        symbols.insert(decl);
      }
      return decl;
    };

    for (auto &[op, conv] : convs) {
      OpBuilder b(op);
      Location loc = op.getLoc();
      Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1],
            y = op.getDpsInits()[0];
      // qopt-cpu-prepare-conv-ukernels dropped the zero fill of the output.
      int32_t flags =
          op->hasAttr(qopt::kConvZeroInitAttrName) ? 0 : kAccumulate;
      SmallVector<Value> args = buildConvGeometryArgs(b, loc, conv, x, w, y);
      args.append({arith::ConstantIntOp::create(b, loc, i64, conv.groups),
                   getBasePointer(b, loc, x), getBasePointer(b, loc, w),
                   getBasePointer(b, loc, y),
                   arith::ConstantIntOp::create(b, loc, i32, flags)});
      // The int8 form has the same arguments on int8/int32 buffers.
      func::CallOp::create(
          b, loc, declare(conv.s8 ? kS8ConvKernel : kConvKernel), args);
      op->erase();
    }
  }
};

} // namespace
