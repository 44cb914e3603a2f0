//===- QOptOptMain.cpp - the qopt driver's main ---------------------------===//

#include "qopt/Tools/QOptOptMain.h"

#include "qopt/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

using namespace mlir;

namespace {

struct PluginFlag {
  llvm::StringLiteral flag;
  llvm::StringLiteral entryPoint;
  llvm::StringLiteral kind;
};

constexpr PluginFlag kPluginFlags[] = {
    {"load-pass-plugin", "mlirGetPassPluginInfo", "pass"},
    {"load-dialect-plugin", "mlirGetDialectPluginInfo", "dialect"},
};

/// Loads `path` the way MlirOptMain will and checks its entry point.
bool checkPlugin(llvm::StringRef path, const PluginFlag &flag) {
  std::string error;
  auto library = llvm::sys::DynamicLibrary::getPermanentLibrary(
      path.str().c_str(), &error);
  if (!library.isValid()) {
    llvm::errs() << "qopt: error: cannot load " << flag.kind << " plugin '"
                 << path << "': " << error << "\n";
    return false;
  }
  if (!library.getAddressOfSymbol(flag.entryPoint.data())) {
    llvm::errs() << "qopt: error: '" << path << "' is not an MLIR " << flag.kind
                 << " plugin: it does not define " << flag.entryPoint << "\n";
    return false;
  }
  return true;
}

/// Checks every --load-*-plugin=PATH / --load-*-plugin PATH argument.
bool checkPluginArgs(int argc, char **argv) {
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg(argv[i]);
    if (!arg.consume_front("--") && !arg.consume_front("-"))
      continue;
    for (const PluginFlag &flag : kPluginFlags) {
      if (!arg.starts_with(flag.flag))
        continue;
      llvm::StringRef rest = arg.drop_front(flag.flag.size());
      if (rest.consume_front("="))
        ok &= checkPlugin(rest, flag);
      else if (rest.empty() && i + 1 < argc)
        ok &= checkPlugin(argv[++i], flag);
    }
  }
  return ok;
}

} // namespace

int mlir::qopt::qoptOptMain(int argc, char **argv) {
  if (!checkPluginArgs(argc, argv))
    return 1;
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllPasses();
  // MlirOptMain(argc, argv, ...) reads the input into a buffer of default
  // alignment. Bytecode places each resource blob at its alignment (64
  // bytes for weights) relative to the buffer, so a bytecode file too small
  // to be memory-mapped, read into the heap, fails to parse ("unexpected
  // trailing bytes in resource entry"). Read it page-aligned instead.
  auto [inputFilename, outputFilename] = registerAndParseCLIOptions(
      argc, argv, "qopt: the qopt quantization compiler's pass driver\n",
      registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses())
    return asMainReturnCode(
        MlirOptMain(argc, argv, inputFilename, outputFilename, registry));
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> file =
      openInputFile(inputFilename, llvm::Align(4096), &error);
  if (!file) {
    llvm::errs() << error << "\n";
    return 1;
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFilename, &error);
  if (!output) {
    llvm::errs() << error << "\n";
    return 1;
  }
  if (failed(MlirOptMain(output->os(), std::move(file), registry, config)))
    return 1;
  output->keep();
  return 0;
}
