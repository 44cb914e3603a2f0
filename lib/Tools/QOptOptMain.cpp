//===- QOptOptMain.cpp - the qopt driver's main ---------------------------===//

#include "qopt/Tools/QOptOptMain.h"

#include "qopt/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/DynamicLibrary.h"
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
  return asMainReturnCode(MlirOptMain(
      argc, argv, "qopt: the qopt quantization compiler's pass driver\n",
      registry));
}
