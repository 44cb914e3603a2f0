// RUN: qopt %s --split-input-file --pass-pipeline='builtin.module(func.func(qopt-fuse-elementwise))' | FileCheck %s

#id = affine_map<(d0) -> (d0)>

// An elementwise chain becomes one op.
// CHECK-LABEL: func.func @chain
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: math.exp
// CHECK-NOT: linalg.generic
func.func @chain(%x: tensor<8xf32>) -> tensor<8xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    linalg.yield %0 : f32
  } -> tensor<8xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.exp %in : f32
    linalg.yield %0 : f32
  } -> tensor<8xf32>
  return %b : tensor<8xf32>
}

// -----

// Nothing fuses into a contraction that a ukernel will run: the scaling
// stays a separate op and the matmul body stays a plain multiply-add.
// CHECK-LABEL: func.func @into_matmul
// CHECK: %[[S:.*]] = linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.matmul ins(%[[S]]
func.func @into_matmul(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    linalg.yield %0 : f32
  } -> tensor<4x8xf32>
  %m = linalg.matmul ins(%s, %w : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %m : tensor<4x16xf32>
}

// -----

// A bias added in place (its payload reads `outs`) stays out of a reduction
// consumer: the fused op would keep the sum as a second output and add the
// bias again at every reduction step. The consumer's body keeps a plain
// multiply-add.
// CHECK-LABEL: func.func @inplace_into_reduction
// CHECK: %[[B:.*]] = linalg.generic
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[B]], %{{.*}} : tensor<2xf32>, tensor<8x2xf32>)
// CHECK: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK-NEXT: linalg.yield
func.func @inplace_into_reduction(%acc: tensor<2xf32>, %bias: tensor<2xf32>, %w: tensor<8x2xf32>, %init: tensor<8xf32>) -> tensor<8xf32> {
  %b = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%bias : tensor<2xf32>) outs(%acc : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  } -> tensor<2xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%b, %w : tensor<2xf32>, tensor<8x2xf32>) outs(%init : tensor<8xf32>) {
  ^bb0(%x: f32, %y: f32, %out: f32):
    %0 = arith.mulf %x, %y : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

// The same in-place add stays out of a consumer that broadcasts it: each
// element would be updated once per broadcast row.
// CHECK-LABEL: func.func @inplace_into_broadcast
// CHECK: %[[B:.*]] = linalg.generic
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[B]] : tensor<2xf32>)
func.func @inplace_into_broadcast(%acc: tensor<2xf32>, %bias: tensor<2xf32>, %init: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %b = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%bias : tensor<2xf32>) outs(%acc : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  } -> tensor<2xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%b : tensor<2xf32>) outs(%init : tensor<4x2xf32>) {
  ^bb0(%x: f32, %out: f32):
    %0 = math.exp %x : f32
    linalg.yield %0 : f32
  } -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

// Into a consumer that visits each element once (a permuted elementwise
// op) the in-place add still fuses: its result stays a second output,
// written once per element.
// CHECK-LABEL: func.func @inplace_into_transpose
// CHECK: %[[F:.*]]:2 = linalg.generic
// CHECK: arith.addf
// CHECK: math.exp
// CHECK: return %[[F]]#1
func.func @inplace_into_transpose(%acc: tensor<2x4xf32>, %bias: tensor<2x4xf32>, %init: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %b = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%bias : tensor<2x4xf32>) outs(%acc : tensor<2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  } -> tensor<2x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%b : tensor<2x4xf32>) outs(%init : tensor<4x2xf32>) {
  ^bb0(%x: f32, %out: f32):
    %0 = math.exp %x : f32
    linalg.yield %0 : f32
  } -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}
