// Pass options apply to a whole run: each file below has its own. Every
// chunk is an explicit module: the summary remark is reported there.
//
// RUN: split-file %s %t
// RUN: qopt %t/fold.mlir -split-input-file -verify-diagnostics --qopt-smooth-quant | FileCheck %t/fold.mlir
// RUN: qopt %t/refuse.mlir -split-input-file -verify-diagnostics --qopt-smooth-quant | FileCheck %t/refuse.mlir
// RUN: qopt %t/alpha.mlir -verify-diagnostics --qopt-smooth-quant='overrides=k*=0.9,q*=1.0,*=0.1' | FileCheck %t/alpha.mlir
// RUN: qopt %t/alpha.mlir -verify-diagnostics --qopt-smooth-quant='alpha=0' | FileCheck %t/alpha.mlir --check-prefix=ZERO
// RUN: qopt %t/exclude.mlir -verify-diagnostics --qopt-smooth-quant='exclude=^k$'
// RUN: qopt %t/no-insert.mlir -verify-diagnostics --qopt-smooth-quant='insert-smooth=false'
// RUN: qopt %t/bad-alpha.mlir -verify-diagnostics --qopt-smooth-quant='alpha=1.5'
// RUN: qopt %t/bad-override.mlir -verify-diagnostics --qopt-smooth-quant='overrides=q=2'
// RUN: qopt %t/bad-override-form.mlir -verify-diagnostics --qopt-smooth-quant='overrides=q'
// RUN: qopt %t/bad-override-glob.mlir -verify-diagnostics --qopt-smooth-quant='overrides=q[=0.5'
// RUN: qopt %t/bad-regex.mlir -verify-diagnostics --qopt-smooth-quant='include=q['

//--- fold.mlir

#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>

