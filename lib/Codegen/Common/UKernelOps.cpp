//===- UKernelOps.cpp - which linalg ops go to the CPU micro-kernels ------===//

#include "qopt/Codegen/Common/UKernelOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/AffineMap.h"

using namespace mlir;

/// Whether the body of `op` is exactly `out + a * b` (in either operand
/// order) and nothing else. The kernel computes that and ignores the body, but
/// upstream's contraction check looks through any unary op around each operand
/// and the result (`out + exp(a) * b`, `-(out + a * b)`), which the kernel
/// would silently drop.
static bool isPlainMulAddBody(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  if (!body || body->getNumArguments() != 3 ||
      body->getOperations().size() != 3)
    return false;
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getNumOperands() == 1
                 ? yield.getOperand(0).getDefiningOp<arith::AddFOp>()
                 : arith::AddFOp();
  if (!add)
    return false;
  BlockArgument a = body->getArgument(0), b = body->getArgument(1),
                out = body->getArgument(2);
  auto isPair = [](Value lhs, Value rhs, Value x, Value y) {
    return (lhs == x && rhs == y) || (lhs == y && rhs == x);
  };
  Value product = add.getLhs() == out ? add.getRhs() : add.getLhs();
  auto mul = product.getDefiningOp<arith::MulFOp>();
  return mul && isPair(add.getLhs(), add.getRhs(), out, mul) &&
         isPair(mul.getLhs(), mul.getRhs(), a, b);
}

/// Whether the body of `op` is exactly `out + extsi(a) * extsi(b)` on i8
/// inputs and an i32 output (in either operand order): the integer
/// convolution of qopt-quantize-w8a8, whose sums wrap modulo 2^32 as the
/// kernel's do.
static bool isS8MulAddBody(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  if (!body || body->getNumArguments() != 3 ||
      body->getOperations().size() != 5)
    return false;
  BlockArgument a = body->getArgument(0), b = body->getArgument(1),
                out = body->getArgument(2);
  if (!a.getType().isInteger(8) || !b.getType().isInteger(8) ||
      !out.getType().isInteger(32))
    return false;
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getNumOperands() == 1
                 ? yield.getOperand(0).getDefiningOp<arith::AddIOp>()
                 : arith::AddIOp();
  if (!add)
    return false;
  Value product = add.getLhs() == out ? add.getRhs() : add.getLhs();
  auto mul = product.getDefiningOp<arith::MulIOp>();
  if (!mul || (add.getLhs() != out && add.getRhs() != out))
    return false;
  auto lhs = mul.getLhs().getDefiningOp<arith::ExtSIOp>();
  auto rhs = mul.getRhs().getDefiningOp<arith::ExtSIOp>();
  if (!lhs || !rhs)
    return false;
  Value x = lhs.getIn(), y = rhs.getIn();
  return (x == a && y == b) || (x == b && y == a);
}

bool qopt::isUKernelContraction(Operation *op) {
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.getNumDpsInputs() != 2 ||
      linalgOp.getNumDpsInits() != 1)
    return false;
  for (OpOperand &operand : linalgOp->getOpOperands())
    if (!getElementTypeOrSelf(operand.get().getType()).isF32())
      return false;
  if (!linalg::isaContractionOpInterface(linalgOp) ||
      !isPlainMulAddBody(linalgOp))
    return false;
  for (AffineMap map : linalgOp.getIndexingMapsArray())
    if (!map.isProjectedPermutation())
      return false;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(linalgOp);
  if (failed(dims) || dims->k.size() != 1 || dims->n.size() != 1)
    return false;
  // The lowering loops over batch and m dimensions and hands m, n and k to
  // the kernel; a loop of no such kind (a reduction only A reads, a parallel
  // dimension only C has) would be dropped, not summed or broadcast over.
  if (dims->batch.size() + dims->m.size() + dims->n.size() + dims->k.size() !=
      linalgOp.getNumLoops())
    return false;
  // The accumulator must not be broadcast: every parallel dimension indexes
  // the output.
  return linalgOp.getMatchingIndexingMap(linalgOp.getDpsInitOperand(0))
             .getNumResults() == linalgOp.getNumParallelLoops();
}

