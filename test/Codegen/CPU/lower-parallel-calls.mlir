// RUN: qopt %s --split-input-file --qopt-cpu-lower-parallel-calls --verify-diagnostics | FileCheck %s

// A call of a parallel body: the captured values go to a stack struct
// (allocated in the entry block), a task loads them back, and the range goes
// to the runtime's pool with the body's grain.
// CHECK: llvm.func @qrt_parallel_for(i64, i64, i64, !llvm.ptr, !llvm.ptr)
// CHECK-LABEL: llvm.func internal @body_task
// CHECK-SAME: (%[[CTX:.*]]: !llvm.ptr, %[[B:.*]]: i64, %[[E:.*]]: i64)
// CHECK: %[[P0:.*]] = llvm.getelementptr %[[CTX]][0, 0] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, f32)>
// CHECK: %[[V0:.*]] = llvm.load %[[P0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[P1:.*]] = llvm.getelementptr %[[CTX]][0, 1]
// CHECK: %[[V1:.*]] = llvm.load %[[P1]] : !llvm.ptr -> f32
// CHECK: llvm.call @body(%[[B]], %[[E]], %[[V0]], %[[V1]])
// CHECK-LABEL: llvm.func @caller
// CHECK-SAME: (%[[PTR:.*]]: !llvm.ptr, %[[X:.*]]: f32, %[[N:.*]]: i64)
// CHECK: %[[CTXS:.*]] = llvm.alloca %{{.*}} x !llvm.struct<(ptr, f32)>
// CHECK: llvm.br
// CHECK: llvm.store %[[PTR]]
// CHECK: llvm.store %[[X]]
// CHECK: %[[TASK:.*]] = llvm.mlir.addressof @body_task
// CHECK: %[[GRAIN:.*]] = llvm.mlir.constant(16 : i64)
// CHECK: llvm.call @qrt_parallel_for(%{{.*}}, %[[N]], %[[GRAIN]], %[[TASK]], %[[CTXS]])
// CHECK-NOT: llvm.call @body(
llvm.func @body(%b: i64, %e: i64, %p: !llvm.ptr, %x: f32) attributes {qopt_parallel_body = 16 : i64} {
  llvm.return
}
llvm.func @caller(%p: !llvm.ptr, %x: f32, %n: i64) {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  llvm.br ^bb1
^bb1:
  llvm.call @body(%c0, %n, %p, %x) : (i64, i64, !llvm.ptr, f32) -> ()
  llvm.return
}

// -----

// expected-error @below {{parallel body must take (i64, i64, ...) and return nothing}}
llvm.func @bad(%b: i32) attributes {qopt_parallel_body = 1 : i64} {
  llvm.return
}
