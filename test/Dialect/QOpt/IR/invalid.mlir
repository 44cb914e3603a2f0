// RUN: qopt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// #qopt.scheme
//===----------------------------------------------------------------------===//

func.func @storage_type(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{unsupported storage type 'i16'; expected one of i8, ui8, i4, ui4, i3, ui3, i2, ui2, f8E4M3FN, f8E4M3FNUZ, f8E5M2, f8E5M2FNUZ}}
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i16, granularity = per_tensor> : tensor<4xf32> -> tensor<4xi16>
  return
}

// -----

func.func @fp8_asymmetric(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{fp8 storage 'f8E4M3FN' must be symmetric}}
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = f8E4M3FN, granularity = per_tensor, symmetric = false> : tensor<4xf32> -> tensor<4xf8E4M3FN>
  return
}

// -----

func.func @narrow_unsigned(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{narrow_range requires signed integer storage, got 'ui8'}}
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = ui8, granularity = per_tensor, narrow_range = true> : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @per_channel_needs_axis(%x: tensor<4xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{per_channel granularity requires 'axis'}}
  %q = qopt.quantize %x scale(%s : tensor<4xf32>) scheme <storage = i8, granularity = per_channel> : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @per_tensor_takes_no_axis(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{'axis' is not allowed with per_tensor granularity}}
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor, axis = 0> : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @negative_axis(%x: tensor<4xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{axis must be non-negative, got -1}}
  %q = qopt.quantize %x scale(%s : tensor<4xf32>) scheme <storage = i8, granularity = per_channel, axis = -1> : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @per_group_needs_group_size(%x: tensor<4xf32>, %s: tensor<1xf32>) {
  // expected-error @+1 {{per_group granularity requires 'group_size'}}
  %q = qopt.quantize %x scale(%s : tensor<1xf32>) scheme <storage = i8, granularity = per_group, axis = 0> : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @group_size_only_per_group(%x: tensor<4xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{'group_size' is not allowed with per_channel granularity}}
  %q = qopt.quantize %x scale(%s : tensor<4xf32>) scheme <storage = i8, granularity = per_channel, axis = 0, group_size = 2> : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @group_size_positive(%x: tensor<4xf32>, %s: tensor<1xf32>) {
  // expected-error @+1 {{group_size must be positive, got 0}}
  %q = qopt.quantize %x scale(%s : tensor<1xf32>) scheme <storage = i8, granularity = per_group, axis = 0, group_size = 0> : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @bad_bool(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+2 {{expected 'true' or 'false'}}
  // expected-error @+1 {{failed to parse QOpt_SchemeAttr parameter 'symmetric'}}
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor, symmetric = 1> : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #qopt.observer and #qopt.stats
//===----------------------------------------------------------------------===//

func.func @observer_axis(%x: tensor<4xf32>) {
  // expected-error @+1 {{'axis' is only meaningful for min_max and abs_max observers, not hessian}}
  %0 = qopt.observe %x name "x" observer <kind = hessian, axis = 0> : tensor<4xf32>
  return
}

// -----

func.func @observer_negative_axis(%x: tensor<4xf32>) {
  // expected-error @+1 {{axis must be non-negative, got -2}}
  %0 = qopt.observe %x name "x" observer <kind = abs_max, axis = -2> : tensor<4xf32>
  return
}

// -----

func.func @observer_percentile(%x: tensor<4xf32>) {
  // expected-error @+1 {{percentile must be in (0, 100], got 1.005000e+02}}
  %0 = qopt.observe %x name "x" observer <kind = percentile, percentile = 100.5> : tensor<4xf32>
  return
}

// -----

func.func @observer_bins(%x: tensor<4xf32>) {
  // expected-error @+1 {{bins must be at least 2, got 1}}
  %0 = qopt.observe %x name "x" observer <kind = histogram, bins = 1> : tensor<4xf32>
  return
}


// -----

func.func @observer_many_bins(%x: tensor<4xf32>) {
  // expected-error @+1 {{bins must be at most 1048576, got 1048577}}
  %0 = qopt.observe %x name "x" observer <kind = percentile, bins = 1048577> : tensor<4xf32>
  return
}

// -----

func.func @stats_samples(%x: tensor<4xf32>) {
  // expected-error @+1 {{samples must be non-negative, got -1}}
  %0 = qopt.observe %x name "x" observer <kind = min_max> stats <samples = -1> : tensor<4xf32>
  return
}

// -----

func.func @stats_floats(%x: tensor<4xf32>) {
  // expected-error @+1 {{'min' must hold floats, got 'tensor<i32>'}}
  %0 = qopt.observe %x name "x" observer <kind = min_max> stats <min = dense<0> : tensor<i32>> : tensor<4xf32>
  return
}

// -----

func.func @stats_min_max_shape(%x: tensor<4xf32>) {
  // expected-error @+1 {{'min' and 'max' must have the same shape}}
  %0 = qopt.observe %x name "x" observer <kind = min_max> stats <min = dense<0.0> : tensor<f32>, max = dense<1.0> : tensor<2xf32>> : tensor<4xf32>
  return
}

// -----

func.func @stats_histogram_rank(%x: tensor<4xf32>) {
  // expected-error @+1 {{'histogram' must be 1-D, got 'tensor<2x2xf32>'}}
  %0 = qopt.observe %x name "x" observer <kind = histogram> stats <histogram = dense<1.0> : tensor<2x2xf32>> : tensor<4xf32>
  return
}

// -----

func.func @stats_hessian_square(%x: tensor<4xf32>) {
  // expected-error @+1 {{'hessian' must be a square matrix, got 'tensor<4x2xf32>'}}
  %0 = qopt.observe %x name "x" observer <kind = hessian> stats <hessian = dense<1.0> : tensor<4x2xf32>> : tensor<4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qopt.observe
//===----------------------------------------------------------------------===//

func.func @observe_axis_range(%x: tensor<4xf32>) {
  // expected-error @+1 {{'qopt.observe' op observer axis 1 is out of range for a tensor of rank 1}}
  %0 = qopt.observe %x name "x" observer <kind = abs_max, axis = 1> : tensor<4xf32>
  return
}

// -----

func.func @observe_name(%x: tensor<4xf32>) {
  // expected-error @+1 {{'qopt.observe' op name must not be empty}}
  %0 = qopt.observe %x name "" observer <kind = min_max> : tensor<4xf32>
  return
}

// -----

func.func @observe_missing_stat(%x: tensor<4xf32>) {
  // expected-error @+1 {{'qopt.observe' op stats of a min_max observer must have 'max'}}
  %0 = qopt.observe %x name "x" observer <kind = min_max> stats <min = dense<0.0> : tensor<f32>> : tensor<4xf32>
  return
}

// -----

func.func @observe_stat_shape(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{'qopt.observe' op stats 'absmax' of a abs_max observer has type 'tensor<3xf32>', expected shape [4]}}
  %0 = qopt.observe %x name "x" observer <kind = abs_max, axis = 1> stats <absmax = dense<1.0> : tensor<3xf32>> : tensor<?x4xf32>
  return
}

// -----

func.func @observe_histogram_bins(%x: tensor<4xf32>) {
  // expected-error @+1 {{'qopt.observe' op stats 'histogram' of a histogram observer has type 'tensor<3xf32>', expected shape [2048]}}
  %0 = qopt.observe %x name "x" observer <kind = histogram> stats <min = dense<0.0> : tensor<f32>, max = dense<1.0> : tensor<f32>, histogram = dense<1.0> : tensor<3xf32>> : tensor<4xf32>
  return
}

// -----

func.func @observe_hessian_size(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{'qopt.observe' op stats 'hessian' of a hessian observer has type 'tensor<3x3xf32>', expected shape [4, 4]}}
  %0 = qopt.observe %x name "x" observer <kind = hessian> stats <hessian = dense<1.0> : tensor<3x3xf32>> : tensor<?x4xf32>
  return
}

// -----

func.func @observe_hessian_rank(%x: tensor<f32>) {
  // expected-error @+1 {{'qopt.observe' op a hessian observer needs an input of rank >= 1}}
  %0 = qopt.observe %x name "x" observer <kind = hessian> stats <hessian = dense<1.0> : tensor<1x1xf32>> : tensor<f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Quantization parameters (shared by the casts and the linear ops)
//===----------------------------------------------------------------------===//

func.func @axis_range(%x: tensor<4xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{'qopt.quantize' op scheme axis 1 is out of range for a tensor of rank 1}}
  %q = qopt.quantize %x scale(%s : tensor<4xf32>) scheme <storage = i8, granularity = per_channel, axis = 1> : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @group_divides(%x: tensor<4x100xf32>, %s: tensor<4x1xf32>) {
  // expected-error @+1 {{'qopt.quantize' op dimension 1 of size 100 is not a multiple of group_size 64}}
  %q = qopt.quantize %x scale(%s : tensor<4x1xf32>) scheme <storage = i4, granularity = per_group, axis = 1, group_size = 64> : tensor<4x100xf32> -> tensor<4x100xi4>
  return
}

// -----

func.func @per_token_rank(%x: tensor<f32>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.quantize' op per_token granularity requires a tensor of rank >= 1}}
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_token> : tensor<f32> -> tensor<i8>
  return
}

// -----

func.func @scale_rank(%x: tensor<4x8xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{'qopt.quantize' op scale must have rank 0 for per_tensor granularity, got 'tensor<4xf32>'}}
  %q = qopt.quantize %x scale(%s : tensor<4xf32>) scheme <storage = i8, granularity = per_tensor> : tensor<4x8xf32> -> tensor<4x8xi8>
  return
}

// -----

func.func @scale_size(%x: tensor<4x8xf32>, %s: tensor<4x3xf32>) {
  // expected-error @+1 {{'qopt.quantize' op scale dimension 1 is 3, expected 2 for per_group granularity}}
  %q = qopt.quantize %x scale(%s : tensor<4x3xf32>) scheme <storage = i8, granularity = per_group, axis = 1, group_size = 4> : tensor<4x8xf32> -> tensor<4x8xi8>
  return
}

// -----

func.func @symmetric_zero_point(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<i8>) {
  // expected-error @+1 {{'qopt.quantize' op a symmetric scheme takes no zero_point}}
  %q = qopt.quantize %x scale(%s : tensor<f32>) zero_point(%z : tensor<i8>) scheme <storage = i8, granularity = per_tensor> : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @asymmetric_needs_zero_point(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.quantize' op an asymmetric scheme requires a zero_point}}
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = ui8, granularity = per_tensor, symmetric = false> : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @zero_point_type(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<i8>) {
  // expected-error @+1 {{'qopt.quantize' op zero_point element type 'i8' does not match the storage element type 'i4'}}
  %q = qopt.quantize %x scale(%s : tensor<f32>) zero_point(%z : tensor<i8>) scheme <storage = ui4, granularity = per_tensor, symmetric = false> : tensor<4xf32> -> tensor<4xi4>
  return
}

// -----

func.func @zero_point_shape(%x: tensor<4x8xf32>, %s: tensor<4xf32>, %z: tensor<8xi8>) {
  // expected-error @+1 {{'qopt.quantize' op zero_point dimension 0 is 8, expected 4 for per_channel granularity}}
  %q = qopt.quantize %x scale(%s : tensor<4xf32>) zero_point(%z : tensor<8xi8>) scheme <storage = ui8, granularity = per_channel, axis = 0, symmetric = false> : tensor<4x8xf32> -> tensor<4x8xi8>
  return
}

// -----

func.func @act_order_granularity(%x: tensor<4x8xf32>, %s: tensor<4xf32>, %p: tensor<8xi32>) {
  // expected-error @+1 {{'qopt.quantize' op act_order requires per_group granularity, got per_channel}}
  %q = qopt.quantize %x scale(%s : tensor<4xf32>) act_order(%p : tensor<8xi32>) scheme <storage = i8, granularity = per_channel, axis = 0> : tensor<4x8xf32> -> tensor<4x8xi8>
  return
}

// -----

func.func @act_order_shape(%x: tensor<4x8xf32>, %s: tensor<4x2xf32>, %p: tensor<4xi32>) {
  // expected-error @+1 {{'qopt.quantize' op act_order must be a 1-D tensor with one entry per element of dimension 1, got 'tensor<4xi32>'}}
  %q = qopt.quantize %x scale(%s : tensor<4x2xf32>) act_order(%p : tensor<4xi32>) scheme <storage = i4, granularity = per_group, axis = 1, group_size = 4> : tensor<4x8xf32> -> tensor<4x8xi4>
  return
}

// -----

func.func @act_order_permutation(%x: tensor<4x4xf32>, %s: tensor<4x2xf32>) {
  %p = arith.constant dense<[0, 1, 1, 3]> : tensor<4xi32>
  // expected-error @+1 {{'qopt.quantize' op act_order is not a permutation of [0, 4)}}
  %q = qopt.quantize %x scale(%s : tensor<4x2xf32>) act_order(%p : tensor<4xi32>) scheme <storage = i4, granularity = per_group, axis = 1, group_size = 2> : tensor<4x4xf32> -> tensor<4x4xi4>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Casts
//===----------------------------------------------------------------------===//

func.func @cast_shape(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.quantize' op float and quantized tensors must have the same shape, got 'tensor<4xf32>' and 'tensor<5xi8>'}}
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<4xf32> -> tensor<5xi8>
  return
}

// -----

func.func @cast_storage(%q: tensor<4xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.dequantize' op quantized element type 'i8' does not match the scheme's storage element type 'i4'}}
  %x = qopt.dequantize %q scale(%s : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<4xi8> -> tensor<4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qopt.pack / qopt.unpack
//===----------------------------------------------------------------------===//

func.func @pack_width(%x: tensor<4xi8>) {
  // expected-error @+1 {{'qopt.pack' op packs values of 1 to 7 bits, got 'i8'}}
  %p = qopt.pack %x : tensor<4xi8> -> tensor<4xi8>
  return
}

// -----

func.func @pack_rank(%x: tensor<4x4xi4>) {
  // expected-error @+1 {{'qopt.pack' op packed and unpacked tensors must have the same rank >= 1, got 'tensor<4x4xi4>' and 'tensor<8xi8>'}}
  %p = qopt.pack %x : tensor<4x4xi4> -> tensor<8xi8>
  return
}

// -----

func.func @pack_outer_dims(%x: tensor<4x4xi4>) {
  // expected-error @+1 {{'qopt.pack' op dimension 0 differs between 'tensor<4x4xi4>' and 'tensor<3x2xi8>'}}
  %p = qopt.pack %x : tensor<4x4xi4> -> tensor<3x2xi8>
  return
}

// -----

func.func @pack_whole_bytes(%x: tensor<5xi3>) {
  // expected-error @+1 {{'qopt.pack' op innermost dimension of 5 x i3 does not fill whole bytes}}
  %p = qopt.pack %x : tensor<5xi3> -> tensor<?xi8>
  return
}

// -----

func.func @unpack_whole_values(%x: tensor<4xi8>) {
  // expected-error @+1 {{'qopt.unpack' op innermost dimension of 4 bytes does not hold a whole number of i3 values}}
  %p = qopt.unpack %x : tensor<4xi8> -> tensor<?xi3>
  return
}

// -----

func.func @pack_size(%x: tensor<8xi4>) {
  // expected-error @+1 {{'qopt.pack' op expected 4 bytes for 8 x i4, got 3}}
  %p = qopt.pack %x : tensor<8xi4> -> tensor<3xi8>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qopt.weight_only_linear
//===----------------------------------------------------------------------===//

func.func @wol_weight_rank(%x: tensor<2x8xf32>, %w: tensor<4x2x2xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op weight must be 2-D [N, K], got 'tensor<4x2x2xi8>'}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<2x8xf32>, tensor<4x2x2xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @wol_unpacked(%x: tensor<2x8xf32>, %w: tensor<4x8xi4>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op weights of 4 bits must be stored packed in i8 (see qopt.pack), got 'tensor<4x8xi4>'}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<2x8xf32>, tensor<4x8xi4> -> tensor<2x4xf32>
  return
}

// -----

func.func @wol_packed_row(%x: tensor<2x?xf32>, %w: tensor<4x4xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op packed weight row of 4 bytes does not hold a whole number of 3-bit values}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = i3, granularity = per_tensor> : tensor<2x?xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @wol_packed_k(%x: tensor<2x16xf32>, %w: tensor<4x4xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op packed weight holds K = 8 values per row but the input has K = 16}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<2x16xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @wol_k_bytes(%x: tensor<2x5xf32>, %w: tensor<4x?xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op K = 5 values of 4 bits do not fill whole bytes}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<2x5xf32>, tensor<4x?xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @wol_int8_type(%x: tensor<2x8xf32>, %w: tensor<4x8xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op weight element type 'i8' does not match the storage element type 'f8E4M3FN'}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = f8E4M3FN, granularity = per_tensor> : tensor<2x8xf32>, tensor<4x8xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @wol_int8_k(%x: tensor<2x8xf32>, %w: tensor<4x16xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op weight has K = 16 but the input has K = 8}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<2x8xf32>, tensor<4x16xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @wol_result_rank(%x: tensor<2x8xf32>, %w: tensor<4x8xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op input and result must have the same rank >= 1, got 'tensor<2x8xf32>' and 'tensor<4xf32>'}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<2x8xf32>, tensor<4x8xi8> -> tensor<4xf32>
  return
}

// -----

func.func @wol_result_batch(%x: tensor<2x8xf32>, %w: tensor<4x8xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op result dimension 0 does not match the input's}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<2x8xf32>, tensor<4x8xi8> -> tensor<3x4xf32>
  return
}

// -----

func.func @wol_result_n(%x: tensor<2x8xf32>, %w: tensor<4x8xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op result has 5 output channels, weight has 4}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<2x8xf32>, tensor<4x8xi8> -> tensor<2x5xf32>
  return
}

// -----

func.func @wol_bias(%x: tensor<2x8xf32>, %w: tensor<4x8xi8>, %s: tensor<f32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op bias must be 1-D with one 'f32' per output channel, got 'tensor<5xf32>'}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) bias(%b : tensor<5xf32>) scheme <storage = i8, granularity = per_tensor> : tensor<2x8xf32>, tensor<4x8xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @wol_channel_axis(%x: tensor<2x8xf32>, %w: tensor<4x8xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op per_channel weight scales run along the output channels (axis 0), got axis 1}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<8xf32>) scheme <storage = i8, granularity = per_channel, axis = 1> : tensor<2x8xf32>, tensor<4x8xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @wol_group_axis(%x: tensor<2x8xf32>, %w: tensor<4x8xi8>, %s: tensor<2x8xf32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op per_group weight groups run along the input channels (axis 1), got axis 0}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<2x8xf32>) scheme <storage = i8, granularity = per_group, axis = 0, group_size = 2> : tensor<2x8xf32>, tensor<4x8xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @wol_per_token(%x: tensor<2x8xf32>, %w: tensor<4x8xi8>, %s: tensor<4xf32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op per_token is not a weight granularity}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<4xf32>) scheme <storage = i8, granularity = per_token> : tensor<2x8xf32>, tensor<4x8xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @wol_input_rank(%x: tensor<f32>, %w: tensor<4x8xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op input must have rank >= 1}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<f32>, tensor<4x8xi8> -> tensor<4xf32>
  return
}

