// The test is split into files because pass options apply to a whole run:
// each file below is run with its own options. Every layer gets a remark;
// the FileCheck runs read only the IR (stdout), remarks.mlir checks them.
//
// RUN: split-file %s %t
// RUN: qopt %t/dynamic.mlir -split-input-file --qopt-quantize-w8a8 2>/dev/null | FileCheck %t/dynamic.mlir
// RUN: qopt %t/static.mlir -split-input-file --qopt-quantize-w8a8='activations=static' 2>/dev/null | FileCheck %t/static.mlir
// RUN: qopt %t/select.mlir -mlir-print-debuginfo -mlir-print-local-scope --qopt-quantize-w8a8 2>/dev/null | FileCheck %t/select.mlir --check-prefix=DEFAULT
// RUN: qopt %t/select.mlir -mlir-print-debuginfo -mlir-print-local-scope --qopt-quantize-w8a8='overrides=attn.k=fp,mlp.*=static,lm_head=dynamic' 2>/dev/null | FileCheck %t/select.mlir --check-prefix=OVERRIDES
// RUN: qopt %t/select.mlir -mlir-print-debuginfo -mlir-print-local-scope --qopt-quantize-w8a8='include=^mlp' 2>/dev/null | FileCheck %t/select.mlir --check-prefix=INCLUDE
// RUN: qopt %t/select.mlir -mlir-print-debuginfo -mlir-print-local-scope --qopt-quantize-w8a8='include=head exclude=^mlp' 2>/dev/null | FileCheck %t/select.mlir --check-prefix=INCLUDE-HEAD
// RUN: qopt %t/select.mlir -mlir-print-debuginfo -mlir-print-local-scope --qopt-quantize-w8a8='exclude=attn quantize-head=true' 2>/dev/null | FileCheck %t/select.mlir --check-prefix=EXCLUDE
// RUN: qopt %t/resources.mlir --qopt-quantize-w8a8='resource-threshold=0' 2>/dev/null | FileCheck %t/resources.mlir
// RUN: qopt %t/remarks.mlir -split-input-file -verify-diagnostics --qopt-quantize-w8a8 | FileCheck %t/remarks.mlir
// RUN: qopt %t/remarks-static.mlir -verify-diagnostics --qopt-quantize-w8a8='activations=static'
// RUN: qopt %t/missing-stats.mlir -verify-diagnostics --qopt-quantize-w8a8='activations=static'
// RUN: qopt %t/range.mlir -split-input-file --qopt-quantize-w8a8='activations=static' 2>/dev/null | FileCheck %t/range.mlir --check-prefix=AUTO
// RUN: qopt %t/range.mlir -split-input-file --qopt-quantize-w8a8='activations=static range=min_max' 2>/dev/null | FileCheck %t/range.mlir --check-prefix=MINMAX
// RUN: qopt %t/range-errors.mlir -split-input-file -verify-diagnostics --qopt-quantize-w8a8='activations=static'
// RUN: qopt %t/range-missing.mlir -verify-diagnostics --qopt-quantize-w8a8='activations=static range=mse'
// RUN: qopt %t/bad-range.mlir -verify-diagnostics --qopt-quantize-w8a8='activations=static range=hessian'
// RUN: qopt %t/bad-activations.mlir -verify-diagnostics --qopt-quantize-w8a8='activations=per-channel'
// RUN: qopt %t/bad-override-form.mlir -verify-diagnostics --qopt-quantize-w8a8='overrides=fc1'
// RUN: qopt %t/bad-override-spec.mlir -verify-diagnostics --qopt-quantize-w8a8='overrides=fc*=int8'
// RUN: qopt %t/bad-override-glob.mlir -verify-diagnostics --qopt-quantize-w8a8='overrides=fc[=fp'
// RUN: qopt %t/bad-regex.mlir -verify-diagnostics --qopt-quantize-w8a8='exclude=fc['
// RUN: qopt %t/fp8.mlir -split-input-file --qopt-quantize-w8a8='storage=f8E4M3FN' 2>/dev/null | FileCheck %t/fp8.mlir
// RUN: qopt %t/fp8-static.mlir --qopt-quantize-w8a8='storage=f8E4M3FN activations=static' 2>/dev/null | FileCheck %t/fp8-static.mlir
// RUN: qopt %t/bad-storage.mlir -verify-diagnostics --qopt-quantize-w8a8='storage=i4'

