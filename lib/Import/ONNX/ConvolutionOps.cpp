//===- ConvolutionOps.cpp - ONNX CNN ops ----------------------------------===//
//
// Conv, pooling, Pad and Resize over NC<spatial> tensors. Convolutions and
// pooling are single linalg.generics whose affine maps carry strides,
// dilations and groups; padding is an explicit tensor.pad before them.
// Spatial sizes must be static (batch may be dynamic).
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;

namespace {

/// Window geometry shared by Conv and the pools.
struct Window {
  SmallVector<int64_t> kernel, strides, dilations, padBegin, padEnd, outSizes;
  /// The end padding that `pads` or `auto_pad` asks for; `padEnd` may add
  /// more so that ceil_mode's last window is in bounds.
  SmallVector<int64_t> padEndDeclared;
};

/// Reads kernel/strides/dilations/pads/auto_pad for `spatial` dims of
/// `inSizes` (static). `ceilMode` rounds output sizes up (pools).
FailureOr<Window> getWindow(NodeContext &ctx, ArrayRef<int64_t> inSizes,
                            ArrayRef<int64_t> kernel, bool ceilMode) {
  size_t n = inSizes.size();
  Window w;
  w.kernel.assign(kernel.begin(), kernel.end());
  w.strides = ctx.getIntsAttr("strides").value_or(SmallVector<int64_t>(n, 1));
  w.dilations =
      ctx.getIntsAttr("dilations").value_or(SmallVector<int64_t>(n, 1));
  SmallVector<int64_t> pads =
      ctx.getIntsAttr("pads").value_or(SmallVector<int64_t>(2 * n, 0));
  if (w.strides.size() != n || w.dilations.size() != n || pads.size() != 2 * n)
    return ctx.emitError() << "strides, dilations and pads must match the " << n
                           << " spatial dimensions";
  w.padBegin.assign(pads.begin(), pads.begin() + n);
  w.padEnd.assign(pads.begin() + n, pads.end());
  std::string autoPad = ctx.getStringAttr("auto_pad").value_or("NOTSET");
  for (size_t i = 0; i < n; ++i) {
    if (w.strides[i] <= 0 || w.dilations[i] <= 0 || w.kernel[i] <= 0)
      return ctx.emitError() << "kernel, strides and dilations must be "
                                "positive";
    int64_t extent = w.dilations[i] * (w.kernel[i] - 1) + 1;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t out = (inSizes[i] + w.strides[i] - 1) / w.strides[i];
      int64_t total =
          std::max<int64_t>(0, (out - 1) * w.strides[i] + extent - inSizes[i]);
      int64_t small = total / 2, large = total - small;
      w.padBegin[i] = autoPad == "SAME_UPPER" ? small : large;
      w.padEnd[i] = autoPad == "SAME_UPPER" ? large : small;
    } else if (autoPad == "VALID") {
      w.padBegin[i] = w.padEnd[i] = 0;
    } else if (autoPad != "NOTSET") {
      return ctx.emitError() << "unsupported auto_pad='" << autoPad << "'";
    }
    int64_t span = inSizes[i] + w.padBegin[i] + w.padEnd[i] - extent;
    if (span < 0)
      return ctx.emitError() << "the window is larger than the padded input";
    int64_t out = ceilMode ? (span + w.strides[i] - 1) / w.strides[i] + 1
                           : span / w.strides[i] + 1;
    // With ceil_mode the last window must start inside the input or the
    // leading padding, as ONNX and PyTorch require.
    if (ceilMode && (out - 1) * w.strides[i] >= inSizes[i] + w.padBegin[i])
      --out;
    w.padEndDeclared.push_back(w.padEnd[i]);
    // Extra end padding so every window of the output is in bounds.
    int64_t needed = (out - 1) * w.strides[i] + extent;
    int64_t have = inSizes[i] + w.padBegin[i] + w.padEnd[i];
    if (needed > have)
      w.padEnd[i] += needed - have;
    w.outSizes.push_back(out);
  }
  return w;
}

/// Pads the spatial dims (2..) of `input` with `value`.
Value padSpatial(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> padBegin, ArrayRef<int64_t> padEnd,
                 TypedAttr value) {
  if (llvm::all_of(padBegin, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(padEnd, [](int64_t p) { return p == 0; }))
    return input;
  SmallVector<OpFoldResult> low(2, b.getIndexAttr(0)),
      high(2, b.getIndexAttr(0));
  for (int64_t p : padBegin)
    low.push_back(b.getIndexAttr(p));
  for (int64_t p : padEnd)
    high.push_back(b.getIndexAttr(p));
  Value padValue = arith::ConstantOp::create(b, loc, value);
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(type.getShape());
  for (size_t i = 0; i < padBegin.size(); ++i)
    shape[i + 2] += padBegin[i] + padEnd[i];
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  return tensor::PadOp::create(b, loc, resultType, input, low, high, padValue);
}

/// Checks an NC<spatial> float input with static spatial sizes.
FailureOr<SmallVector<int64_t>> getSpatialSizes(NodeContext &ctx,
                                                RankedTensorType type,
                                                bool allowIntegers = false) {
  bool elementOk = isa<FloatType>(type.getElementType()) ||
                   (allowIntegers && isa<IntegerType>(type.getElementType()));
  if (type.getRank() < 3 || !elementOk)
    return ctx.emitError() << "expects a float N x C x spatial... input";
  SmallVector<int64_t> sizes(type.getShape().drop_front(2));
  if (ShapedType::isDynamicShape(sizes))
    return ctx.emitError() << "dynamic spatial sizes are not supported";
  return sizes;
}

/// The convolution of `x` (NC<spatial>, already padded) with `w`
/// (`[F, C/group, kernel...]`) as one linalg.generic whose maps carry
/// strides, dilations and groups (the form qopt-cpu-lower-conv-to-ukernels and
/// the weight quantizers match), plus the per-channel `bias` when given.
Value buildConvolution(OpBuilder &b, Location loc, Value x, Value w, Value bias,
                       int64_t group, ArrayRef<int64_t> strides,
                       ArrayRef<int64_t> dilations,
                       ArrayRef<int64_t> outSpatial) {
  auto wType = cast<RankedTensorType>(w.getType());
  Type elementType = getElementTypeOrSelf(x.getType());
  int64_t n = outSpatial.size();
  int64_t f = wType.getDimSize(0), cg = wType.getDimSize(1);
  // Loops: n, f, out spatial..., c (reduction), kernel... (reduction).
  int64_t numLoops = 2 + n + 1 + n;
  MLIRContext *context = b.getContext();
  auto dim = [&](int64_t i) { return getAffineDimExpr(i, context); };
  int64_t fg = f / group;
  SmallVector<AffineExpr> xExprs = {dim(0),
                                    dim(1).floorDiv(fg) * cg + dim(2 + n)};
  SmallVector<AffineExpr> wExprs = {dim(1), dim(2 + n)};
  SmallVector<AffineExpr> yExprs = {dim(0), dim(1)};
  for (int64_t i = 0; i < n; ++i) {
    xExprs.push_back(dim(2 + i) * strides[i] + dim(3 + n + i) * dilations[i]);
    wExprs.push_back(dim(3 + n + i));
    yExprs.push_back(dim(2 + i));
  }
  SmallVector<OpFoldResult> outSizes = {getSizes(b, loc, x)[0],
                                        b.getIndexAttr(f)};
  for (int64_t size : outSpatial)
    outSizes.push_back(b.getIndexAttr(size));
  Value init = createFilled(b, loc, outSizes,
                            cast<TypedAttr>(b.getZeroAttr(elementType)));
  SmallVector<utils::IteratorType> iterators(2 + n,
                                             utils::IteratorType::parallel);
  iterators.append(1 + n, utils::IteratorType::reduction);
  auto conv = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{x, w}, ValueRange{init},
      ArrayRef<AffineMap>{AffineMap::get(numLoops, 0, xExprs, context),
                          AffineMap::get(numLoops, 0, wExprs, context),
                          AffineMap::get(numLoops, 0, yExprs, context)},
      iterators, [](OpBuilder &nb, Location nl, ValueRange args) {
        Value product = arith::MulFOp::create(nb, nl, args[0], args[1]);
        Value sum = arith::AddFOp::create(nb, nl, args[2], product);
        linalg::YieldOp::create(nb, nl, ValueRange{sum});
      });
  Value result = conv.getResult(0);
  if (!bias)
    return result;
  int64_t rank = 2 + n;
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
  AffineMap channel = AffineMap::get(rank, 0, {dim(1)}, context);
  return linalg::GenericOp::create(
             b, loc, TypeRange{result.getType()}, ValueRange{bias},
             ValueRange{result}, ArrayRef<AffineMap>{channel, identity},
             SmallVector<utils::IteratorType>(rank,
                                              utils::IteratorType::parallel),
             [](OpBuilder &nb, Location nl, ValueRange args) {
               Value sum = arith::AddFOp::create(nb, nl, args[1], args[0]);
               linalg::YieldOp::create(nb, nl, ValueRange{sum});
             })
      .getResult(0);
}

