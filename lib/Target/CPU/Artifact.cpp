//===- Artifact.cpp - the host library of an artifact ---------------------===//

#include "qopt/Target/CPU/Artifact.h"

#include "qopt/Target/Common/Artifact.h"

#include "qopt/Runtime/ArtifactABI.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "lld/Common/Driver.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

LLD_HAS_DRIVER(elf)

using namespace mlir;
using namespace mlir::qopt;

//===----------------------------------------------------------------------===//
// Target
//===----------------------------------------------------------------------===//

std::pair<std::string, std::string>
qopt::resolveTarget(const ArtifactOptions &options) {
  std::string cpu = options.cpu;
  std::string features = options.features;
  SmallVector<std::string> enabled;
  if (cpu == "host") {
    cpu = llvm::sys::getHostCPUName().str();
    if (features.empty())
      for (const auto &feature : llvm::sys::getHostCPUFeatures())
        if (feature.second)
          enabled.push_back("+" + feature.first().str());
  } else if (features.empty()) {
    // Spell out what a named CPU implies: the vector width follows from it,
    // and the runtime checks each feature before it runs the code.
    llvm::InitializeNativeTarget();
    llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
    std::string error;
    if (const llvm::Target *target =
            llvm::TargetRegistry::lookupTarget(triple, error)) {
      std::unique_ptr<llvm::MCSubtargetInfo> info(
          target->createMCSubtargetInfo(triple, cpu, ""));
      if (info)
        for (const llvm::SubtargetFeatureKV &feature :
             info->getAllProcessorFeatures())
          if (info->checkFeatures(std::string("+") + feature.Key))
            enabled.push_back(std::string("+") + feature.Key);
    }
  }
  if (!enabled.empty()) {
    llvm::sort(enabled);
    features = llvm::join(enabled, ",");
  }
  return {cpu, features};
}

int64_t qopt::getVectorWidth(StringRef features) {
  SmallVector<StringRef> list;
  features.split(list, ',');
  auto has = [&](StringRef name) {
    return llvm::is_contained(list, ("+" + name).str());
  };
  if (has("avx512f"))
    return 16;
  if (has("avx"))
    return 8;
  return 4;
}

void qopt::registerArtifactTranslations(DialectRegistry &registry) {
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

//===----------------------------------------------------------------------===//
// CUDA host code
//===----------------------------------------------------------------------===//

// A CUDA artifact's library is host code like a CPU artifact's; it differs
// in what its code calls and which globals must stay in it.

/// The globals that hold the PTX of each gpu.binary of `module`
/// (`<name>_binary`), which the library's constructors hand to
/// mgpuModuleLoadJIT before any weights are mapped: they stay in the library.
static llvm::StringSet<> getKernelBinaryGlobals(ModuleOp module) {
  llvm::StringSet<> globals;
  for (auto binary : module.getOps<gpu::BinaryOp>())
    globals.insert((binary.getName() + "_binary").str());
  return globals;
}

/// The kernels dereference every buffer: the host code allocates in managed
/// memory, through libqrt's `qrt_cuda_model_*` functions. On failure returns
/// an error message.
static std::string useManagedAllocator(llvm::Module &llvmModule) {
  static const std::pair<const char *, const char *> renames[] = {
      {"_mlir_memref_to_llvm_alloc", "qrt_cuda_model_alloc"},
      {"_mlir_memref_to_llvm_aligned_alloc", "qrt_cuda_model_aligned_alloc"},
      {"_mlir_memref_to_llvm_free", "qrt_cuda_model_free"},
      {"malloc", "qrt_cuda_model_alloc"},
      {"free", "qrt_cuda_model_free"}};
  for (auto [from, to] : renames)
    if (llvm::Function *fn = llvmModule.getFunction(from)) {
      if (!fn->isDeclaration())
        return std::string("internal error: the CUDA host code defines ") +
               from;
      if (llvm::Function *existing = llvmModule.getFunction(to)) {
        fn->replaceAllUsesWith(existing);
        fn->eraseFromParent();
      } else {
        fn->setName(to);
      }
    }
  return "";
}

//===----------------------------------------------------------------------===//
// Emission
//===----------------------------------------------------------------------===//

namespace {
/// Temporary files removed unless kept.
struct TempFiles {
  SmallVector<std::string> paths;
  ~TempFiles() {
    for (const std::string &path : paths)
      llvm::sys::fs::remove(path);
  }
  std::string make(const Twine &model) {
    SmallString<128> path;
    if (llvm::sys::fs::createUniqueFile(model, path))
      return "";
    paths.push_back(path.str().str());
    return paths.back();
  }
};
} // namespace

static std::string writeFile(StringRef path, StringRef data) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return "cannot write '" + path.str() + "': " + ec.message();
  os << data;
  os.close();
  if (os.has_error())
    return "cannot write '" + path.str() + "': " + os.error().message();
  return "";
}

