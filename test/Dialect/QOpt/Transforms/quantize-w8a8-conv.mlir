// qopt-quantize-w8a8 on convolutions: the importer's Conv generic becomes
// the same generic on an int8 input and an int8 filter (per output channel)
// accumulating in i32, then one elementwise rescale ((f32)acc * sx) * sw[f].
// Split into files because pass options apply to a whole run.
//
// RUN: split-file %s %t
// RUN: qopt %t/dynamic.mlir -split-input-file --qopt-quantize-w8a8 2>/dev/null | FileCheck %t/dynamic.mlir
// RUN: qopt %t/static.mlir -split-input-file --qopt-quantize-w8a8='activations=static quantize-depthwise=true' 2>/dev/null | FileCheck %t/static.mlir
// RUN: qopt %t/static.mlir -split-input-file --qopt-quantize-w8a8='activations=static' 2>&1 | FileCheck %t/static.mlir --check-prefix=DEFAULT
// RUN: qopt %t/remarks.mlir -split-input-file -verify-diagnostics --qopt-quantize-w8a8 -o /dev/null
// RUN: qopt %t/select.mlir --qopt-quantize-w8a8='overrides=conv_fp=fp,conv_s=static' 2>&1 -o /dev/null | FileCheck %t/select.mlir
// RUN: qopt %t/missing-stats.mlir -split-input-file -verify-diagnostics --qopt-quantize-w8a8='activations=static'

//--- dynamic.mlir
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>

// Filter [F, K] = [2, 8] per output channel, as RTN int8:
//   channel 0: max 127/64, s = 1/64: [127, -32, 1.5 -> 2, 2.5 -> 2, 0, 0, 0, 16]
//   channel 1: max 127/32, s = 1/32: [16, -127, 2, -2.5 -> -2, 0, 0, 0, 32]
// The input is quantized once per tensor at run time, before the zero
// padding, which moves to the int8 tensor.
// CHECK-LABEL: func.func @conv_dynamic
// CHECK: %[[Q:.*]], %[[XS:.*]] = qopt.dynamic_quantize %arg0 scheme <storage = i8, granularity = per_tensor, narrow_range = true> : tensor<1x2x2x2xf32> -> tensor<1x2x2x2xi8>, tensor<f32>
// CHECK: %[[Z8:.*]] = arith.constant 0 : i8
// CHECK: %[[P:.*]] = tensor.pad %[[Q]] low[0, 0, 1, 1] high[0, 0, 0, 0]
// CHECK: tensor.yield %[[Z8]] : i8
// CHECK: } : tensor<1x2x2x2xi8> to tensor<1x2x3x3xi8>
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}127, -32], [2, 2]], {{\[\[}}0, 0], [0, 16]]], {{\[\[\[}}16, -127], [2, -2]], {{\[\[}}0, 0], [0, 32]]]]> : tensor<2x2x2x2xi8>
// CHECK-DAG: %[[WS:.*]] = arith.constant dense<[1.562500e-02, 3.125000e-02]> : tensor<2xf32>
// CHECK: %[[FILL:.*]] = linalg.fill ins(%{{.*}} : i32) outs(%{{.*}} : tensor<1x2x2x2xi32>)
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[P]], %[[W]] : tensor<1x2x3x3xi8>, tensor<2x2x2x2xi8>) outs(%[[FILL]] : tensor<1x2x2x2xi32>)
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.muli
// CHECK: arith.addi
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[ACC]], %[[XS]], %[[WS]] : tensor<1x2x2x2xi32>, tensor<f32>, tensor<2xf32>)
// CHECK: %[[F:.*]] = arith.sitofp %{{.*}} : i32 to f32
// CHECK: %[[T:.*]] = arith.mulf %[[F]], %{{.*}} : f32
// CHECK: arith.mulf %[[T]], %{{.*}} : f32
// CHECK: return %[[Y]]
// CHECK-NOT: tensor<2x2x2x2xf32>
func.func @conv_dynamic(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<[[[[1.984375, -0.5], [0.0234375, 0.0390625]], [[0.0, 0.0], [0.0, 0.25]]], [[[0.5, -3.96875], [0.046875, -0.078125]], [[0.0, 0.0], [0.0, 1.0]]]]> : tensor<2x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x2x2x2xf32> to tensor<1x2x3x3xf32>
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%p, %w : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// -----

#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>

// A convolution that accumulates into a computed tensor (not a zero fill)
// keeps the addition; a pad by a non-zero value stays f32 (it is quantized
// after the padding); two convolutions of one input share its quantization.
// CHECK-LABEL: func.func @conv_accumulate
// CHECK: %[[P:.*]] = tensor.pad %arg0
// CHECK: qopt.dynamic_quantize %[[P]] scheme <storage = i8, granularity = per_tensor, narrow_range = true> : tensor<1x1x3x3xf32>
// CHECK-NOT: qopt.dynamic_quantize
// CHECK: %[[Y1:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x1x2x2xi32>, tensor<f32>, tensor<1xf32>)
// CHECK: %[[S:.*]] = linalg.generic {{.*}} ins(%[[Y1]], %arg1 : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>)
// CHECK: arith.addf
// CHECK: %[[Y2:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x1x2x2xi32>, tensor<f32>, tensor<1xf32>)
// CHECK: return %[[S]], %[[Y2]]
func.func @conv_accumulate(%x: tensor<1x1x2x2xf32>, %acc: tensor<1x1x2x2xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) {
  %w = arith.constant dense<[[[[1.0, -0.5], [0.25, 0.125]]]]> : tensor<1x1x2x2xf32>
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %one : f32
  } : tensor<1x1x2x2xf32> to tensor<1x1x3x3xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%p, %w : tensor<1x1x3x3xf32>, tensor<1x1x2x2xf32>) outs(%acc : tensor<1x1x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2x2xf32>
  %e = tensor.empty() : tensor<1x1x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %y2 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%p, %w : tensor<1x1x3x3xf32>, tensor<1x1x2x2xf32>) outs(%init : tensor<1x1x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2x2xf32>
  return %y, %y2 : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>
}

