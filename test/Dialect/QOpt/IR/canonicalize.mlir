// RUN: qopt %s -split-input-file -canonicalize -cse | FileCheck %s

// quantize(dequantize(q)) with the same parameters is q.
// CHECK-LABEL: func.func @requantize_folds
// CHECK-SAME: (%[[Q:.*]]: tensor<4x8xi8>,
// CHECK-NEXT: return %[[Q]]
func.func @requantize_folds(%q: tensor<4x8xi8>, %s: tensor<4xf32>, %z: tensor<4xi8>) -> tensor<4x8xi8> {
  %x = qopt.dequantize %q scale(%s : tensor<4xf32>) zero_point(%z : tensor<4xi8>) scheme <storage = ui8, granularity = per_channel, axis = 0, symmetric = false> : tensor<4x8xi8> -> tensor<4x8xf32>
  %r = qopt.quantize %x scale(%s : tensor<4xf32>) zero_point(%z : tensor<4xi8>) scheme <storage = ui8, granularity = per_channel, axis = 0, symmetric = false> : tensor<4x8xf32> -> tensor<4x8xi8>
  return %r : tensor<4x8xi8>
}

// -----

// dequantize(quantize(x)) is the quantization error the user asked for: it
// must stay.
// CHECK-LABEL: func.func @fake_quant_stays
// CHECK: qopt.quantize
// CHECK: qopt.dequantize
func.func @fake_quant_stays(%x: tensor<8xf32>, %s: tensor<f32>) -> tensor<8xf32> {
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<8xf32> -> tensor<8xi4>
  %d = qopt.dequantize %q scale(%s : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<8xi4> -> tensor<8xf32>
  return %d : tensor<8xf32>
}

// -----

// Idempotence: dq(q(dq(q(x)))) is dq(q(x)).
// CHECK-LABEL: func.func @double_fake_quant
// CHECK-COUNT-1: qopt.quantize
// CHECK-COUNT-1: qopt.dequantize
// CHECK-NOT: qopt.
func.func @double_fake_quant(%x: tensor<8xf32>, %s: tensor<f32>) -> tensor<8xf32> {
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<8xf32> -> tensor<8xi8>
  %d = qopt.dequantize %q scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<8xi8> -> tensor<8xf32>
  %q2 = qopt.quantize %d scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<8xf32> -> tensor<8xi8>
  %d2 = qopt.dequantize %q2 scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<8xi8> -> tensor<8xf32>
  return %d2 : tensor<8xf32>
}

// -----

// Different scales: no fold.
// CHECK-LABEL: func.func @requantize_other_scale
// CHECK: qopt.dequantize
// CHECK: qopt.quantize
func.func @requantize_other_scale(%q: tensor<8xi8>, %s: tensor<f32>, %t: tensor<f32>) -> tensor<8xi8> {
  %x = qopt.dequantize %q scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<8xi8> -> tensor<8xf32>
  %r = qopt.quantize %x scale(%t : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<8xf32> -> tensor<8xi8>
  return %r : tensor<8xi8>
}

// -----

// Different schemes (narrow range clamps -128): no fold.
// CHECK-LABEL: func.func @requantize_other_scheme
// CHECK: qopt.dequantize
// CHECK: qopt.quantize
func.func @requantize_other_scheme(%q: tensor<8xi8>, %s: tensor<f32>) -> tensor<8xi8> {
  %x = qopt.dequantize %q scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<8xi8> -> tensor<8xf32>
  %r = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor, narrow_range = true> : tensor<8xf32> -> tensor<8xi8>
  return %r : tensor<8xi8>
}

// -----

// bf16 has 8 bits of precision: (q - z) * s / s can be off by a whole step
// for 8-bit storage, so the round trip is not the identity. 4-bit storage is.
// CHECK-LABEL: func.func @requantize_through_bf16
// CHECK: qopt.dequantize {{.*}} -> tensor<8xbf16>
// CHECK: %[[R:.*]] = qopt.quantize
// CHECK-NEXT: return %[[R]], %arg1
func.func @requantize_through_bf16(%q: tensor<8xi8>, %q4: tensor<8xi4>, %s: tensor<f32>) -> (tensor<8xi8>, tensor<8xi4>) {
  %x = qopt.dequantize %q scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<8xi8> -> tensor<8xbf16>
  %r = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor> : tensor<8xbf16> -> tensor<8xi8>
  %x4 = qopt.dequantize %q4 scale(%s : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<8xi4> -> tensor<8xbf16>
  %r4 = qopt.quantize %x4 scale(%s : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<8xbf16> -> tensor<8xi4>
  return %r, %r4 : tensor<8xi8>, tensor<8xi4>
}

// -----

// CHECK-LABEL: func.func @pack_unpack_fold
// CHECK-SAME: (%[[A:.*]]: tensor<4x8xi4>, %[[B:.*]]: tensor<4x4xi8>)
// CHECK-NEXT: return %[[A]], %[[B]]
func.func @pack_unpack_fold(%a: tensor<4x8xi4>, %b: tensor<4x4xi8>) -> (tensor<4x8xi4>, tensor<4x4xi8>) {
  %p = qopt.pack %a : tensor<4x8xi4> -> tensor<4x4xi8>
  %u = qopt.unpack %p : tensor<4x4xi8> -> tensor<4x8xi4>
  %u2 = qopt.unpack %b : tensor<4x4xi8> -> tensor<4x8xi4>
  %p2 = qopt.pack %u2 : tensor<4x8xi4> -> tensor<4x4xi8>
  return %u, %p2 : tensor<4x8xi4>, tensor<4x4xi8>
}

// -----

// Reading bytes as i2 and packing as i4 is a different stream: no fold.
// CHECK-LABEL: func.func @pack_unpack_other_width
// CHECK: qopt.unpack
// CHECK: qopt.pack
func.func @pack_unpack_other_width(%b: tensor<4xi8>) -> tensor<2xi8> {
  %u = qopt.unpack %b : tensor<4xi8> -> tensor<16xi2>
  %r = tensor.extract_slice %u[0] [8] [1] : tensor<16xi2> to tensor<8xi2>
  %p = qopt.pack %r : tensor<8xi2> -> tensor<2xi8>
  return %p : tensor<2xi8>
}

// -----

// CHECK-LABEL: func.func @smooth_by_one
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @smooth_by_one(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %one = arith.constant dense<1.0> : tensor<4xf32>
  %y = qopt.smooth %x, %one : tensor<2x4xf32>, tensor<4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @smooth_compose
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
// CHECK: %[[S:.*]] = arith.constant dense<[2.000000e+00, 1.200000e+01, 1.000000e+00, 5.000000e-01]> : tensor<4xf32>
// CHECK: %[[Y:.*]] = qopt.smooth %[[X]], %[[S]]
// CHECK-NEXT: return %[[Y]]
func.func @smooth_compose(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %a = arith.constant dense<[1.0, 3.0, 0.5, 0.25]> : tensor<4xf32>
  %b = arith.constant dense<[2.0, 4.0, 2.0, 2.0]> : tensor<4xf32>
  %y = qopt.smooth %x, %a : tensor<2x4xf32>, tensor<4xf32>
  %z = qopt.smooth %y, %b : tensor<2x4xf32>, tensor<4xf32>
  return %z : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @permute_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @permute_identity(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %y = qopt.permute %x [0, 1, 2, 3] : tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// y[j] = x[p[j]], z[j] = y[q[j]] = x[p[q[j]]]: p = [2, 0, 3, 1] and
// q = [3, 2, 1, 0] give [1, 3, 0, 2]; permuting z by [2, 0, 3, 1] again
// composes to [0, 1, 2, 3], the identity, which folds away.
// CHECK-LABEL: func.func @permute_compose
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
// CHECK: %[[Z:.*]] = qopt.permute %[[X]] [1, 3, 0, 2] : tensor<2x4xf32>
// CHECK-NEXT: return %[[Z]], %[[X]]
func.func @permute_compose(%x: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %y = qopt.permute %x [2, 0, 3, 1] : tensor<2x4xf32>
  %z = qopt.permute %y [3, 2, 1, 0] : tensor<2x4xf32>
  %w = qopt.permute %z [2, 0, 3, 1] : tensor<2x4xf32>
  return %z, %w : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Observation points have an effect: canonicalize and CSE keep both, even
// when their results are unused.
// CHECK-LABEL: func.func @observe_kept
// CHECK-COUNT-2: qopt.observe
func.func @observe_kept(%x: tensor<4xf32>) {
  %0 = qopt.observe %x name "a" observer <kind = min_max> : tensor<4xf32>
  %1 = qopt.observe %x name "a" observer <kind = min_max> : tensor<4xf32>
  return
}

// -----

// A check that holds is erased; one that may fail, or always fails, stays.
// CHECK-LABEL: func.func @check_folds
// CHECK-NOT: "holds"
// CHECK: qopt.check %{{.*}}, "may fail {0}"
// CHECK: qopt.check %{{.*}}, "fails"
func.func @check_folds(%ok: i1, %n: index) {
  %true = arith.constant true
  %false = arith.constant false
  qopt.check %true, "holds"
  qopt.check %ok, "may fail {0}" (%n : index)
  qopt.check %false, "fails"
  return
}
