//===- Tensor.h - host tensors for the runner -------------------*- C++ -*-===//
//
// The runner (qrun) is built without LLVM or MLIR, like libqrt: these are
// small, self-contained readers and writers for the tensor files users
// bring (NumPy .npy, ONNX TensorProto .pb).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNNER_TENSOR_H
#define QOPT_RUNNER_TENSOR_H

#include <cstdint>
#include <string>
#include <vector>

namespace qrun {

/// A dense C-order tensor in host memory.
struct Tensor {
  std::string name;
  int32_t dtype = 0; // a qart_dtype
  std::vector<int64_t> shape;
  std::vector<char> data;

  /// The number of elements, or -1 when the shape is not valid (see
  /// getShapeSize). The readers only produce valid shapes.
  int64_t numElements() const;
  /// Element `i` converted to double (for comparisons and summaries).
  double at(int64_t i) const;
};

/// The element count and byte size of a C-order tensor of `shape` with
/// `elementSize`-byte elements. False when a dimension is negative, the
/// element size is 0, or the bytes of the nonzero dimensions overflow
/// int64_t: as in NumPy, a zero dimension does not excuse huge others, so that
/// every stride and offset into a valid shape fits in int64_t too.
bool getShapeSize(const std::vector<int64_t> &shape, size_t elementSize,
                  int64_t &elements, size_t &bytes);

/// Reads a .npy file (format 1.0-3.0, little-endian, C order). Returns an
/// error message, or "" on success.
std::string readNpy(const std::string &path, Tensor &out);
/// Writes `tensor` as .npy (to a temporary file renamed into place).
std::string writeNpy(const std::string &path, const Tensor &tensor);

/// What a .npy header says: everything but the data.
struct NpyHeader {
  int32_t dtype = 0; // a qart_dtype
  std::vector<int64_t> shape;
  /// Where the data starts in the file and how many bytes shape and dtype
  /// need.
  size_t dataOffset = 0, dataBytes = 0;
};

/// Parses the header at the start of `bytes`, which must hold the whole
/// header (the data need not follow). Checks everything parseNpy checks but
/// the data's length.
std::string parseNpyHeader(const std::string &bytes, const std::string &path,
                           NpyHeader &out);

/// A .npy file read a slice of rows at a time, for data too large to hold
/// (qrun calibrate): open() reads and checks only the header and the file's
/// size (a truncated file is an error there, not half-way through);
/// readRows() reads rows with pread, so memory stays one slice. Rows are
/// along the first dimension; a rank-0 tensor is one row.
class NpyFile {
public:
  NpyFile() = default;
  NpyFile(NpyFile &&other) noexcept;
  NpyFile &operator=(NpyFile &&other) noexcept;
  NpyFile(const NpyFile &) = delete;
  NpyFile &operator=(const NpyFile &) = delete;
  ~NpyFile();

  /// Opens `path` and checks its header and size; the file stays open until
  /// close() (or destruction).
  std::string open(const std::string &path);
  /// Closes the file; readRows() opens it again.
  void close();
  const std::string &path() const { return filePath; }
  const NpyHeader &header() const { return head; }
  int64_t rows() const { return head.shape.empty() ? 1 : head.shape[0]; }
  size_t rowBytes() const;
  /// Appends rows [first, first + count) to `out`.
  std::string readRows(int64_t first, int64_t count, std::vector<char> &out);

private:
  std::string filePath;
  NpyHeader head;
  int fd = -1;
};

/// Reads a serialized ONNX TensorProto (raw_data or typed fields).
std::string readTensorProto(const std::string &path, Tensor &out);

/// The parsers behind readNpy and readTensorProto, on bytes already read;
/// `path` only names the source in messages. On success `out.data` holds
/// exactly the bytes its shape and dtype need.
std::string parseNpy(const std::string &bytes, const std::string &path,
                     Tensor &out);
std::string parseTensorProto(const std::string &bytes, const std::string &path,
                             Tensor &out);

/// The op types (`domain::op` for other domains) of the ONNX model at `path`,
/// sorted and unique, subgraphs included.
std::string readModelOps(const std::string &path,
                         std::vector<std::string> &ops);

/// The graph inputs of the ONNX model at `path` that are not initializers,
/// in order.
std::string readModelInputs(const std::string &path,
                            std::vector<std::string> &names);

/// The parsers behind readModelOps and readModelInputs, on bytes already
/// read; `path` only names the source in messages.
std::string parseModelOps(const std::string &bytes, const std::string &path,
                          std::vector<std::string> &ops);
std::string parseModelInputs(const std::string &bytes, const std::string &path,
                             std::vector<std::string> &names);

/// Reads `path` completely.
std::string readFile(const std::string &path, std::string &out);

} // namespace qrun

#endif // QOPT_RUNNER_TENSOR_H
