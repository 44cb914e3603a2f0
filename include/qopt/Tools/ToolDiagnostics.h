//===- ToolDiagnostics.h - how qopt's tools print diagnostics ---*- C++ -*-===//

#ifndef QOPT_TOOLS_TOOLDIAGNOSTICS_H
#define QOPT_TOOLS_TOOLDIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir {
namespace qopt {

/// Prints `diag` and its notes to stderr as `<where>: <severity>: <text>`,
/// one line each; `where` names the place (the model file, or the
/// diagnostic's location) for the diagnostic or note at hand.
inline void printToolDiagnostic(
    Diagnostic &diag,
    llvm::function_ref<void(llvm::raw_ostream &, Diagnostic &)> where) {
  const char *severity = "error";
  if (diag.getSeverity() == DiagnosticSeverity::Warning)
    severity = "warning";
  else if (diag.getSeverity() == DiagnosticSeverity::Note)
    severity = "note";
  else if (diag.getSeverity() == DiagnosticSeverity::Remark)
    severity = "remark";
  where(llvm::errs(), diag);
  llvm::errs() << ": " << severity << ": " << diag << "\n";
  for (Diagnostic &note : diag.getNotes()) {
    where(llvm::errs(), note);
    llvm::errs() << ": note: " << note << "\n";
  }
}

} // namespace qopt
} // namespace mlir

#endif // QOPT_TOOLS_TOOLDIAGNOSTICS_H
