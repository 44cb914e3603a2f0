//===- Pipelines.cpp - qopt's named pass pipelines ------------------------===//

#include "qopt/Pipelines/Pipelines.h"

#include "qopt/Codegen/CPU/Passes.h"
#include "qopt/Codegen/Common/Passes.h"
#include "qopt/Codegen/GPU/Passes.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Quant/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdlib>

using namespace mlir;

void qopt::buildLowerQuantToLinalgPipeline(
    OpPassManager &pm, const LowerQuantToLinalgOptions &options) {
  // Casts on !quant.uniform types become qopt casts (one definition of the
  // rounding, and no dcast(qcast(x)) -> x fold). Upstream lowers what qopt
  // cannot express; then quant types leave function signatures.
  pm.addPass(createConvertQuantCasts());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(quant::createLowerQuantOps());
  pm.addPass(quant::createStripFuncQuantTypes());
  pm.addPass(createCanonicalizerPass());
  ExpandQuantOpsOptions expandOptions;
  expandOptions.expandLinear = options.expandLinear;
  pm.addPass(createExpandQuantOps(expandOptions));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

/// Loops, memrefs, math and vectors to the LLVM dialect. With
/// `runtimeAllocator`, buffers are allocated through the generic
/// `_mlir_memref_to_llvm_*` functions, which libqrt provides (with a cache
/// of large blocks), instead of malloc, and failed run-time checks end the
/// run through libqrt instead of aborting.
static void addConversionsToLLVM(OpPassManager &pm,
                                 bool runtimeAllocator = false,
                                 bool parallelCalls = false) {
  // LLVM has no float8 types: their casts become integer arithmetic.
  pm.addPass(qopt::createExpandFloat8Casts());
  pm.addPass(createSCFToControlFlowPass());
  // Without libqrt (the reference path) a failed check aborts.
  qopt::LowerRuntimeChecksOptions checks;
  checks.runtime = runtimeAllocator;
  pm.addPass(qopt::createLowerRuntimeChecks(checks));
  pm.addNestedPass<func::FuncOp>(qopt::createExpandDynamicExpandShape());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  if (runtimeAllocator) {
    FinalizeMemRefToLLVMConversionPassOptions memrefOptions;
    memrefOptions.useGenericFunctions = true;
    pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefOptions));
  }
  // Integer powers become functions; what LLVM has intrinsics for goes to
  // LLVM; the rest (erf) to libm.
  pm.addPass(createConvertMathToFuncs());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (parallelCalls)
    pm.addPass(qopt::createCPULowerParallelCalls());
}

