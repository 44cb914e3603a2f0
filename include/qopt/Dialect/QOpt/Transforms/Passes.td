//===- Passes.td - qopt dialect passes ---------------------*- tablegen -*-===//

#ifndef QOPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
#define QOPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ExpandQuantOps : Pass<"qopt-expand-quant-ops"> {
  let summary = "Lower qopt casts and quantized compute to linalg/arith";
  let description = [{
    Rewrites every `qopt` compute op into `linalg.generic`s over tensors with
    `arith`/`math` bodies, so that quantized IR can always be compiled and
    run, even for ops no fused kernel handles yet:

    * `qopt.quantize` / `qopt.dequantize`: elementwise, with the scale and
      zero point read through an indexing map that realises the granularity
      (`per_group` divides the grouped index; `act_order` gathers the group
      with `tensor.extract`);
    * `qopt.dynamic_quantize`: a reduction to `max |x|` per row (or for the
      whole tensor), the scales and reciprocals from it, and an elementwise
      quantization by the reciprocal;
    * `qopt.pack` / `qopt.unpack`: bit-stream shifts and masks;
    * `qopt.smooth`: an elementwise division broadcast along the last
      dimension;
    * `qopt.permute`: a gather along the last dimension (`tensor.extract`
      at the index a constant permutation gives);
    * `qopt.linear`: a contraction (plus the bias);
    * `qopt.weight_only_linear`: unpack + dequantize + a contraction;
    * `qopt.quantized_linear`: an integer (or fp8) contraction accumulating
      in i32 (f32) followed by one rescale.

    `qopt.observe` is left alone: removing calibration points is the job of
    the quantization passes that consume their statistics.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"
  ];
  let options = [
    Option<"expandLinear", "expand-linear", "bool", /*default=*/"true",
           "Also decompose qopt.linear, qopt.weight_only_linear and "
           "qopt.quantized_linear "
           "(off: keep them for a backend with fused kernels)">
  ];
}

