// The example plugin, loaded into qopt at run time.
// RUN: qopt %s --load-pass-plugin=%keep_fp_plugin \
// RUN:   --pass-pipeline='builtin.module(qopt-example-keep-full-precision{pattern=^(lm_head|/model/layers\.0/)})' \
// RUN:   --mlir-print-debuginfo | FileCheck %s
// RUN: not qopt %s --load-pass-plugin=%keep_fp_plugin \
// RUN:   --pass-pipeline='builtin.module(qopt-example-keep-full-precision{pattern=a[})' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BADPATTERN
// RUN: not qopt %s --load-pass-plugin=%keep_fp_plugin \
// RUN:   --pass-pipeline='builtin.module(qopt-example-keep-full-precision)' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=EMPTY
// Without the plugin the pass does not exist.
// RUN: not qopt %s --pass-pipeline='builtin.module(qopt-example-keep-full-precision{pattern=x})' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NOPLUGIN
// A missing plugin or a library that is no plugin is an error (upstream
// mlir-opt only warns and runs on without the user's passes).
// RUN: not qopt %s --load-pass-plugin=%t.does-not-exist.so 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not qopt %s --load-pass-plugin %qopt_libs/libQOptIR.so 2>&1 | FileCheck %s --check-prefix=NOTPLUGIN
// RUN: not qopt %s --load-dialect-plugin=%keep_fp_plugin 2>&1 | FileCheck %s --check-prefix=NOTDIALECT

// CHECK-LABEL: func.func @model
// CHECK: arith.mulf %{{.*}}, %{{.*}} {qopt.keep_full_precision} : tensor<4xf32> loc(#[[L0:.*]])
// CHECK: arith.addf %{{.*}}, %{{.*}} : tensor<4xf32> loc(#[[L1:.*]])
// CHECK: arith.subf %{{.*}}, %{{.*}} {qopt.keep_full_precision} : tensor<4xf32> loc(#[[HEAD:.*]])
// CHECK-DAG: #[[L0]] = loc("/model/layers.0/mlp/MatMul")
// CHECK-DAG: #[[L1]] = loc("/model/layers.1/mlp/MatMul")
// CHECK-DAG: #[[HEAD]] = loc(fused[#[[NAME:.*]], #{{.*}}])
// CHECK-DAG: #[[NAME]] = loc("lm_head/MatMul")

// BADPATTERN: qopt-example-keep-full-precision: invalid pattern 'a[': brackets ([ ]) not balanced
// EMPTY: qopt-example-keep-full-precision: invalid pattern '': pattern is empty
// NOPLUGIN: 'qopt-example-keep-full-precision' does not refer to a registered pass or pass pipeline
// MISSING: qopt: error: cannot load pass plugin '{{.*}}does-not-exist.so': {{.*}}No such file or directory
// NOTPLUGIN: qopt: error: '{{.*}}libQOptIR.so' is not an MLIR pass plugin: it does not define mlirGetPassPluginInfo
// NOTDIALECT: qopt: error: '{{.*}}KeepFullPrecisionPlugin.so' is not an MLIR dialect plugin: it does not define mlirGetDialectPluginInfo

func.func @model(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = arith.mulf %x, %x : tensor<4xf32> loc("/model/layers.0/mlp/MatMul")
  %1 = arith.addf %0, %x : tensor<4xf32> loc("/model/layers.1/mlp/MatMul")
  %2 = arith.subf %1, %x : tensor<4xf32> loc(fused["lm_head/MatMul", "model.onnx":3:4])
  return %2 : tensor<4xf32>
}
