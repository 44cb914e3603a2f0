//===- Artifact.cpp - native artifacts for the host CPU -------------------===//

#include "qopt/Target/CPU/Artifact.h"

#include "qopt/Runtime/ArtifactABI.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "lld/Common/Driver.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/ReplaceConstant.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/xxhash.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

LLD_HAS_DRIVER(elf)

using namespace mlir;
using namespace mlir::qopt;

//===----------------------------------------------------------------------===//
// Signature
//===----------------------------------------------------------------------===//

static int32_t getDType(Type type) {
  if (type.isF32())
    return QART_DTYPE_F32;
  if (type.isF64())
    return QART_DTYPE_F64;
  if (type.isF16())
    return QART_DTYPE_F16;
  if (type.isBF16())
    return QART_DTYPE_BF16;
  // .npy and the ABI have no float8 dtypes: float8 tensors cross as their
  // bits, as ONNX test data carries f16 as uint16.
  if (isa<Float8E4M3FNType, Float8E4M3FNUZType, Float8E5M2Type,
          Float8E5M2FNUZType>(type))
    return QART_DTYPE_U8;
  auto integer = dyn_cast<IntegerType>(type);
  if (!integer)
    return 0;
  bool isUnsigned = integer.isUnsigned();
  switch (integer.getWidth()) {
  case 1:
    return QART_DTYPE_BOOL;
  case 8:
    return isUnsigned ? QART_DTYPE_U8 : QART_DTYPE_I8;
  case 16:
    return isUnsigned ? QART_DTYPE_U16 : QART_DTYPE_I16;
  case 32:
    return isUnsigned ? QART_DTYPE_U32 : QART_DTYPE_I32;
  case 64:
    return isUnsigned ? QART_DTYPE_U64 : QART_DTYPE_I64;
  default:
    return 0;
  }
}

static FailureOr<TensorSignature>
getTensorSignature(func::FuncOp func, Type type, DictionaryAttr attrs,
                   StringRef kind, unsigned index) {
  TensorSignature result;
  auto name = attrs ? attrs.getAs<StringAttr>("qopt.onnx_name") : nullptr;
  result.name = name ? name.str() : (kind + "_" + Twine(index)).str();
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !(result.dtype = getDType(tensor.getElementType()))) {
    func.emitError()
        << kind << " '" << result.name << "' has type " << type
        << ", which artifacts do not support (ranked tensors of "
           "f16/bf16/f32/f64, ONNX's float8 types, i1 and 8- to 64-bit "
           "integers)";
    return failure();
  }
  for (int64_t dim : tensor.getShape())
    result.dims.push_back(ShapedType::isDynamic(dim) ? -1 : dim);
  if (auto names = attrs ? attrs.getAs<ArrayAttr>("qopt.dim_names") : nullptr)
    if (names.size() == static_cast<size_t>(tensor.getRank()))
      for (Attribute dimName : names)
        result.dimNames.push_back(cast_or_null<StringAttr>(dimName)
                                      ? cast<StringAttr>(dimName).str()
                                      : "");
  return result;
}

FailureOr<ArtifactSignature> qopt::getArtifactSignature(func::FuncOp func) {
  ArtifactSignature signature;
  FunctionType type = func.getFunctionType();
  for (auto [i, input] : llvm::enumerate(type.getInputs())) {
    FailureOr<TensorSignature> tensor =
        getTensorSignature(func, input, func.getArgAttrDict(i), "input", i);
    if (failed(tensor))
      return failure();
    signature.inputs.push_back(std::move(*tensor));
  }
  for (auto [i, output] : llvm::enumerate(type.getResults())) {
    FailureOr<TensorSignature> tensor = getTensorSignature(
        func, output, func.getResultAttrDict(i), "output", i);
    if (failed(tensor))
      return failure();
    signature.outputs.push_back(std::move(*tensor));
  }
  if (signature.outputs.empty()) {
    func.emitError() << "entry function has no results; an artifact needs at "
                        "least one output";
    return failure();
  }
  return signature;
}

