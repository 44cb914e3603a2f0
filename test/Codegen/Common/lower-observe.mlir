// RUN: qopt %s -split-input-file -verify-diagnostics --qopt-lower-observe | FileCheck %s

// Every point becomes a read-only view of its input and a call; its result
// is its input. Points are numbered in walk order and listed on the module.
// CHECK-LABEL: module attributes {qopt.observe_points = [
// CHECK-SAME: {axis = -1 : i64, bins = 2048 : i64, channels = 1 : i64, kind = 0 : i32, name = "fc1:input", percentile = 99.98{{[0-9]*}} : f64},
// CHECK-SAME: {axis = 1 : i64, bins = 2048 : i64, channels = 8 : i64, kind = 4 : i32, name = "fc1:input", percentile = 99.98{{[0-9]*}} : f64},
// CHECK-SAME: {axis = -1 : i64, bins = 2048 : i64, channels = 8 : i64, kind = 5 : i32, name = "fc1:input", percentile = 99.98{{[0-9]*}} : f64},
// CHECK-SAME: {axis = 0 : i64, bins = 2048 : i64, channels = -1 : i64, kind = 4 : i32, name = "dyn", percentile = 99.98{{[0-9]*}} : f64}]}
// CHECK: func.func private @qrt_observe(i64, memref<*xf32>)
// CHECK-LABEL: func.func @points
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %[[D:.*]]: tensor<?x8xf32>)
// CHECK: %[[B0:.*]] = bufferization.to_buffer %[[X]] read_only : tensor<?x8xf32> to memref<?x8xf32, strided<[?, ?], offset: ?>>
// CHECK: %[[U0:.*]] = memref.cast %[[B0]] : memref<?x8xf32, strided<[?, ?], offset: ?>> to memref<*xf32>
// CHECK: %[[C0:.*]] = arith.constant 0 : i64
// CHECK: call @qrt_observe(%[[C0]], %[[U0]]) : (i64, memref<*xf32>) -> ()
// CHECK: %[[C1:.*]] = arith.constant 1 : i64
// CHECK: call @qrt_observe(%[[C1]],
// CHECK: %[[C2:.*]] = arith.constant 2 : i64
// CHECK: call @qrt_observe(%[[C2]],
// CHECK: %[[C3:.*]] = arith.constant 3 : i64
// CHECK: call @qrt_observe(%[[C3]],
// CHECK-NOT: qopt.observe
// CHECK: qopt.linear %[[X]]
func.func @points(%x: tensor<?x8xf32>, %d: tensor<?x8xf32>) -> tensor<?x4xf32> {
  %w = arith.constant dense<1.0> : tensor<8x4xf32>
  %0 = qopt.observe %x name "fc1:input" observer <kind = min_max> : tensor<?x8xf32>
  %1 = qopt.observe %0 name "fc1:input" observer <kind = abs_max, axis = 1> : tensor<?x8xf32>
  %2 = qopt.observe %1 name "fc1:input" observer <kind = hessian> : tensor<?x8xf32>
  %3 = qopt.observe %d name "dyn" observer <kind = abs_max, axis = 0> : tensor<?x8xf32>
  %y = qopt.linear %2, %w : tensor<?x8xf32>, tensor<8x4xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// Without points the module is unchanged.
// CHECK-LABEL: module {
// CHECK-NOT: qrt_observe
func.func @none(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

func.func @f64(%x: tensor<4xf64>) -> tensor<4xf64> {
  // expected-error @+1 {{calibration builds observe f32 values only, got 'tensor<4xf64>'}}
  %0 = qopt.observe %x name "x" observer <kind = min_max> : tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @twice(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qopt.observe %x name "x" observer <kind = min_max> : tensor<4xf32>
  // expected-error @+1 {{a second 'min_max' observer named 'x': calibration could not tell their statistics apart}}
  %1 = qopt.observe %0 name "x" observer <kind = min_max> : tensor<4xf32>
  return %1 : tensor<4xf32>
}
