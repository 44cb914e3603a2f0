//===- Importer.cpp - ONNX graphs into MLIR -------------------------------===//
//
// Walks the ONNX graph in order, keeping for every ONNX value its SSA value
// and, for small constants, a host copy that shape sub-graphs are folded on.
// Op handlers (one file per op family) emit linalg/tensor/arith/math and,
// for linear layers, qopt.linear.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Alignment.h"
#include "llvm/Support/MathExtras.h"

#include <map>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

int64_t onnx_import::getNumElements(ArrayRef<int64_t> shape) {
  // Saturates instead of overflowing, so that size limits still reject
  // shapes such as [2^62, 4] (or [2^62, 4, 0], whose count is 0).
  if (llvm::is_contained(shape, 0))
    return 0;
  int64_t n = 1;
  for (int64_t d : shape)
    if (llvm::MulOverflow(n, d, n))
      return INT64_MAX;
  return n;
}

int64_t HostTensor::getNumElements() const {
  return onnx_import::getNumElements(shape);
}

DenseElementsAttr HostTensor::toAttr() const {
  auto type = RankedTensorType::get(shape, elementType);
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    SmallVector<APFloat> values;
    for (double v : floats) {
      APFloat value(v);
      bool losesInfo;
      value.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                    &losesInfo);
      values.push_back(value);
    }
    return DenseElementsAttr::get(type, values);
  }
  unsigned width = elementType.getIntOrFloatBitWidth();
  if (width == 1) {
    SmallVector<bool> bits(llvm::map_range(ints, [](int64_t v) { return v; }));
    return DenseElementsAttr::get(type, bits);
  }
  SmallVector<APInt> values;
  for (int64_t v : ints)
    values.push_back(APInt(width, static_cast<uint64_t>(v), /*isSigned=*/true,
                           /*implicitTrunc=*/true));
  return DenseElementsAttr::get(type, values);
}

Type onnx_import::convertONNXElementType(MLIRContext *ctx, int32_t dataType,
                                         bool &isUnsigned) {
  isUnsigned = false;
  Builder b(ctx);
  switch (dataType) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::UINT8:
    isUnsigned = true;
    return b.getIntegerType(8);
  case onnx::TensorProto::INT8:
    return b.getIntegerType(8);
  case onnx::TensorProto::UINT16:
    isUnsigned = true;
    return b.getIntegerType(16);
  case onnx::TensorProto::INT16:
    return b.getIntegerType(16);
  case onnx::TensorProto::INT32:
    return b.getIntegerType(32);
  case onnx::TensorProto::INT64:
    return b.getIntegerType(64);
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::DOUBLE:
    return b.getF64Type();
  case onnx::TensorProto::UINT32:
    isUnsigned = true;
    return b.getIntegerType(32);
  case onnx::TensorProto::UINT64:
    isUnsigned = true;
    return b.getIntegerType(64);
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  // UINT4 and INT4 (ONNX 1.16+).
  case 21:
    isUnsigned = true;
    return b.getIntegerType(4);
  case 22:
    return b.getIntegerType(4);
  // Values newer than Debian's onnx.proto (ONNX 1.14+): FLOAT8E4M3FN,
  // FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ.
  case 17:
    return b.getType<Float8E4M3FNType>();
  case 18:
    return b.getType<Float8E4M3FNUZType>();
  case 19:
    return b.getType<Float8E5M2Type>();
  case 20:
    return b.getType<Float8E5M2FNUZType>();
  default:
    return {};
  }
}

StringRef onnx_import::getONNXTypeName(int32_t dataType) {
  static const char *names[] = {
      "UNDEFINED",      "FLOAT",        "UINT8",          "INT8",
      "UINT16",         "INT16",        "INT32",          "INT64",
      "STRING",         "BOOL",         "FLOAT16",        "DOUBLE",
      "UINT32",         "UINT64",       "COMPLEX64",      "COMPLEX128",
      "BFLOAT16",       "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
      "FLOAT8E5M2FNUZ", "UINT4",        "INT4",           "FLOAT4E2M1"};
  if (dataType >= 0 && dataType < static_cast<int32_t>(std::size(names)))
    return names[dataType];
  return "unknown";
}

Value onnx_import::convertScalar(OpBuilder &b, Location loc, Value value,
                                 Type to, bool fromUnsigned, bool toUnsigned) {
  Type from = value.getType();
  if (from == to)
    return value;
  auto fromFloat = dyn_cast<FloatType>(from);
  auto toFloat = dyn_cast<FloatType>(to);
  if (fromFloat && toFloat) {
    if (fromFloat.getWidth() < toFloat.getWidth())
      return arith::ExtFOp::create(b, loc, to, value);
    if (fromFloat.getWidth() > toFloat.getWidth())
      return arith::TruncFOp::create(b, loc, to, value);
    Value wide = arith::ExtFOp::create(b, loc, b.getF32Type(), value);
    return arith::TruncFOp::create(b, loc, to, wide);
  }
  if (to.isInteger(1)) {
    // Anything non-zero is true.
    if (fromFloat) {
      Value zero = arith::ConstantOp::create(b, loc, b.getFloatAttr(from, 0));
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, value,
                                   zero);
    }
    Value zero = arith::ConstantOp::create(b, loc, b.getIntegerAttr(from, 0));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, value, zero);
  }
  // Booleans are unsigned: true is 1, never -1.
  if (from.isInteger(1))
    fromUnsigned = true;
  if (fromFloat) {
    if (toUnsigned)
      return arith::FPToUIOp::create(b, loc, to, value);
    return arith::FPToSIOp::create(b, loc, to, value);
  }
  if (toFloat) {
    if (fromUnsigned)
      return arith::UIToFPOp::create(b, loc, to, value);
    return arith::SIToFPOp::create(b, loc, to, value);
  }
  unsigned fromWidth = from.getIntOrFloatBitWidth();
  unsigned toWidth = to.getIntOrFloatBitWidth();
  if (fromWidth > toWidth)
    return arith::TruncIOp::create(b, loc, to, value);
  if (fromUnsigned)
    return arith::ExtUIOp::create(b, loc, to, value);
  return arith::ExtSIOp::create(b, loc, to, value);
}