//--- dynamic.mlir

// Weights: int8 per output channel, symmetric, narrow range, as RTN int8:
// s = max|w| / 127, q = round_half_even(w / s). The weight is [K, N] =
// [4, 2], so the output channels are its columns:
//   column 0: [1.984375, -0.5, 0.0234375, 0.0390625], max 1.984375 = 127/64,
//             s = 1/64; w / s = [127, -32, 1.5, 2.5] -> [127, -32, 2, 2]
//   column 1: [0.5, -3.96875, 0.046875, -0.078125], max 3.96875 = 127/32,
//             s = 1/32; w / s = [16, -127, 1.5, -2.5] -> [16, -127, 2, -2]
// Activations: per token, at run time; the bias carries over; the f32
// weight is gone.
// CHECK-LABEL: func.func @dynamic
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}127, -32, 2, 2], [16, -127, 2, -2]]> : tensor<2x4xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[1.562500e-02, 3.125000e-02]> : tensor<2xf32>
// CHECK-DAG: %[[Q:.*]], %[[XS:.*]] = qopt.dynamic_quantize %arg0 scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<?x4xf32> -> tensor<?x4xi8>, tensor<?xf32>
// CHECK: %[[Y:.*]] = qopt.quantized_linear %[[Q]], %[[W]] input_scale(%[[XS]] : tensor<?xf32>) weight_scale(%[[S]] : tensor<2xf32>) bias(%arg1 : tensor<2xf32>) schemes(<storage = i8, granularity = per_token, narrow_range = true>, <storage = i8, granularity = per_channel, axis = 0, narrow_range = true>) : tensor<?x4xi8>, tensor<2x4xi8> -> tensor<?x2xf32>
// CHECK: arith.negf %[[Y]]
// CHECK-NOT: tensor<4x2xf32>
func.func @dynamic(%x: tensor<?x4xf32>, %b: tensor<2xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.984375, 0.5], [-0.5, -3.96875], [0.0234375, 0.046875], [0.0390625, -0.078125]]> : tensor<4x2xf32>
  %y = qopt.linear %x, %w bias(%b : tensor<2xf32>) : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

// -----

// The same weight as [N, K] (transpose_weight); an all-zero channel gets
// scale 1 and quantizes to zeros.
// CHECK-LABEL: func.func @transposed_zero_channel
// CHECK-DAG: arith.constant dense<{{\[\[}}127, -32, 2, 2], [0, 0, 0, 0]]> : tensor<2x4xi8>
// CHECK-DAG: arith.constant dense<[1.562500e-02, 1.000000e+00]> : tensor<2xf32>
// CHECK: qopt.quantized_linear
func.func @transposed_zero_channel(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.984375, -0.5, 0.0234375, 0.0390625], [0.0, 0.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %y = qopt.linear %x, %w transpose_weight : tensor<3x4xf32>, tensor<2x4xf32> -> tensor<3x2xf32>
  %r = arith.negf %y : tensor<3x2xf32>
  return %r : tensor<3x2xf32>
}

// -----

