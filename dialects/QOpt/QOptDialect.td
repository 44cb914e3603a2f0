//===- QOptDialect.td - qopt dialect definition ------------*- tablegen -*-===//
//
// The qopt dialect: quantization schemes, calibration points and quantized
// compute for the qopt compiler.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_QOPTDIALECT_TD
#define QOPT_DIALECT_QOPT_QOPTDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def QOpt_Dialect : Dialect {
  let name = "qopt";
  let cppNamespace = "::mlir::qopt";
  let summary = "Quantization schemes, calibration and quantized compute";
  let description = [{
    The `qopt` dialect is the language of the qopt quantization compiler. It
    sits between the imported full-precision graph (linalg/tensor/arith) and
    the code generators, and expresses:

    * **Quantization parameters.** `#qopt.scheme` names the storage type
      (i8, ui8, i4, ui4, i3, ui3, i2, ui2, f8E4M3FN, f8E4M3FNUZ, f8E5M2,
      f8E5M2FNUZ), the granularity
      (per tensor, per channel, per group of G along an axis, per token),
      symmetry and range. The numbers themselves (scales, zero points, GPTQ's
      act-order) are SSA tensor operands, so they can be large
      `dense_resource` constants or values computed at run time (dynamic
      per-token activation scales).
    * **Calibration.** `qopt.observe` marks a value to be observed with an
      `#qopt.observer`; calibration writes `#qopt.stats` back onto it.
    * **Quantized compute.** `qopt.quantize` / `qopt.dequantize`,
      `qopt.pack` / `qopt.unpack` for sub-byte storage,
      `qopt.weight_only_linear` (packed low-bit weights, float activations),
      `qopt.quantized_linear` (W8A8) and `qopt.smooth` (SmoothQuant's
      per-channel scale).

    Where the parameters are few compile-time constants that describe the
    element type of a value, the upstream `!quant.uniform` types and the
    `quant.qcast` / `quant.dcast` ops are used as they are; qopt pipelines
    turn those casts into qopt casts (`qopt-convert-quant-casts`) so that
    both round and clamp the same way. The qopt ops exist for what those
    types cannot carry: fp8 storage, scale tensors of millions of elements
    kept as `dense_resource` blobs, run-time scales, act-order and
    bit-packed storage.

    Ops quantization passes must leave in full precision carry the unit
    attribute `qopt.keep_full_precision`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::quant::QuantDialect"];
  let extraClassDeclaration = [{
    void registerAttributes();

    /// Discardable unit attribute: keep the op in full precision; every
    /// quantization pass must leave it alone.
    static constexpr ::llvm::StringLiteral kKeepFullPrecisionAttrName =
        "qopt.keep_full_precision";
    /// On the module of a calibration build after `qopt-lower-observe`: an
    /// array with a dictionary per observation point, in the order of the
    /// point ids that its `qrt_observe` calls pass (the artifact's table).
    static constexpr ::llvm::StringLiteral kObservePointsAttrName =
        "qopt.observe_points";
  }];
}

class QOpt_Op<string mnemonic, list<Trait> traits = []>
    : Op<QOpt_Dialect, mnemonic, traits>;

class QOpt_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<QOpt_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // QOPT_DIALECT_QOPT_QOPTDIALECT_TD
