//===- QuantizeWeightsGPTQ.cpp - GPTQ weight-only quantization ------------===//
//
// GPTQ (Frantar, Ashkboos, Hoefler, Alistarh, 2022) from the Hessians that
// calibration leaves on the layers' inputs. The structure follows the
// reference implementation's `fasterquant` step by step (dead columns,
// act-order, dampening, the upper Cholesky factor of H^-1, lazy block
// updates), so that an independent implementation with the same conventions
// gives the same codes (test/Dialect/QOpt/Transforms/gptq-agreement.test).
// Everything around the rounding (grids, packing, layer selection, the
// qopt.weight_only_linear it produces) is the shared code of
// Utils/WeightQuantization.h, the same as qopt-quantize-weights-rtn's.
//
// Linear algebra goes through LAPACK and BLAS (Debian's liblapack-dev; with
// libopenblas0-pthread installed the calls run OpenBLAS's threaded kernels:
// on a 4096 x 4096 Hessian the Cholesky + inverse + Cholesky take about 1 s
// there, against 15-19 s with Eigen 3.4 at the build's flags and 53 s with
// the reference LAPACK). Their declarations stay in this file.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"
#include "qopt/Dialect/QOpt/Utils/LinearLayers.h"
#include "qopt/Dialect/QOpt/Utils/WeightQuantization.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Sequence.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Parallel.h"

#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QUANTIZEWEIGHTSGPTQ
#include "qopt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

// LAPACK and BLAS, Fortran calling convention (LP64 integers; the hidden
// lengths of character arguments passed, as gfortran expects them).
extern "C" {
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda,
             int *info, size_t uploLen);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda,
             int *info, size_t uploLen);
void dgemm_(const char *transa, const char *transb, const int *m, const int *n,
            const int *k, const double *alpha, const double *a, const int *lda,
            const double *b, const int *ldb, const double *beta, double *c,
            const int *ldc, size_t transaLen, size_t transbLen);
void dger_(const int *m, const int *n, const double *alpha, const double *x,
           const int *incx, const double *y, const int *incy, double *a,
           const int *lda);
}

namespace {

/// A number as %g prints it (0.01, 1e-05, 100).
std::string formatNumber(double value) {
  return llvm::formatv("{0}", llvm::format("%g", value)).str();
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

/// Replaces the upper triangle of the row-major symmetric positive definite
/// `h` (`k x k`) by `U`, the upper Cholesky factor of `h^-1`
/// (`h^-1 = U^T U`), and zeroes the strict lower triangle. Row-major upper
/// is column-major lower, which is what the LAPACK calls below see: 'L'
/// throughout. Returns an empty string on success, else why it failed.
std::string upperCholeskyOfInverse(std::vector<double> &h, int k) {
  const char lower = 'L';
  int info = 0;
  dpotrf_(&lower, &k, h.data(), &k, &info, 1);
  if (info > 0)
    return llvm::formatv("H is not positive definite (leading minor {0})", info)
        .str();
  dpotri_(&lower, &k, h.data(), &k, &info, 1);
  if (info > 0)
    return "the Cholesky factor of H is singular";
  dpotrf_(&lower, &k, h.data(), &k, &info, 1);
  if (info > 0)
    return llvm::formatv("H^-1 is not positive definite (leading minor {0})",
                         info)
        .str();
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < i; ++j)
      h[size_t(i) * k + j] = 0.0;
    for (int j = i; j < k; ++j)
      if (!std::isfinite(h[size_t(i) * k + j]))
        return "the factor of H^-1 is not finite";
    if (!(h[size_t(i) * k + i] > 0.0))
      return "the factor of H^-1 has a zero on its diagonal";
  }
  return "";
}

//===----------------------------------------------------------------------===//
// GPTQ on one layer
//===----------------------------------------------------------------------===//

struct GPTQOptions {
  double damp = 0.01;
  int64_t dampRetries = 6;
  int64_t blockSize = 128;
  bool actOrder = false;
  /// With act-order and groups: groups in the original column order (true)
  /// or over the permuted order (false; the layer's columns are then stored
  /// permuted).
  bool staticGroups = true;
};

struct GPTQOutcome {
  QuantizedWeight weight;
  /// When the columns of `weight` are stored in act-order (permuted groups):
  /// stored column j is original column `permutation[j]`. Empty when they
  /// are in the original order.
  SmallVector<int64_t> permutation;
  /// Messages of the failed tries (one remark each).
  SmallVector<std::string> retries;
  bool ok = false;
};

