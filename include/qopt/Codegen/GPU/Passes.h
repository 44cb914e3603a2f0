//===- Passes.h - qopt GPU code generation passes ---------------*- C++ -*-===//

#ifndef QOPT_CODEGEN_GPU_PASSES_H
#define QOPT_CODEGEN_GPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace qopt {

#define GEN_PASS_DECL
#include "qopt/Codegen/GPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qopt/Codegen/GPU/Passes.h.inc"

} // namespace qopt
} // namespace mlir

#endif // QOPT_CODEGEN_GPU_PASSES_H
