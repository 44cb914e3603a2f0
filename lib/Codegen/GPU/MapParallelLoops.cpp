//===- MapParallelLoops.cpp - qopt-gpu-map-parallel-loops -----------------===//

#include "qopt/Codegen/GPU/Passes.h"

#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_MAPPARALLELLOOPS
#include "qopt/Codegen/GPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// The static trip count of the single dimension of `loop`, if known.
std::optional<int64_t> staticTripCount(scf::ParallelOp loop) {
  std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound()[0]);
  std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound()[0]);
  std::optional<int64_t> step = getConstantIntValue(loop.getStep()[0]);
  if (!lb || !ub || !step || *step <= 0)
    return std::nullopt;
  return *ub <= *lb ? 0 : (*ub - *lb + *step - 1) / *step;
}

gpu::ParallelLoopDimMappingAttr mapTo(MLIRContext *ctx, gpu::Processor p) {
  AffineMap id = AffineMap::getMultiDimIdentityMap(1, ctx);
  return gpu::ParallelLoopDimMappingAttr::get(ctx, p, id, id);
}

struct MapParallelLoopsPass
    : qopt::impl::MapParallelLoopsBase<MapParallelLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (blockSize < 32 || blockSize > 1024 || blockSize % 32) {
      getOperation().emitError() << "qopt-gpu-map-parallel-loops: block-size "
                                 << static_cast<int64_t>(blockSize)
                                 << " is not a multiple of 32 from 32 to 1024";
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> roots;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (loop->getParentOfType<scf::ParallelOp>() ||
          loop->getParentOfType<gpu::LaunchOp>() || loop.getNumReductions())
        return;
      roots.push_back(loop);
    });
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);
    for (scf::ParallelOp loop : roots) {
      if (loop.getNumLoops() > 1) {
        std::vector<unsigned> all;
        for (unsigned i = 0, e = loop.getNumLoops(); i < e; ++i)
          all.push_back(i);
        rewriter.setInsertionPoint(loop);
        // collapseParallelLoops replaces `loop`; find the new one as the
        // op in its place.
        Operation *before = loop->getPrevNode();
        Block *block = loop->getBlock();
        collapseParallelLoops(rewriter, loop, {all});
        Operation *next = before ? before->getNextNode() : &block->front();
        while (next && !isa<scf::ParallelOp>(next))
          next = next->getNextNode();
        if (!next) {
          getOperation().emitError("internal error: collapsed loop not found");
          return signalPassFailure();
        }
        loop = cast<scf::ParallelOp>(next);
      }
      int64_t tile = blockSize;
      if (std::optional<int64_t> trips = staticTripCount(loop)) {
        if (*trips == 0)
          continue;
        tile = std::min<int64_t>(tile, (*trips + 31) / 32 * 32);
      }
      auto [outer, inner] =
          scf::tileParallelLoop(loop, {tile}, /*noMinMaxBounds=*/true);
      if (failed(gpu::setMappingAttr(outer,
                                     {mapTo(ctx, gpu::Processor::BlockX)})) ||
          failed(gpu::setMappingAttr(inner,
                                     {mapTo(ctx, gpu::Processor::ThreadX)}))) {
        outer.emitError("internal error: cannot map the loop");
        return signalPassFailure();
      }
      inner.getBody()->walk([&](scf::ParallelOp nested) {
        SmallVector<gpu::ParallelLoopDimMappingAttr> seq(
            nested.getNumLoops(), mapTo(ctx, gpu::Processor::Sequential));
        (void)gpu::setMappingAttr(nested, seq);
      });
    }
  }
};

} // namespace
