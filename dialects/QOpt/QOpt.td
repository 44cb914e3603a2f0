//===- QOpt.td - the qopt dialect, all of it ---------------*- tablegen -*-===//
//
// The entry point for tablegen and for out-of-tree projects that build on the
// dialect's ODS (installed under include/qopt/dialects).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_QOPT_TD
#define QOPT_DIALECT_QOPT_QOPT_TD

include "QOpt/QOptDialect.td"
include "QOpt/QOptEnums.td"
include "QOpt/QOptAttrs.td"
include "QOpt/QOptOps.td"

#endif // QOPT_DIALECT_QOPT_QOPT_TD
