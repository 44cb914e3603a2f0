// RUN: qopt %s --split-input-file --qopt-cpu-lower-to-ukernels | FileCheck %s
// RUN: qopt %s --split-input-file --qopt-cpu-lower-to-ukernels=pack-constant-weights=false | FileCheck %s --check-prefix=NOPACK

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

// -----

// An int8 linear layer (qopt-cpu-prepare-w8a8-ukernels' marked product and
// rescale): one qrt_uk_s8_gemm call, M = rows, N = 2, K = 5, per-row
// scales (stride 1), the bias, flags 0 (the kernel writes Y). The [N, K]
// weight is packed at compile time as qrt_uk_pack_b_s8 lays it out: K
// padded to 64, panels of 16 columns, 4 consecutive k of a column together
// (byte (k/4)*64 + n*4 + k%4 of the panel), then 16 int32 column sums:
// 16 * 64 + 16 * 4 = 1088 bytes. Column 0 is 1..5 (sum 15 = 0x0F), column 1
// is -1..-5 (sum -15). The accumulator, its fill and both generics are gone.
// CHECK-DAG: func.func private @qrt_uk_s8_gemm(i64, i64, i64, !llvm.ptr, i64, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i32)
// CHECK-DAG: memref.global "private" constant @w8_s8packed : memref<1088xi8> = dense_resource<w8_s8packed> {alignment = 64 : i64}
// CHECK-LABEL: func.func @s8_gemm
// CHECK-NOT: memref.alloc
// CHECK-NOT: linalg.
// CHECK: memref.get_global @w8_s8packed
// CHECK-DAG: %[[N:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[K:.*]] = arith.constant 5 : i64
// CHECK: %[[FLAGS:.*]] = arith.constant 0 : i32
// CHECK-NEXT: call @qrt_uk_s8_gemm(%{{.*}}, %[[N]], %[[K]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[FLAGS]])
// CHECK-NOT: linalg.
// CHECK: return
// CHECK: w8_s8packed: "0x4000000001020304FFFEFDFC00000000
// CHECK-SAME: 0000000005000000FB0000000000
// CHECK-SAME: 000000000F000000F1FFFFFF00000000
memref.global "private" constant @w8 : memref<2x5xi8> = dense<[[1, 2, 3, 4, 5], [-1, -2, -3, -4, -5]]>
func.func @s8_gemm(%q: memref<?x5xi8>, %xs: memref<?xf32>, %ws: memref<2xf32>, %b: memref<2xf32>, %y: memref<?x2xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0 : i32
  %m = memref.dim %q, %c0 : memref<?x5xi8>
  %acc = memref.alloc(%m) : memref<?x2xi32>
  linalg.fill {qopt_s8_gemm = "init"} ins(%zero : i32) outs(%acc : memref<?x2xi32>)
  %w = memref.get_global @w8 : memref<2x5xi8>
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                   affine_map<(m, n, k) -> (n, k)>,
                                   affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%q, %w : memref<?x5xi8>, memref<2x5xi8>) outs(%acc : memref<?x2xi32>)
      attrs = {qopt_s8_gemm = "product"} {
  ^bb0(%a: i8, %bw: i8, %o: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %bw : i8 to i32
    %p = arith.muli %a32, %b32 : i32
    %s = arith.addi %o, %p : i32
    linalg.yield %s : i32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>,
                                   affine_map<(m, n) -> (m)>,
                                   affine_map<(m, n) -> (n)>,
                                   affine_map<(m, n) -> (n)>,
                                   affine_map<(m, n) -> (m, n)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%acc, %xs, %ws, %b : memref<?x2xi32>, memref<?xf32>, memref<2xf32>, memref<2xf32>) outs(%y : memref<?x2xf32>)
      attrs = {qopt_s8_gemm = "rescale"} {
  ^bb0(%a: i32, %sa: f32, %sb: f32, %bias: f32, %o: f32):
    %f = arith.sitofp %a : i32 to f32
    %t = arith.mulf %f, %sa : f32
    %u = arith.mulf %t, %sb : f32
    %v = arith.addf %u, %bias : f32
    linalg.yield %v : f32
  }
  return
}

// -----