def ConvertQuantCasts : Pass<"qopt-convert-quant-casts"> {
  let summary = "Rewrite upstream quant.qcast/dcast into qopt casts";
  let description = [{
    Rewrites `quant.qcast` / `quant.dcast` on ranked tensors of per-tensor and
    per-axis `!quant.uniform` types into `qopt.quantize` / `qopt.dequantize`
    with the type's scales and zero points as constants, bridging to the
    `!quant.uniform` tensor type with `quant.scast`:

    ```mlir
    %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5:1>>
    // becomes
    %i = qopt.quantize %x scale(%c0_5 : tensor<f32>) zero_point(%c1 : tensor<i8>)
           scheme <storage = i8, granularity = per_tensor, symmetric = false>
           : tensor<4xf32> -> tensor<4xi8>
    %q = quant.scast %i : tensor<4xi8> to tensor<4x!quant.uniform<i8:f32, 0.5:1>>
    ```

    Two reasons. The quantization semantics (rounding, clamping) then live in
    one place, `qopt-expand-quant-ops`. And upstream's `lower-quant-ops`
    lowers through the dialect conversion driver, which first folds
    `quant.dcast(quant.qcast(x))` to `x`: the quantization error a user asked
    to measure would silently vanish. qopt casts keep it.

    Types qopt cannot express exactly (custom storage ranges, sub-channel
    types) are left for upstream's lowering.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::qopt::QOptDialect",
    "::mlir::quant::QuantDialect"
  ];
}

// The options every weight quantizer takes (qopt-quantize-weights-rtn,
// qopt-quantize-weights-gptq), parsed by qopt::WeightQuantizerSettings
// (Utils/WeightQuantization.h).
defvar WeightQuantizerOptions = [
  Option<"bits", "bits", "int64_t", /*default=*/"4",
         "Bits per weight: 8, 4, 3 (or 2, for deliberately broken "
         "candidates)">,
  Option<"symmetric", "symmetric", "bool", /*default=*/"true",
         "Symmetric signed storage without zero points (off: unsigned "
         "storage with zero points)">,
  Option<"granularity", "granularity", "std::string",
         /*default=*/"\"per-group\"",
         "One scale per 'per-channel' (output channel), 'per-group' "
         "(group-size input channels of an output channel) or "
         "'per-tensor'">,
  Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
         "Input channels per group for per-group (usually 32, 64 or 128)">,
  Option<"clipSearch", "clip-search", "bool", /*default=*/"false",
         "Per block, search the clipped range of least quantization error "
         "(|error|^2.4 over the ranges p * [min, max], p = 1, 0.99 .. 0.21) "
         "instead of taking min/max">,
  Option<"quantizeHead", "quantize-head", "bool", /*default=*/"false",
         "Quantize the output head too (a last linear layer, whose result "
         "reaches a return through shape-only and elementwise ops with no "
         "further linear layer, or one named *lm_head*)">,
  ListOption<"overrides", "overrides", "std::string",
             "Per-layer settings GLOB=SPEC, first match wins: GLOB matches "
             "the ONNX node name, SPEC is 'fp' or e.g. 'int8', 'int4-g64', "
             "'int4-pc', 'int3-g128-asym'">,
  Option<"resourceThreshold", "resource-threshold", "int64_t",
         /*default=*/"1024",
         "New constants of at least this many bytes become dense_resource "
         "blobs">
];

def QuantizeWeightsRTN : Pass<"qopt-quantize-weights-rtn"> {
  let summary = "Round-to-nearest weight-only quantization of linear layers";
  let description = [{
    Rewrites every `qopt.linear` whose weight is a constant f32 tensor
    (`dense` or `dense_resource`) into a `qopt.weight_only_linear`, computing
    the quantized weight, its scales and its zero points at compile time with
    the rounding of `qopt.quantize` (`qopt-expand-quant-ops` is the
    reference): `q = clamp(round_half_even(w / s) + z, qmin, qmax)`, in f32.

    Parameters, for every output channel (`per-channel`), every group of
    `group-size` consecutive input channels of an output channel
    (`per-group`), or the whole weight (`per-tensor`):

    * symmetric (`symmetric=true`, the default): signed storage, narrow
      range (`narrow_range = true`: `[-qmax, qmax]` with
      `qmax = 2^(bits-1) - 1`), `s = max|w| / qmax`, no zero point;
    * asymmetric: unsigned storage `[0, 2^bits - 1]`, the range first
      widened to contain 0 (`lo = min(min w, 0)`, `hi = max(max w, 0)`),
      `s = (hi - lo) / (2^bits - 1)`,
      `z = clamp(round_half_even(-lo / s), 0, 2^bits - 1)`.

    A range of zero (all weights 0) gets `s = 1` (and `z = 0`), so every
    value quantizes to exactly 0.

    `clip-search=true` (the `mse` option of the GPTQ authors' quantizer;
    `searchGridParams`, WeightQuantization.h): each block's range is not
    its min/max but the shrunk range `p * [lo, hi]`, `p = 1 - i / 100` for
    `i = 0 .. 79`, whose grid gives the least `sum |w - dequant(quant(w))|^2.4`
    over the block (the first on ties, so `p = 1` unless clipping helps).
    Clipping the few largest weights of a block buys a finer step for all
    others; it costs 80 trial roundings per block at compile time.

    The weight is stored as `qopt.weight_only_linear` wants it: logical
    `[N, K]` (a `[K, N]` weight is transposed at compile time), and for fewer
    than 8 bits packed as `qopt.pack` lays it out (`[N, K * bits / 8] x i8`,
    a little-endian bit stream per row); the packed bytes are a constant, no
    `qopt.pack` runs at run time. Scales are f32 (`[N]`, `[N, K / G]` or
    rank 0), zero points of the storage type with the scale's shape.
    Constants of at least `resource-threshold` bytes become `dense_resource`
    blobs named `rtn.<layer>.{weight,scale,zero_point}`; smaller ones, and
    zero points narrower than 8 bits (blobs have no sub-byte layout), stay
    inline. A weight shared by several layers is quantized once per
    setting. The original f32 weight is erased once nothing else uses it.

    Which layers, in order of precedence:

    1. ops with the `qopt.keep_full_precision` attribute stay as they are;
    2. the first `overrides` entry `GLOB=SPEC` whose glob
       (`llvm::GlobPattern`) matches the layer's name (the ONNX node name,
       i.e. the first `NameLoc` of its location) decides: `SPEC` is `fp`
       (stay f32) or `int<bits>[-g<G>|-pc|-pt][-sym|-asym][-clip|-noclip]`,
       e.g. `int8`, `int4-g64`, `int4-pc`, `int3-g128-asym-clip`; what a
       spec leaves out comes from the pass options;
    3. the output head stays f32 unless `quantize-head`. The rule
       (`isOutputHead`, LinearLayers.h), the same for every pass: a layer
       whose name contains `lm_head`, or a *last* linear layer, one whose
       result reaches a function return through shape-only ops
       (`tensor.expand_shape`, `collapse_shape`, `reshape`, `cast`,
       `extract_slice`, `linalg.transpose`, `linalg.broadcast`) and
       elementwise ops (an all-parallel `linalg.generic`, as the importer
       spells Add, activations and Softmax/LogSoftmax; `linalg.softmax`),
       and from whose result no other linear layer can be reached through
       any ops. So a classifier head behind Add -> Softmax stays f32, while
       a layer feeding the residual stream of the next block, which may
       also reach the output through Adds, does not count;
    4. every other layer is quantized with the pass options.

    Embeddings are gathers, not `qopt.linear`, so they always stay f32 (a
    tied LM head keeps its f32 embedding table). The pass reports what it
    did: a remark per layer (`rtn: quantized 'fc1' as int4 g128`, or
    `rtn: left 'head' fp32: output head (quantize-head=false)`, `override
    'fp'`, `qopt.keep_full_precision`, `the weight is not a constant f32
    tensor`) and a summary remark at the root op (`rtn: quantized 30 layers
    (int4 g128), left 1 fp32: head 1, keep_full_precision 0, non-constant
    weight 0, override fp 0, not quantizable 0`), so that a run that
    quantizes nothing says so. Remarks and warnings also explain layers the
    pass cannot quantize as asked: per-group with `K` not a multiple of the
    group size falls back to per-channel (remark); a `K` whose `bits`-bit
    values do not fill whole bytes (for example `K % 8 != 0` at 3 bits), a
    weight with non-finite values or one whose blob is unavailable stays f32
    (warning). Invalid options are errors.

    Convolutions. Every convolution layer with a constant f32 filter (a
    `linalg.generic` computing `out + x * w` whose filter operand is
    `[F, C/group, kernel...]` with the output channel first: the importer's
    Conv, regular, grouped, depthwise and 1-D, and ConvTranspose, whose
    initializer filter the importer flips; `isConvolutionLayer`,
    LinearLayers.h) is quantized too, with the same grid and rounding on the
    filter viewed as `[F, K]`, `K = C/group * kernel...`: per output channel
    (`per-group` falls back to `per-channel`, remark) or per tensor. The
    filter operand becomes `qopt.dequantize` of constant codes (8 bits: a
    constant of the filter's shape; fewer: one `qopt.pack` bit stream over
    the whole filter, `qopt.unpack`ed and reshaped, so that rows of 9 int4
    values need not fill bytes); the convolution itself stays as it was, so
    it runs on the same conv ukernel, which reads the filter dequantized
    once per call (a cost of O(filter size) per call against the
    convolution's O(filter size x output pixels)). Only
    `qopt.keep_full_precision` and `overrides` (by the Conv's name) select
    convolutions; the head rule is about linear layers, a convolution is
    never the head. A convolution whose filter is computed (a graph input)
    stays f32 with a remark and counts as a non-constant weight; one
    quantized before (its filter a `qopt.dequantize`) is passed over.
    Remarks say `rtn: quantized convolution 'conv1' as int8 pc`, and the
    summary adds `; convolutions among them: 11 quantized, 0 left fp32`.

    Example (`bits=4 symmetric=false granularity=per-group group-size=128`):

    ```mlir
    %y = qopt.linear %x, %w : tensor<?x512xf32>, tensor<512x256xf32>
           -> tensor<?x256xf32> loc("fc1")
    // becomes
    %w4 = arith.constant dense_resource<rtn.fc1.weight> : tensor<256x256xi8>
    %s = arith.constant dense_resource<rtn.fc1.scale> : tensor<256x4xf32>
    %z = arith.constant dense<...> : tensor<256x4xi4>
    %y = qopt.weight_only_linear %x, %w4 scale(%s : tensor<256x4xf32>)
           zero_point(%z : tensor<256x4xi4>)
           scheme <storage = ui4, granularity = per_group, axis = 1,
                   group_size = 128, symmetric = false>
           : tensor<?x512xf32>, tensor<256x256xi8> -> tensor<?x256xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::qopt::QOptDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let options = WeightQuantizerOptions;
}

def QuantizeWeightsGPTQ : Pass<"qopt-quantize-weights-gptq"> {
  let summary = "GPTQ weight-only quantization of linear layers from "
                "calibration Hessians";
  let description = [{
    Quantizes every `qopt.linear` with a constant f32 weight whose input
    comes through a calibrated `qopt.observe` of kind `hessian` (the
    `hessian` observer of `qopt-insert-observers`, with `#qopt.stats` from
    `qopt-apply-calibration`; docs/calibration.md) by GPTQ (Frantar et al.,
    2022): columns are rounded one at a time and the rounding error of each
    is spread over the columns not yet rounded, weighted by the inverse
    Hessian of the layer's input, so that the layer's output on the
    calibration data moves as little as possible. The result is exactly the
    `qopt.weight_only_linear` form of `qopt-quantize-weights-rtn` (same
    grids, scheme, packing, constants; blobs named
    `gptq.<layer>.{weight,scale,zero_point}`), so every kernel runs it, and
    the consumed observers are removed.

    The algorithm, per layer (`W` the logical `[N, K]` weight in f64):

    1. `H = hessian / samples` (`2 X^T X / n`, f64). Dead input channels
       (`H_jj = 0`: never active in calibration) get `H_jj = 1` and
       `W[:, j] = 0`.
    2. `act-order`: columns are visited by descending `diag(H)` (a stable
       sort; `W` and `H` permuted alike).
    3. Dampening: `H += damp * mean(diag(H)) * I`. Then `Hinv = U`, the upper
       Cholesky factor of `H^-1` (`chol(H)`, its inverse, `chol` again, upper:
       `H^-1 = U^T U`), through LAPACK (`dpotrf`, `dpotri`). If a Cholesky
       fails or gives a non-finite value, `damp` is multiplied by 10 and the
       step retried (a remark per retry, at most `damp-retries` times); if
       every try fails the layer falls back to RTN (a warning). No NaN can
       reach the weights.
    4. Grids: per channel, each row's grid from the whole row of the
       original weight before step 1 (as the reference computes it before
       the loop); per group without act-order, a group's grid from the
       working weight when the loop reaches the group's first column (as of
       the start of the current block, the reference's lazy state); per
       group with `act-order` and `static-groups` (the default), static
       groups: every group's grid from the un-permuted weight after step 1,
       before the loop; per group with `act-order` and
       `static-groups=false`, permuted groups: as without act-order, but the
       groups are `group-size` consecutive columns of the *permuted* order
       (GPTQ's `desc_act` without `static_groups`: columns of similar
       activation energy share a grid, the more accurate flavour). Grids are the
       shared ones (symmetric: signed narrow range, `s = max|w| / qmax`;
       asymmetric: `s = (hi - lo) / qmax`, `z = round(-lo / s)`, the range
       widened to contain 0; `qopt-quantize-weights-rtn` says more), and
       with `clip-search` each grid's range is searched as RTN's is, over
       the same block of (working) weights.
    5. Columns in blocks of `block-size`: within a block, column `i` is
       rounded to its grid (`q = clamp(round_half_even(w / s) + z)` in f32),
       `err = (w - (q - z) * s) / Hinv[i, i]`, and
       `W[:, j] -= err * Hinv[i, j]` for the block's later columns `j`; after
       the block, the later columns get the whole block's update at once,
       `W[:, rest] -= Err * Hinv[block, rest]` (one BLAS `dgemm`).
    6. With `act-order` the codes are un-permuted. Static groups make the
       result the plain per-group layout: every weight's grid is the one of
       its own group of `group-size` consecutive input channels, so the
       kernel needs no `g_idx` / act-order operand and act-order costs
       nothing at run time (the permutation exists only at compile time).
       Permuted groups are contiguous only in the permuted order, so the
       weight keeps that order: stored column `j` is original column
       `perm[j]`, the result is again the plain per-group
       `qopt.weight_only_linear` (every kernel runs it, no `g_idx`), and the
       layer's input becomes `qopt.permute %x [perm...]`.
       `qopt-fold-input-permutations` then moves that permutation into the
       input's producer where the dataflow allows (behind SwiGLU, into the
       output rows of gate and up), so that it too costs nothing at run
       time; where it stays it is one gather of the layer's input. Without
       groups (per channel, per tensor) the order does not matter and the
       two flavours give the same result.

    With `H = I` no error is spread and the codes equal RTN's exactly.

    Which layers, in order of precedence (as `qopt-quantize-weights-rtn`):
    `qopt.keep_full_precision`; the first matching `overrides` entry
    (`GLOB=SPEC`, `fp` or e.g. `int4-g64`, `int3-pc-asym`); the output head
    stays f32 unless `quantize-head`; every other layer with the pass
    options. Per-group with `K` not a multiple of the group size falls back
    to per channel (remark). A layer to quantize without a calibrated
    Hessian observer on its input is quantized by RTN (remark), or, with
    `only-calibrated`, left as it is (for true-sequential GPTQ, which
    calibrates and quantizes one decoder block at a time:
    `scripts/gptq.sh --true-sequential`). A Hessian
    whose size is not the layer's `K`, or that holds a NaN or infinity, is
    an error. The Hessian observers of every layer the pass looked at are
    removed (other observers stay). A last remark sums up:
    `gptq: quantized N layers (R by RTN), left M fp32 (names)`, followed by
    `; P in act-order with a qopt.permute on their input` when permuted
    groups were used.
    Convolutions (`isConvolutionLayer`) are not GPTQ's: each gets a remark
    `gptq: left 'conv1' fp32: convolution (...)` and the summary adds
    `; left C convolutions fp32` (qopt-quantize-weights-rtn quantizes them;
    run it after GPTQ).

    Example (`bits=4 group-size=128 act-order=true`):

    ```mlir
    %0 = qopt.observe %x name "fc1:input" observer <kind = hessian>
           stats <samples = 4096, hessian = dense_resource<calib.fc1_input.hessian>
                  : tensor<512x512xf64>> : tensor<?x512xf32>
    %y = qopt.linear %0, %w : tensor<?x512xf32>, tensor<512x256xf32>
           -> tensor<?x256xf32> loc("fc1")
    // becomes
    %w4 = arith.constant dense_resource<gptq.fc1.weight> : tensor<256x256xi8>
    %s = arith.constant dense_resource<gptq.fc1.scale> : tensor<256x4xf32>
    %y = qopt.weight_only_linear %x, %w4 scale(%s : tensor<256x4xf32>)
           scheme <storage = i4, granularity = per_group, axis = 1,
                   group_size = 128, narrow_range = true>
           : tensor<?x512xf32>, tensor<256x256xi8> -> tensor<?x256xf32>
    ```

    With `act-order=true static-groups=false` the same layer becomes (the
    stored columns, scales and codes in act-order):

    ```mlir
    %xp = qopt.permute %x [17, 3, 240, ...] : tensor<?x512xf32>
    %y = qopt.weight_only_linear %xp, %w4 scale(%s : tensor<256x4xf32>)
           scheme <storage = i4, granularity = per_group, axis = 1,
                   group_size = 128, narrow_range = true>
           : tensor<?x512xf32>, tensor<256x256xi8> -> tensor<?x256xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::qopt::QOptDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let options = !listconcat(WeightQuantizerOptions, [
    Option<"damp", "damp", "double", /*default=*/"0.01",
           "Dampening: this fraction of the mean of diag(H) is added to the "
           "diagonal (> 0)">,
    Option<"dampRetries", "damp-retries", "int64_t", /*default=*/"6",
           "Retries with damp x 10 when a Cholesky fails, before the layer "
           "falls back to RTN">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"128",
           "Columns per lazy block update (> 0)">,
    Option<"actOrder", "act-order", "bool", /*default=*/"false",
           "Quantize columns by descending diag(H) (with static-groups, at "
           "no run-time cost)">,
    Option<"staticGroups", "static-groups", "bool", /*default=*/"true",
           "With act-order and per-group: groups of consecutive original "
           "columns, grids fixed before the loop (true), or groups formed "
           "over the act-order (false: GPTQ's desc_act; the layer's columns "
           "are stored in act-order and its input gets a qopt.permute, "
           "which qopt-fold-input-permutations folds where it can)">,
    Option<"onlyCalibrated", "only-calibrated", "bool", /*default=*/"false",
           "Leave layers without a calibrated Hessian as they are instead of "
           "quantizing them by RTN (true-sequential GPTQ quantizes one block "
           "at a time)">
  ]);
}

def FoldInputPermutations : Pass<"qopt-fold-input-permutations"> {
  let summary = "Fold qopt.permute into the producer of the permuted value";
  let description = [{
    Removes `qopt.permute %x [p]` (`y[..., j] = x[..., p[j]]`, which GPTQ
    with permuted groups puts on a layer's input) by permuting the channels
    of whatever computes `%x` instead, so that the permutation costs nothing
    at run time. The producer is found by following the def-use graph
    backwards from `%x` (never by names); every value on the way must be
    one whose innermost dimension can be permuted in place:

    * a linear layer (`qopt.linear`, `qopt.weight_only_linear`,
      `qopt.quantized_linear`) with constant operands: its output channel
      `j` becomes its old channel `p[j]` by permuting the output rows of its
      weight (for `qopt.linear` without `transpose_weight`, the columns of
      the `[K, N]` weight), its per-channel or per-group scales and zero
      points, and its bias. Rows are moved whole (packed bytes, scales), so
      the layer computes bit for bit the same values, in another order. The
      layer's own input is not affected; the walk stops there;
    * an elementwise `linalg.generic` (every loop parallel, one result,
      the body reads no `linalg.index` and not its output): transparent.
      Let `c` be the loop that indexes the result's innermost dimension.
      Each input read along `c` (at one position of its map) is permuted
      too: a constant (a gamma, a bias) is replaced by its permuted copy,
      any other value is followed further up; inputs whose map does not use
      `c` (per-token factors, scalars) stay as they are. So SwiGLU's
      `silu(gate(h)) * up(h)` permutes the output rows of both gate and up;
    * a `tensor.collapse_shape` / `expand_shape` that keeps the innermost
      dimension (`[B, S, C] -> [B*S, C]`), or a `tensor.cast`:
      transparent;
    * a constant: replaced by its permuted copy.

    Permuted copies of constants keep their form (`dense` stays `dense`, a
    `dense_resource` blob becomes a new blob named `<old name>.permuted`);
    the originals go once nothing reads them.

    Every value on the way must be read only by the ops being rewritten
    (through the operands that carry the channel) and by the `qopt.permute`
    itself; `tensor.dim` uses do not count. Identical permutations of one
    value are merged first (q, k and v behind one norm share a Hessian, so
    they get the same one). The permutation is kept, with a remark saying
    why, when the walk reaches:

    * a value that something else reads in the original order: another
      consumer (the residual stream that a norm's input also feeds, a
      second `qopt.permute` with a different permutation, a reduction such
      as a norm's mean of squares);
    * a producer it does not know: a block argument, a reshape or
      transpose (attention heads before `o_proj`), a reduction, a
      `linalg.generic` that is not elementwise, a non-constant weight.

    In a Llama block this folds `down_proj`'s permutation (behind SwiGLU)
    and keeps those of q/k/v (their norm's output is computed from the
    residual stream, which other ops read) and `o_proj` (attention heads).
    A summary remark gives the counts:
    `fold-input-permutations: folded F, kept K`.

    Nothing changes numerically: every rewritten op computes the same
    values as before in permuted order, so a model gives bit-identical
    outputs with and without this pass
    (test/Runner/gptq-permuted-fold.test checks it end to end).

    Example:

    ```mlir
    %g = qopt.linear %h, %wg transpose_weight : ... -> tensor<?x3xf32>
    %u = qopt.linear %h, %wu transpose_weight : ... -> tensor<?x3xf32>
    %a = linalg.generic {silu(%g) * %u} ... -> tensor<?x3xf32>
    %p = qopt.permute %a [2, 0, 1] : tensor<?x3xf32>
    %y = qopt.weight_only_linear %p, ...
    // becomes: rows of %wg and %wu in the order [2, 0, 1], and
    %y = qopt.weight_only_linear %a, ...
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::qopt::QOptDialect"
  ];
}

def QuantizeW8A8 : Pass<"qopt-quantize-w8a8"> {
  let summary = "Quantize linear layers and convolutions to int8 weights and "
                "int8 activations";
  let description = [{
    Rewrites every selected `qopt.linear` with a constant f32 weight into a
    `qopt.quantized_linear` on int8 activations and int8 weights, whose
    products accumulate exactly in i32 and are rescaled once per output
    (W8A8: the CPU code generator runs it on the runtime's int8 GEMM
    kernels, `qrt_uk_s8_*`), and every selected convolution layer (the
    importer's Conv generic with a constant f32 filter, `isConvolutionLayer`)
    into the same generic on an int8 input and an int8 filter accumulating
    in i32 (body `out + extsi(x) * extsi(w)`, the Conv's maps and loops)
    followed by an elementwise rescale `((f32)acc * sx) * sw[f]` (the CPU
    code generator calls `qrt_uk_conv2d_s8_i32`; any backend can run the
    plain linalg).

    FP8 (`storage=f8E4M3FN`): linear layers get E4M3 weights and activations
    instead (the format of Hopper's FP8 tensor cores; ONNX's
    `FLOAT8E4M3FN`): the same granularities, with `448` (the largest finite
    E4M3) in place of `127`; codes are `w / s` rounded to nearest even in
    E4M3 (`|w / s| <= 448`, so no saturation), products accumulate in f32.
    Convolutions stay f32 with this storage. The int8 kernels of the CPU
    code generator do not take these layers: they run through the generic
    expansion (float8 casts become integer arithmetic, then f32 products).

    Weights, at compile time: int8 per output channel, symmetric, narrow
    range (the arithmetic of `qopt-quantize-weights-rtn{bits=8
    granularity=per-channel}`): `s[n] = max_k |w[n, k]| / 127` in f32 (`1`
    for an all-zero channel), `q = clamp(round_half_even(w / s), -127, 127)`,
    stored `[N, K] x i8` (a `[K, N]` weight is transposed at compile time)
    with `[N]` f32 scales.

    Activations (`activations`):

    * `dynamic` (the default, no calibration): `qopt.dynamic_quantize` with
      one scale per token (row of the innermost dimension),
      `max |x| / 127`, computed at run time; the layer takes `per_token`
      input scales. A convolution's NCHW input has no token rows: it gets
      one scale per tensor (`per_tensor`), also at run time, so images of a
      batch share it.
    * `static`: one scale for the whole input tensor from calibration,
      symmetric (int8 `[-127, 127]`, no zero point, which is what the int8
      kernels take): `s = max(|min|, |max|) / 127` from the `#qopt.stats` of
      an observer on the layer's input, chosen by `range`: `auto` (the
      default) takes the clipping observer (`percentile`, `mse` or
      `histogram`, whose min/max `qopt-apply-calibration` set to the clip)
      when there is one, else `min_max`, else `abs_max` (its largest
      channel), and is an error when two different clipping observers are
      there; `range=KIND` takes that observer only. `s = 1` when that is below
      2^-119 (an input that was always zero), so the scale is never 0,
      denormal or infinite; the layer's input becomes
      `qopt.quantize` with that `per_tensor` scale. A layer whose input has
      no such statistics is an error (run `qopt-insert-observers`,
      `qrun calibrate` and `qopt-apply-calibration` first;
      docs/calibration.md), reported for every such layer before anything
      changes.

    The observers on a quantized layer's input (the chain of `qopt.observe`
    that `qopt-insert-observers` built, each used only by the next) are
    consumed and removed, in both modes; linear layers left in f32 keep
    theirs, convolutions left in f32 lose them too (nothing reads
    convolution statistics after this pass, and an observer left in a
    compiled artifact records statistics on every run).

    Convolutions: the filter `[F, C/group, kernel...]` is quantized as a
    `[F, K]` weight (the same per-output-channel int8 arithmetic). A zero
    `tensor.pad` of the input (the importer's padding) moves after the
    quantization: the int8 tensor is padded with 0, which is what the f32
    zeros quantize to, so the result is the same and the copy a quarter of
    the size. A convolution that accumulates into anything but a zero fill
    gets an f32 addition of that tensor after the rescale. A filter that is
    already `qopt.dequantize` of codes (weight-only RTN ran first) is left
    alone.

    Which layers, and how, in order of precedence:

    1. ops with the `qopt.keep_full_precision` attribute stay f32;
    2. the first `overrides` entry `GLOB=SPEC` whose glob
       (`llvm::GlobPattern`) matches the layer's name (the ONNX node name,
       i.e. the first `NameLoc` of its location) decides: `SPEC` is `fp`,
       `dynamic` or `static`;
    3. a layer whose name matches `exclude` (an `llvm::Regex`, searched
       anywhere in the name) stays f32;
    4. with `include`, only layers whose name matches it are quantized, the
       output head included;
    5. otherwise the output head (a layer whose result reaches a return
       only through reshapes, or whose name contains `lm_head`; the rule of
       `qopt-quantize-weights-rtn` and `qopt-insert-observers`) stays f32
       unless `quantize-head`; this rule is about linear layers (a CNN's
       classifier head is a Gemm): convolutions are never the head;
    5b. a depthwise convolution (one input channel per group, as many
       filters as channels) stays f32 unless `quantize-depthwise`: it is
       memory bound and has no GEMM, so quantizing its input costs more
       than the int8 kernel saves (docs/benchmarks.md, "W8A8
       convolutions");
    6. every other layer is quantized as `activations` says.

    Layers whose weight is not a constant f32 tensor, or whose input is not
    f32, stay f32 (a warning when the weight has non-finite values or its
    blob is unavailable). Every layer gets a remark saying what happened to
    it (`w8a8: convolution 'conv1': int8 weights per output channel, int8
    activations per tensor (dynamic)`, `w8a8: left convolution 'conv2'
    fp32: <why>`), and the module one summary remark, `w8a8: quantized N
    layers (D dynamic, S static), left M fp32`, which adds `; convolutions
    among them: Q quantized, L left fp32` when there are convolutions.
    Constants of at least
    `resource-threshold` bytes become `dense_resource` blobs named
    `w8a8.<layer>.{weight,weight_scale}`; a weight shared by several layers
    is quantized once. Invalid options are errors.

    Example (`activations=dynamic`):

    ```mlir
    %y = qopt.linear %x, %w bias(%b : tensor<256xf32>)
           : tensor<?x512xf32>, tensor<512x256xf32> -> tensor<?x256xf32>
           loc("fc1")
    // becomes
    %q, %xs = qopt.dynamic_quantize %x
                scheme <storage = i8, granularity = per_token, narrow_range = true>
                : tensor<?x512xf32> -> tensor<?x512xi8>, tensor<?xf32>
    %wq = arith.constant dense_resource<w8a8.fc1.weight> : tensor<256x512xi8>
    %ws = arith.constant dense<...> : tensor<256xf32>
    %y = qopt.quantized_linear %q, %wq input_scale(%xs : tensor<?xf32>)
           weight_scale(%ws : tensor<256xf32>) bias(%b : tensor<256xf32>)
           schemes(<storage = i8, granularity = per_token, narrow_range = true>,
                   <storage = i8, granularity = per_channel, axis = 0,
                    narrow_range = true>)
           : tensor<?x512xi8>, tensor<256x512xi8> -> tensor<?x256xf32>
    ```

    With `activations=static`, on calibrated IR:

    ```mlir
    %0 = qopt.observe %x name "fc1:input" observer <kind = min_max>
           stats <samples = 4096, min = dense<-3.5> : tensor<f32>,
                  max = dense<4.25> : tensor<f32>> : tensor<?x512xf32>
    %y = qopt.linear %0, %w ... loc("fc1")
    // becomes (4.25 / 127 = 0.0334645...)
    %xs = arith.constant dense<0.0334645659> : tensor<f32>
    %q = qopt.quantize %x scale(%xs : tensor<f32>)
           scheme <storage = i8, granularity = per_tensor, narrow_range = true>
           : tensor<?x512xf32> -> tensor<?x512xi8>
    %y = qopt.quantized_linear %q, %wq input_scale(%xs : tensor<f32>) ...
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::qopt::QOptDialect"
  ];
  let options = [
    Option<"activations", "activations", "std::string",
           /*default=*/"\"dynamic\"",
           "How activations get their scales: 'dynamic' (per token, at run "
           "time) or 'static' (per tensor, from calibration statistics)">,
    Option<"storage", "storage", "std::string", /*default=*/"\"i8\"",
           "What linear layers' weights and activations are stored as: 'i8' "
           "(int8, symmetric narrow range, i32 accumulation) or 'f8E4M3FN' "
           "(FP8 E4M3, scales max |x| / 448, f32 accumulation; "
           "convolutions stay f32)">,
    Option<"range", "range", "std::string", /*default=*/"\"auto\"",
           "Which observer's statistics give a static scale: 'auto' (a "
           "clipping observer, else min_max, else abs_max), 'min_max', "
           "'abs_max', 'percentile', 'mse' or 'histogram'">,
    Option<"quantizeDepthwise", "quantize-depthwise", "bool",
           /*default=*/"false",
           "Quantize depthwise convolutions too (one input channel per "
           "group): off by default, as they have no int8 GEMM to run on and "
           "the f32 kernel is faster than quantizing their input">,
    Option<"quantizeHead", "quantize-head", "bool", /*default=*/"false",
           "Quantize the output head too (a linear layer whose result is "
           "returned, or named *lm_head*)">,
    Option<"include", "include", "std::string", /*default=*/"\"\"",
           "Quantize only layers whose name matches this regex (the output "
           "head too)">,
    Option<"exclude", "exclude", "std::string", /*default=*/"\"\"",
           "Never quantize layers whose name matches this regex">,
    ListOption<"overrides", "overrides", "std::string",
               "Per-layer settings GLOB=SPEC, first match wins: GLOB matches "
               "the ONNX node name, SPEC is 'fp', 'dynamic' or 'static'">,
    Option<"resourceThreshold", "resource-threshold", "int64_t",
           /*default=*/"1024",
           "New constants of at least this many bytes become dense_resource "
           "blobs">
  ];
}

def InsertObservers : Pass<"qopt-insert-observers"> {
  let summary = "Insert calibration points on the inputs of linear layers "
                "and convolutions";
  let description = [{
    The first step of calibration: puts a `qopt.observe` on the input of
    every selected `qopt.linear`, one per requested observer, chained in the
    order of `observers` (`x -> observe -> observe -> linear`); only that
    layer's use of the value is rewired. The point is named
    `<layer>:input`, `<layer>` being the ONNX node name (the first `NameLoc`
    of the op's location), or `linear<N>` (N counting the linear ops in walk
    order) when there is none. `qopt-compile` then builds an artifact that
    records the statistics (`qopt-lower-observe`), `qrun calibrate` runs it
    over a calibration set, and `qopt-apply-calibration` writes the result
    back onto these ops (docs/calibration.md).

    Observers (`observers`, default `min_max`):

    * `min_max`: the minimum and maximum of the whole tensor;
    * `abs_max`: max |x| per input channel (`axis` = the last dimension),
      what SmoothQuant and AWQ need;
    * `hessian`: `H = 2 X^T X` over all tokens, `X` the input reshaped to
      `[tokens, K]`; each batch's product in f32, summed over batches in
      f64 (GPTQ);
    * `percentile`, `mse`, `histogram`: a histogram of |x| over the whole
      tensor (`bins` bins, a range that grows by doubling), from which
      `qopt-apply-calibration` takes a clip range: the `percentile` of |x|,
      the clip of least int8 quantization error, or the KL-divergence
      (entropy) threshold as TensorRT computes it (docs/calibration.md).

    Which layers, in order of precedence:

    1. ops with the `qopt.keep_full_precision` attribute get no observer;
    2. a layer whose name matches `exclude` (an `llvm::Regex`, searched
       anywhere in the name) gets none;
    3. with `include`, only layers whose name matches it get observers, the
       output head included;
    4. otherwise the output head (the rule of `qopt-quantize-weights-rtn`:
       a last linear layer, whose result reaches a return through
       shape-only and elementwise ops with no further linear layer, or one
       whose name contains `lm_head`) gets none unless `observe-head`;
    5. every other layer gets them.

    Convolution layers (`isConvolutionLayer`, what `qopt-quantize-w8a8`
    quantizes) get the same observers on their input (the padded NCHW
    tensor), named `<layer>:input` or `conv<N>:input`, by rules 1 to 3 (the
    head rule is about linear layers); `abs_max` is per channel along
    dimension 1, and `hessian` is not recorded for them.

    A layer whose input already carries an observer of the same name and
    kind is left alone, so the pass can run twice. An unknown observer, an
    invalid `percentile` or `bins`, or a regex that does not compile, is an
    error.

    Example (`observers=min_max,abs_max`):

    ```mlir
    %y = qopt.linear %x, %w : tensor<?x64xf32>, tensor<64x32xf32>
           -> tensor<?x32xf32> loc("fc1")
    // becomes
    %0 = qopt.observe %x name "fc1:input" observer <kind = min_max>
           : tensor<?x64xf32>
    %1 = qopt.observe %0 name "fc1:input" observer <kind = abs_max, axis = 1>
           : tensor<?x64xf32>
    %y = qopt.linear %1, %w : tensor<?x64xf32>, tensor<64x32xf32>
           -> tensor<?x32xf32> loc("fc1")
    ```
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect"];
  let options = [
    ListOption<"observers", "observers", "std::string",
               "Observers per point, in order: min_max, abs_max, hessian, "
               "percentile, mse, histogram (default: min_max)">,
    Option<"percentile", "percentile", "double", /*default=*/"99.99",
           "The percentile of |x| that a percentile observer clips at">,
    Option<"bins", "bins", "int64_t", /*default=*/"2048",
           "Histogram bins of percentile, mse and histogram observers "
           "(histogram: at least 128)">,
    Option<"include", "include", "std::string", /*default=*/"\"\"",
           "Observe only layers whose name matches this regex (the output "
           "head too)">,
    Option<"exclude", "exclude", "std::string", /*default=*/"\"\"",
           "Never observe layers whose name matches this regex">,
    Option<"observeHead", "observe-head", "bool", /*default=*/"false",
           "Observe the output head too">
  ];
}

def ApplyCalibration : Pass<"qopt-apply-calibration"> {
  let summary = "Attach a calibration run's statistics to the observers";
  let description = [{
    Reads the statistics file that `qrun calibrate` wrote (`stats`; format
    in docs/calibration.md) and sets `stats` on every `qopt.observe`, found
    by (name, observer kind). The file is checked first: magic, version and
    checksum; then each point: it must exist in the file, have the
    observer's axis and channel count, have seen at least one sample, and
    have seen no NaN or infinity, since a range computed around them would
    give NaN scales. Every failure is an error naming the file and the point,
    and nothing is changed. Points of the file that no op names get a
    warning (a stale file for a similar model).

    What each observer gets:

    * `min_max`: `samples`, `min` and `max` (rank 0, or `[C]` per channel);
    * `abs_max`: `samples` and `absmax` (`[C]` along the axis, or rank 0);
    * `hessian`: `samples` (tokens) and `hessian`, `tensor<KxKxf64>`;
    * `percentile`, `mse`, `histogram`: `samples`, and `min`/`max` (rank 0)
      set to the clip range `[max(min, -c), min(max, c)]`, `c` being the
      observer's clip of |x| (`qstats::clipFor`, include/qopt/Calibration/
      Clip.h), so that a static W8A8 pass reads them as it reads `min_max`
      statistics; `histogram` also gets the counts, `tensor<BINSxf64>`.

    Arrays of at least `resource-threshold` bytes become `dense_resource`
    blobs named `calib.<point>.<field>`, which bytecode stores out of line;
    smaller ones stay inline.

    Example (`stats=model.qstats`):

    ```mlir
    %0 = qopt.observe %x name "fc1:input" observer <kind = min_max>
           : tensor<?x64xf32>
    // becomes
    %0 = qopt.observe %x name "fc1:input" observer <kind = min_max>
           stats <samples = 4096, min = dense<-3.5> : tensor<f32>,
                  max = dense<4.25> : tensor<f32>> : tensor<?x64xf32>
    ```
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect"];
  let options = [
    Option<"statsFile", "stats", "std::string", /*default=*/"\"\"",
           "The statistics file written by qrun calibrate">,
    Option<"resourceThreshold", "resource-threshold", "int64_t",
           /*default=*/"1024",
           "Arrays of at least this many bytes become dense_resource blobs">
  ];
}

def SmoothQuant : Pass<"qopt-smooth-quant"> {
  let summary = "SmoothQuant: migrate activation outliers into the weights";
  let description = [{
    SmoothQuant (Xiao et al., 2023) makes activations quantizable by
    dividing each input channel `j` of a linear layer by a factor `s_j` and
    multiplying row `j` of the weight (input channel `j`) by the same
    factor, which leaves the layer's output unchanged in exact arithmetic:

    ```
    s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)
    ```

    `max|X_j|` comes from the calibrated `abs_max` observers (per input
    channel, `axis` = the last dimension) on the layer's input, `max|W_j|`
    is the largest magnitude in input channel `j` of the weight. Layers that
    consume the same value (q/k/v after one norm, gate/up after another)
    share one `s`: `max|X_j|` and `max|W_j|` are taken over all their
    observers and weights, as the reference implementation does. A channel
    whose activation or weight maximum is 0 gets `s_j = 1` (nothing to
    migrate); every other `s_j` is clamped to `[1e-5, 1e5]`, so `1/s` is a
    normal f32 and no scale is 0, NaN or infinite.

    The division by `s` is folded into the value's producer, found by
    following the def-use graph (never by names), at compile time:

    * an elementwise `linalg.generic` (all loops parallel, identity output
      map) whose body is a product with a per-channel constant (a 1-D
      tensor read along the innermost loop: RMSNorm's and LayerNorm's
      gamma): the constant is divided by `s`; a sum (`x_hat * gamma + beta`)
      divides both terms, so LayerNorm's beta is divided too; a product of
      two activations (SwiGLU's `silu(gate) * up`) passes the scale on to
      one factor whose producer can take it and has no other use;
    * a preceding `qopt.linear` with constant weight (and bias): its output
      channels are divided by `s`;
    * through a `tensor.collapse_shape`/`expand_shape` that keeps the
      innermost dimension (GPT-2's `[B, S, C] -> [B*S, C]` before a Gemm).

    A producer whose result something else also reads cannot take the
    scale; `tensor.dim` uses read only the shape and do not count.

    Every use of the value must be the input of a `qopt.linear`, possibly
    through `qopt.observe` chains; each of those layers gets its weight
    scaled. When another op also uses the value, the value is left as it
    is and a warning names the layer and the op that blocked it. When the
    producer cannot take the scale (a block argument, a residual add, an
    attention output), the pass inserts `qopt.smooth %x, %s` (a division at
    run time) with a remark, or skips the value with a warning when
    `insert-smooth=false`.

    The observers stay, so that static W8A8 can run after smoothing, and
    their statistics are rewritten for the smoothed value: per-channel
    `abs_max` and `min_max` along the last axis are divided by `s`
    exactly; a per-tensor `min`/`max` becomes the tightest bound that both
    the old range divided by `s` and `max_j(absmax_j / s_j)` guarantee
    (a bound, not a new measurement); a Hessian becomes
    `diag(1/s) H diag(1/s)`. Percentile, MSE and histogram statistics do
    not follow a per-channel scale: they are removed with a warning, and
    the smoothed model must be calibrated again (compile it with its
    observers and rerun `qrun calibrate`, which is always exact).

    Which values, in order of precedence:

    1. a value is considered when at least one of the linear layers it
       feeds is selected; a layer is selected unless it has the
       `qopt.keep_full_precision` attribute, or its name matches `exclude`
       (an `llvm::Regex`), or `include` is given and does not match, or
       (without `include`) it is the output head (the rule of
       `qopt-quantize-weights-rtn`);
    2. a considered value with an unselected consumer is skipped with a
       warning (its scale would have to change that layer too);
    3. `alpha` comes from the first `overrides` entry `GLOB=ALPHA` whose
       glob matches the name of one of the value's layers (in IR order),
       else from the `alpha` option.

    A value without calibrated `abs_max` statistics, or whose consumers'
    weights are not finite constant f32 tensors, is skipped with a warning.
    One remark sums up: `smooth-quant: smoothed N values (M linears),
    skipped K`. Invalid options are errors.

    Example (`alpha=0.5`; `|X|` max `[4, 1]`, `|W|` max `[1, 1]`, so
    `s = [2, 1]`):

    ```mlir
    %n = linalg.generic ... ins(%gamma, %xhat : tensor<2xf32>, tensor<?x2xf32>)
           { arith.mulf }                       // gamma = [1, 1]
    %o = qopt.observe %n name "fc:input" observer <kind = abs_max, axis = 1>
           stats <samples = 8, absmax = dense<[4.0, 1.0]> : tensor<2xf32>>
    %y = qopt.linear %o, %w : tensor<?x2xf32>, tensor<2x3xf32> -> tensor<?x3xf32>
    // becomes: gamma = [0.5, 1], row 0 of %w doubled,
    //          absmax = dense<[2.0, 1.0]>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::qopt::QOptDialect"
  ];
  let options = [
    Option<"alpha", "alpha", "double", /*default=*/"0.5",
           "Migration strength in [0, 1]: 0 leaves the activations, 1 moves "
           "all of their range into the weights">,
    ListOption<"overrides", "overrides", "std::string",
               "Per-layer alpha GLOB=ALPHA, first match wins: GLOB matches "
               "the ONNX node name of a layer that consumes the value">,
    Option<"include", "include", "std::string", /*default=*/"\"\"",
           "Smooth only inputs of layers whose name matches this regex (the "
           "output head too)">,
    Option<"exclude", "exclude", "std::string", /*default=*/"\"\"",
           "Never smooth inputs of layers whose name matches this regex">,
    Option<"insertSmooth", "insert-smooth", "bool", /*default=*/"true",
           "Where no producer can take 1/s, insert qopt.smooth (off: skip "
           "the value)">,
    Option<"resourceThreshold", "resource-threshold", "int64_t",
           /*default=*/"1024",
           "New constants of at least this many bytes become dense_resource "
           "blobs">
  ];
}

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
