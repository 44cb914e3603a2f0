// RUN: qopt %s -split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(qopt-gpu-async-launches))' \
// RUN:   | FileCheck %s

// Launches chain on one stream across allocations, frees and index
// arithmetic; the host load waits for the chain, the launch after it starts
// a new one, which the return waits for.
// CHECK-LABEL: func.func @chain
// CHECK:         %[[T0:.*]] = gpu.wait async
// CHECK:         %[[T1:.*]] = gpu.launch_func async [%[[T0]]] @k::@k
// CHECK:         memref.alloc
// CHECK:         arith.addi
// CHECK:         %[[T2:.*]] = gpu.launch_func async [%[[T1]]] @k::@k
// CHECK:         memref.dealloc
// CHECK:         gpu.wait [%[[T2]]]
// CHECK-NEXT:    memref.load
// CHECK:         %[[T3:.*]] = gpu.wait async
// CHECK:         %[[T4:.*]] = gpu.launch_func async [%[[T3]]] @k::@k
// CHECK-NEXT:    gpu.wait [%[[T4]]]
// CHECK-NEXT:    return
module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @k(%a: memref<64xf32>) kernel { gpu.return }
  }
  func.func @chain(%a: memref<64xf32>, %n: index) -> f32 {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    gpu.launch_func @k::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<64xf32>)
    %b = memref.alloc() : memref<64xf32>
    %m = arith.addi %n, %c1 : index
    gpu.launch_func @k::@k blocks in (%m, %c1, %c1) threads in (%c1, %c1, %c1) args(%b : memref<64xf32>)
    memref.dealloc %b : memref<64xf32>
    %x = memref.load %a[%c0] : memref<64xf32>
    gpu.launch_func @k::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<64xf32>)
    return %x : f32
  }
}

// -----

// A call (qrt_observe of calibration builds) waits; a loop waits before it
// and its body's launches chain on their own, waited for before the yield.
// CHECK-LABEL: func.func @regions
// CHECK:         %[[T1:.*]] = gpu.launch_func async
// CHECK-NEXT:    gpu.wait [%[[T1]]]
// CHECK-NEXT:    call @observe
// CHECK:         %[[T2:.*]] = gpu.launch_func async
// CHECK-NEXT:    gpu.wait [%[[T2]]]
// CHECK-NEXT:    scf.for
// CHECK:           %[[T3:.*]] = gpu.wait async
// CHECK:           %[[T4:.*]] = gpu.launch_func async [%[[T3]]]
// CHECK-NEXT:      gpu.wait [%[[T4]]]
// CHECK-NEXT:    }
// CHECK-NEXT:    return
module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @k(%a: memref<64xf32>) kernel { gpu.return }
  }
  func.func private @observe(memref<64xf32>)
  func.func @regions(%a: memref<64xf32>, %n: index) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    gpu.launch_func @k::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<64xf32>)
    call @observe(%a) : (memref<64xf32>) -> ()
    gpu.launch_func @k::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<64xf32>)
    scf.for %i = %c0 to %n step %c1 {
      gpu.launch_func @k::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<64xf32>)
    }
    return
  }
}

// -----

// Launches that are already asynchronous are left alone; the chain before
// them is waited for.
// CHECK-LABEL: func.func @already_async
// CHECK:         %[[T1:.*]] = gpu.launch_func async
// CHECK-NEXT:    gpu.wait [%[[T1]]]
// CHECK-NEXT:    %[[T:.*]] = gpu.wait async
// CHECK-NEXT:    %[[U:.*]] = gpu.launch_func async [%[[T]]]
// CHECK-NEXT:    gpu.wait [%[[U]]]
// CHECK-NEXT:    return
module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @k(%a: memref<64xf32>) kernel { gpu.return }
  }
  func.func @already_async(%a: memref<64xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @k::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<64xf32>)
    %t = gpu.wait async
    %u = gpu.launch_func async [%t] @k::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<64xf32>)
    gpu.wait [%u]
    return
  }
}
