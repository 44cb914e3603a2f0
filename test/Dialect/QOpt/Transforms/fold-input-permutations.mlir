// RUN: qopt %s -split-input-file -verify-diagnostics --qopt-fold-input-permutations | FileCheck %s

// SwiGLU: silu(gate(h)) * up(h) feeds down. The permutation [2, 0, 1] moves
// into the output rows of gate and up (and up's bias); the elementwise op
// is unchanged, and down reads its input directly.
// CHECK-LABEL: func.func @swiglu
// CHECK-NOT: qopt.permute
// CHECK: %[[WG:.*]] = arith.constant dense<{{\[\[}}5.000000e+00, 6.000000e+00], [1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<3x2xf32>
// CHECK: %[[G:.*]] = qopt.linear %arg0, %[[WG]] transpose_weight
// CHECK: %[[WU:.*]] = arith.constant dense<{{\[\[}}1.500000e+00, 1.600000e+00], [1.100000e+00, 1.200000e+00], [1.300000e+00, 1.400000e+00]]> : tensor<3x2xf32>
// CHECK: %[[BU:.*]] = arith.constant dense<[3.000000e-01, 1.000000e-01, 2.000000e-01]> : tensor<3xf32>
// CHECK: %[[U:.*]] = qopt.linear %arg0, %[[WU]] bias(%[[BU]] : tensor<3xf32>) transpose_weight
// CHECK: %[[A:.*]] = linalg.generic {{.*}} ins(%[[G]], %[[U]] : tensor<?x3xf32>, tensor<?x3xf32>)
// CHECK: qopt.linear %[[A]], %{{.*}} :
// expected-remark @+1 {{fold-input-permutations: folded 1, kept 0}}
module {
func.func @swiglu(%h: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %c0 = arith.constant 0 : index
  %wg = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %wu = arith.constant dense<[[1.1, 1.2], [1.3, 1.4], [1.5, 1.6]]> : tensor<3x2xf32>
  %bu = arith.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %wd = arith.constant dense<[[1.0, 0.0, 2.0], [0.5, 1.0, 0.0]]> : tensor<2x3xf32>
  %g = qopt.linear %h, %wg transpose_weight : tensor<?x2xf32>, tensor<3x2xf32> -> tensor<?x3xf32>
  %u = qopt.linear %h, %wu bias(%bu : tensor<3xf32>) transpose_weight : tensor<?x2xf32>, tensor<3x2xf32> -> tensor<?x3xf32>
  %n = tensor.dim %g, %c0 : tensor<?x3xf32>
  %e = tensor.empty(%n) : tensor<?x3xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g, %u : tensor<?x3xf32>, tensor<?x3xf32>) outs(%e : tensor<?x3xf32>) {
  ^bb0(%x: f32, %y: f32, %out: f32):
    %neg = arith.negf %x : f32
    %exp = math.exp %neg : f32
    %one = arith.constant 1.0 : f32
    %den = arith.addf %one, %exp : f32
    %silu = arith.divf %x, %den : f32
    %r = arith.mulf %silu, %y : f32
    linalg.yield %r : f32
  } -> tensor<?x3xf32>
  %p = qopt.permute %a [2, 0, 1] : tensor<?x3xf32>
  %d = qopt.linear %p, %wd transpose_weight : tensor<?x3xf32>, tensor<2x3xf32> -> tensor<?x2xf32>
  return %d : tensor<?x2xf32>
}
}

// -----

