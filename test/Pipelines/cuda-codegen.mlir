// RUN: qopt %s --qopt-cuda-codegen | FileCheck %s
// RUN: qopt %s --qopt-cuda-codegen='chip=sm_80 block-size=128' \
// RUN:   | FileCheck %s --check-prefix=SM80
// RUN: qopt %s --qopt-cuda-codegen='toolkit=none' \
// RUN:   | FileCheck %s --check-prefix=NOLIBDEVICE

// Each linalg op (the fill, the matmul, the fused bias + tanh) is one
// kernel in a gpu.binary of PTX for sm_90a; the host function allocates
// through the generic allocation functions (qopt-compile turns them into
// libqrt's managed allocator) and launches the kernels on 1-D grids.
// CHECK-LABEL: llvm.func @main(
// CHECK:         llvm.call @_mlir_memref_to_llvm_alloc
// The three launches go to one stream without waiting in between
// (qopt-gpu-async-launches); the host waits once, before returning.
// CHECK:         %[[S:.*]] = llvm.call @mgpuStreamCreate()
// CHECK-NOT:     mgpuStreamSynchronize
// CHECK:         gpu.launch_func <%[[S]] : !llvm.ptr> @main_kernel::@main_kernel blocks in (%{{.*}}, %[[ONE:.*]], %[[ONE]]) threads in (%{{.*}}, %[[ONE]], %[[ONE]]) : i64
// CHECK-NOT:     mgpuStreamSynchronize
// CHECK:         gpu.launch_func <%[[S]] : !llvm.ptr> @main_kernel_0::@main_kernel
// CHECK-NOT:     mgpuStreamSynchronize
// CHECK:         gpu.launch_func <%[[S]] : !llvm.ptr> @main_kernel_1::@main_kernel
// CHECK-NEXT:    llvm.call @mgpuStreamSynchronize(%[[S]])
// CHECK-NOT:     gpu.launch_func
// CHECK:         llvm.return
// CHECK-DAG:   gpu.binary @main_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a">{{.*}}.target sm_90a
// CHECK-DAG:   gpu.binary @main_kernel_0 [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a">
// CHECK-DAG:   gpu.binary @main_kernel_1 [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a">
// The tanh is a polynomial (qopt-approximate-math), no libdevice call.
// CHECK-NOT:   __nv_tanhf

// Without a CUDA toolkit (no libdevice), the polynomial's absolute value is
// PTX's abs.f32 (qopt-gpu-native-math), not an unresolved __nv_fabsf.
// NOLIBDEVICE: gpu.binary @main_kernel_1 {{.*}}abs.f32
// NOLIBDEVICE-NOT: .extern

// With block-size=128: 600 elements in 5 blocks of 128 threads.
// SM80-DAG: %[[C5:.*]] = llvm.mlir.constant(5 : index) : i64
// SM80-DAG: %[[C128:.*]] = llvm.mlir.constant(128 : index) : i64
// SM80: gpu.launch_func <%{{.*}} : !llvm.ptr> @main_kernel::@main_kernel blocks in (%[[C5]], %{{.*}}, %{{.*}}) threads in (%[[C128]], %{{.*}}, %{{.*}}) : i64
// SM80: gpu.binary @main_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_80">{{.*}}.target sm_80
func.func @main(%x: tensor<2x8xf32>) -> tensor<2x300xf32> {
  %w = arith.constant dense<0.5> : tensor<8x300xf32>
  %b = arith.constant dense<0.25> : tensor<300xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x300xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x300xf32>) -> tensor<2x300xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x8xf32>, tensor<8x300xf32>)
                     outs(%f : tensor<2x300xf32>) -> tensor<2x300xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                        affine_map<(d0, d1) -> (d1)>,
                                        affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%m, %b : tensor<2x300xf32>, tensor<300xf32>)
      outs(%e : tensor<2x300xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    %t = math.tanh %s : f32
    linalg.yield %t : f32
  } -> tensor<2x300xf32>
  return %r : tensor<2x300xf32>
}
