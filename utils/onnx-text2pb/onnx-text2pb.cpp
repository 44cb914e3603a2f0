//===- onnx-text2pb.cpp - ONNX text format to binary ModelProto -----------===//
//
// Usage: onnx-text2pb INPUT.onnxtxt OUTPUT.onnx
//        onnx-text2pb --tensor-json TENSOR.pb
//
// A test utility: lit tests keep their ONNX models in the readable ONNX text
// format (onnx/defs/parser.h) and turn them into binary models with this.
//
// The text format of Debian's ONNX (1.12) cannot name nodes; by our
// convention a string attribute `name` on a node becomes the node's name:
//   Y = MatMul <name = "/model/fc1/MatMul"> (X, W)
// Nor can it leave an optional input out before a given one: an input named
// `_none` becomes the empty name (in subgraphs too):
//   y = Loop <body = ...> (_none, cond, x)
//
//===----------------------------------------------------------------------===//

#include "onnx/defs/parser.h"

#include <cmath>
#include <cstring>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

/// Prints a TensorProto file as JSON: {"dims": [...], "dtype": N,
/// "values": [...]}, for test scripts that have no ONNX Python package.
static int printTensorJson(const char *path) {
  std::ifstream in(path, std::ios::binary);
  onnx::TensorProto tensor;
  if (!in || !tensor.ParseFromIstream(&in)) {
    std::cerr << "onnx-text2pb: cannot read tensor '" << path << "'\n";
    return 1;
  }
  std::cout << "{\"dims\": [";
  int64_t count = 1;
  for (int i = 0; i < tensor.dims_size(); ++i) {
    std::cout << (i ? ", " : "") << tensor.dims(i);
    count *= tensor.dims(i);
  }
  std::cout << "], \"dtype\": " << tensor.data_type() << ", \"values\": [";
  const std::string &raw = tensor.raw_data();
  auto emit = [&](int64_t i, double v) {
    std::cout << (i ? ", " : "");
    if (v != v)
      std::cout << "\"nan\"";
    else if (v == 1.0 / 0.0)
      std::cout << "\"inf\"";
    else if (v == -1.0 / 0.0)
      std::cout << "\"-inf\"";
    else
      std::cout.precision(17), std::cout << v;
  };
  auto halfToFloat = [](uint16_t h) {
    uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float v;
    if (exp == 0)
      v = std::ldexp(float(mant), -24);
    else if (exp == 31)
      v = mant ? NAN : INFINITY;
    else
      v = std::ldexp(float(mant | 0x400), int(exp) - 25);
    return sign ? -v : v;
  };
  for (int64_t i = 0; i < count; ++i) {
    double v = 0;
    switch (tensor.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (!raw.empty()) {
        float f;
        std::memcpy(&f, raw.data() + 4 * i, 4);
        v = f;
      } else {
        v = tensor.float_data(i);
      }
      break;
    case onnx::TensorProto::DOUBLE:
      if (!raw.empty())
        std::memcpy(&v, raw.data() + 8 * i, 8);
      else
        v = tensor.double_data(i);
      break;
    case onnx::TensorProto::INT64:
      if (!raw.empty()) {
        int64_t x;
        std::memcpy(&x, raw.data() + 8 * i, 8);
        v = double(x);
      } else {
        v = double(tensor.int64_data(i));
      }
      break;
    case onnx::TensorProto::INT32:
      if (!raw.empty()) {
        int32_t x;
        std::memcpy(&x, raw.data() + 4 * i, 4);
        v = x;
      } else {
        v = tensor.int32_data(i);
      }
      break;
    case onnx::TensorProto::INT8:
      v = !raw.empty() ? double(int8_t(raw[i])) : tensor.int32_data(i);
      break;
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL:
      v = !raw.empty() ? double(uint8_t(raw[i])) : tensor.int32_data(i);
      break;
    case onnx::TensorProto::FLOAT16: {
      uint16_t h;
      if (!raw.empty())
        std::memcpy(&h, raw.data() + 2 * i, 2);
      else
        h = uint16_t(tensor.int32_data(i));
      v = halfToFloat(h);
      break;
    }
    default:
      std::cerr << "onnx-text2pb: unsupported tensor type "
                << tensor.data_type() << "\n";
      return 1;
    }
    emit(i, v);
  }
  std::cout << "]}\n";
  return 0;
}

/// Renames node inputs `_none` to the empty name (an omitted optional
/// input), in `graph` and its subgraphs.
static void clearNoneInputs(onnx::GraphProto &graph) {
  for (onnx::NodeProto &node : *graph.mutable_node()) {
    for (std::string &input : *node.mutable_input())
      if (input == "_none")
        input.clear();
    for (onnx::AttributeProto &attr : *node.mutable_attribute()) {
      if (attr.has_g())
        clearNoneInputs(*attr.mutable_g());
      for (onnx::GraphProto &g : *attr.mutable_graphs())
        clearNoneInputs(g);
    }
  }
}

int main(int argc, char **argv) {
  if (argc == 3 && std::string(argv[1]) == "--tensor-json")
    return printTensorJson(argv[2]);
  if (argc != 3) {
    std::cerr << "usage: onnx-text2pb INPUT.onnxtxt OUTPUT.onnx\n"
                 "       onnx-text2pb --tensor-json TENSOR.pb\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "onnx-text2pb: cannot open '" << argv[1] << "'\n";
    return 1;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  // The parser keeps a pointer into the text: it must outlive parsing.
  std::string text = buffer.str();
  onnx::ModelProto model;
  onnx::OnnxParser parser(text.c_str());
  auto status = parser.Parse(model);
  if (!status.IsOK()) {
    std::cerr << "onnx-text2pb: " << argv[1] << ": " << status.ErrorMessage()
              << "\n";
    return 1;
  }
  clearNoneInputs(*model.mutable_graph());
  for (onnx::NodeProto &node : *model.mutable_graph()->mutable_node()) {
    auto *attrs = node.mutable_attribute();
    for (int i = 0; i < attrs->size(); ++i) {
      if (attrs->Get(i).name() == "name" &&
          attrs->Get(i).type() == onnx::AttributeProto::STRING) {
        node.set_name(attrs->Get(i).s());
        attrs->DeleteSubrange(i, 1);
        break;
      }
    }
  }
  std::ofstream out(argv[2], std::ios::binary);
  if (!out || !model.SerializeToOstream(&out)) {
    std::cerr << "onnx-text2pb: cannot write '" << argv[2] << "'\n";
    return 1;
  }
  return 0;
}