// RMSNorm's gamma multiply feeds two layers (q/k after one norm): one s for
// both. max|X| = [4, 1] (the abs_max point), max|W_j| over both weights =
// [1, 1] (k's weight is [N, K]), so s = [sqrt(4)/1, sqrt(1)/1] = [2, 1]:
// gamma [1, 3] becomes [0.5, 3], input channel 0 of both weights doubles,
// and the statistics are divided by s. The per-tensor range [-4, 3]
// becomes the bound max_j(absmax_j / s_j) = 2: [-2, 2].
// CHECK-LABEL: func.func @rms_shared
// CHECK: %[[G:.*]] = arith.constant dense<[5.000000e-01, 3.000000e+00]> : tensor<2xf32>
// CHECK: %[[N:.*]] = linalg.generic {{.*}} ins(%[[G]], %{{.*}} : tensor<2xf32>, tensor<?x2xf32>)
// CHECK: %[[O1:.*]] = qopt.observe %[[N]] name "q:input" observer <kind = min_max> stats <samples = 4, min = dense<-2.000000e+00> : tensor<f32>, max = dense<2.000000e+00> : tensor<f32>>
// CHECK: %[[O2:.*]] = qopt.observe %[[O1]] name "q:input" observer <kind = abs_max, axis = 1> stats <samples = 4, absmax = dense<[2.000000e+00, 1.000000e+00]> : tensor<2xf32>>
// CHECK: %[[WQ:.*]] = arith.constant dense<{{\[}}[2.000000e+00, 1.000000e+00], [2.500000e-01, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK: qopt.linear %[[O2]], %[[WQ]] :
// CHECK: %[[WK:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 1.000000e+00], [2.000000e+00, 5.000000e-01]]> : tensor<2x2xf32>
// CHECK: qopt.linear %[[N]], %[[WK]] transpose_weight :
// CHECK-NOT: qopt.smooth
// expected-remark @+1 {{smooth-quant: smoothed 1 values (2 linears), skipped 0}}
module {
func.func @rms_shared(%xhat: tensor<?x2xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>) {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %xhat, %c0 : tensor<?x2xf32>
  %e = tensor.empty(%d) : tensor<?x2xf32>
  %gamma = arith.constant dense<[1.0, 3.0]> : tensor<2xf32>
  %n = linalg.generic {indexing_maps = [#ch, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%gamma, %xhat : tensor<2xf32>, tensor<?x2xf32>) outs(%e : tensor<?x2xf32>) {
  ^bb0(%g: f32, %x: f32, %o: f32):
    %m = arith.mulf %g, %x : f32
    linalg.yield %m : f32
  } -> tensor<?x2xf32>
  %o1 = qopt.observe %n name "q:input" observer <kind = min_max> stats <samples = 4, min = dense<-4.0> : tensor<f32>, max = dense<3.0> : tensor<f32>> : tensor<?x2xf32>
  %o2 = qopt.observe %o1 name "q:input" observer <kind = abs_max, axis = 1> stats <samples = 4, absmax = dense<[4.0, 1.0]> : tensor<2xf32>> : tensor<?x2xf32>
  %wq = arith.constant dense<[[1.0, 0.5], [0.25, 1.0]]> : tensor<2x2xf32>
  %q = qopt.linear %o2, %wq : tensor<?x2xf32>, tensor<2x2xf32> -> tensor<?x2xf32> loc("q")
  %wk = arith.constant dense<[[0.5, 1.0], [1.0, 0.5]]> : tensor<2x2xf32>
  %k = qopt.linear %n, %wk transpose_weight : tensor<?x2xf32>, tensor<2x2xf32> -> tensor<?x2xf32> loc("k")
  %rq = arith.negf %q : tensor<?x2xf32>
  %rk = arith.negf %k : tensor<?x2xf32>
  return %rq, %rk : tensor<?x2xf32>, tensor<?x2xf32>
}
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>

// LayerNorm's x_hat * gamma + beta in one body: both gamma and beta are
// divided. s = [sqrt(9)/1, sqrt(1)/1] = [3, 1].
// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[G:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[B:.*]] = arith.constant dense<[2.000000e+00, 5.000000e+00]> : tensor<2xf32>
// CHECK: linalg.generic {{.*}} ins(%[[G]], %{{.*}}, %[[B]] :
// CHECK: absmax = dense<[3.000000e+00, 1.000000e+00]>
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[3.000000e+00, 3.000000e+00], [1.000000e+00, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK: qopt.linear %{{.*}}, %[[W]] :
// expected-remark @+1 {{smooth-quant: smoothed 1 values (1 linears), skipped 0}}
module {
func.func @layer_norm(%xhat: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %e = tensor.empty() : tensor<4x2xf32>
  %gamma = arith.constant dense<[3.0, 2.0]> : tensor<2xf32>
  %beta = arith.constant dense<[6.0, 5.0]> : tensor<2xf32>
  %n = linalg.generic {indexing_maps = [#ch, #id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%gamma, %xhat, %beta : tensor<2xf32>, tensor<4x2xf32>, tensor<2xf32>) outs(%e : tensor<4x2xf32>) {
  ^bb0(%g: f32, %x: f32, %b: f32, %o: f32):
    %m = arith.mulf %x, %g : f32
    %a = arith.addf %m, %b : f32
    linalg.yield %a : f32
  } -> tensor<4x2xf32>
  %o = qopt.observe %n name "fc:input" observer <kind = abs_max, axis = 1> stats <samples = 4, absmax = dense<[9.0, 1.0]> : tensor<2xf32>> : tensor<4x2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %y = qopt.linear %o, %w : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %r = arith.negf %y : tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}
}

// -----

// A preceding linear takes 1/s in its output channels (weight and bias).
// s = [sqrt(16)/1, 1] = [4, 1]. fc1 keeps full precision (no point of its
// own), which does not stop it from absorbing the scale exactly.
// CHECK-LABEL: func.func @preceding_linear
// CHECK: %[[W1:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 1.000000e+00], [2.000000e+00, 1.000000e+00], [3.000000e+00, 1.000000e+00]]> : tensor<3x2xf32>
// CHECK: %[[B1:.*]] = arith.constant dense<[1.000000e+00, 8.000000e+00]> : tensor<2xf32>
// CHECK: %[[H:.*]] = qopt.linear %{{.*}}, %[[W1]] bias(%[[B1]] : tensor<2xf32>)
// CHECK: %[[O:.*]] = qopt.observe %[[H]] name "fc2:input" observer <kind = abs_max, axis = 1> stats <samples = 3, absmax = dense<[4.000000e+00, 1.000000e+00]>
// CHECK: %[[W2:.*]] = arith.constant dense<{{\[}}[4.000000e+00, 4.000000e+00], [1.000000e+00, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK: qopt.linear %[[O]], %[[W2]] :
// expected-remark @+1 {{smooth-quant: smoothed 1 values (1 linears), skipped 0}}
module {
func.func @preceding_linear(%x: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %w1 = arith.constant dense<[[4.0, 1.0], [8.0, 1.0], [12.0, 1.0]]> : tensor<3x2xf32>
  %b1 = arith.constant dense<[4.0, 8.0]> : tensor<2xf32>
  %h = qopt.linear %x, %w1 bias(%b1 : tensor<2xf32>) {qopt.keep_full_precision} : tensor<?x3xf32>, tensor<3x2xf32> -> tensor<?x2xf32>
  %o = qopt.observe %h name "fc2:input" observer <kind = abs_max, axis = 1> stats <samples = 3, absmax = dense<[16.0, 1.0]> : tensor<2xf32>> : tensor<?x2xf32>
  %w2 = arith.constant dense<1.0> : tensor<2x2xf32>
  %y = qopt.linear %o, %w2 : tensor<?x2xf32>, tensor<2x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// SwiGLU-style product of two activations: the scale goes to the first
// factor whose producer can take it, here the gate layer's output
// channels. s = [sqrt(4)/sqrt(1), sqrt(1)/sqrt(1)] = [2, 1].
// CHECK-LABEL: func.func @product
// CHECK: %[[WU:.*]] = arith.constant dense<1.000000e+00> : tensor<2x2xf32>
// CHECK: %[[WG:.*]] = arith.constant dense<{{\[}}[5.000000e-01, 1.000000e+00], [5.000000e-01, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK: qopt.linear %{{.*}}, %[[WG]]
// CHECK: qopt.linear %{{.*}}, %[[WU]]
// CHECK: absmax = dense<[2.000000e+00, 1.000000e+00]>
// CHECK: %[[WD:.*]] = arith.constant dense<{{\[}}[2.000000e+00, 2.000000e+00], [1.000000e+00, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK: qopt.linear %{{.*}}, %[[WD]]
// expected-remark @+1 {{smooth-quant: smoothed 1 values (1 linears), skipped 0}}
module {
func.func @product(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %g = qopt.linear %x, %w {qopt.keep_full_precision} : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %u = qopt.linear %x, %w {qopt.keep_full_precision} : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %e = tensor.empty() : tensor<4x2xf32>
  %p = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%g, %u : tensor<4x2xf32>, tensor<4x2xf32>) outs(%e : tensor<4x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x2xf32>
  %o = qopt.observe %p name "down:input" observer <kind = abs_max, axis = 1> stats <samples = 4, absmax = dense<[4.0, 1.0]> : tensor<2xf32>> : tensor<4x2xf32>
  %y = qopt.linear %o, %w : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %r = arith.negf %y : tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}
}

// -----

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#ch3 = affine_map<(d0, d1, d2) -> (d2)>

// GPT-2's shape: LayerNorm's gamma and beta in one body, then a collapse
// of [B, S, C] to [B*S, C] for a Gemm; tensor.dim only reads shapes, so it
// does not block. s = [sqrt(4)/1, 1] = [2, 1]: gamma [2, 1] -> [1, 1],
// beta [4, 3] -> [2, 3].
// CHECK-LABEL: func.func @collapse
// CHECK: %[[G:.*]] = arith.constant dense<1.000000e+00> : tensor<2xf32>
// CHECK: %[[B:.*]] = arith.constant dense<[2.000000e+00, 3.000000e+00]> : tensor<2xf32>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[G]], %[[B]] :
// CHECK-NOT: qopt.smooth
// expected-remark @+1 {{smooth-quant: smoothed 1 values (1 linears), skipped 0}}
module {
func.func @collapse(%xhat: tensor<?x3x2xf32>) -> (tensor<?x2xf32>, index) {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %xhat, %c0 : tensor<?x3x2xf32>
  %e = tensor.empty(%d) : tensor<?x3x2xf32>
  %gamma = arith.constant dense<[2.0, 1.0]> : tensor<2xf32>
  %beta = arith.constant dense<[4.0, 3.0]> : tensor<2xf32>
  %n = linalg.generic {indexing_maps = [#id3, #ch3, #ch3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%xhat, %gamma, %beta : tensor<?x3x2xf32>, tensor<2xf32>, tensor<2xf32>) outs(%e : tensor<?x3x2xf32>) {
  ^bb0(%x: f32, %g: f32, %b: f32, %o: f32):
    %m = arith.mulf %x, %g : f32
    %a = arith.addf %m, %b : f32
    linalg.yield %a : f32
  } -> tensor<?x3x2xf32>
  %rows = tensor.dim %n, %c0 : tensor<?x3x2xf32>
  %c = tensor.collapse_shape %n [[0, 1], [2]] : tensor<?x3x2xf32> into tensor<?x2xf32>
  %o = qopt.observe %c name "fc:input" observer <kind = abs_max, axis = 1> stats <samples = 4, absmax = dense<[4.0, 1.0]> : tensor<2xf32>> : tensor<?x2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %y = qopt.linear %o, %w : tensor<?x2xf32>, tensor<2x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r, %rows : tensor<?x2xf32>, index
}
}

// -----

// No producer can take the scale (a block argument): qopt.smooth divides
// at run time. A Hessian point follows as diag(1/s) H diag(1/s).
// CHECK-LABEL: func.func @block_argument
// CHECK-SAME: (%[[X:.*]]: tensor<?x2xf32>)
// CHECK: %[[S:.*]] = arith.constant dense<[2.000000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK: %[[D:.*]] = qopt.smooth %[[X]], %[[S]] : tensor<?x2xf32>, tensor<2xf32>
// CHECK: %[[O:.*]] = qopt.observe %[[D]] name "fc:input" observer <kind = abs_max, axis = 1>
// CHECK: %[[H:.*]] = qopt.observe %[[O]] name "fc:input" observer <kind = hessian> stats <samples = 2, hessian = dense<{{\[}}[2.000000e+00, 1.000000e+00], [1.000000e+00, 3.000000e+00]]> : tensor<2x2xf64>>
// CHECK: qopt.linear %[[H]]
// expected-remark @+1 {{smooth-quant: smoothed 1 values (1 linears), skipped 0}}
module {
func.func @block_argument(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %o = qopt.observe %x name "fc:input" observer <kind = abs_max, axis = 1> stats <samples = 2, absmax = dense<[4.0, 1.0]> : tensor<2xf32>> : tensor<?x2xf32>
  %h = qopt.observe %o name "fc:input" observer <kind = hessian> stats <samples = 2, hessian = dense<[[8.0, 2.0], [2.0, 3.0]]> : tensor<2x2xf64>> : tensor<?x2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  // expected-remark @+1 {{smooth-quant: input of an unnamed linear layer has no producer that can take the scale; inserted qopt.smooth (a division at run time)}}
  %y = qopt.linear %h, %w : tensor<?x2xf32>, tensor<2x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}
}

// -----

// Zero channels get s = 1 (nothing to migrate): channel 1 has no
// activation, channel 2 no weight; channel 0 is clamped to 1e-5 from
// s = sqrt(1e-12) / sqrt(1) = 1e-6.
// CHECK-LABEL: func.func @zero_and_tiny
// CHECK: %[[S:.*]] = arith.constant dense<[9.99999974E-6, 1.000000e+00, 1.000000e+00]> : tensor<3xf32>
// CHECK: qopt.smooth %{{.*}}, %[[S]]
// CHECK: absmax = dense<[1.000000e-07, 0.000000e+00, 5.000000e+00]>
// CHECK: arith.constant dense<{{\[}}[9.99999974E-6, 9.99999974E-6], [1.000000e+00, 1.000000e+00], [0.000000e+00, 0.000000e+00]]>
// expected-remark @+1 {{smooth-quant: smoothed 1 values (1 linears), skipped 0}}
module {
func.func @zero_and_tiny(%x: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %o = qopt.observe %x name "fc:input" observer <kind = abs_max, axis = 1> stats <samples = 2, absmax = dense<[1.0e-12, 0.0, 5.0]> : tensor<3xf32>> : tensor<?x3xf32>
  %w = arith.constant dense<[[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]]> : tensor<3x2xf32>
  // expected-remark @+1 {{inserted qopt.smooth}}
  %y = qopt.linear %o, %w : tensor<?x3xf32>, tensor<3x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}
}

//--- refuse.mlir

#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>

// The norm's output also feeds a non-linear op, which would see the
// divided value: refused, nothing changes.
// CHECK-LABEL: func.func @other_consumer
// CHECK: arith.constant dense<[1.000000e+00, 3.000000e+00]> : tensor<2xf32>
// CHECK: absmax = dense<[4.000000e+00, 1.000000e+00]>
// CHECK: arith.constant dense<1.000000e+00> : tensor<2x2xf32>
// expected-remark @+1 {{smooth-quant: smoothed 0 values (0 linears), skipped 1}}
module {
func.func @other_consumer(%xhat: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %e = tensor.empty() : tensor<4x2xf32>
  %gamma = arith.constant dense<[1.0, 3.0]> : tensor<2xf32>
  %n = linalg.generic {indexing_maps = [#ch, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%gamma, %xhat : tensor<2xf32>, tensor<4x2xf32>) outs(%e : tensor<4x2xf32>) {
  ^bb0(%g: f32, %x: f32, %o: f32):
    %m = arith.mulf %g, %x : f32
    linalg.yield %m : f32
  } -> tensor<4x2xf32>
  %o = qopt.observe %n name "fc:input" observer <kind = abs_max, axis = 1> stats <samples = 4, absmax = dense<[4.0, 1.0]> : tensor<2xf32>> : tensor<4x2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  // expected-warning @+1 {{smooth-quant: input of an unnamed linear layer not smoothed: it also feeds 'arith.negf', which cannot take the compensating scale}}
  %y = qopt.linear %o, %w : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %side = arith.negf %n : tensor<4x2xf32>
  %r = arith.negf %y : tensor<4x2xf32>
  return %r, %side : tensor<4x2xf32>, tensor<4x2xf32>
}
}

// -----

// Calibrated without abs_max (or not calibrated): nothing to compute s from.
// CHECK-LABEL: func.func @no_stats
// CHECK-NOT: qopt.smooth
// expected-remark @+1 {{smooth-quant: smoothed 0 values (0 linears), skipped 1}}
module {
func.func @no_stats(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %o = qopt.observe %x name "fc:input" observer <kind = abs_max, axis = 1> : tensor<4x2xf32>
  %m = qopt.observe %o name "fc:input" observer <kind = min_max> stats <samples = 4, min = dense<-1.0> : tensor<f32>, max = dense<1.0> : tensor<f32>> : tensor<4x2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  // expected-warning @+1 {{smooth-quant: input of an unnamed linear layer not smoothed: no calibrated per-channel abs_max observer on it}}
  %y = qopt.linear %m, %w : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %r = arith.negf %y : tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}
}

// -----

// A weight that is not a constant cannot be scaled.
// CHECK-LABEL: func.func @dynamic_weight
// expected-remark @+1 {{smooth-quant: smoothed 0 values (0 linears), skipped 1}}
module {
func.func @dynamic_weight(%x: tensor<4x2xf32>, %w: tensor<2x2xf32>) -> tensor<4x2xf32> {
  %o = qopt.observe %x name "fc:input" observer <kind = abs_max, axis = 1> stats <samples = 4, absmax = dense<[4.0, 1.0]> : tensor<2xf32>> : tensor<4x2xf32>
  // expected-warning @+1 {{not smoothed: the weight of an unnamed linear layer is not a finite constant f32 tensor}}
  %y = qopt.linear %o, %w : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %r = arith.negf %y : tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}
}

// -----

// The output head is not smoothed by default, and says nothing.
// CHECK-LABEL: func.func @head
// CHECK-NOT: qopt.smooth
// expected-remark @+1 {{smooth-quant: smoothed 0 values (0 linears), skipped 0}}
module {
func.func @head(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %o = qopt.observe %x name "fc:input" observer <kind = abs_max, axis = 1> stats <samples = 4, absmax = dense<[4.0, 1.0]> : tensor<2xf32>> : tensor<4x2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %y = qopt.linear %o, %w : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
}

//--- alpha.mlir

// Overrides: the first GLOB=ALPHA that matches one of the value's layers,
// in IR order (q before k): alpha = 1 gives s = max|X| = [4, 1].
// With alpha = 0, s = 1 / max|W_j| = [0.5, 1].
// CHECK-LABEL: func.func @alpha
// CHECK: %[[S:.*]] = arith.constant dense<[4.000000e+00, 1.000000e+00]> : tensor<2xf32>
// ZERO: %[[S:.*]] = arith.constant dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf32>
// expected-remark @+1 {{smooth-quant: smoothed 1 values (2 linears), skipped 0}}
module {
func.func @alpha(%x: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %o = qopt.observe %x name "q:input" observer <kind = abs_max, axis = 1> stats <samples = 4, absmax = dense<[4.0, 1.0]> : tensor<2xf32>> : tensor<4x2xf32>
  %w = arith.constant dense<[[2.0, 1.0], [1.0, 1.0]]> : tensor<2x2xf32>
  // Named layers have no file location: their diagnostics are @unknown.
  // expected-remark @unknown {{smooth-quant: input of 'q' has no producer that can take the scale; inserted qopt.smooth}}
  %q = qopt.linear %o, %w : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32> loc("q")
  %k = qopt.linear %x, %w : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32> loc("k")
  %rq = arith.negf %q : tensor<4x2xf32>
  %rk = arith.negf %k : tensor<4x2xf32>
  return %rq, %rk : tensor<4x2xf32>, tensor<4x2xf32>
}
}

//--- exclude.mlir

// One consumer excluded: the shared value is left alone.
// expected-remark @+1 {{smooth-quant: smoothed 0 values (0 linears), skipped 1}}
module {
func.func @exclude(%x: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %o = qopt.observe %x name "q:input" observer <kind = abs_max, axis = 1> stats <samples = 4, absmax = dense<[4.0, 1.0]> : tensor<2xf32>> : tensor<4x2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %q = qopt.linear %o, %w : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32> loc("q")
  // expected-warning @unknown {{smooth-quant: input of 'q' not smoothed: it also feeds 'k', which the options exclude}}
  %k = qopt.linear %x, %w : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32> loc("k")
  %rq = arith.negf %q : tensor<4x2xf32>
  %rk = arith.negf %k : tensor<4x2xf32>
  return %rq, %rk : tensor<4x2xf32>, tensor<4x2xf32>
}
}

//--- no-insert.mlir

// expected-remark @+1 {{smooth-quant: smoothed 0 values (0 linears), skipped 1}}
module {
func.func @no_insert(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %o = qopt.observe %x name "fc:input" observer <kind = abs_max, axis = 1> stats <samples = 4, absmax = dense<[4.0, 1.0]> : tensor<2xf32>> : tensor<4x2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  // expected-warning @+1 {{not smoothed: its producer cannot take the scale (not a norm's per-channel constant nor a linear) and insert-smooth is off}}
  %y = qopt.linear %o, %w : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %r = arith.negf %y : tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}
}

//--- bad-alpha.mlir

// expected-error @+1 {{qopt-smooth-quant: alpha must be in [0, 1], got 1.5}}
module {}

//--- bad-override.mlir

// expected-error @+1 {{qopt-smooth-quant: override 'q=2': alpha must be a number in [0, 1]}}
module {}

//--- bad-override-form.mlir

// expected-error @+1 {{qopt-smooth-quant: override 'q' is not GLOB=ALPHA}}
module {}

//--- bad-override-glob.mlir

// expected-error @+1 {{qopt-smooth-quant: override 'q[=0.5': bad pattern}}
module {}

//--- bad-regex.mlir

// expected-error @+1 {{qopt-smooth-quant: invalid include regex 'q[':}}
module {}
