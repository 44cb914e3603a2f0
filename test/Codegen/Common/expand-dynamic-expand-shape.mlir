// RUN: qopt %s -split-input-file --pass-pipeline='builtin.module(func.func(qopt-expand-dynamic-expand-shape))' | FileCheck %s
// Afterwards upstream's expansion handles what is left (it crashes on the
// originals of the first three cases).
// RUN: qopt %s -split-input-file --pass-pipeline='builtin.module(func.func(qopt-expand-dynamic-expand-shape),expand-strided-metadata)' | FileCheck %s --check-prefix=EXPANDED

// [B*S, 64] back to [B, S, 64] with both B and S symbolic: the outer
// stride is S * 64, the others come from the source.
// CHECK-LABEL: func.func @two_dynamic_in_group
//  CHECK-SAME: (%[[M:.*]]: memref<?x64xf32>, %[[B:.*]]: index, %[[S:.*]]: index)
//       CHECK: %[[BASE:.*]], %{{.*}}, %{{.*}}:2, %{{.*}}:2 = memref.extract_strided_metadata %[[M]]
//       CHECK: %[[ST0:.*]] = arith.muli %{{.*}}, %[[S]] : index
//       CHECK: memref.reinterpret_cast %[[BASE]] to offset: [0], sizes: [%[[B]], %[[S]], 64], strides: [%[[ST0]], 64, 1]
//  CHECK-SAME: : memref<f32> to memref<?x?x64xf32>
//   CHECK-NOT: memref.expand_shape
// EXPANDED-LABEL: func.func @two_dynamic_in_group
//   EXPANDED-NOT: memref.expand_shape
func.func @two_dynamic_in_group(%m: memref<?x64xf32>, %b: index, %s: index) -> memref<?x?x64xf32> {
  %e = memref.expand_shape %m [[0, 1], [2]] output_shape [%b, %s, 64] : memref<?x64xf32> into memref<?x?x64xf32>
  return %e : memref<?x?x64xf32>
}

// -----

// A strided source (a column slice of a fused QKV buffer): the offset and
// the row stride come from the source's metadata, the inner group splits
// the unit stride.
// CHECK-LABEL: func.func @strided_source
//  CHECK-SAME: (%[[M:.*]]: memref<?x?x?xf32, strided<[?, 192, 1], offset: 64>>, %[[B:.*]]: index, %[[S:.*]]: index, %[[H:.*]]: index, %[[D:.*]]: index)
//       CHECK: %[[BASE:.*]], %[[OFF:.*]], %{{.*}}:3, %[[STR:.*]]:3 = memref.extract_strided_metadata %[[M]]
//       CHECK: memref.reinterpret_cast %[[BASE]] to offset: [64], sizes: [%[[B]], %[[S]], %[[H]], %[[D]]], strides: [%[[STR]]#0, 192, %[[D]], 1]
// EXPANDED-LABEL: func.func @strided_source
//   EXPANDED-NOT: memref.expand_shape
func.func @strided_source(%m: memref<?x?x?xf32, strided<[?, 192, 1], offset: 64>>, %b: index, %s: index, %h: index, %d: index)
    -> memref<?x?x?x?xf32, strided<[?, 192, ?, 1], offset: 64>> {
  %e = memref.expand_shape %m [[0], [1], [2, 3]] output_shape [%b, %s, %h, %d] : memref<?x?x?xf32, strided<[?, 192, 1], offset: 64>> into memref<?x?x?x?xf32, strided<[?, 192, ?, 1], offset: 64>>
  return %e : memref<?x?x?x?xf32, strided<[?, 192, ?, 1], offset: 64>>
}

// -----

// Nothing static in the source's layout: the offset and every stride are
// read at run time.
// CHECK-LABEL: func.func @dynamic_layout
//  CHECK-SAME: (%[[M:.*]]: memref<?x8xf32, strided<[?, ?], offset: ?>>, %[[B:.*]]: index, %[[S:.*]]: index)
//       CHECK: %[[BASE:.*]], %[[OFF:.*]], %{{.*}}:2, %[[STR:.*]]:2 = memref.extract_strided_metadata %[[M]]
//       CHECK: %[[ST0:.*]] = arith.muli %[[STR]]#0, %[[S]] : index
//       CHECK: memref.reinterpret_cast %[[BASE]] to offset: [%[[OFF]]], sizes: [%[[B]], %[[S]], 8], strides: [%[[ST0]], %[[STR]]#0, %[[STR]]#1]
// EXPANDED-LABEL: func.func @dynamic_layout
//   EXPANDED-NOT: memref.expand_shape
func.func @dynamic_layout(%m: memref<?x8xf32, strided<[?, ?], offset: ?>>, %b: index, %s: index)
    -> memref<?x?x8xf32, strided<[?, ?, ?], offset: ?>> {
  %e = memref.expand_shape %m [[0, 1], [2]] output_shape [%b, %s, 8] : memref<?x8xf32, strided<[?, ?], offset: ?>> into memref<?x?x8xf32, strided<[?, ?, ?], offset: ?>>
  return %e : memref<?x?x8xf32, strided<[?, ?, ?], offset: ?>>
}

// -----

// One dynamic size per group is upstream's case: left alone.
// CHECK-LABEL: func.func @one_dynamic_per_group
//       CHECK: memref.expand_shape
//   CHECK-NOT: memref.reinterpret_cast
// EXPANDED-LABEL: func.func @one_dynamic_per_group
//   EXPANDED-NOT: memref.expand_shape
func.func @one_dynamic_per_group(%m: memref<?x64xf32>, %s: index) -> memref<?x4x16xf32> {
  %e = memref.expand_shape %m [[0], [1, 2]] output_shape [%s, 4, 16] : memref<?x64xf32> into memref<?x4x16xf32>
  return %e : memref<?x4x16xf32>
}
