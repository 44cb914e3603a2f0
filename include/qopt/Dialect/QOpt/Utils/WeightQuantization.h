//===- WeightQuantization.h - shared weight-only quantization --*- C++ -*-===//
//
// What every weight-only quantizer (qopt-quantize-weights-rtn,
// qopt-quantize-weights-gptq) shares, so that they agree to the bit on
// everything but the rounding decisions:
//
//  * settings: LayerSpec, the `int4-g128-asym` spec syntax, the
//    `GLOB=SPEC` per-layer overrides and which layers a pass quantizes
//    (keep_full_precision, overrides, the head rule of LinearLayers.h);
//  * the grid: the integer range of a setting, the scale and zero point of a
//    block of weights from its range, and the rounding of one weight
//    (`clamp(round_half_even(w / s) + z)` in f32, as qopt.quantize does);
//  * the output: the qopt.pack bit-stream layout and the rewrite of a
//    qopt.linear into the qopt.weight_only_linear that RTN has always
//    produced (constants, blob names, scheme).
//
// No linear algebra here: GPTQ keeps LAPACK/BLAS inside its pass.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_UTILS_WEIGHTQUANTIZATION_H
#define QOPT_DIALECT_QOPT_UTILS_WEIGHTQUANTIZATION_H

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include "llvm/Support/GlobPattern.h"

#include <cmath>
#include <optional>
#include <string>

namespace mlir {
namespace qopt {

//===----------------------------------------------------------------------===//
// Settings
//===----------------------------------------------------------------------===//

/// How one layer is quantized (or not, with `fullPrecision`).
struct LayerSpec {
  bool fullPrecision = false;
  int64_t bits = 4;
  Granularity granularity = Granularity::PerGroup;
  int64_t groupSize = 128;
  bool symmetric = true;
  /// Each block's range is the clipped one of least error
  /// (`searchGridParams`) instead of its min/max.
  bool clipSearch = false;
};

/// 2, 3, 4 or 8.
bool isSupportedBits(int64_t bits);

/// `per-channel`, `per-group`, `per-tensor` (or with underscores).
std::optional<Granularity> parseGranularity(StringRef text);

/// Parses `fp` | `int<bits>[-g<G>|-pc|-pt][-sym|-asym][-clip|-noclip]`; what
/// the spec does not say comes from `defaults`. On failure, `error` says why.
std::optional<LayerSpec>
parseLayerSpec(StringRef text, const LayerSpec &defaults, std::string &error);

/// One `GLOB=SPEC` entry of an `overrides` option.
struct LayerOverride {
  llvm::GlobPattern glob;
  LayerSpec spec;
};

/// The common options of the weight quantizers (Passes.td's
/// `WeightQuantizerOptions`), checked and parsed once.
struct WeightQuantizerSettings {
  LayerSpec defaults;
  SmallVector<LayerOverride> overrides;
  bool quantizeHead = false;
  int64_t resourceThreshold = 1024;

  /// Checks and parses the raw option values. On failure returns false and
  /// `error` says why (without the pass name).
  bool parse(int64_t bits, bool symmetric, StringRef granularity,
             int64_t groupSize, bool clipSearch, bool quantizeHead,
             ArrayRef<std::string> overrides, int64_t resourceThreshold,
             std::string &error);

