// RUN: qopt %s -split-input-file --qopt-expand-quant-ops | FileCheck %s
// RUN: qopt %s -split-input-file --qopt-expand-quant-ops=expand-linear=false | FileCheck %s --check-prefix=KEEP

// Per-group scales are read through d1 floordiv G; the arithmetic runs in f32
// even for f16 tensors; rounding comes before the zero point, then clamping.
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[GROUP:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 32)>
// CHECK-LABEL: func.func @quantize_per_group
// CHECK-DAG: %[[MAX:.*]] = arith.constant 1.500000e+01 : f32
// CHECK-DAG: %[[MIN:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[GROUP]], #[[GROUP]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK: ^bb0(%[[X:.*]]: f16, %[[S:.*]]: f16, %[[Z:.*]]: i4, %{{.*}}: i4):
// CHECK: %[[XF:.*]] = arith.extf %[[X]] : f16 to f32
// CHECK: %[[SF:.*]] = arith.extf %[[S]] : f16 to f32
// CHECK: %[[DIV:.*]] = arith.divf %[[XF]], %[[SF]] : f32
// CHECK: %[[R:.*]] = math.roundeven %[[DIV]] : f32
// CHECK: %[[ZF:.*]] = arith.uitofp %[[Z]] : i4 to f32
// CHECK: %[[SUM:.*]] = arith.addf %[[R]], %[[ZF]] : f32
// CHECK: %[[LO:.*]] = arith.maxnumf %[[SUM]], %[[MIN]] : f32
// CHECK: %[[HI:.*]] = arith.minnumf %[[LO]], %[[MAX]] : f32
// CHECK: %[[Q:.*]] = arith.fptoui %[[HI]] : f32 to i4
// CHECK: linalg.yield %[[Q]] : i4
func.func @quantize_per_group(%x: tensor<4x64xf16>, %s: tensor<4x2xf16>, %z: tensor<4x2xi4>) -> tensor<4x64xi4> {
  %q = qopt.quantize %x scale(%s : tensor<4x2xf16>) zero_point(%z : tensor<4x2xi4>) scheme <storage = ui4, granularity = per_group, axis = 1, group_size = 32, symmetric = false> : tensor<4x64xf16> -> tensor<4x64xi4>
  return %q : tensor<4x64xi4>
}

// -----

// Signed narrow storage clamps to [-127, 127] and converts with fptosi.
// CHECK-LABEL: func.func @quantize_narrow
// CHECK-DAG: arith.constant 1.270000e+02 : f32
// CHECK-DAG: arith.constant -1.270000e+02 : f32
// CHECK: arith.fptosi %{{.*}} : f32 to i8
func.func @quantize_narrow(%x: tensor<8xf32>, %s: tensor<f32>) -> tensor<8xi8> {
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = i8, granularity = per_tensor, narrow_range = true> : tensor<8xf32> -> tensor<8xi8>
  return %q : tensor<8xi8>
}

// -----

