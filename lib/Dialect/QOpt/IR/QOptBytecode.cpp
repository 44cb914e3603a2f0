//===- QOptBytecode.cpp - native bytecode encoding of qopt attributes ----===//
//
// Without this, bytecode would store qopt attributes as their text, and a
// dense_resource inside #qopt.stats (a GPTQ Hessian) would be re-parsed as a
// fresh, empty resource handle and its blob dropped. Encoding the fields
// natively lets the writer reference resources properly.
//
//===----------------------------------------------------------------------===//

#include "QOptBytecode.h"

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Bytecode/BytecodeImplementation.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// Attribute codes; append only, never renumber (old files must still read).
enum AttrCode : uint64_t {
  kSchemeAttr = 1,
  kObserverAttr = 2,
  kStatsAttr = 3,
};

void writeOptionalInt(DialectBytecodeWriter &writer,
                      std::optional<int64_t> value) {
  writer.writeVarInt(value ? static_cast<uint64_t>(*value) + 1 : 0);
}

LogicalResult readOptionalInt(DialectBytecodeReader &reader,
                              std::optional<int64_t> &value) {
  uint64_t raw;
  if (failed(reader.readVarInt(raw)))
    return failure();
  value = raw ? std::optional<int64_t>(static_cast<int64_t>(raw - 1))
              : std::nullopt;
  return success();
}

struct QOptBytecodeInterface : public BytecodeDialectInterface {
  QOptBytecodeInterface(Dialect *dialect) : BytecodeDialectInterface(dialect) {}

  LogicalResult writeAttribute(Attribute attr,
                               DialectBytecodeWriter &writer) const override {
    if (auto scheme = dyn_cast<SchemeAttr>(attr)) {
      writer.writeVarInt(kSchemeAttr);
      writer.writeType(scheme.getStorage());
      writer.writeVarInt(static_cast<uint64_t>(scheme.getGranularity()));
      writeOptionalInt(writer, scheme.getAxis());
      writeOptionalInt(writer, scheme.getGroupSize());
      writer.writeVarInt(scheme.getSymmetric());
      writer.writeVarInt(scheme.getNarrowRange());
      return success();
    }
    if (auto observer = dyn_cast<ObserverAttr>(attr)) {
      writer.writeVarInt(kObserverAttr);
      writer.writeVarInt(static_cast<uint64_t>(observer.getKind()));
      writeOptionalInt(writer, observer.getAxis());
      writer.writeAPFloatWithKnownSemantics(observer.getPercentile());
      writer.writeSignedVarInt(observer.getBins());
      return success();
    }
    if (auto stats = dyn_cast<StatsAttr>(attr)) {
      writer.writeVarInt(kStatsAttr);
      writer.writeSignedVarInt(stats.getSamples());
      writer.writeOptionalAttribute(stats.getMin());
      writer.writeOptionalAttribute(stats.getMax());
      writer.writeOptionalAttribute(stats.getAbsmax());
      writer.writeOptionalAttribute(stats.getHistogram());
      writer.writeOptionalAttribute(stats.getHessian());
      return success();
    }
    return failure();
  }

  Attribute readAttribute(DialectBytecodeReader &reader) const override {
    uint64_t code;
    if (failed(reader.readVarInt(code)))
      return {};
    MLIRContext *ctx = getContext();
    auto emitError = [&] { return reader.emitError(); };
    switch (code) {
    case kSchemeAttr: {
      Type storage;
      uint64_t granularity, symmetric, narrowRange;
      std::optional<int64_t> axis, groupSize;
      if (failed(reader.readType(storage)) ||
          failed(reader.readVarInt(granularity)) ||
          failed(readOptionalInt(reader, axis)) ||
          failed(readOptionalInt(reader, groupSize)) ||
          failed(reader.readVarInt(symmetric)) ||
          failed(reader.readVarInt(narrowRange)))
        return {};
      std::optional<Granularity> kind =
          symbolizeGranularity(static_cast<uint32_t>(granularity));
      if (!kind) {
        reader.emitError() << "invalid qopt granularity " << granularity;
        return {};
      }
      return SchemeAttr::getChecked(emitError, ctx, storage, *kind, axis,
                                    groupSize, symmetric != 0,
                                    narrowRange != 0);
    }
    case kObserverAttr: {
      uint64_t kindValue;
      std::optional<int64_t> axis;
      int64_t bins;
      if (failed(reader.readVarInt(kindValue)) ||
          failed(readOptionalInt(reader, axis)))
        return {};
      FailureOr<APFloat> percentile =
          reader.readAPFloatWithKnownSemantics(APFloat::IEEEdouble());
      if (failed(percentile) || failed(reader.readSignedVarInt(bins)))
        return {};
      std::optional<ObserverKind> kind =
          symbolizeObserverKind(static_cast<uint32_t>(kindValue));
      if (!kind) {
        reader.emitError() << "invalid qopt observer kind " << kindValue;
        return {};
      }
      return ObserverAttr::getChecked(emitError, ctx, *kind, axis, *percentile,
                                      bins);
    }
    case kStatsAttr: {
      int64_t samples;
      ElementsAttr min, max, absmax, histogram, hessian;
      if (failed(reader.readSignedVarInt(samples)) ||
          failed(reader.readOptionalAttribute(min)) ||
          failed(reader.readOptionalAttribute(max)) ||
          failed(reader.readOptionalAttribute(absmax)) ||
          failed(reader.readOptionalAttribute(histogram)) ||
          failed(reader.readOptionalAttribute(hessian)))
        return {};
      return StatsAttr::getChecked(emitError, ctx, samples, min, max, absmax,
                                   histogram, hessian);
    }
    default:
      reader.emitError() << "unknown qopt attribute code " << code;
      return {};
    }
  }
};

} // namespace

void qopt::detail::addBytecodeInterface(QOptDialect *dialect) {
  dialect->addInterfaces<QOptBytecodeInterface>();
}
