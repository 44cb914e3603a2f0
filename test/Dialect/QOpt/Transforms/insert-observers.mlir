// Pass options apply to a whole run: each file below has its own.
//
// RUN: split-file %s %t
// RUN: qopt %t/default.mlir -split-input-file --qopt-insert-observers | FileCheck %t/default.mlir
// RUN: qopt %t/kinds.mlir --qopt-insert-observers='observers=min_max,abs_max,hessian' | FileCheck %t/kinds.mlir
// RUN: qopt %t/kinds.mlir --qopt-insert-observers='observers=min_max,abs_max,hessian' --qopt-insert-observers='observers=min_max,abs_max,hessian' | FileCheck %t/kinds.mlir
// RUN: qopt %t/select.mlir --qopt-insert-observers='exclude=attn' | FileCheck %t/select.mlir --check-prefix=EXCLUDE
// RUN: qopt %t/select.mlir --qopt-insert-observers='include=^(mlp|lm_head)' | FileCheck %t/select.mlir --check-prefix=INCLUDE
// RUN: qopt %t/select.mlir --qopt-insert-observers='observe-head=true' | FileCheck %t/select.mlir --check-prefix=HEAD
// RUN: qopt %t/bad-kind.mlir -verify-diagnostics --qopt-insert-observers='observers=min_max,maximum'
// RUN: qopt %t/histogram.mlir --qopt-insert-observers='observers=percentile,mse,histogram bins=256 percentile=99.9' | FileCheck %t/histogram.mlir
// RUN: qopt %t/conv.mlir --qopt-insert-observers='observers=min_max,abs_max,hessian exclude=skip' | FileCheck %t/conv.mlir
// RUN: qopt %t/few-bins.mlir -verify-diagnostics --qopt-insert-observers='observers=min_max,histogram bins=64'
// RUN: qopt %t/bad-percentile.mlir -verify-diagnostics --qopt-insert-observers='observers=percentile percentile=0'
// RUN: qopt %t/bad-regex.mlir -verify-diagnostics --qopt-insert-observers='include=fc['

//--- default.mlir

// By default: a min_max observer on the input of every linear layer but the
// output head (its result is returned, through a reshape here); the point
// is named after the layer.
// CHECK-LABEL: func.func @two_layers
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>
// CHECK: %[[O:.*]] = qopt.observe %[[X]] name "fc1:input" observer <kind = min_max> : tensor<?x4xf32>
// CHECK: %[[H:.*]] = qopt.linear %[[O]], %{{.*}} : tensor<?x4xf32>, tensor<4x3xf32>
// CHECK-NOT: qopt.observe
// CHECK: qopt.linear %[[H]], %{{.*}} : tensor<?x3xf32>, tensor<3x2xf32>
func.func @two_layers(%x: tensor<?x4xf32>) -> tensor<?x1x2xf32> {
  %w1 = arith.constant dense<1.0> : tensor<4x3xf32>
  %w2 = arith.constant dense<2.0> : tensor<3x2xf32>
  %h = qopt.linear %x, %w1 : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32> loc("fc1")
  %y = qopt.linear %h, %w2 : tensor<?x3xf32>, tensor<3x2xf32> -> tensor<?x2xf32> loc("fc2")
  %c0 = arith.constant 0 : index
  %n = tensor.dim %y, %c0 : tensor<?x2xf32>
  %r = tensor.expand_shape %y [[0, 1], [2]] output_shape [%n, 1, 2] : tensor<?x2xf32> into tensor<?x1x2xf32>
  return %r : tensor<?x1x2xf32>
}

// -----