// Per-token: one scale per row of the innermost dimension; dynamic sizes come
// from tensor.dim.
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[TOKEN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @dequantize_per_token
// CHECK: %[[D0:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[D1:.*]] = tensor.dim %arg0, %c1
// CHECK: tensor.empty(%[[D0]], %[[D1]]) : tensor<?x?x8xf16>
// CHECK: linalg.generic {indexing_maps = [#[[ID3]], #[[TOKEN]], #[[ID3]]]
// CHECK: %[[W:.*]] = arith.extsi %{{.*}} : i8 to i32
// CHECK: %[[F:.*]] = arith.sitofp %[[W]] : i32 to f32
// CHECK: %[[M:.*]] = arith.mulf %[[F]], %{{.*}} : f32
// CHECK: %[[T:.*]] = arith.truncf %[[M]] : f32 to f16
// CHECK: linalg.yield %[[T]] : f16
func.func @dequantize_per_token(%q: tensor<?x?x8xi8>, %s: tensor<?x?xf32>) -> tensor<?x?x8xf16> {
  %x = qopt.dequantize %q scale(%s : tensor<?x?xf32>) scheme <storage = i8, granularity = per_token> : tensor<?x?x8xi8> -> tensor<?x?x8xf16>
  return %x : tensor<?x?x8xf16>
}

// -----

// Asymmetric dequantize subtracts the zero point in i32.
// CHECK-LABEL: func.func @dequantize_asymmetric
// CHECK: ^bb0(%[[Q:.*]]: i8, %[[S:.*]]: f32, %[[Z:.*]]: i8, %{{.*}}: f32):
// CHECK: %[[QW:.*]] = arith.extui %[[Q]] : i8 to i32
// CHECK: %[[ZW:.*]] = arith.extui %[[Z]] : i8 to i32
// CHECK: %[[D:.*]] = arith.subi %[[QW]], %[[ZW]] : i32
// CHECK: arith.sitofp %[[D]] : i32 to f32
func.func @dequantize_asymmetric(%q: tensor<4x8xi8>, %s: tensor<4xf32>, %z: tensor<4xi8>) -> tensor<4x8xf32> {
  %x = qopt.dequantize %q scale(%s : tensor<4xf32>) zero_point(%z : tensor<4xi8>) scheme <storage = ui8, granularity = per_channel, axis = 0, symmetric = false> : tensor<4x8xi8> -> tensor<4x8xf32>
  return %x : tensor<4x8xf32>
}

// -----

// fp8: clamp to the finite range (448 for e4m3fn) and truncate.
// CHECK-LABEL: func.func @quantize_fp8
// CHECK-DAG: arith.constant 4.480000e+02 : f32
// CHECK-DAG: arith.constant -4.480000e+02 : f32
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.truncf %{{.*}} : f32 to f8E4M3FN
// CHECK-LABEL: func.func @dequantize_fp8
// CHECK: arith.extf %{{.*}} : f8E5M2 to f32
func.func @quantize_fp8(%x: tensor<8xf32>, %s: tensor<f32>) -> tensor<8xf8E4M3FN> {
  %q = qopt.quantize %x scale(%s : tensor<f32>) scheme <storage = f8E4M3FN, granularity = per_tensor> : tensor<8xf32> -> tensor<8xf8E4M3FN>
  return %q : tensor<8xf8E4M3FN>
}
func.func @dequantize_fp8(%q: tensor<8xf8E5M2>, %s: tensor<f32>) -> tensor<8xf32> {
  %x = qopt.dequantize %q scale(%s : tensor<f32>) scheme <storage = f8E5M2, granularity = per_tensor> : tensor<8xf8E5M2> -> tensor<8xf32>
  return %x : tensor<8xf32>
}

// -----

// Act-order: the group of element i is act_order[i] / G, gathered.
// CHECK-LABEL: func.func @dequantize_act_order
// CHECK: linalg.generic
// CHECK: %[[I0:.*]] = linalg.index 0 : index
// CHECK: %[[I1:.*]] = linalg.index 1 : index
// CHECK: %[[ORD:.*]] = tensor.extract %arg3[%[[I1]]] : tensor<8xi32>
// CHECK: %[[IDX:.*]] = arith.index_cast %[[ORD]] : i32 to index
// CHECK: %[[G:.*]] = arith.divui %[[IDX]], %c4 : index
// CHECK: tensor.extract %arg1[%[[I0]], %[[G]]] : tensor<2x2xf32>
// CHECK: tensor.extract %arg2[%[[I0]], %[[G]]] : tensor<2x2xi4>
func.func @dequantize_act_order(%q: tensor<2x8xi4>, %s: tensor<2x2xf32>, %z: tensor<2x2xi4>, %perm: tensor<8xi32>) -> tensor<2x8xf32> {
  %x = qopt.dequantize %q scale(%s : tensor<2x2xf32>) zero_point(%z : tensor<2x2xi4>) act_order(%perm : tensor<8xi32>) scheme <storage = ui4, granularity = per_group, axis = 1, group_size = 4, symmetric = false> : tensor<2x8xi4> -> tensor<2x8xf32>
  return %x : tensor<2x8xf32>
}

// -----

// Packing gathers the values overlapping each byte: for i4, 7/4 + 2 = 3
// candidates, shifted into place and or'ed.
// CHECK-LABEL: func.func @pack_i4
// CHECK: %[[DIM:.*]] = tensor.dim %arg0, %c0 : tensor<?x16xi4>
// CHECK: tensor.empty(%[[DIM]]) : tensor<?x8xi8>
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x8xi8>)
// CHECK-COUNT-3: tensor.extract %arg0
// CHECK: %[[B:.*]] = arith.trunci %{{.*}} : i32 to i8
// CHECK: linalg.yield %[[B]] : i8
func.func @pack_i4(%q: tensor<?x16xi4>) -> tensor<?x8xi8> {
  %p = qopt.pack %q : tensor<?x16xi4> -> tensor<?x8xi8>
  return %p : tensor<?x8xi8>
}

