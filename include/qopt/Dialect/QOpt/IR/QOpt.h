//===- QOpt.h - the qopt dialect --------------------------------*- C++ -*-===//
//
// The qopt dialect: quantization schemes, calibration points and quantized
// compute. The IR is defined in ODS under dialects/QOpt.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPT_H
#define QOPT_DIALECT_QOPT_IR_QOPT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "qopt/Dialect/QOpt/IR/QOptDialect.h.inc"
#include "qopt/Dialect/QOpt/IR/QOptEnums.h.inc"

namespace mlir {
namespace qopt {

/// The side-effect resource written by calibration points (`qopt.observe`).
struct CalibrationResource
    : public SideEffects::Resource::Base<CalibrationResource> {
  StringRef getName() final { return "qopt.calibration"; }
};

namespace detail {
/// Field parsers for ODS parameters the generic field parsers lack.
FailureOr<bool> parseBoolParameter(AsmParser &parser);
FailureOr<llvm::APFloat> parseF64Parameter(AsmParser &parser);
} // namespace detail

} // namespace qopt
} // namespace mlir

#define GET_ATTRDEF_CLASSES
#include "qopt/Dialect/QOpt/IR/QOptAttrs.h.inc"

#define GET_OP_CLASSES
#include "qopt/Dialect/QOpt/IR/QOptOps.h.inc"

namespace mlir {
namespace qopt {

/// Verifies that `scale`, `zeroPoint` and `actOrder` (the latter two may be
/// null) fit a tensor of `valueType` quantized under `scheme`. Diagnostics go
/// to `emitError`. Shared by every op that takes quantization parameters.
LogicalResult verifyQuantParams(function_ref<InFlightDiagnostic()> emitError,
                                ShapedType valueType, SchemeAttr scheme,
                                Type scaleType, Type zeroPointType,
                                Value actOrder);

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_IR_QOPT_H