// A weight-only producer: rows of the packed weight, of the per-group
// scales and of the (inline i4) zero points move; the [K, N] f32 weight of
// a plain qopt.linear moves its columns. A per-channel gamma read along the
// channels is permuted, a per-token factor (no channel index) is not.
// CHECK-LABEL: func.func @weight_only
// CHECK-NOT: qopt.permute
// CHECK-DAG: arith.constant dense<{{\[\[}}5, 6], [1, 2], [3, 4]]> : tensor<3x2xi8>
// CHECK-DAG: arith.constant dense<{{\[\[}}3.000000e+00, 3.500000e+00], [1.000000e+00, 1.500000e+00], [2.000000e+00, 2.500000e+00]]> : tensor<3x2xf32>
// CHECK-DAG: arith.constant dense<{{\[\[}}5, 6], [1, 2], [3, 4]]> : tensor<3x2xi4>
// CHECK-DAG: arith.constant dense<[3.000000e+00, 1.000000e+00, 2.000000e+00]> : tensor<3xf32>
// CHECK: linalg.generic
// CHECK: qopt.linear
// expected-remark @+1 {{fold-input-permutations: folded 1, kept 0}}
module {
func.func @weight_only(%x: tensor<?x4xf32>, %t: tensor<?xf32>) -> tensor<?x2xf32> {
  %c0 = arith.constant 0 : index
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6]]> : tensor<3x2xi8>
  %s = arith.constant dense<[[1.0, 1.5], [2.0, 2.5], [3.0, 3.5]]> : tensor<3x2xf32>
  %z = arith.constant dense<[[1, 2], [3, 4], [5, 6]]> : tensor<3x2xi4>
  %gamma = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %wd = arith.constant dense<[[1.0, 0.0], [0.5, 1.0], [2.0, 0.0]]> : tensor<3x2xf32>
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<3x2xf32>) zero_point(%z : tensor<3x2xi4>) scheme <storage = ui4, granularity = per_group, axis = 1, group_size = 2, symmetric = false> : tensor<?x4xf32>, tensor<3x2xi8> -> tensor<?x3xf32>
  %n = tensor.dim %y, %c0 : tensor<?x3xf32>
  %e = tensor.empty(%n) : tensor<?x3xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%y, %gamma, %t : tensor<?x3xf32>, tensor<3xf32>, tensor<?xf32>) outs(%e : tensor<?x3xf32>) {
  ^bb0(%v: f32, %g: f32, %r: f32, %out: f32):
    %m = arith.mulf %v, %g : f32
    %k = arith.mulf %m, %r : f32
    linalg.yield %k : f32
  } -> tensor<?x3xf32>
  %p = qopt.permute %a [2, 0, 1] : tensor<?x3xf32>
  %d = qopt.linear %p, %wd : tensor<?x3xf32>, tensor<3x2xf32> -> tensor<?x2xf32>
  return %d : tensor<?x2xf32>
}
}

// -----

// Identical permutations of one value (q and k behind one producer) are
// merged, then folded once into the producer's [K, N] weight (columns).
// CHECK-LABEL: func.func @merged
// CHECK-NOT: qopt.permute
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[}}2.000000e+00, 0.000000e+00, 1.000000e+00]]> : tensor<1x3xf32>
// CHECK: %[[H:.*]] = qopt.linear %arg0, %[[W]] :
// CHECK: qopt.linear %[[H]], %{{.*}} transpose_weight
// CHECK: qopt.linear %[[H]], %{{.*}} transpose_weight
// expected-remark @+1 {{fold-input-permutations: folded 1, kept 0}}
module {
func.func @merged(%x: tensor<?x1xf32>) -> (tensor<?x1xf32>, tensor<?x1xf32>) {
  %w = arith.constant dense<[[0.0, 1.0, 2.0]]> : tensor<1x3xf32>
  %wq = arith.constant dense<[[1.0, 2.0, 3.0]]> : tensor<1x3xf32>
  %h = qopt.linear %x, %w : tensor<?x1xf32>, tensor<1x3xf32> -> tensor<?x3xf32>
  %p1 = qopt.permute %h [2, 0, 1] : tensor<?x3xf32>
  %q = qopt.linear %p1, %wq transpose_weight : tensor<?x3xf32>, tensor<1x3xf32> -> tensor<?x1xf32>
  %p2 = qopt.permute %h [2, 0, 1] : tensor<?x3xf32>
  %k = qopt.linear %p2, %wq transpose_weight : tensor<?x3xf32>, tensor<1x3xf32> -> tensor<?x1xf32>
  return %q, %k : tensor<?x1xf32>, tensor<?x1xf32>
}
}