std::optional<qopt::UKernelConvolution>
qopt::matchUKernelConvolution(Operation *op) {
  auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 2 ||
      generic.getNumDpsInits() != 1)
    return std::nullopt;
  bool s8 = isS8MulAddBody(generic);
  if (!s8 && !isPlainMulAddBody(generic))
    return std::nullopt;
  auto xType = dyn_cast<ShapedType>(generic.getDpsInputs()[0].getType());
  auto wType = dyn_cast<ShapedType>(generic.getDpsInputs()[1].getType());
  auto yType = dyn_cast<ShapedType>(generic.getDpsInits()[0].getType());
  if (!xType || !wType || !yType || !xType.hasRank())
    return std::nullopt;
  if (s8 ? !xType.getElementType().isInteger(8) ||
               !wType.getElementType().isInteger(8) ||
               !yType.getElementType().isInteger(32)
         : !xType.getElementType().isF32() || !wType.getElementType().isF32() ||
               !yType.getElementType().isF32())
    return std::nullopt;
  int64_t rank = xType.getRank(), n = rank - 2;
  if ((n != 1 && n != 2) || wType.getRank() != rank ||
      yType.getRank() != rank || !wType.hasStaticShape() ||
      ShapedType::isDynamic(xType.getDimSize(1)))
    return std::nullopt;
  int64_t numLoops = 3 + 2 * n;
  if (generic.getNumLoops() != numLoops)
    return std::nullopt;
  for (auto [i, it] : llvm::enumerate(generic.getIteratorTypesArray()))
    if ((it == utils::IteratorType::parallel) != (int64_t(i) < 2 + n))
      return std::nullopt;
  int64_t c = xType.getDimSize(1), f = wType.getDimSize(0),
          cg = wType.getDimSize(1);
  if (cg <= 0 || c % cg != 0 || f % (c / cg) != 0)
    return std::nullopt;
  UKernelConvolution conv{n, c / cg, {}, {}, s8};
  int64_t fg = f / conv.groups;
  // Strides and dilations: the x map at unit points of the output and kernel
  // loops. The maps are then rebuilt from them and compared exactly.
  AffineMap xMap = generic.getIndexingMapsArray()[0];
  if (xMap.getNumResults() != rank || xMap.getNumSymbols() != 0)
    return std::nullopt;
  auto at = [&](int64_t dim) {
    SmallVector<int64_t> point(numLoops, 0);
    point[dim] = 1;
    return xMap.compose(point);
  };
  for (int64_t i = 0; i < n; ++i) {
    conv.strides.push_back(at(2 + i)[2 + i]);
    conv.dilations.push_back(at(3 + n + i)[2 + i]);
    if (conv.strides.back() < 1 || conv.dilations.back() < 1)
      return std::nullopt;
  }
  MLIRContext *ctx = op->getContext();
  auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> xExprs = {dim(0),
                                    dim(1).floorDiv(fg) * cg + dim(2 + n)};
  SmallVector<AffineExpr> wExprs = {dim(1), dim(2 + n)};
  SmallVector<AffineExpr> yExprs = {dim(0), dim(1)};
  for (int64_t i = 0; i < n; ++i) {
    xExprs.push_back(dim(2 + i) * conv.strides[i] +
                     dim(3 + n + i) * conv.dilations[i]);
    wExprs.push_back(dim(3 + n + i));
    yExprs.push_back(dim(2 + i));
  }
  SmallVector<AffineMap> expected = {AffineMap::get(numLoops, 0, xExprs, ctx),
                                     AffineMap::get(numLoops, 0, wExprs, ctx),
                                     AffineMap::get(numLoops, 0, yExprs, ctx)};
  // Both sides simplified: the importer's floordiv by 1 or times 1 may be
  // folded or not.
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  // With one group, f floordiv F is 0 for every f < F: the channel may be
  // spelled `c` alone.
  if (conv.groups == 1 && maps[0].getResult(1) == dim(2 + n)) {
    xExprs[1] = dim(2 + n);
    expected[0] = AffineMap::get(numLoops, 0, xExprs, ctx);
  }
  for (auto [got, want] : llvm::zip(maps, expected))
    if (simplifyAffineMap(got) != simplifyAffineMap(want))
      return std::nullopt;
  return conv;
}

bool qopt::isUKernelOp(Operation *op) {
  return isUKernelContraction(op) || matchUKernelConvolution(op) ||
         (op && (op->hasAttr(kWeightOnlyGemmAttrName) ||
                 op->hasAttr(kS8GemmAttrName) ||
                 op->hasAttr(kS8QuantizeRowsAttrName)));
}
