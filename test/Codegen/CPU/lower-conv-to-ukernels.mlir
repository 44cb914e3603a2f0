// RUN: qopt %s -split-input-file --qopt-cpu-lower-conv-to-ukernels --canonicalize | FileCheck %s

// A depthwise 3x3 stride-2 convolution (groups 16) as the importer builds
// it, on buffers: one kernel call with sizes, steps, groups and pointers.
// CHECK: func.func private @qrt_uk_conv2d_f32(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, !llvm.ptr, !llvm.ptr, !llvm.ptr, i32)
// CHECK-LABEL: func.func @depthwise
// CHECK-NOT: linalg.generic
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : i64
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : i64
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[C17:.*]] = arith.constant 17 : i64
// CHECK-DAG: %[[ACC:.*]] = arith.constant 1 : i32
// CHECK: %[[N:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: call @qrt_uk_conv2d_f32(%[[N]], %[[C16]], %[[C17]], %[[C17]], %[[C16]], %[[C3]], %[[C3]], %[[C8]], %[[C8]], %[[C2]], %[[C2]], %[[C1]], %[[C1]], %[[C16]], %{{.*}}, %{{.*}}, %{{.*}}, %[[ACC]])
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 * 2 + d5, d3 * 2 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @depthwise(%x: memref<?x16x17x17xf32>, %w: memref<16x1x3x3xf32>, %y: memref<?x16x8x8xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : memref<?x16x17x17xf32>, memref<16x1x3x3xf32>) outs(%y : memref<?x16x8x8xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// A dilated 1-D convolution with two groups of 4 input and 3 output
// channels: height 1.
// CHECK-LABEL: func.func @grouped_1d
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : i64
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : i64
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : i64
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[C20:.*]] = arith.constant 20 : i64
// CHECK: call @qrt_uk_conv2d_f32(%[[C1]], %[[C8]], %[[C1]], %[[C20]], %[[C6]], %[[C1]], %[[C3]], %[[C1]], %[[C16]], %[[C1]], %[[C1]], %[[C1]], %[[C2]], %[[C2]],
#x = affine_map<(d0, d1, d2, d3, d4) -> (d0, (d1 floordiv 3) * 4 + d3, d2 + d4 * 2)>
#w = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d4)>
#y = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>
func.func @grouped_1d(%x: memref<1x8x20xf32>, %w: memref<6x4x3xf32>, %y: memref<1x6x16xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w : memref<1x8x20xf32>, memref<6x4x3xf32>) outs(%y : memref<1x6x16xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// Left as loops: a strided view of the input (not dense), and a body that
// is not a plain multiply-add (a fused activation).
// CHECK-LABEL: func.func @not_lowered
// CHECK-NOT: call
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: call
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @not_lowered(%x: memref<1x4x6x6xf32, strided<[288, 72, 12, 2]>>, %x2: memref<1x4x6x6xf32>, %w: memref<2x4x3x3xf32>, %y: memref<1x2x4x4xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : memref<1x4x6x6xf32, strided<[288, 72, 12, 2]>>, memref<2x4x3x3xf32>) outs(%y : memref<1x2x4x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x2, %w : memref<1x4x6x6xf32>, memref<2x4x3x3xf32>) outs(%y : memref<1x2x4x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %e = math.exp %in : f32
    %0 = arith.mulf %e, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// A zero-init convolution overwrites its output (flags 0); one that stays a
// loop nest (strided input) gets its zero fill back.
// CHECK-LABEL: func.func @zero_init
// CHECK: %[[OVERWRITE:.*]] = arith.constant 0 : i32
// CHECK: call @qrt_uk_conv2d_f32({{.*}}, %[[OVERWRITE]])
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[Y2:.*]] : memref<1x2x4x4xf32>)
// CHECK-NEXT: linalg.generic
// CHECK-SAME: outs(%[[Y2]] : memref<1x2x4x4xf32>)
// CHECK-NOT: qopt_conv_zero_init
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @zero_init(%x: memref<1x4x6x6xf32>, %xs: memref<1x4x6x6xf32, strided<[288, 72, 12, 2]>>, %w: memref<2x4x3x3xf32>, %y: memref<1x2x4x4xf32>, %y2: memref<1x2x4x4xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : memref<1x4x6x6xf32>, memref<2x4x3x3xf32>) outs(%y : memref<1x2x4x4xf32>) attrs = {qopt_conv_zero_init} {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%xs, %w : memref<1x4x6x6xf32, strided<[288, 72, 12, 2]>>, memref<2x4x3x3xf32>) outs(%y2 : memref<1x2x4x4xf32>) attrs = {qopt_conv_zero_init} {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// The W8A8 form (i8 x i8 -> i32, `out + extsi(x) * extsi(w)`) calls
// qrt_uk_conv2d_s8_i32 with the same arguments; pointers advance by the
// element size (1 byte for the input's offset of 7, 4 for the output's 3),
// and a grouped (2 groups) strided convolution keeps its geometry.
// CHECK: func.func private @qrt_uk_conv2d_s8_i32(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, !llvm.ptr, !llvm.ptr, !llvm.ptr, i32)
// CHECK-LABEL: func.func @s8
// CHECK-NOT: linalg.generic
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[C7:.*]] = arith.constant 7 : index
// CHECK-DAG: %[[C12:.*]] = arith.constant 12 : index
// CHECK: %[[XB:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK: arith.addi %[[XB]], %[[C7]] : index
// CHECK: %[[YB:.*]] = memref.extract_aligned_pointer_as_index %arg2
// CHECK: arith.addi %[[YB]], %[[C12]] : index
// CHECK: call @qrt_uk_conv2d_s8_i32({{.*}}, %[[C2]], %[[C2]], %{{.*}}, %{{.*}}, %[[C2]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, (d1 floordiv 4) * 2 + d4, d2 * 2 + d5, d3 * 2 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @s8(%x: memref<1x4x9x9xi8, strided<[324, 81, 9, 1], offset: 7>>, %w: memref<8x2x3x3xi8>, %y: memref<1x8x4x4xi32, strided<[128, 16, 4, 1], offset: 3>>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : memref<1x4x9x9xi8, strided<[324, 81, 9, 1], offset: 7>>, memref<8x2x3x3xi8>) outs(%y : memref<1x8x4x4xi32, strided<[128, 16, 4, 1], offset: 3>>) {
  ^bb0(%in: i8, %in_0: i8, %out: i32):
    %0 = arith.extsi %in : i8 to i32
    %1 = arith.extsi %in_0 : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// An integer body the kernel does not compute (zero-extended inputs) stays
// a loop nest.
// CHECK-LABEL: func.func @s8_unsigned
// CHECK-NOT: call
// CHECK: linalg.generic
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @s8_unsigned(%x: memref<1x2x4x4xi8>, %w: memref<2x2x3x3xi8>, %y: memref<1x2x2x2xi32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : memref<1x2x4x4xi8>, memref<2x2x3x3xi8>) outs(%y : memref<1x2x2x2xi32>) {
  ^bb0(%in: i8, %in_0: i8, %out: i32):
    %0 = arith.extui %in : i8 to i32
    %1 = arith.extsi %in_0 : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}
