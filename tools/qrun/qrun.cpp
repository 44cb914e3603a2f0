//===- qrun.cpp - run, benchmark and check qopt artifacts -----------------===//
//
//   qrun run model.so --input input_ids=ids.npy --output-dir out/
//   qrun bench model.so --shape input_ids=1x128
//   qrun conformance /usr/share/libonnx-testdata/data/node --json out.json
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/QRun.h"

int main(int argc, char **argv) { return qrun::qrunMain(argc, argv); }