// -----

func.func @wol_result_type(%x: tensor<2x8xf32>, %w: tensor<4x8xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op result element type must match the input's}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<2x8xf32>, tensor<4x8xi8> -> tensor<2x4xf16>
  return
}

// -----

func.func @wol_params(%x: tensor<2x8xf32>, %w: tensor<4x4xi8>, %s: tensor<4x3xf32>) {
  // expected-error @+1 {{'qopt.weight_only_linear' op scale dimension 1 is 3, expected 2 for per_group granularity}}
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<4x3xf32>) scheme <storage = i4, granularity = per_group, axis = 1, group_size = 4> : tensor<2x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qopt.quantized_linear
//===----------------------------------------------------------------------===//

func.func @ql_input_granularity(%x: tensor<2x8xi8>, %w: tensor<4x8xi8>, %xs: tensor<8xf32>, %ws: tensor<f32>) {
  // expected-error @+1 {{'qopt.quantized_linear' op input scales must be per_tensor or per_token, got per_channel}}
  %y = qopt.quantized_linear %x, %w input_scale(%xs : tensor<8xf32>) weight_scale(%ws : tensor<f32>) schemes(<storage = i8, granularity = per_channel, axis = 1>, <storage = i8, granularity = per_tensor>) : tensor<2x8xi8>, tensor<4x8xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @ql_input_type(%x: tensor<2x8xi4>, %w: tensor<4x8xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.quantized_linear' op input element type 'i4' does not match the input scheme's storage element type 'i8'}}
  %y = qopt.quantized_linear %x, %w input_scale(%s : tensor<f32>) weight_scale(%s : tensor<f32>) schemes(<storage = i8, granularity = per_tensor>, <storage = i8, granularity = per_tensor>) : tensor<2x8xi4>, tensor<4x8xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @ql_mixed(%x: tensor<2x8xi8>, %w: tensor<4x8xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.quantized_linear' op input and weight must both be integer or both be fp8}}
  %y = qopt.quantized_linear %x, %w input_scale(%s : tensor<f32>) weight_scale(%s : tensor<f32>) schemes(<storage = i8, granularity = per_tensor>, <storage = f8E4M3FN, granularity = per_tensor>) : tensor<2x8xi8>, tensor<4x8xf8E4M3FN> -> tensor<2x4xf32>
  return
}

