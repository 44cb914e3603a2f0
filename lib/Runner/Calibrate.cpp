//===- Calibrate.cpp - running a calibration build over data --------------===//
//
// The model's code does the observing (qrt_observe, inside libqrt); this
// file only feeds it batches and turns the session's statistics into a file.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/Calibrate.h"

#include "qopt/Runner/Common.h"
#include "qopt/Runner/Eval.h"
#include "qopt/Runner/Tensor.h"

#include <algorithm>
#include <numeric>

using namespace qrun;
using namespace qrun::calibrate;

static const char *kindName(int32_t kind) {
  static const char *const names[] = {"min_max",   "percentile", "mse",
                                      "histogram", "abs_max",    "hessian"};
  return kind >= 0 && kind < 6 ? names[kind] : "?";
}

static bool endsWith(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string calibrate::collect(qrt_session *session, qstats::StatsFile &out) {
  out.points.clear();
  int count = qrt_session_num_observations(session);
  for (int i = 0; i < count; ++i) {
    qrt_observation o;
    if (qrt_session_observation(session, i, &o) != QRT_OK)
      return qrt_last_error();
    std::string point = std::string("observation point '") + o.name + "' (" +
                        kindName(o.kind) + ")";
    if (o.samples == 0)
      return point + " saw no samples: the calibration set never reached it";
    if (o.nonfinite > 0)
      return point + " saw " + std::to_string(o.nonfinite) +
             " NaN or infinite values among " + std::to_string(o.elements) +
             "; ranges around them would give NaN scales (check the "
             "calibration data and the model)";
    qstats::PointStats p;
    p.name = o.name;
    p.kind = o.kind;
    p.axis = o.axis;
    p.bins = o.bins;
    p.percentile = o.percentile;
    p.samples = o.samples;
    p.elements = o.elements;
    p.nonfinite = o.nonfinite;
    if (o.min) {
      p.min.assign(o.min, o.min + o.channels);
      p.max.assign(o.max, o.max + o.channels);
      p.absmax.assign(o.absmax, o.absmax + o.channels);
    }
    p.hessianK = o.hessian_k;
    if (o.hessian)
      p.hessian.assign(o.hessian, o.hessian + o.hessian_k * o.hessian_k);
    if (o.histogram) {
      p.histogram.assign(o.histogram, o.histogram + o.histogram_bins);
      p.histogramRange = o.histogram_range;
    }
    out.points.push_back(std::move(p));
  }
  return "";
}

/// Token ids of an eval suite through a language model.
static std::string runSuite(const Options &options, Result &out,
                            qrt_session *&session, eval::LanguageModel &model) {
  eval::Suite suite;
  if (std::string error = eval::readSuite(options.data, options.limit, suite);
      !error.empty())
    return error;
  if (suite.cases.empty())
    return options.data + ": the calibration set is empty";
  if (std::string error = model.load(options.artifact); !error.empty())
    return error;
  session = model.loaded.session;
  std::vector<std::vector<int64_t>> sequences;
  for (const eval::Case &c : suite.cases) {
    std::vector<int64_t> tokens = c.prompt;
    tokens.insert(tokens.end(), c.answer.begin(), c.answer.end());
    if (model.seqDim > 0 && static_cast<int64_t>(tokens.size()) > model.seqDim)
      return suite.path + ":" + std::to_string(c.line) + ": " +
             std::to_string(tokens.size()) +
             " tokens; the artifact takes at most " +
             std::to_string(model.seqDim);
    if (model.vocab > 0)
      for (int64_t id : tokens)
        if (id >= model.vocab)
          return suite.path + ":" + std::to_string(c.line) + ": token id " +
                 std::to_string(id) + " is outside the vocabulary of " +
                 std::to_string(model.vocab);
    sequences.push_back(std::move(tokens));
  }
  // Equal lengths per batch: padding would be observed as if it were data.
  std::vector<size_t> order(sequences.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::make_pair(sequences[a].size(), a) <
           std::make_pair(sequences[b].size(), b);
  });
  int64_t rows = std::max<int64_t>(1, options.batch);
  if (model.batchDim > 0)
    rows = std::min(rows, model.batchDim);
  for (size_t first = 0; first < order.size();) {
    std::vector<const std::vector<int64_t> *> batch;
    size_t length = sequences[order[first]].size();
    while (first < order.size() && static_cast<int64_t>(batch.size()) < rows &&
           sequences[order[first]].size() == length) {
      batch.push_back(&sequences[order[first]]);
      ++first;
    }
    eval::Logits logits;
    double start = nowMs();
    if (std::string error = model.run(batch, logits); !error.empty())
      return error;
    out.seconds += (nowMs() - start) / 1000;
    out.samples += static_cast<int64_t>(batch.size());
    out.tokens += static_cast<int64_t>(batch.size() * length);
    ++out.runs;
    if (options.progress)
      options.progress(first, order.size());
  }
  return "";
}

