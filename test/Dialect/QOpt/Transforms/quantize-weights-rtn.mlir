// The test is split into files because pass options apply to a whole run:
// each file below is run with its own options.
//
// RUN: split-file %s %t
// RUN: qopt %t/int8.mlir -split-input-file --qopt-quantize-weights-rtn='bits=8 granularity=per-channel' | FileCheck %t/int8.mlir
// RUN: qopt %t/int4.mlir -split-input-file --qopt-quantize-weights-rtn='bits=4 symmetric=false granularity=per-group group-size=4' | FileCheck %t/int4.mlir
// RUN: qopt %t/select.mlir -split-input-file --qopt-quantize-weights-rtn='bits=8 granularity=per-channel overrides=attn.*=fp,mlp.down=int4-g4-asym,mlp.*=int2-pt,final=int4-pc' | FileCheck %t/select.mlir
// RUN: qopt %t/select.mlir -split-input-file --qopt-quantize-weights-rtn='bits=8 granularity=per-channel quantize-head=true' | FileCheck %t/select.mlir --check-prefix=HEAD
// RUN: qopt %t/resources.mlir --qopt-quantize-weights-rtn='bits=8 symmetric=false granularity=per-tensor resource-threshold=0' | FileCheck %t/resources.mlir
// RUN: qopt %t/diagnostics.mlir -split-input-file -verify-diagnostics --qopt-quantize-weights-rtn='bits=3 granularity=per-group group-size=16' | FileCheck %t/diagnostics.mlir
// RUN: qopt %t/bad-bits.mlir -verify-diagnostics --qopt-quantize-weights-rtn='bits=5'
// RUN: qopt %t/bad-granularity.mlir -verify-diagnostics --qopt-quantize-weights-rtn='granularity=per-row'
// RUN: qopt %t/bad-group-size.mlir -verify-diagnostics --qopt-quantize-weights-rtn='group-size=0'
// RUN: qopt %t/bad-override-bits.mlir -verify-diagnostics --qopt-quantize-weights-rtn='overrides=fc*=int5'
// RUN: qopt %t/bad-override-kind.mlir -verify-diagnostics --qopt-quantize-weights-rtn='overrides=fc*=float8'
// RUN: qopt %t/bad-override-part.mlir -verify-diagnostics --qopt-quantize-weights-rtn='overrides=fc*=int4-q32'
// RUN: qopt %t/bad-override-twice.mlir -verify-diagnostics --qopt-quantize-weights-rtn='overrides=fc*=int4-pc-g32'
// RUN: qopt %t/bad-override-symmetry.mlir -verify-diagnostics --qopt-quantize-weights-rtn='overrides=fc*=int4-sym-asym'
// RUN: qopt %t/bad-override-form.mlir -verify-diagnostics --qopt-quantize-weights-rtn='overrides=fc1'
// RUN: qopt %t/bad-override-glob.mlir -verify-diagnostics --qopt-quantize-weights-rtn='overrides=fc[=fp'
// RUN: qopt %t/clip.mlir --qopt-quantize-weights-rtn='bits=3 granularity=per-channel clip-search=true' 2>&1 | FileCheck %t/clip.mlir --check-prefixes=CHECK,CLIP
// RUN: qopt %t/clip.mlir --qopt-quantize-weights-rtn='bits=3 granularity=per-channel overrides=fc1=int3-clip' 2>&1 | FileCheck %t/clip.mlir --check-prefixes=CHECK,CLIP
// RUN: qopt %t/clip.mlir --qopt-quantize-weights-rtn='bits=3 granularity=per-channel' 2>&1 | FileCheck %t/clip.mlir --check-prefixes=CHECK,MINMAX
// RUN: qopt %t/clip.mlir --qopt-quantize-weights-rtn='bits=3 granularity=per-channel clip-search=true overrides=fc1=int3-noclip' 2>&1 | FileCheck %t/clip.mlir --check-prefixes=CHECK,MINMAX
// RUN: qopt %t/bad-override-clip.mlir -verify-diagnostics --qopt-quantize-weights-rtn='overrides=fc*=int4-clip-noclip'

//--- int8.mlir

