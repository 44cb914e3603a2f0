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
       (stay f32) or `int<bits>[-g<G>|-pc|-pt][-sym|-asym]`, e.g. `int8`,
       `int4-g64`, `int4-pc`, `int3-g128-asym`; what a spec leaves out comes
       from the pass options;
    3. the output head stays f32 unless `quantize-head`: a layer whose result
       reaches a return only through reshapes (`tensor.expand_shape`,
       `collapse_shape`, `reshape`, `cast`), or whose name contains
       `lm_head`;
    4. every other layer is quantized with the pass options.

    Embeddings are gathers, not `qopt.linear`, so they always stay f32 (a
    tied LM head keeps its f32 embedding table). Layers whose weight is not
    a constant are skipped silently. Remarks and warnings explain layers the
    pass cannot quantize as asked: per-group with `K` not a multiple of the
    group size falls back to per-channel (remark); a `K` whose `bits`-bit
    values do not fill whole bytes (for example `K % 8 != 0` at 3 bits), a
    weight with non-finite values or one whose blob is unavailable stays f32
    (warning). Invalid options are errors.

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
    "::mlir::arith::ArithDialect", "::mlir::qopt::QOptDialect"
  ];
  let options = [
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
    Option<"quantizeHead", "quantize-head", "bool", /*default=*/"false",
           "Quantize the output head too (a linear layer whose result is "
           "returned, or named *lm_head*)">,
    ListOption<"overrides", "overrides", "std::string",
               "Per-layer settings GLOB=SPEC, first match wins: GLOB matches "
               "the ONNX node name, SPEC is 'fp' or e.g. 'int8', 'int4-g64', "
               "'int4-pc', 'int3-g128-asym'">,
    Option<"resourceThreshold", "resource-threshold", "int64_t",
           /*default=*/"1024",
           "New constants of at least this many bytes become dense_resource "
           "blobs">
  ];
}

def QuantizeW8A8 : Pass<"qopt-quantize-w8a8"> {
  let summary = "Quantize linear layers to int8 weights and int8 activations";
  let description = [{
    Rewrites every selected `qopt.linear` with a constant f32 weight into a
    `qopt.quantized_linear` on int8 activations and int8 weights, whose
    products accumulate exactly in i32 and are rescaled once per output
    (W8A8: the CPU code generator runs it on the runtime's int8 GEMM
    kernels, `qrt_uk_s8_*`).

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
      input scales.
    * `static`: one scale for the whole input tensor from calibration,
      symmetric (int8 `[-127, 127]`, no zero point, which is what the int8
      kernels take): `s = max(|min|, |max|) / 127` from the `#qopt.stats` of
      the `min_max` observer on the layer's input (`abs_max` statistics are
      accepted too: the largest channel), and `s = 1` when that is below
      2^-119 (an input that was always zero), so the scale is never 0,
      denormal or infinite; the layer's input becomes
      `qopt.quantize` with that `per_tensor` scale. A layer whose input has
      no such statistics is an error (run `qopt-insert-observers`,
      `qrun calibrate` and `qopt-apply-calibration` first;
      docs/calibration.md), reported for every such layer before anything
      changes.

    The observers on a quantized layer's input (the chain of `qopt.observe`
    that `qopt-insert-observers` built, each used only by the next) are
    consumed and removed, in both modes; layers left in f32 keep theirs.

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
       unless `quantize-head`;
    6. every other layer is quantized as `activations` says.

    Layers whose weight is not a constant f32 tensor, or whose input is not
    f32, stay f32 (a warning when the weight has non-finite values or its
    blob is unavailable). Every layer gets a remark saying what happened to
    it, and the module one summary remark, `w8a8: quantized N layers
    (D dynamic, S static), left M fp32`. Constants of at least
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
  let summary = "Insert calibration points on the inputs of linear layers";
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
      f64 (GPTQ).

    Which layers, in order of precedence:

    1. ops with the `qopt.keep_full_precision` attribute get no observer;
    2. a layer whose name matches `exclude` (an `llvm::Regex`, searched
       anywhere in the name) gets none;
    3. with `include`, only layers whose name matches it get observers, the
       output head included;
    4. otherwise the output head (the rule of `qopt-quantize-weights-rtn`:
       a layer whose result reaches a return only through reshapes, or whose
       name contains `lm_head`) gets none unless `observe-head`;
    5. every other layer gets them.

    A layer whose input already carries an observer of the same name and
    kind is left alone, so the pass can run twice. An unknown observer, or a
    regex that does not compile, is an error.

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
               "Observers per point, in order: min_max, abs_max, hessian "
               "(default: min_max)">,
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
    * `hessian`: `samples` (tokens) and `hessian`, `tensor<KxKxf64>`.

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

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
