// RUN: qopt %s -split-input-file | FileCheck %s
// Round trip through text twice: the printed form must parse back the same.
// RUN: qopt %s -split-input-file | qopt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @quantize_per_tensor
// CHECK: qopt.quantize %{{.*}} scale(%{{.*}} : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<4x8xf32> -> tensor<4x8xi8>
func.func @quantize_per_tensor(%x: tensor<4x8xf32>, %s: tensor<f32>) -> tensor<4x8xi8> {
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<4x8xf32> -> tensor<4x8xi8>
  return %q : tensor<4x8xi8>
}

// -----

// CHECK-LABEL: func.func @per_channel_narrow
// CHECK: qopt.dequantize %{{.*}} scale(%{{.*}} : tensor<16xf16>) scheme <storage = i8, granularity = per_channel, axis = 0, narrow_range = true> : tensor<16x32xi8> -> tensor<16x32xf32>
func.func @per_channel_narrow(%q: tensor<16x32xi8>, %s: tensor<16xf16>) -> tensor<16x32xf32> {
  %x = qopt.dequantize %q scale(%s : tensor<16xf16>) scheme <storage = i8, granularity = per_channel, axis = 0, narrow_range = true> : tensor<16x32xi8> -> tensor<16x32xf32>
  return %x : tensor<16x32xf32>
}

// -----

// CHECK-LABEL: func.func @per_group_asymmetric_act_order
// CHECK: qopt.quantize %{{.*}} scale(%{{.*}} : tensor<8x2xf32>) zero_point(%{{.*}} : tensor<8x2xi4>) act_order(%{{.*}} : tensor<64xi32>) scheme <storage = ui4, granularity = per_group, axis = 1, group_size = 32, symmetric = false> : tensor<8x64xf32> -> tensor<8x64xi4>
func.func @per_group_asymmetric_act_order(%w: tensor<8x64xf32>, %s: tensor<8x2xf32>, %z: tensor<8x2xi4>, %perm: tensor<64xi32>) -> tensor<8x64xi4> {
  %q = qopt.quantize %w scale(%s : tensor<8x2xf32>) zero_point(%z : tensor<8x2xi4>) act_order(%perm : tensor<64xi32>) scheme <storage = ui4, granularity = per_group, axis = 1, group_size = 32, symmetric = false> : tensor<8x64xf32> -> tensor<8x64xi4>
  return %q : tensor<8x64xi4>
}

// -----

// CHECK-LABEL: func.func @per_token_dynamic
// CHECK: qopt.quantize %{{.*}} scale(%{{.*}} : tensor<?x?xf32>) scheme <storage = i8, granularity = per_token> : tensor<?x?x64xf32> -> tensor<?x?x64xi8>
func.func @per_token_dynamic(%x: tensor<?x?x64xf32>, %s: tensor<?x?xf32>) -> tensor<?x?x64xi8> {
  %q = qopt.quantize %x scale(%s : tensor<?x?xf32>) scheme <storage = i8, granularity = per_token> : tensor<?x?x64xf32> -> tensor<?x?x64xi8>
  return %q : tensor<?x?x64xi8>
}

// -----

// CHECK-LABEL: func.func @fp8_storage
// CHECK: scheme <storage = f8E4M3FN, granularity = per_tensor> : tensor<4xf32> -> tensor<4xf8E4M3FN>
// CHECK: scheme <storage = f8E5M2, granularity = per_tensor> : tensor<4xf32> -> tensor<4xf8E5M2>
func.func @fp8_storage(%x: tensor<4xf32>, %s: tensor<f32>) -> (tensor<4xf8E4M3FN>, tensor<4xf8E5M2>) {
  %a = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = f8E4M3FN, granularity = per_tensor> : tensor<4xf32> -> tensor<4xf8E4M3FN>
  %b = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = f8E5M2, granularity = per_tensor> : tensor<4xf32> -> tensor<4xf8E5M2>
  return %a, %b : tensor<4xf8E4M3FN>, tensor<4xf8E5M2>
}

// -----

// Every storage type the scheme accepts.
// CHECK-LABEL: func.func @storage_types
// CHECK-COUNT-8: qopt.quantize
func.func @storage_types(%x: tensor<8xf32>, %s: tensor<f32>) {
  %0 = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<8xf32> -> tensor<8xi8>
  %1 = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = ui8, granularity = per_tensor> : tensor<8xf32> -> tensor<8xi8>
  %2 = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<8xf32> -> tensor<8xi4>
  %3 = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = ui4, granularity = per_tensor> : tensor<8xf32> -> tensor<8xi4>
  %4 = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i3, granularity = per_tensor> : tensor<8xf32> -> tensor<8xi3>
  %5 = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = ui3, granularity = per_tensor> : tensor<8xf32> -> tensor<8xi3>
  %6 = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = si2, granularity = per_tensor> : tensor<8xf32> -> tensor<8xi2>
  %7 = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = ui2, granularity = per_tensor> : tensor<8xf32> -> tensor<8xi2>
  return
}

