//===- QOptCompileMain.cpp - the qopt-compile tool ------------------------===//

#include "qopt/Tools/QOptCompileMain.h"

#include "qopt/Import/ONNX/ONNXImporter.h"
#include "qopt/InitAll.h"
#include "qopt/Pipelines/Pipelines.h"
#include "qopt/Runner/Calibrate.h"
#include "qopt/Runtime/ArtifactABI.h"
#include "qopt/Target/CPU/Artifact.h"
#include "qopt/Target/Common/Artifact.h"
#include "qopt/Target/NVPTX/NVPTX.h"
#include "qopt/Tools/CalibrationFlow.h"
#include "qopt/Tools/ToolDiagnostics.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::qopt;
namespace cl = llvm::cl;

namespace {

/// A crash reproducer nobody asked to keep.
struct DiscardedReproducer : public ReproducerStream {
  StringRef description() override {
    return "nowhere (--crash-reproducer=FILE saves it)";
  }
  raw_ostream &os() override { return stream; }
  llvm::raw_null_ostream stream;
};

enum class EmitKind { Artifact, Object, LLVMIR, MLIR, PTX };
} // namespace

int qopt::qoptCompileMain(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::OptionCategory category("qopt-compile options");
  cl::opt<std::string> inputPath(cl::Positional,
                                 cl::desc("<model.onnx | module.mlir(bc)>"),
                                 cl::cat(category));
  cl::opt<std::string> outputPath("o", cl::desc("Output file"),
                                  cl::value_desc("file"), cl::cat(category));
  cl::opt<EmitKind> emit(
      "emit", cl::desc("What to write"), cl::init(EmitKind::Artifact),
      cl::values(
          clEnumValN(EmitKind::Artifact, "artifact",
                     "shared library + .weights file (default)"),
          clEnumValN(EmitKind::Object, "obj", "relocatable object file"),
          clEnumValN(EmitKind::LLVMIR, "llvm-ir", "optimized LLVM IR text"),
          clEnumValN(EmitKind::MLIR, "mlir",
                     "the module after the code generation pipeline"),
          clEnumValN(EmitKind::PTX, "ptx",
                     "--target=cuda: a directory with each kernel module's "
                     "PTX (<module>.ptx)")),
      cl::cat(category));
  cl::list<std::string> inputShapes(
      "input-shape",
      cl::desc("Static shape for an ONNX graph input, e.g. input_ids=1x128"),
      cl::value_desc("name=DxD..."), cl::cat(category));
  cl::list<std::string> constantInputs(
      "constant-input",
      cl::desc("Bind an ONNX graph input to a serialized TensorProto"),
      cl::value_desc("name=file.pb"), cl::cat(category));
  cl::opt<std::string> prePipeline(
      "pre-pipeline",
      cl::desc("Passes to run before code generation (quantization), in "
               "--pass-pipeline syntax, e.g. 'builtin.module(...)'"),
      cl::init(""), cl::cat(category));
  cl::opt<std::string> entry("entry", cl::desc("Entry function"),
                             cl::init("main"), cl::cat(category));
  cl::opt<std::string> targetOption(
      "target",
      cl::desc("Where the model runs: 'cpu' (default) or 'cuda[:sm_NN[a]]' "
               "(NVIDIA GPU; default architecture sm_90a)"),
      cl::init("cpu"), cl::cat(category));
  cl::opt<bool> cudaHostEmulation(
      "cuda-host-emulation",
      cl::desc("Test aid for --target=cuda: a CPU artifact of the CUDA "
               "pipeline's mapped loops (qopt-cuda-codegen host-emulation), "
               "to compare with the CPU path where no GPU is"),
      cl::init(false), cl::Hidden, cl::cat(category));
  cl::opt<std::string> cpu("target-cpu",
                           cl::desc("Target CPU: 'host' or an LLVM CPU name"),
                           cl::init("host"), cl::cat(category));
  cl::opt<std::string> features(
      "target-features",
      cl::desc("Target features, e.g. +avx2,+fma (default: those of "
               "--target-cpu)"),
      cl::init(""), cl::cat(category));
  cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level (0-3)"),
                             cl::init(3), cl::Prefix, cl::cat(category));
  cl::opt<bool> ukernels("ukernels",
                         cl::desc("Call runtime micro-kernels for matmuls"),
                         cl::init(true), cl::cat(category));
  cl::opt<bool> fuseAttention(
      "fuse-attention",
      cl::desc("Replace scaled dot-product attention by the runtime's fused "
               "kernel (qopt-cpu-fuse-attention; needs --ukernels)"),
      cl::init(true), cl::cat(category));
  cl::opt<bool> vectorize("vectorize",
                          cl::desc("Tile and vectorize linalg ops"),
                          cl::init(true), cl::cat(category));
  cl::opt<bool> runtimeChecks(
      "runtime-checks",
      cl::desc("Check at run time that inputs fit the shapes the code was "
               "compiled for (off: wrong shapes are undefined behaviour)"),
      cl::init(true), cl::cat(category));
  cl::opt<std::string> crashReproducer(
      "crash-reproducer",
      cl::desc("Where to save the IR and pipeline of a failing or crashing "
               "pass, for a bug report (default: not saved)"),
      cl::value_desc("file"), cl::cat(category));
  cl::opt<std::string> calibration(
      "calibration",
      cl::desc("Calibrate first on this data (an eval suite .jsonl or a .npy "
               "tensor, as qrun calibrate takes), then run --pre-pipeline on "
               "the calibrated module; every step's file goes to --work-dir"),
      cl::value_desc("file"), cl::cat(category));
  cl::opt<std::string> workDir(
      "work-dir",
      cl::desc("Where --calibration keeps its intermediate files (default: "
               "OUTPUT.work)"),
      cl::value_desc("dir"), cl::cat(category));
  cl::opt<std::string> observers(
      "observers",
      cl::desc("Observers of the calibration build (qopt-insert-observers "
               "options, e.g. 'observers=min_max,abs_max include=mlp')"),
      cl::init("observers=min_max,abs_max"), cl::cat(category));
  cl::opt<int64_t> calibrationBatch("calibration-batch",
                                    cl::desc("Samples per calibration run"),
                                    cl::init(8), cl::cat(category));
  cl::opt<int64_t> calibrationLimit(
      "calibration-limit",
      cl::desc("Calibrate on the first N samples only (0: all)"), cl::init(0),
      cl::cat(category));
  cl::opt<std::string> calibrationMaxMemory(
      "calibration-max-memory",
      cl::desc("Bound on a calibration run's intermediate buffers, e.g. "
               "512M or 4G (qrun calibrate --max-memory; 0: none)"),
      cl::init("4G"), cl::value_desc("bytes"), cl::cat(category));
  cl::opt<uint64_t> weightsThreshold(
      "weights-threshold",
      cl::desc("Constants of at least this many bytes go to the weights file"),
      cl::init(4096), cl::cat(category));

  DialectRegistry registry;
  registerAllDialects(registry);
  registerONNXImportDialects(registry);
  registerArtifactTranslations(registry);
  registerAllPasses();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  cl::HideUnrelatedOptions(category);
  if (!cl::ParseCommandLineOptions(argc, argv,
                                   "qopt-compile: models to native artifacts\n",
                                   &llvm::errs()))
    return 2;
  auto usage = [](const Twine &message) {
    llvm::errs() << "qopt-compile: error: " << message << "\n";
    return 2;
  };
  if (inputPath.empty())
    return usage("no input given");
  if (outputPath.empty())
    return usage("no output file given (-o)");
  if (optLevel > 3)
    return usage("-O must be 0 to 3");
  if (calibration.empty() &&
      (!workDir.empty() || observers.getNumOccurrences()))
    return usage("--work-dir and --observers need --calibration");
  if (!calibration.empty() && emit != EmitKind::Artifact)
    return usage("--calibration builds an artifact (--emit=artifact)");
  bool cudaTarget = false;
  std::string gpuChip = "sm_90a";
  {
    StringRef target = targetOption;
    if (target.consume_front("cuda")) {
      cudaTarget = true;
      if (target.consume_front(":"))
        gpuChip = target.str();
      else if (!target.empty())
        return usage("--target: expected 'cpu' or 'cuda[:sm_NN]', got '" +
                     targetOption + "'");
      if (std::string err = verifyNVPTXTarget(gpuChip, ""); !err.empty())
        return usage("--target: " + err);
    } else if (target != "cpu") {
      return usage("--target: expected 'cpu' or 'cuda[:sm_NN]', got '" +
                   targetOption + "'");
    }
  }
  if (cudaHostEmulation && !cudaTarget)
    return usage("--cuda-host-emulation needs --target=cuda");
  if (cudaTarget && !calibration.empty())
    return usage("--calibration runs on the CPU: calibrate with --target=cpu "
                 "and compile the result with --target=cuda");
  if (!cudaTarget && emit == EmitKind::PTX)
    return usage("--emit=ptx needs --target=cuda");

  if (cudaTarget)
    registerNVPTXTargetInterfaces(registry);
  MLIRContext context(registry);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    printToolDiagnostic(diag, [](llvm::raw_ostream &os, Diagnostic &d) {
      os << d.getLocation();
    });
    return success();
  });

  OwningOpRef<ModuleOp> module;
  if (StringRef(inputPath).ends_with(".onnx")) {
    ONNXImportOptions options;
    options.functionName = entry;
    for (const std::string &value : inputShapes)
      if (std::string error = parseInputShapeOption(value, options);
          !error.empty())
        return usage("--input-shape: " + error);
    for (const std::string &value : constantInputs)
      if (std::string error = parseConstantInputOption(value, options);
          !error.empty())
        return usage("--constant-input: " + error);
    module = importONNXModel(&context, inputPath, options);
  } else {
    if (!inputShapes.empty() || !constantInputs.empty())
      return usage("--input-shape and --constant-input apply to ONNX models");
    llvm::SourceMgr sourceMgr;
    std::string error;
    // Bytecode resource sections keep their blobs' alignment (64 bytes for
    // the weights qopt writes) only in a buffer aligned at least as much: a
    // small file read into the heap otherwise fails to parse ("expected
    // section alignment 64").
    auto file = openInputFile(inputPath, llvm::Align(4096), &error);
    if (!file) {
      llvm::errs() << "qopt-compile: error: " << error << "\n";
      return 1;
    }
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  }
  if (!module)
    return 1;

  // lld resets every llvm::cl option when it links an artifact, and the
  // calibration flow links two: what the steps after the first link need is
  // copied out of the options first.
  const std::string outputFile = outputPath, entryName = entry,
                    prePipelineText = prePipeline,
                    reproducerFile = crashReproducer, inputFile = inputPath;
  const bool useUkernels = ukernels, useVectorize = vectorize,
             useRuntimeChecks = runtimeChecks, useFuseAttention = fuseAttention;
  const EmitKind emitKind = emit;
  CalibrationFlow flow;
  flow.workDir = workDir.empty() ? outputFile + ".work" : workDir.getValue();
  flow.observers = observers;
  flow.data = calibration;
  flow.batch = calibrationBatch;
  flow.limit = calibrationLimit;
  if (!qrun::calibrate::parseByteSize(calibrationMaxMemory, flow.maxMemory)) {
    llvm::errs() << "qopt-compile: --calibration-max-memory needs a byte "
                    "count such as 512M or 4G, got '"
                 << calibrationMaxMemory << "'\n";
    return 1;
  }
  flow.prePipeline = prePipelineText;

  ArtifactOptions options;
  options.cpu = cpu;
  options.features = features;
  options.optLevel = optLevel;
  options.weightsThreshold = weightsThreshold;
  if (cudaTarget && !cudaHostEmulation) {
    options.device = QART_DEVICE_CUDA;
    options.deviceArch = gpuChip;
  }
  const bool hostEmulation = cudaHostEmulation;
  // A named copy: lambdas cannot capture structured bindings in C++17.
  std::string resolvedFeatures = resolveTarget(options).second;

  // Runs `pipeline` (may be empty) on `op`; false after reporting.
  auto runPipeline = [&](ModuleOp op, StringRef pipeline,
                         bool codegen) -> bool {
    PassManager pm(&context);
    if (failed(applyPassManagerCLOptions(pm)))
      return false;
    // A pass that crashes (upstream MLIR has a few that do on valid input)
    // must not take the process down. With a reproducer, the pass manager
    // runs the pipeline under crash recovery and reports a crash as a
    // failure naming the pass. The reproducer (the whole module) is only
    // kept when asked for: a large model's would be as large as its
    // weights.
    llvm::CrashRecoveryContext::Enable();
    if (!reproducerFile.empty())
      pm.enableCrashReproducerGeneration(reproducerFile);
    else
      pm.enableCrashReproducerGeneration(
          [](std::string &) -> std::unique_ptr<ReproducerStream> {
            return std::make_unique<DiscardedReproducer>();
          });
    if (!pipeline.empty()) {
      // Accept `builtin.module(...)` as --pass-pipeline spells it: on `pm`
      // (which is anchored on the module already) that anchor would nest a
      // module pass manager that never runs.
      StringRef text = pipeline.trim();
      if (text.consume_front("builtin.module(") && text.consume_back(")"))
        text = text.trim();
      std::string error;
      llvm::raw_string_ostream errorStream(error);
      if (failed(parsePassPipeline(text, pm, errorStream))) {
        llvm::errs() << "qopt-compile: error: pipeline '" << pipeline
                     << "': " << error << "\n";
        return false;
      }
    }
    if (codegen && cudaTarget) {
      CUDACodegenOptions codegenOptions;
      codegenOptions.chip = gpuChip;
      codegenOptions.runtimeChecks = useRuntimeChecks;
      codegenOptions.hostEmulation = hostEmulation;
      buildCUDACodegenPipeline(pm, codegenOptions);
    } else if (codegen) {
      CPUCodegenOptions codegenOptions;
      codegenOptions.vectorWidth = getVectorWidth(resolvedFeatures);
      codegenOptions.ukernels = useUkernels;
      codegenOptions.fuseAttention = useFuseAttention;
      codegenOptions.vectorize = useVectorize;
      codegenOptions.runtimeChecks = useRuntimeChecks;
      buildCPUCodegenPipeline(pm, codegenOptions);
    }
    return succeeded(pm.run(op));
  };

  // Runs `pre` and code generation on `op` (changed in place) and writes
  // what --emit asks for to `path`; an exit code.
  auto compile = [&](ModuleOp op, StringRef pre, StringRef path,
                     EmitKind kind) -> int {
    auto func = op.lookupSymbol<func::FuncOp>(entryName);
    if (!func || func.isDeclaration()) {
      llvm::errs() << "qopt-compile: error: '" << inputFile
                   << "' has no function '" << entryName << "' to compile\n";
      return 1;
    }
    FailureOr<ArtifactSignature> signature = getArtifactSignature(func);
    if (failed(signature))
      return 1;
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(&context));
    // The signature has what the names say; LLVM IR has no place for them.
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      func.setArgAttrs(i, ArrayRef<NamedAttribute>());
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
      func.setResultAttrs(i, ArrayRef<NamedAttribute>());
    if (!runPipeline(op, pre, /*codegen=*/true))
      return 1;
    if (cudaTarget) {
      // Without libdevice the serializer leaves its functions undefined;
      // the driver would refuse the module only when the model first runs.
      for (auto binary : op.getOps<gpu::BinaryOp>())
        for (Attribute attr : binary.getObjects()) {
          auto object = dyn_cast<gpu::ObjectAttr>(attr);
          StringRef ptx = object ? object.getObject().getValue() : "";
          size_t at = ptx.find(".extern .func");
          if (at == StringRef::npos)
            continue;
          StringRef line = ptx.substr(at).split('\n').first;
          llvm::errs() << "qopt-compile: error: kernel module '"
                       << binary.getName()
                       << "' calls a libdevice function that is not linked ("
                       << line.trim()
                       << "): set CUDA_HOME to a CUDA toolkit with "
                          "nvvm/libdevice\n";
          return 1;
        }
    }
    if (kind == EmitKind::MLIR) {
      std::string error;
      auto out = openOutputFile(path, &error);
      if (!out) {
        llvm::errs() << "qopt-compile: error: " << error << "\n";
        return 1;
      }
      op->print(out->os());
      out->keep();
      return 0;
    }
    if (kind == EmitKind::PTX) {
      if (std::error_code ec = llvm::sys::fs::create_directories(path)) {
        llvm::errs() << "qopt-compile: error: cannot create '" << path
                     << "': " << ec.message() << "\n";
        return 1;
      }
      for (auto binary : op.getOps<gpu::BinaryOp>())
        for (Attribute attr : binary.getObjects()) {
          auto object = dyn_cast<gpu::ObjectAttr>(attr);
          if (!object)
            continue;
          SmallString<256> file(path);
          llvm::sys::path::append(file, binary.getName() + ".ptx");
          std::string error;
          auto out = openOutputFile(file, &error);
          if (!out) {
            llvm::errs() << "qopt-compile: error: " << error << "\n";
            return 1;
          }
          // The serializer NUL-terminates PTX for the driver.
          out->os() << object.getObject().getValue().rtrim('\0');
          out->keep();
        }
      return 0;
    }
    ArtifactOutput output = kind == EmitKind::Object ? ArtifactOutput::Object
                            : kind == EmitKind::LLVMIR
                                ? ArtifactOutput::LLVMIR
                                : ArtifactOutput::SharedLibrary;
    std::string error =
        emitArtifact(op, entryName, *signature, options, output, path.str());
    if (!error.empty()) {
      llvm::errs() << "qopt-compile: error: " << error << "\n";
      return 1;
    }
    return 0;
  };

  if (flow.data.empty())
    return compile(*module, prePipelineText, outputFile, emitKind);

  flow.runPipeline = [&](ModuleOp op, StringRef pipeline) {
    return runPipeline(op, pipeline, /*codegen=*/false);
  };
  flow.compile = [&](ModuleOp op, StringRef path) {
    return compile(op, "", path, EmitKind::Artifact) == 0;
  };
  if (!runCalibrationFlow(*module, flow))
    return 1;
  return compile(*module, "", outputFile, emitKind);
}