//===----------------------------------------------------------------------===//
// NodeContext
//===----------------------------------------------------------------------===//

OpBuilder &NodeContext::getBuilder() { return importer.builder; }
MLIRContext *NodeContext::getContext() { return importer.context; }

Value NodeContext::getInput(unsigned i) {
  return importer.materialize(*importer.lookup(node.input(i)), loc);
}

RankedTensorType NodeContext::getInputType(unsigned i) {
  ImportedValue &value = *importer.lookup(node.input(i));
  if (value.value)
    return cast<RankedTensorType>(value.value.getType());
  if (value.constantAttr)
    return cast<RankedTensorType>(value.constantAttr.getType());
  return value.elementsType;
}

const HostTensor *NodeContext::getConstantInput(unsigned i) {
  if (!hasInput(i))
    return nullptr;
  return importer.lookup(node.input(i))->constant.get();
}

std::optional<SmallVector<OpFoldResult>>
NodeContext::getShapeElements(unsigned i) {
  if (!hasInput(i))
    return std::nullopt;
  ImportedValue &value = *importer.lookup(node.input(i));
  if (value.elements)
    return value.elements;
  const HostTensor *constant = value.constant.get();
  if (!constant || constant->isFloat() || constant->shape.size() > 1)
    return std::nullopt;
  Builder b(getContext());
  SmallVector<OpFoldResult> elements;
  for (int64_t v : constant->ints)
    elements.push_back(b.getIndexAttr(v));
  return elements;
}

void NodeContext::setShapeResult(unsigned i, ArrayRef<OpFoldResult> elements,
                                 RankedTensorType type) {
  if (!hasOutput(i))
    return;
  SmallVector<int64_t> known;
  for (OpFoldResult element : elements)
    if (std::optional<int64_t> v = getConstantIntValue(element))
      known.push_back(*v);
  if (known.size() == elements.size()) {
    HostTensor tensor;
    tensor.shape.assign(type.getShape().begin(), type.getShape().end());
    tensor.elementType = type.getElementType();
    tensor.ints = known;
    setConstantResult(i, std::move(tensor));
    return;
  }
  ImportedValue imported;
  imported.elements = SmallVector<OpFoldResult>(elements);
  imported.elementsType = type;
  importer.define(node.output(i), std::move(imported));
}

bool NodeContext::isConstantInput(unsigned i) {
  if (!hasInput(i))
    return false;
  ImportedValue &value = *importer.lookup(node.input(i));
  return value.constantAttr != nullptr;
}

Value NodeContext::getTransposedConstant(unsigned i) {
  if (!hasInput(i))
    return {};
  return importer.lookup(node.input(i))->transposedConstant;
}

void NodeContext::setTransposedConstant(unsigned i, Value constant) {
  if (ImportedValue *value =
          hasOutput(i) ? importer.lookup(node.output(i)) : nullptr)
    value->transposedConstant = constant;
}

bool NodeContext::isUnsignedInput(unsigned i) {
  return importer.lookup(node.input(i))->isUnsigned;
}