  /// How `op` (a linear layer, or a convolution layer) is to be quantized:
  /// `std::nullopt` when the pass leaves it alone (qopt.keep_full_precision,
  /// an `fp` override, the output head without quantize-head), with `why`
  /// naming the reason. Only a `qopt.linear` can be the output head; a
  /// convolution is selected by its attribute and overrides alone.
  std::optional<LayerSpec> select(Operation *op,
                                  std::string *why = nullptr) const;
};

//===----------------------------------------------------------------------===//
// The grid
//===----------------------------------------------------------------------===//

/// The integer range of a setting: symmetric is narrow range
/// `[-(2^(b-1) - 1), 2^(b-1) - 1]`, asymmetric `[0, 2^b - 1]`.
struct QuantGrid {
  float qmin, qmax;
  static QuantGrid get(int64_t bits, bool symmetric);
};

/// Scale and zero point of one parameter block.
struct GridParams {
  float scale = 1.0f;
  float zeroPoint = 0.0f;
};

/// The parameters of a block whose values lie in `[lo, hi]` (the range is
/// widened to contain 0 first): symmetric `s = max(-lo, hi) / qmax`;
/// asymmetric `s = (hi - lo) / qmax`, `z = clamp(round_half_even(-lo / s))`.
/// A zero (or underflowing) range gets `s = 1`, `z = 0`.
GridParams computeGridParams(float lo, float hi, const QuantGrid &grid,
                             bool symmetric);

/// The clip search of `clip-search` (the `mse` option of the GPTQ
/// reference code): among the ranges `[p * lo, p * hi]` for
/// `p = 1 - i / kClipSearchSteps`, `i = 0 .. kClipSearchMaxShrink *
/// kClipSearchSteps - 1`, the one whose grid (`computeGridParams`) gives the
/// least `sum |dequantize(quantize(v)) - v|^kClipSearchNorm` over `values`,
/// the first on ties; `[lo, hi]` is the min/max of `values`. p = 1 is
/// min/max itself, so the result is never worse than min/max in that norm.
GridParams searchGridParams(ArrayRef<float> values, const QuantGrid &grid,
                            bool symmetric);
constexpr int kClipSearchSteps = 100;
constexpr double kClipSearchMaxShrink = 0.8;
constexpr double kClipSearchNorm = 2.4;

/// The grid of one block: `searchGridParams` with `spec.clipSearch`, else
/// `computeGridParams` of the min/max of `values`.
GridParams blockGridParams(ArrayRef<float> values, const QuantGrid &grid,
                           const LayerSpec &spec);

/// `clamp(round_half_even(w / s) + z, qmin, qmax)` in f32, exactly as
/// qopt.quantize computes it; the result is an integer value.
inline float quantizeToGrid(float w, const GridParams &params,
                            const QuantGrid &grid) {
  float v = std::nearbyint(w / params.scale);
  return std::min(std::max(v + params.zeroPoint, grid.qmin), grid.qmax);
}

/// `(q - z) * s` in f32, as qopt.dequantize computes it.
inline float dequantizeFromGrid(float q, const GridParams &params) {
  return (q - params.zeroPoint) * params.scale;
}

//===----------------------------------------------------------------------===//
// Quantized weights
//===----------------------------------------------------------------------===//

/// The parameter block layout of a setting on an `[N, K]` weight: how many
/// blocks and which block holds (row, col).
struct ParamLayout {
  Granularity granularity;
  int64_t n, k, groupSize, groupsPerRow, numParams;

