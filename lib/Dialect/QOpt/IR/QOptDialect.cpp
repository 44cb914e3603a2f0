//===- QOptDialect.cpp - qopt dialect -------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "QOptBytecode.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace mlir::qopt;

#include "qopt/Dialect/QOpt/IR/QOptDialect.cpp.inc"

void QOptDialect::initialize() {
  registerAttributes();
  detail::addBytecodeInterface(this);
  addOperations<
#define GET_OP_LIST
#include "qopt/Dialect/QOpt/IR/QOptOps.cpp.inc"
      >();
}

LogicalResult QOptDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attr) {
  if (attr.getName() == kKeepFullPrecisionAttrName) {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError()
             << "'" << kKeepFullPrecisionAttrName
             << "' must be a unit attribute, got " << attr.getValue();
    return success();
  }
  if (attr.getName() == kObservePointsAttrName) {
    if (!isa<ArrayAttr>(attr.getValue()))
      return op->emitError() << "'" << kObservePointsAttrName
                             << "' must be an array, got " << attr.getValue();
    return success();
  }
  return op->emitError() << "unknown qopt attribute '"
                         << attr.getName().getValue() << "'";
}
