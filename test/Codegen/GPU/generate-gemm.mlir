// RUN: qopt %s --split-input-file \
// RUN:   --qopt-gpu-generate-gemm="element-type=f16 block-n=128 stages=4" \
// RUN:   | FileCheck %s --check-prefix=F16
// RUN: qopt %s --split-input-file \
// RUN:   --qopt-gpu-generate-gemm="element-type=s8 output-type=f32 block-n=64 stages=2" \
// RUN:   | FileCheck %s --check-prefix=S8
// RUN: qopt %s --split-input-file \
// RUN:   --qopt-gpu-generate-gemm="element-type=e4m3 block-n=256 stages=3" \
// RUN:   | FileCheck %s --check-prefix=FP8
// RUN: qopt %s --split-input-file \
// RUN:   --qopt-gpu-generate-gemm="element-type=bf16 block-n=128 consumers=1" \
// RUN:   | FileCheck %s --check-prefix=ONE

// fp16 with two consumer warpgroups: 384 threads, the dynamic shared memory
// aligned for the 128-byte swizzle, mbarriers initialized by one thread
// (4 full with one arrival, 4 empty with one per consumer), then the
// producer (TMA) and consumer (wgmma) branches.
// F16: module attributes {gpu.container_module}
// F16: gpu.module @qopt_gpu_kernels
// F16: llvm.mlir.global external @qopt_gemm_smem() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<0 x i8>
// F16-LABEL: gpu.func @qopt_gemm_f16_f16_n128_s4_c2
// F16-SAME: (%[[MAPS:.*]]: !llvm.ptr<1> {llvm.readonly}, %[[C:.*]]: !llvm.ptr<1> {llvm.noalias}, %{{.*}}: !llvm.ptr<1> {llvm.readonly}, %{{.*}}: !llvm.ptr<1> {llvm.readonly}, %[[M:.*]]: i32, %[[N:.*]]: i32, %[[K:.*]]: i32)
// F16-SAME: kernel
// F16-SAME: known_block_size = array<i32: 384, 1, 1>
// F16-SAME: nvvm.minctasm = 1 : i32
// F16-COUNT-4: nvvm.mbarrier.init %{{.*}}, %{{.*}} : !llvm.ptr<3>, i32
// F16: nvvm.fence.mbarrier.init
// F16: gpu.barrier
// Producer: fewer registers, one thread, per k step wait for the stage to be
// free, announce 32 KB (128 + 128 rows of 128 bytes), two TMA loads.
// F16: nvvm.setmaxregister  decrease 40
// F16: %[[GMAPS:.*]] = llvm.addrspacecast %[[MAPS]] : !llvm.ptr<1> to !llvm.ptr
// F16: scf.for
// F16: nvvm.mbarrier.try_wait.parity
// F16: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c32768_i32
// F16: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.*}}, %[[GMAPS]], %{{.*}}, box[%{{.*}}, %{{.*}}] : !llvm.ptr<7>, !llvm.ptr
// F16: nvvm.cp.async.bulk.tensor.shared.cluster.global
// Consumers: more registers; the peeled first k step overwrites the
// accumulators (D scale zero), then four m64n128k16 per step.
// F16: nvvm.setmaxregister  increase 232
// F16: nvvm.mbarrier.try_wait.parity
// F16: nvvm.wgmma.fence.aligned
// F16: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 128, k = 16>, D[<f32>, <zero>], A[<f16>, <one>, <row>], B[<f16>, <one>, <col>]
// F16-COUNT-3: nvvm.wgmma.mma_async {{.*}} D[<f32>, <one>]
// F16: nvvm.wgmma.commit.group.sync.aligned
// F16: nvvm.wgmma.wait.group.sync.aligned 1
// F16: scf.for {{.*}} iter_args
// F16: nvvm.mbarrier.try_wait.parity
// F16-COUNT-4: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 128, k = 16>, D[<f32>, <one>]
// F16: nvvm.wgmma.wait.group.sync.aligned 1
// F16: nvvm.mbarrier.arrive
// F16: nvvm.wgmma.wait.group.sync.aligned 0
// Unscaled f16 output: rounded pairs, no scale loads.
// F16-NOT: llvm.load
// F16: arith.truncf %{{.*}} : vector<2xf32> to vector<2xf16>
// F16: llvm.store %{{.*}} {alignment = 4 : i64} : vector<2xf16>, !llvm.ptr<1>
// F16: gpu.return

// W8A8: s8 operands accumulate in s32 (k32 per wgmma), converted and
// scaled by the row's activation scale and the column pair's weight scales.
// S8-LABEL: gpu.func @qopt_gemm_s8_f32_n64_s2_c2
// S8: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c24576_i32
// S8: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 64, k = 32>, D[<s32>, <zero>], A[<s8>, <one>, <row>], B[<s8>, <one>, <col>] : !llvm.struct<(i32, i32,
// S8: nvvm.wgmma.wait.group.sync.aligned 0
// S8: llvm.load %{{.*}} invariant {alignment = 4 : i64} : !llvm.ptr<1> -> f32
// S8: arith.sitofp %{{.*}} : i32 to f32
// S8: llvm.load %{{.*}} invariant {alignment = 8 : i64} : !llvm.ptr<1> -> vector<2xf32>
// S8: arith.mulf
// S8-NOT: arith.truncf
// S8: llvm.store %{{.*}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<1>

// FP8 E4M3: f32 accumulation, scaled like s8, 256-column tiles.
// FP8-LABEL: gpu.func @qopt_gemm_e4m3_f16_n256_s3_c2
// FP8: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c49152_i32
// FP8: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 256, k = 32>, D[<f32>, <zero>], A[<e4m3>, <one>, <row>], B[<e4m3>, <one>, <col>]
// FP8-NOT: arith.sitofp
// FP8: llvm.load %{{.*}} invariant {alignment = 8 : i64} : !llvm.ptr<1> -> vector<2xf32>
// FP8: arith.truncf

// One consumer warpgroup: 256 threads, no register moves, two 64-row
// subtiles per k step (8 wgmma).
// ONE-LABEL: gpu.func @qopt_gemm_bf16_f16_n128_s4_c1
// ONE-SAME: known_block_size = array<i32: 256, 1, 1>
// ONE-NOT: nvvm.setmaxregister
// ONE: scf.for {{.*}} iter_args({{.*}}, {{.*}}) ->
// ONE-COUNT-8: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 128, k = 16>, D[<f32>, <one>], A[<bf16>
// ONE-NOT: nvvm.wgmma.mma_async
// ONE: nvvm.wgmma.wait.group.sync.aligned 1
module {
}

// -----

// An existing kernel module is reused and the kernel is added once.
// F16-LABEL: gpu.module @qopt_gpu_kernels
// F16: gpu.func @existing
// F16: gpu.func @qopt_gemm_f16_f16_n128_s4_c2
module attributes {gpu.container_module} {
  gpu.module @qopt_gpu_kernels {
    gpu.func @existing() kernel {
      gpu.return
    }
  }
}