// int8, symmetric, per output channel: s = max|w| / 127, q = round_half_even
// (w / s), narrow range [-127, 127]. The weight is [K, N] = [4, 2], so the
// output channels are its columns.
//   column 0: [1.984375, -0.5, 0.0234375, 0.0390625], max 1.984375 = 127/64,
//             s = 1/64; w / s = [127, -32, 1.5, 2.5] -> [127, -32, 2, 2]
//   column 1: [0.5, -3.96875, 0.046875, -0.078125], max 3.96875 = 127/32,
//             s = 1/32; w / s = [16, -127, 1.5, -2.5] -> [16, -127, 2, -2]
// CHECK-LABEL: func.func @int8_per_channel
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}127, -32, 2, 2], [16, -127, 2, -2]]> : tensor<2x4xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[1.562500e-02, 3.125000e-02]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = qopt.weight_only_linear %arg0, %[[W]] scale(%[[S]] : tensor<2xf32>) scheme <storage = i8, granularity = per_channel, axis = 0, narrow_range = true> : tensor<?x4xf32>, tensor<2x4xi8> -> tensor<?x2xf32>
// CHECK: arith.negf %[[Y]]
// CHECK-NOT: tensor<4x2xf32>
func.func @int8_per_channel(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.984375, 0.5], [-0.5, -3.96875], [0.0234375, 0.046875], [0.0390625, -0.078125]]> : tensor<4x2xf32>
  %y = qopt.linear %x, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

// -----

// The same weight given as [N, K] (transpose_weight); the bias carries over.
// CHECK-LABEL: func.func @int8_transposed_bias
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}127, -32, 2, 2], [16, -127, 2, -2]]> : tensor<2x4xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[1.562500e-02, 3.125000e-02]> : tensor<2xf32>
// CHECK: qopt.weight_only_linear %arg0, %[[W]] scale(%[[S]] : tensor<2xf32>) bias(%arg1 : tensor<2xf32>) scheme <storage = i8, granularity = per_channel, axis = 0, narrow_range = true>
func.func @int8_transposed_bias(%x: tensor<3x4xf32>, %b: tensor<2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.984375, -0.5, 0.0234375, 0.0390625], [0.5, -3.96875, 0.046875, -0.078125]]> : tensor<2x4xf32>
  %y = qopt.linear %x, %w bias(%b : tensor<2xf32>) transpose_weight : tensor<3x4xf32>, tensor<2x4xf32> -> tensor<3x2xf32>
  %r = arith.negf %y : tensor<3x2xf32>
  return %r : tensor<3x2xf32>
}

// -----

// An all-zero channel gets scale 1 (not 0/127 = 0), so it quantizes to 0.
// CHECK-LABEL: func.func @zero_channel
// CHECK-DAG: arith.constant dense<{{\[\[}}0, 0], [127, -32]]> : tensor<2x2xi8>
// CHECK-DAG: arith.constant dense<[1.000000e+00, 1.562500e-02]> : tensor<2xf32>
func.func @zero_channel(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.0, 1.984375], [0.0, -0.5]]> : tensor<2x2xf32>
  %y = qopt.linear %x, %w : tensor<1x2xf32>, tensor<2x2xf32> -> tensor<1x2xf32>
  %r = arith.negf %y : tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

//--- int4.mlir

