//===- LowerObserve.cpp - qopt.observe to calls into libqrt ---------------===//
//
// A calibration build observes each point once per run with the whole
// tensor, before fusion or tiling could split or merge what it sees; the
// runtime's qrt_observe does the arithmetic (and its locking), so the code
// here only hands over a buffer and numbers the points.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/Common/Passes.h"
#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_LOWEROBSERVE
#include "qopt/Codegen/Common/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

/// The libqrt function of qopt/Runtime/UKernels.h.
static constexpr llvm::StringLiteral kObserve = "qrt_observe";

namespace {
struct LowerObservePass
    : public qopt::impl::LowerObserveBase<LowerObservePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<ObserveOp> points;
    module.walk([&](ObserveOp op) { points.push_back(op); });
    if (points.empty())
      return;
    MLIRContext *ctx = &getContext();
    Builder attrs(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto unranked = UnrankedMemRefType::get(Float32Type::get(ctx), 0);
    auto calleeType = FunctionType::get(ctx, {i64, unranked}, {});

    auto callee = module.lookupSymbol<func::FuncOp>(kObserve);
    if (!callee) {
      OpBuilder b(module.getBodyRegion());
      callee = func::FuncOp::create(b, module.getLoc(), kObserve, calleeType);
      callee.setPrivate();
    } else if (callee.getFunctionType() != calleeType) {
      callee.emitError() << "'" << kObserve << "' has type "
                         << callee.getFunctionType() << ", expected "
                         << calleeType;
      return signalPassFailure();
    }

    SmallVector<Attribute> table;
    llvm::StringSet<> seen;
    for (ObserveOp op : points) {
      RankedTensorType type = op.getInput().getType();
      if (!type.getElementType().isF32()) {
        op.emitOpError("calibration builds observe f32 values only, got ")
            << type;
        return signalPassFailure();
      }
      ObserverAttr observer = op.getObserver();
      std::string key =
          (op.getName() + "\n" + stringifyObserverKind(observer.getKind()))
              .str();
      if (!seen.insert(key).second) {
        op.emitOpError("a second '")
            << stringifyObserverKind(observer.getKind()) << "' observer named '"
            << op.getName()
            << "': calibration could not tell their statistics apart";
        return signalPassFailure();
      }
      int64_t channels = 1;
      if (observer.getKind() == ObserverKind::Hessian)
        channels = type.getRank() ? type.getShape().back() : 1;
      else if (observer.getAxis())
        channels = type.getDimSize(*observer.getAxis());
      if (ShapedType::isDynamic(channels))
        channels = -1;
      table.push_back(attrs.getDictionaryAttr({
          attrs.getNamedAttr("name", op.getNameAttr()),
          attrs.getNamedAttr("kind",
                             attrs.getI32IntegerAttr(
                                 static_cast<int32_t>(observer.getKind()))),
          attrs.getNamedAttr("axis",
                             attrs.getI64IntegerAttr(
                                 observer.getAxis().value_or(int64_t(-1)))),
          attrs.getNamedAttr("channels", attrs.getI64IntegerAttr(channels)),
          attrs.getNamedAttr("bins",
                             attrs.getI64IntegerAttr(observer.getBins())),
          attrs.getNamedAttr("percentile",
                             attrs.getF64FloatAttr(
                                 observer.getPercentile().convertToDouble())),
      }));

      OpBuilder b(op);
      Location loc = op.getLoc();
      SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
      auto layout = StridedLayoutAttr::get(ctx, ShapedType::kDynamic, strides);
      auto bufferType =
          MemRefType::get(type.getShape(), type.getElementType(), layout);
      auto buffer = bufferization::ToBufferOp::create(
          b, loc, bufferType, op.getInput(), /*read_only=*/true);
      Value cast = memref::CastOp::create(b, loc, unranked, buffer);
      Value id = arith::ConstantOp::create(
          b, loc, attrs.getI64IntegerAttr(table.size() - 1));
      func::CallOp::create(b, loc, callee, ValueRange{id, cast});
      op.getResult().replaceAllUsesWith(op.getInput());
      op.erase();
    }
    module->setAttr(QOptDialect::kObservePointsAttrName,
                    attrs.getArrayAttr(table));
  }
};
} // namespace
