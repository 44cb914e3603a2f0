//===- ONNXImporter.h - ONNX models into MLIR -------------------*- C++ -*-===//
//
// The library behind `qopt-import`, usable from other tools and tests
// without a subprocess.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_IMPORT_ONNX_ONNXIMPORTER_H
#define QOPT_IMPORT_ONNX_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <cstdint>
#include <string>

namespace mlir {
class DialectRegistry;
namespace qopt {

/// How to import a model.
struct ONNXImportOptions {
  /// Static shapes for graph inputs, by input name; they replace symbolic
  /// dimensions (and must agree with fixed ones).
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Initializers and constants of at least this many bytes become
  /// `dense_resource` blobs (referencing the model's memory, or the mmap'd
  /// external data file, without a copy); smaller ones are inline `dense`
  /// attributes that folding can see through.
  int64_t resourceThreshold = 1024;
  /// Name of the imported function.
  std::string functionName = "main";
  /// Graph inputs bound to constant values, by input name: the path of a
  /// serialized ONNX TensorProto. They become constants instead of function
  /// arguments (for inputs that carry shapes, axes or masks).
  llvm::StringMap<std::string> constantInputs;
};

/// The opset range of the default ONNX domain the importer takes. Exporters
/// today emit 13 to 21, which every supported op handles; older models are
/// accepted node by node, for ops whose semantics at that opset are the ones
/// implemented (see getMinimumOpset in the importer).
constexpr int64_t kMinONNXOpset = 1;
constexpr int64_t kMaxONNXOpset = 21;

/// Adds the dialects imported models use to `registry`.
void registerONNXImportDialects(DialectRegistry &registry);

/// Imports the ONNX model at `path` (external data files are resolved
/// relative to it). On failure, returns null after reporting every problem
/// found (for instance all unsupported ops of the model) through the
/// context's diagnostic handler.
OwningOpRef<ModuleOp> importONNXModel(MLIRContext *context,
                                      llvm::StringRef path,
                                      const ONNXImportOptions &options);

/// Imports a model held in memory; `path` names it in diagnostics and
/// anchors relative external data locations.
OwningOpRef<ModuleOp>
importONNXModelFromBuffer(MLIRContext *context, llvm::StringRef bytes,
                          llvm::StringRef path,
                          const ONNXImportOptions &options);

/// Parses an `--input-shape` value `name=1x128` (dimensions separated by
/// `x`; `name=` alone is a scalar) into `options`. Returns an error message,
/// or an empty string on success.
std::string parseInputShapeOption(llvm::StringRef value,
                                  ONNXImportOptions &options);

/// Parses a `--constant-input` value `name=path/to/tensor.pb` into
/// `options`. Returns an error message, or an empty string on success.
std::string parseConstantInputOption(llvm::StringRef value,
                                     ONNXImportOptions &options);

/// Every op type the importer supports in the default domain, sorted.
llvm::SmallVector<llvm::StringRef> getSupportedONNXOps();

} // namespace qopt
} // namespace mlir

#endif // QOPT_IMPORT_ONNX_ONNXIMPORTER_H
