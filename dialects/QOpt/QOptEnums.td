//===- QOptEnums.td - qopt enums ---------------------------*- tablegen -*-===//

#ifndef QOPT_DIALECT_QOPT_QOPTENUMS_TD
#define QOPT_DIALECT_QOPT_QOPTENUMS_TD

include "mlir/IR/EnumAttr.td"

def QOpt_Granularity : I32EnumAttr<"Granularity",
    "how many elements share one scale", [
      I32EnumAttrCase<"PerTensor", 0, "per_tensor">,
      I32EnumAttrCase<"PerChannel", 1, "per_channel">,
      I32EnumAttrCase<"PerGroup", 2, "per_group">,
      I32EnumAttrCase<"PerToken", 3, "per_token">
    ]> {
  let cppNamespace = "::mlir::qopt";
  let genSpecializedAttr = 0;
}

def QOpt_ObserverKind : I32EnumAttr<"ObserverKind",
    "statistic gathered at a calibration point", [
      I32EnumAttrCase<"MinMax", 0, "min_max">,
      I32EnumAttrCase<"Percentile", 1, "percentile">,
      I32EnumAttrCase<"MSE", 2, "mse">,
      I32EnumAttrCase<"Histogram", 3, "histogram">,
      I32EnumAttrCase<"AbsMax", 4, "abs_max">,
      I32EnumAttrCase<"Hessian", 5, "hessian">
    ]> {
  let cppNamespace = "::mlir::qopt";
  let genSpecializedAttr = 0;
}

#endif // QOPT_DIALECT_QOPT_QOPTENUMS_TD
