// RUN: qopt %s --split-input-file --qopt-cpu-fuse-attention | FileCheck %s

// Llama-style (what qopt-import and qopt-raise-softmax make of
// models/bytellama2): K transposed by linalg.transpose, the grouped-query
// head broadcast of K and V (4 heads from 2), * scale, + a [B, 1, S, S] mask
// broadcast over heads, and the [0, 2, 1, 3] transpose of the output.
// CHECK-LABEL: func.func @llama
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x?x16xf32>, %[[K:.*]]: tensor<?x2x?x16xf32>, %[[V:.*]]: tensor<?x2x?x16xf32>, %[[M:.*]]: tensor<?x1x?x?xf32>)
// CHECK-NOT: linalg.softmax
// CHECK-NOT: linalg.transpose
// CHECK: %[[OUT:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x?x4x16xf32>
// CHECK-DAG: bufferization.to_buffer %[[Q]] read_only : tensor<?x4x?x16xf32> to memref<?x4x?x16xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK-DAG: bufferization.to_buffer %[[K]] read_only
// CHECK-DAG: bufferization.to_buffer %[[V]] read_only
// CHECK-DAG: bufferization.to_buffer %[[M]] read_only
// CHECK-DAG: %[[G:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK: call @qrt_uk_attention_f32({{.*}}, %[[G]], {{.*}}, %[[SCALE]], {{.*}})
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<?x?x4x16xf32> to tensor<?x?x4x16xf32>
// CHECK: return %[[R]]
// CHECK: func.func private @qrt_uk_attention_f32(i64, i64, i64, i64, i64, i64, i64, !llvm.ptr, i64, i64, i64, i64, !llvm.ptr, i64, i64, i64, i64, !llvm.ptr, i64, i64, i64, i64, !llvm.ptr, i64, i64, i64, i64, f32, !llvm.ptr, i64, i64, i64, i64)
#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#kt = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#bmask = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#bc_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
func.func @llama(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>, %m: tensor<?x1x?x?xf32>) -> tensor<?x?x4x16xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant dense<0.25> : tensor<f32>
  %b = tensor.dim %q, %c0 : tensor<?x4x?x16xf32>
  %s = tensor.dim %q, %c2 : tensor<?x4x?x16xf32>
  // K, V: [b, 2, s, 16] -> [b, 2, 2, s, 16] -> [b, 4, s, 16].
  %k5 = tensor.expand_shape %k [[0], [1, 2], [3], [4]] output_shape [%b, 2, 1, %s, 16] : tensor<?x2x?x16xf32> into tensor<?x2x1x?x16xf32>
  %ke = tensor.empty(%b, %s) : tensor<?x2x2x?x16xf32>
  %kb = linalg.generic {indexing_maps = [#bc_in, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k5 : tensor<?x2x1x?x16xf32>) outs(%ke : tensor<?x2x2x?x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<?x2x2x?x16xf32>
  %kc = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<?x2x2x?x16xf32> into tensor<?x4x?x16xf32>
  %v5 = tensor.expand_shape %v [[0], [1, 2], [3], [4]] output_shape [%b, 2, 1, %s, 16] : tensor<?x2x?x16xf32> into tensor<?x2x1x?x16xf32>
  %vb = linalg.generic {indexing_maps = [#bc_in, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%v5 : tensor<?x2x1x?x16xf32>) outs(%ke : tensor<?x2x2x?x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<?x2x2x?x16xf32>
  %vc = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<?x2x2x?x16xf32> into tensor<?x4x?x16xf32>
  %kte = tensor.empty(%b, %s) : tensor<?x4x16x?xf32>
  %kt = linalg.transpose ins(%kc : tensor<?x4x?x16xf32>) outs(%kte : tensor<?x4x16x?xf32>) permutation = [0, 1, 3, 2]
  %se = tensor.empty(%b, %s, %s) : tensor<?x4x?x?xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%se : tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %scores = linalg.generic {indexing_maps = [#q, #kt, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) outs(%sz : tensor<?x4x?x?xf32>) {
  ^bb0(%a: f32, %bb: f32, %out: f32):
    %0 = arith.mulf %a, %bb : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<?x4x?x?xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %scale : tensor<?x4x?x?xf32>, tensor<f32>) outs(%se : tensor<?x4x?x?xf32>) {
  ^bb0(%a: f32, %c: f32, %out: f32):
    %0 = arith.mulf %a, %c : f32
    linalg.yield %0 : f32
  } -> tensor<?x4x?x?xf32>
  %masked = linalg.generic {indexing_maps = [#id4, #bmask, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scaled, %m : tensor<?x4x?x?xf32>, tensor<?x1x?x?xf32>) outs(%se : tensor<?x4x?x?xf32>) {
  ^bb0(%a: f32, %c: f32, %out: f32):
    %0 = arith.addf %a, %c : f32
    linalg.yield %0 : f32
  } -> tensor<?x4x?x?xf32>
  %p = linalg.softmax dimension(3) ins(%masked : tensor<?x4x?x?xf32>) outs(%se : tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %oe = tensor.empty(%b, %s) : tensor<?x4x?x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %out = linalg.generic {indexing_maps = [#q, #kt, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vc : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) outs(%oz : tensor<?x4x?x16xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %0 = arith.mulf %a, %bb : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<?x4x?x16xf32>
  %te = tensor.empty(%b, %s) : tensor<?x?x4x16xf32>
  %t = linalg.transpose ins(%out : tensor<?x4x?x16xf32>) outs(%te : tensor<?x?x4x16xf32>) permutation = [0, 2, 1, 3]
  return %t : tensor<?x?x4x16xf32>
}

// -----

// Neither scale nor mask, K read as [b, h, j, d] by the matmul's map (no
// transpose), static shapes, output kept as [B, H, S, D]. No mask: a null
// pointer and scale 1.
// CHECK-LABEL: func.func @plain
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x8x4xf32>
// CHECK-DAG: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[G:.*]] = arith.constant 1 : i64
// CHECK: call @qrt_uk_attention_f32({{.*}}, %[[G]], {{.*}}, %[[NULL]], {{.*}}, %[[ONE]], {{.*}})
// CHECK-NOT: linalg.generic
#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#k = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
#v = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
func.func @plain(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x6x4xf32>, %v: tensor<1x2x6x4xf32>) -> tensor<1x2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %se = tensor.empty() : tensor<1x2x8x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%se : tensor<1x2x8x6xf32>) -> tensor<1x2x8x6xf32>
  %scores = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<1x2x8x4xf32>, tensor<1x2x6x4xf32>) outs(%sz : tensor<1x2x8x6xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %0, %out : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x8x6xf32>
  %p = linalg.softmax dimension(3) ins(%scores : tensor<1x2x8x6xf32>) outs(%se : tensor<1x2x8x6xf32>) -> tensor<1x2x8x6xf32>
  %oe = tensor.empty() : tensor<1x2x8x4xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %out = linalg.generic {indexing_maps = [#q, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<1x2x8x6xf32>, tensor<1x2x6x4xf32>) outs(%oz : tensor<1x2x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x8x4xf32>
  return %out : tensor<1x2x8x4xf32>
}

// -----

// GPT-2 style: the scores divided by a scalar (scale 1/8), a 2-D [S, S]
// mask broadcast over batch and heads, K^T as an operand that is not a
// transpose op (read with K^T's strides swapped).
// CHECK-LABEL: func.func @divide
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 1.250000e-01 : f32
// CHECK-DAG: bufferization.to_buffer %{{.*}} read_only : tensor<8x8xf32> to memref<8x8xf32, strided<[?, ?], offset: ?>>
// CHECK: call @qrt_uk_attention_f32({{.*}}, %[[SCALE]], {{.*}})
// CHECK-NOT: linalg.softmax
#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#kt = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#m2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
func.func @divide(%q: tensor<2x3x8x4xf32>, %kt: tensor<2x3x4x8xf32>, %v: tensor<2x3x8x4xf32>, %m: tensor<8x8xf32>) -> tensor<2x3x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant dense<8.0> : tensor<f32>
  %se = tensor.empty() : tensor<2x3x8x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%se : tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
  %scores = linalg.generic {indexing_maps = [#q, #kt, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<2x3x8x4xf32>, tensor<2x3x4x8xf32>) outs(%sz : tensor<2x3x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<2x3x8x8xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %c : tensor<2x3x8x8xf32>, tensor<f32>) outs(%se : tensor<2x3x8x8xf32>) {
  ^bb0(%a: f32, %d: f32, %out: f32):
    %0 = arith.divf %a, %d : f32
    linalg.yield %0 : f32
  } -> tensor<2x3x8x8xf32>
  %masked = linalg.generic {indexing_maps = [#m2, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%m, %scaled : tensor<8x8xf32>, tensor<2x3x8x8xf32>) outs(%se : tensor<2x3x8x8xf32>) {
  ^bb0(%a: f32, %d: f32, %out: f32):
    %0 = arith.addf %a, %d : f32
    linalg.yield %0 : f32
  } -> tensor<2x3x8x8xf32>
  %p = linalg.softmax dimension(3) ins(%masked : tensor<2x3x8x8xf32>) outs(%se : tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
  %oe = tensor.empty() : tensor<2x3x8x4xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<2x3x8x4xf32>) -> tensor<2x3x8x4xf32>
  %out = linalg.generic {indexing_maps = [#q, #kt, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x3x8x8xf32>, tensor<2x3x8x4xf32>) outs(%oz : tensor<2x3x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<2x3x8x4xf32>
  return %out : tensor<2x3x8x4xf32>
}

// -----

// Negative: the probabilities are also returned (the scores would be
// materialized anyway), the softmax is not along the last dimension, and
// the scores' matmul accumulates into something other than zeros.
// CHECK-LABEL: func.func @negative
// CHECK-NOT: qrt_uk_attention_f32
// CHECK-COUNT-3: linalg.softmax
// CHECK-NOT: qrt_uk_attention_f32
#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#k = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
#v = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
func.func @negative(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x8xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %se = tensor.empty() : tensor<1x2x8x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%se : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %oe = tensor.empty() : tensor<1x2x8x4xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %scores = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%sz : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x8x8xf32>
  %p = linalg.softmax dimension(3) ins(%scores : tensor<1x2x8x8xf32>) outs(%se : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %o1 = linalg.generic {indexing_maps = [#q, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) outs(%oz : tensor<1x2x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x8x4xf32>
  %scores2 = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%sz : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x8x8xf32>
  %p2 = linalg.softmax dimension(2) ins(%scores2 : tensor<1x2x8x8xf32>) outs(%se : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %o2 = linalg.generic {indexing_maps = [#q, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p2, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) outs(%oz : tensor<1x2x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x8x4xf32>
  %scores3 = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x8x8xf32>
  %p3 = linalg.softmax dimension(3) ins(%scores3 : tensor<1x2x8x8xf32>) outs(%se : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %o3 = linalg.generic {indexing_maps = [#q, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p3, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) outs(%oz : tensor<1x2x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x8x4xf32>
  return %o1, %p, %o2, %o3 : tensor<1x2x8x4xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>
}