// -----

func.func @ql_groups(%x: tensor<2x8xi8>, %w: tensor<4x8xi8>, %xs: tensor<f32>, %ws: tensor<4x2xf32>) {
  // expected-error @+1 {{'qopt.quantized_linear' op per_group weight scales do not factor out of an integer dot product; use qopt.weight_only_linear}}
  %y = qopt.quantized_linear %x, %w input_scale(%xs : tensor<f32>) weight_scale(%ws : tensor<4x2xf32>) schemes(<storage = i8, granularity = per_tensor>, <storage = i8, granularity = per_group, axis = 1, group_size = 4>) : tensor<2x8xi8>, tensor<4x8xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @ql_input_params(%x: tensor<2x8xi8>, %w: tensor<4x8xi8>, %xs: tensor<3xf32>, %ws: tensor<f32>) {
  // expected-error @+1 {{'qopt.quantized_linear' op input parameters: scale dimension 0 is 3, expected 2 for per_token granularity}}
  %y = qopt.quantized_linear %x, %w input_scale(%xs : tensor<3xf32>) weight_scale(%ws : tensor<f32>) schemes(<storage = i8, granularity = per_token>, <storage = i8, granularity = per_tensor>) : tensor<2x8xi8>, tensor<4x8xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @ql_weight_params(%x: tensor<2x8xi8>, %w: tensor<4x8xi8>, %xs: tensor<f32>, %ws: tensor<f32>, %wz: tensor<i8>) {
  // expected-error @+1 {{'qopt.quantized_linear' op weight parameters: a symmetric scheme takes no zero_point}}
  %y = qopt.quantized_linear %x, %w input_scale(%xs : tensor<f32>) weight_scale(%ws : tensor<f32>) weight_zero_point(%wz : tensor<i8>) schemes(<storage = i8, granularity = per_tensor>, <storage = i8, granularity = per_tensor>) : tensor<2x8xi8>, tensor<4x8xi8> -> tensor<2x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qopt.smooth
//===----------------------------------------------------------------------===//

func.func @smooth_rank(%x: tensor<f32>, %s: tensor<1xf32>) {
  // expected-error @+1 {{'qopt.smooth' op input must have rank >= 1}}
  %y = qopt.smooth %x, %s : tensor<f32>, tensor<1xf32>
  return
}

// -----

func.func @smooth_scale_shape(%x: tensor<2x8xf32>, %s: tensor<2xf32>) {
  // expected-error @+1 {{'qopt.smooth' op scale must be 1-D with one entry per channel of the innermost dimension, got 'tensor<2xf32>'}}
  %y = qopt.smooth %x, %s : tensor<2x8xf32>, tensor<2xf32>
  return
}

// -----

func.func @smooth_scale_type(%x: tensor<2x8xf32>, %s: tensor<8xf16>) {
  // expected-error @+1 {{'qopt.smooth' op scale element type must match the input's}}
  %y = qopt.smooth %x, %s : tensor<2x8xf32>, tensor<8xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Discardable attributes
//===----------------------------------------------------------------------===//

func.func @keep_full_precision_unit(%a: f32) {
  // expected-error @+1 {{'qopt.keep_full_precision' must be a unit attribute, got true}}
  %0 = arith.addf %a, %a {qopt.keep_full_precision = true} : f32
  return
}

// -----

func.func @unknown_attr(%a: f32) {
  // expected-error @+1 {{unknown qopt attribute 'qopt.bogus'}}
  %0 = arith.addf %a, %a {qopt.bogus} : f32
  return
}

// -----

//===----------------------------------------------------------------------===//
// qopt.linear
//===----------------------------------------------------------------------===//

func.func @linear_weight_rank(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'qopt.linear' op weight must be 2-D, got 'tensor<8xf32>'}}
  %y = qopt.linear %x, %w : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_types(%x: tensor<2x8xf32>, %w: tensor<8x4xf16>) {
  // expected-error @+1 {{'qopt.linear' op input, weight and result must have one element type}}
  %y = qopt.linear %x, %w : tensor<2x8xf32>, tensor<8x4xf16> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_k(%x: tensor<2x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{'qopt.linear' op input has K = 8 but the weight has K = 4}}
  %y = qopt.linear %x, %w transpose_weight : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_rank(%x: tensor<f32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{'qopt.linear' op input must have rank >= 1}}
  %y = qopt.linear %x, %w : tensor<f32>, tensor<8x4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @linear_n(%x: tensor<2x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{'qopt.linear' op result has 5 output channels, weight has 4}}
  %y = qopt.linear %x, %w : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x5xf32>
  return
}

//===----------------------------------------------------------------------===//
// qopt.check
//===----------------------------------------------------------------------===//

// -----

func.func @check_missing_value(%ok: i1, %n: index) {
  // expected-error @+1 {{message refers to value 1 but the check has 1 values}}
  qopt.check %ok, "sizes {0} and {1}" (%n : index)
  return
}

// -----

func.func @check_unused_value(%ok: i1, %n: index, %m: index) {
  // expected-error @+1 {{value 1 is not used in the message}}
  qopt.check %ok, "size {0}" (%n, %m : index, index)
  return
}

// -----

func.func @check_bad_placeholder(%ok: i1, %n: index) {
  // expected-error @+1 {{message placeholder at offset 5 is not of the form {N}}}
  qopt.check %ok, "size {x} {0}" (%n : index)
  return
}

// -----

func.func @check_unmatched_brace(%ok: i1, %n: index) {
  // expected-error @+1 {{message has an unmatched '}' at offset 8}}
  qopt.check %ok, "size {0}}" (%n : index)
  return
}

// -----

func.func @check_wide_value(%ok: i1, %n: i128) {
  // expected-error @+1 {{values must be index or at most 64-bit integers}}
  qopt.check %ok, "size {0}" (%n : i128)
  return
}

// -----

func.func @stats_nan(%x: tensor<4xf32>) {
  // expected-error @+1 {{'max' holds a NaN or infinite value; statistics must be finite}}
  %0 = qopt.observe %x name "x" observer <kind = min_max> stats <samples = 4, min = dense<0.0> : tensor<f32>, max = dense<0x7FC00000> : tensor<f32>> : tensor<4xf32>
  return
}

// -----

func.func @stats_inf(%x: tensor<4x2xf32>) {
  // expected-error @+1 {{'absmax' holds a NaN or infinite value; statistics must be finite}}
  %0 = qopt.observe %x name "x" observer <kind = abs_max, axis = 1> stats <samples = 4, absmax = dense<[1.0, 0x7F800000]> : tensor<2xf32>> : tensor<4x2xf32>
  return
}

// -----

// Constant scales must be finite and non-zero: no NaN scale in the IR.
func.func @scale_nan(%x: tensor<4xf32>) -> tensor<4xi8> {
  %s = arith.constant dense<0x7FC00000> : tensor<f32>
  // expected-error @+1 {{scale holds nan; constant scales must be finite and non-zero}}
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<4xf32> -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

func.func @scale_zero(%q: tensor<4xi8>) -> tensor<4xf32> {
  %s = arith.constant dense<[1.0, 0.0, 2.0, 3.0]> : tensor<4xf32>
  // expected-error @+1 {{scale holds 0.000000e+00; constant scales must be finite and non-zero}}
  %x = qopt.dequantize %q scale(%s : tensor<4xf32>) scheme <storage = i8, granularity = per_channel, axis = 0> : tensor<4xi8> -> tensor<4xf32>
  return %x : tensor<4xf32>
}

// -----

func.func @smooth_inf(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %s = arith.constant dense<[1.0, 0x7F800000, 2.0]> : tensor<3xf32>
  // expected-error @+1 {{scale holds INF; constant scales must be finite and non-zero}}
  %y = qopt.smooth %x, %s : tensor<2x3xf32>, tensor<3xf32>
  return %y : tensor<2x3xf32>
}

// -----

func.func @quantized_linear_inf(%x: tensor<2x64xi8>, %w: tensor<16x64xi8>) -> tensor<2x16xf32> {
  %xs = arith.constant dense<1.0> : tensor<f32>
  %ws = arith.constant dense<0xFF800000> : tensor<f32>
  // expected-error @+1 {{weight scale holds -INF; constant scales must be finite and non-zero}}
  %y = qopt.quantized_linear %x, %w input_scale(%xs : tensor<f32>) weight_scale(%ws : tensor<f32>) schemes(<storage = i8, granularity = per_tensor>, <storage = i8, granularity = per_tensor>) : tensor<2x64xi8>, tensor<16x64xi8> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

//===----------------------------------------------------------------------===//
// qopt.dynamic_quantize
//===----------------------------------------------------------------------===//

// -----

func.func @dq_input_type(%x: tensor<2x8xf64>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op input must hold f32, f16 or bf16 values, got 'f64'}}
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<2x8xf64> -> tensor<2x8xi8>, tensor<2xf32>
  return
}

// -----

func.func @dq_unsigned(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op storage must be a signed integer of at most 8 bits or a float8 type, got 'ui8'}}
  %q, %s = qopt.dynamic_quantize %x scheme <storage = ui8, granularity = per_token> : tensor<2x8xf32> -> tensor<2x8xi8>, tensor<2xf32>
  return
}

// -----

func.func @dq_asymmetric(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op the scheme must be symmetric with narrow_range: scales come from max |x|, which maps to +-qmax}}
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_token, symmetric = false, narrow_range = true> : tensor<2x8xf32> -> tensor<2x8xi8>, tensor<2xf32>
  return
}

