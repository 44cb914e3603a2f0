// RUN: qopt %s -split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(qopt-gpu-copies-to-linalg))' \
// RUN:   | FileCheck %s

// CHECK-LABEL: func.func @strided_copy
// CHECK-SAME:    (%[[A:.*]]: memref<4x8xf32, strided<[16, 1]>>, %[[B:.*]]: memref<4x8xf32>)
// CHECK-NOT:     memref.copy
// CHECK:         linalg.copy ins(%[[A]] : memref<4x8xf32, strided<[16, 1]>>) outs(%[[B]] : memref<4x8xf32>)
func.func @strided_copy(%a: memref<4x8xf32, strided<[16, 1]>>, %b: memref<4x8xf32>) {
  memref.copy %a, %b : memref<4x8xf32, strided<[16, 1]>> to memref<4x8xf32>
  return
}

// -----

// Unranked copies stay (linalg.copy takes ranked operands only).
// CHECK-LABEL: func.func @unranked_copy
// CHECK:         memref.copy
// CHECK-NOT:     linalg.copy
func.func @unranked_copy(%a: memref<*xf32>, %b: memref<*xf32>) {
  memref.copy %a, %b : memref<*xf32> to memref<*xf32>
  return
}
