//===- Importer.h - ONNX graph importer internals ---------------*- C++ -*-===//
//
// Shared by the importer core and the op handlers (one file per op family).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_IMPORT_ONNX_IMPORTER_H
#define QOPT_LIB_IMPORT_ONNX_IMPORTER_H

#include "ModelLoader.h"

#include "qopt/Import/ONNX/ONNXImporter.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"

#include <functional>
#include <memory>
#include <optional>

namespace mlir {
namespace qopt {
namespace onnx_import {

/// A small constant known at import time. Shape sub-graphs (Shape, Gather,
/// Concat, Unsqueeze, arithmetic on shapes) are evaluated on these so that
/// reshapes get constant shapes and the graph becomes statically shaped.
struct HostTensor {
  llvm::SmallVector<int64_t> shape;
  Type elementType;
  /// One of the two holds the elements, row-major.
  llvm::SmallVector<int64_t> ints;
  llvm::SmallVector<double> floats;

  bool isFloat() const { return isa<FloatType>(elementType); }
  int64_t getNumElements() const;
  int64_t getInt(int64_t i) const {
    return isFloat() ? static_cast<int64_t>(floats[i]) : ints[i];
  }
  double getDouble(int64_t i) const {
    return isFloat() ? floats[i] : static_cast<double>(ints[i]);
  }
  /// Builds the equivalent dense attribute.
  DenseElementsAttr toAttr() const;
};

/// Host tensors beyond this many elements are not kept: they are weights,
/// not shapes.
constexpr int64_t kMaxHostElements = 4096;

/// What the importer knows about one ONNX value.
struct ImportedValue {
  Value value;
  /// For constants: their attribute (materialized as arith.constant on first
  /// use) and, when small, a host copy.
  ElementsAttr constantAttr;
  std::shared_ptr<HostTensor> constant;
  /// For small integer tensors of rank 0 or 1 that describe shapes (what
  /// Shape, Gather, Concat... compute from dynamic dimensions): each element,
  /// as an IntegerAttr when known at import time or an index Value. Lets
  /// Reshape, Expand, Range and friends keep every dimension that is static.
  std::optional<llvm::SmallVector<OpFoldResult>> elements;
  /// The tensor type `elements` stands for.
  RankedTensorType elementsType;
  /// ONNX distinguishes uint8 from int8; MLIR tensors hold signless ints.
  bool isUnsigned = false;
  /// Set when this value is the transpose of a 2-D constant (a tied
  /// embedding used as the LM head): that constant, so a MatMul on it is
  /// still a linear layer, reading the weight as [N, K] without a copy.
  Value transposedConstant;
};

class GraphImporter;

/// The view of one node that op handlers work with.
class NodeContext {
public:
  NodeContext(GraphImporter &importer, const onnx::NodeProto &node,
              int64_t index, int64_t opset, Location loc)
      : importer(importer), node(node), index(index), opset(opset), loc(loc) {}

  OpBuilder &getBuilder();
  Location getLoc() const { return loc; }
  int64_t getOpset() const { return opset; }
  llvm::StringRef getOpType() const { return node.op_type(); }
  MLIRContext *getContext();

  unsigned getNumInputs() const { return node.input_size(); }
  /// True when input `i` is given (ONNX marks omitted optional inputs with
  /// an empty name).
  bool hasInput(unsigned i) const {
    return static_cast<int>(i) < node.input_size() && !node.input(i).empty();
  }
  Value getInput(unsigned i);
  RankedTensorType getInputType(unsigned i);
  const HostTensor *getConstantInput(unsigned i);
  /// True for initializers and Constant results of any size (weights).
  bool isConstantInput(unsigned i);
  /// The constant that input `i` is the 2-D transpose of, if any.
  Value getTransposedConstant(unsigned i);
  /// Marks result `i` as the transpose of `constant`.
  void setTransposedConstant(unsigned i, Value constant);
  bool isUnsignedInput(unsigned i);
  /// The elements of a small rank-0/1 integer input (see
  /// ImportedValue::elements), from a constant or from shape tracking.
  std::optional<llvm::SmallVector<OpFoldResult>> getShapeElements(unsigned i);

  const onnx::AttributeProto *getAttr(llvm::StringRef name) const;
  int64_t getIntAttr(llvm::StringRef name, int64_t defaultValue) const;
  float getFloatAttr(llvm::StringRef name, float defaultValue) const;
  std::optional<llvm::SmallVector<int64_t>>
  getIntsAttr(llvm::StringRef name) const;
  std::optional<std::string> getStringAttr(llvm::StringRef name) const;

  unsigned getNumOutputs() const { return node.output_size(); }
  bool hasOutput(unsigned i) const {
    return static_cast<int>(i) < node.output_size() && !node.output(i).empty();
  }
  void setResult(unsigned i, Value value, bool isUnsigned = false);
  /// Result `out` is input `in`, with everything known about it.
  void forwardInput(unsigned in, unsigned out);
  /// A result known at import time; it is materialized as a constant only
  /// if something needs its value.
  void setConstantResult(unsigned i, HostTensor tensor);
  /// Result `i` is `value` as imported by GraphImporter::importTensor: a
  /// constant of any size that linear layers take as a weight.
  void setImportedResult(unsigned i, ImportedValue value);
  /// The name of output `i` in the graph.
  llvm::StringRef getOutputName(unsigned i) const { return node.output(i); }
  /// A small integer result given element by element; becomes a constant
  /// when every element is known.
  void setShapeResult(unsigned i, llvm::ArrayRef<OpFoldResult> elements,
                      RankedTensorType type);

