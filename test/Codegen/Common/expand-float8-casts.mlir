// RUN: qopt %s -split-input-file -verify-diagnostics --qopt-expand-float8-casts | FileCheck %s
// Folding the expansion of constant casts checks its arithmetic; the
// expected bits are worked out from the formats, not taken from the pass.
// RUN: qopt %s -split-input-file -verify-diagnostics --qopt-expand-float8-casts --canonicalize | FileCheck %s --check-prefix=FOLD

// A vector cast becomes i32 arithmetic on the same shape, then a byte.
// CHECK-LABEL: func.func @truncf_vector
//   CHECK-NOT: arith.truncf
//       CHECK: arith.bitcast %{{.*}} : vector<16xf32> to vector<16xi32>
//       CHECK: arith.minui
//       CHECK: arith.trunci %{{.*}} : vector<16xi32> to vector<16xi8>
//       CHECK: arith.bitcast %{{.*}} : vector<16xi8> to vector<16xf8E4M3FN>
//   CHECK-NOT: arith.truncf
func.func @truncf_vector(%x: vector<16xf32>) -> vector<16xf8E4M3FN> {
  %t = arith.truncf %x : vector<16xf32> to vector<16xf8E4M3FN>
  return %t : vector<16xf8E4M3FN>
}

// -----

// CHECK-LABEL: func.func @extf_scalar
//   CHECK-NOT: arith.extf
//       CHECK: arith.bitcast %{{.*}} : f8E5M2 to i8
//       CHECK: arith.extui %{{.*}} : i8 to i32
//       CHECK: arith.uitofp
//       CHECK: arith.bitcast %{{.*}} : i32 to f32
//   CHECK-NOT: arith.extf
func.func @extf_scalar(%x: f8E5M2) -> f32 {
  %e = arith.extf %x : f8E5M2 to f32
  return %e : f32
}

// -----

// f16 widens exactly to f32 first; f8 to f16 narrows exactly from f32.
// CHECK-LABEL: func.func @f16
//       CHECK: arith.extf %{{.*}} : vector<4xf16> to vector<4xf32>
//       CHECK: arith.bitcast %{{.*}} : vector<4xi8> to vector<4xf8E5M2FNUZ>
//       CHECK: arith.truncf %{{.*}} : vector<4xf32> to vector<4xf16>
func.func @f16(%x: vector<4xf16>) -> vector<4xf16> {
  %t = arith.truncf %x : vector<4xf16> to vector<4xf8E5M2FNUZ>
  %e = arith.extf %t : vector<4xf8E5M2FNUZ> to vector<4xf16>
  return %e : vector<4xf16>
}

// -----

// Other ops on float8 compute in f32 (upstream's float emulation).
// CHECK-LABEL: func.func @compare
//       CHECK: arith.cmpf une, %{{.*}}, %{{.*}} : f32
//   CHECK-NOT: arith.extf
func.func @compare(%x: f8E4M3FNUZ, %y: f8E4M3FNUZ) -> i1 {
  %c = arith.cmpf une, %x, %y : f8E4M3FNUZ
  return %c : i1
}

// -----

// Round to nearest even: 1 + 1/16 ties to 1 (0x38), 1 + 3/16 to 1.25
// (0x3A); 464 ties to 448 (0x7E), 470 overflows to NaN (0x7F), infinity
// too; -0 keeps its sign (0x80). Subnormals count 2^-9: 2^-10 ties to 0,
// 3 * 2^-10 to 2, 2^-6 - 2^-10 rounds up into the smallest normal (0x08).
// FOLD-LABEL: func.func @truncf_e4m3fn
//       FOLD: arith.constant dense<[56, 58, 126, 127, 127, -1, 127, -128, 1, 0, 2, 8]> : vector<12xi8>
func.func @truncf_e4m3fn() -> vector<12xi8> {
  %x = arith.constant dense<[1.0625, 1.1875, 464.0, 470.0, 0x7F800000, 0xFF800000, 0x7FC00000, -0.0, 0.001953125, 0.0009765625, 0.0029296875, 0.0146484375]> : vector<12xf32>
  %t = arith.truncf %x : vector<12xf32> to vector<12xf8E4M3FN>
  %b = arith.bitcast %t : vector<12xf8E4M3FN> to vector<12xi8>
  return %b : vector<12xi8>
}

// -----

// Bias 8: 1 is 0x40; 240 the largest (0x7F); 248 ties up beyond it to
// NaN (0x80), as infinity and NaN do. No -0: -0 and a negative value
// below half the smallest subnormal (2^-10) are +0.
// FOLD-LABEL: func.func @truncf_e4m3fnuz
//       FOLD: arith.constant dense<[64, -64, 127, -128, -128, -128, 0, 0, 1]> : vector<9xi8>
func.func @truncf_e4m3fnuz() -> vector<9xi8> {
  %x = arith.constant dense<[1.0, -1.0, 240.0, 248.0, 0xFF800000, 0x7FC00000, -0.0, -0.000244140625, 0.0009765625]> : vector<9xf32>
  %t = arith.truncf %x : vector<9xf32> to vector<9xf8E4M3FNUZ>
  %b = arith.bitcast %t : vector<9xf8E4M3FNUZ> to vector<9xi8>
  return %b : vector<9xi8>
}

