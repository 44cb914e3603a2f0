//===- qopt.cpp - the qopt pass driver ------------------------------------===//
//
// `qopt` is mlir-opt with qopt's dialects, passes and pipelines registered,
// plus every upstream dialect and pass, so build systems can run any
// `--pass-pipeline` over quantized IR and plugins can add their own passes.
//
//===----------------------------------------------------------------------===//

#include "qopt/Tools/QOptOptMain.h"

int main(int argc, char **argv) { return mlir::qopt::qoptOptMain(argc, argv); }
