// Pass options apply to a whole run: each file below has its own.
//
// RUN: split-file %s %t
// RUN: qopt %t/identity.mlir -split-input-file --qopt-quantize-weights-gptq='bits=4 granularity=per-group group-size=4' | FileCheck %t/identity.mlir --check-prefixes=CHECK,GPTQ
// RUN: qopt %t/identity.mlir -split-input-file --qopt-quantize-weights-gptq='bits=4 granularity=per-group group-size=4 act-order=true' | FileCheck %t/identity.mlir --check-prefixes=CHECK,GPTQ
// RUN: qopt %t/identity.mlir -split-input-file --qopt-quantize-weights-rtn='bits=4 granularity=per-group group-size=4' | FileCheck %t/identity.mlir
// RUN: qopt %t/coupled.mlir --qopt-quantize-weights-gptq='granularity=per-channel' | FileCheck %t/coupled.mlir
// RUN: qopt %t/coupled.mlir --qopt-quantize-weights-gptq='granularity=per-channel block-size=1' | FileCheck %t/coupled.mlir
// RUN: qopt %t/coupled.mlir --qopt-quantize-weights-rtn='granularity=per-channel' | FileCheck %t/coupled.mlir --check-prefix=RTN
// RUN: qopt %t/act-order.mlir --qopt-quantize-weights-gptq='granularity=per-group group-size=4 act-order=true' | FileCheck %t/act-order.mlir
// RUN: qopt %t/act-order.mlir --qopt-quantize-weights-gptq='granularity=per-group group-size=4' | FileCheck %t/act-order.mlir --check-prefix=PLAIN
// RUN: qopt %t/permuted.mlir -verify-diagnostics --qopt-quantize-weights-gptq='granularity=per-group group-size=2 act-order=true static-groups=false' | FileCheck %t/permuted.mlir --check-prefix=PERM
// RUN: qopt %t/permuted.mlir -verify-diagnostics --qopt-quantize-weights-gptq='granularity=per-group group-size=2 act-order=true' | FileCheck %t/permuted.mlir --check-prefix=STATIC
// RUN: qopt %t/permuted.mlir -verify-diagnostics --qopt-quantize-weights-gptq='granularity=per-channel act-order=true static-groups=false' | FileCheck %t/permuted.mlir --check-prefix=PC
// RUN: qopt %t/permuted-dynamic.mlir --qopt-quantize-weights-gptq='granularity=per-group group-size=2 act-order=true static-groups=false' | FileCheck %t/permuted-dynamic.mlir
// RUN: qopt %t/diagnostics.mlir -split-input-file -verify-diagnostics --qopt-quantize-weights-gptq='granularity=per-channel overrides=skip=fp' | FileCheck %t/diagnostics.mlir
// RUN: qopt %t/no-retries.mlir -verify-diagnostics --qopt-quantize-weights-gptq='granularity=per-channel damp-retries=1' | FileCheck %t/no-retries.mlir
// RUN: qopt %t/resources.mlir -verify-diagnostics --qopt-quantize-weights-gptq='bits=8 granularity=per-channel resource-threshold=0' | FileCheck %t/resources.mlir
// RUN: qopt %t/only-calibrated.mlir -verify-diagnostics --qopt-quantize-weights-gptq='granularity=per-channel only-calibrated=true' | FileCheck %t/only-calibrated.mlir
// RUN: qopt %t/errors.mlir -split-input-file -verify-diagnostics --qopt-quantize-weights-gptq='granularity=per-channel'
// RUN: qopt %t/bad-bits.mlir -verify-diagnostics --qopt-quantize-weights-gptq='bits=5'
// RUN: qopt %t/bad-override.mlir -verify-diagnostics --qopt-quantize-weights-gptq='overrides=fc*=int4-q32'
// RUN: qopt %t/bad-damp.mlir -verify-diagnostics --qopt-quantize-weights-gptq='damp=0'
// RUN: qopt %t/bad-damp-retries.mlir -verify-diagnostics --qopt-quantize-weights-gptq='damp-retries=-1'
// RUN: qopt %t/bad-block-size.mlir -verify-diagnostics --qopt-quantize-weights-gptq='block-size=0'

//--- identity.mlir

