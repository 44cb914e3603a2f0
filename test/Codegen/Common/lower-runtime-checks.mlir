// RUN: qopt %s --split-input-file --qopt-lower-runtime-checks | FileCheck %s
// RUN: qopt %s --split-input-file --qopt-lower-runtime-checks=runtime=false | FileCheck %s --check-prefix=ABORT

// A check splits its block: the failure block stores the values as i64 and
// calls qrt_check_failed, which does not return.
// CHECK: llvm.mlir.global internal constant @qopt_check_message_0("node 'a' (Add): shapes [{0}, 4] and [{1}, 4] do not broadcast\00")
// CHECK: llvm.func @qrt_check_failed(!llvm.ptr, i64, !llvm.ptr)
// CHECK-LABEL: func.func @check
// CHECK-SAME: (%[[N:.*]]: index, %[[M:.*]]: i32)
// CHECK: %[[OK:.*]] = arith.cmpi
// CHECK: cf.cond_br %[[OK]], ^[[CONT:.*]], ^[[FAIL:[a-z0-9]*]]
// CHECK: ^[[FAIL]]:
// CHECK: %[[ADDR:.*]] = llvm.mlir.addressof @qopt_check_message_0
// CHECK: %[[MSG:.*]] = llvm.getelementptr %[[ADDR]][0, 0]
// CHECK: %[[COUNT:.*]] = llvm.mlir.constant(2 : i64)
// CHECK: %[[VALUES:.*]] = llvm.alloca %[[COUNT]] x i64
// CHECK: %[[N64:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK: %[[P0:.*]] = llvm.getelementptr %[[VALUES]][0]
// CHECK: llvm.store %[[N64]], %[[P0]]
// CHECK: %[[M64:.*]] = arith.extsi %[[M]] : i32 to i64
// CHECK: %[[P1:.*]] = llvm.getelementptr %[[VALUES]][1]
// CHECK: llvm.store %[[M64]], %[[P1]]
// CHECK: llvm.call @qrt_check_failed(%[[MSG]], %[[COUNT]], %[[VALUES]])
// CHECK-NEXT: llvm.unreachable
// CHECK: ^[[CONT]]:
// CHECK-NEXT: return %[[N]]

// Without libqrt: cf.assert, the values shown as '?'.
// ABORT-LABEL: func.func @check
// ABORT: cf.assert %{{.*}}, "node 'a' (Add): shapes [?, 4] and [?, 4] do not broadcast"
// ABORT-NOT: qrt_check_failed
func.func @check(%n: index, %m: i32) -> index {
  %m_index = arith.index_cast %m : i32 to index
  %ok = arith.cmpi eq, %n, %m_index : index
  qopt.check %ok, "node 'a' (Add): shapes [{0}, 4] and [{1}, 4] do not broadcast" (%n, %m : index, i32)
  return %n : index
}

// -----

// Two checks with the same message share its string; a check without
// values passes a null array.
// CHECK: llvm.mlir.global internal constant @qopt_check_message_0("out of range\00")
// CHECK-NOT: llvm.mlir.global
// CHECK-LABEL: func.func @shared
// CHECK: llvm.mlir.zero : !llvm.ptr
// CHECK: llvm.call @qrt_check_failed
// CHECK: llvm.mlir.addressof @qopt_check_message_0
// CHECK: llvm.call @qrt_check_failed
func.func @shared(%a: i1, %b: i1) {
  qopt.check %a, "out of range"
  qopt.check %b, "out of range"
  return
}