// -----

// IEEE-like: 57344 the largest (0x7B), 61440 ties to even beyond it, to
// infinity (0x7C), as does infinity; NaN is 0x7F; 2^-16 the smallest
// subnormal.
// FOLD-LABEL: func.func @truncf_e5m2
//       FOLD: arith.constant dense<[60, 123, 124, -4, 127, 1, -128]> : vector<7xi8>
func.func @truncf_e5m2() -> vector<7xi8> {
  %x = arith.constant dense<[1.0, 57344.0, 61440.0, 0xFF800000, 0x7FC00000, 1.52587890625e-05, -0.0]> : vector<7xf32>
  %t = arith.truncf %x : vector<7xf32> to vector<7xf8E5M2>
  %b = arith.bitcast %t : vector<7xf8E5M2> to vector<7xi8>
  return %b : vector<7xi8>
}

// -----

// Bias 16: 1 is 0x40, 57344 the largest (0x7F), 2^-17 the smallest
// subnormal; beyond, infinity and NaN are 0x80.
// FOLD-LABEL: func.func @truncf_e5m2fnuz
//       FOLD: arith.constant dense<[64, 127, 1, -128, -128, 0]> : vector<6xi8>
func.func @truncf_e5m2fnuz() -> vector<6xi8> {
  %x = arith.constant dense<[1.0, 57344.0, 7.62939453125e-06, 65536.0, 0x7F800000, -0.0]> : vector<6xf32>
  %t = arith.truncf %x : vector<6xf32> to vector<6xf8E5M2FNUZ>
  %b = arith.bitcast %t : vector<6xf8E5M2FNUZ> to vector<6xi8>
  return %b : vector<6xi8>
}

// -----

// Back to f32: 0x38 is 1, 0x7F NaN, 0x01 2^-9, 0x80 -0, 0xFE -448.
// FOLD-LABEL: func.func @extf_e4m3fn
//       FOLD: arith.constant dense<[1.000000e+00, 0x7FC00000, 0.001953125, -0.000000e+00, -4.480000e+02]> : vector<5xf32>
func.func @extf_e4m3fn() -> vector<5xf32> {
  %b = arith.constant dense<[56, 127, 1, -128, -2]> : vector<5xi8>
  %t = arith.bitcast %b : vector<5xi8> to vector<5xf8E4M3FN>
  %e = arith.extf %t : vector<5xf8E4M3FN> to vector<5xf32>
  return %e : vector<5xf32>
}

// -----

// 0x7C is infinity, 0xFD a NaN (negative), 0x01 2^-16, 0x7B 57344.
// FOLD-LABEL: func.func @extf_e5m2
//       FOLD: arith.constant dense<[0x7F800000, 0xFFC00000, 1.52587891E-5, 5.734400e+04]> : vector<4xf32>
func.func @extf_e5m2() -> vector<4xf32> {
  %b = arith.constant dense<[124, -3, 1, 123]> : vector<4xi8>
  %t = arith.bitcast %b : vector<4xi8> to vector<4xf8E5M2>
  %e = arith.extf %t : vector<4xf8E5M2> to vector<4xf32>
  return %e : vector<4xf32>
}

// -----

// 0x80 is the only NaN; 0x7F is 240 (bias 8), 0x01 2^-10; in
// f8E5M2FNUZ 0xFF is -57344.
// FOLD-LABEL: func.func @extf_fnuz
//       FOLD: arith.constant dense<[0xFFC00000, 2.400000e+02, 9.765625E-4, 1.000000e+00]> : vector<4xf32>
//       FOLD: arith.constant dense<[0xFFC00000, -5.734400e+04, 1.000000e+00]> : vector<3xf32>
func.func @extf_fnuz() -> (vector<4xf32>, vector<3xf32>) {
  %b = arith.constant dense<[-128, 127, 1, 64]> : vector<4xi8>
  %t = arith.bitcast %b : vector<4xi8> to vector<4xf8E4M3FNUZ>
  %e = arith.extf %t : vector<4xf8E4M3FNUZ> to vector<4xf32>
  %b2 = arith.constant dense<[-128, -1, 64]> : vector<3xi8>
  %t2 = arith.bitcast %b2 : vector<3xi8> to vector<3xf8E5M2FNUZ>
  %e2 = arith.extf %t2 : vector<3xf8E5M2FNUZ> to vector<3xf32>
  return %e, %e2 : vector<4xf32>, vector<3xf32>
}

// -----

func.func @rounding_mode(%x: f32) -> f8E4M3FN {
  // expected-error @+1 {{'arith.truncf' op to 'f8E4M3FN' rounds downward; only to_nearest_even is implemented}}
  %t = arith.truncf %x downward : f32 to f8E4M3FN
  return %t : f8E4M3FN
}

// -----

func.func @other_float8(%x: f32) -> f8E4M3 {
  // expected-error @+1 {{'arith.truncf' op to 'f8E4M3' has no CPU lowering}}
  %t = arith.truncf %x : f32 to f8E4M3
  return %t : f8E4M3
}
