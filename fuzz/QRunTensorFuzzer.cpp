//===- QRunTensorFuzzer.cpp - libFuzzer target for qrun's tensor readers --===//
//
// Feeds arbitrary bytes to the .npy and TensorProto parsers that read user
// inputs and conformance data, and to the model readers of `qrun
// conformance`. Any outcome but a clean error or a tensor
// whose data holds exactly what its shape and dtype need is a bug;
// ASan/UBSan report memory and UB errors. test/Runner/tensor-fuzz.test runs
// it deterministically; bench/fuzz.sh explores for longer.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/Tensor.h"
#include "qopt/Runtime/qrt.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

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

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  qrun::Tensor tensor;
  if (qrun::parseNpy(bytes, "fuzz.npy", tensor).empty())
    check(tensor);
  if (qrun::parseTensorProto(bytes, "fuzz.pb", tensor).empty())
    check(tensor);
  // The model readers of `qrun conformance`.
  std::vector<std::string> names;
  (void)qrun::parseModelOps(bytes, "fuzz.onnx", names);
  (void)qrun::parseModelInputs(bytes, "fuzz.onnx", names);
  return 0;
}
