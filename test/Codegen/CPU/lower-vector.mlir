// RUN: qopt %s --split-input-file --pass-pipeline='builtin.module(func.func(qopt-cpu-lower-vector))' | FileCheck %s

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

// -----

// A masked max reduction selects -inf into the masked-off lanes and reduces
// unmasked (a min reduction +inf): upstream's LLVM lowering would fill them
// with -1.4e-45, which beats every negative value.
// CHECK-LABEL: func.func @masked_max
// CHECK-SAME: (%[[V:.*]]: vector<8xf32>, %[[N:.*]]: index, %[[ACC:.*]]: f32)
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant dense<0xFF800000> : vector<8xf32>
// CHECK-DAG: %[[POSINF:.*]] = arith.constant dense<0x7F800000> : vector<8xf32>
// CHECK-DAG: %[[M:.*]] = vector.create_mask %[[N]] : vector<8xi1>
// CHECK: %[[SEL:.*]] = arith.select %[[M]], %[[V]], %[[NEGINF]]
// CHECK: %[[MAX:.*]] = vector.reduction <maximumf>, %[[SEL]], %[[ACC]] : vector<8xf32> into f32
// CHECK: %[[SEL2:.*]] = arith.select %[[M]], %[[V]], %[[POSINF]]
// CHECK: vector.reduction <minnumf>, %[[SEL2]] : vector<8xf32> into f32
// CHECK-NOT: vector.mask
func.func @masked_max(%v: vector<8xf32>, %n: index, %acc: f32) -> (f32, f32) {
  %m = vector.create_mask %n : vector<8xi1>
  %r = vector.mask %m { vector.reduction <maximumf>, %v, %acc : vector<8xf32> into f32 } : vector<8xi1> -> f32
  %s = vector.mask %m { vector.reduction <minnumf>, %v : vector<8xf32> into f32 } : vector<8xi1> -> f32
  return %r, %s : f32, f32
}

// -----

// Other masked reductions are left to upstream (an add's neutral 0 is right).
// CHECK-LABEL: func.func @masked_add
// CHECK: vector.mask %{{.*}} { vector.reduction <add>
func.func @masked_add(%v: vector<8xf32>, %n: index) -> f32 {
  %m = vector.create_mask %n : vector<8xi1>
  %r = vector.mask %m { vector.reduction <add>, %v : vector<8xf32> into f32 } : vector<8xi1> -> f32
  return %r : f32
}
