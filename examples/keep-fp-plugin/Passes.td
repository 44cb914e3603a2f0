//===- Passes.td - the keep-full-precision example plugin --*- tablegen -*-===//

#ifndef QOPT_EXAMPLES_KEEPFP_PASSES_TD
#define QOPT_EXAMPLES_KEEPFP_PASSES_TD

include "mlir/Pass/PassBase.td"

def KeepFullPrecision : Pass<"qopt-example-keep-full-precision"> {
  let summary = "Keep layers whose ONNX node name matches a pattern in full "
                "precision";
  let description = [{
    Marks every op whose location carries a name (`loc("...")`, as the ONNX
    importer records node names) matching `pattern` with the
    `qopt.keep_full_precision` unit attribute, which all qopt quantization
    passes honour. Typical uses: keep `lm_head` or the first and last
    transformer blocks in full precision.
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect"];
  let options = [
    Option<"pattern", "pattern", "std::string", /*default=*/"",
           "Extended regular expression matched against location names">
  ];
}

#endif // QOPT_EXAMPLES_KEEPFP_PASSES_TD
