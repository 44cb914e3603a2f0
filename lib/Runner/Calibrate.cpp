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
#include <cmath>
#include <dirent.h>
#include <numeric>
#include <sys/stat.h>

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

bool calibrate::parseByteSize(const std::string &text, int64_t &bytes) {
  size_t digits = 0;
  while (digits < text.size() &&
         isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  if (digits == 0 || digits > 18)
    return false;
  int64_t value = std::stoll(text.substr(0, digits));
  std::string suffix = text.substr(digits);
  for (char &c : suffix)
    c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  if (suffix.size() == 2 && suffix[1] == 'B')
    suffix.pop_back();
  int shift = 0;
  if (suffix == "K")
    shift = 10;
  else if (suffix == "M")
    shift = 20;
  else if (suffix == "G")
    shift = 30;
  else if (suffix == "T")
    shift = 40;
  else if (!suffix.empty() && suffix != "B")
    return false;
  if (value > (INT64_MAX >> shift))
    return false;
  bytes = value << shift;
  return true;
}

namespace {

/// Sizes batches to `Options::maxMemory` from the peaks runs measure.
class MemoryBudget {
public:
  explicit MemoryBudget(int64_t budget) : budget(budget) {}

  /// Samples for the next run, at most `want`, whose samples have `size`
  /// elements (tokens of a sequence).
  int64_t rows(int64_t size, int64_t want) {
    if (budget <= 0 || want <= 1)
      return want;
    if (measuredSize == 0)
      return 1; // the probe
    double perRow = measuredPerRow;
    if (size > measuredSize) {
      double ratio = static_cast<double>(size) / measuredSize;
      perRow *= ratio * ratio;
    }
    double fit = std::floor(static_cast<double>(budget) / perRow);
    return std::max<int64_t>(
        1, std::min<int64_t>(want, static_cast<int64_t>(
                                       std::min(fit, double(INT64_MAX / 2)))));
  }

  void beforeRun() { qrt_reset_peak_memory(); }

  void afterRun(int64_t rows, int64_t size, Result &out) {
    size_t peak = 0;
    qrt_memory_usage(nullptr, &peak, nullptr);
    out.peakBytes = std::max(out.peakBytes, static_cast<int64_t>(peak));
    out.maxRows = std::max(out.maxRows, rows);
    if (budget > 0 && rows == 1 && static_cast<int64_t>(peak) > budget)
      out.overBudget = true;
    // The largest size measured so far bounds the smaller ones.
    double perRow = static_cast<double>(peak) / static_cast<double>(rows);
    if (size > measuredSize)
      measuredSize = size, measuredPerRow = perRow;
    else if (size == measuredSize)
      measuredPerRow = std::max(measuredPerRow, perRow);
    measuredPerRow = std::max(measuredPerRow, 1.0);
  }

private:
  int64_t budget;
  int64_t measuredSize = 0;
  double measuredPerRow = 0;
};

} // namespace

/// Token ids of an eval suite through a language model.
static std::string runSuite(const Options &options, const std::string &path,
                            Result &out, qrt_session *&session,
                            eval::LanguageModel &model) {
  eval::Suite suite;
  if (std::string error = eval::readSuite(path, options.limit, suite);
      !error.empty())
    return error;
  if (suite.cases.empty())
    return path + ": the calibration set is empty";
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
  // Shortest first, so that the memory budget measures small runs before
  // it extrapolates to long ones.
  std::vector<size_t> order(sequences.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::make_pair(sequences[a].size(), a) <
           std::make_pair(sequences[b].size(), b);
  });
  int64_t rows = std::max<int64_t>(1, options.batch);
  if (model.batchDim > 0)
    rows = std::min(rows, model.batchDim);
  MemoryBudget budget(model.batchDim > 0 ? 0 : options.maxMemory);
  if (options.progress)
    options.progress(0, order.size());
  for (size_t first = 0; first < order.size();) {
    std::vector<const std::vector<int64_t> *> batch;
    size_t length = sequences[order[first]].size();
    int64_t size =
        model.seqDim > 0 ? model.seqDim : static_cast<int64_t>(length);
    int64_t want = budget.rows(size, rows);
    while (first < order.size() && static_cast<int64_t>(batch.size()) < want &&
           sequences[order[first]].size() == length) {
      batch.push_back(&sequences[order[first]]);
      ++first;
    }
    eval::Logits logits;
    double start = nowMs();
    budget.beforeRun();
    if (std::string error = model.run(batch, logits); !error.empty())
      return error;
    out.seconds += (nowMs() - start) / 1000;
    budget.afterRun(static_cast<int64_t>(batch.size()), size, out);
    out.samples += static_cast<int64_t>(batch.size());
    out.tokens += static_cast<int64_t>(batch.size() * length);
    ++out.runs;
    if (options.progress)
      options.progress(first, order.size());
  }
  return "";
}

