// RUN: qopt %s -split-input-file --qopt-cpu-fuse-conv-ukernels --canonicalize | FileCheck %s

// A depthwise 3x3 stride-2 convolution on a zero-padded input, its bias and
// a ReLU: one call on the unpadded input with pads 1 (top) and 1 (left),
// no packed filter (depthwise), the bias pointer and activation 1
// (QRT_UK_ACT_RELU).
// CHECK: func.func private @qrt_uk_conv2d_f32_fused(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i32, f32, f32, !llvm.ptr, i32)
// CHECK-LABEL: func.func @pad_bias_relu
// CHECK-SAME: (%[[X:.*]]: tensor<1x16x16x16xf32>, %[[W:.*]]: tensor<16x1x3x3xf32>, %[[B:.*]]: tensor<16xf32>)
// CHECK-NOT: tensor.pad
// CHECK-NOT: linalg.generic
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : i64
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : i64
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[RELU:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[OVERWRITE:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[NULLW:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-DAG: %[[F0:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only : tensor<1x16x16x16xf32> to memref<1x16x16x16xf32>
// CHECK-DAG: %[[BB:.*]] = bufferization.to_buffer %[[B]] read_only
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x16x8x8xf32>
// CHECK: call @qrt_uk_conv2d_f32_fused(%[[C1]], %[[C16]], %[[C16]], %[[C16]], %[[C16]], %[[C3]], %[[C3]], %[[C8]], %[[C8]], %[[C2]], %[[C2]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C16]], %{{.*}}, %{{.*}}, %[[NULLW]], %{{.*}}, %[[RELU]], %[[F0]], %[[F0]], %{{.*}}, %[[OVERWRITE]])
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[R]]
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 * 2 + d5, d3 * 2 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d1)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @pad_bias_relu(%x: tensor<1x16x16x16xf32>, %w: tensor<16x1x3x3xf32>, %bias: tensor<16xf32>) -> tensor<1x16x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %xp = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %zero : f32
  } : tensor<1x16x16x16xf32> to tensor<1x16x18x18xf32>
  %e = tensor.empty() : tensor<1x16x8x8xf32>
  %c = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%xp, %w : tensor<1x16x18x18xf32>, tensor<16x1x3x3xf32>) outs(%e : tensor<1x16x8x8xf32>) attrs = {qopt_conv_zero_init} {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x16x8x8xf32>
  %cb = linalg.generic {indexing_maps = [#b, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%bias : tensor<16xf32>) outs(%c : tensor<1x16x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  } -> tensor<1x16x8x8xf32>
  %e2 = tensor.empty() : tensor<1x16x8x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cb : tensor<1x16x8x8xf32>) outs(%e2 : tensor<1x16x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %zero : f32
    linalg.yield %0 : f32
  } -> tensor<1x16x8x8xf32>
  return %r : tensor<1x16x8x8xf32>
}

// -----

// A pointwise convolution (no pad) with bias and HardSwish, as the importer
// spells it: activation 3 (QRT_UK_ACT_HARDSWISH) with alpha 1/6, beta 1/2.
// CHECK-LABEL: func.func @pointwise_hardswish
// CHECK-NOT: linalg.generic
// CHECK-DAG: %[[HSWISH:.*]] = arith.constant 3 : i32
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 0.166666672 : f32
// CHECK-DAG: %[[BETA:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i64
// CHECK: call @qrt_uk_conv2d_f32_fused({{(%[^,]*, ){13}()}}%[[C0]], %[[C0]], {{(%[^,]*, ){5}()}}%[[HSWISH]], %[[ALPHA]], %[[BETA]],
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d1)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @pointwise_hardswish(%x: tensor<1x8x7x7xf32>, %w: tensor<24x8x1x1xf32>, %bias: tensor<24xf32>) -> tensor<1x24x7x7xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %alpha = arith.constant 0.166666672 : f32
  %beta = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<1x24x7x7xf32>
  %c = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x8x7x7xf32>, tensor<24x8x1x1xf32>) outs(%e : tensor<1x24x7x7xf32>) attrs = {qopt_conv_zero_init} {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x24x7x7xf32>
  %cb = linalg.generic {indexing_maps = [#b, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%bias : tensor<24xf32>) outs(%c : tensor<1x24x7x7xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  } -> tensor<1x24x7x7xf32>
  %e2 = tensor.empty() : tensor<1x24x7x7xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cb : tensor<1x24x7x7xf32>) outs(%e2 : tensor<1x24x7x7xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %alpha : f32
    %1 = arith.addf %0, %beta : f32
    %2 = arith.maximumf %1, %zero : f32
    %3 = arith.minimumf %2, %one : f32
    %4 = arith.mulf %in, %3 : f32
    linalg.yield %4 : f32
  } -> tensor<1x24x7x7xf32>
  return %r : tensor<1x24x7x7xf32>
}

// -----

// HardSigmoid and Clip (Clip-6's constant bounds) after bias-free 1-D
// convolutions: activations 2 and 4, no bias and no packed filter (null
// pointers: the filter is an argument).
// CHECK-LABEL: func.func @hardsigmoid_clip_1d
// CHECK-DAG: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-DAG: %[[HSIG:.*]] = arith.constant 2 : i32
// CHECK-DAG: %[[CLIP:.*]] = arith.constant 4 : i32
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 2.000000e-01 : f32
// CHECK-DAG: %[[BETA:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[LO:.*]] = arith.constant -1.000000e+00 : f32
// CHECK-DAG: %[[HI:.*]] = arith.constant 6.000000e+00 : f32
// CHECK: call @qrt_uk_conv2d_f32_fused({{(%[^,]*, ){18}()}}%[[NULL]], %[[NULL]], %[[HSIG]], %[[ALPHA]], %[[BETA]],
// CHECK: call @qrt_uk_conv2d_f32_fused({{(%[^,]*, ){18}()}}%[[NULL]], %[[NULL]], %[[CLIP]], %[[LO]], %[[HI]],
// CHECK-NOT: linalg.generic
#x = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d2 + d4)>
#w = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d4)>
#y = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @hardsigmoid_clip_1d(%x: tensor<1x4x10xf32>, %w: tensor<6x4x3xf32>) -> (tensor<1x6x8xf32>, tensor<1x6x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %alpha = arith.constant 0.2 : f32
  %beta = arith.constant 0.5 : f32
  %lo = arith.constant -1.0 : f32
  %hi = arith.constant 6.0 : f32
  %e = tensor.empty() : tensor<1x6x8xf32>
  %c = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w : tensor<1x4x10xf32>, tensor<6x4x3xf32>) outs(%e : tensor<1x6x8xf32>) attrs = {qopt_conv_zero_init} {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x6x8xf32>
  %e2 = tensor.empty() : tensor<1x6x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%c : tensor<1x6x8xf32>) outs(%e2 : tensor<1x6x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %alpha : f32
    %1 = arith.addf %0, %beta : f32
    %2 = arith.maximumf %1, %zero : f32
    %3 = arith.minimumf %2, %one : f32
    linalg.yield %3 : f32
  } -> tensor<1x6x8xf32>
  %e3 = tensor.empty() : tensor<1x6x8xf32>
  %c2 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w : tensor<1x4x10xf32>, tensor<6x4x3xf32>) outs(%e3 : tensor<1x6x8xf32>) attrs = {qopt_conv_zero_init} {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x6x8xf32>
  %r2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%c2 : tensor<1x6x8xf32>) outs(%e2 : tensor<1x6x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %lo : f32
    %1 = arith.minimumf %0, %hi : f32
    linalg.yield %1 : f32
  } -> tensor<1x6x8xf32>
  return %r, %r2 : tensor<1x6x8xf32>, tensor<1x6x8xf32>
}