// -----

func.func @dq_full_range(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op the scheme must be symmetric with narrow_range}}
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_token> : tensor<2x8xf32> -> tensor<2x8xi8>, tensor<2xf32>
  return
}

// -----

func.func @dq_granularity(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op granularity must be per_token or per_tensor, got per_channel}}
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_channel, axis = 1, narrow_range = true> : tensor<2x8xf32> -> tensor<2x8xi8>, tensor<8xf32>
  return
}

// -----

func.func @dq_shape(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op input and result must have the same shape, got 'tensor<2x8xf32>' and 'tensor<2x4xi8>'}}
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<2x8xf32> -> tensor<2x4xi8>, tensor<2xf32>
  return
}

// -----

func.func @dq_result_type(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op result element type 'i4' does not match the scheme's storage element type 'i8'}}
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<2x8xf32> -> tensor<2x8xi4>, tensor<2xf32>
  return
}

// -----

func.func @dq_scale_type(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op scales must be f32, got 'f16'}}
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<2x8xf32> -> tensor<2x8xi8>, tensor<2xf16>
  return
}

// -----

func.func @dq_scale_shape(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op scale dimension 0 is 3, expected 2 for per_token granularity}}
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<2x8xf32> -> tensor<2x8xi8>, tensor<3xf32>
  return
}