// -----

// CHECK-LABEL: func.func @pack_unpack
// CHECK: qopt.pack %{{.*}} : tensor<4x16xi4> -> tensor<4x8xi8>
// CHECK: qopt.unpack %{{.*}} : tensor<4x6xi8> -> tensor<4x16xi3>
// CHECK: qopt.pack %{{.*}} : tensor<?x?xi2> -> tensor<?x?xi8>
func.func @pack_unpack(%a: tensor<4x16xi4>, %b: tensor<4x6xi8>, %c: tensor<?x?xi2>) -> (tensor<4x8xi8>, tensor<4x16xi3>, tensor<?x?xi8>) {
  %0 = qopt.pack %a : tensor<4x16xi4> -> tensor<4x8xi8>
  %1 = qopt.unpack %b : tensor<4x6xi8> -> tensor<4x16xi3>
  %2 = qopt.pack %c : tensor<?x?xi2> -> tensor<?x?xi8>
  return %0, %1, %2 : tensor<4x8xi8>, tensor<4x16xi3>, tensor<?x?xi8>
}

// -----

// CHECK-LABEL: func.func @weight_only_linear
// CHECK: qopt.weight_only_linear %{{.*}}, %{{.*}} scale(%{{.*}} : tensor<32x2xf16>) zero_point(%{{.*}} : tensor<32x2xi4>) bias(%{{.*}} : tensor<32xf32>) scheme <storage = ui4, granularity = per_group, axis = 1, group_size = 64, symmetric = false> : tensor<?x?x128xf32>, tensor<32x64xi8> -> tensor<?x?x32xf32>
func.func @weight_only_linear(%x: tensor<?x?x128xf32>, %w: tensor<32x64xi8>, %s: tensor<32x2xf16>, %z: tensor<32x2xi4>, %b: tensor<32xf32>) -> tensor<?x?x32xf32> {
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<32x2xf16>) zero_point(%z : tensor<32x2xi4>) bias(%b : tensor<32xf32>) scheme <storage = ui4, granularity = per_group, axis = 1, group_size = 64, symmetric = false> : tensor<?x?x128xf32>, tensor<32x64xi8> -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// -----

