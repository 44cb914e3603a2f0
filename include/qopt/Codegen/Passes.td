//===- Passes.td - qopt CPU code generation passes ---------*- tablegen -*-===//
//
// Passes of the optimizing CPU code generator. They work on upstream
// dialects only (linalg, tensor, memref, vector), after
// `qopt-lower-quant-to-linalg` has removed every qopt op, and are put
// together by the `qopt-cpu-codegen` pipeline.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CODEGEN_PASSES_TD
#define QOPT_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def ApproximateMath : Pass<"qopt-approximate-math", "func::FuncOp"> {
  let summary = "Replace f32 transcendental math ops by inline polynomials";
  let description = [{
    LLVM has no vector libm: a `math.tanh`, `math.erf` or `math.powf` on a
    `vector<16xf32>` becomes sixteen calls to `tanhf`, `erff` or `powf` (and
    glibc's `tanhf` calls `expm1f`), and even `math.exp`, which becomes the
    `llvm.exp` intrinsic, is scalarized into `expf` calls. In a tanh-GELU
    model these calls took a third of the run time. This pass rewrites them,
    on scalars and vectors alike, into branch-free polynomial approximations
    that vectorize (upstream's `populateMathPolynomialApproximationPatterns`,
    Eigen's and Cephes' approximations):

    * `math.exp`, `math.expm1`, `math.tanh`, `math.erf` on f32 (scalars or
      vectors); not `math.log`, whose polynomial is wrong for subnormal
      inputs (and which is not hot);
    * `math.powf` by a constant exponent of 0.5, 0.75, +-1, +-2, 3 (all
      splats) by multiplications and square roots (algebraic
      simplification), so GELU's `pow(x, 3)` is `x * x * x`.

    ```mlir
    %t = math.tanh %x : vector<16xf32>
    // becomes (abridged)
    %c = arith.maximumf %x, %minus_7_99 ... arith.minimumf ...
    %p = math.fma %c2, %p0, %alpha1 : vector<16xf32>  // numerator, degree 13
    %q = math.fma %c2, %q0, %beta1 : vector<16xf32>   // denominator, degree 6
    %t = arith.select %tiny, %x, (%p / %q)
    ```

    Other element types (f16, bf16, f64) and other ops are left to the
    libm/LLVM lowering. The accuracy of each approximation against libm over
    the whole f32 range, infinities and NaN included, is checked by
    test/Target/CPU/approximate-math-accuracy.test; the errors are listed in
    docs/benchmarks.md.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def LowerConvToUKernels : Pass<"qopt-lower-conv-to-ukernels", "ModuleOp"> {
  let summary = "Lower f32 and int8 convolutions on buffers to the "
                "runtime's conv kernels";
  let description = [{
    The importer spells Conv as one `linalg.generic` over (n, f, output
    spatial..., c, kernel...) on an explicitly padded input. Tiled into
    scalar loops, as everything the vectorizer cannot handle is, it ran
    serially at a small fraction of the machine's FLOPs. This pass replaces
    each such generic (1-D and 2-D, any strides, dilations and groups, see
    `matchUKernelConvolution`) on dense row-major buffers by a call to
    `qrt_uk_conv2d_f32`, which runs im2col + the packed sgemm (regular,
    grouped and 1x1 convolutions) or a direct vectorized loop (depthwise)
    on the thread pool, accumulating into the output as the generic did.

    The W8A8 form of the same generic (i8 input and filter, i32 output, body
    `out + extsi(x) * extsi(w)`, from `qopt-quantize-w8a8`) becomes a call
    of `qrt_uk_conv2d_s8_i32` with the same arguments (int8 GEMM
    micro-kernels for regular, grouped and 1x1 convolutions, a direct loop
    for depthwise ones; int32 sums modulo 2^32, as the generic's).

    ```mlir
    linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = [
        "parallel", "parallel", "parallel", "parallel",
        "reduction", "reduction", "reduction"]}
      ins(%xp, %w : memref<1x16x114x114xf32>, memref<16x1x3x3xf32>)
      outs(%y : memref<1x16x56x56xf32>) { mulf, addf }
    // becomes
    call @qrt_uk_conv2d_f32(%n, %c16, %c114, %c114, %c16, %c3, %c3, %c56,
        %c56, %c2, %c2, %c1, %c1, %c16, %xptr, %wptr, %yptr, %acc)
    ```

    Convolutions whose buffers are not dense row-major (a strided view)
    stay loops.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect"];
}

def PrepareConvUKernels : Pass<"qopt-prepare-conv-ukernels", "func::FuncOp"> {
  let summary = "Drop the zero fill that initializes convolution outputs";
  let description = [{
    The importer initializes each convolution's accumulator with a
    `linalg.fill` of zero. Once `qopt-lower-conv-to-ukernels` calls
    `qrt_uk_conv2d_f32`, that fill is a wasted pass over the output, and a
    worse one when CSE merges the fills of equal-shaped convolutions: each
    convolution then starts with a copy of the shared zero buffer. This pass
    replaces the init of every convolution `matchUKernelConvolution`
    accepts, when it is a fill of `+0.0` (or of integer 0, the i32
    accumulator of an int8 convolution), by a `tensor.empty` and marks the
    op with the unit attribute `qopt_conv_zero_init`: the kernel then
    overwrites the output instead of accumulating. (If the lowering cannot
    take the op after all, it fills the buffer with zero first.)

    ```mlir
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x16x56x56xf32>)
    %y = linalg.generic {...} ins(%xp, %w : ...) outs(%z : ...)
    // becomes
    %e2 = tensor.empty() : tensor<1x16x56x56xf32>
    %y = linalg.generic {...} ins(%xp, %w : ...) outs(%e2 : ...)
           {qopt_conv_zero_init}
    ```
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def FuseConvUKernels : Pass<"qopt-fuse-conv-ukernels", "ModuleOp"> {
  let summary = "Fuse a convolution's padding, bias and activation into one "
                "runtime kernel call";
  let description = [{
    The importer spells Conv as a `tensor.pad` of the input, the convolution
    generic, a generic adding the bias and the activation as another
    generic: four passes over feature maps through memory (the pad a zero
    fill plus a copy) around one kernel. This pass replaces each
    convolution that `qopt-prepare-conv-ukernels` marked
    `qopt_conv_zero_init` (on tensors, before elementwise fusion) by a call
    to `qrt_uk_conv2d_f32_fused` with, when present:
    - the unpadded input, when it is a `tensor.pad` of constant zero that
      pads only the spatial dimensions (static amounts; the kernel reads 0
      outside the input);
    - the bias, when the convolution's only user adds a 1-D tensor along the
      channel dimension to it;
    - the activation, when the next op is the only user and is ReLU
      (`maximumf(x, 0)`), Clip (`minimumf(maximumf(x, lo), hi)`),
      HardSigmoid (`clamp(x * a + b, 0, 1)`) or HardSwish (`x * clamp(x * a
      + b, 0, 1)`) with constant parameters, as the importer spells them.
    The kernel applies bias and activation to each output block while it is
    in cache. As `qopt-fuse-attention` does, the call takes read-only
    `bufferization.to_buffer` views of its operands (identity layout, so
    bufferization copies a strided one) and writes a fresh `memref.alloc`
    imported with `to_tensor restrict writable`.

    ```mlir
    %xp = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] { yield %zero }
    %c = linalg.generic {...} ins(%xp, %w) outs(%e) {qopt_conv_zero_init}
    %b = linalg.generic {...} ins(%bias) outs(%c) { addf }
    %y = linalg.generic {...} ins(%b) outs(%e2) { maximumf(%in, 0) }
    // becomes
    %out = memref.alloc() {alignment = 64 : i64} : memref<1x16x56x56xf32>
    call @qrt_uk_conv2d_f32_fused(..., %pt, %pl, %groups, %xptr, %wptr,
        %biasptr, %relu, %alpha, %beta, %outptr, %flags)
    %y = bufferization.to_tensor %out restrict writable
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FuseElementwise : Pass<"qopt-fuse-elementwise", "func::FuncOp"> {
  let summary = "Fuse elementwise linalg chains into their consumers";
  let description = [{
    Upstream elementwise fusion (`linalg-fuse-elementwise-ops`) with one
    difference: nothing is fused into an op that `qopt-lower-to-ukernels`
    will hand to a micro-kernel, since a fused body is no longer a plain
    multiply-add and would fall back to loops, and the marked ops of the
    int8 kernels (`qopt_s8_gemm`, `qopt_s8_quantize_rows`) are not fused
    into their consumers either: the lowering replaces them as a group. The
    producers then fuse with their other consumers, or stay as one
    vectorized elementwise op.

    Fusion never changes values. Upstream keeps a producer's result as an
    extra output of the fused op when the producer's payload reads its
    `outs` (an in-place update, such as a bias added into a convolution's
    result); the fused op writes that output at every iteration of the
    consumer, so the update would be applied once per iteration that maps
    to the element. Such a producer therefore fuses only into consumers
    that read it through a permutation map and have no reduction loops, so
    that every element is visited once.

    ```mlir
    %a = linalg.generic {iterator_types = ["parallel"]} ins(%x) outs(%e) {
      ^bb0(%in: f32, %out: f32):
        %0 = arith.mulf %in, %in : f32
        linalg.yield %0 : f32 } -> tensor<8xf32>
    %b = linalg.generic {iterator_types = ["parallel"]} ins(%a) outs(%e) {
      ^bb0(%in: f32, %out: f32):
        %0 = math.exp %in : f32
        linalg.yield %0 : f32 } -> tensor<8xf32>
    // becomes one linalg.generic computing exp(x * x)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def PrepareWeightOnlyUKernels
    : Pass<"qopt-prepare-weight-only-ukernels", "func::FuncOp"> {
  let summary = "Rewrite low-bit weight-only linear layers into fused "
                "contractions that a ukernel can take";
  let description = [{
    Rewrites each `qopt.weight_only_linear` with f32 activations, int8, int4
    or int3 storage (signed or unsigned), `per_channel` or `per_group` scales and
    no act-order into one `linalg.generic` that reads the packed bytes,
    unpacks and dequantizes each weight in registers and multiply-adds it, so
    the full-precision weight never exists in memory. The generic carries a
    `qopt_wo_gemm` attribute (bits, signedness, group size) by which
    `qopt-lower-to-ukernels` hands it, after bufferization, to the runtime's
    `qrt_uk_wo_gemm`; left alone it still computes the right result as a
    loop nest. Zero points and f16 scales are converted to f32 first (small
    `[N, K / G]` tensors). An int3 weight's field can straddle two bytes: the
    map reads the byte of its first bit and the body the next one. Other
    weight-only layers (int2, act-order, fp8) stay for
    `qopt-expand-quant-ops`.

    ```mlir
    %y = qopt.weight_only_linear %x, %w scale(%s : tensor<256x4xf32>)
           scheme <storage = i4, granularity = per_group, axis = 1,
                   group_size = 128>
           : tensor<?x512xf32>, tensor<256x256xi8> -> tensor<?x256xf32>
    // becomes
    %y = linalg.generic {indexing_maps = [(m, n, k) -> (m, k),
                                          (m, n, k) -> (n, k floordiv 2),
                                          (m, n, k) -> (n, k floordiv 128),
                                          (m, n, k) -> (m, n)], ...}
           ins(%x, %w, %s ...) outs(%zero ...) attrs = {qopt_wo_gemm = {
             bits = 4, group_size = 128, signed = true}} { ... }
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def PrepareW8A8UKernels
    : Pass<"qopt-prepare-w8a8-ukernels", "func::FuncOp"> {
  let summary = "Expand int8 linear layers and dynamic quantization into "
                "marked linalg ops that the int8 ukernels take";
  let description = [{
    W8A8 layers run on the runtime's int8 kernels (`qrt_uk_s8_*`,
    qopt/Runtime/UKernels.h). This pass expands the ops those kernels
    implement with their reference expansion (that of
    `qopt-expand-quant-ops`, so the loops compute exactly the reference's
    values) and marks the linalg ops, by which `qopt-lower-to-ukernels`
    replaces them with kernel calls after bufferization. Fusion, tiling and
    vectorization leave marked ops alone; whatever the lowering does not
    take runs as loops.

    * `qopt.quantized_linear` with signed int8 inputs and weights, both
      symmetric, `per_token` or `per_tensor` input scales, a constant
      `[N, K]` weight with `per_channel` (axis 0) or constant `per_tensor`
      scales (broadcast to `[N]` here), f32 scales, bias and result: the
      integer contraction is marked `qopt_s8_gemm = "product"` and the
      rescale `qopt_s8_gemm = "rescale"`; together they become one call of
      `qrt_uk_s8_gemm`, with the weight packed at compile time by the
      lowering.
    * `qopt.dynamic_quantize` of f32 values to `i8` per token: its three
      generics are marked `qopt_s8_quantize_rows = "absmax"`, `"scales"` and
      `"values"`; together they become a call of `qrt_uk_quantize_rows_s8`,
      which computes the same bits.
    * `qopt.dynamic_quantize` of f32 values to `i8` per tensor (the input of
      a W8A8 convolution) is first rewritten as the per-token one of the
      tensor collapsed to one row (`tensor.collapse_shape`, then
      `tensor.expand_shape` of the values): the same max |x|, scale and
      values, so it takes the path above instead of a serial reduction over
      the whole tensor.

    Everything else (zero points, other storage, per-group scales, weights
    computed at run time) is left for `qopt-expand-quant-ops`.

    ```mlir
    %q, %s = qopt.dynamic_quantize %x scheme <storage = i8,
               granularity = per_token, narrow_range = true>
               : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
    %y = qopt.quantized_linear %q, %w input_scale(%s : tensor<?xf32>)
           weight_scale(%ws : tensor<32xf32>) schemes(...)
           : tensor<?x64xi8>, tensor<32x64xi8> -> tensor<?x32xf32>
    // becomes
    %amax = linalg.generic {..., qopt_s8_quantize_rows = "absmax"} ...
    %s:2 = linalg.generic {..., qopt_s8_quantize_rows = "scales"} ...
    %q = linalg.generic {..., qopt_s8_quantize_rows = "values"} ...
    %acc = linalg.generic {..., qopt_s8_gemm = "product"}
             ins(%q, %w : tensor<?x64xi8>, tensor<32x64xi8>) ...
    %y = linalg.generic {..., qopt_s8_gemm = "rescale"}
           ins(%acc, %s#0, %ws : ...) ...
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def RaiseSoftmax : Pass<"qopt-raise-softmax", "func::FuncOp"> {
  let summary = "Recognize softmax along the last dimension as linalg.softmax";
  let description = [{
    Finds the chain in which the importer (and most frontends) spell a
    softmax along the last dimension of an f32 tensor, five linalg ops and
    five passes over the tensor:

    ```mlir
    %max = linalg.generic {reduction over d3, max from -inf} ins(%x) ...
    %sub = linalg.generic {elementwise subf} ins(%x, %max) ...
    %exp = linalg.generic {elementwise math.exp} ins(%sub) ...
    %sum = linalg.generic {reduction over d3, addf from 0} ins(%exp) ...
    %y   = linalg.generic {elementwise divf} ins(%exp, %sum) ...
    // becomes
    %y = linalg.softmax dimension(3) ins(%x : tensor<?x8x?x?xf32>)
           outs(%init : tensor<?x8x?x?xf32>) -> tensor<?x8x?x?xf32>
    ```

    The per-row tensors may keep the reduced dimension (`[..., 1]`) or drop
    it; `arith.maximumf` and `arith.maxnumf` are both accepted (they differ
    only for NaN, which makes the row NaN either way). Intermediates that
    have other users stay. `qopt-lower-to-ukernels` turns the result into a
    call to the runtime's `qrt_uk_softmax`, which makes one pass per row with
    the row in L1, so the pass belongs in pipelines that run it.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def FuseAttention : Pass<"qopt-fuse-attention", "ModuleOp"> {
  let summary = "Replace scaled dot-product attention by a call to the "
                "runtime's fused attention kernel";
  let description = [{
    Finds attention on f32 tensors as frontends spell it (after
    `qopt-raise-softmax`):

    ```mlir
    %s = linalg.generic {batch matmul [b, h, i, d] x [b, h, d, j]}
           ins(%q, %kt) outs(zero fill)      // or K read as [b, h, j, d]
    %y = linalg.generic {mulf or divf by a scalar constant} ins(%s, %c)
    %x = linalg.generic {addf} ins(%y, %mask)   // mask map may broadcast
    %p = linalg.softmax dimension(3) ins(%x)
    %o = linalg.generic {batch matmul [b, h, i, j] x [b, h, j, e]}
           ins(%p, %v) outs(zero fill)
    ```

    (the scale and the mask are optional) and replaces it by one call to
    `qrt_uk_attention_f32`, which never materializes the [B, H, Sq, Skv]
    scores and skips key blocks the mask hides (causal attention: about half
    the work). Operands are passed as pointers and strides
    (`bufferization.to_buffer` read-only views, so bufferization decides
    their layout; the output is a fresh `memref.alloc` imported with
    `bufferization.to_tensor restrict writable`), which lets the call look
    through the copies around attention: `linalg.transpose` of K (read as
    K^T), the grouped-query head broadcast of K and V (`expand_shape` ->
    broadcast generic -> `collapse_shape`, read with head h / G) and a
    `[0, 2, 1, 3]` transpose of the output (written in place). The mask is
    read with its own strides, 0 where it broadcasts. Intermediates with
    other users block the fusion (the scores would be materialized anyway).
    Runs on the module: it declares the kernel.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TileAndVectorize : Pass<"qopt-tile-and-vectorize", "func::FuncOp"> {
  let summary = "Tile linalg ops to vector-sized tiles and vectorize them";
  let description = [{
    Tiles every linalg op on tensors except micro-kernel contractions so that
    the innermost loop dimension is split into tiles of `vector-width`
    elements and all other dimensions into tiles of 1, then vectorizes each
    tile with `linalg::vectorize`. Dynamic dimensions and partial tiles use
    masked vectors, so one loop nest serves every shape; static sizes that
    divide the vector width need no masks. Where the width may not divide
    the innermost extent, the loop over it is peeled: full tiles up to the
    last multiple of the width, whose masks fold to all-true (masked loads
    and stores are slow, microcoded stores on AMD), then one masked partial
    tile. Ops the vectorizer does not
    handle (gathers through `tensor.extract` with computed indices, for
    instance) stay tiled and become scalar loops later.

    ```mlir
    %r = linalg.generic {indexing_maps = [#id, #id],
                         iterator_types = ["parallel", "parallel"]}
           ins(%x : tensor<?x64xf32>) outs(%e : tensor<?x64xf32>) {...}
    // becomes, with vector-width=16
    scf.for %i = %c0 to %d step %c1 iter_args(...) {
      scf.for %j = %c0 to %c64 step %c16 iter_args(...) {
        %v = vector.transfer_read ... : tensor<1x16xf32>, vector<1x16xf32>
        ...
        vector.transfer_write ...
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "Elements of f32 per vector register (8 for AVX2, 16 for "
           "AVX-512)">
  ];
}

def LowerToUKernels : Pass<"qopt-lower-to-ukernels", "ModuleOp"> {
  let summary = "Lower f32 matmul-like contractions on buffers to ukernel "
                "calls";
  let description = [{
    Rewrites every f32 `linalg` contraction on memrefs with one reduction
    dimension, one `n` dimension and any number of `m` and batch dimensions
    (plain, transposed and batched matmuls, linear layers on `[B, S, K]`
    inputs, matrix-vector products) into loops over the batch and outer `m`
    dimensions around a call to the runtime's `qrt_uk_sgemm` micro-kernel,
    passing pointers and strides.
    Operands in any strided layout are accepted.

    When the `B` operand is a constant global of shape `[K, N]` or `[N, K]`,
    the weights are repacked at compile time into the micro-kernel's panel
    layout (panels of 16 columns, `Bp[((n / 16) * K + k) * 16 + n % 16]`)
    and the call goes to `qrt_uk_sgemm_packed`: the artifact holds them
    once, already in the order the kernel streams them.

    ```mlir
    linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                     affine_map<(m, n, k) -> (n, k)>,
                                     affine_map<(m, n, k) -> (m, n)>], ...}
        ins(%x, %w : memref<?x64xf32>, memref<128x64xf32>)
        outs(%y : memref<?x128xf32>) { mulf, addf }
    // becomes
    func.call @qrt_uk_sgemm_packed(%m, %c128, %c64, %xp, %c64, %c1, %wp,
                                   %yp, %c128, %c1, %flags) : ...
    ```

    `linalg.softmax` along the last dimension becomes loops over all but the
    last two dimensions around a call to `qrt_uk_softmax` (rows, columns,
    pointers and strides of input and output).

    The loops around kernel calls (batch and leading dimensions) are marked
    `qopt_parallel`: every iteration writes its own slice of the output, so
    `qopt-outline-parallel-loops` can run whole calls on threads.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
  let options = [
    Option<"packConstantWeights", "pack-constant-weights", "bool",
           /*default=*/"true",
           "Repack constant B operands into the micro-kernel's layout at "
           "compile time">
  ];
}

def OutlineParallelLoops : Pass<"qopt-outline-parallel-loops", "ModuleOp"> {
  let summary = "Move bands of parallel loops into functions of an "
                "iteration range";
  let description = [{
    Takes every outermost `scf.for` marked `qopt_parallel` (by
    `qopt-tile-and-vectorize`: it iterates over a parallel dimension, so its
    iterations write disjoint tiles) together with the marked loops
    perfectly nested in it whose bounds do not depend on the band. All loops
    of the band but the innermost (all of them when the band wraps calls,
    as around ukernels) are collapsed into one linear range; their
    body, with the innermost loop, moves into a new private function
    `@<func>_parallel(%begin: index, %end: index, captured...)` that runs
    iterations `[begin, end)` of that range, and the band becomes one call
    over the whole range. The function carries `qopt_parallel_body`, the
    smallest number of iterations worth giving a thread, from a rough count
    of the operations one iteration runs (a call counts as a whole chunk).

    ```mlir
    scf.for %i = %c0 to %n step %c1 {
      scf.for %j = %c0 to %m step %c8 { ... } {qopt_parallel}
    } {qopt_parallel}
    // becomes
    func.call @f_parallel(%c0, %trips, ...) : (index, index, ...) -> ()
    func.func private @f_parallel(%begin: index, %end: index, ...)
        attributes {qopt_parallel_body = 64 : i64} {
      scf.for %k = %begin to %end step %c1 {
        %i = ... (from %k)
        scf.for %j = %c0 to %m step %c8 { ... }
      }
      return
    }
    ```

    The result is correct on its own (one call runs the whole range);
    `qopt-lower-parallel-calls` makes the call parallel after lowering to
    LLVM.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect"];
}

def LowerParallelCalls : Pass<"qopt-lower-parallel-calls", "ModuleOp"> {
  let summary = "Run calls of outlined parallel bodies on the runtime's "
                "thread pool";
  let description = [{
    On the LLVM dialect, after `qopt-outline-parallel-loops` and the
    conversion to LLVM. For every function marked `qopt_parallel_body` it
    adds a task `@<body>_task(ptr ctx, i64 begin, i64 end)` that loads the
    captured values from `ctx` and calls the body, and rewrites each call of
    the body (outside other bodies) into stores of the captured values to a
    stack struct and a call to the runtime's
    `qrt_parallel_for(begin, end, grain, @<body>_task, ctx)`.

    ```mlir
    llvm.call @f_parallel(%c0, %n, %ptr, %len) : (i64, i64, !llvm.ptr, i64) -> ()
    // becomes
    %ctx = llvm.alloca %c1 x !llvm.struct<(ptr, i64)> : (i64) -> !llvm.ptr
    llvm.store %ptr, ... ; llvm.store %len, ...
    llvm.call @qrt_parallel_for(%c0, %n, %grain, %task, %ctx)
        : (i64, i64, i64, !llvm.ptr, !llvm.ptr) -> ()
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def InsertShapeChecks : Pass<"qopt-insert-shape-checks", "func::FuncOp"> {
  let summary = "Check at run time the shape contracts that involve dynamic "
                "sizes";
  let description = [{
    A model compiled with symbolic dimensions runs at shapes nobody checked
    at compile time. Linalg and tensor ops carry contracts between their
    operands' sizes that the verifiers only check where sizes are static;
    broken at run time, they read and write out of bounds. For every op on
    tensors outside a loop body this pass writes, before the op, one
    `qopt.check` of the contracts that involve a dynamic size:

    - linalg ops: every operand dimension indexed by the same loop has the
      same size (elementwise broadcasting, a contraction's K), and a
      compound index (a convolution window, a broadcast `0`) evaluated at the
      last iteration is inside its operand, unless some loop is empty;
    - `tensor.expand_shape` and `tensor.reshape`: the element count is kept;
    - `tensor.cast`: a dynamic size cast to a static one has that size;
    - `tensor.concat`: inputs agree outside the concatenated dimension;
    - `tensor.extract_slice` / `insert_slice`: the slice is inside its
      tensor; `tensor.extract`: the index is in bounds.

    The message names the ONNX node (from the op's `NameLoc`) and shows the
    operands' shapes with their run-time sizes. Checks whose conditions fold
    to true disappear in canonicalization, so fully static models carry
    none. Reads inside loop bodies depend on the data and are not checked
    here: the importer checks gather indices before the gather.

    Example:

    ```mlir
    %r = linalg.generic {indexing_maps = [#id, #id, #id], ...}
        ins(%x, %y : tensor<?x4xf32>, tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) {...}
    // gets, before it:
    %n = tensor.dim %x, %c0 : tensor<?x4xf32>
    %m = tensor.dim %y, %c0 : tensor<?x4xf32>
    %same = arith.cmpi eq, %n, %m : index
    qopt.check %same, "node 'add_1': operands of shapes [{0}, 4] and [{1}, 4] do not fit together: ..." (%n, %m : index, index)
    ```
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LowerRuntimeChecks : Pass<"qopt-lower-runtime-checks", "ModuleOp"> {
  let summary = "Lower qopt.check to a branch that ends the run";
  let description = [{
    Runs after bufferization and `convert-scf-to-cf`, where functions are
    in control-flow form. Every `qopt.check` splits its block: when the
    condition holds, control falls through; otherwise a new block stores the
    check's values to a stack array and calls libqrt's
    `qrt_check_failed(message, count, values)`, which does not return (the
    run ends with `QRT_ERROR_CHECK` and the formatted message).

    With `runtime=false`, for code that runs without libqrt (the reference
    path under `mlir-runner`), a check becomes `cf.assert` with its message,
    each `{N}` shown as `?`: the process aborts with the message.

    ```mlir
    qopt.check %ok, "node 'add_1' (Add): shapes [{0}, 4] and [{1}, 4] do not broadcast" (%n, %m : index, index)
    // becomes
    cf.cond_br %ok, ^continue, ^failed
    ^failed:
      %values = llvm.alloca %c2 x i64 : (i64) -> !llvm.ptr
      llvm.store ... ; (each value as i64)
      llvm.call @qrt_check_failed(%message, %c2, %values)
          : (!llvm.ptr, i64, !llvm.ptr) -> ()
      llvm.unreachable
    ^continue:
    ```
  }];
  let options = [
    Option<"runtime", "runtime", "bool", /*default=*/"true",
           "Call libqrt's qrt_check_failed (false: cf.assert, which aborts)">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::cf::ControlFlowDialect"];
}

def LowerObserve : Pass<"qopt-lower-observe", "ModuleOp"> {
  let summary = "Lower qopt.observe to calls that record calibration statistics";
  let description = [{
    Turns a calibration build's observation points into calls of libqrt's
    `qrt_observe(point, rank, descriptor)` (qopt/Runtime/UKernels.h), which
    accumulates the statistics of the point in the running session. Runs
    first in `qopt-cpu-codegen`, on tensors: each `qopt.observe` becomes a
    read-only `bufferization.to_buffer` of its input (with a fully dynamic
    layout, so bufferization never copies for it), a cast to an unranked
    memref and the call; its result is replaced by its input. Observing
    before fusion, tiling and outlining means that every call sees the whole
    tensor the op saw, once per run, on the thread that runs the model,
    never inside a parallel body; the call's side effect keeps
    canonicalization and CSE from moving or dropping it.

    Points are numbered in walk order; the module gets a
    `qopt.observe_points` attribute, one dictionary per point (`name`,
    `kind`, `axis` (-1: none), `channels` (-1: dynamic), `bins`,
    `percentile`), from which `qopt-compile` writes the artifact's table of
    observation points (`qart_observe_point`). Points must observe f32
    values and have unique (name, observer kind) pairs.

    ```mlir
    %y = qopt.observe %x name "fc1:input" observer <kind = min_max>
           : tensor<?x64xf32>
    // becomes
    %m = bufferization.to_buffer %x read_only
           : tensor<?x64xf32> to memref<?x64xf32, strided<[?, ?], offset: ?>>
    %u = memref.cast %m : memref<?x64xf32, strided<[?, ?], offset: ?>>
           to memref<*xf32>
    %c0 = arith.constant 0 : i64
    func.call @qrt_observe(%c0, %u) : (i64, memref<*xf32>) -> ()
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def ExpandFloat8Casts : Pass<"qopt-expand-float8-casts", "ModuleOp"> {
  let summary = "Lower conversions to and from ONNX's float8 types to integer "
                "bit manipulation";
  let description = [{
    LLVM has no 8-bit float types: the LLVM type converter stores
    `f8E4M3FN`, `f8E4M3FNUZ`, `f8E5M2` and `f8E5M2FNUZ` values as `i8`, but
    nothing lowers `arith.truncf` to them or `arith.extf` from them. This
    pass first lets upstream's float emulation
    (`populateEmulateUnsupportedFloatsPatterns`) rewrite every other arith
    op on those types (compare, select, int <-> float, arithmetic) into f32
    between an `arith.extf` and an `arith.truncf`, then expands the casts,
    on scalars and vectors alike, into i32 arithmetic and an `arith.bitcast`
    between `i8` and the float8 type (which the LLVM lowering drops).
    Upstream's `arith-expand` has such expansions for bf16, f4E2M1 and
    f8E8M0 only.

    `arith.truncf` (from f32; f16 and bf16 are widened exactly, f64 is
    rounded to f32 first, a double rounding) has IEEE semantics:

    * round to nearest, ties to even, in the normal range (the f32 exponent
      is rebiased, then the 23 - M dropped mantissa bits rounded with the
      `+ (half - 1) + lsb` trick, whose carry may bump the exponent) and
      below it (the mantissa with its implicit bit is shifted right by the
      distance to the smallest subnormal, at most 31, rounded the same way;
      a carry makes the smallest normal);
    * a magnitude that rounds above the largest finite value, and infinity,
      become infinity for f8E5M2 and NaN for the others (they have none);
      NaN stays NaN (sign and all-ones for the FN types, 0x80 for FNUZ);
    * FNUZ types have no -0: a negative value that rounds to zero is +0.

    This is ONNX's `Cast(saturate=0)`; the importer implements
    `saturate=1` by clamping to the largest finite value before the cast.
    `arith.extf` is exact: the exponent rebiased for normal values, the
    subnormal mantissa converted to f32 and scaled, the special encodings
    (0x7F/0xFF in f8E4M3FN, exponent all ones in f8E5M2, 0x80 in FNUZ
    types) to infinity or NaN. Float8 constants are left alone: LLVM IR
    translation writes them as their i8 bits.

    ```mlir
    %y = arith.truncf %x : vector<16xf32> to vector<16xf8E4M3FN>
    // becomes
    %b = arith.bitcast %x : vector<16xf32> to vector<16xi32>
    ... (andi, shrui, subi, addi, select, cmpi on vector<16xi32>)
    %t = arith.trunci %r : vector<16xi32> to vector<16xi8>
    %y = arith.bitcast %t : vector<16xi8> to vector<16xf8E4M3FN>
    ```

    A cast with a rounding mode other than to-nearest-even, and one
    involving another 8-bit float type, is reported with its location.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

def ExpandDynamicExpandShape : Pass<"qopt-expand-dynamic-expand-shape",
                                    "func::FuncOp"> {
  let summary = "Spell memref.expand_shape with several dynamic sizes in one "
                "group as a reinterpret_cast";
  let description = [{
    Upstream `expand-strided-metadata` computes the one dynamic size of each
    reassociation group from the source size; a group with two or more
    dynamic sizes (as in splitting `[B*S, 64]` back into `[B, S, 64]` when
    both B and S are symbolic) trips an assertion there, or crashes a
    release build. The sizes are known, though: they are the op's
    `output_shape`. This pass rewrites such an op into the metadata of its
    source and a `memref.reinterpret_cast` with those sizes and with strides
    built from the source stride of each group, innermost first. Other
    expand_shape ops are left to `expand-strided-metadata`. Run it before
    that pass.

    ```mlir
    %e = memref.expand_shape %m [[0, 1], [2]] output_shape [%b, %s, 64]
        : memref<?x64xf32> into memref<?x?x64xf32>
    // becomes
    %base, %off, %sz:2, %st:2 = memref.extract_strided_metadata %m
        : memref<?x64xf32> -> memref<f32>, index, index, index, index, index
    %st0 = arith.muli %s, %c64 : index
    %e = memref.reinterpret_cast %base to offset: [0],
        sizes: [%b, %s, 64], strides: [%st0, 64, 1]
        : memref<f32> to memref<?x?x64xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LowerVector : Pass<"qopt-lower-vector", "func::FuncOp"> {
  let summary = "Lower n-D and masked vector ops to 1-D vector ops for LLVM";
  let description = [{
    Prepares the output of `qopt-tile-and-vectorize` for
    `convert-vector-to-llvm`: drops unit dimensions so that tiles of
    `1 x ... x 1 x W` become `W`-element vectors, lowers
    `vector.multi_reduction`, masks, broadcasts, transposes and transfers to
    loads, stores and 1-D arithmetic that map onto AVX2/AVX-512 registers.
    `math.exp` becomes a polynomial approximation in registers (LLVM would
    scalarize it into libm calls).

    ```mlir
    %v = vector.transfer_read %m[%i, %j], %pad {in_bounds = [true, true]}
           : memref<?x64xf32>, vector<1x16xf32>
    // becomes
    %v = vector.load %m[%i, %j] : memref<?x64xf32>, vector<16xf32>
    ```
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

#endif // QOPT_CODEGEN_PASSES_TD