// With H = I no rounding error is spread (H^-1 is diagonal), so GPTQ, with
// or without act-order, gives RTN's codes and scales exactly: the same
// CHECK lines hold for all three runs. int4 sym g4, row 0 groups
// [0.7, -0.35, 0.1, 0.05] (s = 0.1: [7, -4 (-3.5 to even), 1, 0 (0.5 to
// even)]) and [1.4, 0.3, -0.2, 0] (s = 0.2: [7, 2 (1.5), -1, 0]); row 1 is
// row 0 negated ([-7, 4, -1, 0], [-7, -2, 1, 0]). Packed two per byte, low
// nibble first: 7 | -4 << 4 = -57, ...
// CHECK-LABEL: func.func @identity
// GPTQ-NOT: qopt.observe
// CHECK-DAG: arith.constant dense<{{\[\[}}-57, 1, 39, 15], [73, 15, -23, 1]]> : tensor<2x4xi8>
// CHECK-DAG: arith.constant dense<{{\[\[}}1.000000e-01, 2.000000e-01], [1.000000e-01, 2.000000e-01]]> : tensor<2x2xf32>
// CHECK: qopt.weight_only_linear {{.*}} scheme <storage = i4, granularity = per_group, axis = 1, group_size = 4, narrow_range = true> : tensor<?x8xf32>, tensor<2x4xi8> -> tensor<?x2xf32>
func.func @identity(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[0.7, -0.35, 0.1, 0.05, 1.4, 0.3, -0.2, 0.0], [-0.7, 0.35, -0.1, -0.05, -1.4, -0.3, 0.2, 0.0]]> : tensor<2x8xf32>
  %h = qopt.observe %x name "fc1:input" observer <kind = hessian> stats <samples = 4, hessian = dense<[[4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0]]> : tensor<8x8xf64>> : tensor<?x8xf32>
  %y = qopt.linear %h, %w transpose_weight : tensor<?x8xf32>, tensor<2x8xf32> -> tensor<?x2xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

//--- coupled.mlir

// Input channels 0 and 1 are correlated (H = [[2, 1], [1, 2]] in that
// corner), so the rounding error of w0 moves w1. int4 sym per channel,
// s = 0.7 / 7 = 0.1. Damp 0.01 * mean diag 2 = 0.02: H^-1 = [[2.02, -1],
// [-1, 2.02]] / 3.0804, U = chol(H^-1) upper, U01 / U00 = -1 / 2.02.
//   w0 = 0.66 -> 7 (0.7), error -0.04: w1 = 0.26 - 0.04 / 2.02 = 0.2402 -> 2
//   (round to nearest gives 3); w2 = -0.7 -> -7, w3 = 0 -> 0.
// Packed: 7 | 2 << 4 = 39, -7 & 15 = 9 (round to nearest: 55). The lazy
// update between blocks (block-size=1) gives the same codes.
// The min_max observer stays; the consumed Hessian observer goes.
// CHECK-LABEL: func.func @coupled
// CHECK: %[[O:.*]] = qopt.observe %arg0 name "fc1:input" observer <kind = min_max>
// CHECK-NOT: kind = hessian
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}39, 9]]> : tensor<1x2xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<1.000000e-01> : tensor<1xf32>
// CHECK: qopt.weight_only_linear %[[O]], %[[W]] scale(%[[S]] : tensor<1xf32>) scheme <storage = i4, granularity = per_channel, axis = 0, narrow_range = true>
// RTN: arith.constant dense<{{\[\[}}55, 9]]> : tensor<1x2xi8>
func.func @coupled(%x: tensor<?x4xf32>) -> tensor<?x1xf32> {
  %w = arith.constant dense<[[0.66], [0.26], [-0.7], [0.0]]> : tensor<4x1xf32>
  %o = qopt.observe %x name "fc1:input" observer <kind = min_max> : tensor<?x4xf32>
  %h = qopt.observe %o name "fc1:input" observer <kind = hessian> stats <samples = 1, hessian = dense<[[2.0, 1.0, 0.0, 0.0], [1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 2.0]]> : tensor<4x4xf64>> : tensor<?x4xf32>
  %y = qopt.linear %h, %w : tensor<?x4xf32>, tensor<4x1xf32> -> tensor<?x1xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x1xf32>
  return %r : tensor<?x1xf32>
}

//--- act-order.mlir

