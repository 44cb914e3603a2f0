//===- ApplyCalibration.cpp - statistics back onto the observers ----------===//
//
// The last step of calibration: what the calibration run measured becomes
// IR, so that quantization passes are ordinary passes on a file. Everything
// that could turn into a NaN scale later (a point nothing reached, values
// that were not finite) is an error here, where it can still name the point.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/Clip.h"
#include "qopt/Calibration/StatsFile.h"
#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"
#include "qopt/Runtime/ArtifactABI.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"

#include <map>
#include <set>

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_APPLYCALIBRATION
#include "qopt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

// The file stores qart_observer_kind values, which are ObserverKind's.
static_assert(QART_OBSERVE_MIN_MAX == int(ObserverKind::MinMax) &&
                  QART_OBSERVE_PERCENTILE == int(ObserverKind::Percentile) &&
                  QART_OBSERVE_MSE == int(ObserverKind::MSE) &&
                  QART_OBSERVE_HISTOGRAM == int(ObserverKind::Histogram) &&
                  QART_OBSERVE_ABS_MAX == int(ObserverKind::AbsMax) &&
                  QART_OBSERVE_HESSIAN == int(ObserverKind::Hessian),
              "qart_observer_kind must match ObserverKind");

namespace {

struct ApplyCalibrationPass
    : public qopt::impl::ApplyCalibrationBase<ApplyCalibrationPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// `data` as a constant of `type`: a dense_resource blob from
  /// `resource-threshold` bytes on.
  template <typename T>
  ElementsAttr makeElements(ShapedType type, ArrayRef<T> data, StringRef point,
                            StringRef field);
  /// The stats of `op` from `p`, or null after reporting why.
  StatsAttr buildStats(ObserveOp op, const qstats::PointStats &p);
};

template <typename T>
ElementsAttr
ApplyCalibrationPass::makeElements(ShapedType type, ArrayRef<T> data,
                                   StringRef point, StringRef field) {
  ArrayRef<char> bytes(reinterpret_cast<const char *>(data.data()),
                       data.size() * sizeof(T));
  if (static_cast<int64_t>(bytes.size()) < resourceThreshold)
    return DenseElementsAttr::getFromRawBuffer(type, bytes);
  // Resource blob names allow letters, digits, '_' and '.'.
  std::string name = ("calib." + point + "." + field).str();
  for (char &c : name)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  return DenseResourceElementsAttr::get(
      type, name,
      HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(T)));
}