/// Run-time checks of the shape contracts of ops on tensors, while every op
/// still stands for one ONNX node. Canonicalization then drops the checks
/// that hold statically and folds the `tensor.dim`s they read back to their
/// sources, so that they add no uses that would keep ops from fusing.
static void addShapeChecks(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(qopt::createInsertShapeChecks());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void qopt::buildLowerToLLVMPipeline(OpPassManager &pm,
                                    const LowerToLLVMOptions &options) {
  buildLowerQuantToLinalgPipeline(pm, LowerQuantToLinalgOptions());
  if (options.runtimeChecks)
    addShapeChecks(pm);
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // A Scan body's new state is a new tensor, which the loop yields. This
  // reference path frees no buffers (the CPU pipeline's deallocation does).
  bufferize.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  addConversionsToLLVM(pm);
}

void qopt::buildCPUCodegenPipeline(OpPassManager &pm,
                                   const CPUCodegenOptions &options) {
  // Calibration builds: while every value is still a whole tensor.
  pm.addPass(createLowerObserve());
  // Low-bit linear layers become fused contractions before the generic
  // expansion would materialize their full-precision weights.
  // So do int8 (W8A8) layers and dynamic quantization, marked for the
  // runtime's int8 kernels.
  if (options.ukernels) {
    pm.addNestedPass<func::FuncOp>(createCPUPrepareWeightOnlyUKernels());
    pm.addNestedPass<func::FuncOp>(createCPUPrepareW8A8UKernels());
  }
  buildLowerQuantToLinalgPipeline(pm, LowerQuantToLinalgOptions());
  if (options.runtimeChecks)
    addShapeChecks(pm);
  // Before fusion merges the chain's steps into other ops.
  if (options.ukernels) {
    pm.addNestedPass<func::FuncOp>(createRaiseSoftmax());
    // After the softmax is raised (the pattern's anchor), before fusion and
    // tiling take the chain's elementwise ops apart.
    if (options.fuseAttention)
      pm.addPass(createCPUFuseAttention());
    pm.addNestedPass<func::FuncOp>(createCPUPrepareConvUKernels());
    // Before fusion merges the bias and activation into other ops.
    pm.addPass(createCPUFuseConvUKernels());
  }
  pm.addNestedPass<func::FuncOp>(createFuseElementwise());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  CPUTileAndVectorizeOptions vectorize;
  vectorize.vectorWidth = options.vectorWidth;
  if (options.vectorize)
    pm.addNestedPass<func::FuncOp>(createCPUTileAndVectorize(vectorize));
  // After vectorization, so that each polynomial is built once per vector
  // (LLVM would otherwise call libm lane by lane).
  pm.addNestedPass<func::FuncOp>(createApproximateMath());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // libqrt always passes dense row-major buffers: identity layouts at the
  // function boundary give the code (and the ukernels) static unit strides.
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  // A recurrent layer's time loop carries its state (RNN/GRU/LSTM): after
  // fusion a step may compute the new state into a new tensor rather than
  // in place of the old one. The deallocation pipeline below frees each
  // step's buffer.
  bufferize.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCanonicalizerPass());
  if (options.ukernels) {
    CPULowerToUKernelsOptions ukernels;
    ukernels.packConstantWeights = options.packWeights;
    pm.addPass(createCPULowerToUKernels(ukernels));
    pm.addPass(createCPULowerConvToUKernels());
    // The unpacked originals of packed weights are dead now.
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createSymbolDCEPass());
  }
  // Before deallocation, which cannot place its ownership flags inside a
  // vector.mask region.
  pm.addNestedPass<func::FuncOp>(createCPULowerVector());
  // Artifacts run many times in one process: every buffer is freed. Results
  // always come back owned by the caller (clones of arguments or constants).
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createCanonicalizerPass());
  if (options.parallel)
    pm.addPass(createCPUOutlineParallelLoops());
  addConversionsToLLVM(pm, /*runtimeAllocator=*/true, options.parallel);
  pm.addPass(createCanonicalizerPass());
}

/// The CUDA toolkit whose libdevice the kernels link: `requested` ("none":
/// none, as on a machine without one), else $CUDA_HOME or /usr/local/cuda
/// when it has one; "" when none does (then a kernel that calls a libdevice
/// function cannot be loaded, which qopt-compile reports).
static std::string findCUDAToolkit(StringRef requested) {
  if (requested == "none")
    return "";
  if (!requested.empty())
    return requested.str();
  SmallVector<std::string> candidates;
  if (const char *home = std::getenv("CUDA_HOME"))
    candidates.push_back(home);
  candidates.push_back("/usr/local/cuda");
  for (const std::string &dir : candidates) {
    SmallString<256> path(dir);
    llvm::sys::path::append(path, "nvvm", "libdevice", "libdevice.10.bc");
    if (llvm::sys::fs::exists(path))
      return dir;
  }
  return "";
}

