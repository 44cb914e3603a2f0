// End to end: lower quantized IR with qopt's pipeline, compile it with the
// upstream CPU path and run it. Every expected number below is worked out by
// hand in the comments, independently of the code under test.
//
// RUN: qopt %s --qopt-lower-to-llvm \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:   -shared-libs=%llvm_lib_dir/libmlir_runner_utils.so \
// RUN:   -shared-libs=%llvm_lib_dir/libmlir_c_runner_utils.so \
// RUN: | FileCheck %s

func.func private @printMemrefF32(tensor<*xf32>)
func.func private @printMemrefI32(tensor<*xi32>)

func.func @printF32(%t: tensor<?x?xf32>) {
  %u = tensor.cast %t : tensor<?x?xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

/// Prints integers sign-extended to i32.
func.func @printI8(%t: tensor<1x?xi8>) {
  %c1 = arith.constant 1 : index
  %n = tensor.dim %t, %c1 : tensor<1x?xi8>
  %e = tensor.empty(%n) : tensor<1x?xi32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%t : tensor<1x?xi8>) outs(%e : tensor<1x?xi32>) {
  ^bb0(%in: i8, %out: i32):
    %x = arith.extsi %in : i8 to i32
    linalg.yield %x : i32
  } -> tensor<1x?xi32>
  %u = tensor.cast %w : tensor<1x?xi32> to tensor<*xi32>
  call @printMemrefI32(%u) : (tensor<*xi32>) -> ()
  return
}

func.func @printI3(%t: tensor<1x8xi3>) {
  %e = tensor.empty() : tensor<1x8xi32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%t : tensor<1x8xi3>) outs(%e : tensor<1x8xi32>) {
  ^bb0(%in: i3, %out: i32):
    %x = arith.extsi %in : i3 to i32
    linalg.yield %x : i32
  } -> tensor<1x8xi32>
  %u = tensor.cast %w : tensor<1x8xi32> to tensor<*xi32>
  call @printMemrefI32(%u) : (tensor<*xi32>) -> ()
  return
}

