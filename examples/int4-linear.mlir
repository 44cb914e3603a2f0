// The bundled example of `scripts/run.sh` until ONNX import lands: a linear
// layer y = x W^T in full precision and with W quantized to int4 in groups of
// 4 (RTN scales max|w| / 7 per group, precomputed here), bit-packed and run
// through qopt.weight_only_linear. Prints both outputs and their largest
// absolute difference.
//
// scripts/run.sh runs it; test/Integration/int4-linear-example.test checks
// its output against a reference computed outside qopt.

func.func private @printMemrefF32(tensor<*xf32>)

#x = affine_map<(b, n, k) -> (b, k)>
#w = affine_map<(b, n, k) -> (n, k)>
#y = affine_map<(b, n, k) -> (b, n)>

func.func @float_linear(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>) -> tensor<2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<2x8xf32>, tensor<4x8xf32>) outs(%init : tensor<2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

func.func @main() {
  %x = arith.constant dense<[[0.191, -1.749, -1.762, -1.176, 0.722, -0.29, -0.743, 0.342], [-0.187, -0.801, 1.178, 0.796, -1.024, 0.298, 0.101, 1.501]]> : tensor<2x8xf32>
  %w = arith.constant dense<[[-0.352, -0.698, 0.302, -0.855, 0.072, -0.269, -0.884, 0.015], [-0.925, -0.133, -0.86, -0.819, -0.151, 0.654, -0.752, -0.554], [0.255, 0.895, 0.154, -0.207, 0.953, -0.907, 0.717, -0.421], [-0.711, -0.764, -0.383, 0.632, -0.639, 0.163, 0.278, -0.255]]> : tensor<4x8xf32>
  %s = arith.constant dense<[[0.122143, 0.126286], [0.132143, 0.107429], [0.127857, 0.136143], [0.109143, 0.091286]]> : tensor<4x2xf32>

  %ref = call @float_linear(%x, %w) : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>

  %q = qopt.quantize %w scale(%s : tensor<4x2xf32>) scheme <storage = i4, granularity = per_group, axis = 1, group_size = 4> : tensor<4x8xf32> -> tensor<4x8xi4>
  %packed = qopt.pack %q : tensor<4x8xi4> -> tensor<4x4xi8>
  %y = qopt.weight_only_linear %x, %packed scale(%s : tensor<4x2xf32>) scheme <storage = i4, granularity = per_group, axis = 1, group_size = 4> : tensor<2x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>

  // Largest |y - ref|.
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %err = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>], iterator_types = ["reduction", "reduction"]}
      ins(%y, %ref : tensor<2x4xf32>, tensor<2x4xf32>) outs(%init : tensor<f32>) {
  ^bb0(%a: f32, %b: f32, %m: f32):
    %d = arith.subf %a, %b : f32
    %ad = math.absf %d : f32
    %mx = arith.maximumf %m, %ad : f32
    linalg.yield %mx : f32
  } -> tensor<f32>

  %r = tensor.cast %ref : tensor<2x4xf32> to tensor<*xf32>
  %q2 = tensor.cast %y : tensor<2x4xf32> to tensor<*xf32>
  %er = tensor.cast %err : tensor<f32> to tensor<*xf32>
  call @printMemrefF32(%r) : (tensor<*xf32>) -> ()
  call @printMemrefF32(%q2) : (tensor<*xf32>) -> ()
  call @printMemrefF32(%er) : (tensor<*xf32>) -> ()
  return
}
