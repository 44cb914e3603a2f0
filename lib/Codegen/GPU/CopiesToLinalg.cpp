//===- CopiesToLinalg.cpp - qopt-gpu-copies-to-linalg ---------------------===//

#include "qopt/Codegen/GPU/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_COPIESTOLINALG
#include "qopt/Codegen/GPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

struct CopiesToLinalgPass : qopt::impl::CopiesToLinalgBase<CopiesToLinalgPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    IRRewriter rewriter(&getContext());
    for (memref::CopyOp copy : copies) {
      // linalg.copy needs ranked operands of one element type; memref.copy
      // guarantees the element type, not the rank.
      if (!isa<MemRefType>(copy.getSource().getType()) ||
          !isa<MemRefType>(copy.getTarget().getType()))
        continue;
      rewriter.setInsertionPoint(copy);
      rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                  copy.getTarget());
    }
  }
};

} // namespace