func.func @main() {
  // 1. int4 symmetric, per tensor, scale 0.5. x / s = [-10, -1.48, -0.5,
  //    0.5, 1.5, 2.4, 6.8, 200]; round half to even: [-10, -1, 0, 0, 2, 2, 7,
  //    200]; clamp to [-8, 7]: [-8, -1, 0, 0, 2, 2, 7, 7]; times 0.5:
  // CHECK: [-4, -0.5, 0, 0, 1, 1, 3.5, 3.5]
  %x1 = arith.constant dense<[[-5.0, -0.74, -0.25, 0.25, 0.75, 1.2, 3.4, 100.0]]> : tensor<1x8xf32>
  %s1 = arith.constant dense<0.5> : tensor<f32>
  %q1 = qopt.quantize %x1 scale(%s1 : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<1x8xf32> -> tensor<1x8xi4>
  %d1 = qopt.dequantize %q1 scale(%s1 : tensor<f32>) scheme <storage = i4, granularity = per_tensor> : tensor<1x8xi4> -> tensor<1x8xf32>
  %p1 = tensor.cast %d1 : tensor<1x8xf32> to tensor<?x?xf32>
  call @printF32(%p1) : (tensor<?x?xf32>) -> ()

  // 2. uint8 asymmetric per channel: row 0 scale 0.1 zp 128, row 1 scale 2
  //    zp 3. Row 0: round(x / 0.1) + 128 = [118, 128, 253, 255 (clamped from
  //    1128)] -> back: [-1, 0, 12.5, 12.7]. Row 1: round(x / 2) + 3 = [0
  //    (clamped from -2), 4, 5, 3] -> back: [-6, 2, 4, 0].
  // CHECK: [-1, 0, 12.5, 12.7]
  // CHECK: [-6, 2, 4, 0]
  %x2 = arith.constant dense<[[-1.0, 0.0, 12.5, 100.0], [-10.0, 2.2, 3.0, 0.9]]> : tensor<2x4xf32>
  %s2 = arith.constant dense<[0.1, 2.0]> : tensor<2xf32>
  %z2 = arith.constant dense<[128, 3]> : tensor<2xi8>
  %q2 = qopt.quantize %x2 scale(%s2 : tensor<2xf32>) zero_point(%z2 : tensor<2xi8>) scheme <storage = ui8, granularity = per_channel, axis = 0, symmetric = false> : tensor<2x4xf32> -> tensor<2x4xi8>
  %d2 = qopt.dequantize %q2 scale(%s2 : tensor<2xf32>) zero_point(%z2 : tensor<2xi8>) scheme <storage = ui8, granularity = per_channel, axis = 0, symmetric = false> : tensor<2x4xi8> -> tensor<2x4xf32>
  %p2 = tensor.cast %d2 : tensor<2x4xf32> to tensor<?x?xf32>
  call @printF32(%p2) : (tensor<?x?xf32>) -> ()

  // 3. Packing i4 [1, 2, 3, -1, -8, 7, 0, 5], low nibble first:
  //    0x21 = 33, 0xF3 = -13, 0x78 = 120, 0x50 = 80.
  // CHECK: [33, -13, 120, 80]
  %v3 = arith.constant dense<[[1, 2, 3, -1, -8, 7, 0, 5]]> : tensor<1x8xi4>
  %b3 = qopt.pack %v3 : tensor<1x8xi4> -> tensor<1x4xi8>
  %c3 = tensor.cast %b3 : tensor<1x4xi8> to tensor<1x?xi8>
  call @printI8(%c3) : (tensor<1x?xi8>) -> ()

  // 4. Packing i3 [1, 2, 3, 4, 5, 6, 7, 0] into 3 bytes: set bits 0, 4, 6,
  //    7 | 11, 12, 14 | 16, 17, 18, 19, 20 give 209 (-47), 88, 31.
  // CHECK: [-47, 88, 31]
  %v4 = arith.constant dense<[[1, 2, 3, 4, 5, 6, 7, 0]]> : tensor<1x8xi3>
  %b4 = qopt.pack %v4 : tensor<1x8xi3> -> tensor<1x3xi8>
  %c4 = tensor.cast %b4 : tensor<1x3xi8> to tensor<1x?xi8>
  call @printI8(%c4) : (tensor<1x?xi8>) -> ()

  // 5. Unpacking those bytes gives the values back (as signed i3).
  // CHECK: [1, 2, 3, -4, -3, -2, -1, 0]
  %bytes5 = arith.constant dense<[[-47, 88, 31]]> : tensor<1x3xi8>
  %u5 = qopt.unpack %bytes5 : tensor<1x3xi8> -> tensor<1x8xi3>
  call @printI3(%u5) : (tensor<1x8xi3>) -> ()

  // 6. Act-order: act_order = [2, 0, 3, 1], group size 2, so the groups of
  //    columns 0..3 are [1, 0, 1, 0] and the scales [100, 10, 100, 10]:
  //    [0, 1, 2, 3] dequantizes to [0, 10, 200, 30].
  // CHECK: [0, 10, 200, 30]
  %q6 = arith.constant dense<[[0, 1, 2, 3]]> : tensor<1x4xi4>
  %s6 = arith.constant dense<[[10.0, 100.0]]> : tensor<1x2xf32>
  %a6 = arith.constant dense<[2, 0, 3, 1]> : tensor<4xi32>
  %d6 = qopt.dequantize %q6 scale(%s6 : tensor<1x2xf32>) act_order(%a6 : tensor<4xi32>) scheme <storage = i4, granularity = per_group, axis = 1, group_size = 2> : tensor<1x4xi4> -> tensor<1x4xf32>
  %p6 = tensor.cast %d6 : tensor<1x4xf32> to tensor<?x?xf32>
  call @printF32(%p6) : (tensor<?x?xf32>) -> ()

  // 7. Weight-only linear, int4 per channel. W = [[1, -1, 2, 0], [3, 0, -2,
  //    1]] packs to [[0xF1, 0x02], [0x03, 0x1E]] = [[-15, 2], [3, 30]].
  //    Scales [0.5, 2] give [[0.5, -0.5, 1, 0], [6, 0, -4, 2]]; with x = [1,
  //    2, 3, 4] and bias [1, -1]: y = [0.5 - 1 + 3 + 1, 6 - 12 + 8 - 1].
  // CHECK: [3.5, 1]
  %x7 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>
  %w7 = arith.constant dense<[[-15, 2], [3, 30]]> : tensor<2x2xi8>
  %s7 = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %bias7 = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %y7 = qopt.weight_only_linear %x7, %w7 scale(%s7 : tensor<2xf32>) bias(%bias7 : tensor<2xf32>) scheme <storage = i4, granularity = per_channel, axis = 0> : tensor<1x4xf32>, tensor<2x2xi8> -> tensor<1x2xf32>
  %p7 = tensor.cast %y7 : tensor<1x2xf32> to tensor<?x?xf32>
  call @printF32(%p7) : (tensor<?x?xf32>) -> ()

  // 8. W8A8: x is uint8 [10, 20, 200] (200 stored as -56) with zero point 10
  //    and scale 0.1; w = [[1, 2, 3], [-1, 0, 1]] with scales [0.5, 3].
  //    acc = [0 + 20 + 570, 0 + 0 + 190] = [590, 190];
  //    y = [590 * 0.1 * 0.5, 190 * 0.1 * 3] = [29.5, 57].
  // CHECK: [29.5, 57]
  %x8 = arith.constant dense<[[10, 20, -56]]> : tensor<1x3xi8>
  %xs8 = arith.constant dense<0.1> : tensor<f32>
  %xz8 = arith.constant dense<10> : tensor<i8>
  %w8 = arith.constant dense<[[1, 2, 3], [-1, 0, 1]]> : tensor<2x3xi8>
  %ws8 = arith.constant dense<[0.5, 3.0]> : tensor<2xf32>
  %y8 = qopt.quantized_linear %x8, %w8 input_scale(%xs8 : tensor<f32>) input_zero_point(%xz8 : tensor<i8>) weight_scale(%ws8 : tensor<2xf32>) schemes(<storage = ui8, granularity = per_tensor, symmetric = false>, <storage = i8, granularity = per_channel, axis = 0>) : tensor<1x3xi8>, tensor<2x3xi8> -> tensor<1x2xf32>
  %p8 = tensor.cast %y8 : tensor<1x2xf32> to tensor<?x?xf32>
  call @printF32(%p8) : (tensor<?x?xf32>) -> ()

  // 9. SmoothQuant's division: [2, 4] / [2, 0.5] = [1, 8].
  // CHECK: [1, 8]
  %x9 = arith.constant dense<[[2.0, 4.0]]> : tensor<1x2xf32>
  %s9 = arith.constant dense<[2.0, 0.5]> : tensor<2xf32>
  %y9 = qopt.smooth %x9, %s9 : tensor<1x2xf32>, tensor<2xf32>
  %p9 = tensor.cast %y9 : tensor<1x2xf32> to tensor<?x?xf32>
  call @printF32(%p9) : (tensor<?x?xf32>) -> ()

  // 10. Upstream !quant.uniform casts go through the same pipeline:
  //     round(x / 0.5) + 1 = [3, -1, 201 -> 127, 2]; (q - 1) * 0.5:
  // CHECK: [1, -1, 63, 0.5]
  %x10 = arith.constant dense<[[1.0, -1.2, 100.0, 0.26]]> : tensor<1x4xf32>
  %q10 = quant.qcast %x10 : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.5:1>>
  %d10 = quant.dcast %q10 : tensor<1x4x!quant.uniform<i8:f32, 0.5:1>> to tensor<1x4xf32>
  %p10 = tensor.cast %d10 : tensor<1x4xf32> to tensor<?x?xf32>
  call @printF32(%p10) : (tensor<?x?xf32>) -> ()

  // 11. Dynamic per-token int8: per row amax = max |x|, scale = amax / 127,
  //     q = clamp(round_half_even(x * (127 / amax)), -127, 127).
  //     Row 0: amax 127, x * 1: [127, -2.5, 0.5, 1.5] -> [127, -2, 0, 2].
  //     Row 1: all zero -> q = 0, scale 1.
  //     Row 2: a NaN -> q = 0, scale NaN.
  //     Row 3: amax 1e-37 < 2^-119 -> q = 0, scale 1.
  //     Row 4: amax 63.5, x * 2: [-127, 63.5, 0.5, 0] -> [-127, 64, 0, 0],
  //            scale 0.5.
  //     Row 5: an infinity -> q = 0, scale NaN.
  // CHECK: [127,   -2,   0,   2]
  // CHECK: [0,   0,   0,   0]
  // CHECK: [0,   0,   0,   0]
  // CHECK: [0,   0,   0,   0]
  // CHECK: [-127,   64,   0,   0]
  // CHECK: [0,   0,   0,   0]
  // CHECK: [1,   1,   nan,   1,   0.5,   nan]
  %x11 = arith.constant dense<[[127.0, -2.5, 0.5, 1.5], [0.0, 0.0, 0.0, 0.0], [1.0, 0x7FC00000, 2.0, 3.0], [1.0e-37, -1.0e-37, 0.0, 0.0], [-63.5, 31.75, 0.25, 0.0], [0x7F800000, 1.0, 1.0, 1.0]]> : tensor<6x4xf32>
  %q11, %s11 = qopt.dynamic_quantize %x11 scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<6x4xf32> -> tensor<6x4xi8>, tensor<6xf32>
  %e11 = tensor.empty() : tensor<6x4xi32>
  %w11 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q11 : tensor<6x4xi8>) outs(%e11 : tensor<6x4xi32>) {
  ^bb0(%in: i8, %out: i32):
    %v = arith.extsi %in : i8 to i32
    linalg.yield %v : i32
  } -> tensor<6x4xi32>
  %u11 = tensor.cast %w11 : tensor<6x4xi32> to tensor<*xi32>
  call @printMemrefI32(%u11) : (tensor<*xi32>) -> ()
  %r11 = tensor.expand_shape %s11 [[0, 1]] output_shape [1, 6] : tensor<6xf32> into tensor<1x6xf32>
  %p11 = tensor.cast %r11 : tensor<1x6xf32> to tensor<?x?xf32>
  call @printF32(%p11) : (tensor<?x?xf32>) -> ()
  return
}
