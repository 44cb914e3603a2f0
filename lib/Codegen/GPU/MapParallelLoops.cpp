//===- MapParallelLoops.cpp - qopt-gpu-map-parallel-loops -----------------===//

#include "qopt/Codegen/GPU/Passes.h"

#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
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

/// Keeps the accumulators of `loop` in registers: a `memref.load` and a
/// later `memref.store` of the same buffer at the same loop-invariant
/// indices, both directly in the body, with no other use of that buffer in
/// the loop, become an iteration argument loaded before the loop and stored
/// after it. Convert-linalg-to-parallel-loops reads and writes a matmul's
/// output element at every step of K; the kernels' pointers carry no
/// aliasing information, so LLVM cannot do this itself. Buffers that alias
/// without being the same value are not expected here: one-shot
/// bufferization gives a contraction's output its own buffer unless the
/// op is elementwise.
void promoteAccumulators(RewriterBase &rewriter, scf::ForOp loop) {
  for (bool changed = true; changed;) {
    changed = false;
    for (Operation &op : loop.getBody()->without_terminator()) {
      auto load = dyn_cast<memref::LoadOp>(op);
      if (!load || !llvm::all_of(load.getIndices(), [&](Value v) {
            return loop.isDefinedOutsideOfLoop(v);
          }))
        continue;
      Value buffer = load.getMemRef();
      if (!loop.isDefinedOutsideOfLoop(buffer))
        continue;
      memref::StoreOp store;
      bool otherUse = false;
      for (Operation *user : buffer.getUsers()) {
        if (user == load || !loop->isAncestor(user))
          continue;
        auto s = dyn_cast<memref::StoreOp>(user);
        if (!s || store || s->getBlock() != loop.getBody() ||
            s.getIndices() != load.getIndices() || !load->isBeforeInBlock(s)) {
          otherUse = true;
          break;
        }
        store = s;
      }
      if (otherUse || !store)
        continue;
      rewriter.setInsertionPoint(loop);
      Value init = memref::LoadOp::create(rewriter, load.getLoc(), buffer,
                                          load.getIndices());
      Value stored = store.getValueToStore();
      auto newLoop = cast<scf::ForOp>(*loop.replaceWithAdditionalYields(
          rewriter, init, /*replaceInitOperandUsesInLoop=*/false,
          [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
            return SmallVector<Value>{stored};
          }));
      rewriter.replaceOp(load, newLoop.getRegionIterArgs().back());
      rewriter.setInsertionPointAfter(newLoop);
      memref::StoreOp::create(rewriter, store.getLoc(),
                              newLoop.getResults().back(), buffer,
                              store.getIndices());
      rewriter.eraseOp(store);
      loop = newLoop;
      changed = true;
      break;
    }
  }
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
      SmallVector<scf::ForOp> loops;
      inner.getBody()->walk([&](scf::ForOp forOp) { loops.push_back(forOp); });
      for (scf::ForOp forOp : loops)
        promoteAccumulators(rewriter, forOp);
      inner.getBody()->walk([&](scf::ParallelOp nested) {
        SmallVector<gpu::ParallelLoopDimMappingAttr> seq(
            nested.getNumLoops(), mapTo(ctx, gpu::Processor::Sequential));
        (void)gpu::setMappingAttr(nested, seq);
      });
    }
  }
};

} // namespace