/// Rows of a tensor through an artifact with one input.
static std::string runTensor(const Options &options, Result &out,
                             Loaded &loaded) {
  Tensor data;
  if (std::string error = readNpy(options.data, data); !error.empty())
    return error;
  if (data.shape.empty())
    return options.data + ": a rank-0 tensor has no samples; the first "
                          "dimension counts the samples";
  int64_t samples = data.shape[0];
  if (options.limit > 0)
    samples = std::min(samples, options.limit);
  if (samples == 0)
    return options.data + ": the calibration set is empty (0 samples)";
  if (std::string error = loaded.load(options.artifact); !error.empty())
    return error;
  if (qrt_artifact_num_inputs(loaded.artifact) != 1)
    return options.artifact +
           ": .npy calibration data feeds an artifact "
           "with one input; this one has " +
           std::to_string(qrt_artifact_num_inputs(loaded.artifact));
  qrt_tensor input;
  qrt_artifact_input(loaded.artifact, 0, &input);
  size_t rowBytes = data.data.size() / static_cast<size_t>(data.shape[0]);
  int64_t rowElements = data.numElements() / data.shape[0];
  int64_t inner = data.shape.size() > 1 ? data.shape.back() : 1;
  bool ids = qrt_dtype_is_integer(data.dtype);
  int64_t batch = std::max<int64_t>(1, options.batch);
  if (input.rank > 0 && input.shape[0] > 0)
    batch = input.shape[0];
  std::vector<int64_t> shape = data.shape;
  for (int64_t first = 0; first < samples; first += batch) {
    int64_t count = std::min(batch, samples - first);
    shape[0] = count;
    double start = nowMs();
    if (qrt_session_set_input(loaded.session, input.name, data.dtype,
                              static_cast<int32_t>(shape.size()), shape.data(),
                              data.data.data() + first * rowBytes) != QRT_OK ||
        qrt_session_run(loaded.session) != QRT_OK)
      return options.artifact + ": samples " + std::to_string(first) + ".." +
             std::to_string(first + count - 1) + " of " + options.data + ": " +
             qrt_last_error();
    out.seconds += (nowMs() - start) / 1000;
    out.samples += count;
    out.tokens += ids ? count * rowElements : count * rowElements / inner;
    ++out.runs;
    if (options.progress)
      options.progress(static_cast<size_t>(first + count),
                       static_cast<size_t>(samples));
  }
  return "";
}

std::string calibrate::run(const Options &options, Result &out) {
  out = Result();
  qrt_session *session = nullptr;
  eval::LanguageModel model;
  Loaded loaded;
  std::string error;
  if (endsWith(options.data, ".jsonl"))
    error = runSuite(options, out, session, model);
  else if (endsWith(options.data, ".npy")) {
    error = runTensor(options, out, loaded);
    session = loaded.session;
  } else
    return options.data + ": calibration data must be an eval suite "
                          "(.jsonl) or a tensor (.npy)";
  if (!error.empty())
    return error;
  return collect(session, out.stats);
}
