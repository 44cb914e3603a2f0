//===- QRunTensorFuzzer.cpp - libFuzzer target for qrun's tensor readers --===//
//
// Feeds arbitrary bytes to the .npy and TensorProto parsers that read user
// inputs and conformance data, to the model readers of `qrun
// conformance`, and to the streaming .npy reader of `qrun calibrate`
// (NpyFile, through an in-memory file), which must accept exactly what
// parseNpy accepts and read the same bytes. Any outcome but a clean error or a
// tensor whose data holds exactly what its shape and dtype need is a bug;
// ASan/UBSan report memory and UB errors. test/Runner/tensor-fuzz.test runs
// it deterministically; bench/fuzz.sh explores for longer.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/Tensor.h"
#include "qopt/Runtime/qrt.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

namespace {

void check(const qrun::Tensor &tensor) {
  // The readers' contract, computed independently of qrun::getShapeSize: no
  // negative dimension, and the bytes of the nonzero dimensions fit in
  // int64_t even when a zero dimension makes the tensor empty.
  size_t elemSize = qrt_dtype_size(tensor.dtype);
  if (elemSize == 0)
    abort();
  uint64_t bytes = elemSize;
  bool empty = false;
  for (int64_t d : tensor.shape) {
    if (d < 0)
      abort();
    if (d == 0)
      empty = true;
    else if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes) ||
             bytes > static_cast<uint64_t>(INT64_MAX))
      abort();
  }
  if (empty)
    bytes = 0;
  if (tensor.data.size() != bytes ||
      tensor.numElements() != static_cast<int64_t>(bytes / elemSize))
    abort();
  // Every element must be readable.
  for (int64_t i = 0, e = tensor.numElements(); i < e; ++i)
    (void)tensor.at(i);
}

/// NpyFile on `bytes`: the same verdict and data as parseNpy.
void checkStreaming(const std::string &bytes, bool parsed,
                    const qrun::Tensor &tensor) {
  static int fd = memfd_create("fuzz.npy", 0);
  if (fd < 0)
    abort();
  if (ftruncate(fd, 0) != 0 || pwrite(fd, bytes.data(), bytes.size(), 0) !=
                                   static_cast<ssize_t>(bytes.size()))
    abort();
  qrun::NpyFile file;
  bool opened = file.open("/proc/self/fd/" + std::to_string(fd)).empty();
  if (opened != parsed)
    abort();
  if (!opened)
    return;
  const qrun::NpyHeader &h = file.header();
  if (h.dtype != tensor.dtype || h.shape != tensor.shape ||
      h.dataBytes != tensor.data.size() ||
      h.dataOffset + h.dataBytes > bytes.size())
    abort();
  // Every row, read in two slices, is the tensor's data.
  std::vector<char> rows;
  int64_t half = file.rows() / 2;
  if (!file.readRows(0, half, rows).empty() ||
      !file.readRows(half, file.rows() - half, rows).empty() ||
      rows.size() != tensor.data.size() ||
      (!rows.empty() && memcmp(rows.data(), tensor.data.data(), rows.size())))
    abort();
  if (file.readRows(0, file.rows() + 1, rows).empty())
    abort(); // past the end must fail
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  qrun::Tensor tensor;
  bool parsed = qrun::parseNpy(bytes, "fuzz.npy", tensor).empty();
  if (parsed)
    check(tensor);
  // The header alone parses whenever the whole file does.
  qrun::NpyHeader header;
  if (parsed && !qrun::parseNpyHeader(bytes, "fuzz.npy", header).empty())
    abort();
  // Files that can pass the magic check also go through the streaming
  // reader (a file write per input: only these).
  // (NpyFile refuses headers over 1 MiB, which parseNpy would read.)
  if (size >= 10 && size <= (1u << 20) && memcmp(data, "\x93NUMPY", 6) == 0)
    checkStreaming(bytes, parsed, tensor);
  if (qrun::parseTensorProto(bytes, "fuzz.pb", tensor).empty())
    check(tensor);
  // The model readers of `qrun conformance`.
  std::vector<std::string> names;
  (void)qrun::parseModelOps(bytes, "fuzz.onnx", names);
  (void)qrun::parseModelInputs(bytes, "fuzz.onnx", names);
  return 0;
}
