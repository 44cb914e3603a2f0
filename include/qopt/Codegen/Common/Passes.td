//===- Passes.td - qopt common code generation passes ------*- tablegen -*-===//
//
// Code generation passes that are not tied to one backend: the CPU
// (`qopt-cpu-codegen`) and CUDA (`qopt-cuda-codegen`) pipelines both run
// them, or they rewrite upstream dialects in a way any backend could use
// (run-time checks, calibration observation points, math approximations,
// fusion, raising softmax). Backend-specific passes live in
// Codegen/CPU (`qopt-cpu-*`) and Codegen/GPU (`qopt-gpu-*`).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CODEGEN_COMMON_PASSES_TD
#define QOPT_CODEGEN_COMMON_PASSES_TD

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

def FuseElementwise : Pass<"qopt-fuse-elementwise", "func::FuncOp"> {
  let summary = "Fuse elementwise linalg chains into their consumers";
  let description = [{
    Upstream elementwise fusion (`linalg-fuse-elementwise-ops`) with one
    difference: nothing is fused into an op that `qopt-cpu-lower-to-ukernels`
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
    have other users stay. `qopt-cpu-lower-to-ukernels` turns the result into a
    call to the runtime's `qrt_uk_softmax`, which makes one pass per row with
    the row in L1, so the pass belongs in pipelines that run it.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
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

#endif // QOPT_CODEGEN_COMMON_PASSES_TD