//--- static.mlir
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 * 2 + d5, d3 * 2 + d6)>

// Static: s = max(|min|, |max|) / 127 = 2.54 / 127 = 0.02 from the
// observer on the convolution's input (here between the padding and the
// convolution, where qopt-insert-observers puts it); the observer is
// consumed. A depthwise stride-2 convolution (group = channels) with
// quantize-depthwise=true; by default it stays f32, with a remark, and
// its observer goes too (it would record statistics on every run).
// DEFAULT: remark: {{.*}}w8a8: left convolution 'dw' fp32: depthwise convolution (quantize-depthwise=false)
// DEFAULT: remark: w8a8: quantized 0 layers (0 dynamic, 0 static), left 1 fp32; convolutions among them: 0 quantized, 1 left fp32
// DEFAULT-NOT: qopt.observe
// CHECK-LABEL: func.func @conv_static
// CHECK-DAG: %[[XS:.*]] = arith.constant dense<2.000000e-02> : tensor<f32>
// CHECK-DAG: %[[Q:.*]] = qopt.quantize %arg0 scale(%[[XS]] : tensor<f32>) scheme <storage = i8, granularity = per_tensor, narrow_range = true> : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xi8>
// CHECK: %[[P:.*]] = tensor.pad %[[Q]]
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}} ins(%[[P]], %{{.*}} : tensor<1x2x5x5xi8>, tensor<2x1x2x2xi8>) outs(%{{.*}} : tensor<1x2x2x2xi32>)
// CHECK: linalg.generic {{.*}} ins(%[[ACC]], %[[XS]], %{{.*}} : tensor<1x2x2x2xi32>, tensor<f32>, tensor<2xf32>)
// CHECK-NOT: qopt.observe
func.func @conv_static(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<[[[[1.0, -0.5], [0.25, 0.125]]], [[[2.0, 1.0], [-1.0, 0.5]]]]> : tensor<2x1x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x2x4x4xf32> to tensor<1x2x5x5xf32>
  %o = qopt.observe %p name "dw:input" observer <kind = min_max> stats <samples = 8, min = dense<-2.54> : tensor<f32>, max = dense<1.5> : tensor<f32>> : tensor<1x2x5x5xf32>
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %y = linalg.generic {indexing_maps = [#dwx, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%o, %w : tensor<1x2x5x5xf32>, tensor<2x1x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32> loc("dw")
  return %y : tensor<1x2x2x2xf32>
}

//--- remarks.mlir
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>

// Every convolution gets a remark, and the summary counts them: one
// quantized, one kept by qopt.keep_full_precision, one with a computed
// filter. The head rule is about linear layers: a convolution whose result
// is returned is quantized.
// expected-remark @+1 {{w8a8: quantized 1 layers (1 dynamic, 0 static), left 2 fp32; convolutions among them: 1 quantized, 2 left fp32}}
module {
func.func @remarks(%x: tensor<1x1x2x2xf32>, %wx: tensor<1x1x1x1xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) {
  %w = arith.constant dense<0.5> : tensor<1x1x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  // expected-remark @+1 {{w8a8: an unnamed convolution: int8 weights per output channel, int8 activations per tensor (dynamic)}}
  %a = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) outs(%init : tensor<1x1x2x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %m = arith.mulf %i0, %i1 : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2x2xf32>
  // expected-remark @+1 {{w8a8: left an unnamed convolution fp32: marked qopt.keep_full_precision}}
  %b = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) outs(%init : tensor<1x1x2x2xf32>) attrs = {qopt.keep_full_precision} {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %m = arith.mulf %i0, %i1 : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2x2xf32>
  // expected-remark @+1 {{w8a8: left an unnamed convolution fp32: the filter is not a constant f32 tensor}}
  %d = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %wx : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) outs(%init : tensor<1x1x2x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %m = arith.mulf %i0, %i1 : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2x2xf32>
  return %a, %b, %d : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>
}
}

//--- select.mlir
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>

// Overrides select convolutions by node name like linear layers; a
// computed filter by its own (RTN's) dequantize is not taken again.
// CHECK: remark: {{.*}}w8a8: left convolution 'conv_fp' fp32: override 'conv_fp=fp'
// CHECK: remark: {{.*}}w8a8: convolution 'conv_s': int8 weights per output channel, int8 activations per tensor (static, scale 0.01 from max |x| = 1.27)
// CHECK: remark: {{.*}}w8a8: left convolution 'conv_rtn' fp32: its filter is already weight-only quantized
// CHECK: remark: w8a8: quantized 1 layers (0 dynamic, 1 static), left 2 fp32; convolutions among them: 1 quantized, 2 left fp32
func.func @select(%x: tensor<1x1x2x2xf32>, %q: tensor<1x1x1x1xi8>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) {
  %w = arith.constant dense<0.5> : tensor<1x1x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %c = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) outs(%init : tensor<1x1x2x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %m = arith.mulf %i0, %i1 : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2x2xf32> loc("conv_fp")
  %o = qopt.observe %x name "conv_s:input" observer <kind = min_max> stats <samples = 8, min = dense<-1.27> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<1x1x2x2xf32>
  %s1 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%o, %w : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) outs(%init : tensor<1x1x2x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o1: f32):
    %m = arith.mulf %i0, %i1 : f32
    %s = arith.addf %o1, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2x2xf32> loc("conv_s")
  %scale = arith.constant dense<0.25> : tensor<1xf32>
  %wq = qopt.dequantize %q scale(%scale : tensor<1xf32>) scheme <storage = i8, granularity = per_channel, axis = 0, narrow_range = true> : tensor<1x1x1x1xi8> -> tensor<1x1x1x1xf32>
  %r = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %wq : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) outs(%init : tensor<1x1x2x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o1: f32):
    %m = arith.mulf %i0, %i1 : f32
    %s = arith.addf %o1, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2x2xf32> loc("conv_rtn")
  return %c, %s1, %r : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>
}