// int4, asymmetric, groups of 4: the range is widened to contain 0
// (lo = min(min, 0), hi = max(max, 0)), s = (hi - lo) / 15,
// z = round_half_even(-lo / s), q = clamp(round_half_even(w / s) + z, 0, 15).
//   row 0, group 0: [0, 0.5, 1, 7.5]: lo 0, hi 7.5, s 0.5, z 0
//                   q = [0, 1, 2, 15]
//   row 0, group 1: [-1, 0.375, 0.625, 2.75]: lo -1, hi 2.75, s 0.25, z 4
//                   w / s = [-4, 1.5, 2.5, 11] -> [-4, 2, 2, 11], + 4:
//                   q = [0, 6, 6, 15]
//   row 1, group 0: [-7.5, -1, -2.5, -0.25]: lo -7.5, hi 0 (widened), s 0.5,
//                   z 15; w / s = [-15, -2, -5, -0.5] -> [-15, -2, -5, 0],
//                   + 15: q = [0, 13, 10, 15]
//   row 1, group 1: all zeros: s 1 (guarded), z 0, q = [0, 0, 0, 0]
// Packed as qopt.pack does (two values a byte, the first in the low nibble),
// printed as signed i8:
//   row 0: 0x10 = 16, 0xF2 = -14, 0x60 = 96, 0xF6 = -10
//   row 1: 0xD0 = -48, 0xFA = -6, 0, 0
// Zero points are ui4 values in signless i4, which prints 15 as -1.
// CHECK-LABEL: func.func @int4_per_group_asymmetric
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}16, -14, 96, -10], [-48, -6, 0, 0]]> : tensor<2x4xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<{{\[\[}}5.000000e-01, 2.500000e-01], [5.000000e-01, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[Z:.*]] = arith.constant dense<{{\[\[}}0, 4], [-1, 0]]> : tensor<2x2xi4>
// CHECK: qopt.weight_only_linear %arg0, %[[W]] scale(%[[S]] : tensor<2x2xf32>) zero_point(%[[Z]] : tensor<2x2xi4>) scheme <storage = ui4, granularity = per_group, axis = 1, group_size = 4, symmetric = false> : tensor<?x8xf32>, tensor<2x4xi8> -> tensor<?x2xf32>
func.func @int4_per_group_asymmetric(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[0.0, 0.5, 1.0, 7.5, -1.0, 0.375, 0.625, 2.75], [-7.5, -1.0, -2.5, -0.25, 0.0, 0.0, 0.0, 0.0]]> : tensor<2x8xf32>
  %y = qopt.linear %x, %w transpose_weight : tensor<?x8xf32>, tensor<2x8xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

//--- select.mlir

// Which layers are quantized: overrides (first match wins), then
// keep_full_precision, the output head and non-constant weights.
// CHECK-LABEL: func.func @select
// attn.q: override 'fp'.
// CHECK: qopt.linear %arg0, %{{.*}} : tensor<?x8xf32>, tensor<8x2xf32>
// mlp.down: 'int4-g4-asym' (mlp.* comes later).
// CHECK: qopt.weight_only_linear {{.*}} scheme <storage = ui4, granularity = per_group, axis = 1, group_size = 4, symmetric = false>
// mlp.up: 'int2-pt', symmetric from the pass options.
// CHECK: qopt.weight_only_linear {{.*}} scheme <storage = i2, granularity = per_tensor, narrow_range = true> : tensor<?x8xf32>, tensor<2x2xi8>
// other: the pass options.
// CHECK: qopt.weight_only_linear {{.*}} scheme <storage = i8, granularity = per_channel, axis = 0, narrow_range = true> : tensor<?x8xf32>, tensor<2x8xi8>
// keep: qopt.keep_full_precision.
// CHECK: qopt.linear %arg0, %{{.*}} {qopt.keep_full_precision}
// dyn: the weight is not a constant (skipped without a diagnostic).
// CHECK: qopt.linear %arg0, %arg1
// model.lm_head: the head by name.
// CHECK: qopt.linear %arg0, %{{.*}} : tensor<?x8xf32>, tensor<8x2xf32>
// HEAD-LABEL: func.func @select
// HEAD-COUNT-4: qopt.weight_only_linear {{.*}} scheme <storage = i8, granularity = per_channel, axis = 0, narrow_range = true>
// HEAD: qopt.linear %arg0, %{{.*}} {qopt.keep_full_precision}
// HEAD: qopt.linear %arg0, %arg1
// HEAD: qopt.weight_only_linear {{.*}} scheme <storage = i8, granularity = per_channel, axis = 0, narrow_range = true>
func.func @select(%x: tensor<?x8xf32>, %wdyn: tensor<8x2xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, -1.0], [0.5, 0.25], [2.0, -2.0], [0.0, 1.0], [1.0, -1.0], [0.5, 0.25], [2.0, -2.0], [0.0, 1.0]]> : tensor<8x2xf32>
  %0 = qopt.linear %x, %w : tensor<?x8xf32>, tensor<8x2xf32> -> tensor<?x2xf32> loc("attn.q")
  %1 = qopt.linear %x, %w : tensor<?x8xf32>, tensor<8x2xf32> -> tensor<?x2xf32> loc("mlp.down")
  %2 = qopt.linear %x, %w : tensor<?x8xf32>, tensor<8x2xf32> -> tensor<?x2xf32> loc("mlp.up")
  %3 = qopt.linear %x, %w : tensor<?x8xf32>, tensor<8x2xf32> -> tensor<?x2xf32> loc("other")
  %4 = qopt.linear %x, %w {qopt.keep_full_precision} : tensor<?x8xf32>, tensor<8x2xf32> -> tensor<?x2xf32> loc("keep")
  %5 = qopt.linear %x, %wdyn : tensor<?x8xf32>, tensor<8x2xf32> -> tensor<?x2xf32> loc("dyn")
  %6 = qopt.linear %x, %w : tensor<?x8xf32>, tensor<8x2xf32> -> tensor<?x2xf32> loc("model.lm_head")
  %s1 = arith.addf %0, %1 : tensor<?x2xf32>
  %s2 = arith.addf %s1, %2 : tensor<?x2xf32>
  %s3 = arith.addf %s2, %3 : tensor<?x2xf32>
  %s4 = arith.addf %s3, %4 : tensor<?x2xf32>
  %s5 = arith.addf %s4, %5 : tensor<?x2xf32>
  %s6 = arith.addf %s5, %6 : tensor<?x2xf32>
  return %s6 : tensor<?x2xf32>
}