// -----

// Unpacking i3 reads two neighbouring bytes; the dynamic result size is
// bytes * 8 / 3.
// CHECK-LABEL: func.func @unpack_i3
// CHECK: %[[DIM:.*]] = tensor.dim %arg0, %c1 : tensor<2x?xi8>
// CHECK: %[[BITS:.*]] = arith.muli %[[DIM]], %c8 : index
// CHECK: %[[N:.*]] = arith.divui %[[BITS]], %c3 : index
// CHECK: tensor.empty(%[[N]]) : tensor<2x?xi3>
// CHECK: %[[E:.*]] = linalg.index 1 : index
// CHECK: %[[BIT:.*]] = arith.muli %[[E]], %c3 : index
// CHECK: %[[LO:.*]] = arith.divui %[[BIT]], %c8 : index
// CHECK: %[[OFF:.*]] = arith.remui %[[BIT]], %c8 : index
// CHECK: arith.minui
// CHECK: arith.shli %{{.*}}, %c8_i32 : i32
// CHECK: arith.shrui
// CHECK: arith.trunci %{{.*}} : i32 to i3
func.func @unpack_i3(%p: tensor<2x?xi8>) -> tensor<2x?xi3> {
  %q = qopt.unpack %p : tensor<2x?xi8> -> tensor<2x?xi3>
  return %q : tensor<2x?xi3>
}

// -----

// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @smooth
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[CH]], #{{.*}}]
// CHECK: arith.divf
func.func @smooth(%x: tensor<?x8xf32>, %s: tensor<8xf32>) -> tensor<?x8xf32> {
  %y = qopt.smooth %x, %s : tensor<?x8xf32>, tensor<8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// A channel permutation: the permutation as an i64 constant read along the
// innermost loop, each element a tensor.extract of the input there.
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @permute
// CHECK: %[[P:.*]] = arith.constant dense<[2, 0, 3, 1]> : tensor<4xi64>
// CHECK: linalg.generic {indexing_maps = [#[[CH]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[P]] : tensor<4xi64>)
// CHECK: ^bb0(%[[IN:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[I0:.*]] = linalg.index 0 : index
// CHECK: %[[I1:.*]] = linalg.index 1 : index
// CHECK: %[[C:.*]] = arith.index_cast %[[IN]] : i64 to index
// CHECK: tensor.extract %arg0[%[[I0]], %[[I1]], %[[C]]] : tensor<?x3x4xf32>
func.func @permute(%x: tensor<?x3x4xf32>) -> tensor<?x3x4xf32> {
  %y = qopt.permute %x [2, 0, 3, 1] : tensor<?x3x4xf32>
  return %y : tensor<?x3x4xf32>
}

// -----

// Weight-only linear: unpack, dequantize, contract over K, add the bias.
// CHECK-DAG: #[[XMAP:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[WMAP:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[OMAP:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @weight_only_linear
// CHECK: %[[U:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<16x64xi4>)
// CHECK: %[[W:.*]] = linalg.generic {{.*}} ins(%[[U]], %arg2 : tensor<16x64xi4>, tensor<16x2xf32>) outs(%{{.*}} : tensor<16x64xf32>)
// CHECK: %[[FILL:.*]] = linalg.fill
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[XMAP]], #[[WMAP]], #[[OMAP]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %[[W]] : tensor<?x64xf32>, tensor<16x64xf32>) outs(%[[FILL]] : tensor<?x16xf32>)
// CHECK: %[[B:.*]] = linalg.generic {{.*}} ins(%arg3 : tensor<16xf32>) outs(%[[Y]] : tensor<?x16xf32>)
// CHECK: return %[[B]]
// KEEP-LABEL: func.func @weight_only_linear
// KEEP: qopt.weight_only_linear
func.func @weight_only_linear(%x: tensor<?x64xf32>, %w: tensor<16x32xi8>, %s: tensor<16x2xf32>, %b: tensor<16xf32>) -> tensor<?x16xf32> {
  %y = qopt.weight_only_linear %x, %w scale(%s : tensor<16x2xf32>) bias(%b : tensor<16xf32>) scheme <storage = i4, granularity = per_group, axis = 1, group_size = 32> : tensor<?x64xf32>, tensor<16x32xi8> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// W8A8: exact i32 accumulation of (x - xz) * w, then one rescale.
// CHECK-DAG: #[[ZX:.*]] = affine_map<(d0, d1, d2) -> (d0)>
// CHECK-DAG: #[[TOK:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[CHAN:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @quantized_linear
// CHECK: %[[FILL:.*]] = linalg.fill ins(%c0_i32 : i32)
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[ZX]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg1, %arg3 : tensor<?x64xi8>, tensor<16x64xi8>, tensor<?xi8>) outs(%[[FILL]] : tensor<?x16xi32>)
// CHECK: ^bb0(%[[X:.*]]: i8, %[[W:.*]]: i8, %[[XZ:.*]]: i8, %[[OUT:.*]]: i32):
// CHECK: %[[XW:.*]] = arith.extui %[[X]] : i8 to i32
// CHECK: %[[WW:.*]] = arith.extsi %[[W]] : i8 to i32
// CHECK: %[[ZW:.*]] = arith.extui %[[XZ]] : i8 to i32
// CHECK: %[[XS:.*]] = arith.subi %[[XW]], %[[ZW]] : i32
// CHECK: %[[P:.*]] = arith.muli %[[XS]], %[[WW]] : i32
// CHECK: arith.addi %[[OUT]], %[[P]] : i32
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[TOK]], #[[CHAN]], #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%[[ACC]], %arg2, %arg4
// CHECK: arith.sitofp %{{.*}} : i32 to f32
// CHECK: arith.mulf
// CHECK: arith.mulf
// KEEP-LABEL: func.func @quantized_linear
// KEEP: qopt.quantized_linear
func.func @quantized_linear(%x: tensor<?x64xi8>, %w: tensor<16x64xi8>, %xs: tensor<?xf32>, %xz: tensor<?xi8>, %ws: tensor<16xf32>) -> tensor<?x16xf32> {
  %y = qopt.quantized_linear %x, %w input_scale(%xs : tensor<?xf32>) input_zero_point(%xz : tensor<?xi8>) weight_scale(%ws : tensor<16xf32>) schemes(<storage = ui8, granularity = per_token, symmetric = false>, <storage = i8, granularity = per_channel, axis = 0>) : tensor<?x64xi8>, tensor<16x64xi8> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// fp8 x fp8 accumulates in f32.
// CHECK-LABEL: func.func @quantized_linear_fp8
// CHECK: linalg.fill ins(%{{.*}} : f32)
// CHECK: arith.extf %{{.*}} : f8E4M3FN to f32
// CHECK: arith.extf %{{.*}} : f8E4M3FN to f32
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @quantized_linear_fp8(%x: tensor<2x64xf8E4M3FN>, %w: tensor<16x64xf8E4M3FN>, %s: tensor<f32>) -> tensor<2x16xbf16> {
  %y = qopt.quantized_linear %x, %w input_scale(%s : tensor<f32>) weight_scale(%s : tensor<f32>) schemes(<storage = f8E4M3FN, granularity = per_tensor>, <storage = f8E4M3FN, granularity = per_tensor>) : tensor<2x64xf8E4M3FN>, tensor<16x64xf8E4M3FN> -> tensor<2x16xbf16>
  return %y : tensor<2x16xbf16>
}

// -----

// Calibration points are not the lowering's business.
// CHECK-LABEL: func.func @observe_untouched
// CHECK: qopt.observe
func.func @observe_untouched(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qopt.observe %x name "x" observer <kind = min_max> : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A float linear layer: [K, N] weights are read as (k, n), [N, K] ones
// (transpose_weight) as (n, k).
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[KN:.*]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[NK:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @linear
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[KN]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<?x?x64xf32>, tensor<64x32xf32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[NK]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg2, %arg3 : tensor<4x64xf32>, tensor<32x64xf32>)
// CHECK: ins(%arg4 : tensor<32xf32>)
// KEEP-LABEL: func.func @linear
// KEEP-COUNT-2: qopt.linear
func.func @linear(%x: tensor<?x?x64xf32>, %w: tensor<64x32xf32>, %x2: tensor<4x64xf32>, %wt: tensor<32x64xf32>, %b: tensor<32xf32>) -> (tensor<?x?x32xf32>, tensor<4x32xf32>) {
  %0 = qopt.linear %x, %w : tensor<?x?x64xf32>, tensor<64x32xf32> -> tensor<?x?x32xf32>
  %1 = qopt.linear %x2, %wt bias(%b : tensor<32xf32>) transpose_weight : tensor<4x64xf32>, tensor<32x64xf32> -> tensor<4x32xf32>
  return %0, %1 : tensor<?x?x32xf32>, tensor<4x32xf32>
}

// -----

// Dynamic per-token quantization: max |x| per row (from 0, maximumf so that
// a NaN propagates), then per row the scale amax / 127 and the reciprocal
// 127 / amax, with (NaN, 0) for a NaN or infinite amax and (1, 0) below
// 2^-119 (1.50463277E-36); then q = clamp(round_half_even(x * (127 / amax)))
// per element, 0 where the reciprocal is 0. It is not a linear layer, so
// expand-linear=false expands it too.
// CHECK-DAG: #[[X3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ROWS:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @dynamic_quantize_per_token
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<?x?xf32>)
// CHECK: %[[AMAX:.*]] = linalg.generic {indexing_maps = [#[[X3]], #[[ROW3]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0 : tensor<?x?x64xf32>) outs(%[[ZERO]] : tensor<?x?xf32>)
// CHECK: %[[ABS:.*]] = math.absf %{{.*}} : f32
// CHECK: arith.maximumf %{{.*}}, %[[ABS]] : f32
// CHECK: %[[S:.*]]:2 = linalg.generic {indexing_maps = [#[[ROWS]], #[[ROWS]], #[[ROWS]]], iterator_types = ["parallel", "parallel"]} ins(%[[AMAX]] : tensor<?x?xf32>)
// CHECK: ^bb0(%[[A:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK-DAG: %[[INF:.*]] = arith.cmpf uge, %[[A]], %{{.*}} : f32
// CHECK-DAG: %[[TINY:.*]] = arith.cmpf olt, %[[A]], %{{.*}} : f32
// CHECK-DAG: %[[ZEROS:.*]] = arith.ori %[[INF]], %[[TINY]] : i1
// CHECK-DAG: %[[SCALE:.*]] = arith.divf %[[A]], %{{.*}} : f32
// CHECK-DAG: %[[SCALE1:.*]] = arith.select %[[TINY]], %{{.*}}, %[[SCALE]] : f32
// CHECK-DAG: %[[SCALE2:.*]] = arith.select %[[INF]], %{{.*}}, %[[SCALE1]] : f32
// CHECK-DAG: %[[INV:.*]] = arith.divf %{{.*}}, %[[A]] : f32
// CHECK-DAG: %[[INV1:.*]] = arith.select %[[ZEROS]], %{{.*}}, %[[INV]] : f32
// CHECK: linalg.yield %[[SCALE2]], %[[INV1]] : f32, f32
// CHECK: %[[Q:.*]] = linalg.generic {indexing_maps = [#[[X3]], #[[ROW3]], #[[X3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg0, %[[S]]#1 : tensor<?x?x64xf32>, tensor<?x?xf32>) outs(%{{.*}} : tensor<?x?x64xi8>)
// CHECK: ^bb0(%[[XV:.*]]: f32, %[[IV:.*]]: f32, %{{.*}}: i8):
// CHECK: %[[M:.*]] = arith.mulf %[[XV]], %[[IV]] : f32
// CHECK: %[[R:.*]] = math.roundeven %[[M]] : f32
// CHECK: %[[LO:.*]] = arith.maximumf %[[R]], %{{.*}} : f32
// CHECK: %[[HI:.*]] = arith.minimumf %[[LO]], %{{.*}} : f32
// CHECK: %[[Z:.*]] = arith.cmpf oeq, %[[IV]], %{{.*}} : f32
// CHECK: %[[V:.*]] = arith.select %[[Z]], %{{.*}}, %[[HI]] : f32
// CHECK: arith.fptosi %[[V]] : f32 to i8
// CHECK: return %[[Q]], %[[S]]#0
// KEEP-LABEL: func.func @dynamic_quantize_per_token
// KEEP-NOT: qopt.dynamic_quantize
// KEEP: return
func.func @dynamic_quantize_per_token(%x: tensor<?x?x64xf32>) -> (tensor<?x?x64xi8>, tensor<?x?xf32>) {
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i8, granularity = per_token, narrow_range = true> : tensor<?x?x64xf32> -> tensor<?x?x64xi8>, tensor<?x?xf32>
  return %q, %s : tensor<?x?x64xi8>, tensor<?x?xf32>
}

// -----

// Per tensor: the reduction runs over every dimension into a rank-0 amax;
// f16 values are extended to f32 first; i4 storage has qmax = 7.
// CHECK-DAG: #[[ALL:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<() -> ()>
// CHECK-LABEL: func.func @dynamic_quantize_per_tensor
// CHECK-DAG: arith.constant -7.000000e+00 : f32
// CHECK-DAG: arith.constant 7.000000e+00 : f32
// CHECK: %[[AMAX:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[ALL]]], iterator_types = ["reduction", "reduction"]} ins(%arg0 : tensor<4x8xf16>) outs(%{{.*}} : tensor<f32>)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: %[[S:.*]]:2 = linalg.generic {indexing_maps = [#[[SCALAR]], #[[SCALAR]], #[[SCALAR]]], iterator_types = []} ins(%[[AMAX]] : tensor<f32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[ALL]], #{{.*}}], {{.*}} ins(%arg0, %[[S]]#1 : tensor<4x8xf16>, tensor<f32>) outs(%{{.*}} : tensor<4x8xi4>)
// CHECK: arith.fptosi %{{.*}} : f32 to i4
func.func @dynamic_quantize_per_tensor(%x: tensor<4x8xf16>) -> (tensor<4x8xi4>, tensor<f32>) {
  %q, %s = qopt.dynamic_quantize %x scheme <storage = i4, granularity = per_tensor, narrow_range = true> : tensor<4x8xf16> -> tensor<4x8xi4>, tensor<f32>
  return %q, %s : tensor<4x8xi4>, tensor<f32>
}

// -----

// FP8 dynamic quantization: qmax is E4M3FN's largest value, 448; the values
// are clamped and then rounded by the truncation to the float8 type (no
// integer rounding, no fptosi).
// CHECK-LABEL: func.func @dynamic_quantize_fp8
// CHECK-DAG:     %[[QMAX:.*]] = arith.constant 4.480000e+02 : f32
// CHECK:         arith.divf %{{.*}}, %[[QMAX]] : f32
// CHECK:         linalg.generic
// CHECK-NOT:       math.roundeven
// CHECK-NOT:       arith.fptosi
// CHECK:           arith.truncf %{{.*}} : f32 to f8E4M3FN
func.func @dynamic_quantize_fp8(%x: tensor<2x8xf32>) -> (tensor<2x8xf8E4M3FN>, tensor<2xf32>) {
  %q, %s = qopt.dynamic_quantize %x scheme <storage = f8E4M3FN, granularity = per_token> : tensor<2x8xf32> -> tensor<2x8xf8E4M3FN>, tensor<2xf32>
  return %q, %s : tensor<2x8xf8E4M3FN>, tensor<2xf32>
}