/// The grid of a block of weights (as f32 values): their range, or the
/// clip search's with `spec.clipSearch`.
GridParams gridOf(ArrayRef<double> values, const QuantGrid &grid,
                  const LayerSpec &spec) {
  SmallVector<float> block(values.begin(), values.end());
  return blockGridParams(block, grid, spec);
}

/// `fn(row)` for every row: on LLVM's thread pool when the clip search makes
/// each row's grids cost 80 trial roundings (rows are independent: each
/// writes only its own grids), in order otherwise.
void forEachRow(int64_t n, const LayerSpec &spec,
                llvm::function_ref<void(int64_t)> fn) {
  if (spec.clipSearch)
    llvm::parallelFor(0, n, [&](size_t row) { fn(row); });
  else
    for (int64_t row = 0; row < n; ++row)
      fn(row);
}

/// GPTQ of the row-major `[n, k]` weight `w` with the row-major `[k, k]`
/// Hessian `hessian` (already divided by the sample count).
GPTQOutcome runGPTQ(ArrayRef<float> w, std::vector<double> hessian, int64_t n,
                    int64_t k, const LayerSpec &spec,
                    const GPTQOptions &options) {
  GPTQOutcome outcome;
  ParamLayout layout(spec, n, k);
  QuantGrid grid = QuantGrid::get(spec.bits, spec.symmetric);
  std::vector<GridParams> params(layout.numParams);
  std::vector<double> &h = hessian;
  std::vector<double> work(w.begin(), w.end()); // W, f64, [n, k]
  auto at = [&](int64_t row, int64_t col) -> double & {
    return work[size_t(row) * k + col];
  };

  // Per channel (or tensor): grids from the original weight, before dead
  // columns are zeroed, as the reference finds them before its loop.
  if (spec.granularity == Granularity::PerChannel) {
    forEachRow(n, spec, [&](int64_t row) {
      params[row] = gridOf(ArrayRef<double>(&at(row, 0), k), grid, spec);
    });
  } else if (spec.granularity == Granularity::PerTensor) {
    params[0] = gridOf(ArrayRef<double>(work), grid, spec);
  }

  // Dead input channels: never active, so any value works; 0 it is.
  for (int64_t j = 0; j < k; ++j)
    if (h[size_t(j) * k + j] == 0.0) {
      h[size_t(j) * k + j] = 1.0;
      for (int64_t row = 0; row < n; ++row)
        at(row, j) = 0.0;
    }

  bool perGroup = spec.granularity == Granularity::PerGroup;
  bool staticGroups = perGroup && options.actOrder && options.staticGroups;
  // Groups over the permuted order: the weight keeps that order, so that
  // each group is contiguous again (the plain per-group layout on permuted
  // columns); the layer's input is permuted to match.
  bool permutedLayout = perGroup && options.actOrder && !options.staticGroups;
  if (staticGroups)
    forEachRow(n, spec, [&](int64_t row) {
      for (int64_t g = 0; g < layout.groupsPerRow; ++g)
        params[layout.index(row, g * layout.groupSize)] = gridOf(
            ArrayRef<double>(&at(row, g * layout.groupSize), layout.groupSize),
            grid, spec);
    });

  // Act-order: columns by descending diag(H) (stable: ties keep their
  // order).
  std::vector<int64_t> perm(k);
  std::iota(perm.begin(), perm.end(), 0);
  if (options.actOrder) {
    std::sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) {
      double da = h[size_t(a) * k + a], db = h[size_t(b) * k + b];
      return da > db || (da == db && a < b);
    });
    std::vector<double> permuted(work.size());
    for (int64_t row = 0; row < n; ++row)
      for (int64_t j = 0; j < k; ++j)
        permuted[size_t(row) * k + j] = at(row, perm[j]);
    work.swap(permuted);
    std::vector<double> hp(h.size());
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        hp[size_t(i) * k + j] = h[size_t(perm[i]) * k + perm[j]];
    h.swap(hp);
  }

  // Dampening, with retries at 10x the damp while a factorization fails.
  double meanDiag = 0.0;
  for (int64_t j = 0; j < k; ++j)
    meanDiag += h[size_t(j) * k + j];
  meanDiag /= static_cast<double>(k);
  std::vector<double> hinv;
  double damp = options.damp;
  for (int64_t attempt = 0;; ++attempt, damp *= 10.0) {
    hinv = h;
    for (int64_t j = 0; j < k; ++j)
      hinv[size_t(j) * k + j] += damp * meanDiag;
    std::string why = upperCholeskyOfInverse(hinv, static_cast<int>(k));
    if (why.empty())
      break;
    if (attempt >= options.dampRetries) {
      outcome.retries.push_back(
          llvm::formatv("Cholesky failed at damp {0} ({1}); no retries left",
                        formatNumber(damp), why)
              .str());
      return outcome;
    }
    outcome.retries.push_back(
        llvm::formatv("Cholesky failed at damp {0} ({1}); retrying with "
                      "damp {2}",
                      formatNumber(damp), why, formatNumber(damp * 10.0))
            .str());
  }
  h.clear();
  h.shrink_to_fit();

  // The loop, in blocks of `blockSize` columns. `block` holds the block's
  // columns transposed (`[count, n]`, column i contiguous) and takes the
  // updates within the block; `work` only gets the lazy updates between
  // blocks, as the reference's W does.
  outcome.weight = makeQuantizedWeight(spec, n, k);
  int64_t blockSize = options.blockSize;
  std::vector<double> block(size_t(std::min(blockSize, k)) * n);
  std::vector<double> errors(block.size());
  std::vector<double> err(n);
  const int one = 1;
  const double minusOne = -1.0, plusOne = 1.0;
  for (int64_t i1 = 0; i1 < k; i1 += blockSize) {
    int64_t i2 = std::min(i1 + blockSize, k), count = i2 - i1;
    for (int64_t row = 0; row < n; ++row)
      for (int64_t i = 0; i < count; ++i)
        block[size_t(i) * n + row] = at(row, i1 + i);
    for (int64_t i = 0; i < count; ++i) {
      int64_t col = i1 + i;
      // Where the column is stored: its place in the original order, or in
      // the permuted one.
      int64_t stored = permutedLayout ? col : perm[col];
      // Groups (without act-order) get their grid when their first column
      // comes up, from `work` as the reference does: the weight as of the
      // start of this block.
      if (perGroup && !staticGroups && col % layout.groupSize == 0)
        forEachRow(n, spec, [&](int64_t row) {
          params[layout.index(row, col)] =
              gridOf(ArrayRef<double>(&at(row, col),
                                      std::min(layout.groupSize, k - col)),
                     grid, spec);
        });
      double d = hinv[size_t(col) * k + col];
      double *column = &block[size_t(i) * n];
      for (int64_t row = 0; row < n; ++row) {
        const GridParams &p = params[layout.index(row, stored)];
        double v = column[row];
        float q = quantizeToGrid(static_cast<float>(v), p, grid);
        storeCode(outcome.weight, spec, k, row, stored, q);
        double dq = (static_cast<double>(q) - p.zeroPoint) *
                    static_cast<double>(p.scale);
        err[row] = (v - dq) / d;
      }
      std::copy(err.begin(), err.end(), &errors[size_t(i) * n]);
      // block[j, :] -= hinv[col, i1 + j] * err for the block's later j.
      int m = static_cast<int>(n), rest = static_cast<int>(count - i - 1);
      int ld = static_cast<int>(n);
      if (rest > 0)
        dger_(&m, &rest, &minusOne, err.data(), &one,
              &hinv[size_t(col) * k + col + 1], &one, column + n, &ld);
    }
    // W[:, i2:] -= Err * Hinv[i1:i2, i2:], in column-major terms
    // W^T[i2:, :] -= Hinv[i1:i2, i2:]^T Err^T.
    if (i2 < k) {
      int m = static_cast<int>(k - i2), nn = static_cast<int>(n),
          kk = static_cast<int>(count), ldk = static_cast<int>(k);
      const char no = 'N', trans = 'T';
      dgemm_(&no, &trans, &m, &nn, &kk, &minusOne, &hinv[size_t(i1) * k + i2],
             &ldk, errors.data(), &nn, &plusOne, &work[i2], &ldk, 1, 1);
    }
  }
  for (int64_t p = 0; p < layout.numParams; ++p)
    setParams(outcome.weight, p, params[p]);
  if (permutedLayout)
    outcome.permutation.assign(perm.begin(), perm.end());
  outcome.ok = true;
  return outcome;
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