// -----

// The output head: its result is returned through a reshape.
// CHECK-LABEL: func.func @head
// CHECK: qopt.linear
// CHECK: tensor.expand_shape
// HEAD-LABEL: func.func @head
// HEAD: qopt.weight_only_linear
// HEAD: tensor.expand_shape
func.func @head(%x: tensor<4x8xf32>) -> tensor<2x2x2xf32> {
  %w = arith.constant dense<[[1.0, -1.0], [0.5, 0.25], [2.0, -2.0], [0.0, 1.0], [1.0, -1.0], [0.5, 0.25], [2.0, -2.0], [0.0, 1.0]]> : tensor<8x2xf32>
  %y = qopt.linear %x, %w : tensor<4x8xf32>, tensor<8x2xf32> -> tensor<4x2xf32> loc("output")
  %r = tensor.expand_shape %y [[0, 1], [2]] output_shape [2, 2, 2] : tensor<4x2xf32> into tensor<2x2x2xf32>
  return %r : tensor<2x2x2xf32>
}

// -----

// An override names the head explicitly: it wins over the head rule.
// CHECK-LABEL: func.func @head_override
// CHECK: qopt.weight_only_linear {{.*}} scheme <storage = i4, granularity = per_channel, axis = 0, narrow_range = true> : tensor<4x8xf32>, tensor<2x4xi8>
// HEAD-LABEL: func.func @head_override
// HEAD: qopt.weight_only_linear {{.*}} scheme <storage = i8, granularity = per_channel, axis = 0, narrow_range = true>
func.func @head_override(%x: tensor<4x8xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, -1.0], [0.5, 0.25], [2.0, -2.0], [0.0, 1.0], [1.0, -1.0], [0.5, 0.25], [2.0, -2.0], [0.0, 1.0]]> : tensor<8x2xf32>
  %y = qopt.linear %x, %w : tensor<4x8xf32>, tensor<8x2xf32> -> tensor<4x2xf32> loc(fused["final", "file.py":3:4])
  return %y : tensor<4x2xf32>
}

//--- resources.mlir

// A dense_resource weight in, dense_resource constants out (named after the
// layer), here uint8 asymmetric per tensor. Logical weight [N, K]:
// [[-1, 0, 2, 1.5], [2.984375, -0.5, 0.25, 0.5]]: lo -1, hi 2.984375,
// s = 3.984375 / 255 = 1/64, z = 64; q = round(w * 64) + 64 =
// [[0, 64, 192, 160], [255, 32, 80, 96]] = bytes 00 40 C0 A0 FF 20 50 60.
// Blobs start with their alignment as a little-endian u32: 64 for the
// weight, 4 for the f32 scale (1/64 = 0x3C800000), 1 for the zero point.
// CHECK-LABEL: func.func @resources
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<rtn.blk.0_fc.weight> : tensor<2x4xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense_resource<rtn.blk.0_fc.scale> : tensor<f32>
// CHECK-DAG: %[[Z:.*]] = arith.constant dense_resource<rtn.blk.0_fc.zero_point> : tensor<i8>
// CHECK: qopt.weight_only_linear %arg0, %[[W]] scale(%[[S]] : tensor<f32>) zero_point(%[[Z]] : tensor<i8>) scheme <storage = ui8, granularity = per_tensor, symmetric = false>
// CHECK-DAG: rtn.blk.0_fc.weight: "0x400000000040C0A0FF205060"
// CHECK-DAG: rtn.blk.0_fc.scale: "0x040000000000803C"
// CHECK-DAG: rtn.blk.0_fc.zero_point: "0x0100000040"
func.func @resources(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense_resource<w0> : tensor<2x4xf32>
  %y = qopt.linear %x, %w transpose_weight : tensor<?x4xf32>, tensor<2x4xf32> -> tensor<?x2xf32> loc("blk.0/fc")
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w0: "0x04000000000080BF00000000000000400000C03F00003F40000000BF0000803E0000003F"
    }
  }
