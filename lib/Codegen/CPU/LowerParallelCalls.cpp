//===- LowerParallelCalls.cpp - parallel bodies to the runtime's pool -----===//
//
// The second half of `qopt-cpu-outline-parallel-loops`, on the LLVM dialect,
// where every value a body captures has a plain LLVM type (memrefs are
// descriptors of pointers and integers by then). A call `@body(begin, end,
// captured...)` becomes: the captured values stored in a stack struct, and
// `qrt_parallel_for(begin, end, grain, @body_task, &struct)`, where
// `@body_task(ctx, begin, end)` loads them back and calls the body on its
// share of the range.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/CPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPULOWERPARALLELCALLS
#include "qopt/Codegen/CPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kParallelFor = "qrt_parallel_for";

struct CPULowerParallelCallsPass
    : public qopt::impl::CPULowerParallelCallsBase<CPULowerParallelCallsPass> {
  void runOnOperation() override;
};

void CPULowerParallelCallsPass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = &getContext();
  SymbolTable symbols(module);
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);

  // Body -> (task trampoline, context struct type, grain).
  struct BodyInfo {
    LLVM::LLVMFuncOp task;
    LLVM::LLVMStructType contextType;
    int64_t grain;
  };
  llvm::DenseMap<StringAttr, BodyInfo> bodies;
  for (auto func : llvm::to_vector(module.getOps<LLVM::LLVMFuncOp>())) {
    auto grain = func->getAttrOfType<IntegerAttr>(qopt::kParallelBodyAttrName);
    if (!grain)
      continue;
    LLVM::LLVMFunctionType type = func.getFunctionType();
    ArrayRef<Type> params = type.getParams();
    if (params.size() < 2 || params[0] != i64 || params[1] != i64 ||
        !isa<LLVM::LLVMVoidType>(type.getReturnType())) {
      func.emitError("parallel body must take (i64, i64, ...) and return "
                     "nothing after lowering to LLVM");
      return signalPassFailure();
    }
    auto contextType =
        LLVM::LLVMStructType::getLiteral(ctx, params.drop_front(2));

    OpBuilder b(func);
    b.setInsertionPointAfter(func);
    Location loc = func.getLoc();
    auto task = LLVM::LLVMFuncOp::create(
        b, loc, (func.getName() + "_task").str(),
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                    {ptrType, i64, i64}),
        LLVM::Linkage::Internal);
    symbols.insert(task);
    Block *entry = task.addEntryBlock(b);
    b.setInsertionPointToStart(entry);
    SmallVector<Value> args = {entry->getArgument(1), entry->getArgument(2)};
    for (auto [i, fieldType] : llvm::enumerate(contextType.getBody())) {
      Value field = LLVM::GEPOp::create(
          b, loc, ptrType, contextType, entry->getArgument(0),
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
      args.push_back(LLVM::LoadOp::create(b, loc, fieldType, field));
    }
    LLVM::CallOp::create(b, loc, func, args);
    LLVM::ReturnOp::create(b, loc, ValueRange());
    bodies[func.getSymNameAttr()] = {task, contextType, grain.getInt()};
  }
  if (bodies.empty())
    return;

  auto parallelFor = symbols.lookup<LLVM::LLVMFuncOp>(kParallelFor);
  if (!parallelFor) {
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    parallelFor = LLVM::LLVMFuncOp::create(
        b, module.getLoc(), kParallelFor,
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                    {i64, i64, i64, ptrType, ptrType}));
    symbols.insert(parallelFor);
  }

  SmallVector<LLVM::CallOp> calls;
  module.walk([&](LLVM::CallOp call) {
    auto callee = call.getCalleeAttr();
    if (!callee || !bodies.count(callee.getAttr()))
      return;
    // The tasks' own calls stay; a body called from another body (which
    // the outlining never creates) runs serially inside it.
    auto parent = call->getParentOfType<LLVM::LLVMFuncOp>();
    if (parent->hasAttr(qopt::kParallelBodyAttrName) ||
        llvm::any_of(bodies,
                     [&](auto &entry) { return entry.second.task == parent; }))
      return;
    calls.push_back(call);
  });
  for (LLVM::CallOp call : calls) {
    const BodyInfo &info = bodies.lookup(call.getCalleeAttr().getAttr());
    Location loc = call.getLoc();
    // One context per call site, in the entry block: a call inside a loop
    // must not grow the stack.
    auto parent = call->getParentOfType<LLVM::LLVMFuncOp>();
    OpBuilder entry = OpBuilder::atBlockBegin(&parent.getBody().front());
    Value one = LLVM::ConstantOp::create(entry, loc, i64, 1);
    Value context =
        LLVM::AllocaOp::create(entry, loc, ptrType, info.contextType, one);

    OpBuilder b(call);
    OperandRange operands = call.getArgOperands();
    for (auto [i, value] : llvm::enumerate(operands.drop_front(2))) {
      Value field = LLVM::GEPOp::create(
          b, loc, ptrType, info.contextType, context,
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
      LLVM::StoreOp::create(b, loc, value, field);
    }
    Value task = LLVM::AddressOfOp::create(b, loc, info.task);
    Value grain = LLVM::ConstantOp::create(b, loc, i64, info.grain);
    LLVM::CallOp::create(
        b, loc, parallelFor,
        ValueRange{operands[0], operands[1], grain, task, context});
    call->erase();
  }
}

} // namespace