LogicalResult importConv(NodeContext &ctx) {
  RankedTensorType xType = ctx.getInputType(0);
  RankedTensorType wType = ctx.getInputType(1);
  FailureOr<SmallVector<int64_t>> spatial = getSpatialSizes(ctx, xType);
  if (failed(spatial))
    return failure();
  int64_t n = spatial->size();
  if (wType.getRank() != n + 2 || !wType.hasStaticShape())
    return ctx.emitError() << "weights must be F x C/group x kernel, static";
  int64_t group = ctx.getIntAttr("group", 1);
  int64_t c = xType.getDimSize(1), f = wType.getDimSize(0);
  int64_t cg = wType.getDimSize(1);
  if (group <= 0 || f % group != 0 ||
      (!ShapedType::isDynamic(c) && c != cg * group))
    return ctx.emitError() << "channels (" << c << ") and weights " << wType
                           << " do not fit group " << group;
  SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
  if (std::optional<SmallVector<int64_t>> ks = ctx.getIntsAttr("kernel_shape"))
    if (*ks != kernel)
      return ctx.emitError() << "kernel_shape does not match the weights";
  FailureOr<Window> w = getWindow(ctx, *spatial, kernel, false);
  if (failed(w))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Type elementType = xType.getElementType();
  Value x = padSpatial(b, loc, ctx.getInput(0), w->padBegin, w->padEnd,
                       cast<TypedAttr>(b.getZeroAttr(elementType)));
  ctx.setResult(0,
                buildConvolution(b, loc, x, ctx.getInput(1),
                                 ctx.hasInput(2) ? ctx.getInput(2) : Value(),
                                 group, w->strides, w->dilations, w->outSizes));
  return success();
}