// Act-order visits channel 1 (diag 4) first and channel 0 (diag 2) last,
// so the error of w1 moves w0 instead of the other way round. The group
// (all 4 channels here) is static: its grid is fixed before the loop
// (s = 0.7 / 7 = 0.1), and the result is the plain per-group layout, no
// act_order operand. H = [[2, 1], [1, 4]] in that corner, 3 elsewhere on
// the diagonal; damp 0.01 * mean diag 3 = 0.03.
//   act-order: w1 = 0.26 -> 3 (0.3), error -0.04, moved onto w0 by
//   H^-1_01 / H^-1_11 = -1 / 2.03: w0 = 0.66 - 0.0197 = 0.6403 -> 6;
//   packed 6 | 3 << 4 = 54.
//   plain order: w0 = 0.66 -> 7, error -0.04, w1 = 0.26 - 0.04 / 4.03
//   = 0.2501 -> 3 (2.501); packed 7 | 3 << 4 = 55.
// CHECK-LABEL: func.func @act_order
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}54, 9]]> : tensor<1x2xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<1.000000e-01> : tensor<1x1xf32>
// CHECK: qopt.weight_only_linear %arg0, %[[W]] scale(%[[S]] : tensor<1x1xf32>) scheme <storage = i4, granularity = per_group, axis = 1, group_size = 4, narrow_range = true> : tensor<?x4xf32>, tensor<1x2xi8> -> tensor<?x1xf32>
// PLAIN: arith.constant dense<{{\[\[}}55, 9]]> : tensor<1x2xi8>
func.func @act_order(%x: tensor<?x4xf32>) -> tensor<?x1xf32> {
  %w = arith.constant dense<[[0.66, 0.26, -0.7, 0.0]]> : tensor<1x4xf32>
  %h = qopt.observe %x name "fc1:input" observer <kind = hessian> stats <samples = 1, hessian = dense<[[2.0, 1.0, 0.0, 0.0], [1.0, 4.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 3.0]]> : tensor<4x4xf64>> : tensor<?x4xf32>
  %y = qopt.linear %h, %w transpose_weight : tensor<?x4xf32>, tensor<1x4xf32> -> tensor<?x1xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x1xf32>
  return %r : tensor<?x1xf32>
}

//--- permuted.mlir

// Act-order with groups over the permuted order (static-groups=false). H is
// diagonal, so no error is spread and the codes are round to nearest on the
// groups that act-order forms: diag(H) = [1, 4, 2, 3] visits columns
// [1, 3, 2, 0], so w = [0.62, 0.13, -0.33, 1.4] becomes [0.13, 1.4, -0.33,
// 0.62]; groups of 2: [0.13, 1.4] (s = 0.2: codes 1 (0.65), 7) and
// [-0.33, 0.62] (s = 0.62 / 7: -4 (-3.73), 7). The weight is stored in that
// order (packed 1 | 7 << 4 = 113, -4 & 15 | 7 << 4 = 124) and the input is
// permuted to match.
// Static groups (the default) keep the original order: groups [0.62, 0.13]
// (s = 0.62 / 7: 7, 1 (1.47)) and [-0.33, 1.4] (s = 0.2: -2 (-1.65), 7),
// packed 7 | 1 << 4 = 23, -2 & 15 | 7 << 4 = 126, and no permutation.
// Per channel there are no groups, so the order does not matter: no
// permutation either.
// PERM-LABEL: func.func @permuted
// PERM: %[[P:.*]] = qopt.permute %arg0 [1, 3, 2, 0] : tensor<?x4xf32>
// PERM-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}113, 124]]> : tensor<1x2xi8>
// PERM-DAG: %[[S:.*]] = arith.constant dense<{{\[\[}}2.000000e-01, 0.08857{{[0-9]*}}]]> : tensor<1x2xf32>
// PERM: qopt.weight_only_linear %[[P]], %[[W]] scale(%[[S]] : tensor<1x2xf32>) scheme <storage = i4, granularity = per_group, axis = 1, group_size = 2, narrow_range = true>
// STATIC-LABEL: func.func @permuted
// STATIC-NOT: qopt.permute
// STATIC: arith.constant dense<{{\[\[}}23, 126]]> : tensor<1x2xi8>
// STATIC: qopt.weight_only_linear %arg0,
// PC-LABEL: func.func @permuted
// PC-NOT: qopt.permute
// PC: qopt.weight_only_linear %arg0,
// expected-remark @+1 {{gptq: quantized 1 layers (0 by RTN), left 0 fp32}}
module {
func.func @permuted(%x: tensor<?x4xf32>) -> tensor<?x1xf32> {
  %w = arith.constant dense<[[0.62, 0.13, -0.33, 1.4]]> : tensor<1x4xf32>
  %h = qopt.observe %x name "fc1:input" observer <kind = hessian> stats <samples = 1, hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 4.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 3.0]]> : tensor<4x4xf64>> : tensor<?x4xf32>
  %y = qopt.linear %h, %w transpose_weight : tensor<?x4xf32>, tensor<1x4xf32> -> tensor<?x1xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x1xf32>
  return %r : tensor<?x1xf32>
}
}

