// RUN: qopt %s --split-input-file --verify-diagnostics \
// RUN:   --qopt-gpu-generate-w4-gemm="max-m=1 tiles-per-warp=2 groups-per-iter=1" \
// RUN:   | FileCheck %s --check-prefix=M1
// RUN: qopt %s --split-input-file \
// RUN:   --qopt-gpu-generate-w4-gemm="max-m=16 tiles-per-warp=1 groups-per-iter=1" \
// RUN:   | FileCheck %s --check-prefix=M16
// RUN: qopt %s --split-input-file \
// RUN:   --qopt-gpu-generate-w4-gemm="max-m=1 tiles-per-warp=1 groups-per-iter=1 prefetch=true" \
// RUN:   | FileCheck %s --check-prefix=PRE

// The decode kernel for M = 1: one row block of the MMA's A operand (rows
// 8..15 are constant zeros), 2 tiles x 1 group x 8 k16 steps = 16 MMAs.
// M1: module attributes {gpu.container_module}
// M1: gpu.module @qopt_gpu_kernels
// M1-LABEL: gpu.func @qopt_w4g128_gemm_m1_t2_w4_u1
// M1-SAME: (%[[A:.*]]: !llvm.ptr<1> {llvm.noalias, llvm.readonly}, %[[W:.*]]: !llvm.ptr<1> {llvm.noalias, llvm.readonly}, %[[S:.*]]: !llvm.ptr<1> {llvm.noalias, llvm.readonly}, %[[C:.*]]: !llvm.ptr<1> {llvm.noalias}, %[[M:.*]]: i32, %[[N:.*]]: i32, %[[K:.*]]: i32, %[[GPS:.*]]: i32)
// M1-SAME: kernel
// M1-SAME: known_block_size = array<i32: 128, 1, 1>
// M1: gpu.thread_id x
// M1: gpu.grid_dim y
// M1: scf.if
// M1: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32) : i32
// Every load of the iteration comes before the first MMA: 4 x 16 bytes of
// A's row, then per tile 16 bytes of weights and the scale pair.
// M1-COUNT-4: llvm.load %{{.*}} invariant {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// M1: llvm.load %{{.*}} invariant {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// M1: llvm.load %{{.*}} invariant {alignment = 4 : i64} : !llvm.ptr<1> -> i32
// M1: llvm.load %{{.*}} invariant {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// M1: llvm.load %{{.*}} invariant {alignment = 4 : i64} : !llvm.ptr<1> -> i32
// M1-NOT: llvm.load
// Dequantization in registers: masks into 0x6400, then u - 8.
// M1: %[[MAGIC:.*]] = arith.constant 1677747200 : i32
// M1: %[[LOMASK:.*]] = arith.constant 983055 : i32
// M1: %[[HIMASK:.*]] = arith.constant 15728880 : i32
// M1: %[[LO:.*]] = arith.andi %{{.*}}, %[[LOMASK]] : i32
// M1: %[[LOBITS:.*]] = arith.ori %[[LO]], %[[MAGIC]] : i32
// M1: %[[LOH:.*]] = llvm.bitcast %[[LOBITS]] : i32 to vector<2xf16>
// M1: arith.subf %[[LOH]], %{{.*}} : vector<2xf16>
// M1: %[[HI:.*]] = arith.andi %{{.*}}, %[[HIMASK]] : i32
// M1: %[[HIBITS:.*]] = arith.ori %[[HI]], %[[MAGIC]] : i32
// M1: %[[HIH:.*]] = llvm.bitcast %[[HIBITS]] : i32 to vector<2xf16>
// M1: llvm.intr.fma(%[[HIH]], %{{.*}}, %{{.*}}) : (vector<2xf16>, vector<2xf16>, vector<2xf16>) -> vector<2xf16>
// Rows 8..15 of A are a zero constant; each group's first MMA starts from
// zero (the group's scale multiplies its sum).
// M1: nvvm.mma.sync A[%{{.*}}, %[[ZH:.*]], %{{.*}}, %[[ZH]]] B[%{{.*}}, %{{.*}}] C[%[[ZF:.*]], %[[ZF]], %[[ZF]], %[[ZF]]] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// M1-COUNT-15: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// M1-NOT: nvvm.mma.sync
// M1: scf.yield
// One split stores, several add atomically; rows 8..15 are never written.
// M1-COUNT-4: llvm.store
// M1-NOT: llvm.store
// M1: llvm.atomicrmw fadd
// M1: gpu.return

// M16-LABEL: gpu.func @qopt_w4g128_gemm_m16_t1_w4_u1
// Two row blocks of A: 8 loads of 16 bytes, 8 MMAs, all four results of
// each stored.
// M16-COUNT-8: llvm.load %{{.*}} invariant {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// M16-COUNT-8: nvvm.mma.sync
// M16-NOT: nvvm.mma.sync
// M16-COUNT-4: llvm.atomicrmw fadd

// With prefetch, the first iteration's loads come before the loop and ride
// in its iter_args; each iteration loads the next one's, if any, before its
// MMAs.
// PRE-LABEL: gpu.func @qopt_w4g128_gemm_m1_t1_w4_u1_p
// PRE-COUNT-5: llvm.load %{{.*}} invariant {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// PRE: llvm.load %{{.*}} invariant {alignment = 4 : i64} : !llvm.ptr<1> -> i32
// PRE: scf.for %[[KG:.*]] = {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, i32) : i32
// PRE: %[[NEXT:.*]] = arith.addi %[[KG]], %{{.*}} : i32
// PRE: %[[MORE:.*]] = arith.cmpi ult, %[[NEXT]], %{{.*}} : i32
// PRE: scf.if %[[MORE]] -> (vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, i32)
// PRE-COUNT-5: llvm.load
// PRE: } else {
// PRE-NOT: llvm.load
// PRE: nvvm.mma.sync
module {
}

// -----

// A second run adds a kernel of another shape next to the first and leaves
// an existing one alone.
// M1-LABEL: gpu.module @qopt_gpu_kernels
// M1: gpu.func @existing
// M1: gpu.func @qopt_w4g128_gemm_m1_t2_w4_u1
// M16-LABEL: gpu.module @qopt_gpu_kernels
// M16: gpu.func @existing
// M16: gpu.func @qopt_w4g128_gemm_m16_t1_w4_u1
// PRE-LABEL: gpu.module @qopt_gpu_kernels
// PRE: gpu.func @existing
// PRE: gpu.func @qopt_w4g128_gemm_m1_t1_w4_u1_p
module attributes {gpu.container_module} {
  gpu.module @qopt_gpu_kernels {
    gpu.func @existing() kernel {
      gpu.return
    }
  }
}