/// ConvTranspose (opsets 1 and 11: the same attributes): the gradient of a
/// convolution, computed as a convolution. The input is spread out with
/// `stride - 1` zeros between elements and padded by the full window extent
/// `dilation * (kernel - 1)` on both sides (plus `output_padding` at the
/// end); a stride-1 convolution with the flipped filter, its two channel
/// dimensions swapped per group (`W'[g * F/g + f, c, k] = W[g * C/g + c, f,
/// K - 1 - k]`, built by a linalg.generic), gives the full output, from
/// which `pads` crop the result. The convolution is the importer's Conv
/// form, so it runs on the conv ukernel.
LogicalResult importConvTranspose(NodeContext &ctx) {
  RankedTensorType xType = ctx.getInputType(0);
  RankedTensorType wType = ctx.getInputType(1);
  FailureOr<SmallVector<int64_t>> spatial = getSpatialSizes(ctx, xType);
  if (failed(spatial))
    return failure();
  int64_t n = spatial->size();
  if (wType.getRank() != n + 2 || !wType.hasStaticShape())
    return ctx.emitError() << "weights must be C x F/group x kernel, static";
  int64_t group = ctx.getIntAttr("group", 1);
  int64_t c = xType.getDimSize(1), wc = wType.getDimSize(0),
          fg = wType.getDimSize(1);
  if (group <= 0 || wc % group != 0 || (!ShapedType::isDynamic(c) && c != wc))
    return ctx.emitError() << "channels (" << c << ") and weights " << wType
                           << " do not fit group " << group;
  int64_t cg = wc / group, f = fg * group;
  SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
  if (std::optional<SmallVector<int64_t>> ks = ctx.getIntsAttr("kernel_shape"))
    if (*ks != kernel)
      return ctx.emitError() << "kernel_shape does not match the weights";
  auto ints = [&](StringRef name, size_t size, int64_t value) {
    return ctx.getIntsAttr(name).value_or(SmallVector<int64_t>(size, value));
  };
  SmallVector<int64_t> strides = ints("strides", n, 1),
                       dilations = ints("dilations", n, 1),
                       pads = ints("pads", 2 * n, 0),
                       outputPadding = ints("output_padding", n, 0);
  if (strides.size() != size_t(n) || dilations.size() != size_t(n) ||
      pads.size() != size_t(2 * n) || outputPadding.size() != size_t(n))
    return ctx.emitError() << "strides, dilations, pads and output_padding "
                              "must match the "
                           << n << " spatial dimensions";
  std::string autoPad = ctx.getStringAttr("auto_pad").value_or("NOTSET");
  if (autoPad != "NOTSET" && autoPad != "VALID" && autoPad != "SAME_UPPER" &&
      autoPad != "SAME_LOWER")
    return ctx.emitError() << "unsupported auto_pad='" << autoPad << "'";
  std::optional<SmallVector<int64_t>> outputShape =
      ctx.getIntsAttr("output_shape");
  // output_shape may name the spatial sizes only, or N, C and them.
  if (outputShape && outputShape->size() == size_t(n + 2))
    outputShape->erase(outputShape->begin(), outputShape->begin() + 2);
  if (outputShape && outputShape->size() != size_t(n))
    return ctx.emitError() << "output_shape must give each spatial dimension";
  SmallVector<int64_t> padBegin(n), outSizes(n), fullSizes(n), extent(n),
      extraBegin(n), extraEnd(n);
  for (int64_t i = 0; i < n; ++i) {
    if (strides[i] <= 0 || dilations[i] <= 0 || kernel[i] <= 0 ||
        outputPadding[i] < 0 || pads[i] < 0 || pads[i + n] < 0)
      return ctx.emitError() << "kernel, strides and dilations must be "
                                "positive, pads and output_padding not "
                                "negative";
    extent[i] = dilations[i] * (kernel[i] - 1) + 1;
    fullSizes[i] =
        ((*spatial)[i] - 1) * strides[i] + extent[i] + outputPadding[i];
    int64_t total = pads[i] + pads[i + n];
    if (outputShape || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t out =
          outputShape ? (*outputShape)[i] : (*spatial)[i] * strides[i];
      total = fullSizes[i] - out;
      // The ONNX reference's floor division: a negative total (an
      // output_shape beyond the full output) extends the output, at the end
      // when the total is -1.
      int64_t half = total >= 0 ? total / 2 : -((1 - total) / 2);
      padBegin[i] = autoPad == "SAME_UPPER" ? half : total - half;
    } else if (autoPad == "VALID") {
      total = 0;
      padBegin[i] = 0;
    } else {
      padBegin[i] = pads[i];
    }
    outSizes[i] = fullSizes[i] - total;
    if (outSizes[i] <= 0)
      return ctx.emitError() << "the pads leave an empty output";
    // Output positions outside the full output (negative pads) are zeros
    // plus bias: the spread input gets that much more padding.
    extraBegin[i] = std::max<int64_t>(0, -padBegin[i]);
    extraEnd[i] =
        std::max<int64_t>(0, padBegin[i] + outSizes[i] - fullSizes[i]);
    fullSizes[i] += extraBegin[i] + extraEnd[i];
    padBegin[i] += extraBegin[i];
  }

  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  MLIRContext *context = b.getContext();
  Type elementType = xType.getElementType();
  auto zero = cast<TypedAttr>(b.getZeroAttr(elementType));
  auto dim = [&](int64_t i) { return getAffineDimExpr(i, context); };

  // The spread and padded input: zeros, with x inserted at a stride.
  Value x = ctx.getInput(0);
  SmallVector<OpFoldResult> xSizes = getSizes(b, loc, x);
  SmallVector<OpFoldResult> spreadSizes = {xSizes[0], xSizes[1]};
  SmallVector<OpFoldResult> offsets(2, b.getIndexAttr(0)),
      steps(2, b.getIndexAttr(1));
  for (int64_t i = 0; i < n; ++i) {
    int64_t full = extent[i] - 1;
    spreadSizes.push_back(b.getIndexAttr(((*spatial)[i] - 1) * strides[i] + 1 +
                                         2 * full + outputPadding[i] +
                                         extraBegin[i] + extraEnd[i]));
    offsets.push_back(b.getIndexAttr(full + extraBegin[i]));
    steps.push_back(b.getIndexAttr(strides[i]));
  }
  Value spread = createFilled(b, loc, spreadSizes, zero);
  spread =
      tensor::InsertSliceOp::create(b, loc, x, spread, offsets, xSizes, steps);

  // W'[f, c, k...] = W[(f / fg) * cg + c, f % fg, K - 1 - k...].
  SmallVector<int64_t> flippedShape = {f, cg};
  flippedShape.append(kernel.begin(), kernel.end());
  SmallVector<AffineExpr> wExprs = {dim(0).floorDiv(fg) * cg + dim(1),
                                    dim(0) % fg};
  for (int64_t i = 0; i < n; ++i)
    wExprs.push_back(kernel[i] - 1 - dim(2 + i));
  // A constant filter (an initializer) is flipped here, so that the
  // convolution's filter is a constant as Conv's is: no per-call copy, and
  // weight quantizers see a convolution layer.
  Value flipped;
  Attribute weightAttr;
  if (wType.getElementType().isF32() &&
      matchPattern(ctx.getInput(1), m_Constant(&weightAttr))) {
    std::optional<ArrayRef<float>> source;
    SmallVector<float> denseValues;
    auto resource = dyn_cast<DenseF32ResourceElementsAttr>(weightAttr);
    if (auto dense = dyn_cast<DenseElementsAttr>(weightAttr)) {
      auto range = dense.getValues<float>();
      denseValues.assign(range.begin(), range.end());
      source = ArrayRef<float>(denseValues);
    } else if (resource) {
      source = resource.tryGetAsArrayRef();
    }
    if (source &&
        static_cast<int64_t>(source->size()) == wType.getNumElements()) {
      int64_t window = 1;
      for (int64_t k : kernel)
        window *= k;
      SmallVector<float> values(source->size());
      SmallVector<int64_t> at(n);
      for (int64_t fo = 0; fo < f; ++fo)
        for (int64_t c = 0; c < cg; ++c)
          for (int64_t k = 0; k < window; ++k) {
            // The kernel position of k, flipped, in W's row-major layout.
            int64_t rest = k, from = 0;
            for (int64_t i = n - 1; i >= 0; --i) {
              at[i] = kernel[i] - 1 - rest % kernel[i];
              rest /= kernel[i];
            }
            for (int64_t i = 0; i < n; ++i)
              from = from * kernel[i] + at[i];
            int64_t channel = (fo / fg) * cg + c;
            values[(fo * cg + c) * window + k] =
                (*source)[(channel * fg + fo % fg) * window + from];
          }
      auto type = RankedTensorType::get(flippedShape, b.getF32Type());
      ArrayRef<char> raw(reinterpret_cast<const char *>(values.data()),
                         values.size() * sizeof(float));
      Attribute attr;
      if (resource)
        attr = DenseResourceElementsAttr::get(
            type, (resource.getRawHandle().getKey() + "_flipped").str(),
            HeapAsmResourceBlob::allocateAndCopyWithAlign(raw, alignof(float)));
      else
        attr = DenseElementsAttr::getFromRawBuffer(type, raw);
      flipped = arith::ConstantOp::create(b, loc, cast<TypedAttr>(attr));
    }
  }
  if (!flipped) {
    Value flippedInit =
        tensor::EmptyOp::create(b, loc, flippedShape, wType.getElementType());
    flipped = linalg::GenericOp::create(
                  b, loc, TypeRange{flippedInit.getType()},
                  ValueRange{ctx.getInput(1)}, ValueRange{flippedInit},
                  ArrayRef<AffineMap>{
                      AffineMap::get(n + 2, 0, wExprs, context),
                      AffineMap::getMultiDimIdentityMap(n + 2, context)},
                  SmallVector<utils::IteratorType>(
                      n + 2, utils::IteratorType::parallel),
                  [](OpBuilder &nb, Location nl, ValueRange args) {
                    linalg::YieldOp::create(nb, nl, ValueRange{args[0]});
                  })
                  .getResult(0);
  }

  SmallVector<int64_t> unit(n, 1);
  Value full = buildConvolution(b, loc, spread, flipped,
                                ctx.hasInput(2) ? ctx.getInput(2) : Value(),
                                group, unit, dilations, fullSizes);
  if (padBegin == SmallVector<int64_t>(n, 0) && outSizes == fullSizes) {
    ctx.setResult(0, full);
    return success();
  }
  SmallVector<OpFoldResult> cropOffsets(2, b.getIndexAttr(0)),
      cropSizes = {xSizes[0], b.getIndexAttr(f)},
      cropSteps(2 + n, b.getIndexAttr(1));
  for (int64_t i = 0; i < n; ++i) {
    cropOffsets.push_back(b.getIndexAttr(padBegin[i]));
    cropSizes.push_back(b.getIndexAttr(outSizes[i]));
  }
  ctx.setResult(0, tensor::ExtractSliceOp::create(b, loc, full, cropOffsets,
                                                  cropSizes, cropSteps));
  return success();
}

