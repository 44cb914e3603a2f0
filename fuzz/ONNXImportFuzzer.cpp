//===- ONNXImportFuzzer.cpp - libFuzzer target for the ONNX importer ------===//
//
// Feeds arbitrary bytes to the importer as a model. Any outcome but a clean
// error or a module that verifies is a bug; ASan/UBSan report memory and UB
// errors. test/Import/fuzz.test runs it deterministically; bench/fuzz.sh
// explores for longer.
//
//===----------------------------------------------------------------------===//

#include "qopt/Import/ONNX/ONNXImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringRef.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  // Errors are the expected outcome for most inputs: keep them quiet.
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  mlir::qopt::ONNXImportOptions options;
  // External data locations resolve under a folder that has no files.
  auto module = mlir::qopt::importONNXModelFromBuffer(
      &context, llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "/nonexistent-qopt-fuzz-dir/model.onnx", options);
  if (module && mlir::failed(mlir::verify(*module)))
    std::abort();
  return 0;
}
