//===- qopt-import.cpp - ONNX models into MLIR ----------------------------===//
//
//   qopt-import model.onnx -o model.mlirbc [--input-shape input_ids=1x128]
//
//===----------------------------------------------------------------------===//

#include "qopt/Tools/QOptImportMain.h"

int main(int argc, char **argv) {
  return mlir::qopt::qoptImportMain(argc, argv);
}