const onnx::AttributeProto *NodeContext::getAttr(StringRef name) const {
  for (const onnx::AttributeProto &attr : node.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

int64_t NodeContext::getIntAttr(StringRef name, int64_t defaultValue) const {
  const onnx::AttributeProto *attr = getAttr(name);
  return attr ? attr->i() : defaultValue;
}

float NodeContext::getFloatAttr(StringRef name, float defaultValue) const {
  const onnx::AttributeProto *attr = getAttr(name);
  return attr ? attr->f() : defaultValue;
}

std::optional<SmallVector<int64_t>>
NodeContext::getIntsAttr(StringRef name) const {
  const onnx::AttributeProto *attr = getAttr(name);
  if (!attr)
    return std::nullopt;
  return SmallVector<int64_t>(attr->ints().begin(), attr->ints().end());
}

std::optional<std::string> NodeContext::getStringAttr(StringRef name) const {
  const onnx::AttributeProto *attr = getAttr(name);
  if (!attr)
    return std::nullopt;
  return attr->s();
}

void NodeContext::setResult(unsigned i, Value value, bool isUnsigned) {
  if (!hasOutput(i))
    return;
  ImportedValue imported;
  imported.value = value;
  imported.isUnsigned = isUnsigned;
  importer.define(node.output(i), std::move(imported));
}

void NodeContext::forwardInput(unsigned in, unsigned out) {
  if (!hasOutput(out))
    return;
  ImportedValue copy = *importer.lookup(node.input(in));
  importer.define(node.output(out), std::move(copy));
}

void NodeContext::setConstantResult(unsigned i, HostTensor tensor) {
  if (!hasOutput(i))
    return;
  ImportedValue imported;
  imported.constantAttr = tensor.toAttr();
  imported.constant = std::make_shared<HostTensor>(std::move(tensor));
  importer.define(node.output(i), std::move(imported));
}

void NodeContext::setImportedResult(unsigned i, ImportedValue value) {
  if (hasOutput(i))
    importer.define(node.output(i), std::move(value));
}

std::string onnx_import::describeNode(const onnx::NodeProto &node,
                                      int64_t index) {
  if (!node.name().empty())
    return "node '" + node.name() + "'";
  return "node #" + std::to_string(index);
}

InFlightDiagnostic NodeContext::emitError() {
  std::string domain = node.domain().empty() ? "ai.onnx" : node.domain();
  return mlir::emitError(loc)
         << describeNode(node, index) << " (" << node.op_type() << ", domain '"
         << domain << "', opset " << opset << "): ";
}

LogicalResult NodeContext::requireAtMostOutputs(unsigned count) {
  for (unsigned i = count; i < getNumOutputs(); ++i)
    if (hasOutput(i))
      return emitError() << "output " << i << " ('" << node.output(i)
                         << "') is not supported";
  return success();
}

OpFoldResult NodeContext::getInputDimSize(unsigned i, int64_t d) {
  RankedTensorType type = getInputType(i);
  OpBuilder &b = getBuilder();
  if (!type.isDynamicDim(d))
    return b.getIndexAttr(type.getDimSize(d));
  Value size = tensor::DimOp::create(b, loc, getInput(i), d);
  StringRef symbol = importer.getValueInfoDimParam(node.input(i), d);
  if (!symbol.empty())
    importer.setDimSymbol(size, symbol);
  return size;
}

FailureOr<int64_t> NodeContext::normalizeAxis(int64_t axis, int64_t rank) {
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= std::max<int64_t>(rank, 1))
    return emitError() << "axis " << axis << " is out of range for rank "
                       << rank;
  return normalized;
}

//===----------------------------------------------------------------------===//
// GraphImporter
//===----------------------------------------------------------------------===//

const OpRegistry &onnx_import::getOpRegistry() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    registerElementwiseOps(r);
    registerLinearOps(r);
    registerShapeOps(r);
    registerReductionOps(r);
    registerNormalizationOps(r);
    registerQuantizationOps(r);
    registerConvolutionOps(r);
    registerControlFlowOps(r);
    registerRecurrentOps(r);
    return r;
  }();
  return registry;
}

GraphImporter::GraphImporter(MLIRContext *context,
                             std::shared_ptr<LoadedModel> model,
                             const ONNXImportOptions &options)
    : builder(context), context(context), model(std::move(model)),
      options(options),
      fileLoc(FileLineColLoc::get(context, this->model->getPath(), 0, 0)) {}

static bool isDefaultDomain(StringRef domain) {
  return domain.empty() || domain == "ai.onnx";
}

LogicalResult GraphImporter::checkOpsets() {
  for (const onnx::OperatorSetIdProto &opset : model->getModel().opset_import())
    if (isDefaultDomain(opset.domain()))
      defaultOpset = opset.version();
  if (defaultOpset == 0)
    return mlir::emitError(fileLoc)
           << "the model imports no opset of the default ONNX domain";
  if (defaultOpset < kMinONNXOpset || defaultOpset > kMaxONNXOpset)
    return mlir::emitError(fileLoc)
           << "the model uses opset " << defaultOpset
           << " of the default ONNX domain; qopt-import supports opsets "
           << kMinONNXOpset << " to " << kMaxONNXOpset;
  return success();
}

