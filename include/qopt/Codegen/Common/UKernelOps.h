//===- UKernelOps.h - the ops the CPU's micro-kernels take ------*- C++ -*-===//
//
// Which linalg ops the CPU code generator hands to the runtime's
// micro-kernels (qopt/Runtime/UKernels.h), and the attributes by which its
// `qopt-cpu-prepare-*-ukernels` passes mark them. The CPU passes that
// prepare, tile and lower these ops use them, and so does
// `qopt-fuse-elementwise` (Codegen/Common), which both the CPU and the CUDA
// pipelines run: fusing into such an op would turn it into loops.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CODEGEN_COMMON_UKERNELOPS_H
#define QOPT_CODEGEN_COMMON_UKERNELOPS_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mlir {
namespace qopt {

/// Whether `op` is a contraction that `qopt-cpu-lower-to-ukernels` sends to
/// the f32 matmul micro-kernel: a linalg op over f32 whose body is exactly
/// `out + a * b`, with exactly one reduction (k) and one n dimension, any m
/// and batch dimensions and no other loops, and projected-permutation
/// indexing maps.
/// Fusion and vectorization leave such ops alone.
bool isUKernelContraction(Operation *op);

/// Name of the attribute that marks the fused weight-only contractions of
/// `qopt-cpu-prepare-weight-only-ukernels` (a dictionary: bits, signed,
/// group_size).
constexpr llvm::StringLiteral kWeightOnlyGemmAttrName = "qopt_wo_gemm";

/// Geometry of a convolution that `qopt-cpu-lower-conv-to-ukernels` hands to
/// `qrt_uk_conv2d_f32`.
struct UKernelConvolution {
  /// Spatial dimensions: 1 or 2.
  int64_t spatialRank;
  int64_t groups;
  SmallVector<int64_t, 2> strides, dilations;
  /// The W8A8 form (`qrt_uk_conv2d_s8_i32`): i8 input and filter, i32
  /// output, body `out + extsi(x) * extsi(w)`; else all f32.
  bool s8 = false;
};

/// Matches the f32 convolution the ONNX importer builds: a `linalg.generic`
/// over loops (n, f, out spatial..., c, kernel...) with the body `out + x *
/// w`, reading x[n, (f floordiv Fg) * Cg + c, o_i * s_i + k_i * d_i], w[f, c,
/// k...] and writing y[n, f, o...], with static channel and kernel sizes.
/// Also matches the same generic on i8 x i8 -> i32 with the body `out +
/// extsi(x) * extsi(w)` (qopt-quantize-w8a8's convolutions; `s8` is set).
std::optional<UKernelConvolution> matchUKernelConvolution(Operation *op);

/// Name of the attribute that marks the two linalg ops of an int8 linear
/// layer from `qopt-cpu-prepare-w8a8-ukernels`: "product" (the i32
/// contraction) and "rescale" (the f32 epilogue).
constexpr llvm::StringLiteral kS8GemmAttrName = "qopt_s8_gemm";

/// Name of the attribute that marks the three linalg ops of a dynamic
/// per-token int8 quantization from `qopt-cpu-prepare-w8a8-ukernels`:
/// "absmax", "scales" and "values".
constexpr llvm::StringLiteral kS8QuantizeRowsAttrName = "qopt_s8_quantize_rows";

/// Whether `op` will run as a micro-kernel call: an f32 contraction
/// (isUKernelContraction), a convolution (matchUKernelConvolution) or a
/// marked weight-only or int8 op. Fusion and vectorization leave such ops
/// alone.
bool isUKernelOp(Operation *op);

} // namespace qopt
} // namespace mlir

#endif // QOPT_CODEGEN_COMMON_UKERNELOPS_H