  ParamLayout(const LayerSpec &spec, int64_t n, int64_t k);
  int64_t index(int64_t row, int64_t col) const {
    switch (granularity) {
    case Granularity::PerTensor:
      return 0;
    case Granularity::PerGroup:
      return row * groupsPerRow + col / groupSize;
    default:
      return row;
    }
  }
};

/// A quantized `[N, K]` weight: stored bytes (packed below 8 bits, the
/// qopt.pack layout) and one scale and zero point per parameter block.
struct QuantizedWeight {
  SmallVector<int8_t> bytes;
  SmallVector<float> scales;
  SmallVector<uint8_t> zeroPoints;
};

/// Starts a QuantizedWeight of `spec` for an `[N, K]` weight: zeroed bytes,
/// room for the parameters.
QuantizedWeight makeQuantizedWeight(const LayerSpec &spec, int64_t n,
                                    int64_t k);

/// Records the parameters of block `p`.
void setParams(QuantizedWeight &q, int64_t p, const GridParams &params);

/// Stores the integer value `code` (a grid value) at (row, col): value j of
/// a row in bits [j*B, (j+1)*B) of the row's little-endian bit stream. The
/// slot must still be zero.
void storeCode(QuantizedWeight &q, const LayerSpec &spec, int64_t k,
               int64_t row, int64_t col, float code);

/// Round to nearest: the grid of every block from the weight's own range,
/// every weight rounded to it (`w` row-major `[N, K]`).
QuantizedWeight quantizeRTN(ArrayRef<float> w, int64_t n, int64_t k,
                            const LayerSpec &spec);

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

/// The logical `[N, K]` weight of `op` in row-major f32. Fails with an empty
/// `reason` when the weight is not a constant static f32 tensor (skip
/// silently), with a reason when it cannot be read (blob unavailable) or
/// holds non-finite values.
FailureOr<SmallVector<float>> readLinearWeight(LinearOp op,
                                               std::string &reason);

/// Adjusts `spec` to what layer `op` (K input channels) can take: a
/// per-group K that is not a multiple of the group size falls back to per
/// channel (remark). Fails with a warning when `bits`-bit values of a row do
/// not fill whole bytes.
LogicalResult fitSpecToLayer(LinearOp op, LayerSpec &spec);

/// Resource blob name `<prefix>.<layer>.<what>` with every character blob
/// names do not allow replaced by '_'.
std::string getWeightResourceName(StringRef prefix, StringRef layer,
                                  StringRef what);

/// The constant operands of a qopt.weight_only_linear.
struct WeightOnlyParameters {
  ElementsAttr weight, scale, zeroPoint;
  SchemeAttr scheme;
};

/// Builds the constants of `q`: packed weight `[N, K * bits / 8] x i8`,
/// f32 scales (`[N]`, `[N, K / G]` or rank 0), zero points of the storage
/// width when asymmetric. Constants of at least `resourceThreshold` bytes
/// become dense_resource blobs named `<prefix>.<layer>.{weight,scale,
/// zero_point}`; sub-byte zero points stay inline.
WeightOnlyParameters
buildWeightOnlyParameters(MLIRContext *ctx, const QuantizedWeight &q, int64_t n,
                          int64_t k, const LayerSpec &spec, StringRef prefix,
                          StringRef layer, int64_t resourceThreshold);

/// Replaces `op` by a qopt.weight_only_linear on `params` (input and bias
/// kept) and erases the f32 weight once nothing else uses it.
Value replaceWithWeightOnlyLinear(LinearOp op,
                                  const WeightOnlyParameters &params);

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

/// The filter of convolution layer `op` (isConvolutionLayer) as a row-major
/// `[F, K]` f32 array, `K = C/group * kernel...`: the filter's own layout.
/// Fails with a reason when the blob is unavailable or holds non-finite
/// values.
FailureOr<SmallVector<float>> readConvolutionFilter(linalg::GenericOp op,
                                                    std::string &reason);

/// Adjusts `spec` to a convolution: its parameters are per output channel
/// or per tensor, so per-group becomes per-channel (remark). Fails with a
/// warning when the `F * K` codes of `bits` bits do not fill whole bytes.
LogicalResult fitSpecToConvolution(linalg::GenericOp op, LayerSpec &spec);

/// Replaces the constant f32 filter of convolution layer `op` by
/// `qopt.dequantize` of its codes `q` (a QuantizedWeight of `[F, K]` under
/// `spec`, per-channel or per-tensor): 8-bit codes are a constant of the
/// filter's shape; narrower ones one bit stream over the whole filter
/// (`[F * K * bits / 8] x i8`, so that a row need not fill whole bytes, as
/// a depthwise 3x3 row of 9 int4 values does not), `qopt.unpack`ed and
/// reshaped to the filter's shape. The convolution itself is unchanged, so
/// every kernel that runs it runs the quantized one; the f32 filter is
/// erased once nothing else uses it. Constants follow
/// buildWeightOnlyParameters' naming (`<prefix>.<layer>.{weight,scale,
/// zero_point}`) and resource threshold.
void replaceConvolutionFilter(linalg::GenericOp op, const QuantizedWeight &q,
                              const LayerSpec &spec, StringRef prefix,
                              StringRef layer, int64_t resourceThreshold);

/// Largest finite magnitude of FP8 E4M3FN.
constexpr float kFP8E4M3Max = 448.0f;

/// FP8 (E4M3FN) weights per output channel of a row-major `[n, k]` weight
/// (`qopt-quantize-w8a8{storage=f8E4M3FN}`): `scales[row] = max |w| / 448`
/// (1 when that max is below 2^-119, as for int8), `codes` the E4M3FN bytes
/// of `w / scale` rounded to nearest, ties to even.
void quantizeFP8PerChannel(ArrayRef<float> w, int64_t n, int64_t k,
                           SmallVectorImpl<int8_t> &codes,
                           SmallVectorImpl<float> &scales);

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_UTILS_WEIGHTQUANTIZATION_H