// Layers that read one activation (q, k and v projections) share one
// quantization, placed after the value's definition; [B, S, K] inputs get
// [B, S] scales. A weight two layers share is quantized once.
// CHECK-LABEL: func.func @shared_input
// CHECK: %[[H:.*]] = arith.negf %arg0
// CHECK-NEXT: %[[Q:.*]], %[[XS:.*]] = qopt.dynamic_quantize %[[H]] scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<?x?x4xf32> -> tensor<?x?x4xi8>, tensor<?x?xf32>
// CHECK-NOT: qopt.dynamic_quantize
// CHECK: qopt.quantized_linear %[[Q]], %{{.*}} input_scale(%[[XS]] : tensor<?x?xf32>) {{.*}} : tensor<?x?x4xi8>, tensor<2x4xi8> -> tensor<?x?x2xf32>
// CHECK: qopt.quantized_linear %[[Q]], %{{.*}} input_scale(%[[XS]] : tensor<?x?xf32>) {{.*}} : tensor<?x?x4xi8>, tensor<2x4xi8> -> tensor<?x?x2xf32>
// CHECK-NOT: qopt.linear
func.func @shared_input(%x: tensor<?x?x4xf32>) -> tensor<?x?x2xf32> {
  %h = arith.negf %x : tensor<?x?x4xf32>
  %w = arith.constant dense<[[1.984375, 0.5], [-0.5, -3.96875], [0.0234375, 0.046875], [0.0390625, -0.078125]]> : tensor<4x2xf32>
  %a = qopt.linear %h, %w : tensor<?x?x4xf32>, tensor<4x2xf32> -> tensor<?x?x2xf32>
  %b = qopt.linear %h, %w : tensor<?x?x4xf32>, tensor<4x2xf32> -> tensor<?x?x2xf32>
  %s = arith.addf %a, %b : tensor<?x?x2xf32>
  %r = arith.negf %s : tensor<?x?x2xf32>
  return %r : tensor<?x?x2xf32>
}

// -----

// The output head (its result reaches the return through reshapes only)
// stays f32, as do layers whose weight is not a constant.
// CHECK-LABEL: func.func @head_and_argument_weight
// CHECK: qopt.linear %arg0, %arg1
// CHECK: qopt.linear
// CHECK-NOT: qopt.quantized_linear
func.func @head_and_argument_weight(%x: tensor<2x4xf32>, %w: tensor<4x4xf32>) -> tensor<1x2x2xf32> {
  %h = qopt.linear %x, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  %n = arith.negf %h : tensor<2x4xf32>
  %c = arith.constant dense<1.0> : tensor<4x2xf32>
  %y = qopt.linear %n, %c : tensor<2x4xf32>, tensor<4x2xf32> -> tensor<2x2xf32>
  %e = tensor.expand_shape %y [[0, 1], [2]] output_shape [1, 2, 2] : tensor<2x2xf32> into tensor<1x2x2xf32>
  return %e : tensor<1x2x2xf32>
}

// -----

// A block argument is quantized at the start of its block.
// CHECK-LABEL: func.func @block_argument
// CHECK-NEXT: qopt.dynamic_quantize %arg0
func.func @block_argument(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %c = arith.constant dense<1.0> : tensor<4x2xf32>
  %y = qopt.linear %x, %c : tensor<2x4xf32>, tensor<4x2xf32> -> tensor<2x2xf32>
  %r = arith.negf %y : tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}

//--- static.mlir

// One scale per tensor from the min_max statistics: s = max(|min|, |max|)
// / 127 = 3 / 127; the observer is consumed.
// CHECK-LABEL: func.func @static
// CHECK-DAG: %[[XS:.*]] = arith.constant dense<0.0236220472> : tensor<f32>
// CHECK-DAG: %[[Q:.*]] = qopt.quantize %arg0 scale(%[[XS]] : tensor<f32>) scheme <storage = i8, granularity = per_tensor, narrow_range = true> : tensor<?x4xf32> -> tensor<?x4xi8>
// CHECK: qopt.quantized_linear %[[Q]], %{{.*}} input_scale(%[[XS]] : tensor<f32>) weight_scale(%{{.*}} : tensor<2xf32>) schemes(<storage = i8, granularity = per_tensor, narrow_range = true>, <storage = i8, granularity = per_channel, axis = 0, narrow_range = true>) : tensor<?x4xi8>, tensor<2x4xi8> -> tensor<?x2xf32>
// CHECK-NOT: qopt.observe
func.func @static(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.984375, 0.5], [-0.5, -3.96875], [0.0234375, 0.046875], [0.0390625, -0.078125]]> : tensor<4x2xf32>
  %o = qopt.observe %x name "fc1:input" observer <kind = min_max> stats <samples = 8, min = dense<-3.0> : tensor<f32>, max = dense<2.5> : tensor<f32>> : tensor<?x4xf32>
  %y = qopt.linear %o, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