// -----

// Through a reshape that keeps the channels ([B, S, C] -> [B*S, C]).
// CHECK-LABEL: func.func @collapse
// CHECK-NOT: qopt.permute
// CHECK: arith.constant dense<[3.000000e+00, 1.000000e+00, 2.000000e+00]> : tensor<3xf32>
// expected-remark @+1 {{fold-input-permutations: folded 1, kept 0}}
module {
func.func @collapse(%x: tensor<2x4x2xf32>) -> tensor<8x2xf32> {
  %w = arith.constant dense<[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]> : tensor<3x2xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %wd = arith.constant dense<[[1.0, 0.0, 2.0], [0.5, 1.0, 0.0]]> : tensor<2x3xf32>
  %y = qopt.linear %x, %w bias(%b : tensor<3xf32>) transpose_weight : tensor<2x4x2xf32>, tensor<3x2xf32> -> tensor<2x4x3xf32>
  %c = tensor.collapse_shape %y [[0, 1], [2]] : tensor<2x4x3xf32> into tensor<8x3xf32>
  %p = qopt.permute %c [2, 0, 1] : tensor<8x3xf32>
  %d = qopt.linear %p, %wd transpose_weight : tensor<8x3xf32>, tensor<2x3xf32> -> tensor<8x2xf32>
  return %d : tensor<8x2xf32>
}
}

// -----

// gate and up share one bias constant (CSE merges equal constants): each
// gets its permuted copy, the shared original goes once; a splat bias
// needs no copy.
// CHECK-LABEL: func.func @shared_bias
// CHECK-NOT: qopt.permute
// CHECK-DAG: %[[Z:.*]] = arith.constant dense<5.000000e-01> : tensor<3xf32>
// CHECK-DAG: arith.constant dense<[3.000000e+00, 1.000000e+00, 2.000000e+00]> : tensor<3xf32>
// CHECK-NOT: dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]>
// CHECK: qopt.linear {{.*}} bias(%[[Z]] : tensor<3xf32>)
// expected-remark @+1 {{fold-input-permutations: folded 1, kept 0}}
module {
func.func @shared_bias(%h: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %z = arith.constant dense<0.5> : tensor<3xf32>
  %wd = arith.constant dense<[[1.0, 0.0, 2.0], [0.5, 1.0, 0.0]]> : tensor<2x3xf32>
  %g = qopt.linear %h, %w bias(%b : tensor<3xf32>) transpose_weight : tensor<4x2xf32>, tensor<3x2xf32> -> tensor<4x3xf32>
  %u = qopt.linear %h, %w bias(%b : tensor<3xf32>) transpose_weight : tensor<4x2xf32>, tensor<3x2xf32> -> tensor<4x3xf32>
  %v = qopt.linear %h, %w bias(%z : tensor<3xf32>) transpose_weight : tensor<4x2xf32>, tensor<3x2xf32> -> tensor<4x3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g, %u, %v : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%x: f32, %y: f32, %t: f32, %out: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %m, %t : f32
    linalg.yield %r : f32
  } -> tensor<4x3xf32>
  %p = qopt.permute %a [2, 0, 1] : tensor<4x3xf32>
  %d = qopt.linear %p, %wd transpose_weight : tensor<4x3xf32>, tensor<2x3xf32> -> tensor<4x2xf32>
  return %d : tensor<4x2xf32>
}
}

// -----

