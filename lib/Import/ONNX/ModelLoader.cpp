//===- ModelLoader.cpp - reading ONNX protobufs and external data ---------===//

#include "ModelLoader.h"

#include "google/protobuf/io/coded_stream.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Path.h"

#include <climits>

using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;

/// Maps (or reads) a whole file; on failure sets `error`.
static std::unique_ptr<llvm::MemoryBuffer> openFile(llvm::StringRef path,
                                                    std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    error =
        ("cannot open '" + path + "': " + buffer.getError().message()).str();
    return nullptr;
  }
  return std::move(*buffer);
}

std::shared_ptr<LoadedModel> LoadedModel::load(llvm::StringRef path,
                                               std::string &error) {
  std::unique_ptr<llvm::MemoryBuffer> buffer = openFile(path, error);
  if (!buffer)
    return nullptr;
  return loadFromBuffer(buffer->getBuffer(), path, error);
}

std::shared_ptr<LoadedModel> LoadedModel::loadFromBuffer(llvm::StringRef bytes,
                                                         llvm::StringRef path,
                                                         std::string &error) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    error = ("'" + path +
             "' is over 2 GiB: store the weights as ONNX external data")
                .str();
    return nullptr;
  }
  auto loaded = std::make_shared<LoadedModel>();
  loaded->path = path.str();
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()),
      static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(INT_MAX);
  // Deeply nested garbage must not exhaust the stack.
  stream.SetRecursionLimit(64);
  if (!loaded->model.ParseFromCodedStream(&stream) ||
      !stream.ConsumedEntireMessage()) {
    error = ("'" + path +
             "' is not a valid ONNX model: the protobuf is corrupt or "
             "truncated")
                .str();
    return nullptr;
  }
  if (!loaded->model.has_graph()) {
    error = ("'" + path + "' is not a valid ONNX model: it has no graph").str();
    return nullptr;
  }
  return loaded;
}

bool LoadedModel::getRawBytes(const onnx::TensorProto &tensor,
                              llvm::StringRef &bytes, std::string &error) {
  if (tensor.data_location() != onnx::TensorProto::EXTERNAL) {
    bytes = tensor.raw_data();
    return true;
  }
  std::string location;
  uint64_t offset = 0, length = 0;
  bool hasLength = false;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
    const std::string &key = entry.key(), &value = entry.value();
    auto parse = [&](uint64_t &out) {
      if (llvm::StringRef(value).getAsInteger(10, out)) {
        error = "external data '" + key + "' is not a number: '" + value + "'";
        return false;
      }
      return true;
    };
    if (key == "location")
      location = value;
    else if (key == "offset" && !parse(offset))
      return false;
    else if (key == "length") {
      if (!parse(length))
        return false;
      hasLength = true;
    }
  }
  if (location.empty()) {
    error = "external data has no 'location'";
    return false;
  }
  if (llvm::sys::path::is_absolute(location) ||
      llvm::StringRef(location).contains("..")) {
    error = "external data location '" + location +
            "' must be a path relative to the model, inside its folder";
    return false;
  }
  llvm::SmallString<256> resolved(llvm::sys::path::parent_path(path));
  llvm::sys::path::append(resolved, location);
  auto &file = externalFiles[resolved];
  if (!file) {
    auto buffer = llvm::MemoryBuffer::getFile(resolved, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!buffer) {
      externalFiles.erase(resolved);
      error = ("cannot open external data file '" + resolved +
               "': " + buffer.getError().message())
                  .str();
      return false;
    }
    file = std::move(*buffer);
  }
  uint64_t size = file->getBufferSize();
  if (!hasLength)
    length = offset <= size ? size - offset : 0;
  if (offset > size || length > size - offset) {
    error = ("external data file '" + resolved + "' is too short: need " +
             llvm::Twine(length) + " bytes at offset " + llvm::Twine(offset) +
             ", the file has " + llvm::Twine(size))
                .str();
    return false;
  }
  bytes = file->getBuffer().substr(offset, length);
  return true;
}

const onnx::TensorProto *LoadedModel::loadTensorFile(llvm::StringRef path,
                                                     std::string &error) {
  std::unique_ptr<llvm::MemoryBuffer> buffer = openFile(path, error);
  if (!buffer)
    return nullptr;
  onnx::TensorProto &tensor = boundTensors.emplace_back();
  llvm::StringRef bytes = buffer->getBuffer();
  if (bytes.size() > static_cast<size_t>(INT_MAX) ||
      !tensor.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    boundTensors.pop_back();
    error = ("'" + path + "' is not a serialized ONNX TensorProto").str();
    return nullptr;
  }
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    boundTensors.pop_back();
    error =
        ("'" + path + "' refers to external data; bind inline tensors").str();
    return nullptr;
  }
  return &tensor;
}