/// The calibrated Hessian observer on `op`'s input (the first `hessian`
/// observe of the chain of observes before it), or null.
ObserveOp findHessianObserver(LinearOp op) {
  Value value = op.getInput();
  while (auto observe = value.getDefiningOp<ObserveOp>()) {
    if (observe.getObserver().getKind() == ObserverKind::Hessian)
      return observe;
    value = observe.getInput();
  }
  return nullptr;
}

/// Reads a Hessian as row-major f64, divided by `samples`.
LogicalResult readHessian(LinearOp op, ObserveOp observe, int64_t k,
                          std::vector<double> &out) {
  StatsAttr stats = *observe.getStats();
  ElementsAttr hessian = stats.getHessian();
  ArrayRef<int64_t> shape = hessian.getShapedType().getShape();
  if (shape.size() != 2 || shape[0] != k || shape[1] != k)
    return emitError(op.getLoc(), "gptq: the Hessian of '")
           << observe.getName() << "' is " << hessian.getShapedType()
           << " but the layer has K = " << k << " input channels";
  if (stats.getSamples() <= 0)
    return emitError(op.getLoc(), "gptq: the Hessian of '")
           << observe.getName() << "' has no samples";
  out.resize(size_t(k) * k);
  if (auto dense = dyn_cast<DenseElementsAttr>(hessian)) {
    size_t i = 0;
    for (APFloat v : dense.getValues<APFloat>()) {
      bool lost;
      v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
      out[i++] = v.convertToDouble();
    }
  } else if (auto resource = dyn_cast<DenseF64ResourceElementsAttr>(hessian)) {
    std::optional<ArrayRef<double>> data = resource.tryGetAsArrayRef();
    if (!data || data->size() != out.size())
      return emitError(op.getLoc(), "gptq: the Hessian blob of '")
             << observe.getName() << "' is not available";
    std::copy(data->begin(), data->end(), out.begin());
  } else {
    return emitError(op.getLoc(), "gptq: the Hessian of '")
           << observe.getName()
           << "' must be a dense or f64 dense_resource tensor";
  }
  double n = static_cast<double>(stats.getSamples());
  for (double &v : out) {
    if (!std::isfinite(v))
      return emitError(op.getLoc(), "gptq: the Hessian of '")
             << observe.getName() << "' holds a NaN or infinite value";
    v /= n;
  }
  return success();
}

