//===- QOptGPUKernelGenMain.cpp - qopt-gpu-kernel-gen ---------------------===//
//
//   qopt-gpu-kernel-gen --w4-gemm=16,4,4,2 --w4-gemm=1,4,4,2 \
//       --emit=cubin --chip=sm_90a -o kernels.cubin
//
// Each --w4-gemm=M,T,W,U[,p] adds the int4 GEMM kernel of max M, T tiles per
// warp, W warps per block and U groups per iteration
// (qopt-gpu-generate-w4-gemm; p: with prefetch). Each
// --gemm=TYPE,OUT,BLOCK_N,STAGES,CONSUMERS adds a Hopper wgmma + TMA prefill
// GEMM (qopt-gpu-generate-gemm; TYPE f16, bf16, s8 or e4m3, OUT f16 or f32),
// e.g. --gemm=s8,f16,128,4,2. The output is written to a
// temporary file and renamed into place only on success.
//
//===----------------------------------------------------------------------===//

#include "qopt/Tools/QOptGPUKernelGenMain.h"

#include "qopt/Codegen/GPU/KernelGenerators.h"
#include "qopt/Target/NVPTX/NVPTX.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {

enum class Emit { GPU, NVVM, PTX, Cubin };

/// Parses "M,T,W,U[,p]" into a config; false on a malformed value.
bool parseW4(StringRef text, qopt::W4GemmKernelConfig &cfg) {
  SmallVector<StringRef> parts;
  text.split(parts, ',');
  if (parts.size() == 5 && parts.back().trim() == "p") {
    cfg.prefetch = true;
    parts.pop_back();
  }
  if (parts.size() != 4)
    return false;
  int64_t *fields[] = {&cfg.maxM, &cfg.tilesPerWarp, &cfg.warpsPerBlock,
                       &cfg.groupsPerIter};
  for (auto [part, field] : llvm::zip(parts, fields))
    if (part.trim().getAsInteger(10, *field))
      return false;
  return true;
}

/// Parses "TYPE,OUT,BLOCK_N,STAGES,CONSUMERS"; false on a malformed value.
bool parseGemm(StringRef text, qopt::GemmKernelConfig &cfg) {
  SmallVector<StringRef> parts;
  text.split(parts, ',');
  if (parts.size() != 5 ||
      !qopt::parseGemmElementType(parts[0].trim(), cfg.type) ||
      !qopt::parseGemmOutputType(parts[1].trim(), cfg.out))
    return false;
  int64_t *fields[] = {&cfg.blockN, &cfg.stages, &cfg.consumers};
  for (auto [part, field] : llvm::zip(ArrayRef(parts).drop_front(2), fields))
    if (part.trim().getAsInteger(10, *field))
      return false;
  return true;
}

} // namespace

