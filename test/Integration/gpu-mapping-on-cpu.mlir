// The loop transformations of the CUDA path, run on the CPU: the IR after
// qopt-gpu-copies-to-linalg, convert-linalg-to-parallel-loops and
// qopt-gpu-map-parallel-loops (collapsed, tiled, guarded loops, registers
// for accumulators) is lowered with scf-to-cf instead of to kernels, which
// runs the blocks and threads one after another, and must compute what the
// plain reference path computes. The expected numbers are worked out by
// hand in the comments.
//
// RUN: qopt %s --qopt-lower-to-llvm \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:   -shared-libs=%llvm_lib_dir/libmlir_runner_utils.so \
// RUN:   -shared-libs=%llvm_lib_dir/libmlir_c_runner_utils.so \
// RUN: | FileCheck %s
// RUN: qopt %s --pass-pipeline='builtin.module(one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map}, func.func(qopt-gpu-copies-to-linalg, convert-linalg-to-parallel-loops, qopt-gpu-map-parallel-loops{block-size=32}), convert-scf-to-cf, expand-strided-metadata, lower-affine, finalize-memref-to-llvm, convert-to-llvm, reconcile-unrealized-casts)' \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:   -shared-libs=%llvm_lib_dir/libmlir_runner_utils.so \
// RUN:   -shared-libs=%llvm_lib_dir/libmlir_c_runner_utils.so \
// RUN: | FileCheck %s

func.func private @printMemrefF32(tensor<*xf32>)

// A[i][k] = i + k (3 x 4), B[k][j] = k - j (4 x 5).
// C = A x B: C[i][j] = sum_k (i + k)(k - j) = 4ij - 6i - 6j + 14 + ... ;
// row by row: [14 8 2 -4 -10], [20 10 0 -10 -20], [26 12 -2 -16 -30].
// r[i] = sum_j C[i][j] = [10, 0, -10].
// E[i][j] = C[i][j] + r[i]: [24 18 12 6 0], [20 10 0 -10 -20],
// [16 2 -12 -26 -40].
// The result is E[1:3, 0:4]: [20 10 0 -10], [16 2 -12 -26].
func.func @model(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) -> tensor<2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x5xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x5xf32>) -> tensor<3x5xf32>
  %c = linalg.matmul ins(%a, %b : tensor<3x4xf32>, tensor<4x5xf32>)
                     outs(%f : tensor<3x5xf32>) -> tensor<3x5xf32>
  %er = tensor.empty() : tensor<3xf32>
  %fr = linalg.fill ins(%zero : f32) outs(%er : tensor<3xf32>) -> tensor<3xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> (i)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%c : tensor<3x5xf32>) outs(%fr : tensor<3xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<3xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                          affine_map<(i, j) -> (i)>,
                                          affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]}
      ins(%c, %r : tensor<3x5xf32>, tensor<3xf32>) outs(%e : tensor<3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<3x5xf32>
  %slice = tensor.extract_slice %sum[1, 0] [2, 4] [1, 1]
      : tensor<3x5xf32> to tensor<2x4xf32>
  return %slice : tensor<2x4xf32>
}

func.func @main() {
  %a = arith.constant dense<[[0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0],
                             [2.0, 3.0, 4.0, 5.0]]> : tensor<3x4xf32>
  %b = arith.constant dense<[[0.0, -1.0, -2.0, -3.0, -4.0],
                             [1.0, 0.0, -1.0, -2.0, -3.0],
                             [2.0, 1.0, 0.0, -1.0, -2.0],
                             [3.0, 2.0, 1.0, 0.0, -1.0]]> : tensor<4x5xf32>
  %r = call @model(%a, %b) : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<2x4xf32>
  %u = tensor.cast %r : tensor<2x4xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

// The reference returns a view of E, the mapped path a copy (identity
// layouts at the boundary: the copy is a linalg.copy, mapped like the rest).
// CHECK: rank = 2 offset = {{[05]}} sizes = [2, 4]
// CHECK-NEXT: {{\[}}[20,   10,   0,   -10],
// CHECK-NEXT:  [16,   2,   -12,   -26]]
