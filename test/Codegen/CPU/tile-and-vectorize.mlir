// RUN: qopt %s --split-input-file --pass-pipeline='builtin.module(func.func(qopt-cpu-tile-and-vectorize{vector-width=8}))' | FileCheck %s
// The masks of full tiles fold away in the canonicalization that follows
// the pass in the pipeline.
// RUN: qopt %s --split-input-file --pass-pipeline='builtin.module(func.func(qopt-cpu-tile-and-vectorize{vector-width=8}),canonicalize)' | FileCheck %s --check-prefix=PEEL

#id = affine_map<(d0, d1) -> (d0, d1)>

// Static sizes that the width divides: full vectors, no masks.
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.for
// CHECK: scf.for {{.*}} step %c8
// CHECK: vector.transfer_read {{.*}} vector<1x8xf32>
// CHECK: math.exp {{.*}} : vector<1x8xf32>
// CHECK: vector.transfer_write
// CHECK-NOT: vector.mask
// CHECK-NOT: linalg.generic
func.func @elementwise(%x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %e = tensor.empty() : tensor<4x64xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x64xf32>) outs(%e : tensor<4x64xf32>) {
  ^bb0(%a: f32, %b: f32):
    %0 = math.exp %a : f32
    linalg.yield %0 : f32
  } -> tensor<4x64xf32>
  return %r : tensor<4x64xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// Dynamic sizes: the vector-wide loop is peeled into full tiles up to the
// last multiple of 8 and one partial tile after it, each vectorized.
// CHECK-LABEL: func.func @dynamic
// CHECK: scf.for
// CHECK: %[[FULL:.*]] = affine.apply
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[FULL]] step %c8
// CHECK: } {qopt_parallel}
// CHECK: scf.for %{{.*}} = %[[FULL]] to
// CHECK: vector.create_mask
// CHECK: vector.mask
// CHECK-NOT: linalg.generic
// After canonicalization the full tiles are static 1x8 slices without
// masks; only the partial tile is masked.
// PEEL-LABEL: func.func @dynamic
// PEEL: %[[FULL:.*]] = affine.apply
// PEEL: scf.for %{{.*}} = %c0 to %[[FULL]] step %c8
// PEEL-NOT: vector.mask
// PEEL: tensor.extract_slice {{.*}} [1, 8] [1, 1] : tensor<?x?xf32> to tensor<1x8xf32>
// PEEL: vector.transfer_read {{.*}} : tensor<1x8xf32>, vector<1x8xf32>
// PEEL-NOT: vector.mask
// PEEL: } {qopt_parallel}
// PEEL: scf.for %{{.*}} = %[[FULL]] to
// PEEL: vector.create_mask
// PEEL: vector.mask
func.func @dynamic(%x: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = tensor.dim %x, %c0 : tensor<?x?xf32>
  %d1 = tensor.dim %x, %c1 : tensor<?x?xf32>
  %e = tensor.empty(%d0, %d1) : tensor<?x?xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<?x?xf32>) outs(%e : tensor<?x?xf32>) {
  ^bb0(%a: f32, %b: f32):
    %0 = arith.mulf %a, %a : f32
    linalg.yield %0 : f32
  } -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// Row reductions reduce a vector per step into the accumulator.
// CHECK-LABEL: func.func @row_sum
// CHECK: vector.multi_reduction <add>
func.func @row_sum(%x: tensor<4x64xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x64xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %0 = arith.addf %a, %acc : f32
    linalg.yield %0 : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// Left alone: matmuls (for the ukernels), booleans (bit-packed vectors would
// disagree with byte-per-element buffers), gathers and windowed accesses.
// CHECK-LABEL: func.func @left_alone
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK-SAME: ["parallel"]
// CHECK: tensor.extract
// CHECK-NOT: vector.
func.func @left_alone(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>,
                      %p: tensor<8xi1>, %t: tensor<10xf32>, %i: tensor<3xindex>) -> (tensor<4x16xf32>, tensor<8xi1>, tensor<3xf32>) {
  %m = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  %e = tensor.empty() : tensor<8xi1>
  %n = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%p : tensor<8xi1>) outs(%e : tensor<8xi1>) {
  ^bb0(%x: i1, %y: i1):
    %true = arith.constant true
    %0 = arith.xori %x, %true : i1
    linalg.yield %0 : i1
  } -> tensor<8xi1>
  %g0 = tensor.empty() : tensor<3xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%i : tensor<3xindex>) outs(%g0 : tensor<3xf32>) {
  ^bb0(%x: index, %y: f32):
    %0 = tensor.extract %t[%x] : tensor<10xf32>
    linalg.yield %0 : f32
  } -> tensor<3xf32>
  return %m, %n, %g : tensor<4x16xf32>, tensor<8xi1>, tensor<3xf32>
}

// -----

#id = affine_map<(d0) -> (d0)>

// Integer division by a tensor stays scalar: the masked-off lanes of the
// partial tile (20 = 8 + 8 + 4) hold poison, and dividing by it traps. A
// constant divisor other than 0 and -1 cannot trap and is vectorized.
// CHECK-LABEL: func.func @int_division
// CHECK: scf.for
// CHECK: linalg.generic
// CHECK: arith.divsi {{.*}} : i32
// CHECK: } {qopt_parallel}
// CHECK: scf.for
// CHECK: linalg.generic
// CHECK: arith.remui {{.*}} : i32
// CHECK: } {qopt_parallel}
// CHECK: scf.for
// CHECK: vector.mask
// CHECK: arith.divsi {{.*}} : vector<8xi32>
func.func @int_division(%x: tensor<20xi32>, %d: tensor<20xi32>) -> (tensor<20xi32>, tensor<20xi32>, tensor<20xi32>) {
  %e = tensor.empty() : tensor<20xi32>
  %q = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%x, %d : tensor<20xi32>, tensor<20xi32>) outs(%e : tensor<20xi32>) {
  ^bb0(%a: i32, %b: i32, %out: i32):
    %0 = arith.divsi %a, %b : i32
    linalg.yield %0 : i32
  } -> tensor<20xi32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%x, %d : tensor<20xi32>, tensor<20xi32>) outs(%e : tensor<20xi32>) {
  ^bb0(%a: i32, %b: i32, %out: i32):
    %0 = arith.remui %a, %b : i32
    linalg.yield %0 : i32
  } -> tensor<20xi32>
  %h = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<20xi32>) outs(%e : tensor<20xi32>) {
  ^bb0(%a: i32, %out: i32):
    %c4 = arith.constant 4 : i32
    %0 = arith.divsi %a, %c4 : i32
    linalg.yield %0 : i32
  } -> tensor<20xi32>
  return %q, %r, %h : tensor<20xi32>, tensor<20xi32>, tensor<20xi32>
}

// -----

// A parallel loop that the output does not depend on (every row adds into
// the same accumulator) is not marked: its iterations on threads would race
// on the same elements. The loop over the columns is.
// CHECK-LABEL: func.func @broadcast_accumulator
// CHECK: scf.for
// CHECK: scf.for
// CHECK: } {qopt_parallel}
// CHECK-NOT: qopt_parallel
// CHECK: return
func.func @broadcast_accumulator(%x: tensor<4x64xf32>, %init: tensor<64xf32>) -> tensor<64xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x64xf32>) outs(%init : tensor<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %0 = arith.addf %a, %acc : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  return %r : tensor<64xf32>
}
