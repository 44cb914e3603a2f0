//===- OutlineParallelLoops.cpp - loop bands to parallel bodies -----------===//
//
// Only the runtime's kernels used the thread pool; every loop nest the code
// generator emits (normalizations, RoPE, masks, residual adds, SwiGLU, copies)
// ran on one core. The nests `qopt-cpu-tile-and-vectorize` builds over parallel
// dimensions are marked `qopt_parallel`. This pass moves each outermost band
// of such loops into a function of an iteration range, called once over the
// whole range; `qopt-cpu-lower-parallel-calls` later turns the call into a
// `qrt_parallel_for` that splits the range across the pool. Until then the
// code is correct as it stands (one call does all iterations), so the two
// steps can be tested, and run, separately.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUOUTLINEPARALLELLOOPS
#include "qopt/Codegen/CPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// Roughly the operations one chunk of a parallel call should execute to be
/// worth a hand-off to another thread (a few microseconds of work).
constexpr int64_t kMinChunkOps = 16384;
/// Trip count assumed for inner loops whose bounds are not constants.
constexpr int64_t kAssumedTripCount = 16;

bool isMarked(scf::ForOp loop) {
  return loop->hasAttr(qopt::kParallelLoopAttrName) &&
         loop.getInitArgs().empty();
}

/// Whether `value` is available before `loop` (not defined inside it).
bool isDefinedOutside(Value value, scf::ForOp loop) {
  return !loop->isAncestor(value.getParentRegion()->getParentOp());
}

/// The band of perfectly nested marked loops rooted at `root` whose bounds
/// do not depend on the band's induction variables.
SmallVector<scf::ForOp> getBand(scf::ForOp root) {
  SmallVector<scf::ForOp> band = {root};
  while (true) {
    Block *body = band.back().getBody();
    if (body->getOperations().size() != 2)
      break;
    auto inner = dyn_cast<scf::ForOp>(body->front());
    if (!inner || !isMarked(inner) ||
        !llvm::all_of(ValueRange{inner.getLowerBound(), inner.getUpperBound(),
                                 inner.getStep()},
                      [&](Value v) { return isDefinedOutside(v, root); }))
      break;
    band.push_back(inner);
  }
  return band;
}