struct QuantizeWeightsGPTQPass
    : public qopt::impl::QuantizeWeightsGPTQBase<QuantizeWeightsGPTQPass> {
  using Base::Base;

  void runOnOperation() override;
};

void QuantizeWeightsGPTQPass::runOnOperation() {
  Location rootLoc = getOperation()->getLoc();
  auto optionError = [&]() {
    return emitError(rootLoc, "qopt-quantize-weights-gptq: ");
  };
  WeightQuantizerSettings settings;
  std::string error;
  if (!settings.parse(bits, symmetric, granularity, groupSize, clipSearch,
                      quantizeHead, overrides, resourceThreshold, error)) {
    optionError() << error;
    return signalPassFailure();
  }
  GPTQOptions gptq;
  gptq.damp = damp;
  gptq.dampRetries = dampRetries;
  gptq.blockSize = blockSize;
  gptq.actOrder = actOrder;
  gptq.staticGroups = staticGroups;
  if (!(gptq.damp > 0.0) || !std::isfinite(gptq.damp)) {
    optionError() << "damp must be positive, got " << gptq.damp;
    return signalPassFailure();
  }
  if (gptq.dampRetries < 0) {
    optionError() << "damp-retries must not be negative, got "
                  << gptq.dampRetries;
    return signalPassFailure();
  }
  if (gptq.blockSize <= 0) {
    optionError() << "block-size must be positive, got " << gptq.blockSize;
    return signalPassFailure();
  }

  SmallVector<LinearOp> linears;
  getOperation()->walk([&](LinearOp op) { linears.push_back(op); });

  // Observers are erased at the end: several layers may share one.
  llvm::SetVector<Operation *> consumed;
  int64_t quantized = 0, byRTN = 0, withPermutedInput = 0;
  SmallVector<std::string> keptFP;
  auto nameOf = [](LinearOp op) {
    StringRef name = getLayerName(op.getLoc());
    if (!name.empty())
      return name.str();
    return std::string(isOutputHead(op) ? "the output head" : "<unnamed>");
  };

  for (LinearOp op : linears) {
    ObserveOp observer = findHessianObserver(op);
    bool calibrated =
        observer && observer.getStats() && observer.getStats()->getHessian();
    if (onlyCalibrated && !calibrated) {
      keptFP.push_back(nameOf(op));
      continue;
    }
    if (observer)
      consumed.insert(observer);
    std::optional<LayerSpec> chosen = settings.select(op);
    if (!chosen) {
      keptFP.push_back(nameOf(op));
      continue;
    }
    LayerSpec spec = *chosen;
    StringRef name = getLayerName(op.getLoc());
    int64_t n = op.getNumOutputChannels();
    int64_t k = op.getNumInputChannels();
    std::string reason;
    FailureOr<SmallVector<float>> weight = readLinearWeight(op, reason);
    if (failed(weight)) {
      if (!reason.empty())
        emitWarning(op.getLoc(), "not quantized: ") << reason;
      keptFP.push_back(nameOf(op));
      continue;
    }
    if (failed(fitSpecToLayer(op, spec))) {
      keptFP.push_back(nameOf(op));
      continue;
    }

    QuantizedWeight result;
    SmallVector<int64_t> permutation;
    const char *prefix = "gptq";
    bool rtn = false;
    if (!calibrated) {
      emitRemark(op.getLoc(),
                 "gptq: no calibrated Hessian on the layer's input; "
                 "quantized by RTN");
      rtn = true;
    } else {
      std::vector<double> hessian;
      if (failed(readHessian(op, observer, k, hessian)))
        return signalPassFailure();
      GPTQOutcome outcome =
          runGPTQ(*weight, std::move(hessian), n, k, spec, gptq);
      for (const std::string &message : outcome.retries)
        emitRemark(op.getLoc(), "gptq: ") << message;
      if (outcome.ok) {
        result = std::move(outcome.weight);
        permutation = std::move(outcome.permutation);
      } else {
        emitWarning(op.getLoc(),
                    "gptq: every dampening failed; quantized by RTN");
        rtn = true;
      }
    }
    if (rtn) {
      result = quantizeRTN(*weight, n, k, spec);
      prefix = "rtn";
      ++byRTN;
    }
    // Permuted groups: the stored columns are in act-order, and so must be
    // the input (qopt-fold-input-permutations moves this into the producer
    // where it can).
    if (!permutation.empty() &&
        !llvm::equal(permutation, llvm::seq<int64_t>(0, k))) {
      OpBuilder b(op);
      Value input = op.getInput();
      auto type = cast<RankedTensorType>(input.getType());
      // qopt.permute needs the channel count in the type: an input typed
      // [..., ?] is cast to [..., K] around it.
      SmallVector<int64_t> shape(type.getShape());
      shape.back() = k;
      auto staticType = type.clone(shape);
      if (staticType != type)
        input = tensor::CastOp::create(b, op.getLoc(), staticType, input);
      Value permuted =
          PermuteOp::create(b, op.getLoc(), staticType, input, permutation);
      if (staticType != type)
        permuted = tensor::CastOp::create(b, op.getLoc(), type, permuted);
      op.getInputMutable().set(permuted);
      ++withPermutedInput;
    }
    replaceWithWeightOnlyLinear(
        op, buildWeightOnlyParameters(&getContext(), result, n, k, spec, prefix,
                                      name, settings.resourceThreshold));
    ++quantized;
  }

  for (Operation *op : consumed) {
    op->getResult(0).replaceAllUsesWith(op->getOperand(0));
    op->erase();
  }

  std::string kept;
  for (size_t i = 0; i < keptFP.size(); ++i) {
    if (i == 8) {
      kept += llvm::formatv(", ... {0} more", keptFP.size() - i).str();
      break;
    }
    kept += (i ? ", " : "") + keptFP[i];
  }
  // GPTQ's Hessians are those of linear layers' inputs: convolutions are
  // RTN's (qopt-quantize-weights-rtn), said per layer and in the summary.
  int64_t convs = remarkConvolutionsLeftFp32(
      getOperation(), "gptq",
      "gptq quantizes linear layers; qopt-quantize-weights-rtn quantizes "
      "convolutions");
  InFlightDiagnostic summary = emitRemark(rootLoc, "gptq: quantized ");
  summary << quantized << " layers (" << byRTN << " by RTN), left "
          << keptFP.size() << " fp32"
          << (kept.empty() ? std::string() : " (" + kept + ")");
  if (withPermutedInput)
    summary << "; " << withPermutedInput
            << " in act-order with a qopt.permute on their input";
  if (convs > 0)
    summary << "; left " << convs << " convolution" << (convs == 1 ? "" : "s")
            << " fp32";
}

} // namespace
