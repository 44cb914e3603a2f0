//===- Pipelines.h - qopt's named pass pipelines ----------------*- C++ -*-===//
//
// Every named pipeline is a `build...Pipeline(OpPassManager &, const Options
// &)` function that C++ drivers call directly, wrapped in a
// PassPipelineRegistration so that `qopt --pass-pipeline=...` and
// `qopt --<name>` reach the same code.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_PIPELINES_PIPELINES_H
#define QOPT_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace qopt {

/// Options of `qopt-lower-quant-to-linalg`.
struct LowerQuantToLinalgOptions
    : public PassPipelineOptions<LowerQuantToLinalgOptions> {
  PassOptions::Option<bool> expandLinear{
      *this, "expand-linear",
      llvm::cl::desc("Decompose qopt.weight_only_linear and "
                     "qopt.quantized_linear too (off: keep them for fused "
                     "kernels)"),
      llvm::cl::init(true)};
};

/// Lowers all quantization constructs, upstream `quant.qcast`/`quant.dcast`
/// on `!quant.uniform` types and qopt's ops, to linalg/arith/math/tensor on
/// plain integer and float tensors, then cleans up. The result is ordinary
/// MLIR that any upstream backend compiles. Upstream casts go through qopt's
/// casts first, so both kinds round and clamp the same way.
void buildLowerQuantToLinalgPipeline(OpPassManager &pm,
                                     const LowerQuantToLinalgOptions &options);

/// Options of `qopt-lower-to-llvm`.
struct LowerToLLVMOptions : public PassPipelineOptions<LowerToLLVMOptions> {
  PassOptions::Option<bool> runtimeChecks{
      *this, "runtime-checks",
      llvm::cl::desc("Check at run time the shape contracts that involve "
                     "dynamic sizes (qopt-insert-shape-checks); a failed "
                     "check aborts"),
      llvm::cl::init(true)};
};

/// Lowers quantized IR to the LLVM dialect for the host CPU: everything
/// `qopt-lower-quant-to-linalg` does, then one-shot bufferization (across
/// function boundaries), linalg to loops, and upstream's conversions to LLVM
/// (math functions without an LLVM intrinsic go through libm). This is the
/// reference path that tests and `scripts/run.sh` run with `mlir-runner`;
/// the optimizing CPU code generator (tiling, vectorization) replaces it.
void buildLowerToLLVMPipeline(OpPassManager &pm,
                              const LowerToLLVMOptions &options);