//===----------------------------------------------------------------------===//
// Target
//===----------------------------------------------------------------------===//

std::pair<std::string, std::string>
qopt::resolveTarget(const ArtifactOptions &options) {
  std::string cpu = options.cpu;
  std::string features = options.features;
  SmallVector<std::string> enabled;
  if (cpu == "host") {
    cpu = llvm::sys::getHostCPUName().str();
    if (features.empty())
      for (const auto &feature : llvm::sys::getHostCPUFeatures())
        if (feature.second)
          enabled.push_back("+" + feature.first().str());
  } else if (features.empty()) {
    // Spell out what a named CPU implies: the vector width follows from it,
    // and the runtime checks each feature before it runs the code.
    llvm::InitializeNativeTarget();
    llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
    std::string error;
    if (const llvm::Target *target =
            llvm::TargetRegistry::lookupTarget(triple, error)) {
      std::unique_ptr<llvm::MCSubtargetInfo> info(
          target->createMCSubtargetInfo(triple, cpu, ""));
      if (info)
        for (const llvm::SubtargetFeatureKV &feature :
             info->getAllProcessorFeatures())
          if (info->checkFeatures(std::string("+") + feature.Key))
            enabled.push_back(std::string("+") + feature.Key);
    }
  }
  if (!enabled.empty()) {
    llvm::sort(enabled);
    features = llvm::join(enabled, ",");
  }
  return {cpu, features};
}

int64_t qopt::getVectorWidth(StringRef features) {
  SmallVector<StringRef> list;
  features.split(list, ',');
  auto has = [&](StringRef name) {
    return llvm::is_contained(list, ("+" + name).str());
  };
  if (has("avx512f"))
    return 16;
  if (has("avx"))
    return 8;
  return 4;
}