/// MaxPool and AveragePool. MaxPool's optional Indices output (opset 8 on)
/// is the flat index into X of each window's first maximum: (n * C + c)
/// times the image size plus the position in the image, row-major, or
/// column-major with storage_order = 1 (as ONNX Runtime computes it).
OpHandler pool(bool isMax) {
  return [isMax](NodeContext &ctx) -> LogicalResult {
    if (failed(ctx.requireAtMostOutputs(isMax ? 2 : 1)))
      return failure();

    RankedTensorType xType = ctx.getInputType(0);
    FailureOr<SmallVector<int64_t>> spatial =
        getSpatialSizes(ctx, xType, /*allowIntegers=*/isMax);
    if (failed(spatial))
      return failure();
    int64_t n = spatial->size();
    std::optional<SmallVector<int64_t>> kernel =
        ctx.getIntsAttr("kernel_shape");
    if (!kernel || static_cast<int64_t>(kernel->size()) != n)
      return ctx.emitError() << "kernel_shape must give each spatial dimension";
    bool ceilMode = ctx.getIntAttr("ceil_mode", 0) != 0;
    FailureOr<Window> w = getWindow(ctx, *spatial, *kernel, ceilMode);
    if (failed(w))
      return failure();
    bool countPad = ctx.getIntAttr("count_include_pad", 0) != 0;
    OpBuilder &b = ctx.getBuilder();
    Location loc = ctx.getLoc();
    Type elementType = xType.getElementType();
    MLIRContext *context = b.getContext();
    auto dim = [&](int64_t i) { return getAffineDimExpr(i, context); };
    // Loops: n, c, out spatial..., kernel... (reduction).
    int64_t numLoops = 2 + 2 * n;
    SmallVector<AffineExpr> xExprs = {dim(0), dim(1)};
    SmallVector<AffineExpr> yExprs = {dim(0), dim(1)};
    for (int64_t i = 0; i < n; ++i) {
      xExprs.push_back(dim(2 + i) * w->strides[i] +
                       dim(2 + n + i) * w->dilations[i]);
      yExprs.push_back(dim(2 + i));
    }
    AffineMap xMap = AffineMap::get(numLoops, 0, xExprs, context);
    AffineMap yMap = AffineMap::get(numLoops, 0, yExprs, context);
    SmallVector<utils::IteratorType> iterators(2 + n,
                                               utils::IteratorType::parallel);
    iterators.append(n, utils::IteratorType::reduction);
    SmallVector<OpFoldResult> inSizes = getSizes(b, loc, ctx.getInput(0));
    SmallVector<OpFoldResult> outSizes = {inSizes[0], inSizes[1]};
    for (int64_t size : w->outSizes)
      outSizes.push_back(b.getIndexAttr(size));
    // The kernel extent as a (shape-only) operand, so the reduction loops
    // have bounds.
    SmallVector<int64_t> kernelShape(*kernel);
    Value window = tensor::EmptyOp::create(b, loc, kernelShape, elementType);
    SmallVector<AffineExpr> kExprs;
    for (int64_t i = 0; i < n; ++i)
      kExprs.push_back(dim(2 + n + i));
    AffineMap kMap = AffineMap::get(numLoops, 0, kExprs, context);

    auto reduceWindow = [&](Value input, TypedAttr init, bool max,
                            ArrayRef<OpFoldResult> sizes) {
      Value out = createFilled(b, loc, sizes, init);
      return linalg::GenericOp::create(
                 b, loc, TypeRange{out.getType()}, ValueRange{input, window},
                 ValueRange{out}, ArrayRef<AffineMap>{xMap, kMap, yMap},
                 iterators,
                 [max, &ctx](OpBuilder &nb, Location nl, ValueRange args) {
                   Value r;
                   if (!isa<FloatType>(args[0].getType()))
                     r = ctx.isUnsignedInput(0)
                             ? arith::MaxUIOp::create(nb, nl, args[2], args[0])
                                   .getResult()
                             : arith::MaxSIOp::create(nb, nl, args[2], args[0])
                                   .getResult();
                   else if (max)
                     r = arith::MaximumFOp::create(nb, nl, args[2], args[0]);
                   else
                     r = arith::AddFOp::create(nb, nl, args[2], args[0]);
                   linalg::YieldOp::create(nb, nl, ValueRange{r});
                 })
          .getResult(0);
    };
    if (isMax) {
      TypedAttr lowest;
      if (auto intType = dyn_cast<IntegerType>(elementType))
        lowest = b.getIntegerAttr(
            elementType, ctx.isUnsignedInput(0)
                             ? APInt::getMinValue(intType.getWidth())
                             : APInt::getSignedMinValue(intType.getWidth()));
      else
        lowest = b.getFloatAttr(elementType,
                                -std::numeric_limits<double>::infinity());
      Value x =
          padSpatial(b, loc, ctx.getInput(0), w->padBegin, w->padEnd, lowest);
      ctx.setResult(0, reduceWindow(x, lowest, true, outSizes),
                    ctx.isUnsignedInput(0));
      if (ctx.hasOutput(1)) {
        // (max so far, its index) per output element; a later element wins
        // only when strictly greater, so the first maximum is kept (as ONNX
        // Runtime does). Padding is the lowest value and never wins over
        // an element of X.
        Type i64 = b.getI64Type();
        Value maxInit = createFilled(b, loc, outSizes, lowest);
        Value indexInit =
            createFilled(b, loc, outSizes, b.getI64IntegerAttr(0));
        bool isUnsigned = ctx.isUnsignedInput(0);
        bool columnMajor = ctx.getIntAttr("storage_order", 0) != 0;
        Value channels = getValueOrCreateConstantIndexOp(b, loc, inSizes[1]);
        int64_t imageSize = 1;
        for (int64_t size : *spatial)
          imageSize *= size;
        auto generic = linalg::GenericOp::create(
            b, loc, TypeRange{maxInit.getType(), indexInit.getType()},
            ValueRange{x, window}, ValueRange{maxInit, indexInit},
            ArrayRef<AffineMap>{xMap, kMap, yMap, yMap}, iterators,
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              // (n * C + c) * D1 * D2... + the position p (p = o * s + k * d
              // - pad per dimension) in the image, row- or column-major.
              auto constant = [&](int64_t v) -> Value {
                return arith::ConstantIndexOp::create(nb, nl, v);
              };
              Value flat = arith::AddIOp::create(
                  nb, nl,
                  arith::MulIOp::create(
                      nb, nl, linalg::IndexOp::create(nb, nl, 0), channels),
                  linalg::IndexOp::create(nb, nl, 1));
              flat = arith::MulIOp::create(nb, nl, flat, constant(imageSize));
              Value inImage = constant(0);
              int64_t stride = 1;
              for (int64_t j = 0; j < n; ++j) {
                // Row-major walks the dimensions from the last.
                int64_t i = columnMajor ? j : n - 1 - j;
                Value pos = arith::AddIOp::create(
                    nb, nl,
                    arith::MulIOp::create(
                        nb, nl, linalg::IndexOp::create(nb, nl, 2 + i),
                        arith::ConstantIndexOp::create(nb, nl, w->strides[i])),
                    arith::MulIOp::create(
                        nb, nl, linalg::IndexOp::create(nb, nl, 2 + n + i),
                        arith::ConstantIndexOp::create(nb, nl,
                                                       w->dilations[i])));
                pos = arith::SubIOp::create(nb, nl, pos,
                                            constant(w->padBegin[i]));
                inImage = arith::AddIOp::create(
                    nb, nl, inImage,
                    arith::MulIOp::create(nb, nl, pos, constant(stride)));
                stride *= (*spatial)[i];
              }
              flat = arith::AddIOp::create(nb, nl, flat, inImage);
              Value greater;
              if (isa<FloatType>(args[0].getType()))
                greater = arith::CmpFOp::create(
                    nb, nl, arith::CmpFPredicate::OGT, args[0], args[2]);
              else
                greater = arith::CmpIOp::create(nb, nl,
                                                isUnsigned
                                                    ? arith::CmpIPredicate::ugt
                                                    : arith::CmpIPredicate::sgt,
                                                args[0], args[2]);
              Value value =
                  arith::SelectOp::create(nb, nl, greater, args[0], args[2]);
              Value index = arith::SelectOp::create(
                  nb, nl, greater,
                  arith::IndexCastOp::create(nb, nl, i64, flat), args[3]);
              linalg::YieldOp::create(nb, nl, ValueRange{value, index});
            });
        ctx.setResult(1, generic.getResult(1));
      }
      return success();
    }
    TypedAttr zero = b.getFloatAttr(elementType, 0.0);
    Value x = padSpatial(b, loc, ctx.getInput(0), w->padBegin, w->padEnd, zero);
    Value sum = reduceWindow(x, zero, false, outSizes);
    // Divisor: window elements inside the input (or inside the explicit
    // padding with count_include_pad), counted on a tensor of ones.
    SmallVector<int64_t> onesShape = {1, 1};
    onesShape.append(spatial->begin(), spatial->end());
    Value ones = createFilled(
        b, loc, getAsIndexOpFoldResult(context, ArrayRef<int64_t>(onesShape)),
        b.getFloatAttr(elementType, 1.0));
    if (countPad) {
      // Padding from pads or auto_pad counts, the extra ceil_mode padding
      // does not.
      ArrayRef<int64_t> end = w->padEndDeclared;
      ones = padSpatial(b, loc, ones, w->padBegin, end,
                        b.getFloatAttr(elementType, 1.0));
      SmallVector<int64_t> extra;
      for (int64_t i = 0; i < n; ++i)
        extra.push_back(w->padEnd[i] - end[i]);
      ones = padSpatial(b, loc, ones, SmallVector<int64_t>(n, 0), extra, zero);
    } else {
      ones = padSpatial(b, loc, ones, w->padBegin, w->padEnd, zero);
    }
    SmallVector<OpFoldResult> countSizes = {b.getIndexAttr(1),
                                            b.getIndexAttr(1)};
    for (int64_t size : w->outSizes)
      countSizes.push_back(b.getIndexAttr(size));
    Value count = reduceWindow(ones, zero, false, countSizes);
    FailureOr<Value> mean = buildElementwise(
        ctx, {sum, count}, elementType,
        [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          return arith::DivFOp::create(nb, nl, args[0], args[1]);
        });
    if (failed(mean))
      return failure();
    ctx.setResult(0, *mean);
    return success();
  };
}

