//===- QRunTensorFuzzer.cpp - libFuzzer target for qrun's tensor readers --===//
//
// Feeds arbitrary bytes to the .npy and TensorProto parsers that read user
// inputs and conformance data, and to the model readers of `qrun
// conformance`. Any outcome but a clean error or a tensor
// whose data holds exactly what its shape and dtype need is a bug;
// ASan/UBSan report memory and UB errors. Run with a seed corpus:
//
//   qrun-tensor-fuzzer -max_total_time=60 CORPUS_DIR
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/Tensor.h"
#include "qopt/Runtime/qrt.h"

#include <cstdlib>
#include <string>
#include <vector>

namespace {

void check(const qrun::Tensor &tensor) {
  size_t bytes = qrt_dtype_size(tensor.dtype);
  for (int64_t d : tensor.shape) {
    if (d < 0)
      abort();
    bytes *= static_cast<size_t>(d);
  }
  if (tensor.data.size() != bytes)
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