// -----

func.func @dq_scale_rank(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op scale must have rank 0 for per_tensor granularity, got 'tensor<2xf32>'}}
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_tensor, narrow_range = true> : tensor<2x8xf32> -> tensor<2x8xi8>, tensor<2xf32>
  return
}

// -----

func.func @dq_rank0(%x: tensor<f32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op per_token granularity requires a tensor of rank >= 1}}
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<f32> -> tensor<i8>, tensor<f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qopt.permute
//===----------------------------------------------------------------------===//

func.func @permute_repeats(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{'qopt.permute' op permutation repeats index 1 (entries 0 and 2)}}
  %y = qopt.permute %x [1, 0, 1, 3] : tensor<?x4xf32>
  return
}

// -----

func.func @permute_out_of_range(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{'qopt.permute' op permutation entry 3 is 4, out of range [0, 4)}}
  %y = qopt.permute %x [1, 0, 2, 4] : tensor<?x4xf32>
  return
}

// -----

func.func @permute_negative(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{'qopt.permute' op permutation entry 0 is -1, out of range [0, 4)}}
  %y = qopt.permute %x [-1, 0, 2, 3] : tensor<?x4xf32>
  return
}

// -----

func.func @permute_size(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{'qopt.permute' op permutation has 3 entries but the innermost dimension is 4}}
  %y = qopt.permute %x [1, 0, 2] : tensor<?x4xf32>
  return
}

// -----

func.func @permute_dynamic(%x: tensor<4x?xf32>) {
  // expected-error @+1 {{'qopt.permute' op the innermost dimension must be static}}
  %y = qopt.permute %x [1, 0, 2, 3] : tensor<4x?xf32>
  return
}

// -----

func.func @permute_rank0(%x: tensor<f32>) {
  // expected-error @+1 {{'qopt.permute' op input must have rank >= 1}}
  %y = qopt.permute %x [] : tensor<f32>
  return
}