int qopt::qoptGPUKernelGenMain(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::OptionCategory category("qopt-gpu-kernel-gen options");
  cl::list<std::string> w4Gemm(
      "w4-gemm",
      cl::desc("Add an int4 GEMM kernel: MAX_M,TILES_PER_WARP,"
               "WARPS_PER_BLOCK,GROUPS_PER_ITER"),
      cl::cat(category));
  cl::list<std::string> gemm(
      "gemm",
      cl::desc("Add a Hopper prefill GEMM kernel: TYPE,OUT,BLOCK_N,STAGES,"
               "CONSUMERS (TYPE f16|bf16|s8|e4m3, OUT f16|f32)"),
      cl::cat(category));
  cl::opt<Emit> emit(
      "emit", cl::desc("What to write"), cl::init(Emit::PTX),
      cl::values(clEnumValN(Emit::GPU, "gpu", "the kernels at the gpu level"),
                 clEnumValN(Emit::NVVM, "nvvm", "after qopt-gpu-lower-to-nvvm"),
                 clEnumValN(Emit::PTX, "ptx", "PTX (LLVM's NVPTX backend)"),
                 clEnumValN(Emit::Cubin, "cubin", "a cubin, through ptxas")),
      cl::cat(category));
  cl::opt<std::string> chip("chip", cl::desc("GPU architecture"),
                            cl::init("sm_90a"), cl::cat(category));
  cl::opt<std::string> features("features", cl::desc("PTX features"),
                                cl::init("+ptx80"), cl::cat(category));
  cl::opt<bool> verbose("ptxas-verbose",
                        cl::desc("Print ptxas -v (registers, spills) to "
                                 "stderr (--emit=cubin)"),
                        cl::init(false), cl::cat(category));
  cl::opt<std::string> output("o", cl::desc("Output file"), cl::init("-"),
                              cl::cat(category));
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "qopt GPU kernel generator\n");

  if (w4Gemm.empty() && gemm.empty()) {
    llvm::errs()
        << "qopt-gpu-kernel-gen: no kernel requested (--w4-gemm, --gemm)\n";
    return 2;
  }
  std::vector<W4GemmKernelConfig> configs;
  for (const std::string &text : w4Gemm) {
    W4GemmKernelConfig cfg;
    if (!parseW4(text, cfg)) {
      llvm::errs() << "qopt-gpu-kernel-gen: --w4-gemm='" << text
                   << "' is not MAX_M,TILES_PER_WARP,WARPS_PER_BLOCK,"
                      "GROUPS_PER_ITER\n";
      return 2;
    }
    configs.push_back(cfg);
  }
  std::vector<GemmKernelConfig> gemmConfigs;
  for (const std::string &text : gemm) {
    GemmKernelConfig cfg;
    if (!parseGemm(text, cfg)) {
      llvm::errs() << "qopt-gpu-kernel-gen: --gemm='" << text
                   << "' is not TYPE,OUT,BLOCK_N,STAGES,CONSUMERS\n";
      return 2;
    }
    gemmConfigs.push_back(cfg);
  }

  // wgmma and setmaxnreg exist only on sm_90a; LLVM's NVPTX backend would
  // abort on the TMA intrinsics for an older chip.
  if (!gemmConfigs.empty() && emit != Emit::GPU && emit != Emit::NVVM &&
      chip != "sm_90a") {
    llvm::errs() << "qopt-gpu-kernel-gen: the --gemm kernels (wgmma, TMA) "
                    "need --chip=sm_90a, not '"
                 << chip << "'\n";
    return 2;
  }

  DialectRegistry registry;
  registry.insert<arith::ArithDialect, gpu::GPUDialect, LLVM::LLVMDialect,
                  NVVM::NVVMDialect, scf::SCFDialect>();
  registerAllExtensions(registry);
  registerNVPTXTargetInterfaces(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&context));
  gpu::GPUModuleOp kernels = getOrCreateKernelModule(*module);
  for (const W4GemmKernelConfig &cfg : configs)
    if (failed(buildW4GemmKernel(kernels, module->getLoc(), cfg)))
      return 1;
  for (const GemmKernelConfig &cfg : gemmConfigs)
    if (failed(buildGemmKernel(kernels, module->getLoc(), cfg)))
      return 1;
  if (failed(verify(*module)))
    return 1;

  std::string result;
  llvm::raw_string_ostream os(result);
  if (emit == Emit::GPU || emit == Emit::NVVM) {
    if (emit == Emit::NVVM) {
      PassManager pm(&context);
      buildGPUToNVVMPipeline(pm);
      if (failed(pm.run(*module)))
        return 1;
    }
    module->print(os);
  } else {
    auto ptx = emitPTX(*module, chip, features);
    if (failed(ptx))
      return 1;
    if (emit == Emit::PTX) {
      os << (*ptx)[0].ptx;
    } else {
      std::optional<std::string> ptxas = findPtxas();
      if (!ptxas) {
        llvm::errs() << "qopt-gpu-kernel-gen: --emit=cubin needs ptxas (the "
                        "CUDA toolkit: $CUDA_HOME, /usr/local/cuda or PATH)\n";
        return 1;
      }
      std::string log, error;
      SmallVector<std::string> extra;
      if (verbose)
        extra.push_back("-v");
      auto cubin =
          assembleCubin((*ptx)[0].ptx, chip, *ptxas, extra, log, error);
      if (!cubin) {
        llvm::errs() << "qopt-gpu-kernel-gen: " << error << "\n";
        return 1;
      }
      if (verbose)
        llvm::errs() << log;
      os << *cubin;
    }
  }

  std::error_code ec;
  llvm::ToolOutputFile out(output, ec, llvm::sys::fs::OF_None);
  if (ec) {
    llvm::errs() << "qopt-gpu-kernel-gen: cannot write '" << output
                 << "': " << ec.message() << "\n";
    return 1;
  }
  out.os() << result;
  out.keep();
  return 0;
}