StatsAttr ApplyCalibrationPass::buildStats(ObserveOp op,
                                           const qstats::PointStats &p) {
  MLIRContext *ctx = &getContext();
  ObserverAttr observer = op.getObserver();
  StringRef kind = stringifyObserverKind(observer.getKind());
  auto error = [&]() {
    return op.emitOpError("'") << statsFile << "': point '" << op.getName()
                               << "' (" << kind << ") ";
  };
  int32_t axis = static_cast<int32_t>(observer.getAxis().value_or(-1));
  if (p.axis != axis) {
    error() << "was observed along axis " << p.axis << ", the op has axis "
            << axis << "; recompile and rerun calibration";
    return {};
  }
  if (p.samples == 0) {
    error() << "saw no samples: the calibration set never reached it";
    return {};
  }
  if (p.nonfinite > 0) {
    error() << "saw " << p.nonfinite << " NaN or infinite values among "
            << p.elements
            << "; fix the model or the calibration data, ranges around "
               "them would give NaN scales";
    return {};
  }
  RankedTensorType inputType = op.getInput().getType();
  auto f32 = Float32Type::get(ctx);
  if (observer.getKind() == ObserverKind::Hessian) {
    int64_t k = inputType.getShape().back();
    if (p.hessianK == 0 || (!ShapedType::isDynamic(k) && p.hessianK != k)) {
      error() << "has a " << p.hessianK << "x" << p.hessianK
              << " Hessian, the op's input has K = " << k;
      return {};
    }
    auto type =
        RankedTensorType::get({p.hessianK, p.hessianK}, Float64Type::get(ctx));
    return StatsAttr::get(
        ctx, p.samples, nullptr, nullptr, nullptr, nullptr,
        makeElements<double>(type, p.hessian, op.getName(), "hessian"));
  }
  SmallVector<int64_t> shape;
  if (observer.getAxis()) {
    int64_t size = inputType.getDimSize(*observer.getAxis());
    if (!ShapedType::isDynamic(size) &&
        static_cast<int64_t>(p.min.size()) != size) {
      error() << "has " << p.min.size() << " channels, the op's axis has "
              << size;
      return {};
    }
    shape.push_back(static_cast<int64_t>(p.min.size()));
  } else if (p.min.size() != 1) {
    error() << "has " << p.min.size()
            << " channels where a per-tensor observer has 1";
    return {};
  }
  auto type = RankedTensorType::get(shape, f32);
  if (observer.getKind() == ObserverKind::AbsMax)
    return StatsAttr::get(
        ctx, p.samples, nullptr, nullptr,
        makeElements<float>(type, p.absmax, op.getName(), "absmax"), nullptr,
        nullptr);
  if (observer.getKind() == ObserverKind::MinMax)
    return StatsAttr::get(ctx, p.samples,
                          makeElements<float>(type, p.min, op.getName(), "min"),
                          makeElements<float>(type, p.max, op.getName(), "max"),
                          nullptr, nullptr, nullptr);
  // Histogram kinds: the clip c they stand for (qstats::clipFor), as a
  // range for static activation quantization: [max(min, -c), min(max, c)].
  if (p.histogram.empty() ||
      static_cast<int64_t>(p.histogram.size()) != observer.getBins() ||
      p.min.size() != 1) {
    error() << "has a histogram of " << p.histogram.size()
            << " bins, the op asks for " << observer.getBins()
            << "; recompile and rerun calibration";
    return {};
  }
  double clip = qstats::clipFor(p);
  float lo = std::max(p.min[0], static_cast<float>(-clip));
  float hi = std::min(p.max[0], static_cast<float>(clip));
  ElementsAttr histogram;
  if (observer.getKind() == ObserverKind::Histogram) {
    SmallVector<double> counts(p.histogram.begin(), p.histogram.end());
    histogram = makeElements<double>(
        RankedTensorType::get({observer.getBins()}, Float64Type::get(ctx)),
        counts, op.getName(), "histogram");
  }
  return StatsAttr::get(ctx, p.samples,
                        makeElements<float>(type, {lo}, op.getName(), "min"),
                        makeElements<float>(type, {hi}, op.getName(), "max"),
                        nullptr, histogram, nullptr);
}

void ApplyCalibrationPass::runOnOperation() {
  Operation *root = getOperation();
  if (statsFile.empty()) {
    emitError(root->getLoc())
        << "qopt-apply-calibration: no statistics file given (stats=FILE)";
    return signalPassFailure();
  }
  auto buffer = llvm::MemoryBuffer::getFile(statsFile, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(root->getLoc())
        << "qopt-apply-calibration: cannot read '" << statsFile
        << "': " << buffer.getError().message();
    return signalPassFailure();
  }
  qstats::StatsFile file;
  if (std::string message = qstats::decodeStatsFile(
          (*buffer)->getBuffer().str(), statsFile, file);
      !message.empty()) {
    emitError(root->getLoc()) << "qopt-apply-calibration: " << message;
    return signalPassFailure();
  }
  std::map<std::pair<std::string, int32_t>, const qstats::PointStats *> byKey;
  for (const qstats::PointStats &p : file.points)
    byKey[{p.name, p.kind}] = &p;

  // Everything is checked before anything changes.
  SmallVector<std::pair<ObserveOp, StatsAttr>> updates;
  std::set<const qstats::PointStats *> used;
  bool failed = false;
  root->walk([&](ObserveOp op) {
    int32_t kind = static_cast<int32_t>(op.getObserver().getKind());
    auto it = byKey.find({op.getName().str(), kind});
    if (it == byKey.end()) {
      op.emitOpError("'") << statsFile << "' has no statistics for point '"
                          << op.getName() << "' ("
                          << stringifyObserverKind(op.getObserver().getKind())
                          << "); was it calibrated with this model?";
      failed = true;
      return;
    }
    used.insert(it->second);
    StatsAttr stats = buildStats(op, *it->second);
    if (!stats) {
      failed = true;
      return;
    }
    updates.push_back({op, stats});
  });
  if (failed)
    return signalPassFailure();
  for (const qstats::PointStats &p : file.points)
    if (!used.count(&p))
      emitWarning(root->getLoc())
          << "qopt-apply-calibration: '" << statsFile << "' has point '"
          << p.name << "', which no qopt.observe names";
  for (auto [op, stats] : updates)
    op.setStatsAttr(stats);
}

} // namespace
