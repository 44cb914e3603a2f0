// The reference CPU pipeline: quantized IR in, only the LLVM dialect out.
// RUN: qopt %s --qopt-lower-to-llvm | FileCheck %s
// RUN: qopt %s --pass-pipeline='builtin.module(qopt-lower-to-llvm)' | FileCheck %s

// erf has no LLVM intrinsic: it becomes a libm call.
// CHECK: llvm.func @erff(f32) -> f32
// CHECK-LABEL: llvm.func @layer
// CHECK-NOT: qopt.
// CHECK-NOT: linalg.
// CHECK-NOT: memref.
// CHECK-NOT: tensor.
// CHECK: llvm.intr.roundeven
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @gelu
// CHECK: llvm.call @erff
func.func @layer(%x: tensor<2x8xf32>, %w: tensor<4x4xi8>, %s: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2x8xi8>) {
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<4xf32>) scheme <storage = i4, granularity = per_channel, axis = 0> : tensor<2x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  %one = arith.constant dense<0.5> : tensor<f32>
  %q = qopt.quantize %x scale(%one : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<2x8xf32> -> tensor<2x8xi8>
  return %y, %q : tensor<2x4xf32>, tensor<2x8xi8>
}

func.func @gelu(%x: f32) -> f32 {
  %e = math.erf %x : f32
  return %e : f32
}