void qopt::buildCUDACodegenPipeline(OpPassManager &pm,
                                    const CUDACodegenOptions &options) {
  // Calibration builds, as on the CPU: qrt_observe runs on the host and
  // reads the (managed) buffer after the launches that wrote it.
  pm.addPass(createLowerObserve());
  buildLowerQuantToLinalgPipeline(pm, LowerQuantToLinalgOptions());
  if (options.runtimeChecks)
    addShapeChecks(pm);
  // Fewer, larger kernels: each fused op is one launch.
  pm.addNestedPass<func::FuncOp>(createFuseElementwise());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // exp, tanh and erf as polynomials; what remains of libm (sin, cos, log,
  // pow) becomes libdevice calls that gpu-module-to-binary links.
  pm.addNestedPass<func::FuncOp>(createApproximateMath());

  // As on the CPU: dense row-major buffers at the boundary, every buffer
  // freed (artifacts run many times in one process).
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferize.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCanonicalizerPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());

  // Every linalg op becomes one kernel launch, copies included.
  pm.addNestedPass<func::FuncOp>(createCopiesToLinalg());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  // Neither NVPTX nor the host have float8 arithmetic: FP8 layers' casts
  // become integer arithmetic before the loops turn into kernels.
  pm.addPass(createExpandFloat8Casts());
  pm.addPass(createCanonicalizerPass());
  MapParallelLoopsOptions map;
  map.blockSize = options.blockSize;
  pm.addNestedPass<func::FuncOp>(createMapParallelLoops(map));
  if (options.hostEmulation) {
    // The mapped loops, sequential: what every kernel computes, on the CPU.
    addConversionsToLLVM(pm, /*runtimeAllocator=*/true);
    pm.addPass(createCanonicalizerPass());
    return;
  }
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  pm.addPass(createGpuKernelOutliningPass());
  // One round trip to the GPU per forward, not one per kernel.
  pm.addNestedPass<func::FuncOp>(createAsyncLaunches());
  pm.addPass(createLowerAffinePass());

  // Kernels: to NVVM (64-bit indices, as the host passes them).
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  // abs, fma, floor, sqrt... as PTX instructions: libdevice (a CUDA
  // toolkit) is then needed only for transcendental functions.
  kernels.addPass(createNativeMath());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));

  // Host: launches to mgpu* calls, the rest as on the CPU.
  pm.addPass(createSCFToControlFlowPass());
  qopt::LowerRuntimeChecksOptions checks;
  checks.runtime = true;
  pm.addPass(qopt::createLowerRuntimeChecks(checks));
  pm.addNestedPass<func::FuncOp>(qopt::createExpandDynamicExpandShape());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Memrefs first: gpu-to-llvm would lower allocations to malloc.
  FinalizeMemRefToLLVMConversionPassOptions memrefOptions;
  memrefOptions.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefOptions));
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createConvertMathToFuncs());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions toBinary;
  toBinary.compilationTarget = "isa";
  toBinary.toolkitPath = findCUDAToolkit(options.toolkit);
  pm.addPass(createGpuModuleToBinaryPass(toBinary));
  pm.addPass(createCanonicalizerPass());
}

void qopt::buildRTNWeightOnlyPipeline(OpPassManager &pm,
                                      const RTNWeightOnlyOptions &options) {
  QuantizeWeightsRTNOptions rtn;
  rtn.bits = options.bits;
  rtn.symmetric = options.symmetric;
  rtn.granularity = options.granularity;
  rtn.groupSize = options.groupSize;
  rtn.clipSearch = options.clipSearch;
  rtn.quantizeHead = options.quantizeHead;
  rtn.overrides.assign(options.overrides.begin(), options.overrides.end());
  pm.addPass(createQuantizeWeightsRTN(rtn));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void qopt::registerQOptPipelines() {
  PassPipelineRegistration<CPUCodegenOptions>(
      "qopt-cpu-codegen",
      "Lower quantized IR to the LLVM dialect for x86-64 with fusion, "
      "vectorization and micro-kernels (the artifact path)",
      buildCPUCodegenPipeline);
  PassPipelineRegistration<CUDACodegenOptions>(
      "qopt-cuda-codegen",
      "Lower quantized IR to a host module in the LLVM dialect that runs "
      "the model's kernels on an NVIDIA GPU (PTX embedded)",
      buildCUDACodegenPipeline);
  PassPipelineRegistration<LowerToLLVMOptions>(
      "qopt-lower-to-llvm",
      "Lower quantized IR to the LLVM dialect for the host CPU (reference "
      "path: loops, no vectorization)",
      buildLowerToLLVMPipeline);
  PassPipelineRegistration<LowerQuantToLinalgOptions>(
      "qopt-lower-quant-to-linalg",
      "Lower quant.* casts and qopt ops to linalg/arith on plain tensors",
      buildLowerQuantToLinalgPipeline);
  PassPipelineRegistration<RTNWeightOnlyOptions>(
      "qopt-rtn-weight-only",
      "Round-to-nearest weight-only quantization of every linear layer",
      buildRTNWeightOnlyPipeline);
}
