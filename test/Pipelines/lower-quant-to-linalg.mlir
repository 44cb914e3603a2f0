// The named pipeline: by flag, by --pass-pipeline, and with its option.
// RUN: qopt %s --qopt-lower-quant-to-linalg | FileCheck %s
// RUN: qopt %s --pass-pipeline='builtin.module(qopt-lower-quant-to-linalg)' | FileCheck %s
// RUN: qopt %s --pass-pipeline='builtin.module(qopt-lower-quant-to-linalg{expand-linear=false})' | FileCheck %s --check-prefix=KEEP

// After the pipeline no quantized type or quantization op is left, and the
// function signature holds plain storage integers.
// CHECK-LABEL: func.func @mixed(%arg0: tensor<2x8xf32>, %arg1: tensor<2x8xi8>) -> (tensor<2x8xf32>, tensor<2x4xf32>)
// CHECK-NOT: quant.
// CHECK-NOT: qopt.
// CHECK: linalg.generic
// CHECK-NOT: quant.
// CHECK-NOT: qopt.
// CHECK: return
// KEEP-LABEL: func.func @mixed
// KEEP-NOT: quant.
// KEEP-NOT: qopt.quantize
// KEEP: qopt.weight_only_linear
func.func @mixed(%x: tensor<2x8xf32>, %q: tensor<2x8x!quant.uniform<i8:f32, 0.5:3>>) -> (tensor<2x8xf32>, tensor<2x4xf32>) {
  %d = quant.dcast %q : tensor<2x8x!quant.uniform<i8:f32, 0.5:3>> to tensor<2x8xf32>
  %w = arith.constant dense<[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]> : tensor<4x4xi8>
  %s = arith.constant dense<0.25> : tensor<f32>
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<2x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return %d, %y : tensor<2x8xf32>, tensor<2x4xf32>
}