// [B, S, K] in contiguous buffers: one call over B * S rows. A per-tensor
// input scale is read with stride 0; without a bias the pointer is null.
// An accumulator whose zero fill CSE shared with another layer reaches the
// product through a copy; with the product gone, copy, fill and both
// allocations go too.
// CHECK-LABEL: func.func @s8_gemm_rows
// CHECK-NOT: scf.for
// CHECK-NOT: memref.copy
// CHECK-NOT: memref.alloc
// CHECK-DAG: %[[B:.*]] = memref.dim %arg0, %c0
// CHECK-DAG: %[[S:.*]] = memref.dim %arg0, %c1
// CHECK: %[[ROWS:.*]] = arith.muli
// CHECK-DAG: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-DAG: %[[STRIDE0:.*]] = arith.constant 0 : i64
// CHECK: call @qrt_uk_s8_gemm(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[STRIDE0]], %{{.*}}, %{{.*}}, %[[NULL]],
// CHECK-NOT: linalg.
memref.global "private" constant @w8 : memref<2x5xi8> = dense<1>
func.func @s8_gemm_rows(%q: memref<?x?x5xi8>, %xs: memref<f32>, %ws: memref<2xf32>, %y: memref<?x?x2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0 : i32
  %b = memref.dim %q, %c0 : memref<?x?x5xi8>
  %s = memref.dim %q, %c1 : memref<?x?x5xi8>
  %shared = memref.alloc(%b, %s) : memref<?x?x2xi32>
  linalg.fill {qopt_s8_gemm = "init"} ins(%zero : i32) outs(%shared : memref<?x?x2xi32>)
  %acc = memref.alloc(%b, %s) : memref<?x?x2xi32>
  memref.copy %shared, %acc : memref<?x?x2xi32> to memref<?x?x2xi32>
  %w = memref.get_global @w8 : memref<2x5xi8>
  linalg.generic {indexing_maps = [affine_map<(b, s, n, k) -> (b, s, k)>,
                                   affine_map<(b, s, n, k) -> (n, k)>,
                                   affine_map<(b, s, n, k) -> (b, s, n)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %w : memref<?x?x5xi8>, memref<2x5xi8>) outs(%acc : memref<?x?x2xi32>)
      attrs = {qopt_s8_gemm = "product"} {
  ^bb0(%a: i8, %bw: i8, %o: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %bw : i8 to i32
    %p = arith.muli %a32, %b32 : i32
    %r = arith.addi %o, %p : i32
    linalg.yield %r : i32
  }
  linalg.generic {indexing_maps = [affine_map<(b, s, n) -> (b, s, n)>,
                                   affine_map<(b, s, n) -> ()>,
                                   affine_map<(b, s, n) -> (n)>,
                                   affine_map<(b, s, n) -> (b, s, n)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc, %xs, %ws : memref<?x?x2xi32>, memref<f32>, memref<2xf32>) outs(%y : memref<?x?x2xf32>)
      attrs = {qopt_s8_gemm = "rescale"} {
  ^bb0(%a: i32, %sa: f32, %sb: f32, %o: f32):
    %f = arith.sitofp %a : i32 to f32
    %t = arith.mulf %f, %sa : f32
    %u = arith.mulf %t, %sb : f32
    linalg.yield %u : f32
  }
  return
}

// -----

// Rows that are not one contiguous range: a loop over the leading dimension
// (marked parallel) around one call per slice.
// CHECK-LABEL: func.func @s8_gemm_strided
// CHECK: scf.for
// CHECK: call @qrt_uk_s8_gemm
// CHECK: } {qopt_parallel}
memref.global "private" constant @w8 : memref<2x5xi8> = dense<1>
func.func @s8_gemm_strided(%q: memref<3x4x5xi8, strided<[40, 5, 1]>>, %xs: memref<3x4xf32>, %ws: memref<2xf32>, %y: memref<3x4x2xf32>) {
  %zero = arith.constant 0 : i32
  %acc = memref.alloc() : memref<3x4x2xi32>
  linalg.fill {qopt_s8_gemm = "init"} ins(%zero : i32) outs(%acc : memref<3x4x2xi32>)
  %w = memref.get_global @w8 : memref<2x5xi8>
  linalg.generic {indexing_maps = [affine_map<(b, s, n, k) -> (b, s, k)>,
                                   affine_map<(b, s, n, k) -> (n, k)>,
                                   affine_map<(b, s, n, k) -> (b, s, n)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %w : memref<3x4x5xi8, strided<[40, 5, 1]>>, memref<2x5xi8>) outs(%acc : memref<3x4x2xi32>)
      attrs = {qopt_s8_gemm = "product"} {
  ^bb0(%a: i8, %bw: i8, %o: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %bw : i8 to i32
    %p = arith.muli %a32, %b32 : i32
    %r = arith.addi %o, %p : i32
    linalg.yield %r : i32
  }
  linalg.generic {indexing_maps = [affine_map<(b, s, n) -> (b, s, n)>,
                                   affine_map<(b, s, n) -> (b, s)>,
                                   affine_map<(b, s, n) -> (n)>,
                                   affine_map<(b, s, n) -> (b, s, n)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc, %xs, %ws : memref<3x4x2xi32>, memref<3x4xf32>, memref<2xf32>) outs(%y : memref<3x4x2xf32>)
      attrs = {qopt_s8_gemm = "rescale"} {
  ^bb0(%a: i32, %sa: f32, %sb: f32, %o: f32):
    %f = arith.sitofp %a : i32 to f32
    %t = arith.mulf %f, %sa : f32
    %u = arith.mulf %t, %sb : f32
    linalg.yield %u : f32
  }
  return
}

// -----

// A weight that is not a constant global cannot be packed at compile time:
// the marked generics stay (they compute the same values as loops).
// CHECK-LABEL: func.func @s8_gemm_argument_weight
// CHECK-NOT: call
// CHECK: qopt_s8_gemm = "product"
// CHECK: qopt_s8_gemm = "rescale"
func.func @s8_gemm_argument_weight(%q: memref<4x5xi8>, %w: memref<2x5xi8>, %xs: memref<4xf32>, %ws: memref<2xf32>, %y: memref<4x2xf32>) {
  %zero = arith.constant 0 : i32
  %acc = memref.alloc() : memref<4x2xi32>
  linalg.fill {qopt_s8_gemm = "init"} ins(%zero : i32) outs(%acc : memref<4x2xi32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                   affine_map<(m, n, k) -> (n, k)>,
                                   affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%q, %w : memref<4x5xi8>, memref<2x5xi8>) outs(%acc : memref<4x2xi32>)
      attrs = {qopt_s8_gemm = "product"} {
  ^bb0(%a: i8, %bw: i8, %o: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %bw : i8 to i32
    %p = arith.muli %a32, %b32 : i32
    %r = arith.addi %o, %p : i32
    linalg.yield %r : i32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>,
                                   affine_map<(m, n) -> (m)>,
                                   affine_map<(m, n) -> (n)>,
                                   affine_map<(m, n) -> (m, n)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%acc, %xs, %ws : memref<4x2xi32>, memref<4xf32>, memref<2xf32>) outs(%y : memref<4x2xf32>)
      attrs = {qopt_s8_gemm = "rescale"} {
  ^bb0(%a: i32, %sa: f32, %sb: f32, %o: f32):
    %f = arith.sitofp %a : i32 to f32
    %t = arith.mulf %f, %sa : f32
    %u = arith.mulf %t, %sb : f32
    linalg.yield %u : f32
  }
  return
}

// -----

// A dynamic per-token quantization (absmax, scales, values): one
// qrt_uk_quantize_rows_s8(M, K, X, ldx, Q, ldq, scale) call writing the
// values and the scales; max |x| and the reciprocals are no longer
// computed, so their buffers go.
// CHECK: func.func private @qrt_uk_quantize_rows_s8(i64, i64, !llvm.ptr, i64, !llvm.ptr, i64, !llvm.ptr)
// CHECK-LABEL: func.func @quantize_rows
// CHECK-NOT: memref.alloc
// CHECK-NOT: linalg.
// CHECK: call @qrt_uk_quantize_rows_s8
// CHECK-NOT: linalg.
// CHECK: return
func.func @quantize_rows(%x: memref<?x8xf32>, %q: memref<?x8xi8>, %scale: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.dim %x, %c0 : memref<?x8xf32>
  %amax = memref.alloc(%m) : memref<?xf32>
  linalg.fill {qopt_s8_quantize_rows = "init"} ins(%zero : f32) outs(%amax : memref<?xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, k) -> (m, k)>, affine_map<(m, k) -> (m)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x8xf32>) outs(%amax : memref<?xf32>)
      attrs = {qopt_s8_quantize_rows = "absmax"} {
  ^bb0(%v: f32, %o: f32):
    %a = math.absf %v : f32
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  }
  %inverse = memref.alloc(%m) : memref<?xf32>
  linalg.generic {indexing_maps = [affine_map<(m) -> (m)>, affine_map<(m) -> (m)>, affine_map<(m) -> (m)>],
                  iterator_types = ["parallel"]}
      ins(%amax : memref<?xf32>) outs(%scale, %inverse : memref<?xf32>, memref<?xf32>)
      attrs = {qopt_s8_quantize_rows = "scales"} {
  ^bb0(%a: f32, %o0: f32, %o1: f32):
    %c127 = arith.constant 127.0 : f32
    %s = arith.divf %a, %c127 : f32
    %i = arith.divf %c127, %a : f32
    linalg.yield %s, %i : f32, f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, k) -> (m, k)>, affine_map<(m, k) -> (m)>, affine_map<(m, k) -> (m, k)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %inverse : memref<?x8xf32>, memref<?xf32>) outs(%q : memref<?x8xi8>)
      attrs = {qopt_s8_quantize_rows = "values"} {
  ^bb0(%v: f32, %i: f32, %o: i8):
    %p = arith.mulf %v, %i : f32
    %r = math.roundeven %p : f32
    %t = arith.fptosi %r : f32 to i8
    linalg.yield %t : i8
  }
  return
}