LogicalResult importGlobalAveragePool(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  if (type.getRank() < 3 || !isa<FloatType>(type.getElementType()))
    return ctx.emitError() << "expects a float N x C x spatial... input";
  SmallVector<int64_t> axes;
  for (int64_t d = 2; d < type.getRank(); ++d)
    axes.push_back(d);
  ctx.setResult(0, buildMean(ctx, ctx.getInput(0), axes, /*keepDims=*/true));
  return success();
}

/// GlobalMaxPool: the maximum over the spatial dimensions (NaN propagates,
/// as in MaxPool), kept as size-1 dimensions.
LogicalResult importGlobalMaxPool(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  if (type.getRank() < 3 || !isa<FloatType>(type.getElementType()))
    return ctx.emitError() << "expects a float N x C x spatial... input";
  SmallVector<int64_t> axes;
  for (int64_t d = 2; d < type.getRank(); ++d)
    axes.push_back(d);
  OpBuilder &b = ctx.getBuilder();
  ctx.setResult(0, buildReduction(
                       b, ctx.getLoc(), ctx.getInput(0), axes,
                       /*keepDims=*/true,
                       b.getFloatAttr(type.getElementType(),
                                      -std::numeric_limits<double>::infinity()),
                       [](OpBuilder &nb, Location nl, ValueRange args) {
                         return arith::MaximumFOp::create(nb, nl, args[0],
                                                          args[1])
                             .getResult();
                       }));
  return success();
}