/// The opset that introduced an op of the default domain. The handlers
/// implement every version of the ops they claim from there (or from
/// kMinONNXOpset) to kMaxONNXOpset, reading NodeContext::getOpset() where a
/// version changed the op's attributes or semantics (Clip, Pad, Slice, TopK
/// and Resize attributes that later became inputs, Softmax's coercion to
/// 2-D before 13, BatchNormalization's `spatial` before 9...). A node of an
/// op that its model's opset does not have yet is refused.
static int64_t getMinimumOpset(StringRef opType) {
  return llvm::StringSwitch<int64_t>(opType)
      .Cases({"Trilu", "HardSwish"}, 14)
      .Case("CastLike", 15)
      .Case("LayerNormalization", 17)
      .Case("Gelu", 20)
      .Cases({"LessOrEqual", "GreaterOrEqual", "Celu"}, 12)
      .Cases({"Range", "CumSum", "GatherND", "GatherElements", "Round"}, 11)
      .Cases({"QuantizeLinear", "DequantizeLinear", "Resize", "Mod", "IsInf",
              "ThresholdedRelu"},
             10)
      .Cases({"Where", "ConstantOfShape", "IsNaN", "Erf", "EyeLike", "OneHot",
              "Shrink", "Sign", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh"},
             9)
      .Case("Expand", 8)
      .Default(1);
}

/// The first opset whose version of an op the handlers implement, for ops
/// whose versions before opset 7 differ (the legacy `broadcast` attribute of
/// binary ops, Cast's string `to`, Reshape's `shape` attribute...). The
/// README claims opsets 7 to 21; older models import when their ops did not
/// change.
static int64_t getLegacyFloor(StringRef opType) {
  return llvm::StringSwitch<int64_t>(opType)
      .Cases(
          {"Add",     "Sub",         "Mul",      "Div",   "Pow",
           "Equal",   "Less",        "Greater",  "And",   "Or",
           "Xor",     "Gemm",        "Cos",      "Sin",   "BatchNormalization",
           "Dropout", "AveragePool", "Upsample", "PRelu", "RNN",
           "GRU",     "LSTM"},
          7)
      .Cases({"Cast", "Relu",        "LeakyRelu",  "Sigmoid", "Tanh", "Exp",
              "Log",  "Sqrt",        "Reciprocal", "Neg",     "Abs",  "Floor",
              "Ceil", "HardSigmoid", "Clip",       "Max",     "Min",  "Sum",
              "Mean", "Elu",         "Selu"},
             6)
      .Case("Reshape", 5)
      .Case("Concat", 4)
      .Cases({"Pad", "Split"}, 2)
      .Default(1);
}

/// The last opset that has an op (deprecated ops), or INT64_MAX.
static int64_t getMaximumOpset(StringRef opType) {
  return llvm::StringSwitch<int64_t>(opType)
      .Case("Upsample", 9)
      .Default(INT64_MAX);
}

/// What to use instead of a removed op.
static StringRef getReplacementHint(StringRef opType) {
  return llvm::StringSwitch<StringRef>(opType)
      .Case("Upsample", "; opset 10 and later spell it Resize")
      .Default("");
}

LogicalResult GraphImporter::checkSupported() {
  const OpRegistry &registry = getOpRegistry();
  std::map<std::string, int> unsupported;
  bool tooOld = false;
  // Walks a graph and the subgraphs of its nodes (If branches, Loop and
  // Scan bodies), so that every unsupported op is named, not only the
  // outermost control-flow node. `where` says which subgraph a node is in.
  std::function<void(const onnx::GraphProto &, const std::string &)> check =
      [&](const onnx::GraphProto &graph, const std::string &where) {
        int64_t index = -1;
        for (const onnx::NodeProto &node : graph.node()) {
          ++index;
          auto nodeError = [&](StringRef domain, int64_t version) {
            return mlir::emitError(
                       NameLoc::get(StringAttr::get(context, node.name())))
                   << describeNode(node, index) << " (" << node.op_type()
                   << ", domain '" << domain << "', opset " << version << ")"
                   << where << ": ";
          };
          if (isDefaultDomain(node.domain()) &&
              registry.count(node.op_type())) {
            int64_t minimum = getMinimumOpset(node.op_type());
            int64_t floor = getLegacyFloor(node.op_type());
            int64_t maximum = getMaximumOpset(node.op_type());
            if (defaultOpset < std::max(minimum, floor) ||
                defaultOpset > maximum) {
              InFlightDiagnostic diag = nodeError("ai.onnx", defaultOpset);
              if (defaultOpset < minimum)
                diag << "the op was introduced in opset " << minimum;
              else if (defaultOpset < floor)
                diag << "supported from opset " << floor
                     << ", whose semantics differ from earlier versions";
              else
                diag << "the op was removed after opset " << maximum
                     << getReplacementHint(node.op_type());
              tooOld = true;
            }
          } else {
            std::string domain =
                node.domain().empty() ? "ai.onnx" : node.domain();
            int64_t version = 0;
            for (const onnx::OperatorSetIdProto &opset :
                 model->getModel().opset_import())
              if (opset.domain() == node.domain() ||
                  (isDefaultDomain(opset.domain()) &&
                   isDefaultDomain(node.domain())))
                version = opset.version();
            nodeError(domain, version) << "unsupported op";
            ++unsupported[isDefaultDomain(node.domain())
                              ? node.op_type()
                              : node.domain() + "." + node.op_type()];
          }
          std::string owner = describeNode(node, index);
          for (const onnx::AttributeProto &attr : node.attribute()) {
            if (attr.has_g())
              check(attr.g(),
                    " in the '" + attr.name() + "' of " + owner + where);
            for (const onnx::GraphProto &g : attr.graphs())
              check(g, " in the '" + attr.name() + "' of " + owner + where);
          }
        }
      };
  check(model->getModel().graph(), "");
  if (unsupported.empty())
    return failure(tooOld);
  InFlightDiagnostic diag = mlir::emitError(fileLoc);
  diag << "the model uses " << unsupported.size()
       << " unsupported op type(s): ";
  llvm::interleaveComma(unsupported, diag, [&](const auto &entry) {
    diag << entry.first << " (" << entry.second << " node"
         << (entry.second == 1 ? "" : "s") << ")";
  });
  return failure();
}

FailureOr<RankedTensorType>
GraphImporter::convertValueInfo(const onnx::ValueInfoProto &info,
                                bool &isUnsigned) {
  if (!info.type().has_tensor_type())
    return mlir::emitError(fileLoc)
           << "graph input/output '" << info.name()
           << "' is not a tensor (sequences, maps and optionals are not "
              "supported)";
  const onnx::TypeProto::Tensor &tensor = info.type().tensor_type();
  Type elementType =
      convertONNXElementType(context, tensor.elem_type(), isUnsigned);
  if (!elementType)
    return mlir::emitError(fileLoc)
           << "graph input/output '" << info.name() << "' has unsupported type "
           << getONNXTypeName(tensor.elem_type());
  if (!tensor.has_shape())
    return mlir::emitError(fileLoc)
           << "graph input/output '" << info.name()
           << "' has unknown rank; give its shape with --input-shape";
  SmallVector<int64_t> shape;
  for (const onnx::TensorShapeProto::Dimension &dim : tensor.shape().dim())
    shape.push_back(dim.has_dim_value() && dim.dim_value() >= 0
                        ? dim.dim_value()
                        : ShapedType::kDynamic);
  auto it = options.inputShapes.find(info.name());
  if (it != options.inputShapes.end()) {
    ArrayRef<int64_t> given = it->second;
    if (given.size() != shape.size())
      return mlir::emitError(fileLoc)
             << "--input-shape gives '" << info.name() << "' rank "
             << given.size() << ", but the model says rank " << shape.size();
    for (auto [i, size] : llvm::enumerate(given)) {
      if (!ShapedType::isDynamic(shape[i]) && shape[i] != size)
        return mlir::emitError(fileLoc)
               << "--input-shape gives dimension " << i << " of '"
               << info.name() << "' size " << size
               << ", but the model fixes it to " << shape[i];
      shape[i] = size;
    }
  }
  return RankedTensorType::get(shape, elementType);
}

StringRef GraphImporter::getValueInfoDimParam(StringRef name, int64_t d) const {
  auto it = valueInfoDimParams.find(name);
  if (it == valueInfoDimParams.end() ||
      d >= static_cast<int64_t>(it->second.size()))
    return {};
  return it->second[d];
}

std::string GraphImporter::getStaticShapeHint() const {
  std::string hint;
  llvm::raw_string_ostream os(hint);
  if (dynamicInputs.empty()) {
    os << "the model's graph inputs are static, so the size comes from "
          "a graph input bound with --constant-input or computed in the graph";
    return hint;
  }
  os << "give static shapes with --input-shape NAME=DIMS (for example "
        "--input-shape "
     << dynamicInputs.front().first << "=";
  llvm::interleave(
      dynamicInputs.front().second.getShape(), os,
      [&](int64_t d) { os << (ShapedType::isDynamic(d) ? 1 : d); }, "x");
  os << ") to the graph input(s) with dynamic sizes: ";
  llvm::interleaveComma(dynamicInputs, os, [&](const auto &input) {
    os << "'" << input.first << "' [";
    for (auto [d, size] : llvm::enumerate(input.second.getShape())) {
      if (d)
        os << ", ";
      StringRef param = getValueInfoDimParam(input.first, d);
      if (!ShapedType::isDynamic(size))
        os << size;
      else
        os << (param.empty() ? StringRef("?") : param);
    }
    os << "]";
  });
  return hint;
}

Value GraphImporter::materialize(ImportedValue &value, Location loc) {
  if (value.value)
    return value.value;
  if (value.constantAttr) {
    value.value = arith::ConstantOp::create(
        builder, loc, cast<TypedAttr>(value.constantAttr));
    return value.value;
  }
  // A shape tensor with run-time elements.
  Type elementType = value.elementsType.getElementType();
  SmallVector<Value> scalars;
  for (OpFoldResult element : *value.elements) {
    Value index = getValueOrCreateConstantIndexOp(builder, loc, element);
    scalars.push_back(
        arith::IndexCastOp::create(builder, loc, elementType, index));
  }
  value.value =
      tensor::FromElementsOp::create(builder, loc, value.elementsType, scalars);
  return value.value;
}

/// Element byte size in ONNX raw data (booleans take a byte).
static unsigned getRawElementBytes(Type type) {
  return std::max<unsigned>(1, type.getIntOrFloatBitWidth() / 8);
}

FailureOr<ImportedValue>
GraphImporter::importTensor(const onnx::TensorProto &tensor, Location loc,
                            StringRef what, StringRef resourceName) {
  bool isUnsigned;
  Type elementType =
      convertONNXElementType(context, tensor.data_type(), isUnsigned);
  if (!elementType)
    return mlir::emitError(loc) << what << " has unsupported type "
                                << getONNXTypeName(tensor.data_type());
  SmallVector<int64_t> shape;
  int64_t numElements = 1;
  for (int64_t dim : tensor.dims()) {
    if (dim < 0)
      return mlir::emitError(loc)
             << what << " has a negative dimension " << dim;
    // Element counts must fit comfortably in memory-sized integers.
    if (llvm::MulOverflow(numElements, dim, numElements) ||
        numElements > (int64_t(1) << 48))
      return mlir::emitError(loc) << what << " has too many elements";
    shape.push_back(dim);
  }
  auto type = RankedTensorType::get(shape, elementType);
  unsigned elementBytes = getRawElementBytes(elementType);

  StringRef bytes;
  std::string error;
  if (!model->getRawBytes(tensor, bytes, error))
    return mlir::emitError(loc) << what << ": " << error;
  bool isRaw = tensor.data_location() == onnx::TensorProto::EXTERNAL ||
               tensor.has_raw_data();

  ImportedValue result;
  result.isUnsigned = isUnsigned;
  if (isRaw) {
    uint64_t expected = static_cast<uint64_t>(numElements) * elementBytes;
    if (bytes.size() != expected)
      return mlir::emitError(loc)
             << what << " holds " << bytes.size() << " bytes, but its shape ["
             << llvm::make_range(shape.begin(), shape.end()) << "] of "
             << getONNXTypeName(tensor.data_type()) << " needs " << expected;
    if (elementType.isInteger(1)) {
      SmallVector<bool> bits(
          llvm::map_range(bytes, [](char c) { return c != 0; }));
      result.constantAttr = DenseElementsAttr::get(type, bits);
    } else if (static_cast<int64_t>(bytes.size()) >=
               options.resourceThreshold) {
      // Reference the model's memory (the parsed protobuf or the mmap'd
      // external file) instead of copying; the blob keeps it alive.
      size_t align = elementBytes;
      AsmResourceBlob blob;
      if (llvm::isAddrAligned(llvm::Align(align), bytes.data())) {
        blob = AsmResourceBlob(
            ArrayRef<char>(bytes.data(), bytes.size()), align,
            [keepAlive = model](void *, size_t, size_t) {}, false);
      } else {
        blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
            ArrayRef<char>(bytes.data(), bytes.size()), align);
      }
      std::string key =
          "onnx." + (resourceName.empty() ? tensor.name() : resourceName.str());
      for (char &c : key)
        if (!llvm::isAlnum(c) && c != '_' && c != '.')
          c = '_';
      result.constantAttr =
          DenseResourceElementsAttr::get(type, key, std::move(blob));
    } else {
      result.constantAttr = DenseElementsAttr::getFromRawBuffer(
          type, ArrayRef<char>(bytes.data(), bytes.size()));
    }
  } else {
    // Typed fields.
    auto checkCount = [&](int64_t count) -> LogicalResult {
      if (count == numElements)
        return success();
      return mlir::emitError(loc)
             << what << " holds " << count << " values, but its shape needs "
             << numElements;
    };
    int32_t dataType = tensor.data_type();
    if (auto floatType = dyn_cast<FloatType>(elementType)) {
      SmallVector<APFloat> values;
      if (dataType == onnx::TensorProto::FLOAT) {
        if (failed(checkCount(tensor.float_data_size())))
          return failure();
        for (float v : tensor.float_data())
          values.push_back(APFloat(v));
      } else if (dataType == onnx::TensorProto::DOUBLE) {
        if (failed(checkCount(tensor.double_data_size())))
          return failure();
        for (double v : tensor.double_data())
          values.push_back(APFloat(v));
      } else {
        // f16, bf16 and fp8 keep their bits in int32_data.
        if (failed(checkCount(tensor.int32_data_size())))
          return failure();
        for (int32_t v : tensor.int32_data())
          values.push_back(
              APFloat(floatType.getFloatSemantics(),
                      APInt(floatType.getWidth(), static_cast<uint64_t>(v))));
      }
      result.constantAttr = DenseElementsAttr::get(type, values);
    } else if (elementType.isInteger(1)) {
      if (failed(checkCount(tensor.int32_data_size())))
        return failure();
      SmallVector<bool> bits(llvm::map_range(tensor.int32_data(),
                                             [](int32_t v) { return v != 0; }));
      result.constantAttr = DenseElementsAttr::get(type, bits);
    } else {
      unsigned width = elementType.getIntOrFloatBitWidth();
      SmallVector<APInt> values;
      auto add = [&](uint64_t v) {
        values.push_back(APInt(width, v, /*isSigned=*/!isUnsigned,
                               /*implicitTrunc=*/true));
      };
      if (dataType == onnx::TensorProto::INT64) {
        if (failed(checkCount(tensor.int64_data_size())))
          return failure();
        for (int64_t v : tensor.int64_data())
          add(static_cast<uint64_t>(v));
      } else if (dataType == onnx::TensorProto::UINT32 ||
                 dataType == onnx::TensorProto::UINT64) {
        if (failed(checkCount(tensor.uint64_data_size())))
          return failure();
        for (uint64_t v : tensor.uint64_data())
          add(v);
      } else {
        if (failed(checkCount(tensor.int32_data_size())))
          return failure();
        for (int32_t v : tensor.int32_data())
          add(static_cast<uint64_t>(static_cast<int64_t>(v)));
      }
      result.constantAttr = DenseElementsAttr::get(type, values);
    }
  }

  // A host copy of small integer and float constants, for folding.
  if (numElements <= kMaxHostElements &&
      !isa<Float8E4M3FNType, Float8E4M3FNUZType, Float8E5M2Type,
           Float8E5M2FNUZType>(elementType)) {
    auto host = std::make_shared<HostTensor>();
    host->shape = shape;
    host->elementType = elementType;
    DenseElementsAttr dense = dyn_cast<DenseElementsAttr>(result.constantAttr);
    if (!dense && isRaw)
      dense = DenseElementsAttr::getFromRawBuffer(
          type, ArrayRef<char>(bytes.data(), bytes.size()));
    if (dense) {
      if (isa<FloatType>(elementType)) {
        for (const APFloat &v : dense.getValues<APFloat>())
          host->floats.push_back(v.convertToDouble());
      } else {
        for (const APInt &v : dense.getValues<APInt>())
          host->ints.push_back(isUnsigned || elementType.isInteger(1)
                                   ? static_cast<int64_t>(v.getZExtValue())
                                   : v.getSExtValue());
      }
      result.constant = std::move(host);
    }
  }
  return result;
}

