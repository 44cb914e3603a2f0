// RUN: qopt %s --split-input-file --qopt-lower-to-ukernels | FileCheck %s
// RUN: qopt %s --split-input-file --qopt-lower-to-ukernels=pack-constant-weights=false | FileCheck %s --check-prefix=NOPACK

// A plain matmul on buffers: pointers and strides go to the general kernel,
// accumulating into C.
// CHECK: func.func private @qrt_uk_sgemm(i64, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64, i64, i32)
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: linalg.matmul
// CHECK: %[[M:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[ACC:.*]] = arith.constant 1 : i32
// CHECK: call @qrt_uk_sgemm(%[[M]], {{.*}}, %[[ACC]]) : (i64, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64, i64, i32) -> ()
func.func @matmul(%a: memref<?x64xf32>, %b: memref<64x32xf32>, %c: memref<?x32xf32>) {
  linalg.matmul ins(%a, %b : memref<?x64xf32>, memref<64x32xf32>) outs(%c : memref<?x32xf32>)
  return
}

// -----

// A constant [N, K] weight (a linear layer) is repacked at compile time into
// 16-column panels: N = 20 pads to 32 columns, 32 x 8 = 256 floats.
// CHECK: memref.global "private" constant @w_packed : memref<256xf32> = dense_resource<w_packed> {alignment = 64 : i64}
// CHECK-LABEL: func.func @linear
// CHECK: memref.get_global @w_packed
// CHECK: call @qrt_uk_sgemm_packed
// NOPACK-LABEL: func.func @linear
// NOPACK-NOT: _packed
// NOPACK: call @qrt_uk_sgemm(
memref.global "private" constant @w : memref<20x8xf32> = dense<1.0>
func.func @linear(%x: memref<4x8xf32>, %y: memref<4x20xf32>) {
  %w = memref.get_global @w : memref<20x8xf32>
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                   affine_map<(m, n, k) -> (n, k)>,
                                   affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<4x8xf32>, memref<20x8xf32>) outs(%y : memref<4x20xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Batch dimensions become loops around the kernel call.
// CHECK-LABEL: func.func @batched
// CHECK: scf.for
// CHECK: call @qrt_uk_sgemm(
func.func @batched(%a: memref<2x4x8xf32>, %b: memref<2x8x16xf32>, %c: memref<2x4x16xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<2x4x8xf32>, memref<2x8x16xf32>) outs(%c : memref<2x4x16xf32>)
  return
}

// -----

// Integer contractions and other bodies stay linalg.
// CHECK-LABEL: func.func @int_matmul
// CHECK: linalg.matmul
// CHECK-NOT: call
func.func @int_matmul(%a: memref<4x8xi32>, %b: memref<8x16xi32>, %c: memref<4x16xi32>) {
  linalg.matmul ins(%a, %b : memref<4x8xi32>, memref<8x16xi32>) outs(%c : memref<4x16xi32>)
  return
}

// -----

// A last-dimension softmax: loops over the leading dimensions, one call per
// [rows, cols] matrix with row and column strides of input and output.
// CHECK: func.func private @qrt_uk_softmax(i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64, i64)
// CHECK-LABEL: func.func @softmax
// CHECK-NOT: linalg.softmax
// CHECK: scf.for
// CHECK-NOT: scf.for
// CHECK: call @qrt_uk_softmax(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64, i64) -> ()
// Each iteration writes its own rows: the loop may run on threads.
// CHECK: } {qopt_parallel}
func.func @softmax(%x: memref<?x4x?xf32, strided<[?, ?, 2], offset: ?>>, %y: memref<?x4x?xf32>) {
  linalg.softmax dimension(2) ins(%x : memref<?x4x?xf32, strided<[?, ?, 2], offset: ?>>) outs(%y : memref<?x4x?xf32>)
  return
}

// -----

// A softmax over another dimension is not the kernel's: it stays.
// CHECK-LABEL: func.func @softmax_dim0
// CHECK-NOT: qrt_uk_softmax
// CHECK: linalg.softmax dimension(0)
func.func @softmax_dim0(%x: memref<8x16xf32>, %y: memref<8x16xf32>) {
  linalg.softmax dimension(0) ins(%x : memref<8x16xf32>) outs(%y : memref<8x16xf32>)
  return
}

// -----

// The kernel computes `out + a * b` and nothing else: a body with any other
// op (upstream's contraction check looks through unary ones) stays linalg.
// CHECK-LABEL: func.func @unary_in_body
// CHECK-NOT: call
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: linalg.generic
// CHECK: arith.negf
// CHECK-NOT: call
func.func @unary_in_body(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                   affine_map<(m, n, k) -> (k, n)>,
                                   affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %e = math.exp %x : f32
    %p = arith.mulf %e, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                   affine_map<(m, n, k) -> (k, n)>,
                                   affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    %n = arith.negf %s : f32
    linalg.yield %n : f32
  }
  return
}

// -----

// Every loop must be a batch, m, n or k dimension of the kernel call. A
// parallel loop only C has (the product broadcast along it) and a reduction
// only A reads would be dropped: the call would write one slice of C and sum
// one slice of A.
// CHECK-LABEL: func.func @unclassified_loops
// CHECK-NOT: call
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: call
func.func @unclassified_loops(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<3x4x16xf32>,
                              %a3: memref<4x8x2xf32>, %c2: memref<4x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(r, m, n, k) -> (m, k)>,
                                   affine_map<(r, m, n, k) -> (k, n)>,
                                   affine_map<(r, m, n, k) -> (r, m, n)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<3x4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n, k, j) -> (m, k, j)>,
                                   affine_map<(m, n, k, j) -> (k, n)>,
                                   affine_map<(m, n, k, j) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%a3, %b : memref<4x8x2xf32>, memref<8x16xf32>) outs(%c2 : memref<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
