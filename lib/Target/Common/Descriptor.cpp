//===- Descriptor.cpp - an artifact's entry point and descriptor ----------===//

#include "qopt/Target/Common/Artifact.h"

#include "qopt/Runtime/ArtifactABI.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {
/// Builds the artifact's constant descriptor tables.
class DescriptorBuilder {
public:
  explicit DescriptorBuilder(llvm::Module &module)
      : module(module), ctx(module.getContext()) {}

  llvm::Constant *string(StringRef value) {
    llvm::Constant *init = llvm::ConstantDataArray::getString(ctx, value);
    return global(init, ".qart.str");
  }

  llvm::Constant *global(llvm::Constant *init, const Twine &name) {
    auto *var =
        new llvm::GlobalVariable(module, init->getType(), /*isConstant=*/true,
                                 llvm::GlobalValue::PrivateLinkage, init, name);
    var->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return var;
  }

  llvm::Constant *tensors(ArrayRef<TensorSignature> list,
                          llvm::StructType *descType) {
    llvm::Type *ptr = llvm::PointerType::get(ctx, 0);
    llvm::Type *i32 = llvm::Type::getInt32Ty(ctx);
    llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
    SmallVector<llvm::Constant *> descs;
    for (const TensorSignature &tensor : list) {
      SmallVector<llvm::Constant *> dims, names;
      for (int64_t dim : tensor.dims)
        dims.push_back(llvm::ConstantInt::get(i64, dim));
      for (const std::string &name : tensor.dimNames)
        names.push_back(string(name));
      llvm::Constant *dimsArray =
          dims.empty()
              ? llvm::ConstantPointerNull::get(llvm::PointerType::get(ctx, 0))
              : global(llvm::ConstantArray::get(
                           llvm::ArrayType::get(i64, dims.size()), dims),
                       ".qart.dims");
      llvm::Constant *namesArray =
          names.empty()
              ? llvm::ConstantPointerNull::get(llvm::PointerType::get(ctx, 0))
              : global(llvm::ConstantArray::get(
                           llvm::ArrayType::get(ptr, names.size()), names),
                       ".qart.dimnames");
      descs.push_back(llvm::ConstantStruct::get(
          descType,
          {string(tensor.name), llvm::ConstantInt::get(i32, tensor.dtype),
           llvm::ConstantInt::get(i32, tensor.dims.size()), dimsArray,
           namesArray}));
    }
    return global(llvm::ConstantArray::get(
                      llvm::ArrayType::get(descType, descs.size()), descs),
                  ".qart.tensors");
  }

  /// The `qart_observe_point` table of `points`, the module's
  /// `qopt.observe_points` (written by `qopt-lower-observe`), or null.
  FailureOr<llvm::Constant *> observePoints(ArrayAttr points,
                                            llvm::StructType *pointType,
                                            std::string &error) {
    llvm::Type *ptr = llvm::PointerType::get(ctx, 0);
    if (!points || points.empty())
      return llvm::ConstantPointerNull::get(cast<llvm::PointerType>(ptr));
    llvm::Type *i32 = llvm::Type::getInt32Ty(ctx);
    llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
    SmallVector<llvm::Constant *> entries;
    for (Attribute entry : points) {
      auto dict = dyn_cast<DictionaryAttr>(entry);
      auto name = dict ? dict.getAs<StringAttr>("name") : nullptr;
      auto kind = dict ? dict.getAs<IntegerAttr>("kind") : nullptr;
      auto axis = dict ? dict.getAs<IntegerAttr>("axis") : nullptr;
      auto channels = dict ? dict.getAs<IntegerAttr>("channels") : nullptr;
      auto bins = dict ? dict.getAs<IntegerAttr>("bins") : nullptr;
      auto percentile = dict ? dict.getAs<FloatAttr>("percentile") : nullptr;
      if (!name || !kind || !axis || !channels || !bins || !percentile) {
        error = "malformed 'qopt.observe_points' entry";
        return failure();
      }
      entries.push_back(llvm::ConstantStruct::get(
          pointType,
          {string(name.getValue()), llvm::ConstantInt::get(i32, kind.getInt()),
           llvm::ConstantInt::get(i32, axis.getInt()),
           llvm::ConstantInt::get(i64, channels.getInt()),
           llvm::ConstantInt::get(i64, bins.getInt()),
           llvm::ConstantFP::get(llvm::Type::getDoubleTy(ctx),
                                 percentile.getValueAsDouble())}));
    }
    return global(llvm::ConstantArray::get(
                      llvm::ArrayType::get(pointType, entries.size()), entries),
                  ".qart.observe");
  }

private:
  llvm::Module &module;
  llvm::LLVMContext &ctx;
};
} // namespace

