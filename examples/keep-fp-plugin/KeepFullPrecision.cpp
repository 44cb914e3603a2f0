//===- KeepFullPrecision.cpp - example qopt pass plugin -------------------===//
//
// A small but real quantization pass shipped as a plugin:
//
//   qopt --load-pass-plugin=KeepFullPrecisionPlugin.so \
//        --pass-pipeline='builtin.module(qopt-example-keep-full-precision{pattern=lm_head})'
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Location.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Regex.h"

using namespace mlir;

namespace mlir {
namespace qopt {
#define GEN_PASS_DECL
#define GEN_PASS_DEF_KEEPFULLPRECISION
#define GEN_PASS_REGISTRATION
#include "Passes.h.inc"
} // namespace qopt
} // namespace mlir

namespace {

/// True if any name in `loc` (names nest inside fused and call-site
/// locations) matches `regex`.
bool locationNameMatches(Location loc, const llvm::Regex &regex) {
  bool found = false;
  loc->walk([&](Location inner) {
    if (auto named = dyn_cast<NameLoc>(inner))
      found |= regex.match(named.getName().strref());
    return found ? WalkResult::interrupt() : WalkResult::advance();
  });
  return found;
}

struct KeepFullPrecisionPass
    : public qopt::impl::KeepFullPrecisionBase<KeepFullPrecisionPass> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    regex = std::make_shared<llvm::Regex>(pattern);
    std::string error;
    if (pattern.empty())
      error = "pattern is empty";
    else
      regex->isValid(error);
    if (error.empty())
      return success();
    return emitError(UnknownLoc::get(context))
           << "qopt-example-keep-full-precision: invalid pattern '" << pattern
           << "': " << error;
  }

  void runOnOperation() override {
    StringAttr name = StringAttr::get(
        &getContext(), qopt::QOptDialect::kKeepFullPrecisionAttrName);
    getOperation()->walk([&](Operation *op) {
      // Only ops that compute: structure (modules, functions) has no
      // precision of its own.
      if (op->getNumRegions() != 0 || op->getNumResults() == 0)
        return;
      if (!locationNameMatches(op->getLoc(), *regex) || op->hasAttr(name))
        return;
      op->setAttr(name, UnitAttr::get(&getContext()));
    });
  }

  std::shared_ptr<llvm::Regex> regex;
};

} // namespace

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "KeepFullPrecision", LLVM_VERSION_STRING,
          [] { qopt::registerKeepFullPrecisionPasses(); }};
}
