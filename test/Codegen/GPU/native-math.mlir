// RUN: qopt %s -split-input-file \
// RUN:   --pass-pipeline='builtin.module(gpu.module(qopt-gpu-native-math))' \
// RUN:   | FileCheck %s

// CHECK-LABEL: gpu.module @kernels
// CHECK-NOT:     llvm.func @__nv_fabsf
// CHECK-NOT:     llvm.func @__nv_sqrt(
// CHECK-LABEL: llvm.func @native
// CHECK-SAME:    (%[[X:.*]]: f32, %[[Y:.*]]: f32, %[[Z:.*]]: f32, %[[D:.*]]: f64)
// CHECK:         llvm.intr.fabs(%[[X]]) : (f32) -> f32
// CHECK:         llvm.intr.copysign(%[[X]], %[[Y]]) : (f32, f32) -> f32
// CHECK:         llvm.intr.fma(%[[X]], %[[Y]], %[[Z]]) : (f32, f32, f32) -> f32
// CHECK:         llvm.intr.floor(%[[X]]) : (f32) -> f32
// CHECK:         llvm.intr.ceil(%[[X]]) : (f32) -> f32
// CHECK:         llvm.intr.trunc(%[[X]]) : (f32) -> f32
// CHECK:         llvm.intr.roundeven(%[[X]]) : (f32) -> f32
// CHECK:         llvm.intr.sqrt(%[[X]]) : (f32) -> f32
// CHECK:         llvm.intr.fabs(%[[D]]) : (f64) -> f64
// CHECK:         llvm.intr.sqrt(%[[D]]) : (f64) -> f64
// CHECK-NOT:     llvm.call
gpu.module @kernels {
  llvm.func @__nv_fabsf(f32) -> f32
  llvm.func @__nv_copysignf(f32, f32) -> f32
  llvm.func @__nv_fmaf(f32, f32, f32) -> f32
  llvm.func @__nv_floorf(f32) -> f32
  llvm.func @__nv_ceilf(f32) -> f32
  llvm.func @__nv_truncf(f32) -> f32
  llvm.func @__nv_rintf(f32) -> f32
  llvm.func @__nv_sqrtf(f32) -> f32
  llvm.func @__nv_fabs(f64) -> f64
  llvm.func @__nv_sqrt(f64) -> f64
  llvm.func @native(%x: f32, %y: f32, %z: f32, %d: f64) -> f64 {
    %0 = llvm.call @__nv_fabsf(%x) : (f32) -> f32
    %1 = llvm.call @__nv_copysignf(%x, %y) : (f32, f32) -> f32
    %2 = llvm.call @__nv_fmaf(%x, %y, %z) : (f32, f32, f32) -> f32
    %3 = llvm.call @__nv_floorf(%x) : (f32) -> f32
    %4 = llvm.call @__nv_ceilf(%x) : (f32) -> f32
    %5 = llvm.call @__nv_truncf(%x) : (f32) -> f32
    %6 = llvm.call @__nv_rintf(%x) : (f32) -> f32
    %7 = llvm.call @__nv_sqrtf(%x) : (f32) -> f32
    %8 = llvm.call @__nv_fabs(%d) : (f64) -> f64
    %9 = llvm.call @__nv_sqrt(%d) : (f64) -> f64
    %s = llvm.fadd %0, %1 : f32
    %s1 = llvm.fadd %s, %2 : f32
    %s2 = llvm.fadd %s1, %3 : f32
    %s3 = llvm.fadd %s2, %4 : f32
    %s4 = llvm.fadd %s3, %5 : f32
    %s5 = llvm.fadd %s4, %6 : f32
    %s6 = llvm.fadd %s5, %7 : f32
    %e = llvm.fpext %s6 : f32 to f64
    %t = llvm.fadd %e, %8 : f64
    %r = llvm.fadd %t, %9 : f64
    llvm.return %r : f64
  }
}

// -----

// Transcendental functions stay libdevice calls (PTX has only
// approximations of them), and so do their declarations.
// CHECK-LABEL: gpu.module @kernels
// CHECK:         llvm.func @__nv_expf(f32) -> f32
// CHECK:         llvm.func @__nv_rsqrtf(f32) -> f32
// CHECK-LABEL: llvm.func @kept
// CHECK:         llvm.call @__nv_expf
// CHECK:         llvm.call @__nv_rsqrtf
gpu.module @kernels {
  llvm.func @__nv_expf(f32) -> f32
  llvm.func @__nv_rsqrtf(f32) -> f32
  llvm.func @kept(%x: f32) -> f32 {
    %0 = llvm.call @__nv_expf(%x) : (f32) -> f32
    %1 = llvm.call @__nv_rsqrtf(%0) : (f32) -> f32
    llvm.return %1 : f32
  }
}

// -----

// Host code outside kernel modules is not touched.
// CHECK-LABEL: llvm.func @host
// CHECK:         llvm.call @__nv_fabsf
llvm.func @__nv_fabsf(f32) -> f32
llvm.func @host(%x: f32) -> f32 {
  %0 = llvm.call @__nv_fabsf(%x) : (f32) -> f32
  llvm.return %0 : f32
}