/// The number of leading inputs a node of `opType` requires (ONNX's
/// schemas, for the opsets the handlers accept): variadic ops need all the
/// inputs they are given, and at least one. Handlers check optional inputs
/// themselves; this check keeps a malformed node from reaching them at all.
static int getRequiredInputs(StringRef opType, int64_t opset, int numInputs) {
  if (llvm::is_contained({"Concat", "Max", "Mean", "Min", "Sum"}, opType))
    return std::max(numInputs, 1);
  return llvm::StringSwitch<int>(opType)
      .Case("Constant", 0)
      .Cases({"Add",
              "And",
              "CastLike",
              "Conv",
              "CumSum",
              "DequantizeLinear",
              "Div",
              "Equal",
              "Expand",
              "Gather",
              "GatherElements",
              "GatherND",
              "Gemm",
              "Greater",
              "GreaterOrEqual",
              "LayerNormalization",
              "Less",
              "LessOrEqual",
              "MatMul",
              "Mod",
              "Mul",
              "Or",
              "Pow",
              "QuantizeLinear",
              "Reshape",
              "Sub",
              "Tile",
              "Xor"},
             2)
      .Case("TopK", opset >= 10 ? 2 : 1)
      // Scan-8's first input is the optional sequence_lens.
      .Case("Scan", opset >= 9 ? 1 : 0)
      // Loop's M and cond may both be the empty name.
      .Case("Loop", 0)
      .Case("Pad", opset >= 11 ? 2 : 1)
      .Cases({"OneHot", "Range", "Where", "RNN", "GRU", "LSTM"}, 3)
      .Case("Slice", opset >= 10 ? 3 : 1)
      .Case("BatchNormalization", 5)
      .Default(1);
}