  /// An error about this node: names it, its op type and opset.
  InFlightDiagnostic emitError();
  /// Checks that outputs past `count` are unused (optional outputs the
  /// handler does not produce).
  LogicalResult requireAtMostOutputs(unsigned count);
  /// The size of dimension `d` of input `i` as an OpFoldResult: a constant
  /// when static, else a `tensor.dim` tagged with the dimension's symbolic
  /// name from the model's value_info (see GraphImporter::getDimSymbol).
  OpFoldResult getInputDimSize(unsigned i, int64_t d);

  /// Resolves a possibly negative axis against `rank`.
  FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank);

  GraphImporter &importer;

private:
  const onnx::NodeProto &node;
  int64_t index;
  int64_t opset;
  Location loc;
};

/// How diagnostics name a node: its name, or its position when unnamed.
std::string describeNode(const onnx::NodeProto &node, int64_t index);

using OpHandler = std::function<LogicalResult(NodeContext &)>;
using OpRegistry = llvm::StringMap<OpHandler>;

void registerElementwiseOps(OpRegistry &registry);
void registerLinearOps(OpRegistry &registry);
void registerShapeOps(OpRegistry &registry);
void registerReductionOps(OpRegistry &registry);
void registerNormalizationOps(OpRegistry &registry);
void registerQuantizationOps(OpRegistry &registry);
void registerConvolutionOps(OpRegistry &registry);
void registerControlFlowOps(OpRegistry &registry);
void registerRecurrentOps(OpRegistry &registry);

/// The registry of every supported op of the default domain.
const OpRegistry &getOpRegistry();

/// Maps an ONNX TensorProto data type to an MLIR element type; sets
/// `isUnsigned` for unsigned integers. Returns null for unsupported types.
Type convertONNXElementType(MLIRContext *context, int32_t dataType,
                            bool &isUnsigned);
/// The ONNX name of a data type, for diagnostics.
llvm::StringRef getONNXTypeName(int32_t dataType);

/// Converts a scalar between element types with ONNX Cast semantics.
Value convertScalar(OpBuilder &b, Location loc, Value value, Type to,
                    bool fromUnsigned, bool toUnsigned);

class GraphImporter {
public:
  GraphImporter(MLIRContext *context, std::shared_ptr<LoadedModel> model,
                const ONNXImportOptions &options);

  OwningOpRef<ModuleOp> run();

  OpBuilder builder;
  MLIRContext *context;

  ImportedValue *lookup(llvm::StringRef name) {
    auto it = values.find(name);
    return it == values.end() ? nullptr : &it->second;
  }
  void define(llvm::StringRef name, ImportedValue value) {
    values[name] = std::move(value);
  }
  /// The SSA value of `value`, creating its constant on first use.
  Value materialize(ImportedValue &value, Location loc);
  /// The symbolic name (ONNX `dim_param`, e.g. "batch") of an index value
  /// made by NodeContext::getInputDimSize, or empty. Equal names mean equal
  /// sizes, which lets a Reshape's -1 stay static next to dynamic dims.
  StringRef getDimSymbol(Value size) const {
    auto it = dimSymbols.find(size);
    return it == dimSymbols.end() ? StringRef() : StringRef(it->second);
  }
  void setDimSymbol(Value size, StringRef name) {
    dimSymbols[size] = name.str();
  }
  /// The `dim_param` of dimension `d` of ONNX value `name` from the model's
  /// value_info, inputs and outputs, or empty.
  StringRef getValueInfoDimParam(StringRef name, int64_t d) const;

  /// Imports a subgraph (an If branch) at the builder's insertion point:
  /// its initializers and nodes, which see every value defined so far.
  /// Returns what it knows about each of the subgraph's outputs.
  FailureOr<SmallVector<ImportedValue>>
  importSubgraph(const onnx::GraphProto &graph, Location loc);
  /// The values defined so far, to restore once a region is imported:
  /// values defined inside a region are not visible after it.
  llvm::StringMap<ImportedValue> saveScope() const { return values; }
  void restoreScope(llvm::StringMap<ImportedValue> scope) {
    values = std::move(scope);
  }

  /// What a user can do about a dynamic size that an op needs static: names
  /// the graph inputs with dynamic sizes and the --input-shape flag.
  std::string getStaticShapeHint() const;

  /// Imports a TensorProto (initializer or Constant attribute). Large ones
  /// become resource blobs keyed by `resourceName` (the tensor's own name
  /// when empty: a Constant's tensor often has none).
  FailureOr<ImportedValue> importTensor(const onnx::TensorProto &tensor,
                                        Location loc, llvm::StringRef what,
                                        llvm::StringRef resourceName = {});

private:
  LogicalResult checkOpsets();
  LogicalResult checkSupported();
  FailureOr<RankedTensorType> convertValueInfo(const onnx::ValueInfoProto &info,
                                               bool &isUnsigned);
  LogicalResult importNode(const onnx::NodeProto &node, int64_t index);

  std::shared_ptr<LoadedModel> model;
  const ONNXImportOptions &options;
  Location fileLoc;
  int64_t defaultOpset = 0;
  llvm::StringMap<ImportedValue> values;
  llvm::DenseMap<Value, std::string> dimSymbols;
  llvm::StringMap<SmallVector<std::string>> valueInfoDimParams;
  /// Graph inputs with dynamic sizes, for getStaticShapeHint.
  SmallVector<std::pair<std::string, RankedTensorType>> dynamicInputs;
};

/// Element count of a static shape; INT64_MAX when the product overflows.
int64_t getNumElements(llvm::ArrayRef<int64_t> shape);

} // namespace onnx_import
} // namespace qopt
} // namespace mlir

#endif // QOPT_LIB_IMPORT_ONNX_IMPORTER_H
