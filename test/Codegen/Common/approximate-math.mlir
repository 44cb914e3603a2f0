// RUN: qopt %s -split-input-file --pass-pipeline='builtin.module(func.func(qopt-approximate-math))' | FileCheck %s

// tanh on a vector becomes a rational polynomial on the same vector type:
// no math.tanh is left for LLVM to scalarize into tanhf calls.
// CHECK-LABEL: func.func @tanh_vector
// CHECK-NOT: math.tanh
// CHECK: math.fma {{.*}} : vector<16xf32>
// CHECK: arith.divf {{.*}} : vector<16xf32>
// CHECK-NOT: math.tanh
// CHECK: return
func.func @tanh_vector(%x: vector<16xf32>) -> vector<16xf32> {
  %0 = math.tanh %x : vector<16xf32>
  return %0 : vector<16xf32>
}

// -----

// erf and exp, scalars too.
// CHECK-LABEL: func.func @erf_exp_scalar
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK: math.fma {{.*}} : f32
// CHECK: return
func.func @erf_exp_scalar(%x: f32) -> (f32, f32) {
  %0 = math.erf %x : f32
  %1 = math.exp %x : f32
  return %0, %1 : f32, f32
}

// -----

// GELU's pow(x, 3) is two multiplications.
// CHECK-LABEL: func.func @powf_cube
// CHECK-NOT: math.powf
// CHECK-SAME: (%[[X:.*]]: vector<8xf32>)
// CHECK: %[[SQ:.*]] = arith.mulf %[[X]], %[[X]] : vector<8xf32>
// CHECK: arith.mulf %[[X]], %[[SQ]] : vector<8xf32>
func.func @powf_cube(%x: vector<8xf32>) -> vector<8xf32> {
  %c3 = arith.constant dense<3.0> : vector<8xf32>
  %0 = math.powf %x, %c3 : vector<8xf32>
  return %0 : vector<8xf32>
}

// -----

// Left alone: log (upstream's polynomial is wrong for subnormal inputs),
// powf by a non-constant exponent, and f64.
// CHECK-LABEL: func.func @kept
// CHECK: math.log %{{.*}} : vector<8xf32>
// CHECK: math.powf %{{.*}} : vector<8xf32>
// CHECK: math.tanh %{{.*}} : f64
func.func @kept(%x: vector<8xf32>, %y: vector<8xf32>, %z: f64)
    -> (vector<8xf32>, vector<8xf32>, f64) {
  %0 = math.log %x : vector<8xf32>
  %1 = math.powf %x, %y : vector<8xf32>
  %2 = math.tanh %z : f64
  return %0, %1, %2 : vector<8xf32>, vector<8xf32>, f64
}