// CHECK-LABEL: func.func @weight_only_linear_int8
// CHECK: qopt.weight_only_linear %{{.*}}, %{{.*}} scale(%{{.*}} : tensor<32xf32>) scheme <storage = i8, granularity = per_channel, axis = 0> : tensor<4x128xf32>, tensor<32x128xi8> -> tensor<4x32xf32>
func.func @weight_only_linear_int8(%x: tensor<4x128xf32>, %w: tensor<32x128xi8>, %s: tensor<32xf32>) -> tensor<4x32xf32> {
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<32xf32>) scheme <storage = i8, granularity = per_channel, axis = 0> : tensor<4x128xf32>, tensor<32x128xi8> -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// CHECK-LABEL: func.func @quantized_linear
// CHECK: qopt.quantized_linear %{{.*}}, %{{.*}} input_scale(%{{.*}} : tensor<?xf32>) input_zero_point(%{{.*}} : tensor<?xi8>) weight_scale(%{{.*}} : tensor<32xf32>) bias(%{{.*}} : tensor<32xf32>) schemes(<storage = ui8, granularity = per_token, symmetric = false>, <storage = i8, granularity = per_channel, axis = 0>) : tensor<?x128xi8>, tensor<32x128xi8> -> tensor<?x32xf32>
func.func @quantized_linear(%x: tensor<?x128xi8>, %w: tensor<32x128xi8>, %xs: tensor<?xf32>, %xz: tensor<?xi8>, %ws: tensor<32xf32>, %b: tensor<32xf32>) -> tensor<?x32xf32> {
  %y = qopt.quantized_linear %x, %w input_scale(%xs : tensor<?xf32>) input_zero_point(%xz : tensor<?xi8>) weight_scale(%ws : tensor<32xf32>) bias(%b : tensor<32xf32>) schemes(<storage = ui8, granularity = per_token, symmetric = false>, <storage = i8, granularity = per_channel, axis = 0>) : tensor<?x128xi8>, tensor<32x128xi8> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// W4A8 (packed weights) and fp8 x fp8.
// CHECK-LABEL: func.func @quantized_linear_w4a8_fp8
// CHECK: schemes(<storage = i8, granularity = per_tensor>, <storage = i4, granularity = per_channel, axis = 0>) : tensor<2x64xi8>, tensor<16x32xi8> -> tensor<2x16xf32>
// CHECK: schemes(<storage = f8E4M3FN, granularity = per_tensor>, <storage = f8E4M3FN, granularity = per_tensor>) : tensor<2x64xf8E4M3FN>, tensor<16x64xf8E4M3FN> -> tensor<2x16xbf16>
func.func @quantized_linear_w4a8_fp8(%x: tensor<2x64xi8>, %w: tensor<16x32xi8>, %xs: tensor<f32>, %ws: tensor<16xf32>, %xf: tensor<2x64xf8E4M3FN>, %wf: tensor<16x64xf8E4M3FN>) -> (tensor<2x16xf32>, tensor<2x16xbf16>) {
  %0 = qopt.quantized_linear %x, %w input_scale(%xs : tensor<f32>) weight_scale(%ws : tensor<16xf32>) schemes(<storage = i8, granularity = per_tensor>, <storage = i4, granularity = per_channel, axis = 0>) : tensor<2x64xi8>, tensor<16x32xi8> -> tensor<2x16xf32>
  %1 = qopt.quantized_linear %xf, %wf input_scale(%xs : tensor<f32>) weight_scale(%xs : tensor<f32>) schemes(<storage = f8E4M3FN, granularity = per_tensor>, <storage = f8E4M3FN, granularity = per_tensor>) : tensor<2x64xf8E4M3FN>, tensor<16x64xf8E4M3FN> -> tensor<2x16xbf16>
  return %0, %1 : tensor<2x16xf32>, tensor<2x16xbf16>
}

// -----

// CHECK-LABEL: func.func @smooth
// CHECK: qopt.smooth %{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<64xf32>
func.func @smooth(%x: tensor<?x64xf32>, %s: tensor<64xf32>) -> tensor<?x64xf32> {
  %y = qopt.smooth %x, %s : tensor<?x64xf32>, tensor<64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// CHECK-LABEL: func.func @observe
// CHECK: qopt.observe %{{.*}} name "fc1:input" observer <kind = min_max> : tensor<?x4xf32>
// CHECK: qopt.observe %{{.*}} name "fc1:input:absmax" observer <kind = abs_max, axis = 1> stats <samples = 64, absmax = dense<[1.000000e+00, 7.500000e+00, 2.000000e+00, 3.000000e+00]> : tensor<4xf32>> : tensor<?x4xf32>
// CHECK: qopt.observe %{{.*}} name "p" observer <kind = percentile, percentile = 9.990000e+01> stats <samples = 1, min = dense<-1.000000e+00> : tensor<f32>, max = dense<1.000000e+00> : tensor<f32>> : tensor<?x4xf32>
// CHECK: qopt.observe %{{.*}} name "h" observer <kind = histogram, bins = 4> stats <min = dense<0.000000e+00> : tensor<f32>, max = dense<1.000000e+00> : tensor<f32>, histogram = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>> : tensor<?x4xf32>
// CHECK: qopt.observe %{{.*}} name "gptq" observer <kind = hessian> stats <samples = 8, hessian = dense_resource<hessian_blob> : tensor<4x4xf32>> : tensor<?x4xf32>
// CHECK: qopt.observe %{{.*}} name "m" observer <kind = mse> : tensor<?x4xf32>
func.func @observe(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = qopt.observe %x name "fc1:input" observer <kind = min_max> : tensor<?x4xf32>
  %1 = qopt.observe %0 name "fc1:input:absmax" observer <kind = abs_max, axis = 1> stats <samples = 64, absmax = dense<[1.0, 7.5, 2.0, 3.0]> : tensor<4xf32>> : tensor<?x4xf32>
  %2 = qopt.observe %1 name "p" observer <kind = percentile, percentile = 99.9> stats <samples = 1, min = dense<-1.0> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  %3 = qopt.observe %2 name "h" observer <kind = histogram, bins = 4> stats <histogram = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>, min = dense<0.0> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  %4 = qopt.observe %3 name "gptq" observer <kind = hessian> stats <samples = 8, hessian = dense_resource<hessian_blob> : tensor<4x4xf32>> : tensor<?x4xf32>
  %5 = qopt.observe %4 name "m" observer <kind = mse> : tensor<?x4xf32>
  return %5 : tensor<?x4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      hessian_blob: "0x040000000000803F000000000000000000000000000000000000803F000000000000000000000000000000000000803F000000000000000000000000000000000000803F"
    }
  }
#-}

// -----

// CHECK-LABEL: func.func @keep_full_precision
// CHECK: arith.addf %{{.*}}, %{{.*}} {qopt.keep_full_precision} : f32
func.func @keep_full_precision(%a: f32) -> f32 {
  %0 = arith.addf %a, %a {qopt.keep_full_precision} : f32
  return %0 : f32
}

// -----

// Large weights stay out of line: a dense_resource weight survives a trip
// through bytecode as a blob, never as a textual attribute.
// CHECK-LABEL: func.func @resource_weight
// CHECK: arith.constant dense_resource<weight_blob> : tensor<2x4xi8>
func.func @resource_weight(%x: tensor<3x8xf32>, %s: tensor<2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense_resource<weight_blob> : tensor<2x4xi8>
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<2xf32>) scheme <storage = i4, granularity = per_channel, axis = 0> : tensor<3x8xf32>, tensor<2x4xi8> -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      weight_blob: "0x0100000001020304F0E0D0C0"
    }
  }