LogicalResult importPad(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  // Before opset 11 (Pad-2) pads and the constant value are attributes.
  bool attributes = ctx.getOpset() < 11;
  std::optional<SmallVector<int64_t>> pads =
      attributes ? ctx.getIntsAttr("pads")
                 : getConstantInts(ctx.getConstantInput(1));
  if (!pads)
    return ctx.emitError() << (attributes ? "the pads attribute is required"
                                          : "pads must be a constant");
  SmallVector<int64_t> axes;
  if (!attributes && ctx.hasInput(3)) {
    std::optional<SmallVector<int64_t>> values =
        getConstantInts(ctx.getConstantInput(3));
    if (!values)
      return ctx.emitError() << "axes must be a constant";
    for (int64_t axis : *values) {
      FailureOr<int64_t> normalized = ctx.normalizeAxis(axis, rank);
      if (failed(normalized))
        return failure();
      axes.push_back(*normalized);
    }
  } else {
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  int64_t n = axes.size();
  if (static_cast<int64_t>(pads->size()) != 2 * n)
    return ctx.emitError() << "pads must have 2 x " << n << " entries";
  SmallVector<int64_t> low(rank, 0), high(rank, 0);
  for (int64_t i = 0; i < n; ++i) {
    low[axes[i]] = (*pads)[i];
    high[axes[i]] = (*pads)[i + n];
    if (low[axes[i]] < 0 || high[axes[i]] < 0)
      return ctx.emitError() << "negative pads are not supported";
  }
  std::string mode = ctx.getStringAttr("mode").value_or("constant");
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Type elementType = type.getElementType();
  Value input = ctx.getInput(0);
  SmallVector<OpFoldResult> inSizes = getSizes(b, loc, input);
  SmallVector<OpFoldResult> outSizes;
  for (int64_t d = 0; d < rank; ++d)
    outSizes.push_back(
        addIndex(b, loc, inSizes[d], b.getIndexAttr(low[d] + high[d])));
  if (mode == "constant") {
    Value padValue;
    if (attributes) {
      if (!isa<FloatType>(elementType))
        return ctx.emitError() << "expects a float input, got " << elementType;
      padValue =
          scalarConstant(b, loc, elementType, ctx.getFloatAttr("value", 0.0f));
    } else if (ctx.hasInput(2))
      padValue =
          tensor::ExtractOp::create(b, loc, ctx.getInput(2), ValueRange{});
    else
      padValue = arith::ConstantOp::create(
          b, loc, cast<TypedAttr>(b.getZeroAttr(elementType)));
    SmallVector<OpFoldResult> lowOfr, highOfr;
    for (int64_t d = 0; d < rank; ++d) {
      lowOfr.push_back(b.getIndexAttr(low[d]));
      highOfr.push_back(b.getIndexAttr(high[d]));
    }
    auto resultType =
        RankedTensorType::get(getStaticShape(outSizes), elementType);
    ctx.setResult(0,
                  tensor::PadOp::create(b, loc, resultType, input, lowOfr,
                                        highOfr, padValue),
                  ctx.isUnsignedInput(0));
    return success();
  }
  if (mode != "edge" && mode != "reflect" && mode != "wrap")
    return ctx.emitError() << "unsupported mode='" << mode << "'";
  bool reflect = mode == "reflect";
  bool wrap = mode == "wrap";
  // Out-of-range positions read a clamped (edge), mirrored (reflect) or,
  // since Pad-19, wrapped-around (wrap: p mod size) one.
  Value result = buildGenerated(
      b, loc, outSizes, elementType,
      [&](OpBuilder &nb, Location nl, ArrayRef<Value> indices) -> Value {
        SmallVector<Value> at;
        Value zero = arith::ConstantIndexOp::create(nb, nl, 0);
        for (int64_t d = 0; d < rank; ++d) {
          Value i = indices[d];
          Value size = getValueOrCreateConstantIndexOp(nb, nl, inSizes[d]);
          Value last = arith::SubIOp::create(
              nb, nl, size, arith::ConstantIndexOp::create(nb, nl, 1));
          Value p = arith::SubIOp::create(
              nb, nl, i, arith::ConstantIndexOp::create(nb, nl, low[d]));
          if (reflect) {
            // p < 0 -> -p; p > last -> 2 * last - p.
            Value neg = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt,
                                              p, zero);
            p = arith::SelectOp::create(
                nb, nl, neg, arith::SubIOp::create(nb, nl, zero, p), p);
            Value over = arith::CmpIOp::create(
                nb, nl, arith::CmpIPredicate::sgt, p, last);
            Value mirrored = arith::SubIOp::create(
                nb, nl, arith::AddIOp::create(nb, nl, last, last), p);
            p = arith::SelectOp::create(nb, nl, over, mirrored, p);
          }
          if (wrap) {
            // The pads may exceed the size: a non-negative remainder.
            Value r = arith::RemSIOp::create(nb, nl, p, size);
            Value neg = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt,
                                              r, zero);
            p = arith::SelectOp::create(
                nb, nl, neg, arith::AddIOp::create(nb, nl, r, size), r);
          }
          p = arith::MaxSIOp::create(nb, nl, p, zero);
          p = arith::MinSIOp::create(nb, nl, p, last);
          at.push_back(p);
        }
        return tensor::ExtractOp::create(nb, nl, input, at);
      });
  ctx.setResult(0, result, ctx.isUnsignedInput(0));
  return success();
}