LogicalResult GraphImporter::importNode(const onnx::NodeProto &node,
                                        int64_t index) {
  std::string name = node.name();
  if (name.empty())
    name = node.op_type() + "_" + std::to_string(index);
  Location loc = NameLoc::get(StringAttr::get(context, name));
  NodeContext ctx(*this, node, index, defaultOpset, loc);
  int required =
      getRequiredInputs(node.op_type(), defaultOpset, node.input_size());
  if (node.input_size() < required)
    return ctx.emitError() << "has " << node.input_size()
                           << " inputs, needs at least " << required;
  for (int i = 0; i < required; ++i)
    if (node.input(i).empty())
      return ctx.emitError() << "input " << i << " is required but not given";
  // The recurrent ops' Y is optional (a model may want only Y_h); every
  // other op's first output is required.
  bool firstOutputOptional =
      llvm::is_contained({"RNN", "GRU", "LSTM"}, node.op_type());
  if (llvm::all_of(node.output(),
                   [](const std::string &name) { return name.empty(); }) ||
      (node.output(0).empty() && !firstOutputOptional))
    return ctx.emitError() << "has no output";
  for (const std::string &input : node.input())
    if (!input.empty() && !lookup(input))
      return ctx.emitError() << "input '" << input
                             << "' is not defined by an earlier node, an "
                                "initializer or a graph input";
  const OpHandler &handler = getOpRegistry().find(node.op_type())->second;
  if (failed(handler(ctx)))
    return failure();
  for (const std::string &output : node.output())
    if (!output.empty() && !lookup(output))
      return ctx.emitError() << "output '" << output << "' was not produced";
  return success();
}

