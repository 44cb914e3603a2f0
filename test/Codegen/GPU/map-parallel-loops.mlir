// RUN: qopt %s -split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(qopt-gpu-map-parallel-loops))' \
// RUN:   | FileCheck %s --check-prefix=MAP
// RUN: qopt %s -split-input-file --pass-pipeline='builtin.module(func.func(qopt-gpu-map-parallel-loops,convert-parallel-loops-to-gpu,canonicalize))' \
// RUN:   | FileCheck %s

// The mapping attributes themselves (the canonicalizer would merge the two
// loops again, so the launches below are checked after conversion).
// MAP-LABEL: func.func @collapse_and_tile
// MAP:         scf.parallel
// MAP:           scf.parallel
// MAP:           } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
// MAP:         } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}

// A 2-D loop becomes one linear loop over 4 x 1000 = 4000 iterations, tiled
// by 256: 16 blocks of 256 threads, a guard for the last tile, the 2-D
// index recovered by division.
// CHECK-LABEL: func.func @collapse_and_tile
// CHECK-DAG:     %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG:     %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG:     %[[C4000:.*]] = arith.constant 4000 : index
// CHECK-DAG:     %[[C1000:.*]] = arith.constant 1000 : index
// CHECK:         gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C16]], %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C256]], %{{.*}} = %c1, %{{.*}} = %c1)
// CHECK:           %[[K:.*]] = arith.addi %[[T]]
// CHECK:           arith.cmpi ult, %{{.*}}, %[[C4000]]
// CHECK:           scf.if
// CHECK:             %[[J:.*]] = arith.remsi %[[K]], %[[C1000]]
// CHECK:             %[[I:.*]] = arith.divsi %[[K]], %[[C1000]]
// CHECK:             memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]]]
func.func @collapse_and_tile(%m: memref<4x1000xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c1000 = arith.constant 1000 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c1000) step (%c1, %c1) {
    memref.store %v, %m[%i, %j] : memref<4x1000xf32>
  }
  return
}

// -----

// 40 iterations: one block of 64 threads (40 rounded up to whole warps).
// MAP-LABEL: func.func @small_loop
// MAP:         processor = thread_x
// MAP:         processor = block_x
// CHECK-LABEL: func.func @small_loop
// CHECK-DAG:     %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG:     %[[C40:.*]] = arith.constant 40 : index
// CHECK:         gpu.launch blocks(%{{.*}}) in (%{{.*}} = %c1, %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C64]],
// CHECK:           arith.cmpi ult, %[[T]], %[[C40]]
func.func @small_loop(%m: memref<40xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c40 = arith.constant 40 : index
  scf.parallel (%i) = (%c0) to (%c40) step (%c1) {
    memref.store %v, %m[%i] : memref<40xf32>
  }
  return
}

// -----

// Dynamic sizes: blocks of 256 threads, as many as the product of the sizes
// needs; a reduction's sequential loop stays inside the thread, its
// accumulator in a register (loaded before the loop, stored after).
// MAP-LABEL: func.func @dynamic_rows
// MAP:         processor = thread_x
// MAP:         processor = block_x
// CHECK-LABEL: func.func @dynamic_rows
// CHECK:         %[[D0:.*]] = memref.dim %{{.*}}, %c0
// CHECK:         %[[D1:.*]] = memref.dim %{{.*}}, %c1
// CHECK:         %[[N:.*]] = arith.muli %[[D0]], %[[D1]]
// CHECK:         %[[G:.*]] = affine.apply #{{.*}}()[%[[N]]]
// CHECK:         gpu.launch blocks(%{{.*}}) in (%{{.*}} = %[[G]], %{{.*}} = %c1, %{{.*}} = %c1) threads(%{{.*}}) in (%{{.*}} = %c256,
// CHECK:           scf.if
// CHECK:             %[[INIT:.*]] = memref.load %[[OUT:.*]][%[[I:.*]], %[[J:.*]]] : memref<?x?xf32>
// CHECK:             %[[SUM:.*]] = scf.for %{{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (f32) {
// CHECK-NOT:           memref.store
// CHECK:               %[[X:.*]] = memref.load
// CHECK:               %[[S:.*]] = arith.addf %[[X]], %[[ACC]]
// CHECK:               scf.yield %[[S]]
// CHECK:             memref.store %[[SUM]], %[[OUT]][%[[I]], %[[J]]]
func.func @dynamic_rows(%in: memref<?x?x8xf32>, %out: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %n = memref.dim %in, %c0 : memref<?x?x8xf32>
  %m = memref.dim %in, %c1 : memref<?x?x8xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %m) step (%c1, %c1) {
    scf.for %k = %c0 to %c8 step %c1 {
      %x = memref.load %in[%i, %j, %k] : memref<?x?x8xf32>
      %a = memref.load %out[%i, %j] : memref<?x?xf32>
      %s = arith.addf %x, %a : f32
      memref.store %s, %out[%i, %j] : memref<?x?xf32>
    }
  }
  return
}

// -----

// The accumulator stays in memory when the loop reads the buffer elsewhere
// too (here: another element of the output).
// CHECK-LABEL: func.func @not_an_accumulator
// CHECK:         scf.for
// CHECK-NOT:       iter_args
// CHECK:           memref.load
// CHECK:           memref.load
// CHECK:           memref.store
func.func @not_an_accumulator(%out: memref<8x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    scf.for %k = %c0 to %c8 step %c1 {
      %x = memref.load %out[%k, %i] : memref<8x8xf32>
      %a = memref.load %out[%i, %i] : memref<8x8xf32>
      %s = arith.addf %x, %a : f32
      memref.store %s, %out[%i, %i] : memref<8x8xf32>
    }
  }
  return
}

// -----

// A loop with a reduction is not mapped (it runs on the host).
// MAP-LABEL: func.func @reduction_left_alone
// MAP-NOT:     mapping
// CHECK-LABEL: func.func @reduction_left_alone
// CHECK-NOT:     gpu.launch
// CHECK:         scf.parallel
func.func @reduction_left_alone(%m: memref<16xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %r = scf.parallel (%i) = (%c0) to (%c16) step (%c1) init (%zero) -> f32 {
    %x = memref.load %m[%i] : memref<16xf32>
    scf.reduce(%x : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %r : f32
}
