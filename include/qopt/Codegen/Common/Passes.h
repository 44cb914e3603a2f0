//===- Passes.h - qopt common code generation passes ------------*- C++ -*-===//
//
// The target-neutral code generation passes (Passes.td here); the CPU and
// CUDA pipelines both build on them.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CODEGEN_COMMON_PASSES_H
#define QOPT_CODEGEN_COMMON_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
namespace qopt {

#define GEN_PASS_DECL
#include "qopt/Codegen/Common/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qopt/Codegen/Common/Passes.h.inc"

} // namespace qopt
} // namespace mlir

#endif // QOPT_CODEGEN_COMMON_PASSES_H