// -----

// Not fused: a pad of 1.0 (the padded input goes to the kernel, pads 0)
// and a bias on a convolution result that has a second user (so neither
// the bias nor the activation after it is fused; that ReLU's bound is not
// 0 either). The convolution itself still becomes the call.
// CHECK-LABEL: func.func @kept
// CHECK-DAG: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[NONE:.*]] = arith.constant 0 : i32
// CHECK: %[[XP:.*]] = tensor.pad
// CHECK: bufferization.to_buffer %[[XP]] read_only
// CHECK: call @qrt_uk_conv2d_f32_fused({{(%[^,]*, ){13}()}}%[[C0]], %[[C0]], {{(%[^,]*, ){3}()}}%[[NULL]], %[[NULL]], %[[NONE]],
// CHECK: %[[C:.*]] = bufferization.to_tensor
// CHECK: %[[CB:.*]] = linalg.generic {{.*}} outs(%[[C]] :
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} ins(%[[CB]] :
// CHECK: arith.maximumf
// CHECK: return %{{.*}}, %[[C]]
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d1)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @kept(%x: tensor<1x2x4x4xf32>, %w: tensor<4x2x3x3xf32>, %bias: tensor<4xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) {
  %one = arith.constant 1.0 : f32
  %xp = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %one : f32
  } : tensor<1x2x4x4xf32> to tensor<1x2x6x6xf32>
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %c = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%xp, %w : tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>) outs(%e : tensor<1x4x4x4xf32>) attrs = {qopt_conv_zero_init} {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x4x4x4xf32>
  %cb = linalg.generic {indexing_maps = [#b, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%bias : tensor<4xf32>) outs(%c : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  } -> tensor<1x4x4x4xf32>
  %e2 = tensor.empty() : tensor<1x4x4x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cb : tensor<1x4x4x4xf32>) outs(%e2 : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %one : f32
    linalg.yield %0 : f32
  } -> tensor<1x4x4x4xf32>
  return %r, %c : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
}

// -----

// Not touched: a convolution without qopt_conv_zero_init (it accumulates
// into its init).
// CHECK-LABEL: func.func @accumulating
// CHECK-NOT: call
// CHECK: linalg.generic
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @accumulating(%x: tensor<1x2x6x6xf32>, %w: tensor<4x2x3x3xf32>, %init: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %c = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>) outs(%init : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x4x4x4xf32>
  return %c : tensor<1x4x4x4xf32>
}

// -----

// A constant filter is packed at compile time for the kernel (UKernels.h:
// 14-row panels, full depth, zero rows past F): F = 3 output channels of
// K = 2 taps become k-major rows of 14, [1, 3, 5, 0 x 11] and
// [2, 4, 6, 0 x 11], passed after the plain filter.
// CHECK-LABEL: func.func @packed_filter
// CHECK: %[[P:.*]] = arith.constant dense_resource<[[BLOB:.*]]> : tensor<28xf32>
// CHECK: %[[PB:.*]] = bufferization.to_buffer %[[P]] read_only
// CHECK: %[[PI:.*]] = memref.extract_aligned_pointer_as_index %[[PB]]
// CHECK: %[[PINT:.*]] = arith.index_cast %[[PI]]
// CHECK: %[[PPTR:.*]] = llvm.inttoptr %[[PINT]]
// CHECK: call @qrt_uk_conv2d_f32_fused({{(%[^,]*, ){18}()}}%[[PPTR]],
// CHECK: [[BLOB]]: "0x400000000000803F000040400000A040{{(00000000){11}()}}00000040000080400000C040{{(00000000){11}()}}"
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#y = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @packed_filter(%x: tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %w = arith.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]], [[[5.0]], [[6.0]]]]> : tensor<3x2x1x1xf32>
  %e = tensor.empty() : tensor<1x3x4x4xf32>
  %c = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) outs(%e : tensor<1x3x4x4xf32>) attrs = {qopt_conv_zero_init} {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x3x4x4xf32>
  return %c : tensor<1x3x4x4xf32>
}
