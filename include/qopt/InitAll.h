//===- InitAll.h - register everything qopt tools need ----------*- C++ -*-===//

#ifndef QOPT_INITALL_H
#define QOPT_INITALL_H

namespace mlir {
class DialectRegistry;
namespace qopt {

/// Adds qopt's dialects, all upstream dialects and their extensions (so any
/// upstream pass can run on imported and quantized IR) to `registry`.
void registerAllDialects(DialectRegistry &registry);

/// Registers qopt's passes and pipelines and all upstream passes with the
/// global registry used by textual pass pipelines.
void registerAllPasses();

} // namespace qopt
} // namespace mlir

#endif // QOPT_INITALL_H
