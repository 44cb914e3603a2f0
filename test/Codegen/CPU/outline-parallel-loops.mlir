// RUN: qopt %s --split-input-file --qopt-cpu-outline-parallel-loops | FileCheck %s

// A band of two marked loops: the outer one becomes the linear range (the
// inner one, walking vectors of a row, stays whole in each iteration).
// Constants are rematerialized in the body; memrefs and sizes are passed.
// CHECK-LABEL: func.func private @rows_parallel
// CHECK-SAME: (%[[B:.*]]: index, %[[E:.*]]: index, %[[BX:.*]]: memref<?x?xf32>, %[[BM:.*]]: index)
// CHECK-SAME: attributes {qopt_parallel_body = {{[0-9]+}} : i64}
// CHECK-DAG: %[[V:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK: scf.for %[[K:.*]] = %[[B]] to %[[E]]
// CHECK: %[[MUL:.*]] = arith.muli %[[K]], %{{.*}}
// CHECK: %[[I:.*]] = arith.addi %{{.*}}, %[[MUL]]
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %[[BM]] step %[[C8]] {
// CHECK-NEXT: memref.store %[[V]], %[[BX]][%[[I]], %[[J]]]
// CHECK-NOT: qopt_parallel}
// CHECK-LABEL: func.func @rows
// CHECK-SAME: (%[[X:.*]]: memref<?x?xf32>, %[[N:.*]]: index, %[[M:.*]]: index)
// CHECK-NOT: scf.for
// CHECK: %[[TRIPS:.*]] = arith.ceildivui
// CHECK: call @rows_parallel(%{{.*}}, %[[TRIPS]], %[[X]], %[[M]]) : (index, index, memref<?x?xf32>, index) -> ()
func.func @rows(%x: memref<?x?xf32>, %n: index, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %v = arith.constant 1.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    scf.for %j = %c0 to %m step %c8 {
      memref.store %v, %x[%i, %j] : memref<?x?xf32>
    } {qopt_parallel}
  } {qopt_parallel}
  return
}

// -----

// Three marked loops: the outer two collapse into one range, split back by
// remainder and quotient of the linear index.
// CHECK-LABEL: func.func private @collapse_parallel
// CHECK: scf.for %[[K:.*]] =
// CHECK: arith.remui %[[K]]
// CHECK: arith.divui %[[K]]
// CHECK: scf.for
// CHECK-NOT: scf.for
// CHECK-LABEL: func.func @collapse
// CHECK: %[[T0:.*]] = arith.ceildivui
// CHECK: %[[T1:.*]] = arith.ceildivui
// CHECK: %[[TOTAL:.*]] = arith.muli %[[T0]], %[[T1]]
// CHECK: call @collapse_parallel(%{{.*}}, %[[TOTAL]],
func.func @collapse(%x: memref<?x?x?xf32>, %a: index, %b: index, %c: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %v = arith.constant 1.0 : f32
  scf.for %i = %c0 to %a step %c1 {
    scf.for %j = %c0 to %b step %c1 {
      scf.for %k = %c0 to %c step %c1 {
        memref.store %v, %x[%i, %j, %k] : memref<?x?x?xf32>
      } {qopt_parallel}
    } {qopt_parallel}
  } {qopt_parallel}
  return
}

// -----

// Unmarked loops (a reduction's) stay; a marked loop inside one is
// outlined on its own, called once per outer iteration. A single marked
// loop is its own band.
// CHECK-LABEL: func.func private @inner_band_parallel
// CHECK-LABEL: func.func @inner_band
// CHECK: scf.for %[[I:.*]] =
// CHECK: call @inner_band_parallel({{.*}}, %[[I]])
// CHECK-NEXT: }
func.func @inner_band(%x: memref<?x?xf32>, %n: index, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %v = arith.constant 1.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    scf.for %j = %c0 to %m step %c1 {
      memref.store %v, %x[%j, %i] : memref<?x?xf32>
    } {qopt_parallel}
  }
  return
}

// -----

// An inner loop whose bounds depend on the outer induction variable ends the
// band; without the attribute nothing is outlined.
// CHECK-LABEL: func.func private @triangular_parallel
// CHECK: scf.for
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK-LABEL: func.func @triangular
// CHECK: call @triangular_parallel
// CHECK-LABEL: func.func @unmarked
// CHECK-NOT: call
// CHECK: scf.for
func.func @triangular(%x: memref<?x?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %v = arith.constant 1.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    scf.for %j = %c0 to %i step %c1 {
      memref.store %v, %x[%i, %j] : memref<?x?xf32>
    } {qopt_parallel}
  } {qopt_parallel}
  return
}
func.func @unmarked(%x: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %v = arith.constant 1.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    memref.store %v, %x[%i] : memref<?xf32>
  }
  return
}

// -----

// Loops around a kernel call (from qopt-cpu-lower-to-ukernels) collapse
// entirely, and one call is worth a thread: grain 1.
// CHECK-LABEL: func.func private @calls_parallel
// CHECK-SAME: attributes {qopt_parallel_body = 1 : i64}
// CHECK: scf.for %[[K:.*]] =
// CHECK: arith.remui %[[K]]
// CHECK-NOT: scf.for
// CHECK: call @kernel
// CHECK-LABEL: func.func @calls
// CHECK: %[[TOTAL:.*]] = arith.muli
// CHECK: call @calls_parallel(%{{.*}}, %[[TOTAL]]
func.func private @kernel(index, index)
func.func @calls(%b: index, %h: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %b step %c1 {
    scf.for %j = %c0 to %h step %c1 {
      func.call @kernel(%i, %j) : (index, index) -> ()
    } {qopt_parallel}
  } {qopt_parallel}
  return
}
