//===- Weights.cpp - the weights file of an artifact ----------------------===//

#include "qopt/Target/Common/Artifact.h"

#include "qopt/Runtime/ArtifactABI.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/ReplaceConstant.h"
#include "llvm/Support/xxhash.h"

using namespace mlir;
using namespace mlir::qopt;

llvm::GlobalVariable *qopt::addWeightsBase(llvm::Module &module) {
  llvm::Type *ptr = llvm::PointerType::get(module.getContext(), 0);
  return new llvm::GlobalVariable(
      module, ptr, /*isConstant=*/false, llvm::GlobalValue::InternalLinkage,
      llvm::ConstantPointerNull::get(cast<llvm::PointerType>(ptr)),
      "qopt_weights_base");
}

/// Appends the in-memory bytes of `init` to `out`; false for initializers
/// this serializer does not know.
static bool serialize(const llvm::Constant *init, const llvm::DataLayout &dl,
                      std::string &out) {
  if (auto *data = dyn_cast<llvm::ConstantDataSequential>(init)) {
    out += data->getRawDataValues();
    return true;
  }
  // Scalars: 0-d memref globals.
  if (isa<llvm::ConstantInt, llvm::ConstantFP>(init)) {
    llvm::APInt bits =
        isa<llvm::ConstantInt>(init)
            ? cast<llvm::ConstantInt>(init)->getValue()
            : cast<llvm::ConstantFP>(init)->getValueAPF().bitcastToAPInt();
    uint64_t size = dl.getTypeAllocSize(init->getType());
    for (uint64_t i = 0; i < size; ++i)
      out += static_cast<char>(i * 8 < bits.getBitWidth()
                                   ? bits.extractBitsAsZExtValue(8, i * 8)
                                   : 0);
    return true;
  }
  if (isa<llvm::ConstantAggregateZero>(init)) {
    out.append(dl.getTypeAllocSize(init->getType()), '\0');
    return true;
  }
  if (auto *array = dyn_cast<llvm::ConstantArray>(init)) {
    for (const llvm::Use &element : array->operands())
      if (!serialize(cast<llvm::Constant>(element.get()), dl, out))
        return false;
    return true;
  }
  return false;
}

void qopt::externalizeWeights(llvm::Module &module,
                              llvm::GlobalVariable *weightsBase,
                              uint64_t threshold, std::string &weights,
                              const llvm::StringSet<> &keep) {
  const llvm::DataLayout &dl = module.getDataLayout();
  SmallVector<llvm::GlobalVariable *> globals;
  for (llvm::GlobalVariable &global : module.globals())
    if (global.isConstant() && global.hasInitializer() &&
        !keep.contains(global.getName()) &&
        dl.getTypeAllocSize(global.getValueType()) >= threshold)
      globals.push_back(&global);

  llvm::Type *i8 = llvm::Type::getInt8Ty(module.getContext());
  for (llvm::GlobalVariable *global : globals) {
    std::string bytes;
    if (!serialize(global->getInitializer(), dl, bytes))
      continue;
    uint64_t offset = llvm::alignTo(weights.size(), 64);
    weights.resize(offset, '\0');
    weights += bytes;

    llvm::convertUsersOfConstantsToInstructions({global});
    for (llvm::Use &use : llvm::make_early_inc_range(global->uses())) {
      auto *user = cast<llvm::Instruction>(use.getUser());
      llvm::Instruction *at = user;
      if (auto *phi = dyn_cast<llvm::PHINode>(user))
        at = phi->getIncomingBlock(use)->getTerminator();
      llvm::IRBuilder<> b(at);
      llvm::Value *base = b.CreateLoad(b.getPtrTy(), weightsBase);
      use.set(b.CreateInBoundsGEP(i8, base, b.getInt64(offset)));
    }
    global->eraseFromParent();
  }
}

uint64_t qopt::getWeightsId(StringRef weights) {
  return llvm::xxh3_64bits(weights);
}

uint64_t qopt::getWeightsFileSize(StringRef weights) {
  return weights.empty() ? 0 : QART_WEIGHTS_DATA_OFFSET + weights.size();
}

std::string qopt::getWeightsFile(StringRef weights, uint64_t id) {
  qart_weights_header header = {QART_WEIGHTS_MAGIC, QART_ABI_VERSION, 0, id,
                                getWeightsFileSize(weights)};
  std::string file(reinterpret_cast<const char *>(&header), sizeof(header));
  file.resize(QART_WEIGHTS_DATA_OFFSET, '\0');
  file += weights;
  return file;
}