// A value shared by two layers gets a point per layer; only each layer's
// own use is rewired. Layers without a name are numbered in walk order;
// qopt.keep_full_precision layers are left alone.
// CHECK-LABEL: func.func @shared
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>
// CHECK: %[[A:.*]] = qopt.observe %[[X]] name "q:input"
// CHECK: qopt.linear %[[A]]
// CHECK: %[[B:.*]] = qopt.observe %[[X]] name "linear1:input"
// CHECK: qopt.linear %[[B]]
// CHECK: qopt.linear %[[X]]
// CHECK-NOT: qopt.observe
func.func @shared(%x: tensor<2x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %w = arith.constant dense<1.0> : tensor<4x3xf32>
  %q = qopt.linear %x, %w : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32> loc("q")
  %k = qopt.linear %x, %w : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  %v = qopt.linear %x, %w {qopt.keep_full_precision} : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32> loc("v")
  %e = tensor.empty() : tensor<2x3xf32>
  %s = linalg.add ins(%q, %k : tensor<2x3xf32>, tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %t = linalg.add ins(%s, %v : tensor<2x3xf32>, tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %t, %t, %t, %t : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

//--- kinds.mlir

// Observers chain in the order given; abs_max is per input channel (the
// last axis). A second run adds nothing (the second RUN line).
// CHECK-LABEL: func.func @kinds
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x8xf32>
// CHECK: %[[A:.*]] = qopt.observe %[[X]] name "up:input" observer <kind = min_max> : tensor<2x?x8xf32>
// CHECK: %[[B:.*]] = qopt.observe %[[A]] name "up:input" observer <kind = abs_max, axis = 2> : tensor<2x?x8xf32>
// CHECK: %[[C:.*]] = qopt.observe %[[B]] name "up:input" observer <kind = hessian> : tensor<2x?x8xf32>
// CHECK-NOT: qopt.observe
// CHECK: qopt.linear %[[C]]
func.func @kinds(%x: tensor<2x?x8xf32>) -> tensor<2x?x3xf32> {
  %w = arith.constant dense<1.0> : tensor<8x3xf32>
  %y = qopt.linear %x, %w : tensor<2x?x8xf32>, tensor<8x3xf32> -> tensor<2x?x3xf32> loc("up")
  %e = tensor.empty() : tensor<2x3xf32>
  %c1 = arith.constant 1 : index
  %n = tensor.dim %y, %c1 : tensor<2x?x3xf32>
  %z = tensor.empty(%n) : tensor<2x?x3xf32>
  %r = linalg.exp ins(%y : tensor<2x?x3xf32>) outs(%z : tensor<2x?x3xf32>) -> tensor<2x?x3xf32>
  return %r : tensor<2x?x3xf32>
}

//--- select.mlir

// EXCLUDE-LABEL: func.func @select
// EXCLUDE-NOT: name "attn
// EXCLUDE: qopt.observe %{{.*}} name "mlp.up:input"
// EXCLUDE-NOT: qopt.observe
// An explicit include selects the head too.
// INCLUDE-LABEL: func.func @select
// INCLUDE-NOT: name "attn
// INCLUDE: qopt.observe %{{.*}} name "mlp.up:input"
// INCLUDE: qopt.observe %{{.*}} name "lm_head:input"
// HEAD-LABEL: func.func @select
// HEAD: name "attn.q:input"
// HEAD: name "mlp.up:input"
// HEAD: name "lm_head:input"
func.func @select(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  %a = qopt.linear %x, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32> loc("attn.q")
  %m = qopt.linear %a, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32> loc("mlp.up")
  %h = qopt.linear %m, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32> loc("lm_head")
  %e = tensor.empty() : tensor<2x4xf32>
  %r = linalg.exp ins(%h : tensor<2x4xf32>) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

//--- bad-kind.mlir

// expected-error @+1 {{qopt-insert-observers: unknown observer 'maximum'; expected min_max, abs_max, hessian, percentile, mse or histogram}}
module {
}

//--- histogram.mlir

// The histogram kinds are per tensor and carry bins and percentile.
// CHECK-LABEL: func.func @histogram
// CHECK: qopt.observe %{{.*}} name "fc1:input" observer <kind = percentile, percentile = 9.990000e+01, bins = 256>
// CHECK: qopt.observe %{{.*}} name "fc1:input" observer <kind = mse, percentile = 9.990000e+01, bins = 256>
// CHECK: qopt.observe %{{.*}} name "fc1:input" observer <kind = histogram, percentile = 9.990000e+01, bins = 256>
func.func @histogram(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w = arith.constant dense<1.0> : tensor<4x3xf32>
  %y = qopt.linear %x, %w : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x3xf32>
  return %r : tensor<?x3xf32>
}

//--- few-bins.mlir

// expected-error @+1 {{qopt-insert-observers: observer 'histogram': a histogram (KL) observer needs at least 128 bins, got 64}}
module {
}

//--- bad-percentile.mlir

// expected-error @+1 {{qopt-insert-observers: observer 'percentile': percentile must be in (0, 100], got 0}}
module {
}

//--- bad-regex.mlir

// expected-error @+1 {{qopt-insert-observers: invalid include regex 'fc[': brackets ([ ]) not balanced}}
module {
}

//--- conv.mlir
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>

// Convolutions get observers on their input (what qopt-quantize-w8a8
// quantizes): abs_max per channel along the NCHW channel dimension, no
// Hessian (a linear layer's statistic); named by node name or conv<N>; the
// head rule does not apply, include/exclude do. The conv keeps its form.
// CHECK-LABEL: func.func @conv
// CHECK: %[[O1:.*]] = qopt.observe %arg0 name "c1:input" observer <kind = min_max> : tensor<1x2x3x3xf32>
// CHECK: %[[O2:.*]] = qopt.observe %[[O1]] name "c1:input" observer <kind = abs_max, axis = 1> : tensor<1x2x3x3xf32>
// CHECK-NOT: hessian
// CHECK: linalg.generic {{.*}} ins(%[[O2]], %{{.*}} : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>)
// CHECK: qopt.observe %{{.*}} name "conv1:input" observer <kind = min_max>
// CHECK-NOT: "skip:input"
func.func @conv(%x: tensor<1x2x3x3xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %w = arith.constant dense<0.5> : tensor<2x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %a = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %m = arith.mulf %i0, %i1 : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32> loc("c1")
  %b = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %m = arith.mulf %i0, %i1 : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32>
  %c = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x3x3xf32>, tensor<2x2x2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %m = arith.mulf %i0, %i1 : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x2xf32> loc("skip")
  return %a, %b, %c : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}