// Through casts (GPTQ casts an input typed [?, ?] to [?, K] around the
// permutation), and with the weights in dense_resource blobs: the permuted
// copies are new blobs.
// CHECK-LABEL: func.func @casts
// CHECK-NOT: qopt.permute
// CHECK: %[[W:.*]] = arith.constant dense_resource<wr.permuted> : tensor<3x2xf32>
// CHECK: qopt.linear %arg0, %[[W]] transpose_weight
// CHECK: wr.permuted: "0x400000000000A0400000C0400000803F000000400000404000008040"
// expected-remark @+1 {{fold-input-permutations: folded 1, kept 0}}
module {
func.func @casts(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense_resource<wr> : tensor<3x2xf32>
  %wd = arith.constant dense<[[1.0, 0.0, 2.0], [0.5, 1.0, 0.0]]> : tensor<2x3xf32>
  %y = qopt.linear %x, %w transpose_weight : tensor<?x2xf32>, tensor<3x2xf32> -> tensor<?x3xf32>
  %d = tensor.cast %y : tensor<?x3xf32> to tensor<?x?xf32>
  %s = tensor.cast %d : tensor<?x?xf32> to tensor<?x3xf32>
  %p = qopt.permute %s [2, 0, 1] : tensor<?x3xf32>
  %b = tensor.cast %p : tensor<?x3xf32> to tensor<?x?xf32>
  %o = qopt.linear %b, %wd transpose_weight : tensor<?x?xf32>, tensor<2x3xf32> -> tensor<?x2xf32>
  return %o : tensor<?x2xf32>
}
}
{-#
  dialect_resources: {
    builtin: {
      wr: "0x040000000000803F0000004000004040000080400000A0400000C040"
    }
  }
#-}

// -----

// RMSNorm: the norm's input x is also read by the reduction (the mean of
// squares; in a model also by the residual add), so it cannot be permuted:
// the permutation stays.
// CHECK-LABEL: func.func @norm
// CHECK: %[[P:.*]] = qopt.permute %{{.*}} [1, 0] : tensor<4x2xf32>
// CHECK: qopt.linear %[[P]]
// expected-remark @+1 {{fold-input-permutations: folded 0, kept 1}}
module {
func.func @norm(%h: tensor<4x2xf32>, %w: tensor<2x2xf32>) -> tensor<4x2xf32> {
  %wo = arith.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>
  %x = qopt.linear %h, %wo transpose_weight : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32> loc("x")
  %gamma = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4xf32>) -> tensor<4xf32>
  %ss = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x2xf32>) outs(%acc : tensor<4xf32>) {
  ^bb0(%v: f32, %a: f32):
    %sq = arith.mulf %v, %v : f32
    %s = arith.addf %a, %sq : f32
    linalg.yield %s : f32
  } -> tensor<4xf32> loc("norm/ReduceSumSquare")
  %e2 = tensor.empty() : tensor<4x2xf32>
  %n = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %ss, %gamma : tensor<4x2xf32>, tensor<4xf32>, tensor<2xf32>) outs(%e2 : tensor<4x2xf32>) {
  ^bb0(%v: f32, %s: f32, %g: f32, %out: f32):
    %r = math.rsqrt %s : f32
    %m = arith.mulf %v, %r : f32
    %k = arith.mulf %m, %g : f32
    linalg.yield %k : f32
  } -> tensor<4x2xf32>
  // expected-remark @+1 {{fold-input-permutations: kept the permutation of 'q_proj' input: the output of 'qopt.linear' ('x') is also read in the original order by 'linalg.generic' ('norm/ReduceSumSquare')}}
  %p = qopt.permute %n [1, 0] : tensor<4x2xf32>
  %q = qopt.linear %p, %w transpose_weight : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32> loc("q_proj")
  return %q : tensor<4x2xf32>
}
}

// -----

// The norm behind a linear whose output is also the residual stream.
// CHECK-LABEL: func.func @residual
// CHECK: qopt.permute
// expected-remark @+1 {{fold-input-permutations: folded 0, kept 1}}
module {
func.func @residual(%h: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %wo = arith.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>
  %gamma = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %x = qopt.linear %h, %wo transpose_weight : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32> loc("o_proj")
  %e2 = tensor.empty() : tensor<4x2xf32>
  %n = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %gamma : tensor<4x2xf32>, tensor<2xf32>) outs(%e2 : tensor<4x2xf32>) {
  ^bb0(%v: f32, %g: f32, %out: f32):
    %k = arith.mulf %v, %g : f32
    linalg.yield %k : f32
  } -> tensor<4x2xf32> loc("norm/Mul")
  // expected-remark @+1 {{fold-input-permutations: kept the permutation of 'up_proj' input: the output of 'qopt.linear' ('o_proj') is also read in the original order by 'func.return'}}
  %p = qopt.permute %n [1, 0] : tensor<4x2xf32>
  %u = qopt.linear %p, %wo transpose_weight : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32> loc("up_proj")
  return %u, %x : tensor<4x2xf32>, tensor<4x2xf32>
}
}

