// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-gemm="element-type=f64"
// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-gemm="output-type=s32"
// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-gemm="block-n=72"
// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-gemm="block-n=512"
// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-gemm="stages=1"
// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-gemm="consumers=3"
// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-gemm="block-n=256 consumers=1"
// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-gemm="block-n=256 stages=5"
// RUN: not qopt %s --qopt-gpu-generate-gemm="block-n=256 consumers=1" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ACC
// RUN: not qopt %s --qopt-gpu-generate-gemm="block-n=256 stages=5" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SMEM
// RUN: not qopt %s --qopt-gpu-generate-gemm="element-type=f64" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TYPE

// Unknown types and out-of-range shapes are diagnosed at the module, which
// is left as it was.
// expected-error @+1 {{GEMM kernel: }}
module {
}

// ACC: GEMM kernel: 256 accumulators per thread (block-n=256, consumers=1) exceed 128
// SMEM: GEMM kernel: 245888 bytes of shared memory (block-n=256, stages=5) exceed sm_90's 232448
// TYPE: GEMM kernel: unknown element type 'f64' (expected f16, bf16, s8 or e4m3)
