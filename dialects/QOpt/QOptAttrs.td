//===- QOptAttrs.td - qopt attributes ----------------------*- tablegen -*-===//

#ifndef QOPT_DIALECT_QOPT_QOPTATTRS_TD
#define QOPT_DIALECT_QOPT_QOPTATTRS_TD

include "QOpt/QOptDialect.td"
include "QOpt/QOptEnums.td"
include "mlir/IR/EnumAttr.td"

// `true` / `false` keywords; the generic integer field parser does not take
// them.
class QOpt_BoolParameter<string default>
    : AttrOrTypeParameter<"bool", "boolean flag"> {
  let parser = "::mlir::qopt::detail::parseBoolParameter($_parser)";
  let printer = "$_printer << ($_self ? \"true\" : \"false\")";
  let defaultValue = default;
}

// A double printed in its shortest round-tripping form.
class QOpt_F64Parameter<string default>
    : AttrOrTypeParameter<"::llvm::APFloat", "64-bit float"> {
  let parser = "::mlir::qopt::detail::parseF64Parameter($_parser)";
  let printer = "$_printer.printFloat($_self)";
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
  let defaultValue = "::llvm::APFloat(" # default # ")";
}

def QOpt_SchemeAttr : QOpt_Attr<"Scheme", "scheme"> {
  let summary = "How a tensor is quantized: storage, granularity, symmetry";
  let description = [{
    A quantization scheme says everything about a quantized tensor except its
    numbers; the scales, zero points and act-order are operands of the op that
    uses the scheme, shaped as the granularity requires (`S` is the shape of
    the full-precision tensor, `r` its rank):

    | granularity   | parameters         | scale/zero-point shape              |
    |---------------|--------------------|-------------------------------------|
    | `per_tensor`  |                    | `[]` (rank 0)                       |
    | `per_channel` | `axis`             | `[S[axis]]`                         |
    | `per_group`   | `axis, group_size` | `S` with `S[axis] / group_size`     |
    | `per_token`   |                    | `S[0 .. r-1)` (all but the last)    |

    `storage` is one of `i8, ui8, i4, ui4, i3, ui3, i2, ui2` (signless `iN`
    means signed) or `f8E4M3FN`, `f8E4M3FNUZ`, `f8E5M2`, `f8E5M2FNUZ`
    (ONNX's float8 types). Tensors of quantized values always
    hold the signless integer of that width (or the fp8 type); the scheme says
    how the bits are read. Integer storage spans `[-2^(b-1), 2^(b-1) - 1]`
    (signed) or `[0, 2^b - 1]` (unsigned); `narrow_range` drops the most
    negative signed value so that the range is symmetric around zero.

    `symmetric` (the default) means there is no zero point:
    `q = clamp(round(x / s))`. An asymmetric scheme takes a zero point of the
    storage type: `q = clamp(round(x / s) + z)`, `x = (q - z) * s`. Rounding
    is to nearest, ties to even, as ONNX QuantizeLinear does. fp8 storage is
    always symmetric.

    Example:

    ```mlir
    // GPTQ/AWQ-style int4, groups of 128 input channels, with zero points.
    #qopt.scheme<storage = ui4, granularity = per_group, axis = 1,
                 group_size = 128, symmetric = false>
    // int8 per output channel, symmetric and narrow ([-127, 127]).
    #qopt.scheme<storage = i8, granularity = per_channel, axis = 0,
                 narrow_range = true>
    ```
  }];
  let parameters = (ins
    "::mlir::Type":$storage,
    EnumParameter<QOpt_Granularity>:$granularity,
    OptionalParameter<"std::optional<int64_t>">:$axis,
    OptionalParameter<"std::optional<int64_t>">:$group_size,
    QOpt_BoolParameter<"true">:$symmetric,
    QOpt_BoolParameter<"false">:$narrow_range
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Bit width of one stored value.
    unsigned getStorageWidth() const;
    /// True for float8 storage.
    bool isFloatStorage() const;
    /// True unless the storage is an unsigned integer type.
    bool isSignedStorage() const;
    /// The element type of tensors holding quantized values: the signless
    /// integer of the storage width, or the fp8 type.
    ::mlir::Type getStorageElementType() const;
    /// Smallest and largest storable values (as doubles so that fp8 fits).
    double getStorageMin() const;
    double getStorageMax() const;
  }];
}

def QOpt_ObserverAttr : QOpt_Attr<"Observer", "observer"> {
  let summary = "What calibration records at an observation point";
  let description = [{
    * `min_max`: running minimum and maximum (per tensor, or per channel along
      `axis`).
    * `percentile`: clip range at the given `percentile` of |x|.
    * `mse`: clip range minimising the int8 quantization mean squared error.
    * `histogram`: KL (entropy) calibration, as TensorRT does it.

    The last three record a histogram of |x| over the whole tensor, `bins`
    bins (2 to 1048576; `qopt-insert-observers` asks for at least 128 for
    `histogram`, which compares 128 int8 levels, and with fewer its clip is
    the whole range) over a range that grows by doubling, and calibration
    derives their clip range from it (docs/calibration.md).
    * `abs_max`: max |x| per channel along `axis` (SmoothQuant, AWQ), or per
      tensor without `axis`.
    * `hessian`: `H = 2 X^T X` summed over all tokens, `X` being the input of
      a linear layer reshaped to `[tokens, K]` (GPTQ).

    Example:

    ```mlir
    #qopt.observer<kind = percentile, percentile = 99.99>
    #qopt.observer<kind = abs_max, axis = 1>
    ```
  }];
  let parameters = (ins
    EnumParameter<QOpt_ObserverKind>:$kind,
    OptionalParameter<"std::optional<int64_t>">:$axis,
    QOpt_F64Parameter<"99.99">:$percentile,
    DefaultValuedParameter<"int64_t", "2048">:$bins
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def QOpt_StatsAttr : QOpt_Attr<"Stats", "stats"> {
  let summary = "Statistics that calibration wrote back to a point";
  let description = [{
    The result of calibration at one `qopt.observe`: how many samples were
    seen and whichever statistics its observer gathers. Large statistics
    (a 4096x4096 Hessian is 64 MiB) are `dense_resource` blobs, which
    bytecode stores out of line.

    Example:

    ```mlir
    #qopt.stats<samples = 512, min = dense<-3.5> : tensor<f32>,
                max = dense<4.25> : tensor<f32>>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "0">:$samples,
    OptionalParameter<"::mlir::ElementsAttr">:$min,
    OptionalParameter<"::mlir::ElementsAttr">:$max,
    OptionalParameter<"::mlir::ElementsAttr">:$absmax,
    OptionalParameter<"::mlir::ElementsAttr">:$histogram,
    OptionalParameter<"::mlir::ElementsAttr">:$hessian
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // QOPT_DIALECT_QOPT_QOPTATTRS_TD