/// `void qopt_entry(void **args)`: unpacks `args` into the C-interface
/// wrapper MLIR generated for the entry function.
static std::string buildEntry(llvm::Module &module, StringRef entry,
                              const ArtifactSignature &signature,
                              llvm::Function *&result) {
  std::string wrapperName = ("_mlir_ciface_" + entry).str();
  llvm::Function *wrapper = module.getFunction(wrapperName);
  if (!wrapper)
    return "entry function '" + entry.str() +
           "' has no C interface wrapper (was it lowered with "
           "llvm.emit_c_interface?)";
  size_t expected = 1 + signature.inputs.size();
  if (wrapper->arg_size() != expected)
    return "C interface of '" + entry.str() + "' takes " +
           std::to_string(wrapper->arg_size()) + " arguments, expected " +
           std::to_string(expected);
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Type *ptr = llvm::PointerType::get(ctx, 0);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr},
                                       /*isVarArg=*/false);
  result = llvm::Function::Create(type, llvm::GlobalValue::InternalLinkage,
                                  "qopt_entry", module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", result));
  SmallVector<llvm::Value *> args;
  for (size_t i = 0; i < expected; ++i)
    args.push_back(b.CreateLoad(
        ptr, b.CreateConstInBoundsGEP1_64(ptr, result->getArg(0), i)));
  b.CreateCall(wrapper, args);
  b.CreateRetVoid();
  return "";
}

std::string qopt::addArtifactDescriptor(llvm::Module &llvmModule,
                                        ModuleOp module, StringRef entry,
                                        const ArtifactSignature &signature,
                                        const ArtifactDescriptor &descriptor) {
  llvm::Function *entryFn = nullptr;
  if (std::string message = buildEntry(llvmModule, entry, signature, entryFn);
      !message.empty())
    return message;

  llvm::LLVMContext &llvmContext = llvmModule.getContext();
  llvm::Type *ptr = llvm::PointerType::get(llvmContext, 0);
  llvm::Type *i32 = llvm::Type::getInt32Ty(llvmContext);
  llvm::Type *i64 = llvm::Type::getInt64Ty(llvmContext);
  DescriptorBuilder descriptors(llvmModule);
  auto *tensorType = llvm::StructType::create(
      llvmContext, {ptr, i32, i32, ptr, ptr}, "qart_tensor_desc");
  auto *artifactType = llvm::StructType::create(
      llvmContext, {i64, i32, i32, ptr, ptr, ptr, ptr, i64, i64, ptr, i32,
                    i32, ptr, ptr, ptr, i32, i32, ptr, i32, i32, ptr},
      "qart_artifact_v1");
  auto *pointType = llvm::StructType::create(
      llvmContext,
      {ptr, i32, i32, i64, i64, llvm::Type::getDoubleTy(llvmContext)},
      "qart_observe_point");
  // Written by qopt-lower-observe (QOptDialect::kObservePointsAttrName).
  auto points = module->getAttrOfType<ArrayAttr>("qopt.observe_points");
  std::string error;
  FailureOr<llvm::Constant *> pointTable =
      descriptors.observePoints(points, pointType, error);
  if (failed(pointTable))
    return error;
  // Strings are created in the order of the fields (the initializer list is
  // evaluated left to right), which fixes the names LLVM gives them.
  llvm::Constant *fields[] = {
      llvm::ConstantInt::get(i64, QART_MAGIC),
      llvm::ConstantInt::get(i32, QART_ABI_VERSION),
      llvm::ConstantInt::get(i32, 0),
      descriptors.string("qopt-compile 0.1"),
      descriptors.string(descriptor.cpu),
      descriptors.string(descriptor.features),
      descriptor.weightsFile.empty()
          ? llvm::ConstantPointerNull::get(cast<llvm::PointerType>(ptr))
          : descriptors.string(descriptor.weightsFile),
      llvm::ConstantInt::get(i64, descriptor.weightsSize),
      llvm::ConstantInt::get(i64, descriptor.weightsId),
      descriptor.weightsBase,
      llvm::ConstantInt::get(i32, signature.inputs.size()),
      llvm::ConstantInt::get(i32, signature.outputs.size()),
      descriptors.tensors(signature.inputs, tensorType),
      descriptors.tensors(signature.outputs, tensorType),
      entryFn,
      llvm::ConstantInt::get(i32, points ? points.size() : 0),
      llvm::ConstantInt::get(i32, 0),
      *pointTable,
      llvm::ConstantInt::get(i32, descriptor.device),
      llvm::ConstantInt::get(i32, 0),
      descriptor.device == QART_DEVICE_CUDA
          ? descriptors.string(descriptor.deviceArch)
          : llvm::ConstantPointerNull::get(cast<llvm::PointerType>(ptr))};
  new llvm::GlobalVariable(llvmModule, artifactType, /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantStruct::get(artifactType, fields),
                           QART_SYMBOL);
  return "";
}
