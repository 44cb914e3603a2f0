//===- ModelLoader.h - reading ONNX protobufs and external data -*- C++ -*-===//

#ifndef QOPT_LIB_IMPORT_ONNX_MODELLOADER_H
#define QOPT_LIB_IMPORT_ONNX_MODELLOADER_H

#include "onnx.pb.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBuffer.h"

#include <deque>
#include <memory>
#include <string>

namespace mlir {
namespace qopt {
namespace onnx_import {

/// A parsed model and the files its external data lives in. Tensor bytes are
/// handed out as views into memory this object keeps alive: the parsed
/// protobuf for inline data, whole-file mappings for external data.
class LoadedModel {
public:
  /// Parses `path`. On failure returns null and sets `error`.
  static std::shared_ptr<LoadedModel> load(llvm::StringRef path,
                                           std::string &error);
  /// Parses a model held in memory; external data is looked up relative to
  /// `path` (which need not exist). On failure returns null and sets `error`.
  static std::shared_ptr<LoadedModel> loadFromBuffer(llvm::StringRef bytes,
                                                     llvm::StringRef path,
                                                     std::string &error);

  const onnx::ModelProto &getModel() const { return model; }
  llvm::StringRef getPath() const { return path; }

  /// The raw little-endian bytes of an initializer or Constant tensor whose
  /// payload is `raw_data` or external. Returns false with `error` set when
  /// the external file is missing or too short; `bytes` is empty when the
  /// tensor stores its values in typed fields (float_data, ...).
  bool getRawBytes(const onnx::TensorProto &tensor, llvm::StringRef &bytes,
                   std::string &error);

  /// Reads a serialized TensorProto (a graph input bound to a constant);
  /// it lives as long as this model. Returns null and sets `error` on
  /// failure.
  const onnx::TensorProto *loadTensorFile(llvm::StringRef path,
                                          std::string &error);

private:
  std::string path;
  onnx::ModelProto model;
  std::deque<onnx::TensorProto> boundTensors;
  /// External data files by resolved path, each mapped once.
  llvm::StringMap<std::unique_ptr<llvm::MemoryBuffer>> externalFiles;
};

} // namespace onnx_import
} // namespace qopt
} // namespace mlir

#endif // QOPT_LIB_IMPORT_ONNX_MODELLOADER_H
