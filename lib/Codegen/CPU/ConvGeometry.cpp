//===- ConvGeometry.cpp - the conv kernels' geometry arguments ------------===//

#include "qopt/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

SmallVector<Value> qopt::buildConvGeometryArgs(OpBuilder &b, Location loc,
                                               const UKernelConvolution &conv,
                                               Value x, Value w, Value y) {
  Type i64 = b.getI64Type();
  auto size = [&](Value v, int64_t dim) -> Value {
    Value index = isa<MemRefType>(v.getType())
                      ? Value(memref::DimOp::create(b, loc, v, dim))
                      : Value(tensor::DimOp::create(b, loc, v, dim));
    return arith::IndexCastOp::create(b, loc, i64, index);
  };
  auto constant = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, i64, v);
  };
  bool is2D = conv.spatialRank == 2;
  Value one = constant(1);
  return {size(x, 0),
          size(x, 1),
          is2D ? size(x, 2) : one,
          size(x, is2D ? 3 : 2),
          size(w, 0),
          is2D ? size(w, 2) : one,
          size(w, is2D ? 3 : 2),
          is2D ? size(y, 2) : one,
          size(y, is2D ? 3 : 2),
          is2D ? constant(conv.strides[0]) : one,
          constant(conv.strides.back()),
          is2D ? constant(conv.dilations[0]) : one,
          constant(conv.dilations.back())};
}