void qopt::registerArtifactTranslations(DialectRegistry &registry) {
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

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

/// Moves every large constant global into `weights` and rewrites its uses to
/// `*weightsBase + offset`.
static void externalizeWeights(llvm::Module &module,
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

//===----------------------------------------------------------------------===//
// Descriptor
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Emission
//===----------------------------------------------------------------------===//

namespace {
/// Temporary files removed unless kept.
struct TempFiles {
  SmallVector<std::string> paths;
  ~TempFiles() {
    for (const std::string &path : paths)
      llvm::sys::fs::remove(path);
  }
  std::string make(const Twine &model) {
    SmallString<128> path;
    if (llvm::sys::fs::createUniqueFile(model, path))
      return "";
    paths.push_back(path.str().str());
    return paths.back();
  }
};
} // namespace

static std::string writeFile(StringRef path, StringRef data) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return "cannot write '" + path.str() + "': " + ec.message();
  os << data;
  os.close();
  if (os.has_error())
    return "cannot write '" + path.str() + "': " + os.error().message();
  return "";
}

std::string qopt::emitArtifact(ModuleOp module, StringRef entry,
                               const ArtifactSignature &signature,
                               const ArtifactOptions &options,
                               ArtifactOutput output, StringRef outputPathRef) {
  // lld resets every llvm::cl option when it parses its arguments; the path
  // may live in one.
  const std::string outputPath = outputPathRef.str();
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  auto [cpu, features] = resolveTarget(options);
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return "no LLVM target for " + triple.str() + ": " + error;
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, targetOptions, llvm::Reloc::PIC_, std::nullopt,
      options.optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive
                            : llvm::CodeGenOptLevel::Default));
  if (!machine)
    return "cannot create a target machine for CPU '" + cpu + "'";

  bool cuda = options.device == QART_DEVICE_CUDA;
  // The PTX of each gpu.binary becomes `<name>_binary`, which the library's
  // constructors hand to mgpuModuleLoadJIT before any weights are mapped:
  // it stays in the library.
  llvm::StringSet<> keep;
  if (cuda)
    for (auto binary : module.getOps<gpu::BinaryOp>())
      keep.insert((binary.getName() + "_binary").str());

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "qopt");
  if (!llvmModule)
    return "translation to LLVM IR failed";
  if (cuda) {
    // The kernels dereference every buffer: allocate in managed memory.
    static const std::pair<const char *, const char *> renames[] = {
        {"_mlir_memref_to_llvm_alloc", "qrt_cuda_model_alloc"},
        {"_mlir_memref_to_llvm_aligned_alloc", "qrt_cuda_model_aligned_alloc"},
        {"_mlir_memref_to_llvm_free", "qrt_cuda_model_free"},
        {"malloc", "qrt_cuda_model_alloc"},
        {"free", "qrt_cuda_model_free"}};
    for (auto [from, to] : renames)
      if (llvm::Function *fn = llvmModule->getFunction(from)) {
        if (!fn->isDeclaration())
          return std::string("internal error: the CUDA host code defines ") +
                 from;
        if (llvm::Function *existing = llvmModule->getFunction(to)) {
          fn->replaceAllUsesWith(existing);
          fn->eraseFromParent();
        } else {
          fn->setName(to);
        }
      }
  }
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());

  // ABI glue: weights base, entry wrapper, descriptor.
  llvm::Type *ptr = llvm::PointerType::get(llvmContext, 0);
  llvm::Type *i32 = llvm::Type::getInt32Ty(llvmContext);
  llvm::Type *i64 = llvm::Type::getInt64Ty(llvmContext);
  auto *weightsBase = new llvm::GlobalVariable(
      *llvmModule, ptr, /*isConstant=*/false,
      llvm::GlobalValue::InternalLinkage,
      llvm::ConstantPointerNull::get(cast<llvm::PointerType>(ptr)),
      "qopt_weights_base");
  std::string weights;
  bool external = output == ArtifactOutput::SharedLibrary;
  // A CUDA artifact's kernels cannot read the library's own data: every
  // constant they might read goes to the weights file, which libqrt copies
  // to the GPU.
  if (external)
    externalizeWeights(*llvmModule, weightsBase,
                       cuda ? 1 : options.weightsThreshold, weights, keep);
  uint64_t weightsId = llvm::xxh3_64bits(weights);
  uint64_t weightsSize =
      weights.empty() ? 0 : QART_WEIGHTS_DATA_OFFSET + weights.size();

  llvm::Function *entryFn = nullptr;
  if (std::string message = buildEntry(*llvmModule, entry, signature, entryFn);
      !message.empty())
    return message;

  DescriptorBuilder descriptors(*llvmModule);
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
  FailureOr<llvm::Constant *> pointTable =
      descriptors.observePoints(points, pointType, error);
  if (failed(pointTable))
    return error;
  std::string weightsFile =
      llvm::sys::path::filename(outputPath).str() + ".weights";
  llvm::Constant *fields[] = {
      llvm::ConstantInt::get(i64, QART_MAGIC),
      llvm::ConstantInt::get(i32, QART_ABI_VERSION),
      llvm::ConstantInt::get(i32, 0),
      descriptors.string("qopt-compile 0.1"),
      descriptors.string(cpu),
      descriptors.string(features),
      weights.empty()
          ? llvm::ConstantPointerNull::get(cast<llvm::PointerType>(ptr))
          : descriptors.string(weightsFile),
      llvm::ConstantInt::get(i64, weightsSize),
      llvm::ConstantInt::get(i64, weightsId),
      weightsBase,
      llvm::ConstantInt::get(i32, signature.inputs.size()),
      llvm::ConstantInt::get(i32, signature.outputs.size()),
      descriptors.tensors(signature.inputs, tensorType),
      descriptors.tensors(signature.outputs, tensorType),
      entryFn,
      llvm::ConstantInt::get(i32, points ? points.size() : 0),
      llvm::ConstantInt::get(i32, 0),
      *pointTable,
      llvm::ConstantInt::get(i32, options.device),
      llvm::ConstantInt::get(i32, 0),
      cuda ? descriptors.string(options.deviceArch)
           : llvm::ConstantPointerNull::get(cast<llvm::PointerType>(ptr))};
  new llvm::GlobalVariable(*llvmModule, artifactType, /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantStruct::get(artifactType, fields),
                           QART_SYMBOL);

  if (llvm::verifyModule(*llvmModule, &llvm::errs()))
    return "internal error: the generated LLVM IR does not verify";
  // Only the descriptor is the artifact's interface; everything else may be
  // inlined, specialised or dropped.
  for (llvm::Function &fn : *llvmModule)
    if (!fn.isDeclaration())
      fn.setLinkage(llvm::GlobalValue::InternalLinkage);

  auto optimize = makeOptimizingTransformer(options.optLevel, 0, machine.get());
  if (llvm::Error err = optimize(llvmModule.get()))
    return "LLVM optimization failed: " + llvm::toString(std::move(err));

  TempFiles temps;
  if (output == ArtifactOutput::LLVMIR) {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvmModule->print(os, nullptr);
    std::string tmp = temps.make(outputPath + ".tmp-%%%%%%");
    if (tmp.empty())
      return "cannot create a temporary file beside '" + outputPath + "'";
    if (std::string message = writeFile(tmp, text); !message.empty())
      return message;
    if (std::error_code ec = llvm::sys::fs::rename(tmp, outputPath))
      return "cannot write '" + outputPath + "': " + ec.message();
    return "";
  }

  SmallString<0> object;
  {
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager pm;
    if (machine->addPassesToEmitFile(pm, os, nullptr,
                                     llvm::CodeGenFileType::ObjectFile))
      return "the target cannot emit object files";
    pm.run(*llvmModule);
  }

  std::string objPath = temps.make(outputPath + ".tmp-%%%%%%.o");
  if (objPath.empty())
    return "cannot create a temporary file beside '" + outputPath + "'";
  if (std::string message = writeFile(objPath, object); !message.empty())
    return message;
  if (output == ArtifactOutput::Object) {
    if (std::error_code ec = llvm::sys::fs::rename(objPath, outputPath))
      return "cannot write '" + outputPath + "': " + ec.message();
    return "";
  }

  std::string soPath = temps.make(outputPath + ".tmp-%%%%%%.so");
  if (soPath.empty())
    return "cannot create a temporary file beside '" + outputPath + "'";
  std::string linkLog;
  {
    llvm::raw_string_ostream linkOut(linkLog);
    const char *args[] = {"ld.lld", "-shared",      "--hash-style=gnu",
                          "-z",     "noexecstack",  "-z",
                          "relro",  "-z",           "now",
                          "-o",     soPath.c_str(), objPath.c_str()};
    lld::Result result =
        lld::lldMain(args, linkOut, linkOut, {{lld::Gnu, &lld::elf::link}});
    if (result.retCode != 0)
      return "linking the artifact failed: " + linkLog;
  }

  std::string weightsPath = outputPath + ".weights";
  std::string weightsTmp;
  if (!weights.empty()) {
    weightsTmp = temps.make(weightsPath + ".tmp-%%%%%%");
    if (weightsTmp.empty())
      return "cannot create a temporary file beside '" + weightsPath + "'";
    qart_weights_header header = {QART_WEIGHTS_MAGIC, QART_ABI_VERSION, 0,
                                  weightsId, weightsSize};
    std::string file(reinterpret_cast<const char *>(&header), sizeof(header));
    file.resize(QART_WEIGHTS_DATA_OFFSET, '\0');
    file += weights;
    if (std::string message = writeFile(weightsTmp, file); !message.empty())
      return message;
  }
  if (std::error_code ec = llvm::sys::fs::rename(soPath, outputPath))
    return "cannot write '" + outputPath + "': " + ec.message();
  if (!weights.empty()) {
    if (std::error_code ec = llvm::sys::fs::rename(weightsTmp, weightsPath)) {
      llvm::sys::fs::remove(outputPath);
      return "cannot write '" + weightsPath + "': " + ec.message();
    }
  } else {
    // A stale weights file from an earlier build must not pair with this one.
    llvm::sys::fs::remove(weightsPath);
  }
  return "";
}