#-}

// -----

// CHECK-LABEL: func.func @linear
// CHECK: qopt.linear %{{.*}}, %{{.*}} : tensor<?x?x64xf32>, tensor<64x32xf32> -> tensor<?x?x32xf32>
// CHECK: qopt.linear %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<32xf32>) transpose_weight : tensor<4x64xf32>, tensor<32x64xf32> -> tensor<4x32xf32>
func.func @linear(%x: tensor<?x?x64xf32>, %w: tensor<64x32xf32>, %x2: tensor<4x64xf32>, %wt: tensor<32x64xf32>, %b: tensor<32xf32>) -> (tensor<?x?x32xf32>, tensor<4x32xf32>) {
  %0 = qopt.linear %x, %w : tensor<?x?x64xf32>, tensor<64x32xf32> -> tensor<?x?x32xf32>
  %1 = qopt.linear %x2, %wt bias(%b : tensor<32xf32>) transpose_weight : tensor<4x64xf32>, tensor<32x64xf32> -> tensor<4x32xf32>
  return %0, %1 : tensor<?x?x32xf32>, tensor<4x32xf32>
}

// -----

// CHECK-LABEL: func.func @check
// CHECK: qopt.check %{{.*}}, "node 'a' (Add): sizes {0} and {1} differ"(%{{.*}}, %{{.*}} : index, i64)
// CHECK: qopt.check %{{.*}}, "always"
func.func @check(%ok: i1, %n: index, %m: i64) {
  qopt.check %ok, "node 'a' (Add): sizes {0} and {1} differ" (%n, %m : index, i64)
  qopt.check %ok, "always"
  return
}

// -----

// CHECK-LABEL: func.func @dynamic_quantize_per_token
// CHECK: %{{.*}}, %{{.*}} = qopt.dynamic_quantize %{{.*}} scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<?x?x64xf32> -> tensor<?x?x64xi8>, tensor<?x?xf32>
func.func @dynamic_quantize_per_token(%x: tensor<?x?x64xf32>) -> (tensor<?x?x64xi8>, tensor<?x?xf32>) {
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<?x?x64xf32> -> tensor<?x?x64xi8>, tensor<?x?xf32>
  return %q, %s : tensor<?x?x64xi8>, tensor<?x?xf32>
}

// -----

// Per tensor, 4-bit storage, an f16 input: one f32 scale.
// CHECK-LABEL: func.func @dynamic_quantize_per_tensor
// CHECK: qopt.dynamic_quantize %{{.*}} scheme <storage = i4, granularity = per_tensor, narrow_range = true> : tensor<8x16xf16> -> tensor<8x16xi4>, tensor<f32>
func.func @dynamic_quantize_per_tensor(%x: tensor<8x16xf16>) -> (tensor<8x16xi4>, tensor<f32>) {
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i4, granularity = per_tensor, narrow_range = true> : tensor<8x16xf16> -> tensor<8x16xi4>, tensor<f32>
  return %q, %s : tensor<8x16xi4>, tensor<f32>
}

// -----

// CHECK-LABEL: func.func @permute
// CHECK: qopt.permute %{{.*}} [2, 0, 3, 1] : tensor<?x?x4xf32>
func.func @permute(%x: tensor<?x?x4xf32>) -> tensor<?x?x4xf32> {
  %y = qopt.permute %x [2, 0, 3, 1] : tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}
