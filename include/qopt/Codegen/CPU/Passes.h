//===- Passes.h - qopt CPU code generation passes ---------------*- C++ -*-===//

#ifndef QOPT_CODEGEN_CPU_PASSES_H
#define QOPT_CODEGEN_CPU_PASSES_H

#include "qopt/Codegen/Common/UKernelOps.h"

#include "mlir/Pass/Pass.h"

namespace mlir {
class OpBuilder;
namespace func {
class FuncOp;
} // namespace func

namespace qopt {

#define GEN_PASS_DECL
#include "qopt/Codegen/CPU/Passes.h.inc"

/// The geometry arguments every `qrt_uk_conv2d_*` kernel takes first
/// (UKernels.h), as i64: N, C, H, W, F, KH, KW, OH, OW, stride h, stride w,
/// dilation h, dilation w. 1-D convolutions are 2-D ones of height 1. `x`,
/// `w` and `y` are the input, filter and output, all tensors or all memrefs.
SmallVector<Value> buildConvGeometryArgs(OpBuilder &b, Location loc,
                                         const UKernelConvolution &conv,
                                         Value x, Value w, Value y);

/// Unit attribute on the convolutions whose output starts as zero (set by
/// `qopt-cpu-prepare-conv-ukernels`, which drops their init fill).
constexpr llvm::StringLiteral kConvZeroInitAttrName = "qopt_conv_zero_init";

/// Unit attribute on the `scf.for` loops `qopt-cpu-tile-and-vectorize` creates
/// for parallel dimensions: their iterations write disjoint parts of the
/// result and may run concurrently.
constexpr llvm::StringLiteral kParallelLoopAttrName = "qopt_parallel";

/// Attribute on the functions `qopt-cpu-outline-parallel-loops` creates,
/// `(begin, end, captured values...)` bodies of parallel loop bands: the
/// smallest number of iterations worth handing to a thread (an i64).
constexpr llvm::StringLiteral kParallelBodyAttrName = "qopt_parallel_body";

#define GEN_PASS_REGISTRATION
#include "qopt/Codegen/CPU/Passes.h.inc"

} // namespace qopt
} // namespace mlir

#endif // QOPT_CODEGEN_CPU_PASSES_H
