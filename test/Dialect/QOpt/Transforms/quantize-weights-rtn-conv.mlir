// qopt-quantize-weights-rtn on convolutions: the importer's Conv generic
// keeps its form and its constant filter becomes qopt.dequantize of codes
// (per output channel; per-group falls back), with a remark per layer and
// the convolutions counted in the summary. Split into files because pass
// options apply to a whole run.
//
// RUN: split-file %s %t
// RUN: qopt %t/int8.mlir -split-input-file -verify-diagnostics --qopt-quantize-weights-rtn='bits=8 granularity=per-channel' | FileCheck %t/int8.mlir
// RUN: qopt %t/int4.mlir -split-input-file -verify-diagnostics --qopt-quantize-weights-rtn='bits=4' | FileCheck %t/int4.mlir
// RUN: qopt %t/select.mlir --qopt-quantize-weights-rtn='bits=8 granularity=per-channel overrides=conv2=fp,conv3=int4-asym' -o %t/select.out 2>&1 | FileCheck %t/select.mlir --check-prefix=REMARK
// RUN: FileCheck %t/select.mlir < %t/select.out
// RUN: qopt %t/diagnostics.mlir -split-input-file -verify-diagnostics --qopt-quantize-weights-rtn='bits=3 granularity=per-group group-size=16' | FileCheck %t/diagnostics.mlir
// GPTQ quantizes linear layers only, and says so per convolution; W8A8
// quantizes convolutions too (quantize-w8a8-conv.mlir) and says so.
// RUN: qopt %t/others.mlir -verify-diagnostics --qopt-quantize-weights-gptq
// RUN: qopt %t/others-w8a8.mlir -verify-diagnostics --qopt-quantize-w8a8

//--- int8.mlir
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>

// int8, symmetric, per output channel on the filter viewed as [F, K] =
// [2, 8] (the filter's own row-major layout):
//   channel 0: [1.984375, -0.5, 0.0234375, 0.0390625, 0, 0, 0, 0.25],
//              max 127/64, s = 1/64: [127, -32, 1.5 -> 2, 2.5 -> 2, 0, 0, 0, 16]
//   channel 1: [0.5, -3.96875, 0.046875, -0.078125, 0, 0, 0, 1], max 127/32,
//              s = 1/32: [16, -127, 2, -2.5 -> -2, 0, 0, 0, 32]
// The convolution is unchanged but for its filter operand.
// CHECK-LABEL: func.func @conv_int8
// CHECK-DAG: %[[Q:.*]] = arith.constant dense<{{\[\[\[\[}}127, -32], [2, 2]], {{\[\[}}0, 0], [0, 16]]], {{\[\[\[}}16, -127], [2, -2]], {{\[\[}}0, 0], [0, 32]]]]> : tensor<2x2x2x2xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[1.562500e-02, 3.125000e-02]> : tensor<2xf32>
// CHECK: %[[W:.*]] = qopt.dequantize %[[Q]] scale(%[[S]] : tensor<2xf32>) scheme <storage = i8, granularity = per_channel, axis = 0, narrow_range = true> : tensor<2x2x2x2xi8> -> tensor<2x2x2x2xf32>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[W]] : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>)
// CHECK-NOT: 1.984375
// expected-remark @+1 {{rtn: quantized 1 layer (int8 pc), left 0 fp32: head 0, keep_full_precision 0, non-constant weight 0, override fp 0, not quantizable 0; convolutions among them: 1 quantized, 0 left fp32}}
module {
func.func @conv_int8(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<[[[[1.984375, -0.5], [0.0234375, 0.0390625]], [[0.0, 0.0], [0.0, 0.25]]], [[[0.5, -3.96875], [0.046875, -0.078125]], [[0.0, 0.0], [0.0, 1.0]]]]> : tensor<2x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{rtn: quantized an unnamed convolution as int8 pc}}
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}
}

// -----

#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>

