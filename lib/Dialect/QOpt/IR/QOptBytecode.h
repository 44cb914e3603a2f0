//===- QOptBytecode.h - qopt bytecode interface -----------------*- C++ -*-===//

#ifndef QOPT_LIB_DIALECT_QOPT_IR_QOPTBYTECODE_H
#define QOPT_LIB_DIALECT_QOPT_IR_QOPTBYTECODE_H

namespace mlir {
namespace qopt {
class QOptDialect;
namespace detail {
/// Adds the native bytecode encoding of qopt attributes to `dialect`.
void addBytecodeInterface(QOptDialect *dialect);
} // namespace detail
} // namespace qopt
} // namespace mlir

#endif // QOPT_LIB_DIALECT_QOPT_IR_QOPTBYTECODE_H