namespace {

std::string shapeText(const int64_t *shape, size_t rank) {
  std::string text = "[";
  for (size_t i = 0; i < rank; ++i)
    text += (i ? ", " : "") +
            (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return text + "]";
}

/// The .npy files of one input of the artifact, read a batch at a time.
struct Feed {
  qrt_tensor info;
  std::string name;
  std::vector<NpyFile> files;
  /// Per file: whether its first dimension counts samples (else the file is
  /// one sample).
  std::vector<bool> batched;
  int64_t samples = 0;
  /// Whether any file was given (files leaves out those without samples).
  bool given = false;
  /// The next sample: file and row in it.
  size_t file = 0;
  int64_t row = 0;
  std::vector<char> buffer;
  std::vector<int64_t> shape;

  int64_t rowsOf(size_t i) const { return batched[i] ? files[i].rows() : 1; }
  /// The shape of one sample of file `i`.
  std::vector<int64_t> sampleShape(size_t i) const {
    const std::vector<int64_t> &s = files[i].header().shape;
    return batched[i] ? std::vector<int64_t>(s.begin() + 1, s.end()) : s;
  }
  /// Samples from the cursor on that have the cursor's shape, up to `most`.
  int64_t sameShapeRun(int64_t most) const {
    std::vector<int64_t> shape = sampleShape(file);
    int64_t run = 0;
    int64_t row0 = row;
    for (size_t i = file; i < files.size() && run < most; ++i, row0 = 0) {
      if (sampleShape(i) != shape)
        break;
      run += rowsOf(i) - row0;
    }
    return std::min(run, most);
  }
  /// Reads the next `count` samples into `buffer` and sets `shape`.
  std::string read(int64_t count) {
    buffer.clear();
    shape = sampleShape(file);
    shape.insert(shape.begin(), count);
    while (count > 0) {
      int64_t take = std::min(count, rowsOf(file) - row);
      // A one-sample file is read whole (its first dimension is the
      // sample's own).
      if (std::string error =
              batched[file]
                  ? files[file].readRows(row, take, buffer)
                  : files[file].readRows(0, files[file].rows(), buffer);
          !error.empty())
        return error;
      count -= take;
      row += take;
      if (row == rowsOf(file)) {
        files[file].close(); // one open file per input at a time
        ++file;
        row = 0;
      }
    }
    return "";
  }
};

bool isDirectory(const std::string &path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

/// The .npy files in `dir`, sorted by name.
std::string listNpy(const std::string &dir, std::vector<std::string> &out) {
  DIR *d = opendir(dir.c_str());
  if (!d)
    return "cannot read the directory '" + dir + "'";
  std::vector<std::string> names;
  while (dirent *entry = readdir(d)) {
    std::string name = entry->d_name;
    if (endsWith(name, ".npy") && name[0] != '.')
      names.push_back(name);
  }
  closedir(d);
  if (names.empty())
    return dir + ": the directory has no .npy files";
  std::sort(names.begin(), names.end());
  for (const std::string &name : names)
    out.push_back(dir + (endsWith(dir, "/") ? "" : "/") + name);
  return "";
}

/// Opens and checks `path` against the input `feed` feeds.
std::string addFile(Feed &feed, const std::string &path) {
  NpyFile file;
  if (std::string error = file.open(path); !error.empty())
    return error;
  const NpyHeader &h = file.header();
  const qrt_tensor &in = feed.info;
  bool sameDtype =
      h.dtype == in.dtype ||
      (qrt_dtype_is_integer(h.dtype) && qrt_dtype_is_integer(in.dtype) &&
       qrt_dtype_size(h.dtype) == qrt_dtype_size(in.dtype));
  std::string inputText = "input '" + feed.name + "' " +
                          qrt_dtype_name(in.dtype) + " " +
                          shapeText(in.shape, in.rank);
  if (!sameDtype)
    return path + ": dtype " + qrt_dtype_name(h.dtype) + ", but " + inputText +
           " takes " + qrt_dtype_name(in.dtype) + " (convert the file)";
  int64_t rank = static_cast<int64_t>(h.shape.size());
  bool batched;
  if (rank == in.rank && rank > 0)
    batched = true;
  else if (rank + 1 == in.rank)
    batched = false;
  else
    return path + ": shape " + shapeText(h.shape.data(), h.shape.size()) +
           " is neither one sample nor a batch of samples of " + inputText +
           " (rank " + std::to_string(in.rank - 1) + " or " +
           std::to_string(in.rank) + ")";
  // Static dimensions past the batch one must match.
  for (int64_t d = 1; d < in.rank; ++d) {
    int64_t got = h.shape[batched ? d : d - 1];
    if (in.shape[d] >= 0 && got != in.shape[d])
      return path + ": samples of shape " +
             shapeText(h.shape.data() + (batched ? 1 : 0),
                       h.shape.size() - (batched ? 1 : 0)) +
             ", but " + inputText + " takes " +
             shapeText(in.shape + 1, in.rank - 1);
  }
  file.close();
  feed.given = true;
  if (batched && file.rows() == 0)
    return ""; // no samples: nothing to read
  feed.batched.push_back(batched);
  feed.files.push_back(std::move(file));
  feed.samples += feed.rowsOf(feed.files.size() - 1);
  return "";
}

} // namespace

/// Samples of .npy tensors through an artifact, a batch at a time.
static std::string runTensors(const Options &options, Result &out,
                              Loaded &loaded) {
  if (std::string error = loaded.load(options.artifact); !error.empty())
    return error;
  int inputs = qrt_artifact_num_inputs(loaded.artifact);
  std::vector<Feed> feeds(inputs);
  std::string names;
  for (int i = 0; i < inputs; ++i) {
    qrt_artifact_input(loaded.artifact, i, &feeds[i].info);
    feeds[i].name = feeds[i].info.name;
    names += (i ? ", " : "") + feeds[i].name;
  }
  for (const std::string &entry : options.data) {
    // NAME=PATH when NAME is an input; otherwise the whole entry is a path.
    Feed *feed = nullptr;
    std::string path = entry;
    size_t eq = entry.find('=');
    if (eq != std::string::npos)
      for (Feed &f : feeds)
        if (f.name == entry.substr(0, eq)) {
          feed = &f;
          path = entry.substr(eq + 1);
        }
    if (!feed) {
      struct stat info;
      if (eq != std::string::npos && stat(entry.c_str(), &info) != 0)
        return options.artifact + " has no input '" + entry.substr(0, eq) +
               "' (inputs: " + names + ")";
      if (inputs != 1)
        return options.artifact + " has " + std::to_string(inputs) +
               " inputs (" + names + "): give each one's data as --data " +
               "NAME=FILE.npy (or NAME=DIR)";
      feed = &feeds[0];
    }
    std::vector<std::string> paths;
    if (isDirectory(path)) {
      if (std::string error = listNpy(path, paths); !error.empty())
        return error;
    } else if (endsWith(path, ".npy")) {
      paths.push_back(path);
    } else {
      return path + ": calibration data must be an eval suite (.jsonl), a "
                    "tensor (.npy) or a directory of .npy files";
    }
    for (const std::string &file : paths)
      if (std::string error = addFile(*feed, file); !error.empty())
        return error;
  }
  for (const Feed &feed : feeds)
    if (!feed.given)
      return options.artifact + ": input '" + feed.name +
             "' has no data; give it as --data " + feed.name + "=FILE.npy";
  for (const Feed &feed : feeds)
    if (feed.samples != feeds[0].samples)
      return "input '" + feeds[0].name + "' has " +
             std::to_string(feeds[0].samples) + " samples (" +
             std::to_string(feeds[0].files.size()) + " files), input '" +
             feed.name + "' " + std::to_string(feed.samples) + " (" +
             std::to_string(feed.files.size()) +
             " files): every input needs one sample per sample of the others";
  int64_t samples = feeds[0].samples;
  if (options.limit > 0)
    samples = std::min(samples, options.limit);
  if (samples == 0)
    return options.data.front() + ": the calibration set is empty (0 samples)";

  int64_t batch = std::max<int64_t>(1, options.batch);
  // An artifact with a static batch dimension takes exactly that many.
  bool staticBatch = false;
  for (const Feed &feed : feeds)
    if (feed.info.rank > 0 && feed.info.shape[0] > 0) {
      batch = feed.info.shape[0];
      staticBatch = true;
    }
  MemoryBudget budget(staticBatch ? 0 : options.maxMemory);
  // What counts as tokens: the elements of the first integer input (token
  // ids), else the rows of the first input (all but its last dimension).
  size_t counted = 0;
  for (size_t i = 0; i < feeds.size(); ++i)
    if (qrt_dtype_is_integer(feeds[i].info.dtype)) {
      counted = i;
      break;
    }
  bool ids = qrt_dtype_is_integer(feeds[counted].info.dtype);
  if (options.progress)
    options.progress(0, static_cast<size_t>(samples));
  for (int64_t first = 0; first < samples;) {
    // Elements of one sample, the size the memory budget scales with.
    int64_t size = 0;
    for (const Feed &feed : feeds) {
      int64_t elements = 1;
      for (int64_t d : feed.sampleShape(feed.file))
        elements *= std::max<int64_t>(d, 1);
      size += elements;
    }
    int64_t count = budget.rows(size, std::min(batch, samples - first));
    for (const Feed &feed : feeds)
      count = std::min(count, feed.sameShapeRun(count));
    for (Feed &feed : feeds) {
      std::string firstPath = feed.files[feed.file].path();
      if (std::string error = feed.read(count); !error.empty())
        return error;
      if (qrt_session_set_input(
              loaded.session, feed.name.c_str(), feed.info.dtype,
              static_cast<int32_t>(feed.shape.size()), feed.shape.data(),
              feed.buffer.data()) != QRT_OK)
        return options.artifact + ": samples " + std::to_string(first) + ".." +
               std::to_string(first + count - 1) + " of input '" + feed.name +
               "' (" + firstPath + "): " + qrt_last_error();
    }
    double start = nowMs();
    budget.beforeRun();
    if (qrt_session_run(loaded.session) != QRT_OK)
      return options.artifact + ": samples " + std::to_string(first) + ".." +
             std::to_string(first + count - 1) + ": " + qrt_last_error();
    out.seconds += (nowMs() - start) / 1000;
    budget.afterRun(count, size, out);
    const std::vector<int64_t> &shape = feeds[counted].shape;
    int64_t elements = 1;
    for (int64_t d : shape)
      elements *= d;
    int64_t inner = shape.size() > 1 ? shape.back() : 1;
    out.samples += count;
    out.tokens += ids ? elements : elements / std::max<int64_t>(inner, 1);
    ++out.runs;
    first += count;
    if (options.progress)
      options.progress(static_cast<size_t>(first),
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
  if (options.data.empty())
    return "no calibration data";
  if (std::string error = checkArtifactDevice(options.artifact, options.device);
      !error.empty())
    return error;
  if (options.data.size() == 1 && endsWith(options.data[0], ".jsonl")) {
    error = runSuite(options, options.data[0], out, session, model);
  } else {
    for (const std::string &entry : options.data)
      if (endsWith(entry, ".jsonl"))
        return entry + ": an eval suite (.jsonl) is the whole calibration "
                       "set; it does not mix with other --data";
    error = runTensors(options, out, loaded);
    session = loaded.session;
  }
  if (!error.empty())
    return error;
  return collect(session, out.stats);
}
