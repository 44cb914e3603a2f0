//===- QOptAttrs.cpp - qopt attributes ------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qopt;

#include "qopt/Dialect/QOpt/IR/QOptEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "qopt/Dialect/QOpt/IR/QOptAttrs.cpp.inc"

void QOptDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qopt/Dialect/QOpt/IR/QOptAttrs.cpp.inc"
      >();
}

FailureOr<bool> qopt::detail::parseBoolParameter(AsmParser &parser) {
  if (succeeded(parser.parseOptionalKeyword("true")))
    return true;
  if (succeeded(parser.parseOptionalKeyword("false")))
    return false;
  parser.emitError(parser.getCurrentLocation(), "expected 'true' or 'false'");
  return failure();
}

FailureOr<APFloat> qopt::detail::parseF64Parameter(AsmParser &parser) {
  double value;
  if (parser.parseFloat(value))
    return failure();
  return APFloat(value);
}

//===----------------------------------------------------------------------===//
// SchemeAttr
//===----------------------------------------------------------------------===//

static bool isSupportedStorage(Type type) {
  if (auto intType = dyn_cast<IntegerType>(type)) {
    unsigned width = intType.getWidth();
    return width == 2 || width == 3 || width == 4 || width == 8;
  }
  return isa<Float8E4M3FNType, Float8E4M3FNUZType, Float8E5M2Type,
             Float8E5M2FNUZType>(type);
}

LogicalResult SchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 Type storage, Granularity granularity,
                                 std::optional<int64_t> axis,
                                 std::optional<int64_t> groupSize,
                                 bool symmetric, bool narrowRange) {
  if (!isSupportedStorage(storage))
    return emitError() << "unsupported storage type " << storage
                       << "; expected one of i8, ui8, i4, ui4, i3, ui3, i2, "
                          "ui2, f8E4M3FN, f8E4M3FNUZ, f8E5M2, f8E5M2FNUZ";
  bool isFloat = isa<FloatType>(storage);
  if (isFloat && !symmetric)
    return emitError() << "fp8 storage " << storage << " must be symmetric";
  if (narrowRange && (isFloat || cast<IntegerType>(storage).isUnsigned()))
    return emitError() << "narrow_range requires signed integer storage, got "
                       << storage;

  StringRef name = stringifyGranularity(granularity);
  bool wantsAxis = granularity == Granularity::PerChannel ||
                   granularity == Granularity::PerGroup;
  if (wantsAxis && !axis)
    return emitError() << name << " granularity requires 'axis'";
  if (!wantsAxis && axis)
    return emitError() << "'axis' is not allowed with " << name
                       << " granularity";
  if (axis && *axis < 0)
    return emitError() << "axis must be non-negative, got " << *axis;
  bool wantsGroup = granularity == Granularity::PerGroup;
  if (wantsGroup && !groupSize)
    return emitError() << "per_group granularity requires 'group_size'";
  if (!wantsGroup && groupSize)
    return emitError() << "'group_size' is not allowed with " << name
                       << " granularity";
  if (groupSize && *groupSize <= 0)
    return emitError() << "group_size must be positive, got " << *groupSize;
  return success();
}

unsigned SchemeAttr::getStorageWidth() const {
  return getStorage().getIntOrFloatBitWidth();
}

bool SchemeAttr::isFloatStorage() const { return isa<FloatType>(getStorage()); }

bool SchemeAttr::isSignedStorage() const {
  auto intType = dyn_cast<IntegerType>(getStorage());
  return !intType || !intType.isUnsigned();
}

Type SchemeAttr::getStorageElementType() const {
  if (isFloatStorage())
    return getStorage();
  return IntegerType::get(getContext(), getStorageWidth());
}

double SchemeAttr::getStorageMin() const {
  if (auto floatType = dyn_cast<FloatType>(getStorage()))
    return -llvm::APFloat::getLargest(floatType.getFloatSemantics())
                .convertToDouble();
  unsigned width = getStorageWidth();
  if (!isSignedStorage())
    return 0.0;
  double min = -static_cast<double>(int64_t(1) << (width - 1));
  return getNarrowRange() ? min + 1.0 : min;
}

double SchemeAttr::getStorageMax() const {
  if (auto floatType = dyn_cast<FloatType>(getStorage()))
    return llvm::APFloat::getLargest(floatType.getFloatSemantics())
        .convertToDouble();
  unsigned width = getStorageWidth();
  if (!isSignedStorage())
    return static_cast<double>((int64_t(1) << width) - 1);
  return static_cast<double>((int64_t(1) << (width - 1)) - 1);
}

//===----------------------------------------------------------------------===//
// ObserverAttr
//===----------------------------------------------------------------------===//

LogicalResult ObserverAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   ObserverKind kind,
                                   std::optional<int64_t> axis,
                                   APFloat percentileValue, int64_t bins) {
  double percentile = percentileValue.convertToDouble();
  if (axis && kind != ObserverKind::MinMax && kind != ObserverKind::AbsMax)
    return emitError() << "'axis' is only meaningful for min_max and abs_max "
                          "observers, not "
                       << stringifyObserverKind(kind);
  if (axis && *axis < 0)
    return emitError() << "axis must be non-negative, got " << *axis;
  if (!(percentile > 0.0 && percentile <= 100.0))
    return emitError() << "percentile must be in (0, 100], got " << percentile;
  if (bins < 2)
    return emitError() << "bins must be at least 2, got " << bins;
  // The runtime keeps one i64 count per bin per point.
  if (bins > (int64_t(1) << 20))
    return emitError() << "bins must be at most 1048576, got " << bins;

  return success();
}

//===----------------------------------------------------------------------===//
// StatsAttr
//===----------------------------------------------------------------------===//

LogicalResult StatsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t samples, ElementsAttr min,
                                ElementsAttr max, ElementsAttr absmax,
                                ElementsAttr histogram, ElementsAttr hessian) {
  if (samples < 0)
    return emitError() << "samples must be non-negative, got " << samples;
  std::pair<StringRef, ElementsAttr> fields[] = {{"min", min},
                                                 {"max", max},
                                                 {"absmax", absmax},
                                                 {"histogram", histogram},
                                                 {"hessian", hessian}};
  for (auto [name, value] : fields) {
    if (value && !isa<FloatType>(value.getShapedType().getElementType()))
      return emitError() << "'" << name << "' must hold floats, got "
                         << value.getShapedType();
    // Scales are computed from these: one NaN here is a NaN scale later.
    // (dense_resource blobs are checked where they are read.)
    if (auto dense = dyn_cast_or_null<DenseElementsAttr>(value))
      for (APFloat element : dense.getValues<APFloat>())
        if (!element.isFinite())
          return emitError() << "'" << name
                             << "' holds a NaN or infinite value; "
                                "statistics must be finite";
  }
  if (min && max &&
      min.getShapedType().getShape() != max.getShapedType().getShape())
    return emitError() << "'min' and 'max' must have the same shape";
  if (histogram && histogram.getShapedType().getRank() != 1)
    return emitError() << "'histogram' must be 1-D, got "
                       << histogram.getShapedType();
  if (hessian) {
    ArrayRef<int64_t> shape = hessian.getShapedType().getShape();
    if (shape.size() != 2 || shape[0] != shape[1])
      return emitError() << "'hessian' must be a square matrix, got "
                         << hessian.getShapedType();
  }
  return success();
}