/// Resize (opset 10 on), and Upsample (opsets 7 to 9, the same op before
/// it was renamed). Before opset 11 the only inputs are X and the scales
/// (an attribute in Upsample-7), coordinates are `asymmetric` (x / scale)
/// and nearest picks floor(x) when enlarging and ceil(x) when shrinking,
/// as ONNX Runtime does.
LogicalResult importResize(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  if (!isa<FloatType>(type.getElementType()))
    return ctx.emitError() << "expects a float input, got "
                           << type.getElementType();
  if (!type.hasStaticShape())
    return ctx.emitError()
           << "the input's shape " << type
           << " is not static, and its output size is computed at import "
              "time; "
           << ctx.importer.getStaticShapeHint();
  bool legacy = ctx.getOpset() < 11;
  std::string mode = ctx.getStringAttr("mode").value_or("nearest");
  std::string coord = legacy
                          ? "asymmetric"
                          : ctx.getStringAttr("coordinate_transformation_mode")
                                .value_or("half_pixel");
  std::string nearestMode =
      legacy ? "simple"
             : ctx.getStringAttr("nearest_mode").value_or("round_prefer_floor");
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return ctx.emitError() << "unsupported mode='" << mode << "'";
  if (coord != "half_pixel" && coord != "asymmetric" &&
      coord != "align_corners" && coord != "pytorch_half_pixel" &&
      coord != "tf_half_pixel_for_nn" && coord != "tf_crop_and_resize")
    return ctx.emitError() << "unsupported coordinate_transformation_mode='"
                           << coord << "'";
  if (!legacy && ctx.hasInput(3) && ctx.getAttr("axes"))
    return ctx.emitError() << "axes is not supported";
  SmallVector<double> scales(rank, 1.0);
  SmallVector<int64_t> outShape(type.getShape());
  auto setScales = [&](ArrayRef<double> given) -> LogicalResult {
    if (static_cast<int64_t>(given.size()) != rank)
      return ctx.emitError() << "scales must have one entry per dimension";
    for (int64_t d = 0; d < rank; ++d) {
      scales[d] = given[d];
      if (!(scales[d] > 0))
        return ctx.emitError() << "scale " << scales[d] << " of dimension " << d
                               << " is not positive";
      double size = std::floor(type.getDimSize(d) * scales[d]);
      if (!(size <= double(int64_t(1) << 40)))
        return ctx.emitError() << "scale " << scales[d] << " of dimension " << d
                               << " gives an output size out of range";
      outShape[d] = static_cast<int64_t>(size);
    }
    return success();
  };
  auto constantScales = [&](unsigned i) -> std::optional<SmallVector<double>> {
    const HostTensor *s = ctx.getConstantInput(i);
    if (!s || !s->isFloat())
      return std::nullopt;
    return SmallVector<double>(s->floats);
  };
  if (ctx.getOpType() == "Upsample" && ctx.getOpset() < 9) {
    const onnx::AttributeProto *attr = ctx.getAttr("scales");
    if (!attr)
      return ctx.emitError() << "the scales attribute is required";
    if (failed(setScales(
            SmallVector<double>(attr->floats().begin(), attr->floats().end()))))
      return failure();
  } else if (legacy) {
    std::optional<SmallVector<double>> given = constantScales(1);
    if (!given)
      return ctx.emitError()
             << "scales must be a constant of floats (bind a graph input "
                "with --constant-input NAME=TENSOR.pb)";
    if (failed(setScales(*given)))
      return failure();
  } else if (const HostTensor *sizes = ctx.getConstantInput(3)) {
    if (sizes->getNumElements() != rank)
      return ctx.emitError() << "sizes must have one entry per dimension";
    for (int64_t d = 0; d < rank; ++d) {
      outShape[d] = sizes->getInt(d);
      scales[d] = static_cast<double>(outShape[d]) / type.getDimSize(d);
    }
  } else if (std::optional<SmallVector<double>> given = constantScales(2);
             given && !given->empty()) {
    // An empty scales (Resize-11 requires the input) means sizes decide.
    if (failed(setScales(*given)))
      return failure();
  } else {
    return ctx.emitError() << "scales or sizes must be a constant";
  }
  double cubicA = ctx.getFloatAttr("cubic_coeff_a", -0.75f);
  // tf_crop_and_resize samples the region `roi` ([starts..., ends...] in
  // normalized coordinates); points outside the input take
  // extrapolation_value.
  bool crop = coord == "tf_crop_and_resize";
  SmallVector<double> roi;
  if (crop) {
    const HostTensor *r = ctx.getConstantInput(1);
    if (!r || r->getNumElements() != 2 * rank)
      return ctx.emitError() << "roi must be a constant of 2 x " << rank
                             << " values with tf_crop_and_resize";
    for (int64_t i = 0; i < 2 * rank; ++i)
      roi.push_back(r->getDouble(i));
  }
  double extrapolation = ctx.getFloatAttr("extrapolation_value", 0.0f);
  bool excludeOutside = ctx.getIntAttr("exclude_outside", 0) != 0;
  // Resize-18's antialias widens the filter when shrinking in linear and
  // cubic modes (nearest ignores it); its keep_aspect_ratio_policy rescales
  // `sizes`. Neither is implemented: refused rather than ignored.
  if (ctx.getIntAttr("antialias", 0) != 0 && mode != "nearest" &&
      llvm::any_of(scales, [](double s) { return s < 1.0; }))
    return ctx.emitError() << "antialias = 1 when shrinking is not supported "
                              "(export with antialias = 0)";
  if (std::string policy =
          ctx.getStringAttr("keep_aspect_ratio_policy").value_or("stretch");
      policy != "stretch" && !legacy && ctx.getConstantInput(3))
    return ctx.emitError() << "keep_aspect_ratio_policy = '" << policy
                           << "' is not supported; give the output sizes "
                              "with the 'stretch' policy";
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Type elementType = type.getElementType();
  Value input = ctx.getInput(0);
  Value result = buildGenerated(
      b, loc,
      getAsIndexOpFoldResult(b.getContext(), ArrayRef<int64_t>(outShape)),
      elementType,
      [&](OpBuilder &nb, Location nl, ArrayRef<Value> indices) -> Value {
        Type f32 = nb.getF32Type();
        auto constF = [&](double v) -> Value {
          return arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(v));
        };
        // Per dimension: the source coordinate, and for linear mode the two
        // neighbours and the weight of the upper one.
        SmallVector<Value> lowIdx, highIdx, weights;
        // Cubic: per dimension, (index, weight) of each tap.
        SmallVector<SmallVector<std::pair<Value, Value>>> cubicTaps;
        // tf_crop_and_resize: whether the point is outside the input.
        Value outside;
        auto finish = [&](Value v) -> Value {
          if (!outside)
            return v;
          return arith::SelectOp::create(
              nb, nl, outside,
              convertScalar(nb, nl, constF(extrapolation), elementType, false,
                            false),
              v);
        };
        for (int64_t d = 0; d < rank; ++d) {
          Value i = indices[d];
          Value fi = arith::UIToFPOp::create(
              nb, nl, f32,
              arith::IndexCastOp::create(nb, nl, nb.getI64Type(), i));
          int64_t inSize = type.getDimSize(d), outSize = outShape[d];
          Value x;
          if (coord == "asymmetric") {
            x = arith::DivFOp::create(nb, nl, fi, constF(scales[d]));
          } else if (crop) {
            double start = roi[d] * (inSize - 1),
                   end = roi[rank + d] * (inSize - 1);
            x = outSize > 1 ? arith::AddFOp::create(
                                  nb, nl, constF(start),
                                  arith::MulFOp::create(
                                      nb, nl, fi,
                                      constF((end - start) / (outSize - 1))))
                                  .getResult()
                            : constF(0.5 * (start + end));
            Value out = arith::OrIOp::create(
                nb, nl,
                arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLT, x,
                                      constF(0.0)),
                arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, x,
                                      constF(inSize - 1)));
            outside =
                outside ? arith::OrIOp::create(nb, nl, outside, out).getResult()
                        : out;
          } else if (coord == "tf_half_pixel_for_nn") {
            x = arith::DivFOp::create(
                nb, nl, arith::AddFOp::create(nb, nl, fi, constF(0.5)),
                constF(scales[d]));
          } else if (coord == "align_corners") {
            // ONNX uses the unrounded resized length (input x scale).
            double resized = inSize * scales[d];
            double ratio =
                resized > 1 ? double(inSize - 1) / (resized - 1) : 0.0;
            x = arith::MulFOp::create(nb, nl, fi, constF(ratio));
          } else {
            // half_pixel (and pytorch_half_pixel for outputs longer than 1).
            x = arith::SubFOp::create(
                nb, nl,
                arith::DivFOp::create(
                    nb, nl, arith::AddFOp::create(nb, nl, fi, constF(0.5)),
                    constF(scales[d])),
                constF(0.5));
            if (coord == "pytorch_half_pixel" && outSize == 1)
              x = constF(0.0);
          }
          Value lastF = constF(inSize - 1);
          Value zeroF = constF(0.0);
          auto toIndexClamped = [&](Value v) -> Value {
            v = arith::MaximumFOp::create(nb, nl, v, zeroF);
            v = arith::MinimumFOp::create(nb, nl, v, lastF);
            Value asInt = arith::FPToSIOp::create(nb, nl, nb.getI64Type(), v);
            return arith::IndexCastOp::create(nb, nl, nb.getIndexType(), asInt);
          };
          if (mode == "nearest") {
            Value r;
            if (nearestMode == "simple")
              r = scales[d] < 1 ? math::CeilOp::create(nb, nl, x).getResult()
                                : math::FloorOp::create(nb, nl, x).getResult();
            else if (nearestMode == "floor")
              r = math::FloorOp::create(nb, nl, x);
            else if (nearestMode == "ceil")
              r = math::CeilOp::create(nb, nl, x);
            else if (nearestMode == "round_prefer_ceil")
              r = math::FloorOp::create(
                  nb, nl, arith::AddFOp::create(nb, nl, x, constF(0.5)));
            else // round_prefer_floor
              r = math::CeilOp::create(
                  nb, nl, arith::SubFOp::create(nb, nl, x, constF(0.5)));
            lowIdx.push_back(toIndexClamped(r));
            continue;
          }
          if (mode == "cubic") {
            // A dimension that keeps its size reads its own index.
            if (scales[d] == 1.0 && inSize == outSize &&
                coord != "tf_half_pixel_for_nn" && !crop) {
              cubicTaps.push_back({{i, constF(1.0)}});
              continue;
            }
            // ONNX's reference: the 4 nearest indices base - 1 ... base + 2
            // with base = ceil(x) - 1 (the pixel left of x, x itself
            // excluded), ratio x - base in (0, 1], Keys' coefficients with
            // parameter A; indices outside the input read its edge, or with
            // exclude_outside get weight 0 and the rest renormalized.
            Value base = arith::SubFOp::create(
                nb, nl, math::CeilOp::create(nb, nl, x), constF(1.0));
            Value t = arith::SubFOp::create(nb, nl, x, base);
            auto poly = [&](Value r, bool outer) -> Value {
              // outer: ((A r - 5A) r + 8A) r - 4A; inner: ((A + 2) r -
              // (A + 3)) r r + 1.
              Value v;
              if (outer) {
                v = arith::SubFOp::create(
                    nb, nl, arith::MulFOp::create(nb, nl, constF(cubicA), r),
                    constF(5 * cubicA));
                v = arith::AddFOp::create(nb, nl,
                                          arith::MulFOp::create(nb, nl, v, r),
                                          constF(8 * cubicA));
                return arith::SubFOp::create(
                    nb, nl, arith::MulFOp::create(nb, nl, v, r),
                    constF(4 * cubicA));
              }
              v = arith::SubFOp::create(
                  nb, nl, arith::MulFOp::create(nb, nl, constF(cubicA + 2), r),
                  constF(cubicA + 3));
              v = arith::MulFOp::create(nb, nl,
                                        arith::MulFOp::create(nb, nl, v, r), r);
              return arith::AddFOp::create(nb, nl, v, constF(1.0));
            };
            Value oneMinusT = arith::SubFOp::create(nb, nl, constF(1.0), t);
            SmallVector<Value> coeffs = {
                poly(arith::AddFOp::create(nb, nl, t, constF(1.0)), true),
                poly(t, false), poly(oneMinusT, false),
                poly(arith::AddFOp::create(nb, nl, oneMinusT, constF(1.0)),
                     true)};
            SmallVector<Value> positions;
            for (int k = 0; k < 4; ++k)
              positions.push_back(
                  arith::AddFOp::create(nb, nl, base, constF(k - 1)));
            if (excludeOutside) {
              Value sum = constF(0.0);
              for (int k = 0; k < 4; ++k) {
                Value inside = arith::AndIOp::create(
                    nb, nl,
                    arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGE,
                                          positions[k], zeroF),
                    arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLE,
                                          positions[k], lastF));
                coeffs[k] =
                    arith::SelectOp::create(nb, nl, inside, coeffs[k], zeroF);
                sum = arith::AddFOp::create(nb, nl, sum, coeffs[k]);
              }
              for (int k = 0; k < 4; ++k)
                coeffs[k] = arith::DivFOp::create(nb, nl, coeffs[k], sum);
            }
            SmallVector<std::pair<Value, Value>> taps;
            for (int k = 0; k < 4; ++k)
              taps.push_back({toIndexClamped(positions[k]), coeffs[k]});
            cubicTaps.push_back(std::move(taps));
            continue;
          }
          Value clamped = arith::MaximumFOp::create(nb, nl, x, zeroF);
          Value lo = math::FloorOp::create(nb, nl, clamped);
          weights.push_back(arith::SubFOp::create(nb, nl, clamped, lo));
          lowIdx.push_back(toIndexClamped(lo));
          highIdx.push_back(
              toIndexClamped(arith::AddFOp::create(nb, nl, lo, constF(1.0))));
        }
        if (mode == "nearest") {
          return finish(tensor::ExtractOp::create(nb, nl, input, lowIdx));
        }
        if (mode == "cubic") {
          // The separable sum over every combination of taps.
          Value acc = constF(0.0);
          SmallVector<size_t> pick(rank, 0);
          while (true) {
            SmallVector<Value> at;
            Value weight = constF(1.0);
            for (int64_t d = 0; d < rank; ++d) {
              at.push_back(cubicTaps[d][pick[d]].first);
              weight = arith::MulFOp::create(nb, nl, weight,
                                             cubicTaps[d][pick[d]].second);
            }
            Value element = tensor::ExtractOp::create(nb, nl, input, at);
            element = convertScalar(nb, nl, element, f32, false, false);
            acc = arith::AddFOp::create(
                nb, nl, acc, arith::MulFOp::create(nb, nl, weight, element));
            int64_t d = rank - 1;
            while (d >= 0 && ++pick[d] == cubicTaps[d].size())
              pick[d--] = 0;
            if (d < 0)
              break;
          }
          return finish(convertScalar(nb, nl, acc, elementType, false, false));
        }
        // Multilinear: sum over the 2^rank corners (dims that do not scale
        // have weight 0 for the upper neighbour).
        Value acc = constF(0.0);
        for (int64_t corner = 0; corner < (int64_t(1) << rank); ++corner) {
          SmallVector<Value> at;
          Value weight = constF(1.0);
          for (int64_t d = 0; d < rank; ++d) {
            bool upper = (corner >> d) & 1;
            at.push_back(upper ? highIdx[d] : lowIdx[d]);
            Value w =
                upper ? weights[d]
                      : arith::SubFOp::create(nb, nl, constF(1.0), weights[d])
                            .getResult();
            weight = arith::MulFOp::create(nb, nl, weight, w);
          }
          Value element = tensor::ExtractOp::create(nb, nl, input, at);
          element = convertScalar(nb, nl, element, f32, false, false);
          acc = arith::AddFOp::create(
              nb, nl, acc, arith::MulFOp::create(nb, nl, weight, element));
        }
        return finish(convertScalar(nb, nl, acc, elementType, false, false));
      });
  ctx.setResult(0, result);
  return success();
}

} // namespace

void onnx_import::registerConvolutionOps(OpRegistry &r) {
  r["Conv"] = importConv;
  r["ConvTranspose"] = importConvTranspose;
  r["MaxPool"] = pool(true);
  r["AveragePool"] = pool(false);
  r["GlobalAveragePool"] = importGlobalAveragePool;
  r["GlobalMaxPool"] = importGlobalMaxPool;
  r["Pad"] = importPad;
  r["Resize"] = importResize;
  r["Upsample"] = importResize;
}
