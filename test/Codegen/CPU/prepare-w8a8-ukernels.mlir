// RUN: qopt %s --split-input-file --pass-pipeline='builtin.module(func.func(qopt-cpu-prepare-w8a8-ukernels))' | FileCheck %s

// Dynamic W8A8: the reference expansions, marked. The quantization's three
// generics (absmax with its zero fill, scales, values) and the layer's
// product (with its zero fill) and rescale.
// CHECK-LABEL: func.func @dynamic
// CHECK: %[[W:.*]] = arith.constant dense<1> : tensor<32x64xi8>
// CHECK: linalg.fill {qopt_s8_quantize_rows = "init"} ins(%{{.*}} : f32)
// CHECK: %[[AMAX:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<?x?x64xf32>) {{.*}} attrs = {qopt_s8_quantize_rows = "absmax"}
// CHECK: %[[S:.*]]:2 = linalg.generic {{.*}} ins(%[[AMAX]] : tensor<?x?xf32>) {{.*}} attrs = {qopt_s8_quantize_rows = "scales"}
// CHECK: %[[Q:.*]] = linalg.generic {{.*}} ins(%arg0, %[[S]]#1 : tensor<?x?x64xf32>, tensor<?x?xf32>) {{.*}} attrs = {qopt_s8_quantize_rows = "values"}
// CHECK: %[[FILL:.*]] = linalg.fill {qopt_s8_gemm = "init"} ins(%{{.*}} : i32)
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}} ins(%[[Q]], %[[W]] : tensor<?x?x64xi8>, tensor<32x64xi8>) outs(%[[FILL]] : tensor<?x?x32xi32>) attrs = {qopt_s8_gemm = "product"}
// CHECK: arith.extsi
// CHECK: arith.muli
// CHECK: arith.addi
// CHECK: linalg.generic {{.*}} ins(%[[ACC]], %[[S]]#0, %arg1, %arg2 : tensor<?x?x32xi32>, tensor<?x?xf32>, tensor<32xf32>, tensor<32xf32>) {{.*}} attrs = {qopt_s8_gemm = "rescale"}
// CHECK: arith.sitofp
// CHECK-NOT: qopt.
func.func @dynamic(%x: tensor<?x?x64xf32>, %ws: tensor<32xf32>, %b: tensor<32xf32>) -> tensor<?x?x32xf32> {
  %cw = arith.constant dense<1> : tensor<32x64xi8>
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<?x?x64xf32> -> tensor<?x?x64xi8>, tensor<?x?xf32>
  %y = qopt.quantized_linear %q, %cw input_scale(%s : tensor<?x?xf32>) weight_scale(%ws : tensor<32xf32>) bias(%b : tensor<32xf32>) schemes(<storage = i8, granularity = per_token, narrow_range = true>, <storage = i8, granularity = per_channel, axis = 0, narrow_range = true>) : tensor<?x?x64xi8>, tensor<32x64xi8> -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// -----

// The product needs a constant weight (the lowering packs it at compile
// time): a weight computed at run time stays for qopt-expand-quant-ops.
// The dynamic quantization is marked anyway.
// CHECK-LABEL: func.func @argument_weight
// CHECK: qopt_s8_quantize_rows = "values"
// CHECK: qopt.quantized_linear
// CHECK-NOT: qopt_s8_gemm
func.func @argument_weight(%x: tensor<4x64xf32>, %w: tensor<32x64xi8>, %ws: tensor<32xf32>) -> tensor<4x32xf32> {
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<4xf32>
  %y = qopt.quantized_linear %q, %w input_scale(%s : tensor<4xf32>) weight_scale(%ws : tensor<32xf32>) schemes(<storage = i8, granularity = per_token, narrow_range = true>, <storage = i8, granularity = per_channel, axis = 0, narrow_range = true>) : tensor<4x64xi8>, tensor<32x64xi8> -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// Static W8A8 with a per-tensor weight scale: the kernel reads one scale
// per column, so the constant is broadcast to [N]; the input's per-tensor
// scale stays rank 0 (the kernel reads it with stride 0).
// CHECK-LABEL: func.func @per_tensor
// CHECK-DAG: %[[WS:.*]] = arith.constant dense<2.500000e-01> : tensor<32xf32>
// CHECK-DAG: %[[W:.*]] = arith.constant dense<1> : tensor<32x64xi8>
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}} ins(%arg0, %[[W]] : tensor<4x64xi8>, tensor<32x64xi8>) {{.*}}qopt_s8_gemm = "product"
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[SCALAR:.*]], #{{.*}}, #{{.*}}], {{.*}} ins(%[[ACC]], %arg1, %[[WS]] : tensor<4x32xi32>, tensor<f32>, tensor<32xf32>) {{.*}}qopt_s8_gemm = "rescale"
func.func @per_tensor(%q: tensor<4x64xi8>, %xs: tensor<f32>) -> tensor<4x32xf32> {
  %w = arith.constant dense<1> : tensor<32x64xi8>
  %ws = arith.constant dense<0.25> : tensor<f32>
  %y = qopt.quantized_linear %q, %w input_scale(%xs : tensor<f32>) weight_scale(%ws : tensor<f32>) schemes(<storage = i8, granularity = per_tensor, narrow_range = true>, <storage = i8, granularity = per_tensor, narrow_range = true>) : tensor<4x64xi8>, tensor<32x64xi8> -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// What the int8 kernels do not compute stays: zero points, 4-bit weights,
// f16 values.
// CHECK-LABEL: func.func @not_kernels
// CHECK-NOT: qopt_s8
// CHECK: qopt.quantized_linear {{.*}} input_zero_point
// CHECK: qopt.quantized_linear {{.*}}<storage = i4
// CHECK: qopt.dynamic_quantize {{.*}} tensor<4x64xf16>
// CHECK-NOT: qopt_s8
func.func @not_kernels(%q: tensor<4x64xi8>, %xs: tensor<4xf32>, %xz: tensor<4xi8>, %h: tensor<4x64xf16>) -> (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x64xi8>) {
  %w = arith.constant dense<1> : tensor<32x64xi8>
  %ws = arith.constant dense<0.25> : tensor<32xf32>
  %a = qopt.quantized_linear %q, %w input_scale(%xs : tensor<4xf32>) input_zero_point(%xz : tensor<4xi8>) weight_scale(%ws : tensor<32xf32>) schemes(<storage = i8, granularity = per_token, symmetric = false>, <storage = i8, granularity = per_channel, axis = 0>) : tensor<4x64xi8>, tensor<32x64xi8> -> tensor<4x32xf32>
  %w4 = arith.constant dense<17> : tensor<32x32xi8>
  %b = qopt.quantized_linear %q, %w4 input_scale(%xs : tensor<4xf32>) weight_scale(%ws : tensor<32xf32>) schemes(<storage = i8, granularity = per_token>, <storage = i4, granularity = per_channel, axis = 0>) : tensor<4x64xi8>, tensor<32x32xi8> -> tensor<4x32xf32>
  %d, %ds = qopt.dynamic_quantize %h scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<4x64xf16> -> tensor<4x64xi8>, tensor<4xf32>
  return %a, %b, %d : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x64xi8>
}

// -----

// Per-tensor dynamic quantization (a W8A8 convolution's input) is the
// per-token one of the flattened tensor: collapsed to one row, marked for
// qrt_uk_quantize_rows_s8, the values expanded back. The scale is rank 0
// either way.
// CHECK-LABEL: func.func @per_tensor_dynamic
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1, 2, 3]] : tensor<?x4x3x3xf32> into tensor<?xf32>
// CHECK: linalg.generic {{.*}} ins(%[[FLAT]] : tensor<?xf32>) outs(%{{.*}} : tensor<f32>) {{.*}}qopt_s8_quantize_rows = "absmax"
// CHECK: qopt_s8_quantize_rows = "scales"
// CHECK: %[[V:.*]] = linalg.generic {{.*}} ins(%[[FLAT]], %{{.*}} : tensor<?xf32>, tensor<f32>) outs(%{{.*}} : tensor<?xi8>) {{.*}}qopt_s8_quantize_rows = "values"
// CHECK: %[[Q:.*]] = tensor.expand_shape %[[V]] {{\[\[}}0, 1, 2, 3]] output_shape [%{{.*}}, 4, 3, 3] : tensor<?xi8> into tensor<?x4x3x3xi8>
// CHECK: return %[[Q]]
// CHECK-NOT: qopt.dynamic_quantize
func.func @per_tensor_dynamic(%x: tensor<?x4x3x3xf32>) -> (tensor<?x4x3x3xi8>, tensor<f32>) {
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_tensor, narrow_range = true> : tensor<?x4x3x3xf32> -> tensor<?x4x3x3xi8>, tensor<f32>
  return %q, %s : tensor<?x4x3x3xi8>, tensor<f32>
}
