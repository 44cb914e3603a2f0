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

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
