//===- qopt-compile.cpp - models to native artifacts ----------------------===//
//
//   qopt-compile model.onnx -o model.so      (writes model.so.weights too)
//   qopt-compile model.mlirbc -o model.so --pre-pipeline='...'
//
//===----------------------------------------------------------------------===//

#include "qopt/Tools/QOptCompileMain.h"

int main(int argc, char **argv) {
  return mlir::qopt::qoptCompileMain(argc, argv);
}
