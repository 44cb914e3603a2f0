//===- TileAndVectorize.cpp - tile linalg ops to vectors and vectorize ----===//

#include "qopt/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUTILEANDVECTORIZE
#include "qopt/Codegen/CPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// The tile (and vector) shape of `op`: 1 everywhere but the innermost loop,
/// which gets `width` elements, or its whole static extent when that is
/// smaller. A zero tile size leaves a dimension untiled.
void chooseTiles(linalg::LinalgOp op, int64_t width,
                 SmallVectorImpl<int64_t> &tileSizes,
                 SmallVectorImpl<int64_t> &vectorSizes) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (auto [i, range] : llvm::enumerate(ranges)) {
    bool inner = i + 1 == ranges.size();
    int64_t size = inner ? width : 1;
    if (!ShapedType::isDynamic(range) && range <= size) {
      tileSizes.push_back(0);
      vectorSizes.push_back(std::max<int64_t>(range, 1));
      continue;
    }
    tileSizes.push_back(size);
    vectorSizes.push_back(size);
  }
}

/// Whether every operand is read along a projected permutation of the loops
/// (broadcasts allowed). Windowed accesses (`d2 + d4` in pools written as
/// generics) are left to scalar loops: vectorizing them with 1-wide outer
/// tiles miscomputes the window sums.
bool hasPermutationMaps(linalg::LinalgOp op) {
  return llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
    return map.isProjectedPermutation(/*allowZeroInResults=*/true);
  });
}

/// Whether a reduction reads an input only for its shape (the window of a
/// pool that counts elements): the vectorizer then reduces one element per
/// vector instead of the whole vector.
bool reducesUnreadInput(linalg::LinalgOp op) {
  if (op.getNumReductionLoops() == 0)
    return false;
  return llvm::any_of(op.getRegionInputArgs(),
                      [](BlockArgument arg) { return arg.use_empty(); });
}

/// Whether the body reads a tensor at computed indices. Such reads become
/// vector.gather, which LLVM lowering only handles on identity layouts; the
/// scalar loop it leaves instead is what an embedding lookup wants anyway.
bool hasGather(linalg::LinalgOp op) {
  return !op->getRegion(0).getOps<tensor::ExtractOp>().empty();
}

/// Whether `op` may trap on operands it would never see as a scalar: the
/// masked-off lanes of a partial tile hold poison. Integer division and
/// remainder do (x86 has no vector integer division, so LLVM scalarizes it
/// and those lanes divide by garbage: SIGFPE on a Div of 20 int32 elements)
/// unless the divisor is a constant that cannot trap. MLIR marks remsi,
/// remui and floordivsi speculatable, so they are named here.
bool mayTrapOnPadding(Operation &op) {
  if (!isa<arith::DivSIOp, arith::DivUIOp, arith::CeilDivSIOp,
           arith::CeilDivUIOp, arith::FloorDivSIOp, arith::RemSIOp,
           arith::RemUIOp>(op))
    return !isSpeculatable(&op);
  APInt divisor;
  if (!matchPattern(op.getOperand(1), m_ConstantInt(&divisor)))
    return true;
  bool isSigned = isa<arith::DivSIOp, arith::CeilDivSIOp, arith::FloorDivSIOp,
                      arith::RemSIOp>(op);
  return divisor.isZero() || (isSigned && divisor.isAllOnes());
}

/// Whether the body has an op that must not run on the padding lanes of a
/// vector. Such ops stay scalar; for integer division that costs nothing,
/// since it would be scalarized anyway.
bool hasTrappingOp(linalg::LinalgOp op) {
  return llvm::any_of(op.getBlock()->without_terminator(), mayTrapOnPadding);
}

/// Whether loop `dim` of `op` indexes every output: only then do its
/// iterations write disjoint elements. A parallel loop that an output does
/// not depend on updates the same elements at every iteration, so it must
/// not run on threads.
bool writesDisjointOutputs(linalg::LinalgOp op, unsigned dim) {
  return llvm::all_of(op.getDpsInitsMutable(), [&](OpOperand &init) {
    return op.getMatchingIndexingMap(&init).isFunctionOfDim(dim);
  });
}

/// The single linalg op in the body of `loop`, if there is exactly one.
Operation *getOnlyLinalgOp(scf::ForOp loop) {
  Operation *found = nullptr;
  for (Operation &op : loop.getBody()->getOperations()) {
    if (!isa<linalg::LinalgOp>(op))
      continue;
    if (found)
      return nullptr;
    found = &op;
  }
  return found;
}

