// The optimizing CPU pipeline: quantized IR in, the LLVM dialect out, with
// vector code for elementwise ops and a packed-weight ukernel call for the
// linear layer.
// RUN: qopt %s --qopt-cpu-codegen | FileCheck %s
// RUN: qopt %s --pass-pipeline='builtin.module(qopt-cpu-codegen{vector-width=16})' | FileCheck %s --check-prefix=AVX512
// RUN: qopt %s --pass-pipeline='builtin.module(qopt-cpu-codegen{ukernels=false vectorize=false})' | FileCheck %s --check-prefix=SCALAR

// RUN: qopt %s --pass-pipeline='builtin.module(qopt-cpu-codegen{parallel=false})' | FileCheck %s --check-prefix=SERIAL

// CHECK-DAG: llvm.func @qrt_uk_sgemm_packed(i64, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, i64, i64, i32)
// CHECK-DAG: llvm.mlir.global private constant @{{.*}}_packed
// The elementwise multiply runs on vectors, in a loop outlined for the
// thread pool.
// CHECK-LABEL: llvm.func @layer_parallel(
// CHECK: llvm.fmul {{.*}} : vector<8xf32>
// CHECK-LABEL: llvm.func internal @layer_parallel_task(
// CHECK: llvm.call @layer_parallel(
// CHECK-LABEL: llvm.func @layer(
// CHECK-NOT: linalg.
// CHECK-NOT: memref.
// Buffers come from libqrt's allocator, and every one is freed except the
// result.
// CHECK: %[[BUF:.*]] = llvm.call @_mlir_memref_to_llvm_alloc
// CHECK: llvm.call @qrt_parallel_for({{.*}}) : (i64, i64, i64, !llvm.ptr, !llvm.ptr) -> ()
// CHECK: llvm.call @qrt_uk_sgemm_packed
// CHECK: llvm.call @_mlir_memref_to_llvm_free(%[[BUF]])
// CHECK: llvm.return
// AVX512-LABEL: llvm.func @layer_parallel(
// AVX512: vector<16xf32>
// SCALAR-LABEL: llvm.func @layer(
// SCALAR-NOT: qrt_uk
// SCALAR-NOT: vector<
// SCALAR: llvm.return
// SERIAL-NOT: qrt_parallel_for
// SERIAL-NOT: @layer_parallel
// SERIAL-LABEL: llvm.func @layer(
// SERIAL: llvm.fmul {{.*}} : vector<8xf32>
// SERIAL: llvm.call @qrt_uk_sgemm_packed
func.func @layer(%x: tensor<?x8xf32>) -> tensor<?x20xf32> {
  %w = arith.constant dense<[[-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, -0.75], [-0.5, -0.25, 0.0, 0.25, 0.5, 0.75, -0.75, -0.5], [-0.25, 0.0, 0.25, 0.5, 0.75, -0.75, -0.5, -0.25], [0.0, 0.25, 0.5, 0.75, -0.75, -0.5, -0.25, 0.0], [0.25, 0.5, 0.75, -0.75, -0.5, -0.25, 0.0, 0.25], [0.5, 0.75, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5], [0.75, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75], [-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, -0.75], [-0.5, -0.25, 0.0, 0.25, 0.5, 0.75, -0.75, -0.5], [-0.25, 0.0, 0.25, 0.5, 0.75, -0.75, -0.5, -0.25], [0.0, 0.25, 0.5, 0.75, -0.75, -0.5, -0.25, 0.0], [0.25, 0.5, 0.75, -0.75, -0.5, -0.25, 0.0, 0.25], [0.5, 0.75, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5], [0.75, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75], [-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, -0.75], [-0.5, -0.25, 0.0, 0.25, 0.5, 0.75, -0.75, -0.5], [-0.25, 0.0, 0.25, 0.5, 0.75, -0.75, -0.5, -0.25], [0.0, 0.25, 0.5, 0.75, -0.75, -0.5, -0.25, 0.0], [0.25, 0.5, 0.75, -0.75, -0.5, -0.25, 0.0, 0.25], [0.5, 0.75, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5]]> : tensor<20x8xf32>
  %e = arith.constant dense<2.0> : tensor<8xf32>
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x8xf32>
  %init = tensor.empty(%n) : tensor<?x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %e : tensor<?x8xf32>, tensor<8xf32>) outs(%init : tensor<?x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %0 = arith.mulf %a, %b : f32
    linalg.yield %0 : f32
  } -> tensor<?x8xf32>
  %y = qopt.linear %s, %w transpose_weight : tensor<?x8xf32>, tensor<20x8xf32> -> tensor<?x20xf32>
  return %y : tensor<?x20xf32>
}
