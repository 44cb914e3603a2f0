// RUN: qopt %s --qopt-gpu-generate-w4-gemm="max-m=1 tiles-per-warp=1 groups-per-iter=1" \
// RUN:   --qopt-gpu-lower-to-nvvm | FileCheck %s

// After qopt-gpu-lower-to-nvvm the kernel is LLVM + NVVM only: ready for
// gpu-module-to-binary.
// CHECK: gpu.module @qopt_gpu_kernels
// CHECK-LABEL: llvm.func @qopt_w4g128_gemm_m1_t1_w4_u1
// CHECK-SAME: (%{{.*}}: !llvm.ptr<1> {llvm.noalias, llvm.readonly}, %{{.*}}: !llvm.ptr<1> {llvm.noalias, llvm.readonly}, %{{.*}}: !llvm.ptr<1> {llvm.noalias, llvm.readonly}, %{{.*}}: !llvm.ptr<1> {llvm.noalias}, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32)
// CHECK-SAME: gpu.kernel
// CHECK-SAME: nvvm.kernel, nvvm.maxntid = array<i32: 128, 1, 1>
// CHECK: nvvm.read.ptx.sreg.tid.x
// CHECK: nvvm.read.ptx.sreg.nctaid.y
// CHECK: llvm.cond_br
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK: llvm.atomicrmw fadd
// CHECK-NOT: scf.
// CHECK-NOT: arith.
// CHECK-NOT: gpu.thread_id
module {
}