/// Vectorizes one tile (masked where its shape is dynamic). What the
/// vectorizer rejects (gathers with computed indices, ops without a
/// vectorization rule) stays a tiled scalar op.
void vectorizeTile(RewriterBase &rewriter, Operation *tile,
                   ArrayRef<int64_t> vectorSizes) {
  // Scalable flags are spelled out: with an empty list the vectorizer
  // builds some vector types whose flag list has the wrong length, which
  // print like, but are not, the types they must match.
  SmallVector<bool> scalable(vectorSizes.size(), false);
  if (failed(linalg::vectorizeOpPrecondition(tile, vectorSizes, scalable)))
    return;
  rewriter.setInsertionPoint(tile);
  FailureOr<linalg::VectorizationResult> vectorized =
      linalg::vectorize(rewriter, tile, vectorSizes, scalable);
  if (failed(vectorized))
    return;
  if (vectorized->replacements.empty())
    rewriter.eraseOp(tile);
  else
    rewriter.replaceOp(tile, vectorized->replacements);
}

struct CPUTileAndVectorizePass
    : public qopt::impl::CPUTileAndVectorizeBase<CPUTileAndVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> targets;
    getOperation().walk([&](linalg::LinalgOp op) {
      // Vectors of sub-byte integers (i1, i4) are bit-packed in memory while
      // memrefs of them hold a byte per element; ops on them stay scalar so
      // both agree.
      auto isSubByteInteger = [](Value v) {
        Type type = getElementTypeOrSelf(v.getType());
        return type.isInteger() && type.getIntOrFloatBitWidth() < 8;
      };
      // Convolutions and pools have their own vectorization scheme, which
      // needs other tile shapes than the innermost-dimension one used here.
      if (op.hasPureTensorSemantics() && op.getNumLoops() > 0 &&
          !qopt::isUKernelOp(op) && !linalg::isaConvolutionOpInterface(op) &&
          !hasGather(op) && hasPermutationMaps(op) && !reducesUnreadInput(op) &&
          llvm::none_of(op->getOperands(), isSubByteInteger) &&
          llvm::none_of(op->getResults(), isSubByteInteger))
        targets.push_back(op);
    });

    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : targets) {
      // The vectorizer broadcasts values defined above the body but keeps
      // constants inside it scalar, which mistypes their vector users.
      for (Operation &inner :
           llvm::make_early_inc_range(op->getRegion(0).getOps()))
        if (inner.hasTrait<OpTrait::ConstantLike>())
          inner.moveBefore(op);
      SmallVector<int64_t> tileSizes, vectorSizes;
      chooseTiles(op, vectorWidth, tileSizes, vectorSizes);
      bool vectorize = !hasTrappingOp(op);
      // Zero-sized static dimensions: nothing to compute, nothing to tile.
      if (llvm::is_contained(op.getStaticLoopRanges(), 0))
        continue;

      rewriter.setInsertionPoint(op);
      Operation *tile = op;
      if (llvm::any_of(tileSizes, [](int64_t s) { return s != 0; })) {
        scf::SCFTilingOptions options;
        options.setTileSizes(getAsIndexOpFoldResult(&getContext(), tileSizes));
        options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
        FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
            rewriter, cast<TilingInterface>(op.getOperation()), options);
        if (failed(tiled))
          continue;
        // Loops over parallel dimensions write disjoint tiles:
        // qopt-cpu-outline-parallel-loops may run their iterations on threads.
        SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
        unsigned loop = 0;
        for (auto [dim, size] : llvm::enumerate(tileSizes)) {
          if (size == 0)
            continue;
          if (loop < tiled->loops.size() &&
              iterators[dim] == utils::IteratorType::parallel &&
              writesDisjointOutputs(op, dim))
            tiled->loops[loop]->setAttr(qopt::kParallelLoopAttrName,
                                        rewriter.getUnitAttr());
          ++loop;
        }
        rewriter.replaceOp(op, tiled->replacements);
        if (tiled->tiledOps.size() != 1)
          continue;
        tile = tiled->tiledOps.front();
        // A vector-wide innermost loop over a dynamic extent would run
        // every tile masked, and masked loads and stores are slow
        // (microcoded stores on AMD). Peeling the last partial tile leaves
        // full tiles, whose masks fold away. (Static extents are not
        // peeled: their partial tile would get a static shape that
        // canonicalization folds into the masked region, which the
        // verifier rejects.)
        if (vectorize && tileSizes.back() == vectorWidth &&
            !tiled->loops.empty()) {
          auto inner = dyn_cast<scf::ForOp>(tiled->loops.back().getOperation());
          scf::ForOp partial;
          if (inner && !getConstantIntValue(inner.getUpperBound()) &&
              succeeded(scf::peelForLoopAndSimplifyBounds(rewriter, inner,
                                                          partial))) {
            if (Operation *rest = getOnlyLinalgOp(partial))
              vectorizeTile(rewriter, rest, vectorSizes);
          }
        }
      }

      if (vectorize)
        vectorizeTile(rewriter, tile, vectorSizes);
    }
  }
};

} // namespace