//--- permuted-dynamic.mlir

// An input whose channel count is dynamic in its type is cast to [?, 4]
// for the permutation and back.
// CHECK-LABEL: func.func @permuted_dynamic
// CHECK: %[[C:.*]] = tensor.cast %arg0 : tensor<?x?xf32> to tensor<?x4xf32>
// CHECK: %[[P:.*]] = qopt.permute %[[C]] [1, 3, 2, 0] : tensor<?x4xf32>
// CHECK: %[[B:.*]] = tensor.cast %[[P]] : tensor<?x4xf32> to tensor<?x?xf32>
// CHECK: qopt.weight_only_linear %[[B]],
func.func @permuted_dynamic(%x: tensor<?x?xf32>) -> tensor<?x1xf32> {
  %w = arith.constant dense<[[0.62, 0.13, -0.33, 1.4]]> : tensor<1x4xf32>
  %h = qopt.observe %x name "fc1:input" observer <kind = hessian> stats <samples = 1, hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 4.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 3.0]]> : tensor<4x4xf64>> : tensor<?x?xf32>
  %y = qopt.linear %h, %w transpose_weight : tensor<?x?xf32>, tensor<1x4xf32> -> tensor<?x1xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x1xf32>
  return %r : tensor<?x1xf32>
}

//--- diagnostics.mlir

// Dead input channel 1 (H_11 = 0: never active in calibration): its weight
// becomes 0, while the per-channel grid still comes from the whole original
// row (s = 1.4 / 7 = 0.2): w0 = 0.7 -> 3.5 -> 4 (to even), w1 -> 0.
// Packed: 4 (RTN would store 4 | -7 << 4).
// CHECK-LABEL: func.func @dead
// CHECK: arith.constant dense<4> : tensor<1x1xi8>
// CHECK: arith.constant dense<2.000000e-01> : tensor<1xf32>
// expected-remark @+1 {{gptq: quantized 1 layers (0 by RTN), left 0 fp32}}
module {
func.func @dead(%x: tensor<?x2xf32>) -> tensor<?x1xf32> {
  %w = arith.constant dense<[[0.7], [-1.4]]> : tensor<2x1xf32>
  %h = qopt.observe %x name "fc1:input" observer <kind = hessian> stats <samples = 3, hessian = dense<[[1.0, 0.0], [0.0, 0.0]]> : tensor<2x2xf64>> : tensor<?x2xf32>
  %y = qopt.linear %h, %w : tensor<?x2xf32>, tensor<2x1xf32> -> tensor<?x1xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x1xf32>
  return %r : tensor<?x1xf32>
}
}

// -----

