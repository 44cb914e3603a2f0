//===- onnx-text2pb.cpp - ONNX text format to binary ModelProto -----------===//
//
// Usage: onnx-text2pb INPUT.onnxtxt OUTPUT.onnx
//
// A test utility: lit tests keep their ONNX models in the readable ONNX text
// format (onnx/defs/parser.h) and turn them into binary models with this.
//
// The text format of Debian's ONNX (1.12) cannot name nodes; by our
// convention a string attribute `name` on a node becomes the node's name:
//   Y = MatMul <name = "/model/fc1/MatMul"> (X, W)
//
//===----------------------------------------------------------------------===//

#include "onnx/defs/parser.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char **argv) {
  if (argc != 3) {
    std::cerr << "usage: onnx-text2pb INPUT.onnxtxt OUTPUT.onnx\n";
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