#-}

//--- diagnostics.mlir

// What the pass cannot do as asked, with bits=3 and groups of 16.

// CHECK-LABEL: func.func @grouped
// CHECK: qopt.weight_only_linear {{.*}} scheme <storage = i3, granularity = per_group, axis = 1, group_size = 16, narrow_range = true> : tensor<?x16xf32>, tensor<2x6xi8>
// expected-remark @+1 {{rtn: quantized 1 layer (int3 g16), left 0 fp32: head 0, keep_full_precision 0, non-constant weight 0, override fp 0, not quantizable 0}}
module {
func.func @grouped(%x: tensor<?x16xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<0.5> : tensor<16x2xf32>
  // expected-remark @+1 {{rtn: quantized an unnamed layer as int3 g16}}
  %y = qopt.linear %x, %w : tensor<?x16xf32>, tensor<16x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}
}

// -----

// CHECK-LABEL: func.func @group_fallback
// CHECK: qopt.weight_only_linear {{.*}} scheme <storage = i3, granularity = per_channel, axis = 0, narrow_range = true> : tensor<?x24xf32>, tensor<2x9xi8>
// expected-remark @+1 {{rtn: quantized 1 layer (int3 pc), left 0 fp32}}
module {
func.func @group_fallback(%x: tensor<?x24xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<0.5> : tensor<24x2xf32>
  // expected-remark @+2 {{K = 24 is not a multiple of group size 16; quantized per channel instead}}
  // expected-remark @+1 {{rtn: quantized an unnamed layer as int3 pc}}
  %y = qopt.linear %x, %w : tensor<?x24xf32>, tensor<24x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}
}

// -----

// CHECK-LABEL: func.func @unpackable
// CHECK: qopt.linear
// expected-remark @+1 {{rtn: quantized 0 layers, left 1 fp32: head 0, keep_full_precision 0, non-constant weight 0, override fp 0, not quantizable 1}}
module {
func.func @unpackable(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<0.5> : tensor<4x2xf32>
  // expected-remark @+2 {{K = 4 is not a multiple of group size 16; quantized per channel instead}}
  // expected-warning @+1 {{not quantized: K = 4 values of 3 bits do not fill whole bytes}}
  %y = qopt.linear %x, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}
}

// -----

// CHECK-LABEL: func.func @elided
// CHECK: qopt.linear
// expected-remark @+1 {{rtn: quantized 0 layers, left 1 fp32: head 0, keep_full_precision 0, non-constant weight 0, override fp 0, not quantizable 1}}
module {
func.func @elided(%x: tensor<?x16xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense_resource<__elided__> : tensor<16x2xf32>
  // expected-warning @+1 {{not quantized: the weight's dense_resource blob is not available}}
  %y = qopt.linear %x, %w : tensor<?x16xf32>, tensor<16x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}
}

// -----

// CHECK-LABEL: func.func @non_finite
// CHECK: qopt.linear
// expected-remark @+1 {{rtn: quantized 0 layers, left 1 fp32: head 0, keep_full_precision 0, non-constant weight 0, override fp 0, not quantizable 1}}
module {
func.func @non_finite(%x: tensor<?x16xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<0x7F800000> : tensor<16x2xf32>
  // expected-warning @+1 {{not quantized: the weight has non-finite values}}
  %y = qopt.linear %x, %w : tensor<?x16xf32>, tensor<16x2xf32> -> tensor<?x2xf32>
  %r = arith.negf %y : tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}
}

