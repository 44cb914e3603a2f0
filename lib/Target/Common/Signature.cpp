//===- Signature.cpp - an artifact's inputs and outputs -------------------===//

#include "qopt/Target/Common/Artifact.h"

#include "qopt/Runtime/ArtifactABI.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::qopt;

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
    func.emitError() << kind << " '" << result.name << "' has type " << type
                     << ", which artifacts do not support (ranked tensors of "
                        "f16/bf16/f32/f64, ONNX's float8 types, i1 and 8- "
                        "to 64-bit integers)";
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