//--- missing-stats.mlir
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>

// Static activations without statistics on a convolution's input: an error
// (naming the convolution when it has a name), and nothing changes.
func.func @missing(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<0.5> : tensor<1x1x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  // expected-error @+1 {{w8a8: static activations need calibration statistics, but this convolution's input has no qopt.observe with range stats (min_max, abs_max, percentile, mse or histogram); run qopt-insert-observers{observers=min_max}, qrun calibrate and qopt-apply-calibration first (docs/calibration.md)}}
  %a = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) outs(%init : tensor<1x1x2x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %m = arith.mulf %i0, %i1 : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2x2xf32>
  return %a : tensor<1x1x2x2xf32>
}

// -----

#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>

// range=... is not asked for, but two clipping observers disagree.
func.func @ambiguous(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<0.5> : tensor<1x1x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %0 = qopt.observe %x name "c:input" observer <kind = percentile, percentile = 99.0, bins = 8> stats <samples = 8, min = dense<-1.27> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<1x1x2x2xf32>
  %1 = qopt.observe %0 name "c:input" observer <kind = mse, bins = 8> stats <samples = 8, min = dense<-2.54> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<1x1x2x2xf32>
  // expected-error @+1 {{w8a8: this convolution's input has statistics of several clipping observers; choose one with range=percentile, mse or histogram}}
  %a = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%1, %w : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) outs(%init : tensor<1x1x2x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %m = arith.mulf %i0, %i1 : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2x2xf32>
  return %a : tensor<1x1x2x2xf32>
}