//--- bad-bits.mlir

// expected-error @+1 {{qopt-quantize-weights-rtn: bits must be 8, 4, 3 or 2, got 5}}
module {
}

//--- bad-granularity.mlir

// expected-error @+1 {{qopt-quantize-weights-rtn: unknown granularity 'per-row'; expected per-channel, per-group or per-tensor}}
module {
}

//--- bad-group-size.mlir

// expected-error @+1 {{qopt-quantize-weights-rtn: group-size must be positive, got 0}}
module {
}

//--- bad-override-bits.mlir

// expected-error @+1 {{qopt-quantize-weights-rtn: override 'fc*=int5': bits must be 8, 4, 3 or 2, got 5}}
module {
}

//--- bad-override-kind.mlir

// expected-error @+1 {{qopt-quantize-weights-rtn: override 'fc*=float8': expected 'fp' or 'int<bits>'}}
module {
}

//--- bad-override-part.mlir

// expected-error @+1 {{qopt-quantize-weights-rtn: override 'fc*=int4-q32': unknown part 'q32'; expected g<group size>, pc, pt, sym, asym, clip or noclip}}
module {
}

//--- bad-override-twice.mlir

// expected-error @+1 {{qopt-quantize-weights-rtn: override 'fc*=int4-pc-g32': granularity given twice}}
module {
}

//--- bad-override-clip.mlir

// expected-error @+1 {{qopt-quantize-weights-rtn: override 'fc*=int4-clip-noclip': clip search given twice}}
module {
}

//--- bad-override-symmetry.mlir

// expected-error @+1 {{qopt-quantize-weights-rtn: override 'fc*=int4-sym-asym': symmetry given twice}}
module {
}

//--- bad-override-form.mlir

// expected-error @+1 {{qopt-quantize-weights-rtn: override 'fc1' is not GLOB=SPEC}}
module {
}

//--- bad-override-glob.mlir

// expected-error @+1 {{qopt-quantize-weights-rtn: override 'fc[=fp': bad pattern: invalid glob pattern, unmatched '['}}
module {
}

//--- clip.mlir

// clip-search: int3 (qmax 3) per channel of one row with an outlier (1.0)
// among 15 small weights. min/max: s = 1/3, and -0.16 / s = -0.48 rounds
// to 0. The search (utils/gptq/gptq_numpy.py's Quantizer(mse=True), an
// independent numpy implementation, gives the same) picks p = 0.85:
// s = 0.85 / 3 = 0.283333, which keeps the outlier at the code 3 (0.85,
// error 0.15) and rounds -0.16 to -1. Codes (3-bit little-endian stream):
//   clip:    [3,1,-1,1,0,0,0,0,-1,1,-1,0,0,0,1,-1] -> [-53,3,0,-49,1,-28]
//   min/max: [3,1,-1,1,0,0,0,0,-1,1, 0,0,0,0,1,-1] -> [-53,3,0,15,0,-28]
// CLIP: rtn: quantized 'fc1' as int3 pc clip
// MINMAX: rtn: quantized 'fc1' as int3 pc
// MINMAX-NOT: pc clip
// CHECK-LABEL: func.func @clip
// CLIP-DAG: arith.constant dense<{{\[\[}}-53, 3, 0, -49, 1, -28]]> : tensor<1x6xi8>
// CLIP-DAG: arith.constant dense<0.283333331> : tensor<1xf32>
// MINMAX-DAG: arith.constant dense<{{\[\[}}-53, 3, 0, 15, 0, -28]]> : tensor<1x6xi8>
// MINMAX-DAG: arith.constant dense<0.333333343> : tensor<1xf32>
func.func @clip(%x: tensor<?x16xf32>) -> tensor<?x1xf32> {
  %w = arith.constant dense<[[1.0, 0.26, -0.22, 0.18, 0.14, -0.1, 0.06, 0.02, -0.24, 0.2, -0.16, 0.12, -0.08, 0.04, 0.25, -0.21]]> : tensor<1x16xf32>
  %y = qopt.linear %x, %w transpose_weight : tensor<?x16xf32>, tensor<1x16xf32> -> tensor<?x1xf32> loc("fc1")
  %r = arith.negf %y : tensor<?x1xf32>
  return %r : tensor<?x1xf32>
}