// -----

// A chain of observers (as qopt-insert-observers builds it) is removed
// whole; min_max wins over abs_max (largest channel 127 -> s = 1).
// CHECK-LABEL: func.func @static_chain
// CHECK-DAG: arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NOT: qopt.observe
func.func @static_chain(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %0 = qopt.observe %x name "fc1:input" observer <kind = min_max> stats <samples = 8, min = dense<-63.5> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  %1 = qopt.observe %0 name "fc1:input" observer <kind = abs_max, axis = 1> stats <samples = 8, absmax = dense<[1.0, 127.0, 0.5, 2.0]> : tensor<4xf32>> : tensor<?x4xf32>
  %y = qopt.linear %1, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

// -----

// abs_max statistics alone: the largest channel, 63.5 -> s = 0.5.
// CHECK-LABEL: func.func @static_abs_max
// CHECK-DAG: arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NOT: qopt.observe
func.func @static_abs_max(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %0 = qopt.observe %x name "fc1:input" observer <kind = abs_max, axis = 1> stats <samples = 8, absmax = dense<[1.0, 63.5, 0.5, 2.0]> : tensor<4xf32>> : tensor<?x4xf32>
  %y = qopt.linear %0, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

// -----

// An input that was always zero gets the safe scale 1 (0 / 127 = 0 would
// turn every product into NaN).
// CHECK-LABEL: func.func @static_zero
// CHECK-DAG: arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: qopt.quantize
func.func @static_zero(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %0 = qopt.observe %x name "fc1:input" observer <kind = min_max> stats <samples = 8, min = dense<0.0> : tensor<f32>, max = dense<0.0> : tensor<f32>> : tensor<?x4xf32>
  %y = qopt.linear %0, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

// -----

// Two layers on one activation, each with its own observer and the same
// statistics, share one quantization. The head keeps its observer: it
// stays f32, and its statistics are not consumed.
// CHECK-LABEL: func.func @static_shared
// CHECK: %[[H:.*]] = arith.negf %arg0
// CHECK-NEXT: %[[XS:.*]] = arith.constant dense<0.0236220472> : tensor<f32>
// CHECK-NEXT: %[[Q:.*]] = qopt.quantize %[[H]] scale(%[[XS]] : tensor<f32>)
// CHECK-NOT: qopt.quantize
// CHECK: qopt.quantized_linear %[[Q]]
// CHECK: qopt.quantized_linear %[[Q]]
// CHECK: %[[O:.*]] = qopt.observe {{.*}} name "head:input"
// CHECK: qopt.linear %[[O]]
func.func @static_shared(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %h = arith.negf %x : tensor<?x4xf32>
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  %0 = qopt.observe %h name "q:input" observer <kind = min_max> stats <samples = 8, min = dense<-3.0> : tensor<f32>, max = dense<2.5> : tensor<f32>> : tensor<?x4xf32>
  %a = qopt.linear %0, %w : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32> loc("q")
  %1 = qopt.observe %h name "k:input" observer <kind = min_max> stats <samples = 8, min = dense<-3.0> : tensor<f32>, max = dense<2.5> : tensor<f32>> : tensor<?x4xf32>
  %b = qopt.linear %1, %w : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32> loc("k")
  %s = arith.addf %a, %b : tensor<?x4xf32>
  %2 = qopt.observe %s name "head:input" observer <kind = min_max> stats <samples = 8, min = dense<-1.0> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  %y = qopt.linear %2, %w : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32> loc("head")
  return %y : tensor<?x4xf32>
}

//--- select.mlir

// Layer names are ONNX node names (NameLoc). mlp.down has statistics, so
// it can be static; the head is named lm_head.
func.func @select(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  %q = qopt.linear %x, %w : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32> loc("attn.q")
  %k = qopt.linear %q, %w : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32> loc("attn.k")
  %v = qopt.linear %k, %w {qopt.keep_full_precision} : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32> loc("attn.v")
  %u = qopt.observe %v name "mlp.up:input" observer <kind = min_max> stats <samples = 8, min = dense<-1.0> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  %up = qopt.linear %u, %w : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32> loc("mlp.up")
  %d = qopt.observe %up name "mlp.down:input" observer <kind = min_max> stats <samples = 8, min = dense<-1.0> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  %down = qopt.linear %d, %w : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32> loc("mlp.down")
  %n = arith.negf %down : tensor<?x4xf32>
  %y = qopt.linear %n, %w : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32> loc("lm_head")
  %r = arith.negf %y : tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// Defaults: all but the head and the marked layer, dynamic.
// DEFAULT: qopt.quantized_linear {{.*}} loc("attn.q")
// DEFAULT: qopt.quantized_linear {{.*}} loc("attn.k")
// DEFAULT: qopt.linear {{.*}} {qopt.keep_full_precision} {{.*}} loc("attn.v")
// DEFAULT: qopt.quantized_linear {{.*}} loc("mlp.up")
// DEFAULT: qopt.quantized_linear {{.*}} loc("mlp.down")
// DEFAULT: qopt.linear {{.*}} loc("lm_head")
// DEFAULT-NOT: qopt.quantize scale

// Overrides come first (the head too); keep_full_precision comes before
// them.
// OVERRIDES: qopt.dynamic_quantize
// OVERRIDES: qopt.quantized_linear {{.*}} schemes(<storage = i8, granularity = per_token, {{.*}} loc("attn.q")
// OVERRIDES: qopt.linear {{.*}} loc("attn.k")
// OVERRIDES: qopt.linear {{.*}} {qopt.keep_full_precision} {{.*}} loc("attn.v")
// OVERRIDES: qopt.quantized_linear {{.*}} schemes(<storage = i8, granularity = per_tensor, {{.*}} loc("mlp.up")
// OVERRIDES: qopt.quantized_linear {{.*}} schemes(<storage = i8, granularity = per_tensor, {{.*}} loc("mlp.down")
// OVERRIDES: qopt.quantized_linear {{.*}} schemes(<storage = i8, granularity = per_token, {{.*}} loc("lm_head")
// OVERRIDES-NOT: qopt.observe

// include: only matching layers.
// INCLUDE: qopt.linear {{.*}} loc("attn.q")
// INCLUDE: qopt.linear {{.*}} loc("attn.k")
// INCLUDE: qopt.quantized_linear {{.*}} loc("mlp.up")
// INCLUDE: qopt.quantized_linear {{.*}} loc("mlp.down")
// INCLUDE: qopt.linear {{.*}} loc("lm_head")

// include takes the head even without quantize-head; exclude wins over
// include.
// INCLUDE-HEAD: qopt.linear {{.*}} loc("attn.q")
// INCLUDE-HEAD: qopt.linear {{.*}} loc("mlp.up")
// INCLUDE-HEAD: qopt.linear {{.*}} loc("mlp.down")
// INCLUDE-HEAD: qopt.quantized_linear {{.*}} loc("lm_head")

// EXCLUDE: qopt.linear {{.*}} loc("attn.q")
// EXCLUDE: qopt.linear {{.*}} loc("attn.k")
// EXCLUDE: qopt.quantized_linear {{.*}} loc("mlp.up")
// EXCLUDE: qopt.quantized_linear {{.*}} loc("mlp.down")
// EXCLUDE: qopt.quantized_linear {{.*}} loc("lm_head")

//--- resources.mlir

// Large constants become blobs named after the layer; a weight two layers
// share is quantized once (both read fc1's blobs). Blobs start with their
// alignment as a little-endian u32: 64 for the weight, 4 for the scales.
// CHECK-LABEL: func.func @resources
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<w8a8.blk.0_fc1.weight> : tensor<2x4xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense_resource<w8a8.blk.0_fc1.weight_scale> : tensor<2xf32>
// CHECK: qopt.quantized_linear %{{.*}}, %[[W]] {{.*}} weight_scale(%[[S]] : tensor<2xf32>)
// CHECK: qopt.quantized_linear %{{.*}}, %{{.*}} {{.*}} weight_scale(%{{.*}} : tensor<2xf32>)
// CHECK-NOT: w8a8.fc2
// CHECK: w8a8.blk.0_fc1.weight: "0x400000007FE00202108102FE"
// CHECK: w8a8.blk.0_fc1.weight_scale: "0x040000000000803C0000003D"
func.func @resources(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.984375, 0.5], [-0.5, -3.96875], [0.0234375, 0.046875], [0.0390625, -0.078125]]> : tensor<4x2xf32>
  %a = qopt.linear %x, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32> loc("blk.0/fc1")
  %b = qopt.linear %x, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32> loc("fc2")
  %s = arith.addf %a, %b : tensor<?x2xf32>
  %r = arith.negf %s : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

//--- remarks.mlir

// A remark per layer saying what happened to it, and a summary.
// CHECK-LABEL: func.func @remarks
module { // expected-remark {{w8a8: quantized 1 layers (1 dynamic, 0 static), left 3 fp32}}
func.func @remarks(%x: tensor<2x4xf32>, %wa: tensor<4x4xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  // expected-remark @+1 {{w8a8: int8 weights per channel, int8 activations per token (dynamic)}}
  %a = qopt.linear %x, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  // expected-remark @+1 {{w8a8: left fp32: marked qopt.keep_full_precision}}
  %b = qopt.linear %a, %w {qopt.keep_full_precision} : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  // expected-remark @+1 {{w8a8: left fp32: the weight is not a constant f32 tensor}}
  %c = qopt.linear %b, %wa : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  // expected-remark @+1 {{w8a8: left fp32: the output head (quantize-head=false)}}
  %y = qopt.linear %c, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
}

// -----

// Non-finite weights stay f32, with a warning.
// CHECK-LABEL: func.func @non_finite
// CHECK: qopt.linear
module { // expected-remark {{w8a8: quantized 0 layers (0 dynamic, 0 static), left 1 fp32}}
func.func @non_finite(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[1.0, 0x7F800000], [0.0, 1.0]]> : tensor<2x2xf32>
  // expected-warning @+2 {{w8a8: not quantized: the weight has non-finite values}}
  // expected-remark @+1 {{w8a8: left fp32: the weight has non-finite values}}
  %y = qopt.linear %x, %w : tensor<2x2xf32>, tensor<2x2xf32> -> tensor<2x2xf32>
  %r = arith.negf %y : tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}
}

//--- remarks-static.mlir

// A layer that cannot be quantized (its weight is an argument) needs no
// statistics.
module { // expected-remark {{w8a8: quantized 1 layers (0 dynamic, 1 static), left 1 fp32}}
func.func @remarks_static(%x: tensor<2x4xf32>, %wa: tensor<4x4xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  %o = qopt.observe %x name "fc:input" observer <kind = min_max> stats <samples = 8, min = dense<-3.0> : tensor<f32>, max = dense<2.5> : tensor<f32>> : tensor<2x4xf32>
  // expected-remark @+1 {{w8a8: int8 weights per channel, int8 activations per tensor (static, scale 0.023622 from max |x| = 3)}}
  %a = qopt.linear %o, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  // expected-remark @+1 {{w8a8: left fp32: the weight is not a constant f32 tensor}}
  %b = qopt.linear %a, %wa : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  %r = arith.negf %b : tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}
}

//--- missing-stats.mlir

// Static activations need statistics on every static layer's input; every
// layer without them is reported (an observer without stats does not
// count), and nothing changes.
func.func @missing_stats(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  // expected-error @+1 {{w8a8: static activations need calibration statistics, but this layer's input has no qopt.observe with range stats (min_max, abs_max, percentile, mse or histogram); run qopt-insert-observers{observers=min_max}, qrun calibrate and qopt-apply-calibration first (docs/calibration.md)}}
  %a = qopt.linear %x, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  %o = qopt.observe %a name "fc2:input" observer <kind = min_max> : tensor<2x4xf32>
  // expected-error @+1 {{this layer's input has no qopt.observe}}
  %b = qopt.linear %o, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  %r = arith.negf %b : tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

//--- range.mlir

// With the default range=auto, a clipping observer's range (here the
// percentile clip 1.27 -> s = 0.01) wins over min_max (12.7 -> s = 0.1),
// whatever their order in the chain; range=min_max takes the extremes.
// AUTO-LABEL: func.func @percentile_over_min_max
// AUTO-DAG: arith.constant dense<0.00999999977> : tensor<f32>
// AUTO-NOT: qopt.observe
// MINMAX-LABEL: func.func @percentile_over_min_max
// MINMAX-DAG: arith.constant dense<1.000000e-01> : tensor<f32>
// MINMAX-NOT: qopt.observe
func.func @percentile_over_min_max(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %0 = qopt.observe %x name "fc1:input" observer <kind = min_max> stats <samples = 8, min = dense<-12.7> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  %1 = qopt.observe %0 name "fc1:input" observer <kind = percentile, percentile = 99.0, bins = 8> stats <samples = 8, min = dense<-1.27> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  %y = qopt.linear %1, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

// -----

// The MSE clip (2.54 -> s = 0.02) is used like the percentile one.
// AUTO-LABEL: func.func @mse
// AUTO-DAG: arith.constant dense<2.000000e-02> : tensor<f32>
// MINMAX-LABEL: func.func @mse
// MINMAX-DAG: arith.constant dense<1.000000e-01> : tensor<f32>
func.func @mse(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %0 = qopt.observe %x name "fc1:input" observer <kind = mse, bins = 8> stats <samples = 8, min = dense<-2.54> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  %1 = qopt.observe %0 name "fc1:input" observer <kind = min_max> stats <samples = 8, min = dense<-12.7> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  %y = qopt.linear %1, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

//--- range-errors.mlir

// Two different clipping observers leave auto without a choice.
func.func @ambiguous(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %0 = qopt.observe %x name "fc1:input" observer <kind = mse, bins = 8> stats <samples = 8, min = dense<-2.54> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  %1 = qopt.observe %0 name "fc1:input" observer <kind = percentile, percentile = 99.0, bins = 8> stats <samples = 8, min = dense<-1.27> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  // expected-error @+1 {{w8a8: this layer's input has statistics of several clipping observers; choose one with range=percentile, mse or histogram}}
  %y = qopt.linear %1, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

//--- range-missing.mlir

func.func @range_missing(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %0 = qopt.observe %x name "fc1:input" observer <kind = min_max> stats <samples = 8, min = dense<-12.7> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<?x4xf32>
  // expected-error @+1 {{w8a8: range=mse needs this layer's input to have a qopt.observe of that kind with stats; run qopt-insert-observers{observers=mse}, qrun calibrate and qopt-apply-calibration first (docs/calibration.md)}}
  %y = qopt.linear %0, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

//--- bad-range.mlir

// expected-error @+1 {{qopt-quantize-w8a8: unknown range 'hessian'; expected auto, min_max, abs_max, percentile, mse or histogram}}
module {
}

//--- bad-activations.mlir

// expected-error @+1 {{qopt-quantize-w8a8: unknown activations 'per-channel'; expected dynamic or static}}
module {
}

//--- bad-override-form.mlir

// expected-error @+1 {{qopt-quantize-w8a8: override 'fc1' is not GLOB=SPEC}}
module {
}

//--- bad-override-spec.mlir

// expected-error @+1 {{qopt-quantize-w8a8: override 'fc*=int8': expected fp, dynamic or static after '='}}
module {
}

//--- bad-override-glob.mlir

// expected-error @+1 {{qopt-quantize-w8a8: override 'fc[=fp': bad pattern: invalid glob pattern, unmatched '['}}
module {
}

//--- bad-regex.mlir

// expected-error @+1 {{qopt-quantize-w8a8: invalid exclude regex 'fc[': brackets ([ ]) not balanced}}
module {
}

//--- fp8.mlir

// FP8 E4M3FN (storage=f8E4M3FN): s = max|w| / 448 per output channel,
// codes w / s rounded to nearest even in E4M3 (3 mantissa bits):
//   column 0: [448, 1, 0.5, -3], s = 1: every value is an E4M3 value;
//   column 1: [14, 1.1, -0.3, 0], s = 14 / 448 = 1/32: w / s = [448, 35.2,
//             -9.6, 0]; between 32 and 64 E4M3 steps by 4, so 35.2 -> 36;
//             between 8 and 16 by 1, so -9.6 -> -10.
// Activations per token at run time, into E4M3 (no narrow range).
// CHECK-LABEL: func.func @fp8
// CHECK-DAG: %[[Q:.*]], %[[XS:.*]] = qopt.dynamic_quantize %arg0 scheme <storage = f8E4M3FN, granularity = per_token> : tensor<?x4xf32> -> tensor<?x4xf8E4M3FN>, tensor<?xf32>
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}4.480000e+02, 1.000000e+00, 5.000000e-01, -3.000000e+00], [4.480000e+02, 3.600000e+01, -1.000000e+01, 0.000000e+00]]> : tensor<2x4xf8E4M3FN>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[1.000000e+00, 3.125000e-02]> : tensor<2xf32>
// CHECK: qopt.quantized_linear %[[Q]], %[[W]] input_scale(%[[XS]] : tensor<?xf32>) weight_scale(%[[S]] : tensor<2xf32>) schemes(<storage = f8E4M3FN, granularity = per_token>, <storage = f8E4M3FN, granularity = per_channel, axis = 0>)
func.func @fp8(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[448.0, 14.0], [1.0, 1.1], [0.5, -0.3], [-3.0, 0.0]]> : tensor<4x2xf32>
  %y = qopt.linear %x, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

// -----

// Convolutions stay f32 with fp8 storage.
// CHECK-LABEL: func.func @fp8_conv
// CHECK-NOT: f8E4M3FN
// CHECK: linalg.generic
func.func @fp8_conv(%x: tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<3x2x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x3x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(n, f, h, w, c, kh, kw) -> (n, c, h + kh, w + kw)>, affine_map<(n, f, h, w, c, kh, kw) -> (f, c, kh, kw)>, affine_map<(n, f, h, w, c, kh, kw) -> (n, f, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) outs(%f : tensor<1x3x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x3x4x4xf32> loc("conv1")
  return %y : tensor<1x3x4x4xf32>
}

//--- fp8-static.mlir

// Static fp8: one scale per tensor from calibration, max |x| / 448
// (4.25 / 448 = 0.00948660...).
// CHECK-LABEL: func.func @fp8_static
// CHECK: %[[XS:.*]] = arith.constant dense<0.00948660{{[0-9]*}}> : tensor<f32>
// CHECK: qopt.quantize %arg0 scale(%[[XS]] : tensor<f32>) scheme <storage = f8E4M3FN, granularity = per_tensor> : tensor<?x4xf32> -> tensor<?x4xf8E4M3FN>
// CHECK: qopt.quantized_linear
func.func @fp8_static(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %0 = qopt.observe %x name "fc1:input" observer <kind = min_max> stats <samples = 16, min = dense<-3.5> : tensor<f32>, max = dense<4.25> : tensor<f32>> : tensor<?x4xf32>
  %w = arith.constant dense<[[448.0, 14.0], [1.0, 1.1], [0.5, -0.3], [-3.0, 0.0]]> : tensor<4x2xf32>
  %y = qopt.linear %0, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

//--- bad-storage.mlir

// expected-error @+1 {{qopt-quantize-w8a8: unknown storage 'i4'; expected i8 or f8E4M3FN}}
module {
}
