//===- LowerRuntimeChecks.cpp - qopt.check to a call that ends the run ----===//

#include "qopt/Codegen/Common/Passes.h"
#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_LOWERRUNTIMECHECKS
#include "qopt/Codegen/Common/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

/// The libqrt function a failed check calls (see qopt/Runtime/UKernels.h).
static constexpr llvm::StringLiteral kCheckFailed = "qrt_check_failed";

/// `message` with every `{N}` shown as `?`, for cf.assert, which cannot
/// print values.
static std::string withoutPlaceholders(StringRef message) {
  std::string result;
  for (size_t i = 0; i < message.size(); ++i) {
    size_t close = message[i] == '{' ? message.find('}', i) : StringRef::npos;
    if (close == StringRef::npos) {
      result += message[i];
      continue;
    }
    result += '?';
    i = close;
  }
  return result;
}

namespace {
struct LowerRuntimeChecksPass
    : public qopt::impl::LowerRuntimeChecksBase<LowerRuntimeChecksPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<qopt::CheckOp> checks;
    module.walk([&](qopt::CheckOp check) { checks.push_back(check); });
    if (checks.empty())
      return;
    if (!runtime) {
      for (qopt::CheckOp check : checks) {
        OpBuilder b(check);
        cf::AssertOp::create(b, check.getLoc(), check.getCondition(),
                             withoutPlaceholders(check.getMessage()));
        check.erase();
      }
      return;
    }

    MLIRContext *ctx = &getContext();
    Type i64 = IntegerType::get(ctx, 64);
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    OpBuilder b(ctx);
    b.setInsertionPointToStart(module.getBody());
    FailureOr<LLVM::LLVMFuncOp> checkFailed = LLVM::lookupOrCreateFn(
        b, module, kCheckFailed, {ptr, i64, ptr}, LLVM::LLVMVoidType::get(ctx));
    if (failed(checkFailed)) {
      module.emitError() << "'" << kCheckFailed
                         << "' is declared with another signature";
      return signalPassFailure();
    }

    // Identical messages share one string.
    llvm::StringMap<std::string> globalNames;
    for (qopt::CheckOp check : checks) {
      Location loc = check.getLoc();
      Block *before = check->getBlock();
      Block *after = before->splitBlock(check);
      Block *failure = b.createBlock(after);
      b.setInsertionPointToEnd(before);
      cf::CondBranchOp::create(b, loc, check.getCondition(), after,
                               ValueRange(), failure, ValueRange());

      b.setInsertionPointToStart(failure);
      std::string message = check.getMessage().str();
      auto [it, inserted] = globalNames.try_emplace(
          message, "qopt_check_message_" + std::to_string(globalNames.size()));
      Value text;
      if (inserted) {
        text = LLVM::createGlobalString(loc, b, it->second, message + '\0',
                                        LLVM::Linkage::Internal);
      } else {
        auto global = LLVM::AddressOfOp::create(b, loc, ptr, it->second);
        text = global;
      }
      int64_t count = check.getValues().size();
      Value countValue =
          LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(count));
      Value values;
      if (count == 0) {
        values = LLVM::ZeroOp::create(b, loc, ptr);
      } else {
        values = LLVM::AllocaOp::create(b, loc, ptr, i64, countValue);
        for (auto [index, value] : llvm::enumerate(check.getValues())) {
          Value wide = value;
          if (value.getType().isIndex())
            wide = arith::IndexCastOp::create(b, loc, i64, value);
          else if (value.getType().getIntOrFloatBitWidth() < 64)
            wide = arith::ExtSIOp::create(b, loc, i64, value);
          Value slot = LLVM::GEPOp::create(
              b, loc, ptr, i64, values, ArrayRef<LLVM::GEPArg>{int32_t(index)});
          LLVM::StoreOp::create(b, loc, wide, slot);
        }
      }
      LLVM::CallOp::create(b, loc, *checkFailed,
                           ValueRange{text, countValue, values});
      LLVM::UnreachableOp::create(b, loc);
      check.erase();
    }
  }
};
} // namespace
