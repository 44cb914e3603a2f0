//===- QOptImportMain.cpp - the qopt-import tool's main -------------------===//

#include "qopt/Tools/QOptImportMain.h"

#include "qopt/Import/ONNX/ONNXImporter.h"
#include "qopt/Tools/ToolDiagnostics.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum class EmitKind { Auto, Bytecode, MLIR };
} // namespace

int mlir::qopt::qoptImportMain(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::OptionCategory category("qopt-import options");
  cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model.onnx>"),
                                 cl::cat(category));
  cl::opt<std::string> outputPath("o", cl::desc("Output file ('-': stdout)"),
                                  cl::value_desc("file"), cl::init("-"),
                                  cl::cat(category));
  cl::opt<EmitKind> emit(
      "emit", cl::desc("Output format"), cl::init(EmitKind::Auto),
      cl::values(clEnumValN(EmitKind::Auto, "auto",
                            "bytecode for models with weights, else text"),
                 clEnumValN(EmitKind::Bytecode, "bytecode", "MLIR bytecode"),
                 clEnumValN(EmitKind::MLIR, "mlir", "textual MLIR")),
      cl::cat(category));
  cl::list<std::string> inputShapes(
      "input-shape",
      cl::desc("Static shape for a graph input, e.g. input_ids=1x128 "
               "(repeatable)"),
      cl::value_desc("name=DxD..."), cl::cat(category));
  cl::list<std::string> constantInputs(
      "constant-input",
      cl::desc("Bind a graph input to the value in a serialized ONNX "
               "TensorProto file, e.g. axes=axes.pb (repeatable)"),
      cl::value_desc("name=file.pb"), cl::cat(category));
  cl::opt<int64_t> resourceThreshold(
      "resource-threshold",
      cl::desc("Constants of at least this many bytes become dense_resource "
               "blobs"),
      cl::init(1024), cl::cat(category));
  cl::opt<std::string> functionName("function-name",
                                    cl::desc("Name of the imported function"),
                                    cl::init("main"), cl::cat(category));
  cl::opt<bool> listOps("list-ops",
                        cl::desc("Print the supported ONNX ops and exit"),
                        cl::cat(category));
  // --mlir-print-debuginfo and friends, for the text form.
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  cl::HideUnrelatedOptions(category);
  if (!cl::ParseCommandLineOptions(
          argc, argv, "qopt-import: ONNX models into MLIR\n", &llvm::errs()))
    return 2;

  if (listOps) {
    for (llvm::StringRef op : getSupportedONNXOps())
      llvm::outs() << op << "\n";
    return 0;
  }
  if (inputPath.empty()) {
    llvm::errs() << "qopt-import: error: no input model given\n";
    return 2;
  }
  ONNXImportOptions options;
  options.resourceThreshold = resourceThreshold;
  options.functionName = functionName;
  for (const std::string &value : constantInputs) {
    std::string error = parseConstantInputOption(value, options);
    if (!error.empty()) {
      llvm::errs() << "qopt-import: error: --constant-input: " << error << "\n";
      return 2;
    }
  }
  for (const std::string &shape : inputShapes) {
    std::string error = parseInputShapeOption(shape, options);
    if (!error.empty()) {
      llvm::errs() << "qopt-import: error: --input-shape: " << error << "\n";
      return 2;
    }
  }

  MLIRContext context;
  // Diagnostics name the model and, in their text, the node at fault.
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    printToolDiagnostic(
        diag, [&](llvm::raw_ostream &os, Diagnostic &) { os << inputPath; });
    return success();
  });
  OwningOpRef<ModuleOp> module = importONNXModel(&context, inputPath, options);
  if (!module)
    return 1;

  bool bytecode = emit == EmitKind::Bytecode;
  if (emit == EmitKind::Auto) {
    bool hasWeights = false;
    module->walk([&](Operation *op) {
      for (NamedAttribute attr : op->getAttrs())
        hasWeights |= isa<DenseResourceElementsAttr>(attr.getValue());
    });
    bytecode = hasWeights && outputPath != "-";
  }
  // Written to a temporary file and renamed: no partial output on failure.
  llvm::Error error = llvm::writeToOutput(
      outputPath, [&](llvm::raw_ostream &os) -> llvm::Error {
        if (bytecode) {
          if (failed(writeBytecodeToFile(*module, os)))
            return llvm::createStringError("cannot write bytecode");
        } else {
          module->print(os, OpPrintingFlags());
        }
        return llvm::Error::success();
      });
  if (error) {
    llvm::errs() << "qopt-import: error: cannot write '" << outputPath
                 << "': " << llvm::toString(std::move(error)) << "\n";
    return 1;
  }
  return 0;
}