/// Options of `qopt-cpu-codegen`.
struct CPUCodegenOptions : public PassPipelineOptions<CPUCodegenOptions> {
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("f32 elements per vector register: 8 for AVX2, 16 for "
                     "AVX-512 (qopt-compile picks it from the target's "
                     "features)"),
      llvm::cl::init(8)};
  PassOptions::Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("Tile and vectorize linalg ops (off: scalar loops, "
                     "which LLVM may still vectorize)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> ukernels{
      *this, "ukernels",
      llvm::cl::desc("Call the runtime's micro-kernels for f32 matmuls (off: "
                     "vectorized loops only)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> fuseAttention{
      *this, "fuse-attention",
      llvm::cl::desc("Replace scaled dot-product attention by the runtime's "
                     "fused kernel (qopt-cpu-fuse-attention; needs ukernels)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> packWeights{
      *this, "pack-weights",
      llvm::cl::desc("Repack constant matmul weights into the micro-kernel "
                     "layout at compile time"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> parallel{
      *this, "parallel",
      llvm::cl::desc("Run the loop nests over parallel dimensions on the "
                     "runtime's thread pool (off: they run on the calling "
                     "thread; the kernels still use the pool)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> runtimeChecks{
      *this, "runtime-checks",
      llvm::cl::desc("Check at run time the shape contracts that involve "
                     "dynamic sizes (qopt-insert-shape-checks): inputs that "
                     "break one end the run with QRT_ERROR_CHECK instead of "
                     "reading out of bounds"),
      llvm::cl::init(true)};
};

/// The optimizing CPU code generator: lowers quantized (or plain) IR on
/// tensors to the LLVM dialect. After `qopt-lower-quant-to-linalg` and
/// run-time checks of dynamic shape contracts (`qopt-insert-shape-checks`):
/// elementwise fusion, tiling to vector-sized tiles and vectorization (masked
/// where shapes are dynamic), one-shot bufferization, matmul-like
/// contractions to runtime micro-kernels with compile-time packed weights,
/// ownership-based buffer deallocation, outlining of parallel loop bands for
/// the runtime's thread pool, and upstream's conversions to LLVM.
/// The result references `qrt_uk_*`, `qrt_parallel_for`, `memrefCopy` and
/// the `_mlir_memref_to_llvm_*` allocation functions, which libqrt provides;
/// `qopt-compile` turns it into an artifact.
void buildCPUCodegenPipeline(OpPassManager &pm,
                             const CPUCodegenOptions &options);

/// Options of `qopt-cuda-codegen`.
struct CUDACodegenOptions : public PassPipelineOptions<CUDACodegenOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("GPU architecture the PTX is generated for (sm_NN, "
                     "sm_NNa or sm_NNf; sm_80 or newer)"),
      llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX version, e.g. +ptx80 (default: LLVM's for the "
                     "chip)"),
      llvm::cl::init("")};
  PassOptions::Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit whose libdevice is linked into kernels "
                     "that call math functions without a polynomial here "
                     "(sin, cos, log, pow); default: $CUDA_HOME, else "
                     "/usr/local/cuda, where nvvm/libdevice exists; 'none': "
                     "link none"),
      llvm::cl::init("")};
  PassOptions::Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block of the generated kernels "
                     "(qopt-gpu-map-parallel-loops)"),
      llvm::cl::init(256)};
  PassOptions::Option<bool> runtimeChecks{
      *this, "runtime-checks",
      llvm::cl::desc("Check at run time the shape contracts that involve "
                     "dynamic sizes (qopt-insert-shape-checks), on the host"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> hostEmulation{
      *this, "host-emulation",
      llvm::cl::desc("Test aid: stop after the loops are mapped and lower "
                     "them for the host CPU (blocks and threads run one "
                     "after another) instead of to kernels; the result is "
                     "a CPU module that qopt-compile --cuda-host-emulation "
                     "turns into a CPU artifact"),
      llvm::cl::init(false)};
};

/// The whole-model CUDA code generator: lowers quantized (or plain) IR on
/// tensors to a host module in the LLVM dialect that launches kernels
/// embedded as PTX (`gpu.binary`). After `qopt-lower-quant-to-linalg`,
/// run-time shape checks, elementwise fusion and polynomial math: one-shot
/// bufferization and buffer deallocation as on the CPU, every linalg op to
/// an `scf.parallel` (reductions as sequential loops inside), each mapped to
/// a 1-D grid (`qopt-gpu-map-parallel-loops`), outlined into a kernel,
/// lowered to NVVM and serialized to PTX for `chip` by LLVM's NVPTX backend
/// (`gpu-module-to-binary{format=isa}`); the host code's launches become
/// `mgpu*` calls (`gpu-to-llvm`), its buffers `qrt_cuda_model_*` managed
/// memory once `qopt-compile` writes the artifact. Everything else (copies,
/// reshapes, scalar index math, checks) runs on the host on managed memory.
void buildCUDACodegenPipeline(OpPassManager &pm,
                              const CUDACodegenOptions &options);

/// Options of `qopt-rtn-weight-only`; those of `qopt-quantize-weights-rtn`.
struct RTNWeightOnlyOptions : public PassPipelineOptions<RTNWeightOnlyOptions> {
  PassOptions::Option<int64_t> bits{
      *this, "bits",
      llvm::cl::desc("Bits per weight: 8, 4, 3 (or 2, for deliberately "
                     "broken candidates)"),
      llvm::cl::init(4)};
  PassOptions::Option<bool> symmetric{
      *this, "symmetric",
      llvm::cl::desc("Symmetric signed storage without zero points (off: "
                     "unsigned storage with zero points)"),
      llvm::cl::init(true)};
  PassOptions::Option<std::string> granularity{
      *this, "granularity",
      llvm::cl::desc("One scale per 'per-channel' (output channel), "
                     "'per-group' or 'per-tensor'"),
      llvm::cl::init("per-group")};
  PassOptions::Option<int64_t> groupSize{
      *this, "group-size",
      llvm::cl::desc("Input channels per group for per-group (usually 32, 64 "
                     "or 128)"),
      llvm::cl::init(128)};
  PassOptions::Option<bool> clipSearch{
      *this, "clip-search",
      llvm::cl::desc("Per block, search the clipped range of least "
                     "quantization error instead of taking min/max"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> quantizeHead{
      *this, "quantize-head",
      llvm::cl::desc("Quantize the output head too (a linear layer whose "
                     "result is returned, or named *lm_head*)"),
      llvm::cl::init(false)};
  PassOptions::ListOption<std::string> overrides{
      *this, "overrides",
      llvm::cl::desc("Per-layer settings GLOB=SPEC, first match wins: GLOB "
                     "matches the ONNX node name, SPEC is 'fp' or e.g. "
                     "'int8', 'int4-g64', 'int4-pc', 'int3-g128-asym'")};
};

/// Round-to-nearest weight-only quantization: `qopt-quantize-weights-rtn`
/// rewrites every `qopt.linear` with a constant f32 weight (the output head
/// and `qopt.keep_full_precision` ops excepted, per-layer overrides
/// honoured) into `qopt.weight_only_linear` with compile-time packed
/// weights, scales and zero points; canonicalize and CSE then drop the f32
/// weights nothing reads any more.
void buildRTNWeightOnlyPipeline(OpPassManager &pm,
                                const RTNWeightOnlyOptions &options);

/// Registers all qopt pipelines with the global pass registry.
void registerQOptPipelines();

} // namespace qopt
} // namespace mlir

#endif // QOPT_PIPELINES_PIPELINES_H