FailureOr<SmallVector<ImportedValue>>
GraphImporter::importSubgraph(const onnx::GraphProto &graph, Location loc) {
  for (const onnx::TensorProto &tensor : graph.initializer()) {
    Location tensorLoc = NameLoc::get(StringAttr::get(context, tensor.name()));
    FailureOr<ImportedValue> value =
        importTensor(tensor, tensorLoc, "initializer '" + tensor.name() + "'");
    if (failed(value))
      return failure();
    define(tensor.name(), std::move(*value));
  }
  for (auto [index, node] : llvm::enumerate(graph.node()))
    if (failed(importNode(node, index)))
      return failure();
  SmallVector<ImportedValue> outputs;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    ImportedValue *value = lookup(output.name());
    if (!value)
      return mlir::emitError(loc)
             << "subgraph '" << graph.name() << "' output '" << output.name()
             << "' is never defined";
    outputs.push_back(*value);
  }
  return outputs;
}

OwningOpRef<ModuleOp> GraphImporter::run() {
  if (failed(checkOpsets()) || failed(checkSupported()))
    return nullptr;
  const onnx::GraphProto &graph = model->getModel().graph();

  // Symbolic dimension names the exporter recorded (torch.onnx names them
  // "batch", "seq", ...), for the inputs, outputs and intermediate values.
  auto recordDimParams = [&](const onnx::ValueInfoProto &info) {
    if (!info.type().has_tensor_type() ||
        !info.type().tensor_type().has_shape())
      return;
    SmallVector<std::string> params;
    for (const auto &dim : info.type().tensor_type().shape().dim())
      params.push_back(dim.has_dim_param() ? dim.dim_param() : "");
    valueInfoDimParams[info.name()] = std::move(params);
  };
  for (const onnx::ValueInfoProto &info : graph.value_info())
    recordDimParams(info);
  for (const onnx::ValueInfoProto &info : graph.input())
    recordDimParams(info);
  for (const onnx::ValueInfoProto &info : graph.output())
    recordDimParams(info);

  // Initializers first: ONNX (IR >= 4) may list them as inputs too.
  llvm::StringSet<> initializerNames;
  for (const onnx::TensorProto &tensor : graph.initializer())
    initializerNames.insert(tensor.name());

  // Options must name real graph inputs (not initializers).
  auto checkNamesInputs = [&](ArrayRef<StringRef> names,
                              StringRef flag) -> LogicalResult {
    for (StringRef name : names) {
      bool found =
          llvm::any_of(graph.input(), [&](const onnx::ValueInfoProto &i) {
            return i.name() == name && !initializerNames.contains(i.name());
          });
      if (!found)
        return mlir::emitError(fileLoc)
               << flag << " names '" << name
               << "', which is not an input of the graph";
    }
    return success();
  };
  SmallVector<StringRef> bound = llvm::to_vector(options.constantInputs.keys());
  SmallVector<StringRef> shaped = llvm::to_vector(options.inputShapes.keys());
  if (failed(checkNamesInputs(bound, "--constant-input")) ||
      failed(checkNamesInputs(shaped, "--input-shape")))
    return nullptr;

  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  SmallVector<bool> argUnsigned;
  SmallVector<std::pair<std::string, ImportedValue>> boundInputs;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (initializerNames.contains(input.name()))
      continue;
    bool isUnsigned;
    FailureOr<RankedTensorType> type = convertValueInfo(input, isUnsigned);
    if (failed(type))
      return nullptr;
    auto bound = options.constantInputs.find(input.name());
    if (bound != options.constantInputs.end()) {
      std::string error;
      const onnx::TensorProto *tensor =
          model->loadTensorFile(bound->second, error);
      if (!tensor)
        return mlir::emitError(fileLoc)
                   << "--constant-input " << input.name() << ": " << error,
               nullptr;
      Location loc = NameLoc::get(StringAttr::get(context, input.name()));
      FailureOr<ImportedValue> value =
          importTensor(*tensor, loc, "--constant-input '" + input.name() + "'");
      if (failed(value))
        return nullptr;
      auto valueType = cast<RankedTensorType>(value->constantAttr.getType());
      if (valueType.getElementType() != type->getElementType() ||
          failed(verifyCompatibleShape(valueType, *type)))
        return mlir::emitError(fileLoc)
                   << "--constant-input '" << input.name() << "' is "
                   << valueType << ", but the graph input is " << *type,
               nullptr;
      boundInputs.emplace_back(input.name(), std::move(*value));
      continue;
    }
    if (!type->hasStaticShape())
      dynamicInputs.emplace_back(input.name(), *type);
    argTypes.push_back(*type);
    argNames.push_back(input.name());
    argUnsigned.push_back(isUnsigned);
  }

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, fileLoc, options.functionName,
                                   builder.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  for (auto [i, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(i, "qopt.onnx_name", builder.getStringAttr(name));
    ImportedValue value;
    value.value = entry->getArgument(i);
    value.isUnsigned = argUnsigned[i];
    define(name, value);
  }

  for (auto &[name, value] : boundInputs)
    define(name, std::move(value));

  bool failedInitializer = false;
  for (const onnx::TensorProto &tensor : graph.initializer()) {
    Location loc = NameLoc::get(StringAttr::get(context, tensor.name()));
    FailureOr<ImportedValue> value =
        importTensor(tensor, loc, "initializer '" + tensor.name() + "'");
    if (failed(value)) {
      failedInitializer = true;
      continue;
    }
    define(tensor.name(), std::move(*value));
  }
  if (failedInitializer)
    return nullptr;

  for (auto [index, node] : llvm::enumerate(graph.node()))
    if (failed(importNode(node, index)))
      return nullptr;

  SmallVector<Value> results;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    ImportedValue *value = lookup(output.name());
    if (!value)
      return mlir::emitError(fileLoc)
                 << "graph output '" << output.name() << "' is never defined",
             nullptr;
    results.push_back(materialize(*value, fileLoc));
  }
  func::ReturnOp::create(builder, fileLoc, results);
  func.setType(
      builder.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "qopt.onnx_name",
                       builder.getStringAttr(output.name()));

  if (failed(verify(*module))) {
    mlir::emitError(fileLoc) << "internal error: the imported IR does not "
                                "verify; please report this model";
    return nullptr;
  }
  return module;
}