// Depthwise: one input channel per filter, rows of 9.
// CHECK-LABEL: func.func @depthwise
// CHECK: qopt.dequantize %{{.*}} scale(%{{.*}} : tensor<2xf32>) scheme <storage = i8, granularity = per_channel, axis = 0, narrow_range = true> : tensor<2x1x3x3xi8> -> tensor<2x1x3x3xf32>
// expected-remark @+1 {{rtn: quantized 1 layer (int8 pc), left 0 fp32: head 0, keep_full_precision 0, non-constant weight 0, override fp 0, not quantizable 0; convolutions among them: 1 quantized, 0 left fp32}}
module {
func.func @depthwise(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<0.5> : tensor<2x1x3x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{rtn: quantized an unnamed convolution as int8 pc}}
  %y = linalg.generic {indexing_maps = [#dwx, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}
}

// -----

#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>

// A filter that is not a constant (a graph input here, ConvTranspose's
// flipped filter in imported models) is left f32 and said so; a generic
// whose constant is its first input is no convolution layer at all.
// CHECK-LABEL: func.func @computed_filter
// CHECK-NOT: qopt.dequantize
#x2 = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w2 = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y2 = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#k2 = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#i2 = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
// expected-remark @+1 {{rtn: quantized 0 layers, left 1 fp32: head 0, keep_full_precision 0, non-constant weight 1, override fp 0, not quantizable 0; convolutions among them: 0 quantized, 1 left fp32}}
module {
func.func @computed_filter(%x: tensor<1x2x3x3xf32>, %w: tensor<2x2x2x2xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{rtn: left an unnamed convolution fp32: the filter is not a constant f32 tensor}}
  %y = linalg.generic {indexing_maps = [#x2, #w2, #y2], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32>
  %k = arith.constant dense<1.0> : tensor<2x2x2x2xf32>
  %z = linalg.generic {indexing_maps = [#k2, #i2, #y2], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%k, %x : tensor<2x2x2x2xf32>, tensor<1x2x3x3xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32>
  return %y, %z : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}
}

//--- int4.mlir
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>

// int4 with the default per-group granularity: per channel (remark).
// s_f = max|W_f| / 7:
//   channel 0: s = 1.984375 / 7; w / s = [7, -1.76, 0.08, 0.14, 0, 0, 0, 0.88]
//              -> [7, -2, 0, 0, 0, 0, 0, 1]
//   channel 1: s = 3.96875 / 7; w / s = [0.88, -7, 0.08, -0.14, 0, 0, 0, 1.76]
//              -> [1, -7, 0, 0, 0, 0, 0, 2]
// One little-endian nibble stream over the filter, two codes a byte (low
// nibble first): 0xE7 = -25, 0, 0, 0x10 = 16, 0x91 = -111, 0, 0, 0x20 = 32.
// CHECK-LABEL: func.func @conv_int4
// CHECK: %[[P:.*]] = arith.constant dense<[-25, 0, 0, 16, -111, 0, 0, 32]> : tensor<8xi8>
// CHECK: %[[U:.*]] = qopt.unpack %[[P]] : tensor<8xi8> -> tensor<16xi4>
// CHECK: %[[C:.*]] = tensor.expand_shape %[[U]] {{\[\[}}0, 1, 2, 3]] output_shape [2, 2, 2, 2] : tensor<16xi4> into tensor<2x2x2x2xi4>
// CHECK: %[[S:.*]] = arith.constant dense<[0.283482{{[0-9]*}}, 0.566964{{[0-9]*}}]> : tensor<2xf32>
// CHECK: %[[W:.*]] = qopt.dequantize %[[C]] scale(%[[S]] : tensor<2xf32>) scheme <storage = i4, granularity = per_channel, axis = 0, narrow_range = true> : tensor<2x2x2x2xi4> -> tensor<2x2x2x2xf32>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[W]] :
// expected-remark @+1 {{rtn: quantized 1 layer (int4 pc), left 0 fp32: head 0, keep_full_precision 0, non-constant weight 0, override fp 0, not quantizable 0; convolutions among them: 1 quantized, 0 left fp32}}
module {
func.func @conv_int4(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<[[[[1.984375, -0.5], [0.0234375, 0.0390625]], [[0.0, 0.0], [0.0, 0.25]]], [[[0.5, -3.96875], [0.046875, -0.078125]], [[0.0, 0.0], [0.0, 1.0]]]]> : tensor<2x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  // expected-remark @+2 {{a convolution's scales are per output channel; group size 128 quantized per channel instead}}
  // expected-remark @+1 {{rtn: quantized an unnamed convolution as int4 pc}}
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}
}

// -----

#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>

// Depthwise 3x3 at 4 bits: rows of 9 codes do not fill bytes, the stream
// over the filter (18 codes, 9 bytes) does.
// CHECK-LABEL: func.func @depthwise_int4
// CHECK: qopt.unpack %{{.*}} : tensor<9xi8> -> tensor<18xi4>
// CHECK: qopt.dequantize {{.*}} : tensor<2x1x3x3xi4> -> tensor<2x1x3x3xf32>
// expected-remark @+1 {{rtn: quantized 1 layer (int4 pc), left 0 fp32: head 0, keep_full_precision 0, non-constant weight 0, override fp 0, not quantizable 0; convolutions among them: 1 quantized, 0 left fp32}}
module {
func.func @depthwise_int4(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<0.5> : tensor<2x1x3x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  // expected-remark @+2 {{a convolution's scales are per output channel; group size 128 quantized per channel instead}}
  // expected-remark @+1 {{rtn: quantized an unnamed convolution as int4 pc}}
  %y = linalg.generic {indexing_maps = [#dwx, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}
}

//--- select.mlir
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>

// Overrides by the Conv's name and qopt.keep_full_precision select
// convolutions as they select linear layers; a filter shared by three
// convolutions is quantized per layer as each asks, and stays for the one
// left f32. A convolution is never the output head.
// CHECK-LABEL: func.func @select
// CHECK-DAG: qopt.dequantize {{.*}} scheme <storage = i8, granularity = per_channel, axis = 0, narrow_range = true> : tensor<2x2x2x2xi8>
// CHECK-DAG: qopt.dequantize {{.*}} zero_point({{.*}} : tensor<2xi4>) scheme <storage = ui4, granularity = per_channel, axis = 0, symmetric = false> : tensor<2x2x2x2xi4>
// CHECK-DAG: %[[F32:.*]] = arith.constant dense<{{\[\[\[\[}}1.984375
// CHECK-DAG: %[[KEPT:.*]] = arith.constant dense<2.500000e-01>
// CHECK-DAG: ins(%{{.*}}, %[[F32]] :
// CHECK-DAG: ins(%{{.*}}, %[[KEPT]] :{{.*}}qopt.keep_full_precision
// REMARK-DAG: remark: {{.*}}rtn: quantized 2 layers (int4 pc asym: 1, int8 pc: 1), left 2 fp32: head 0, keep_full_precision 1, non-constant weight 0, override fp 1, not quantizable 0; convolutions among them: 2 quantized, 2 left fp32
module {
func.func @select(%x: tensor<1x2x3x3xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %w = arith.constant dense<[[[[1.984375, -0.5], [0.0234375, 0.0390625]], [[0.0, 0.0], [0.0, 0.25]]], [[[0.5, -3.96875], [0.046875, -0.078125]], [[0.0, 0.0], [0.0, 1.0]]]]> : tensor<2x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  // REMARK-DAG: remark: {{.*}}rtn: quantized convolution 'conv1' as int8 pc
  %y0 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32> loc("conv1")
  // REMARK-DAG: remark: {{.*}}rtn: left convolution 'conv2' fp32: override 'fp'
  %y1 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32> loc("conv2")
  // REMARK-DAG: remark: {{.*}}rtn: quantized convolution 'conv3' as int4 pc asym
  %y2 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32> loc("conv3")
  %w4 = arith.constant dense<0.25> : tensor<2x2x2x2xf32>
  // REMARK-DAG: remark: {{.*}}rtn: left convolution 'conv4' fp32: qopt.keep_full_precision
  %y3 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w4 : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) attrs = {qopt.keep_full_precision} {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32> loc("conv4")
  %sum = arith.addf %y0, %y3 : tensor<1x2x2x2xf32>
  return %sum, %y1, %y2 : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}
}

//--- diagnostics.mlir
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>

// 3 bits: 9 codes of 3 bits (one 1x3x3 filter) do not fill whole bytes.
// CHECK-LABEL: func.func @unpackable
// CHECK-NOT: qopt.dequantize
// expected-remark @+1 {{rtn: quantized 0 layers, left 1 fp32: head 0, keep_full_precision 0, non-constant weight 0, override fp 0, not quantizable 1; convolutions among them: 0 quantized, 1 left fp32}}
module {
func.func @unpackable(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<0.5> : tensor<1x1x3x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  // expected-remark @+2 {{a convolution's scales are per output channel; group size 16 quantized per channel instead}}
  // expected-warning @+1 {{not quantized: the filter's 9 values of 3 bits do not fill whole bytes}}
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) outs(%init : tensor<1x1x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}
}

// -----

#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>

// A filter with non-finite values stays f32.
// CHECK-LABEL: func.func @nonfinite
// CHECK-NOT: qopt.dequantize
// expected-remark @+1 {{rtn: quantized 0 layers, left 1 fp32: head 0, keep_full_precision 0, non-constant weight 0, override fp 0, not quantizable 1; convolutions among them: 0 quantized, 1 left fp32}}
module {
func.func @nonfinite(%x: tensor<1x1x4x4xf32>) -> tensor<1x8x2x2xf32> {
  %w = arith.constant dense<0x7F800000> : tensor<8x1x3x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x8x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x2x2xf32>) -> tensor<1x8x2x2xf32>
  // expected-warning @+1 {{not quantized: the filter has non-finite values}}
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x1x4x4xf32>, tensor<8x1x3x3xf32>) outs(%init : tensor<1x8x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x8x2x2xf32>
  return %y : tensor<1x8x2x2xf32>
}
}

//--- others.mlir
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>
// expected-remark @+1 {{gptq: quantized 0 layers (0 by RTN), left 0 fp32; left 1 convolution fp32}}
module {
func.func @gptq(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<[[[[1.984375, -0.5], [0.0234375, 0.0390625]], [[0.0, 0.0], [0.0, 0.25]]], [[[0.5, -3.96875], [0.046875, -0.078125]], [[0.0, 0.0], [0.0, 1.0]]]]> : tensor<2x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{gptq: left an unnamed convolution fp32: convolution (gptq quantizes linear layers; qopt-quantize-weights-rtn quantizes convolutions)}}
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}
}

//--- others-w8a8.mlir
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>
// expected-remark @+1 {{w8a8: quantized 1 layers (1 dynamic, 0 static), left 0 fp32; convolutions among them: 1 quantized, 0 left fp32}}
module {
func.func @w8a8(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<[[[[1.984375, -0.5], [0.0234375, 0.0390625]], [[0.0, 0.0], [0.0, 0.25]]], [[[0.5, -3.96875], [0.046875, -0.078125]], [[0.0, 0.0], [0.0, 1.0]]]]> : tensor<2x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{w8a8: an unnamed convolution: int8 weights per output channel, int8 activations per tensor (dynamic)}}
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}
}
