// RUN: qopt %s --split-input-file --qopt-raise-softmax | FileCheck %s

// The importer's Softmax: max and sum keep the reduced dimension.
// CHECK-LABEL: func.func @keepdims
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x16xf32>)
// CHECK-NOT: linalg.generic
// CHECK: %[[Y:.*]] = linalg.softmax dimension(2) ins(%[[X]] : tensor<2x8x16xf32>) outs(%{{.*}} : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
func.func @keepdims(%x: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<2x8x1xf32>
  %full = tensor.empty() : tensor<2x8x16xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%e1 : tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  %max = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : tensor<2x8x16xf32>) outs(%minit : tensor<2x8x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %out, %in : f32
    linalg.yield %0 : f32
  } -> tensor<2x8x1xf32>
  %sub = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %max : tensor<2x8x16xf32>, tensor<2x8x1xf32>) outs(%full : tensor<2x8x16xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %0 = arith.subf %in, %m : f32
    linalg.yield %0 : f32
  } -> tensor<2x8x16xf32>
  %exp = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sub : tensor<2x8x16xf32>) outs(%full : tensor<2x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.exp %in : f32
    linalg.yield %0 : f32
  } -> tensor<2x8x16xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%exp : tensor<2x8x16xf32>) outs(%sinit : tensor<2x8x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  } -> tensor<2x8x1xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%exp, %sum : tensor<2x8x16xf32>, tensor<2x8x1xf32>) outs(%full : tensor<2x8x16xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %0 = arith.divf %in, %s : f32
    linalg.yield %0 : f32
  } -> tensor<2x8x16xf32>
  return %y : tensor<2x8x16xf32>
}

// -----

