// RUN: qopt %s --split-input-file --pass-pipeline='builtin.module(func.func(qopt-cpu-prepare-weight-only-ukernels))' | FileCheck %s

// int4 per group: one generic reads packed bytes (k floordiv 2), unpacks the
// nibble of k, sign-extends, scales and multiply-adds; marked for the kernel.
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 2)>
// CHECK-DAG: #[[S:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 4)>
// CHECK-LABEL: func.func @int4
// CHECK: linalg.generic {{.*}}#[[W]], #[[S]]
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: qopt_wo_gemm = {bits = 4 : i64, group_size = 4 : i64, signed = true}
// CHECK: linalg.index 2
// CHECK: arith.shrui
// CHECK: arith.xori
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: qopt.weight_only_linear
func.func @int4(%x: tensor<2x8xf32>, %w: tensor<4x4xi8>, %s: tensor<4x2xf32>) -> tensor<2x4xf32> {
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<4x2xf32>) scheme <storage = i4, granularity = per_group, axis = 1, group_size = 4> : tensor<2x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Unsigned int8 per channel with zero points and an f16 scale: both become
// f32 first.
// CHECK-LABEL: func.func @uint8_zp
// CHECK: arith.extf {{.*}} : f16 to f32
// CHECK: arith.uitofp {{.*}} : i8 to f32
// CHECK: linalg.generic
// CHECK-SAME: qopt_wo_gemm = {bits = 8 : i64, group_size = 8 : i64, signed = false}
// CHECK: arith.uitofp
// CHECK: arith.subf
func.func @uint8_zp(%x: tensor<?x8xf32>, %w: tensor<4x8xi8>, %s: tensor<4xf16>, %z: tensor<4xi8>) -> tensor<?x4xf32> {
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<4xf16>) zero_point(%z : tensor<4xi8>) scheme <storage = ui8, granularity = per_channel, axis = 0, symmetric = false> : tensor<?x8xf32>, tensor<4x8xi8> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// int3: element k is bits [3k, 3k + 3) of the row. The map reads the byte
// of its first bit, the body the next byte (for fields that straddle two),
// joins them, shifts by 3k % 8, masks and sign-extends.
// CHECK-DAG: #[[W3:.*]] = affine_map<(d0, d1, d2) -> (d1, (d2 * 3) floordiv 8)>
// CHECK-LABEL: func.func @int3
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<4x3xi8>
// CHECK: linalg.generic {{.*}}#[[W3]]
// CHECK-SAME: qopt_wo_gemm = {bits = 3 : i64, group_size = 8 : i64, signed = true}
// CHECK: %[[K:.*]] = linalg.index 2
// CHECK: %[[BIT:.*]] = arith.muli %[[K]], %c3
// CHECK: %[[LAST:.*]] = arith.divui
// CHECK: tensor.extract %[[W]][%{{.*}}, %[[LAST]]]
// CHECK: arith.shli
// CHECK: arith.remui %[[BIT]], %c8
// CHECK: arith.andi {{.*}}, %c7_i32
// CHECK: arith.xori {{.*}}, %c4_i32
// CHECK-NOT: qopt.weight_only_linear
func.func @int3(%x: tensor<2x8xf32>, %w: tensor<4x3xi8>, %s: tensor<4xf32>) -> tensor<2x4xf32> {
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<4xf32>) scheme <storage = i3, granularity = per_channel, axis = 0> : tensor<2x8xf32>, tensor<4x3xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// int2 has no kernel: left for qopt-expand-quant-ops.
// CHECK-LABEL: func.func @int2
// CHECK: qopt.weight_only_linear
func.func @int2(%x: tensor<2x8xf32>, %w: tensor<4x2xi8>, %s: tensor<4xf32>) -> tensor<2x4xf32> {
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<4xf32>) scheme <storage = i2, granularity = per_channel, axis = 0> : tensor<2x8xf32>, tensor<4x2xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
