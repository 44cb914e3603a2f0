// Every qopt op and attribute, and dense_resource weights and statistics,
// survive MLIR bytecode. Large tensors stay blobs: the bytecode holds them
// out of line and the text form prints them in the resource section.
// RUN: qopt %s -emit-bytecode -o %t.mlirbc
// RUN: qopt %t.mlirbc | FileCheck %s
// RUN: qopt %t.mlirbc -emit-bytecode | qopt | FileCheck %s

// CHECK-LABEL: func.func @all_ops
func.func @all_ops(%x: tensor<3x8xf32>, %s: tensor<2xf32>, %sg: tensor<2x1xf32>, %z: tensor<2x1xi4>, %perm: tensor<8xi32>, %xq: tensor<3x8xi8>, %xs: tensor<3xf32>, %sm: tensor<8xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x8xf32>, tensor<2x8xf32>) {
  // CHECK: %[[W:.*]] = arith.constant dense_resource<weight_blob> : tensor<2x4xi8>
  %w = arith.constant dense_resource<weight_blob> : tensor<2x4xi8>
  // CHECK: qopt.weight_only_linear %{{.*}}, %[[W]] scale(%{{.*}} : tensor<2xf32>) scheme <storage = i4, granularity = per_channel, axis = 0>
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<2xf32>) scheme <storage = i4, granularity = per_channel, axis = 0> : tensor<3x8xf32>, tensor<2x4xi8> -> tensor<3x2xf32>
  // CHECK: %[[Q:.*]] = qopt.unpack %[[W]] : tensor<2x4xi8> -> tensor<2x8xi4>
  %q = qopt.unpack %w : tensor<2x4xi8> -> tensor<2x8xi4>
  // CHECK: qopt.pack %[[Q]] : tensor<2x8xi4> -> tensor<2x4xi8>
  %p = qopt.pack %q : tensor<2x8xi4> -> tensor<2x4xi8>
  // CHECK: qopt.dequantize %[[Q]] scale(%{{.*}} : tensor<2x1xf32>) zero_point(%{{.*}} : tensor<2x1xi4>) act_order(%{{.*}} : tensor<8xi32>) scheme <storage = ui4, granularity = per_group, axis = 1, group_size = 8, symmetric = false>
  %d = qopt.dequantize %q scale(%sg : tensor<2x1xf32>) zero_point(%z : tensor<2x1xi4>) act_order(%perm : tensor<8xi32>) scheme <storage = ui4, granularity = per_group, axis = 1, group_size = 8, symmetric = false> : tensor<2x8xi4> -> tensor<2x8xf32>
  // CHECK: qopt.quantized_linear {{.*}} schemes(<storage = i8, granularity = per_token>, <storage = i4, granularity = per_channel, axis = 0>)
  %y2 = qopt.quantized_linear %xq, %p input_scale(%xs : tensor<3xf32>) weight_scale(%s : tensor<2xf32>) schemes(<storage = i8, granularity = per_token>, <storage = i4, granularity = per_channel, axis = 0>) : tensor<3x8xi8>, tensor<2x4xi8> -> tensor<3x2xf32>
  // CHECK: qopt.smooth
  %sx0 = qopt.smooth %x, %sm : tensor<3x8xf32>, tensor<8xf32>
  // CHECK: qopt.permute %{{.*}} [7, 0, 6, 1, 5, 2, 4, 3] : tensor<3x8xf32>
  %sx = qopt.permute %sx0 [7, 0, 6, 1, 5, 2, 4, 3] : tensor<3x8xf32>
  // CHECK: qopt.linear {{.*}} transpose_weight
  %lw = arith.constant dense<1.0> : tensor<8x8xf32>
  %lin = qopt.linear %sx, %lw transpose_weight : tensor<3x8xf32>, tensor<8x8xf32> -> tensor<3x8xf32>
  // CHECK: qopt.observe %{{.*}} name "fc1:input" observer <kind = hessian> stats <samples = 8, hessian = dense_resource<hessian_blob> : tensor<8x8xf32>>
  %o = qopt.observe %lin name "fc1:input" observer <kind = hessian> stats <samples = 8, hessian = dense_resource<hessian_blob> : tensor<8x8xf32>> : tensor<3x8xf32>
  // CHECK: qopt.quantize {{.*}} scheme <storage = f8E5M2, granularity = per_tensor>
  %s0 = tensor.extract_slice %s[0] [1] [1] : tensor<2xf32> to tensor<1xf32>
  %st = tensor.collapse_shape %s0 [] : tensor<1xf32> into tensor<f32>
  %f8 = qopt.quantize %d scale(%st : tensor<f32>) scheme <storage = f8E5M2, granularity = per_tensor> : tensor<2x8xf32> -> tensor<2x8xf8E5M2>
  %back = qopt.dequantize %f8 scale(%st : tensor<f32>) scheme <storage = f8E5M2, granularity = per_tensor> : tensor<2x8xf8E5M2> -> tensor<2x8xf32>
  return %y, %y2, %o, %back : tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x8xf32>, tensor<2x8xf32>
}

// CHECK: dialect_resources
// CHECK-DAG: weight_blob: "0x0100000001020304F0E0D0C0"
// CHECK-DAG: hessian_blob: "0x04000000{{(0000803F)+}}"
{-#
  dialect_resources: {
    builtin: {
      weight_blob: "0x0100000001020304F0E0D0C0",
      hessian_blob: "0x040000000000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F"
    }
  }
#-}
