// RUN: qopt %s --split-input-file --pass-pipeline='builtin.module(func.func(qopt-lower-vector))' | FileCheck %s

// Unit dimensions go away: 1 x 8 tiles are 8-wide register loads and
// stores; exp becomes a polynomial on the vector (no libm calls).
// CHECK-LABEL: func.func @tile
// CHECK: %[[V:.*]] = vector.load {{.*}} : memref<4x64xf32>, vector<8xf32>
// CHECK-NOT: math.exp
// CHECK: math.fma {{.*}} : vector<8xf32>
// CHECK: vector.store {{.*}} : memref<4x64xf32>, vector<8xf32>
func.func @tile(%m: memref<4x64xf32>, %i: index, %j: index) {
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %m[%i, %j], %pad {in_bounds = [true, true]} : memref<4x64xf32>, vector<1x8xf32>
  %e = math.exp %v : vector<1x8xf32>
  vector.transfer_write %e, %m[%i, %j] {in_bounds = [true, true]} : vector<1x8xf32>, memref<4x64xf32>
  return
}

// -----

// Masked tiles become masked loads and stores.
// CHECK-LABEL: func.func @masked
// CHECK-NOT: vector.mask
// CHECK: vector.maskedload
// CHECK: vector.maskedstore
func.func @masked(%m: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %mask = vector.create_mask %n : vector<8xi1>
  %v = vector.mask %mask { vector.transfer_read %m[%c0], %pad {in_bounds = [true]} : memref<?xf32>, vector<8xf32> } : vector<8xi1> -> vector<8xf32>
  vector.mask %mask { vector.transfer_write %v, %m[%c0] {in_bounds = [true]} : vector<8xf32>, memref<?xf32> } : vector<8xi1>
  return
}

// -----

// Reductions along the vector become vector.reduction.
// CHECK-LABEL: func.func @reduce
// CHECK: vector.reduction <add>
// CHECK-NOT: vector.multi_reduction
func.func @reduce(%v: vector<1x8xf32>, %acc: vector<1xf32>) -> vector<1xf32> {
  %r = vector.multi_reduction <add>, %v, %acc [1] : vector<1x8xf32> to vector<1xf32>
  return %r : vector<1xf32>
}