std::string qopt::emitArtifact(ModuleOp module, StringRef entry,
                               const ArtifactSignature &signature,
                               const ArtifactOptions &options,
                               ArtifactOutput output, StringRef outputPathRef) {
  // lld resets every llvm::cl option when it parses its arguments; the path
  // may live in one.
  const std::string outputPath = outputPathRef.str();
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  auto [cpu, features] = resolveTarget(options);
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return "no LLVM target for " + triple.str() + ": " + error;
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, targetOptions, llvm::Reloc::PIC_, std::nullopt,
      options.optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive
                            : llvm::CodeGenOptLevel::Default));
  if (!machine)
    return "cannot create a target machine for CPU '" + cpu + "'";

  bool cuda = options.device == QART_DEVICE_CUDA;
  llvm::StringSet<> keep;
  if (cuda)
    keep = getKernelBinaryGlobals(module);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "qopt");
  if (!llvmModule)
    return "translation to LLVM IR failed";
  if (cuda)
    if (std::string message = useManagedAllocator(*llvmModule);
        !message.empty())
      return message;
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());

  // ABI glue (lib/Target/Common): weights base, entry wrapper, descriptor.
  llvm::GlobalVariable *weightsBase = addWeightsBase(*llvmModule);
  std::string weights;
  bool external = output == ArtifactOutput::SharedLibrary;
  // A CUDA artifact's kernels cannot read the library's own data: every
  // constant they might read goes to the weights file, which libqrt copies
  // to the GPU.
  if (external)
    externalizeWeights(*llvmModule, weightsBase,
                       cuda ? 1 : options.weightsThreshold, weights, keep);
  uint64_t weightsId = getWeightsId(weights);

  ArtifactDescriptor descriptor;
  descriptor.cpu = cpu;
  descriptor.features = features;
  if (!weights.empty())
    descriptor.weightsFile =
        llvm::sys::path::filename(outputPath).str() + ".weights";
  descriptor.weightsSize = getWeightsFileSize(weights);
  descriptor.weightsId = weightsId;
  descriptor.weightsBase = weightsBase;
  descriptor.device = options.device;
  descriptor.deviceArch = options.deviceArch;
  if (std::string message = addArtifactDescriptor(*llvmModule, module, entry,
                                                  signature, descriptor);
      !message.empty())
    return message;

  if (llvm::verifyModule(*llvmModule, &llvm::errs()))
    return "internal error: the generated LLVM IR does not verify";
  // Only the descriptor is the artifact's interface; everything else may be
  // inlined, specialised or dropped.
  for (llvm::Function &fn : *llvmModule)
    if (!fn.isDeclaration())
      fn.setLinkage(llvm::GlobalValue::InternalLinkage);

  auto optimize = makeOptimizingTransformer(options.optLevel, 0, machine.get());
  if (llvm::Error err = optimize(llvmModule.get()))
    return "LLVM optimization failed: " + llvm::toString(std::move(err));

  TempFiles temps;
  if (output == ArtifactOutput::LLVMIR) {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvmModule->print(os, nullptr);
    std::string tmp = temps.make(outputPath + ".tmp-%%%%%%");
    if (tmp.empty())
      return "cannot create a temporary file beside '" + outputPath + "'";
    if (std::string message = writeFile(tmp, text); !message.empty())
      return message;
    if (std::error_code ec = llvm::sys::fs::rename(tmp, outputPath))
      return "cannot write '" + outputPath + "': " + ec.message();
    return "";
  }

  SmallString<0> object;
  {
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager pm;
    if (machine->addPassesToEmitFile(pm, os, nullptr,
                                     llvm::CodeGenFileType::ObjectFile))
      return "the target cannot emit object files";
    pm.run(*llvmModule);
  }

  std::string objPath = temps.make(outputPath + ".tmp-%%%%%%.o");
  if (objPath.empty())
    return "cannot create a temporary file beside '" + outputPath + "'";
  if (std::string message = writeFile(objPath, object); !message.empty())
    return message;
  if (output == ArtifactOutput::Object) {
    if (std::error_code ec = llvm::sys::fs::rename(objPath, outputPath))
      return "cannot write '" + outputPath + "': " + ec.message();
    return "";
  }

  std::string soPath = temps.make(outputPath + ".tmp-%%%%%%.so");
  if (soPath.empty())
    return "cannot create a temporary file beside '" + outputPath + "'";
  std::string linkLog;
  {
    llvm::raw_string_ostream linkOut(linkLog);
    const char *args[] = {"ld.lld", "-shared",      "--hash-style=gnu",
                          "-z",     "noexecstack",  "-z",
                          "relro",  "-z",           "now",
                          "-o",     soPath.c_str(), objPath.c_str()};
    lld::Result result =
        lld::lldMain(args, linkOut, linkOut, {{lld::Gnu, &lld::elf::link}});
    if (result.retCode != 0)
      return "linking the artifact failed: " + linkLog;
  }

  std::string weightsPath = outputPath + ".weights";
  std::string weightsTmp;
  if (!weights.empty()) {
    weightsTmp = temps.make(weightsPath + ".tmp-%%%%%%");
    if (weightsTmp.empty())
      return "cannot create a temporary file beside '" + weightsPath + "'";
    if (std::string message =
            writeFile(weightsTmp, getWeightsFile(weights, weightsId));
        !message.empty())
      return message;
  }
  if (std::error_code ec = llvm::sys::fs::rename(soPath, outputPath))
    return "cannot write '" + outputPath + "': " + ec.message();
  if (!weights.empty()) {
    if (std::error_code ec = llvm::sys::fs::rename(weightsTmp, weightsPath)) {
      llvm::sys::fs::remove(outputPath);
      return "cannot write '" + weightsPath + "': " + ec.message();
    }
  } else {
    // A stale weights file from an earlier build must not pair with this one.
    llvm::sys::fs::remove(weightsPath);
  }
  return "";
}
