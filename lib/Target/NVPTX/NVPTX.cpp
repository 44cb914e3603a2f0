//===- NVPTX.cpp - NVVM lowering, PTX and cubin for qopt's GPU kernels ----===//

#include "qopt/Target/NVPTX/NVPTX.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

void qopt::registerNVPTXTargetInterfaces(DialectRegistry &registry) {
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerAllToLLVMIRTranslations(registry);
}

void qopt::buildGPUToNVVMPipeline(OpPassManager &pm) {
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createSCFToControlFlowPass());
  ConvertGpuOpsToNVVMOpsOptions toNVVM;
  // The kernels compute offsets in i32 themselves; the few index values
  // (thread and block ids) are cast right away.
  toNVVM.indexBitwidth = 32;
  kernels.addPass(createConvertGpuOpsToNVVMOps(toNVVM));
  // NVVM ops without an LLVM intrinsic (wgmma.mma_async, the waiting
  // mbarrier.try_wait.parity loop) become inline PTX.
  kernels.addPass(createConvertNVVMToLLVMPass());
  // convert-gpu-to-nvvm also converts arith, cf and the other dialects
  // that implement ConvertToLLVMPatternInterface.
  kernels.addPass(createReconcileUnrealizedCastsPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
}

void qopt::registerGPUToNVVMPipeline() {
  PassPipelineRegistration<>(
      "qopt-gpu-lower-to-nvvm",
      "Lower gpu.module kernels (gpu, scf, arith, llvm, nvvm) to the LLVM "
      "and NVVM dialects, ready for gpu-module-to-binary",
      [](OpPassManager &pm) { buildGPUToNVVMPipeline(pm); });
}

std::string qopt::verifyNVPTXTarget(StringRef chip, StringRef features) {
  // LLVM's NVPTX backend aborts (rather than diagnoses) when an intrinsic
  // such as mma.sync is missing on the chip or PTX version, so both are
  // checked here: sm_80 or newer (the kernels' tensor-core MMAs), PTX 7.0+.
  StringRef rest = chip;
  unsigned sm = 0;
  if (!rest.consume_front("sm_") || rest.consumeInteger(10, sm) ||
      !(rest.empty() || rest == "a" || rest == "f"))
    return ("unknown GPU architecture '" + chip + "' (expected sm_NN, " +
            "sm_NNa or sm_NNf)")
        .str();
  if (sm < 80)
    return ("GPU architecture '" + chip +
            "' is too old: the kernels need sm_80 or newer")
        .str();
  if (!features.empty()) {
    StringRef f = features;
    unsigned ptx = 0;
    if (!f.consume_front("+ptx") || f.consumeInteger(10, ptx) || !f.empty())
      return ("unknown PTX features '" + features + "' (expected +ptxNN)")
          .str();
    if (ptx < 70)
      return ("PTX features '" + features + "' too old: need +ptx70 or newer")
          .str();
  }
  return {};
}

FailureOr<std::vector<qopt::PTXModule>>
qopt::emitPTX(ModuleOp module, StringRef chip, StringRef features) {
  if (std::string err = verifyNVPTXTarget(chip, features); !err.empty())
    return module.emitError() << err;
  PassManager pm(module.getContext());
  buildGPUToNVVMPipeline(pm);
  GpuNVVMAttachTargetOptions target;
  target.chip = chip.str();
  target.features = features.str();
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  GpuModuleToBinaryPassOptions toBinary;
  toBinary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(toBinary));
  if (failed(pm.run(module)))
    return failure();
  std::vector<PTXModule> result;
  for (auto binary : module.getOps<gpu::BinaryOp>()) {
    for (Attribute attr : binary.getObjects()) {
      auto object = dyn_cast<gpu::ObjectAttr>(attr);
      if (!object)
        continue;
      result.push_back({binary.getName().str(), object.getObject().str()});
    }
  }
  if (result.empty()) {
    module.emitError() << "no gpu.module to serialize";
    return failure();
  }
  return result;
}

std::optional<std::string> qopt::findPtxas() {
  if (const char *home = std::getenv("CUDA_HOME")) {
    llvm::SmallString<256> path(home);
    llvm::sys::path::append(path, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(path))
      return path.str().str();
  }
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return std::string("/usr/local/cuda/bin/ptxas");
  if (auto found = llvm::sys::findProgramByName("ptxas"))
    return *found;
  return std::nullopt;
}

std::optional<std::string> qopt::assembleCubin(StringRef ptx, StringRef chip,
                                               StringRef ptxas,
                                               ArrayRef<std::string> extraArgs,
                                               std::string &log,
                                               std::string &error) {
  llvm::SmallString<128> ptxPath, cubinPath, logPath;
  if (llvm::sys::fs::createTemporaryFile("qopt-gpu", "ptx", ptxPath) ||
      llvm::sys::fs::createTemporaryFile("qopt-gpu", "cubin", cubinPath) ||
      llvm::sys::fs::createTemporaryFile("qopt-gpu", "log", logPath)) {
    error = "cannot create temporary files for ptxas";
    return std::nullopt;
  }
  llvm::scope_exit cleanup([&] {
    llvm::sys::fs::remove(ptxPath);
    llvm::sys::fs::remove(cubinPath);
    llvm::sys::fs::remove(logPath);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(ptxPath, ec);
    if (ec) {
      error = "cannot write " + ptxPath.str().str();
      return std::nullopt;
    }
    os << ptx;
  }
  std::string arch = ("-arch=" + chip).str();
  SmallVector<StringRef> args = {ptxas, arch, "-O3"};
  for (const std::string &a : extraArgs)
    args.push_back(a);
  args.append({"-o", cubinPath, ptxPath});
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(logPath),
                                          StringRef(logPath)};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects, 0, 0,
                                     &execError);
  if (auto buf = llvm::MemoryBuffer::getFile(logPath))
    log = (*buf)->getBuffer().str();
  if (rc != 0) {
    error = "ptxas failed" +
            (execError.empty() ? std::string() : ": " + execError) +
            (log.empty() ? std::string() : "\n" + log);
    return std::nullopt;
  }
  auto cubin = llvm::MemoryBuffer::getFile(cubinPath, /*IsText=*/false);
  if (!cubin) {
    error = "ptxas wrote no cubin";
    return std::nullopt;
  }
  return (*cubin)->getBuffer().str();
}