bool containsCall(scf::ForOp loop) {
  return loop->walk([](func::CallOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

/// Estimated operations one execution of `block` runs; a call (a kernel)
/// counts as a whole chunk's worth.
int64_t estimateCost(Block &block) {
  int64_t cost = 0;
  for (Operation &op : block) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      int64_t trips = kAssumedTripCount;
      if (std::optional<APInt> count = loop.getStaticTripCount())
        trips = count->getSExtValue();
      cost += trips * estimateCost(*loop.getBody());
      continue;
    }
    cost += isa<func::CallOp>(op) ? kMinChunkOps : 1;
    for (Region &region : op.getRegions())
      for (Block &inner : region)
        cost += estimateCost(inner);
  }
  return cost;
}

struct CPUOutlineParallelLoopsPass
    : public qopt::impl::CPUOutlineParallelLoopsBase<
          CPUOutlineParallelLoopsPass> {
  void runOnOperation() override;

private:
  void outline(func::FuncOp parent, scf::ForOp root, SymbolTable &symbols);
};

void CPUOutlineParallelLoopsPass::outline(func::FuncOp parent, scf::ForOp root,
                                          SymbolTable &symbols) {
  SmallVector<scf::ForOp> band = getBand(root);
  // The innermost loop of a longer band usually walks the vector tiles of a
  // row: keep it whole inside each iteration, so that the index arithmetic
  // below runs once per row rather than once per vector. Loops around
  // kernel calls are collapsed entirely: each iteration is a whole call.
  if (band.size() > 1 && !containsCall(band.back()))
    band.pop_back();
  scf::ForOp last = band.back();

  MLIRContext *ctx = &getContext();
  Location loc = root.getLoc();
  OpBuilder b(root);
  IndexType indexType = b.getIndexType();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);

  // Trip counts and the linear iteration space, at the call site.
  SmallVector<Value> tripCounts;
  Value total;
  for (scf::ForOp loop : band) {
    Value span = arith::SubIOp::create(b, loc, loop.getUpperBound(),
                                       loop.getLowerBound());
    span = arith::MaxSIOp::create(b, loc, span, zero);
    Value trips = arith::CeilDivUIOp::create(b, loc, span, loop.getStep());
    tripCounts.push_back(trips);
    total =
        total ? arith::MulIOp::create(b, loc, total, trips).getResult() : trips;
  }

  // Everything the body reads from outside the band, plus the bounds.
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(last.getRegion(), captured);
  for (scf::ForOp loop : band) {
    captured.insert(loop.getLowerBound());
    captured.insert(loop.getStep());
  }
  // The outermost trip count is implied by the range.
  for (Value trips : llvm::drop_begin(tripCounts))
    captured.insert(trips);
  // Loop ivs of the band itself are recomputed, not captured.
  for (scf::ForOp loop : band)
    captured.remove(loop.getInductionVar());
  // Constants are rematerialized in the body rather than passed.
  SmallVector<Operation *> rematerialized;
  for (Value value : captured.takeVector()) {
    Operation *def = value.getDefiningOp();
    if (def && def->getNumOperands() == 0 && def->getNumRegions() == 0 &&
        def->getNumResults() == 1 && isMemoryEffectFree(def)) {
      rematerialized.push_back(def);
      continue;
    }
    captured.insert(value);
  }

  SmallVector<Type> argTypes = {indexType, indexType};
  for (Value value : captured)
    argTypes.push_back(value.getType());
  std::string name = (parent.getSymName() + "_parallel").str();
  OpBuilder moduleBuilder(parent);
  auto body = func::FuncOp::create(moduleBuilder, loc, name,
                                   FunctionType::get(ctx, argTypes, {}));
  body.setPrivate();
  symbols.insert(body); // renames on collision
  int64_t cost = std::max<int64_t>(1, estimateCost(*last.getBody()));
  body->setAttr(qopt::kParallelBodyAttrName,
                b.getI64IntegerAttr(std::max<int64_t>(
                    1, llvm::divideCeil(kMinChunkOps, cost))));

  Block *entry = body.addEntryBlock();
  OpBuilder fb = OpBuilder::atBlockBegin(entry);
  IRMapping mapping;
  for (auto [value, arg] :
       llvm::zip(captured, entry->getArguments().drop_front(2)))
    mapping.map(value, arg);
  for (Operation *def : rematerialized)
    fb.clone(*def, mapping);
  Value one = arith::ConstantIndexOp::create(fb, loc, 1);
  auto chunk = scf::ForOp::create(fb, loc, entry->getArgument(0),
                                  entry->getArgument(1), one);
  func::ReturnOp::create(fb, loc);
  {
    OpBuilder lb = OpBuilder::atBlockBegin(chunk.getBody());
    // Linear index -> band indices, innermost fastest.
    Value rest = chunk.getInductionVar();
    SmallVector<Value> indices(band.size());
    for (int64_t j = band.size() - 1; j > 0; --j) {
      Value trips = mapping.lookup(tripCounts[j]);
      indices[j] = arith::RemUIOp::create(lb, loc, rest, trips);
      rest = arith::DivUIOp::create(lb, loc, rest, trips);
    }
    indices[0] = rest;
    for (auto [loop, index] : llvm::zip(band, indices)) {
      Value iv = arith::AddIOp::create(
          lb, loc, mapping.lookup(loop.getLowerBound()),
          arith::MulIOp::create(lb, loc, index,
                                mapping.lookup(loop.getStep())));
      mapping.map(loop.getInductionVar(), iv);
    }
    for (Operation &op : last.getBody()->without_terminator())
      lb.clone(op, mapping);
  }

  // Nested marked loops run serially inside a chunk.
  body.walk(
      [](scf::ForOp loop) { loop->removeAttr(qopt::kParallelLoopAttrName); });

  SmallVector<Value> args = {zero, total};
  args.append(captured.begin(), captured.end());
  func::CallOp::create(b, loc, body, args);
  root->erase();
}

void CPUOutlineParallelLoopsPass::runOnOperation() {
  ModuleOp module = getOperation();
  SymbolTable symbols(module);
  SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
  for (func::FuncOp func : funcs) {
    if (func.isExternal() || func->hasAttr(qopt::kParallelBodyAttrName))
      continue;
    // Outermost marked loops only: an inner band runs inside its outer one.
    SmallVector<scf::ForOp> roots;
    func.walk<WalkOrder::PreOrder>([&](scf::ForOp loop) {
      if (!isMarked(loop))
        return WalkResult::advance();
      roots.push_back(loop);
      return WalkResult::skip();
    });
    for (scf::ForOp root : roots)
      outline(func, root, symbols);
  }
}

} // namespace