//===----------------------------------------------------------------------===//
// Public API
//===----------------------------------------------------------------------===//

void qopt::registerONNXImportDialects(DialectRegistry &registry) {
  registry.insert<arith::ArithDialect, func::FuncDialect, linalg::LinalgDialect,
                  math::MathDialect, scf::SCFDialect, tensor::TensorDialect,
                  QOptDialect>();
}

static OwningOpRef<ModuleOp>
importLoaded(MLIRContext *context, StringRef path,
             const ONNXImportOptions &options,
             function_ref<std::shared_ptr<LoadedModel>(std::string &)> load) {
  DialectRegistry registry;
  registerONNXImportDialects(registry);
  context->appendDialectRegistry(registry);
  context->loadAllAvailableDialects();
  std::string error;
  std::shared_ptr<LoadedModel> model = load(error);
  if (!model) {
    mlir::emitError(FileLineColLoc::get(context, path, 0, 0)) << error;
    return nullptr;
  }
  return GraphImporter(context, std::move(model), options).run();
}

OwningOpRef<ModuleOp> qopt::importONNXModel(MLIRContext *context,
                                            StringRef path,
                                            const ONNXImportOptions &options) {
  return importLoaded(context, path, options, [&](std::string &error) {
    return LoadedModel::load(path, error);
  });
}

OwningOpRef<ModuleOp>
qopt::importONNXModelFromBuffer(MLIRContext *context, StringRef bytes,
                                StringRef path,
                                const ONNXImportOptions &options) {
  return importLoaded(context, path, options, [&](std::string &error) {
    return LoadedModel::loadFromBuffer(bytes, path, error);
  });
}

std::string qopt::parseInputShapeOption(StringRef value,
                                        ONNXImportOptions &options) {
  auto [name, dims] = value.split('=');
  if (name.empty() || !value.contains('='))
    return "expected NAME=DIMS (for example input_ids=1x128), got '" +
           value.str() + "'";
  SmallVector<int64_t> shape;
  if (!dims.empty()) {
    SmallVector<StringRef> parts;
    dims.split(parts, 'x');
    for (StringRef part : parts) {
      int64_t size;
      if (part.getAsInteger(10, size) || size < 0)
        return "dimension '" + part.str() + "' of --input-shape " +
               value.str() + " is not a non-negative integer";
      shape.push_back(size);
    }
  }
  options.inputShapes[name] = std::move(shape);
  return "";
}

std::string qopt::parseConstantInputOption(StringRef value,
                                           ONNXImportOptions &options) {
  auto [name, path] = value.split('=');
  if (name.empty() || path.empty())
    return "expected NAME=TENSOR.pb, got '" + value.str() + "'";
  options.constantInputs[name] = path.str();
  return "";
}

SmallVector<StringRef> qopt::getSupportedONNXOps() {
  SmallVector<StringRef> ops;
  for (const auto &entry : getOpRegistry())
    ops.push_back(entry.getKey());
  llvm::sort(ops);
  return ops;
}
