#!/usr/bin/env bash
# The main job, end to end. Installs what is missing, builds, then runs the
# bundled example through qopt and executes the result.
#
# Today (foundation): the bundled example is a quantized linear layer written
# in the qopt dialect (examples/int4-linear.mlir); qopt lowers it to linalg,
# the upstream CPU path compiles it, mlir-runner executes it and its output is
# compared against the float layer. The ONNX import, quantization, artifact
# and evaluation issues replace this with: import the bundled model, quantize
# it (RTN int4 g128), compile baseline and candidate, and print the
# per-capability evaluation table.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_deps
configure_and_build

example="$QOPT_ROOT/examples/int4-linear.mlir"
log "lowering $example with qopt-lower-to-llvm and running it"
"$QOPT_BUILD/bin/qopt" "$example" --qopt-lower-to-llvm \
| "$LLVM_BIN/mlir-runner" -e main -entry-point-result=void \
    -shared-libs=/usr/lib/llvm-22/lib/libmlir_runner_utils.so \
    -shared-libs=/usr/lib/llvm-22/lib/libmlir_c_runner_utils.so
