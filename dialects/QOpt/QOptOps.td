//===- QOptOps.td - qopt operations ------------------------*- tablegen -*-===//

#ifndef QOPT_DIALECT_QOPT_QOPTOPS_TD
#define QOPT_DIALECT_QOPT_QOPTOPS_TD

include "QOpt/QOptDialect.td"
include "QOpt/QOptAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Tensors of quantized values: signless integers or fp8.
def QOpt_StorageTensor : RankedTensorOf<[AnySignlessInteger, F8E4M3FN, F8E4M3FNUZ,
                                             F8E5M2, F8E5M2FNUZ]>;
def QOpt_FloatTensor : RankedTensorOf<[AnyFloat]>;
def QOpt_IntTensor : RankedTensorOf<[AnySignlessIntegerOrIndex]>;

// Calibration writes what it observes; modelling that as an effect keeps
// observation points from being CSE'd, hoisted or dropped.
def QOpt_CalibrationResource
    : Resource<"::mlir::qopt::CalibrationResource">;

//===----------------------------------------------------------------------===//
// Casts
//===----------------------------------------------------------------------===//

def QOpt_QuantizeOp : QOpt_Op<"quantize", [Pure, AttrSizedOperandSegments]> {
  let summary = "Quantize a float tensor to its storage type";
  let description = [{
    `q = clamp(round_half_even(x / scale) + zero_point, min, max)`, with the
    scale and zero point chosen per the granularity of `scheme` (see
    `#qopt.scheme`). With `act_order` (GPTQ's activation order, only for
    `per_group`), element `i` along `axis` belongs to group
    `act_order[i] / group_size` instead of `i / group_size`; `act_order` must
    be a permutation of `[0, S[axis])`.

    For fp8 storage the value `x / scale` is clamped to the finite range of
    the format and rounded to nearest even.

    Example:

    ```mlir
    %q = qopt.quantize %w scale(%s : tensor<64x2xf32>)
           zero_point(%z : tensor<64x2xi4>)
           scheme <storage = ui4, granularity = per_group, axis = 1,
                           group_size = 32, symmetric = false>
           : tensor<64x64xf32> -> tensor<64x64xi4>
    ```
  }];
  let arguments = (ins QOpt_FloatTensor:$input, QOpt_FloatTensor:$scale,
                       Optional<QOpt_StorageTensor>:$zero_point,
                       Optional<QOpt_IntTensor>:$act_order,
                       QOpt_SchemeAttr:$scheme);
  let results = (outs QOpt_StorageTensor:$result);
  let assemblyFormat = [{
    $input `scale` `(` $scale `:` type($scale) `)`
    (`zero_point` `(` $zero_point^ `:` type($zero_point) `)`)?
    (`act_order` `(` $act_order^ `:` type($act_order) `)`)?
    `scheme` $scheme attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def QOpt_DynamicQuantizeOp : QOpt_Op<"dynamic_quantize", [Pure]> {
  let summary = "Quantize a float tensor with scales computed from its values";
  let description = [{
    Quantizes `input` symmetrically with one scale per row of the innermost
    dimension (`per_token`: the scale has the input's shape without its last
    dimension) or one for the whole tensor (`per_tensor`: rank 0), each
    computed at run time from the values it scales. This is the activation
    side of dynamic W8A8 (`qopt.quantized_linear` with a `per_token` input):
    no calibration, every token gets the full integer range.

    The scheme must be symmetric with signed integer storage of at most 8
    bits and `narrow_range` (`[-qmax, qmax]`, `qmax = 2^(b-1) - 1`), or a
    float8 storage (`qmax` its largest finite value, 448 for `f8E4M3FN`:
    FP8 W8A8, where `round_half_even` below is the rounding of the f32
    value to the float8 format, nearest even). For each
    group of values (a row or the tensor), in f32 (f16 and bf16 inputs are
    extended first):

    ```
    amax = max |x|
    amax is NaN or +inf:  scale = NaN, q = 0
    amax < 2^-119:        scale = 1,   q = 0        (all-zero rows included)
    otherwise:            scale = amax / qmax,
                          q = clamp(round_half_even(x * (qmax / amax)),
                                    -qmax, qmax)
    ```

    where `amax / qmax` and `qmax / amax` are each one correctly rounded f32
    division. Multiplying by the reciprocal (rather than dividing by the
    scale, as `qopt.quantize` does) is what the runtime's row quantizer
    (`qrt_uk_quantize_rows_s8`) computes, so a kernel and the reference
    expansion (`qopt-expand-quant-ops`) agree bit for bit; the two spellings
    can differ by one step on values that land next to a rounding tie. The
    threshold keeps every scale finite, normal and non-zero; a row that holds
    an infinity or a NaN gets a NaN scale, so everything computed from it is
    NaN, as in full precision.

    Example:

    ```mlir
    %q, %s = qopt.dynamic_quantize %x
               scheme <storage = i8, granularity = per_token, narrow_range = true>
               : tensor<?x?x512xf32> -> tensor<?x?x512xi8>, tensor<?x?xf32>
    ```
  }];
  let arguments = (ins QOpt_FloatTensor:$input, QOpt_SchemeAttr:$scheme);
  let results = (outs QOpt_StorageTensor:$result, QOpt_FloatTensor:$scale);
  let assemblyFormat = [{
    $input `scheme` $scheme attr-dict `:` type($input) `->` type($result) `,`
    type($scale)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Largest stored magnitude, `2^(b-1) - 1`.
    int64_t getQMax();
  }];
}

def QOpt_DequantizeOp : QOpt_Op<"dequantize", [Pure, AttrSizedOperandSegments]> {
  let summary = "Dequantize a tensor of stored values to float";
  let description = [{
    `x = (q - zero_point) * scale`, the inverse of `qopt.quantize` with the
    same operands and scheme. The result element type may differ from the
    scale's (f16 scales, f32 result): the scale is converted first.

    Example:

    ```mlir
    %x = qopt.dequantize %q scale(%s : tensor<64xf32>)
           scheme <storage = i8, granularity = per_channel, axis = 0>
           : tensor<64x128xi8> -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins QOpt_StorageTensor:$input, QOpt_FloatTensor:$scale,
                       Optional<QOpt_StorageTensor>:$zero_point,
                       Optional<QOpt_IntTensor>:$act_order,
                       QOpt_SchemeAttr:$scheme);
  let results = (outs QOpt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `scale` `(` $scale `:` type($scale) `)`
    (`zero_point` `(` $zero_point^ `:` type($zero_point) `)`)?
    (`act_order` `(` $act_order^ `:` type($act_order) `)`)?
    `scheme` $scheme attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Sub-byte packing
//===----------------------------------------------------------------------===//

def QOpt_PackOp : QOpt_Op<"pack", [Pure]> {
  let summary = "Pack sub-byte values densely into bytes";
  let description = [{
    Packs the innermost dimension of a tensor of `iB` values (1 <= B <= 7)
    into bytes: the values form a little-endian bit stream in which value `j`
    occupies bits `[j*B, (j+1)*B)`, so two i4 values share a byte (the first
    in the low nibble) and eight i3 values share three bytes. The innermost
    dimension `K` must satisfy `K * B % 8 == 0`; the result's is `K * B / 8`.
    This is the layout the code generators read low-bit weights in.

    Example:

    ```mlir
    %p = qopt.pack %q : tensor<64x128xi4> -> tensor<64x64xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnySignlessInteger]>:$input);
  let results = (outs RankedTensorOf<[I8]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def QOpt_UnpackOp : QOpt_Op<"unpack", [Pure]> {
  let summary = "Unpack bytes into sub-byte values";
  let description = [{
    The inverse of `qopt.pack`: reads the innermost dimension of a byte tensor
    as a little-endian bit stream of `B`-bit values.

    Example:

    ```mlir
    %q = qopt.unpack %p : tensor<64x64xi8> -> tensor<64x128xi4>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$input);
  let results = (outs RankedTensorOf<[AnySignlessInteger]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Quantized compute
//===----------------------------------------------------------------------===//

def QOpt_LinearOp : QOpt_Op<"linear", [Pure]> {
  let summary = "A full-precision linear layer: what quantization works on";
  let description = [{
    `y = x * W + bias` for `x : [..., K]` and `y : [..., N]`. `weight` is
    `[K, N]` as in ONNX `MatMul`, or `[N, K]` (output channels first, as in
    `torch.nn.Linear` and `Gemm` with `transB`) with `transpose_weight`.

    The ONNX importer emits this op for every `MatMul`/`Gemm` whose weight is
    a constant, with the ONNX node name as its location, so quantization
    passes find every linear layer and its input in one walk and can honour
    per-layer options by name. They rewrite it into
    `qopt.weight_only_linear` or `qopt.quantized_linear`;
    `qopt-expand-quant-ops` turns what is left into a contraction.

    Example:

    ```mlir
    %y = qopt.linear %x, %w bias(%b : tensor<256xf32>) transpose_weight
           : tensor<?x?x512xf32>, tensor<256x512xf32> -> tensor<?x?x256xf32>
    ```
  }];
  let arguments = (ins QOpt_FloatTensor:$input, QOpt_FloatTensor:$weight,
                       Optional<QOpt_FloatTensor>:$bias,
                       UnitAttr:$transpose_weight);
  let results = (outs QOpt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`transpose_weight` $transpose_weight^)? attr-dict `:` type($input) `,`
    type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Output channels (N) and reduction size (K) of the weight.
    int64_t getNumOutputChannels();
    int64_t getNumInputChannels();
  }];
}

def QOpt_WeightOnlyLinearOp : QOpt_Op<"weight_only_linear",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "Linear layer with low-bit weights and float activations";
  let description = [{
    `y = x * dequantize(W)^T + bias` for `x : [..., K]`, a logical weight `W`
    of shape `[N, K]` (output channels first, as in `torch.nn.Linear` and
    ONNX `Gemm` with `transB`), and `y : [..., N]`.

    `weight` holds `W` as stored: for storage narrower than 8 bits it is the
    `qopt.pack`ed byte tensor `[N, K * B / 8] x i8`, otherwise `[N, K]` of the
    storage element type. `scale`, `zero_point` and `act_order` are those of
    `qopt.dequantize` for `W` under `scheme`, whose granularity is
    `per_tensor`, `per_channel` along axis 0 or `per_group` along axis 1.

    A code generator implements this op by dequantizing in registers, so the
    full-precision weight never exists in memory; `qopt-expand-quant-ops`
    decomposes it into `qopt.unpack`, `qopt.dequantize` and a contraction
    where no such kernel exists.

    Example:

    ```mlir
    %y = qopt.weight_only_linear %x, %w scale(%s : tensor<256x4xf16>)
           scheme <storage = i4, granularity = per_group, axis = 1,
                           group_size = 128>
           : tensor<?x512xf32>, tensor<256x256xi8> -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins QOpt_FloatTensor:$input, QOpt_StorageTensor:$weight,
                       QOpt_FloatTensor:$scale,
                       Optional<QOpt_StorageTensor>:$zero_point,
                       Optional<QOpt_IntTensor>:$act_order,
                       Optional<QOpt_FloatTensor>:$bias,
                       QOpt_SchemeAttr:$scheme);
  let results = (outs QOpt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `scale` `(` $scale `:` type($scale) `)`
    (`zero_point` `(` $zero_point^ `:` type($zero_point) `)`)?
    (`act_order` `(` $act_order^ `:` type($act_order) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    `scheme` $scheme attr-dict `:` type($input) `,` type($weight) `->`
    type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The logical (unpacked) weight type `[N, K] x storage`; K is dynamic
    /// only when neither the input nor the packed weight fixes it.
    ::mlir::RankedTensorType getLogicalWeightType();
  }];
}

def QOpt_QuantizedLinearOp : QOpt_Op<"quantized_linear",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "Linear layer with quantized activations and weights (W8A8)";
  let description = [{
    `y = ((xq - xz) * (Wq - wz)^T) * (x_scale * w_scale) + bias`: the integer
    (or fp8) products accumulate exactly in i32 (f32 for fp8), and one float
    rescale per output element follows. This is only exact when both scales
    factor out of the dot product, so the input scheme is `per_tensor` or
    `per_token` and the weight scheme `per_tensor` or `per_channel` along
    axis 0; group-wise weights belong to `qopt.weight_only_linear`.

    `weight` is stored as for `qopt.weight_only_linear` (packed when narrower
    than 8 bits, e.g. W4A8). Integer inputs and weights must both be integer,
    fp8 both fp8.

    Example:

    ```mlir
    %y = qopt.quantized_linear %xq, %wq
           input_scale(%xs : tensor<?xf32>) weight_scale(%ws : tensor<256xf32>)
           schemes(<storage = i8, granularity = per_token>,
                   <storage = i8, granularity = per_channel, axis = 0>)
           : tensor<?x512xi8>, tensor<256x512xi8> -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins QOpt_StorageTensor:$input, QOpt_StorageTensor:$weight,
                       QOpt_FloatTensor:$input_scale,
                       Optional<QOpt_StorageTensor>:$input_zero_point,
                       QOpt_FloatTensor:$weight_scale,
                       Optional<QOpt_StorageTensor>:$weight_zero_point,
                       Optional<QOpt_FloatTensor>:$bias,
                       QOpt_SchemeAttr:$input_scheme,
                       QOpt_SchemeAttr:$weight_scheme);
  let results = (outs QOpt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight
    `input_scale` `(` $input_scale `:` type($input_scale) `)`
    (`input_zero_point` `(` $input_zero_point^ `:` type($input_zero_point)
     `)`)?
    `weight_scale` `(` $weight_scale `:` type($weight_scale) `)`
    (`weight_zero_point` `(` $weight_zero_point^ `:` type($weight_zero_point)
     `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    `schemes` `(` $input_scheme `,` $weight_scheme `)`
    attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The logical (unpacked) weight type `[N, K] x storage`.
    ::mlir::RankedTensorType getLogicalWeightType();
  }];
}

def QOpt_SmoothOp : QOpt_Op<"smooth",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Divide activations by a per-channel smoothing scale";
  let description = [{
    `y[..., k] = x[..., k] / scale[k]` along the innermost dimension. This is
    SmoothQuant's migration of activation outliers into the weights (the
    consumer's weight column `k` is multiplied by `scale[k]` at the same
    time). It is kept as an op, not folded straight away, so that a later
    pass can fold it into the producer (the preceding norm's gamma/beta) and
    tests can see where smoothing was applied.

    Example:

    ```mlir
    %y = qopt.smooth %x, %s : tensor<?x512xf32>, tensor<512xf32>
    ```
  }];
  let arguments = (ins QOpt_FloatTensor:$input, QOpt_FloatTensor:$scale);
  let results = (outs QOpt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale attr-dict `:` type($input) `,` type($scale)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def QOpt_PermuteOp : QOpt_Op<"permute",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Permute the channels (innermost dimension) of a tensor";
  let description = [{
    `y[..., j] = x[..., permutation[j]]`: a gather along the innermost
    dimension with a compile-time permutation of `[0, C)`, `C` the static
    size of that dimension (every index exactly once).

    GPTQ with act-order and groups over the permuted columns
    (`qopt-quantize-weights-gptq{act-order=true static-groups=false}`)
    stores a layer's input channels in the order it quantized them, so that
    groups are contiguous and the layer is the plain per-group
    `qopt.weight_only_linear` every kernel runs (no `g_idx` / `act_order`
    operand); this op puts the layer's input into that order.
    `qopt-fold-input-permutations` folds it into the producer of the input
    where the dataflow allows (the output channels of a preceding linear
    layer, through elementwise ops), so that it costs nothing at run time;
    where it stays, `qopt-expand-quant-ops` lowers it to a `linalg.generic`
    that gathers with `tensor.extract`.

    An identity permutation folds away, and two permutations in a row
    compose into one.

    Example:

    ```mlir
    %y = qopt.permute %x [2, 0, 3, 1] : tensor<?x4xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input $permutation attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Calibration
//===----------------------------------------------------------------------===//

def QOpt_ObserveOp : QOpt_Op<"observe", [
    AllTypesMatch<["input", "result"]>,
    MemoryEffects<[MemWrite<QOpt_CalibrationResource>]>]> {
  let summary = "A calibration point: observe the values flowing through";
  let description = [{
    Returns its input unchanged. Calibration runs the model on
    representative data and records, for every `qopt.observe`, the statistic
    its `observer` asks for; it then writes the result back as `stats`.
    Quantization passes read `stats` and remove the observation points.

    `name` identifies the point across runs and in reports (by convention
    the ONNX node name and the role of the value, e.g.
    `"/model/layers.0/mlp/up_proj/MatMul:input"`).

    Example:

    ```mlir
    %y = qopt.observe %x name "fc1:input"
           observer <kind = abs_max, axis = 1>
           stats <samples = 64, absmax = dense<[1.0, 7.5]> : tensor<2xf32>>
           : tensor<?x2xf32>
    ```
  }];
  let arguments = (ins QOpt_FloatTensor:$input, StrAttr:$name,
                       QOpt_ObserverAttr:$observer,
                       OptionalAttr<QOpt_StatsAttr>:$stats);
  let results = (outs QOpt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `name` $name `observer` $observer (`stats` $stats^)? attr-dict
    `:` type($input)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Run-time checks
//===----------------------------------------------------------------------===//

def QOpt_CheckOp : QOpt_Op<"check", [MemoryEffects<[MemWrite]>]> {
  let summary = "Fail the run with a message unless a condition holds";
  let description = [{
    A contract that the compiler assumed at compile time and that only the
    run-time values can confirm: that dynamic sizes broadcast, that a
    reshape keeps the element count, that gather indices are in range. When
    `condition` is false the model's run stops and its caller gets an error
    carrying `message`, in which `{N}` stands for the run-time value of
    `values[N]` (printed as a signed integer). The importer writes the ONNX
    node and the shapes involved into the message.

    The write effect keeps the check in place: memory reads that it guards
    are never moved above it, and it is never dropped as dead. A check whose
    condition folds to true is erased.

    `qopt-lower-runtime-checks` lowers it to a call of libqrt's
    `qrt_check_failed` (which ends the run with `QRT_ERROR_CHECK`) or, for
    the reference path without libqrt, to `cf.assert`.

    Example:

    ```mlir
    qopt.check %same, "node 'add_1' (Add): shapes [{0}, 4] and [{1}, 4] do not broadcast" (%n, %m : index, index)
    ```
  }];
  let arguments = (ins I1:$condition, StrAttr:$message,
                       Variadic<AnySignlessIntegerOrIndex>:$values);
  let assemblyFormat = [{
    $condition `,` $message (`(` $values^ `:` type($values) `)`)? attr-dict
  }];
  let hasVerifier = 1;
  let hasCanonicalizeMethod = 1;
}

#endif // QOPT_DIALECT_QOPT_QOPTOPS_TD