// -----

// Two consumers that need different orders: both stay.
// CHECK-LABEL: func.func @conflict
// CHECK-COUNT-2: qopt.permute
// expected-remark @+1 {{fold-input-permutations: folded 0, kept 2}}
module {
func.func @conflict(%x: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %w = arith.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>
  %wa = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %wb = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %h = qopt.linear %x, %wa transpose_weight : tensor<4x2xf32>, tensor<3x2xf32> -> tensor<4x3xf32> loc("h")
  // expected-remark @+1 {{kept the permutation of 'a' input: the output of 'qopt.linear' ('h') is also read in the original order by 'qopt.permute'}}
  %p1 = qopt.permute %h [2, 0, 1] : tensor<4x3xf32>
  // expected-remark @+1 {{kept the permutation of 'b' input: the output of 'qopt.linear' ('h') is also read in the original order by 'qopt.permute'}}
  %p2 = qopt.permute %h [1, 2, 0] : tensor<4x3xf32>
  %a = qopt.linear %p1, %wb transpose_weight : tensor<4x3xf32>, tensor<2x3xf32> -> tensor<4x2xf32> loc("a")
  %b = qopt.linear %p2, %wb transpose_weight : tensor<4x3xf32>, tensor<2x3xf32> -> tensor<4x2xf32> loc("b")
  return %a, %b : tensor<4x2xf32>, tensor<4x2xf32>
}
}

// -----

// Attention heads: a reshape that changes the innermost dimension.
// CHECK-LABEL: func.func @heads
// CHECK: qopt.permute
// expected-remark @+1 {{fold-input-permutations: folded 0, kept 1}}
module {
func.func @heads(%x: tensor<4x2x2xf32>, %w: tensor<2x4xf32>) -> tensor<4x2xf32> {
  %c = tensor.collapse_shape %x [[0], [1, 2]] : tensor<4x2x2xf32> into tensor<4x4xf32>
  // expected-remark @+1 {{kept the permutation of 'o_proj' input: 'tensor.collapse_shape' changes the innermost dimension}}
  %p = qopt.permute %c [3, 2, 1, 0] : tensor<4x4xf32>
  %o = qopt.linear %p, %w transpose_weight : tensor<4x4xf32>, tensor<2x4xf32> -> tensor<4x2xf32> loc("o_proj")
  return %o : tensor<4x2xf32>
}
}

// -----

// A block argument, and a linear whose weight is not a constant.
// CHECK-LABEL: func.func @unknown
// CHECK-COUNT-2: qopt.permute
// expected-remark @+1 {{fold-input-permutations: folded 0, kept 2}}
module {
func.func @unknown(%x: tensor<4x2xf32>, %w: tensor<2x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  // expected-remark @+1 {{kept the permutation of 'a' input: the input is a block argument}}
  %p = qopt.permute %x [1, 0] : tensor<4x2xf32>
  %a = qopt.linear %p, %w transpose_weight : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32> loc("a")
  %h = qopt.linear %x, %w transpose_weight : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32> loc("h")
  // expected-remark @+1 {{kept the permutation of 'b' input: the output channels of 'qopt.linear' ('h') come from a non-constant operand #1}}
  %q = qopt.permute %h [1, 0] : tensor<4x2xf32>
  %b = qopt.linear %q, %w transpose_weight : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32> loc("b")
  return %a, %b : tensor<4x2xf32>, tensor<4x2xf32>
}
}
