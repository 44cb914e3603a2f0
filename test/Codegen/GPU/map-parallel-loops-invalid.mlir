// RUN: qopt %s -verify-diagnostics \
// RUN:   --pass-pipeline='builtin.module(func.func(qopt-gpu-map-parallel-loops{block-size=100}))'

// expected-error @below {{qopt-gpu-map-parallel-loops: block-size 100 is not a multiple of 32 from 32 to 1024}}
func.func @bad_block_size() {
  return
}
