//===- NativeMath.cpp - qopt-gpu-native-math ------------------------------===//

#include "qopt/Codegen/GPU/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_NATIVEMATH
#include "qopt/Codegen/GPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// The intrinsic for a libdevice function PTX has an instruction for.
using Builder = Value (*)(OpBuilder &, Location, Type, ValueRange);

template <typename IntrOp>
Value build(OpBuilder &b, Location loc, Type type, ValueRange args) {
  return IntrOp::create(b, loc, type, args);
}

/// libdevice's f32 and f64 names (`__nv_fabsf`, `__nv_fabs`).
Builder lookup(StringRef name) {
  name.consume_back("f");
  return llvm::StringSwitch<Builder>(name)
      .Case("__nv_fabs", build<LLVM::FAbsOp>)
      .Case("__nv_copysign", build<LLVM::CopySignOp>)
      .Case("__nv_fma", build<LLVM::FMAOp>)
      .Case("__nv_floor", build<LLVM::FFloorOp>)
      .Case("__nv_ceil", build<LLVM::FCeilOp>)
      .Case("__nv_trunc", build<LLVM::FTruncOp>)
      .Case("__nv_rint", build<LLVM::RoundEvenOp>)
      .Case("__nv_sqrt", build<LLVM::SqrtOp>)
      .Default(nullptr);
}

struct NativeMathPass : qopt::impl::NativeMathBase<NativeMathPass> {
  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());
    SmallVector<LLVM::CallOp> calls;
    module.walk([&](LLVM::CallOp call) { calls.push_back(call); });
    for (LLVM::CallOp call : calls) {
      std::optional<StringRef> callee = call.getCallee();
      Builder builder = callee ? lookup(*callee) : nullptr;
      if (!builder || call.getNumResults() != 1)
        continue;
      Type type = call.getResult().getType();
      if (!type.isF32() && !type.isF64())
        continue;
      rewriter.setInsertionPoint(call);
      Value native =
          builder(rewriter, call.getLoc(), type, call.getArgOperands());
      rewriter.replaceOp(call, native);
    }
    // Declarations no call uses any more: the serializer would otherwise
    // still ask for libdevice to define them.
    for (auto func :
         llvm::make_early_inc_range(module.getOps<LLVM::LLVMFuncOp>()))
      if (func.isExternal() && lookup(func.getName()) &&
          SymbolTable::symbolKnownUseEmpty(func, module))
        rewriter.eraseOp(func);
  }
};

} // namespace