// Reductions that drop the reduced dimension, maxnumf with the operands the
// other way round, dynamic sizes. The exp also feeds a second result, so it
// and its inputs stay; the sum and the divide go.
// CHECK-LABEL: func.func @dropdims
// CHECK: math.exp
// CHECK-NOT: arith.addf
// CHECK: %[[Y:.*]] = linalg.softmax dimension(1)
// CHECK-NOT: arith.divf
// CHECK: return %[[Y]]
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>
func.func @dropdims(%x: tensor<?x?xf32>) -> (tensor<?x?xf32>, tensor<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c0 : tensor<?x?xf32>
  %m = tensor.dim %x, %c1 : tensor<?x?xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty(%n) : tensor<?xf32>
  %full = tensor.empty(%n, %m) : tensor<?x?xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%e1 : tensor<?xf32>) -> tensor<?xf32>
  %max = linalg.generic {indexing_maps = [#id2, #row2], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<?x?xf32>) outs(%minit : tensor<?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maxnumf %in, %out : f32
    linalg.yield %0 : f32
  } -> tensor<?xf32>
  %sub = linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x, %max : tensor<?x?xf32>, tensor<?xf32>) outs(%full : tensor<?x?xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %0 = arith.subf %in, %mx : f32
    linalg.yield %0 : f32
  } -> tensor<?x?xf32>
  %exp = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%sub : tensor<?x?xf32>) outs(%full : tensor<?x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.exp %in : f32
    linalg.yield %0 : f32
  } -> tensor<?x?xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%e1 : tensor<?xf32>) -> tensor<?xf32>
  %sum = linalg.generic {indexing_maps = [#id2, #row2], iterator_types = ["parallel", "reduction"]} ins(%exp : tensor<?x?xf32>) outs(%sinit : tensor<?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  } -> tensor<?xf32>
  %y = linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%exp, %sum : tensor<?x?xf32>, tensor<?xf32>) outs(%full : tensor<?x?xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %0 = arith.divf %in, %s : f32
    linalg.yield %0 : f32
  } -> tensor<?x?xf32>
  return %y, %exp : tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// Not a softmax: the max starts from 0 instead of -inf (a ReLU'd max).
// CHECK-LABEL: func.func @max_from_zero
// CHECK-NOT: linalg.softmax
// CHECK: arith.divf
#id3 = affine_map<(d0, d1) -> (d0, d1)>
#row3 = affine_map<(d0, d1) -> (d0, 0)>
func.func @max_from_zero(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x1xf32>
  %full = tensor.empty() : tensor<4x8xf32>
  %minit = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x1xf32>) -> tensor<4x1xf32>
  %max = linalg.generic {indexing_maps = [#id3, #row3], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%minit : tensor<4x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %out, %in : f32
    linalg.yield %0 : f32
  } -> tensor<4x1xf32>
  %sub = linalg.generic {indexing_maps = [#id3, #row3, #id3], iterator_types = ["parallel", "parallel"]} ins(%x, %max : tensor<4x8xf32>, tensor<4x1xf32>) outs(%full : tensor<4x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %0 = arith.subf %in, %m : f32
    linalg.yield %0 : f32
  } -> tensor<4x8xf32>
  %exp = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel"]} ins(%sub : tensor<4x8xf32>) outs(%full : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.exp %in : f32
    linalg.yield %0 : f32
  } -> tensor<4x8xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x1xf32>) -> tensor<4x1xf32>
  %sum = linalg.generic {indexing_maps = [#id3, #row3], iterator_types = ["parallel", "reduction"]} ins(%exp : tensor<4x8xf32>) outs(%sinit : tensor<4x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  } -> tensor<4x1xf32>
  %y = linalg.generic {indexing_maps = [#id3, #row3, #id3], iterator_types = ["parallel", "parallel"]} ins(%exp, %sum : tensor<4x8xf32>, tensor<4x1xf32>) outs(%full : tensor<4x8xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %0 = arith.divf %in, %s : f32
    linalg.yield %0 : f32
  } -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Not the kernel's: a softmax along the first dimension (reduction over d0)
// and an f16 one stay as they are.
// CHECK-LABEL: func.func @f16
// CHECK-NOT: linalg.softmax
#id4 = affine_map<(d0, d1) -> (d0, d1)>
#row4 = affine_map<(d0, d1) -> (d0, 0)>
func.func @f16(%x: tensor<4x8xf16>) -> tensor<4x8xf16> {
  %ninf = arith.constant 0xFC00 : f16
  %zero = arith.constant 0.0 : f16
  %e1 = tensor.empty() : tensor<4x1xf16>
  %full = tensor.empty() : tensor<4x8xf16>
  %minit = linalg.fill ins(%ninf : f16) outs(%e1 : tensor<4x1xf16>) -> tensor<4x1xf16>
  %max = linalg.generic {indexing_maps = [#id4, #row4], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf16>) outs(%minit : tensor<4x1xf16>) {
  ^bb0(%in: f16, %out: f16):
    %0 = arith.maximumf %out, %in : f16
    linalg.yield %0 : f16
  } -> tensor<4x1xf16>
  %sub = linalg.generic {indexing_maps = [#id4, #row4, #id4], iterator_types = ["parallel", "parallel"]} ins(%x, %max : tensor<4x8xf16>, tensor<4x1xf16>) outs(%full : tensor<4x8xf16>) {
  ^bb0(%in: f16, %m: f16, %out: f16):
    %0 = arith.subf %in, %m : f16
    linalg.yield %0 : f16
  } -> tensor<4x8xf16>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel"]} ins(%sub : tensor<4x8xf16>) outs(%full : tensor<4x8xf16>) {
  ^bb0(%in: f16, %out: f16):
    %0 = math.exp %in : f16
    linalg.yield %0 : f16
  } -> tensor<4x8xf16>
  %sinit = linalg.fill ins(%zero : f16) outs(%e1 : tensor<4x1xf16>) -> tensor<4x1xf16>
  %sum = linalg.generic {indexing_maps = [#id4, #row4], iterator_types = ["parallel", "reduction"]} ins(%exp : tensor<4x8xf16>) outs(%sinit : tensor<4x1xf16>) {
  ^bb0(%in: f16, %out: f16):
    %0 = arith.addf %out, %in : f16
    linalg.yield %0 : f16
  } -> tensor<4x1xf16>
  %y = linalg.generic {indexing_maps = [#id4, #row4, #id4], iterator_types = ["parallel", "parallel"]} ins(%exp, %sum : tensor<4x8xf16>, tensor<4x1xf16>) outs(%full : tensor<4x8xf16>) {
  ^bb0(%in: f16, %s: f16, %out: f16):
    %0 = arith.divf %in, %s : f16
    linalg.yield %0 : f16
  } -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}
