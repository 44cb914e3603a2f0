// Statistics files come from calibration-reference.py, which writes the
// format of docs/calibration.md independently of qrun (test/Runner/
// calibrate.test applies a file from a real calibration run).
//
// RUN: rm -rf %t && split-file %s %t
// RUN: %python %S/../../../Runner/calibration-reference.py write %t/good.qstats good
// RUN: qopt %t/good.mlir --qopt-apply-calibration=stats=%t/good.qstats 2> %t/warn | FileCheck %t/good.mlir
// RUN: FileCheck %t/good.mlir --check-prefix=WARN < %t/warn
// RUN: %python %S/../../../Runner/calibration-reference.py write %t/version.qstats version
// RUN: qopt %t/version.mlir -verify-diagnostics --qopt-apply-calibration=stats=%t/version.qstats
// RUN: %python %S/../../../Runner/calibration-reference.py write %t/version1.qstats version1
// RUN: qopt %t/version1.mlir -verify-diagnostics --qopt-apply-calibration=stats=%t/version1.qstats
// RUN: %python %S/../../../Runner/calibration-reference.py write %t/percentile.qstats percentile
// RUN: qopt %t/percentile.mlir --qopt-apply-calibration=stats=%t/percentile.qstats | FileCheck %t/percentile.mlir
// RUN: qopt %t/bins.mlir -verify-diagnostics --qopt-apply-calibration=stats=%t/percentile.qstats
// RUN: %python %S/../../../Runner/calibration-reference.py write %t/checksum.qstats checksum
// RUN: qopt %t/checksum.mlir -verify-diagnostics --qopt-apply-calibration=stats=%t/checksum.qstats
// RUN: %python %S/../../../Runner/calibration-reference.py write %t/truncated.qstats truncated
// RUN: qopt %t/truncated.mlir -verify-diagnostics --qopt-apply-calibration=stats=%t/truncated.qstats
// RUN: %python %S/../../../Runner/calibration-reference.py write %t/badlength.qstats badlength
// RUN: qopt %t/badlength.mlir -verify-diagnostics --qopt-apply-calibration=stats=%t/badlength.qstats
// RUN: qopt %t/magic.mlir -verify-diagnostics --qopt-apply-calibration=stats=%t/magic.mlir
// RUN: qopt %t/nofile.mlir -verify-diagnostics --qopt-apply-calibration=stats=%t/missing.qstats
// RUN: qopt %t/nooption.mlir -verify-diagnostics --qopt-apply-calibration
// RUN: %python %S/../../../Runner/calibration-reference.py write %t/nan.qstats nan
// RUN: qopt %t/nan.mlir -verify-diagnostics --qopt-apply-calibration=stats=%t/nan.qstats
// RUN: %python %S/../../../Runner/calibration-reference.py write %t/empty.qstats empty
// RUN: qopt %t/empty.mlir -verify-diagnostics --qopt-apply-calibration=stats=%t/empty.qstats
// RUN: %python %S/../../../Runner/calibration-reference.py write %t/channels.qstats channels
// RUN: qopt %t/channels.mlir -verify-diagnostics --qopt-apply-calibration=stats=%t/channels.qstats
// RUN: %python %S/../../../Runner/calibration-reference.py write %t/missing.qstats missing
// RUN: qopt %t/missing.mlir -verify-diagnostics --qopt-apply-calibration=stats=%t/missing.qstats

//--- good.mlir
// CHECK-LABEL: func.func @good
// CHECK: qopt.observe %arg0 name "fc1:input" observer <kind = min_max> stats <samples = 4, min = dense<-1.000000e+00> : tensor<f32>, max = dense<2.000000e+00> : tensor<f32>> : tensor<?x4xf32>
// A point of the file that no op names is only a warning.
// WARN: warning: qopt-apply-calibration: '{{.*}}good.qstats' has point 'gone:input', which no qopt.observe names
func.func @good(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = qopt.observe %x name "fc1:input" observer <kind = min_max> : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

//--- version1.mlir
// expected-error @+1 {{version1.qstats: statistics file version 1, this build reads version 2 (written by an older qrun, before histograms); rerun qrun calibrate}}
module {
}

//--- percentile.mlir
// The 50th percentile of a histogram [1, 1, 1, 1] over [0, 4): the count
// reaches half at bin 1, whose upper edge is 2; the range [-3, 3] clipped
// to [-2, 2].
// CHECK-LABEL: func.func @percentile
// CHECK: observer <kind = percentile, percentile = 5.000000e+01, bins = 4> stats <samples = 4, min = dense<-2.000000e+00> : tensor<f32>, max = dense<2.000000e+00> : tensor<f32>>
func.func @percentile(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = qopt.observe %x name "fc1:input" observer <kind = percentile, percentile = 50.0, bins = 4> : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

//--- bins.mlir
func.func @bins(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{point 'fc1:input' (percentile) has a histogram of 4 bins, the op asks for 8; recompile and rerun calibration}}
  %0 = qopt.observe %x name "fc1:input" observer <kind = percentile, percentile = 50.0, bins = 8> : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

//--- version.mlir
// expected-error @+1 {{version.qstats: statistics file version 7, this build reads version 2; rerun qrun calibrate}}
module {
}

//--- checksum.mlir
// expected-error @+1 {{checksum.qstats: statistics file checksum mismatch (corrupt file)}}
module {
}

//--- truncated.mlir
// expected-error @+1 {{truncated.qstats: truncated or padded statistics file (payload of}}
module {
}

//--- badlength.mlir
// expected-error @+1 {{badlength.qstats: corrupt statistics file (point 0 is malformed)}}
module {
}

//--- magic.mlir
// expected-error @+1 {{magic.mlir: not a qopt statistics file (bad magic)}}
module {
}

//--- nofile.mlir
// expected-error @+1 {{qopt-apply-calibration: cannot read '}}
module {
}

//--- nooption.mlir
// expected-error @+1 {{qopt-apply-calibration: no statistics file given (stats=FILE)}}
module {
}

//--- nan.mlir
func.func @nan(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{point 'fc1:input' (min_max) saw 3 NaN or infinite values among 4; fix the model or the calibration data, ranges around them would give NaN scales}}
  %0 = qopt.observe %x name "fc1:input" observer <kind = min_max> : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

//--- empty.mlir
func.func @empty(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{point 'fc1:input' (min_max) saw no samples: the calibration set never reached it}}
  %0 = qopt.observe %x name "fc1:input" observer <kind = min_max> : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

//--- channels.mlir
func.func @channels(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{point 'fc1:input' (min_max) has 2 channels where a per-tensor observer has 1}}
  %0 = qopt.observe %x name "fc1:input" observer <kind = min_max> : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

//--- missing.mlir
func.func @missing(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{has no statistics for point 'fc1:input' (min_max); was it calibrated with this model?}}
  %0 = qopt.observe %x name "fc1:input" observer <kind = min_max> : tensor<?x4xf32>
  // expected-error @+1 {{has no statistics for point 'fc1:input' (abs_max); was it calibrated with this model?}}
  %1 = qopt.observe %0 name "fc1:input" observer <kind = abs_max, axis = 1> : tensor<?x4xf32>
  return %1 : tensor<?x4xf32>
}
