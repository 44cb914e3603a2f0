// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-w4-gemm="max-m=17"
// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-w4-gemm="tiles-per-warp=0"
// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-w4-gemm="warps-per-block=33"
// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-w4-gemm="groups-per-iter=9"

// Out-of-range options are diagnosed at the module.
// expected-error @+1 {{int4 GEMM kernel: }}
module {
}
