// RUN: qopt %s -split-input-file --qopt-convert-quant-casts | FileCheck %s

// CHECK-LABEL: func.func @per_tensor
// CHECK-DAG: %[[S:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK-DAG: %[[Z:.*]] = arith.constant dense<1> : tensor<i8>
// CHECK: %[[Q:.*]] = qopt.quantize %arg0 scale(%[[S]] : tensor<f32>) zero_point(%[[Z]] : tensor<i8>) scheme <storage = i8, granularity = per_tensor, symmetric = false> : tensor<4xf32> -> tensor<4xi8>
// CHECK: %[[C:.*]] = quant.scast %[[Q]] : tensor<4xi8> to tensor<4x!quant.uniform<i8:f32, 5.000000e-01:1>>
// CHECK: %[[B:.*]] = quant.scast %[[C]] : tensor<4x!quant.uniform<i8:f32, 5.000000e-01:1>> to tensor<4xi8>
// CHECK: %[[D:.*]] = qopt.dequantize %[[B]] scale(%{{.*}} : tensor<f32>) zero_point(%{{.*}} : tensor<i8>) scheme <storage = i8, granularity = per_tensor, symmetric = false> : tensor<4xi8> -> tensor<4xf32>
// CHECK: return %[[D]]
func.func @per_tensor(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5:1>>
  %d = quant.dcast %q : tensor<4x!quant.uniform<i8:f32, 0.5:1>> to tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// Zero zero points mean symmetric; a narrow signed range maps to narrow_range.
// CHECK-LABEL: func.func @per_axis_narrow
// CHECK: %[[S:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: qopt.quantize %arg0 scale(%[[S]] : tensor<2xf32>) scheme <storage = i8, granularity = per_channel, axis = 1, narrow_range = true> : tensor<3x2xf32> -> tensor<3x2xi8>
func.func @per_axis_narrow(%x: tensor<3x2xf32>) -> tensor<3x2x!quant.uniform<i8<-127:127>:f32:1, {1.0, 2.0}>> {
  %q = quant.qcast %x : tensor<3x2xf32> to tensor<3x2x!quant.uniform<i8<-127:127>:f32:1, {1.0, 2.0}>>
  return %q : tensor<3x2x!quant.uniform<i8<-127:127>:f32:1, {1.0, 2.0}>>
}

// -----

// Unsigned storage keeps its signedness in the scheme. The zero point 8 is
// stored in a signless i4, whose bits 0b1000 print as -8.
// CHECK-LABEL: func.func @unsigned4
// CHECK: %[[Z:.*]] = arith.constant dense<-8> : tensor<i4>
// CHECK: qopt.dequantize %{{.*}} scale(%{{.*}} : tensor<f32>) zero_point(%[[Z]] : tensor<i4>) scheme <storage = ui4, granularity = per_tensor, symmetric = false> : tensor<8xi4> -> tensor<8xf32>
func.func @unsigned4(%q: tensor<8x!quant.uniform<u4:f32, 0.25:8>>) -> tensor<8xf32> {
  %d = quant.dcast %q : tensor<8x!quant.uniform<u4:f32, 0.25:8>> to tensor<8xf32>
  return %d : tensor<8xf32>
}

// -----

// What qopt cannot express stays for upstream's lowering: a custom storage
// range, 16-bit storage, scalars.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: qopt.
// CHECK: quant.qcast %{{.*}} : tensor<4xf32> to tensor<4x!quant.uniform<i8<-100:100>:f32, 5.000000e-01>>
// CHECK: quant.qcast %{{.*}} : tensor<4xf32> to tensor<4x!quant.uniform<i16:f32, 5.000000e-01>>
// CHECK: quant.qcast %{{.*}} : f32 to !quant.uniform<i8:f32, 5.000000e-01>
func.func @left_alone(%x: tensor<4xf32>, %f: f32) -> (tensor<4x!quant.uniform<i8<-100:100>:f32, 0.5>>, tensor<4x!quant.uniform<i16:f32, 0.5>>, !quant.uniform<i8:f32, 0.5>) {
  %0 = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8<-100:100>:f32, 0.5>>
  %1 = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i16:f32, 0.5>>
  %2 = quant.qcast %f : f32 to !quant.uniform<i8:f32, 0.5>
  return %0, %1, %2 : tensor<4x!quant.uniform<i8<-100:100>:f32, 0.5>>, tensor<4x!quant.uniform<i16:f32, 0.5>>, !quant.uniform<i8:f32, 0.5>
}

// -----

// Unlike upstream lowering, dcast(qcast(x)) is not folded away: the
// quantization error stays.
// CHECK-LABEL: func.func @no_fold
// CHECK: qopt.quantize
// CHECK: qopt.dequantize
func.func @no_fold(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i4:f32, 0.5>>
  %d = quant.dcast %q : tensor<4x!quant.uniform<i4:f32, 0.5>> to tensor<4xf32>
  return %d : tensor<4xf32>
}