// H = [[1, 3], [3, 1]] is not positive semi-definite (no calibration gives
// that, but the pass must not produce NaN from it): damp 0.01, 0.1 and 1
// (x mean diag 1) fail, 10 works. With H + 10 I the error of w0 moves w1 by
// H^-1_01 / H^-1_00 = -3 / 11: w0 = 0.66 -> 7, w1 = 0.26 - 0.04 * 3 / 11
// = 0.2491 -> 2; packed 7 | 2 << 4 = 39, then -7 & 15 = 9.
// CHECK-LABEL: func.func @retries
// CHECK: arith.constant dense<{{\[\[}}39, 9]]> : tensor<1x2xi8>
// expected-remark @+1 {{gptq: quantized 1 layers (0 by RTN), left 0 fp32}}
module {
func.func @retries(%x: tensor<?x4xf32>) -> tensor<?x1xf32> {
  %w = arith.constant dense<[[0.66, 0.26, -0.7, 0.0]]> : tensor<1x4xf32>
  %h = qopt.observe %x name "fc1:input" observer <kind = hessian> stats <samples = 1, hessian = dense<[[1.0, 3.0, 0.0, 0.0], [3.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf64>> : tensor<?x4xf32>
  // expected-remark @+3 {{gptq: Cholesky failed at damp 0.01 (H is not positive definite (leading minor 2)); retrying with damp 0.1}}
  // expected-remark @+2 {{gptq: Cholesky failed at damp 0.1 (H is not positive definite (leading minor 2)); retrying with damp 1}}
  // expected-remark @+1 {{gptq: Cholesky failed at damp 1 (H is not positive definite (leading minor 2)); retrying with damp 10}}
  %y = qopt.linear %h, %w transpose_weight : tensor<?x4xf32>, tensor<1x4xf32> -> tensor<?x1xf32>
  %r = arith.negf %y : tensor<?x1xf32>
  return %r : tensor<?x1xf32>
}
}

// -----

// Layers without a calibrated Hessian are quantized by RTN (blob prefix
// rtn); the head and layers an override keeps in fp are named in the
// summary, and their Hessian observers are removed too.
// CHECK-LABEL: func.func @fallback
// CHECK-NOT: qopt.observe
// CHECK: qopt.weight_only_linear %arg0
// CHECK: qopt.linear %{{.*}}, %{{.*}} :
// CHECK: qopt.weight_only_linear
// CHECK: qopt.linear %{{.*}}, %{{.*}} :
// expected-remark @+1 {{gptq: quantized 2 layers (2 by RTN), left 2 fp32 (skip, lm_head)}}
module {
func.func @fallback(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %w = arith.constant dense<0.5> : tensor<8x8xf32>
  // expected-remark @+1 {{gptq: no calibrated Hessian on the layer's input; quantized by RTN}}
  %a = qopt.linear %x, %w : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32>
  %o = qopt.observe %a name "skip:input" observer <kind = hessian> stats <samples = 1, hessian = dense<1.0> : tensor<8x8xf64>> : tensor<?x8xf32>
  %b = qopt.linear %o, %w : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("skip")
  %u = qopt.observe %b name "uncalibrated:input" observer <kind = hessian> : tensor<?x8xf32>
  // expected-remark @+1 {{gptq: no calibrated Hessian on the layer's input; quantized by RTN}}
  %c = qopt.linear %u, %w : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32>
  %d = qopt.linear %c, %w : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("lm_head")
  return %d : tensor<?x8xf32>
}
}

//--- no-retries.mlir

// With damp-retries=1 the not positive definite H of @retries above fails
// twice and the layer falls back to RTN (w1 = 0.26 -> 3: 7 | 3 << 4 = 55).
// CHECK-LABEL: func.func @no_retries
// CHECK: arith.constant dense<{{\[\[}}55, 9]]> : tensor<1x2xi8>
// expected-remark @+1 {{gptq: quantized 1 layers (1 by RTN), left 0 fp32}}
module {
func.func @no_retries(%x: tensor<?x4xf32>) -> tensor<?x1xf32> {
  %w = arith.constant dense<[[0.66, 0.26, -0.7, 0.0]]> : tensor<1x4xf32>
  %h = qopt.observe %x name "fc1:input" observer <kind = hessian> stats <samples = 1, hessian = dense<[[1.0, 3.0, 0.0, 0.0], [3.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf64>> : tensor<?x4xf32>
  // expected-remark @+3 {{gptq: Cholesky failed at damp 0.01 (H is not positive definite (leading minor 2)); retrying with damp 0.1}}
  // expected-remark @+2 {{gptq: Cholesky failed at damp 0.1 (H is not positive definite (leading minor 2)); no retries left}}
  // expected-warning @+1 {{gptq: every dampening failed; quantized by RTN}}
  %y = qopt.linear %h, %w transpose_weight : tensor<?x4xf32>, tensor<1x4xf32> -> tensor<?x1xf32>
  %r = arith.negf %y : tensor<?x1xf32>
  return %r : tensor<?x1xf32>
}
}

//--- resources.mlir

// Hessian and weight as dense_resource blobs in, blobs named gptq.<layer>.*
// out. H is diagonal: the codes are RTN's (int8 per channel: s = 2 / 127,
// [1, 2] / s = [63.5, 127] -> [64, 127]; [-0.5, 0.25] / (0.5 / 127) =
// [-127, 63.5] -> [-127, 64]). The observer's point name and the layer name
// differ in the blob names: '/' becomes '_'.
// CHECK-LABEL: func.func @resources
// CHECK-DAG: arith.constant dense_resource<gptq.blk_0.fc.weight> : tensor<2x2xi8>
// CHECK-DAG: arith.constant dense_resource<gptq.blk_0.fc.scale> : tensor<2xf32>
// CHECK: gptq.blk_0.fc.weight: "0x40000000407F8140"
// expected-remark @+1 {{gptq: quantized 1 layers (0 by RTN), left 0 fp32}}
module {
func.func @resources(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense_resource<w0> : tensor<2x2xf32>
  %h = qopt.observe %x name "blk/0.fc:input" observer <kind = hessian> stats <samples = 2, hessian = dense_resource<h0> : tensor<2x2xf64>> : tensor<?x2xf32>
  %y = qopt.linear %h, %w transpose_weight : tensor<?x2xf32>, tensor<2x2xf32> -> tensor<?x2xf32> loc("blk/0.fc")
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}
}
{-#
  dialect_resources: {
    builtin: {
      w0: "0x040000000000803F00000040000000BF0000803E",
      h0: "0x080000000000000000000040000000000000000000000000000000000000000000001040"
    }
  }
#-}

//--- only-calibrated.mlir

// only-calibrated (true-sequential, one block at a time): the layer without
// a Hessian stays f32, silently; its observer without stats stays too.
// CHECK-LABEL: func.func @only_calibrated
// CHECK: qopt.weight_only_linear
// CHECK: qopt.observe {{.*}} name "later:input"
// CHECK: qopt.linear
// expected-remark @+1 {{gptq: quantized 1 layers (0 by RTN), left 1 fp32 (later)}}
module {
func.func @only_calibrated(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %w = arith.constant dense<0.5> : tensor<8x8xf32>
  %o = qopt.observe %x name "now:input" observer <kind = hessian> stats <samples = 1, hessian = dense<2.0> : tensor<8x8xf64>> : tensor<?x8xf32>
  %a = qopt.linear %o, %w : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("now")
  %u = qopt.observe %a name "later:input" observer <kind = hessian> : tensor<?x8xf32>
  %b = qopt.linear %u, %w : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("later")
  %r = arith.negf %b : tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}
}

//--- errors.mlir

// A Hessian with a NaN in a blob (the #qopt.stats verifier checks inline
// values only) is an error, not a NaN scale.
module {
func.func @non_finite(%x: tensor<?x2xf32>) -> tensor<?x1xf32> {
  %w = arith.constant dense<[[0.7], [-1.4]]> : tensor<2x1xf32>
  %h = qopt.observe %x name "fc1:input" observer <kind = hessian> stats <samples = 1, hessian = dense_resource<nan> : tensor<2x2xf64>> : tensor<?x2xf32>
  // expected-error @+1 {{gptq: the Hessian of 'fc1:input' holds a NaN or infinite value}}
  %y = qopt.linear %h, %w : tensor<?x2xf32>, tensor<2x1xf32> -> tensor<?x1xf32>
  %r = arith.negf %y : tensor<?x1xf32>
  return %r : tensor<?x1xf32>
}
}
{-#
  dialect_resources: {
    builtin: {
      nan: "0x08000000000000000000F03F000000000000F87F0000000000000000000000000000F03F"
    }
  }
#-}

// -----

module {
func.func @no_samples(%x: tensor<?x2xf32>) -> tensor<?x1xf32> {
  %w = arith.constant dense<[[0.7], [-1.4]]> : tensor<2x1xf32>
  %h = qopt.observe %x name "fc1:input" observer <kind = hessian> stats <samples = 0, hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf64>> : tensor<?x2xf32>
  // expected-error @+1 {{gptq: the Hessian of 'fc1:input' has no samples}}
  %y = qopt.linear %h, %w : tensor<?x2xf32>, tensor<2x1xf32> -> tensor<?x1xf32>
  %r = arith.negf %y : tensor<?x1xf32>
  return %r : tensor<?x1xf32>
}
}

//--- bad-bits.mlir

// expected-error @+1 {{qopt-quantize-weights-gptq: bits must be 8, 4, 3 or 2, got 5}}
module {
}

//--- bad-override.mlir

// expected-error @+1 {{qopt-quantize-weights-gptq: override 'fc*=int4-q32': unknown part 'q32'; expected g<group size>, pc, pt, sym, asym, clip or noclip}}
module {
}

//--- bad-damp.mlir

// expected-error @+1 {{qopt-quantize-weights-gptq: damp must be positive, got 0}}
module {
}

//--- bad-damp-retries.mlir

// expected-error @+1 {{qopt-quantize-weights-gptq: damp-retries must not be negative, got -1}}
module {
}

//--- bad-block-size.mlir

// expected-error @+1 {{qopt-quantize-weights-gptq: block-size must be positive, got 0}}
module {
}
