//===- Eval.cpp - qrun eval: per-capability regression gate ---------------===//
//
// Scores a baseline and a candidate artifact on every suite (DIR/*.jsonl) with
// exact match of the greedy continuation, plus perplexity on held-out prose,
// and fails the candidate when a suite's score drops by more than --max-drop
// relative to the baseline. docs/eval.md describes the file format, the
// metric, the table and the JSON.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/Eval.h"

#include "qopt/Runner/Common.h"
#include "qopt/Runner/Tensor.h"
#include "qopt/Runtime/qrt.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace qrun;

namespace {

const char *kEvalUsage =
    "usage: qrun eval --baseline ART --candidate ART --suites DIR\n"
    "    [--max-drop X] [--limit N] [--json OUT] [--threads N] [--batch B]\n"
    "    [--ppl-file FILE]";

/// Perplexity chunks hold at most this many tokens (the bundled model's
/// context; less when an artifact has a smaller static sequence length).
constexpr int64_t kPerplexityChunk = 1024;

/// A batch holds at most --batch sequences and, beyond one sequence, at most
/// this many tokens (rows x padded length). Batching pays for short
/// sequences, where one sequence leaves the kernels little work; for long
/// ones the attention's [batch, heads, seq, seq] scores outgrow the caches and
/// one sequence at a time is faster.
constexpr int64_t kMaxBatchTokens = 1024;

//===----------------------------------------------------------------------===//
// Suites: a small, strict JSON-line parser
//===----------------------------------------------------------------------===//

/// One eval case as token ids.
struct Case {
  std::vector<int64_t> prompt, answer;
  size_t line = 0;
  /// The tokens fed to the model: prompt + answer without its last token.
  int64_t length() const {
    return static_cast<int64_t>(prompt.size() + answer.size()) - 1;
  }
};

struct Suite {
  std::string name, path;
  std::vector<Case> cases;
  long long passed[2] = {0, 0};
  double seconds = 0;
};

/// Parses one line of a suite: a JSON object with "prompt" and "answer"
/// (strings; their UTF-8 bytes are the tokens) or "prompt_ids" and
/// "answer_ids" (arrays of non-negative integers). Other fields may hold any
/// JSON value and are skipped. Strict: one object, nothing after it.
class CaseParser {
public:
  explicit CaseParser(const std::string &text) : text(text) {}

  /// Returns an error message, or "" on success.
  std::string parse(Case &out) {
    bool havePrompt = false, haveAnswer = false, havePromptIds = false,
         haveAnswerIds = false;
    std::vector<std::string> keys;
    skipSpace();
    if (!expect('{', "a JSON object"))
      return error;
    skipSpace();
    if (peek() == '}') {
      ++at;
    } else {
      while (true) {
        skipSpace();
        std::string key;
        if (peek() != '"')
          return fail("expected a key (a string)"), error;
        if (!parseString(key))
          return error;
        if (std::find(keys.begin(), keys.end(), key) != keys.end())
          return fail("duplicate key \"" + key + "\""), error;
        keys.push_back(key);
        skipSpace();
        if (!expect(':', "':' after a key"))
          return error;
        skipSpace();
        bool ok;
        if (key == "prompt" || key == "answer") {
          std::string value;
          if (peek() != '"')
            return fail("\"" + key + "\" must be a string"), error;
          ok = parseString(value);
          std::vector<int64_t> &ids = key == "prompt" ? out.prompt : out.answer;
          for (unsigned char c : value)
            ids.push_back(c);
          (key == "prompt" ? havePrompt : haveAnswer) = true;
        } else if (key == "prompt_ids" || key == "answer_ids") {
          ok = parseIds(key, key == "prompt_ids" ? out.prompt : out.answer);
          (key == "prompt_ids" ? havePromptIds : haveAnswerIds) = true;
        } else {
          ok = skipValue(0);
        }
        if (!ok)
          return error;
        skipSpace();
        if (peek() == ',') {
          ++at;
          continue;
        }
        if (!expect('}', "',' or '}' after a value"))
          return error;
        break;
      }
    }
    skipSpace();
    if (at != text.size())
      return fail("unexpected text after the object"), error;
    bool strings = havePrompt && haveAnswer && !havePromptIds && !haveAnswerIds;
    bool ids = havePromptIds && haveAnswerIds && !havePrompt && !haveAnswer;
    if (!strings && !ids)
      return "a case needs \"prompt\" and \"answer\" (strings) or "
             "\"prompt_ids\" and \"answer_ids\" (token ids), not both kinds";
    if (out.prompt.empty())
      return "empty prompt (the first answer token must follow a prompt "
             "token)";
    if (out.answer.empty())
      return "empty answer";
    return "";
  }

private:
  const std::string &text;
  size_t at = 0;
  std::string error;

  char peek() const { return at < text.size() ? text[at] : 0; }
  void skipSpace() {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t' ||
                                text[at] == '\r' || text[at] == '\n'))
      ++at;
  }
  bool fail(const std::string &message) {
    if (error.empty())
      error = message + " (column " + std::to_string(at + 1) + ")";
    return false;
  }
  bool expect(char c, const char *what) {
    if (peek() != c || at >= text.size())
      return fail(std::string("expected ") + what);
    ++at;
    return true;
  }

  bool parseHex4(unsigned &value) {
    value = 0;
    for (int i = 0; i < 4; ++i, ++at) {
      char c = peek();
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0)
        return fail("bad \\u escape (needs 4 hex digits)");
      value = value * 16 + static_cast<unsigned>(digit);
    }
    return true;
  }

  static void appendUtf8(unsigned code, std::string &out) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  /// A string starting at its opening quote; `out` gets its UTF-8 bytes.
  bool parseString(std::string &out) {
    ++at; // the opening quote
    while (true) {
      if (at >= text.size())
        return fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(text[at]);
      if (c == '"') {
        ++at;
        return true;
      }
      if (c < 0x20)
        return fail("control character in a string (escape it)");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++at;
        continue;
      }
      ++at;
      char e = peek();
      ++at;
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        unsigned code;
        if (!parseHex4(code))
          return false;
        if (code >= 0xDC00 && code <= 0xDFFF)
          return fail("unpaired low surrogate in a \\u escape");
        if (code >= 0xD800 && code <= 0xDBFF) {
          unsigned low;
          if (peek() != '\\' || at + 1 >= text.size() || text[at + 1] != 'u')
            return fail("unpaired high surrogate in a \\u escape");
          at += 2;
          if (!parseHex4(low))
            return false;
          if (low < 0xDC00 || low > 0xDFFF)
            return fail("unpaired high surrogate in a \\u escape");
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        appendUtf8(code, out);
        break;
      }
      default:
        --at;
        return fail("bad escape in a string");
      }
    }
  }

  /// A JSON number; `integer` tells whether it has no fraction or exponent.
  bool parseNumber(std::string &literal, bool &integer) {
    size_t start = at;
    integer = true;
    auto digits = [&] {
      size_t from = at;
      while (at < text.size() && text[at] >= '0' && text[at] <= '9')
        ++at;
      return at > from;
    };
    if (peek() == '-')
      ++at;
    if (peek() == '0')
      ++at;
    else if (!digits())
      return fail("bad number");
    if (peek() == '.') {
      ++at;
      integer = false;
      if (!digits())
        return fail("bad number (no digits after '.')");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++at;
      integer = false;
      if (peek() == '+' || peek() == '-')
        ++at;
      if (!digits())
        return fail("bad number (no digits in the exponent)");
    }
    literal = text.substr(start, at - start);
    return true;
  }

  bool parseIds(const std::string &key, std::vector<int64_t> &ids) {
    if (peek() != '[')
      return fail("\"" + key + "\" must be an array of token ids");
    ++at;
    skipSpace();
    if (peek() == ']') {
      ++at;
      return true;
    }
    while (true) {
      skipSpace();
      size_t start = at;
      std::string literal;
      bool integer;
      if (peek() != '-' && !(peek() >= '0' && peek() <= '9'))
        return fail("\"" + key + "\" must hold integers");
      if (!parseNumber(literal, integer))
        return false;
      long long value;
      if (!integer || !parseInt(literal, value)) {
        at = start;
        return fail("\"" + key + "\" holds " + literal +
                    ", not a token id (an integer)");
      }
      if (value < 0) {
        at = start;
        return fail("\"" + key + "\" holds the negative token id " + literal);
      }
      ids.push_back(value);
      skipSpace();
      if (peek() == ',') {
        ++at;
        continue;
      }
      return expect(']', "',' or ']' in an array");
    }
  }

  /// Any JSON value (checked, not kept).
  bool skipValue(int depth) {
    if (depth > 64)
      return fail("values nested too deeply");
    char c = peek();
    if (c == '"') {
      std::string ignored;
      return parseString(ignored);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      std::string literal;
      bool integer;
      return parseNumber(literal, integer);
    }
    for (const char *word : {"true", "false", "null"}) {
      size_t length = strlen(word);
      if (text.compare(at, length, word) == 0) {
        at += length;
        return true;
      }
    }
    if (c != '[' && c != '{')
      return fail("expected a JSON value");
    char close = c == '[' ? ']' : '}';
    ++at;
    skipSpace();
    if (peek() == close) {
      ++at;
      return true;
    }
    while (true) {
      skipSpace();
      if (close == '}') {
        std::string key;
        if (peek() != '"')
          return fail("expected a key (a string)");
        if (!parseString(key))
          return false;
        skipSpace();
        if (!expect(':', "':' after a key"))
          return false;
        skipSpace();
      }
      if (!skipValue(depth + 1))
        return false;
      skipSpace();
      if (peek() == ',') {
        ++at;
        continue;
      }
      return expect(close, close == ']' ? "',' or ']' in an array"
                                        : "',' or '}' in an object");
    }
  }
};

/// Reads the cases of `suite.path` (the first `limit` if limit > 0).
std::string readSuite(Suite &suite, long long limit) {
  std::string text;
  if (std::string error = readFile(suite.path, text); !error.empty())
    return error;
  size_t at = 0, lineNumber = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos)
      end = text.size();
    std::string line = text.substr(at, end - at);
    at = end + 1;
    ++lineNumber;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue; // blank lines (e.g. a trailing one) are allowed
    Case c;
    c.line = lineNumber;
    if (std::string error = CaseParser(line).parse(c); !error.empty())
      return suite.path + ":" + std::to_string(lineNumber) + ": " + error;
    // Every line is checked, but only the first `limit` cases are kept.
    if (limit <= 0 || static_cast<long long>(suite.cases.size()) < limit)
      suite.cases.push_back(std::move(c));
  }
  if (suite.cases.empty())
    return suite.path + ": no cases";
  return "";
}

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

/// An artifact that takes token ids [batch, seq] (int64) and returns logits
/// [batch, seq, vocab] (f32). -1 where a dimension is dynamic.
struct Model {
  std::string path;
  Loaded loaded;
  std::string input, output;
  int64_t batchDim = -1, seqDim = -1, vocab = -1;
  std::vector<int64_t> ids; // the bound input
};

std::string signatureText(const qrt_tensor &t) {
  std::string text = std::string(t.name) + " " + qrt_dtype_name(t.dtype) + " [";
  for (int i = 0; i < t.rank; ++i)
    text += (i ? ", " : "") +
            (t.shape[i] < 0 ? std::string("?") : std::to_string(t.shape[i]));
  return text + "]";
}

std::string loadModel(Model &model) {
  if (std::string error = model.loaded.load(model.path); !error.empty())
    return error;
  const qrt_artifact *artifact = model.loaded.artifact;
  int inputs = qrt_artifact_num_inputs(artifact);
  int outputs = qrt_artifact_num_outputs(artifact);
  qrt_tensor in{}, out{};
  bool fits = inputs == 1 && outputs == 1 &&
              qrt_artifact_input(artifact, 0, &in) == QRT_OK &&
              qrt_artifact_output(artifact, 0, &out) == QRT_OK &&
              in.dtype == QART_DTYPE_I64 && in.rank == 2 &&
              out.dtype == QART_DTYPE_F32 && out.rank == 3;
  if (!fits) {
    std::string have;
    for (int i = 0; i < inputs; ++i) {
      qrt_tensor t;
      if (qrt_artifact_input(artifact, i, &t) == QRT_OK)
        have += (have.empty() ? "" : ", ") + std::string("input ") +
                signatureText(t);
    }
    for (int i = 0; i < outputs; ++i) {
      qrt_tensor t;
      if (qrt_artifact_output(artifact, i, &t) == QRT_OK)
        have += (have.empty() ? "" : ", ") + std::string("output ") +
                signatureText(t);
    }
    return model.path +
           ": qrun eval needs one input of token ids (i64 [batch, seq]) and "
           "one output of logits (f32 [batch, seq, vocab]); the artifact has " +
           (have.empty() ? std::string("neither") : have);
  }
  model.input = in.name;
  model.output = out.name;
  model.batchDim = in.shape[0];
  model.seqDim = in.shape[1];
  model.vocab = out.shape[2];
  return "";
}

/// Logits of one run: [rows, cols, vocab], valid until the model's next run.
struct Logits {
  const float *data = nullptr;
  int64_t rows = 0, cols = 0, vocab = 0;
  const float *at(int64_t row, int64_t position) const {
    return data + (row * cols + position) * vocab;
  }
};

/// Runs `model` on `sequences`, right-padded with token 0 to the longest one
/// (or to the artifact's static sequence length) and, for a static batch
/// dimension, padded with rows of zeros.
std::string runModel(Model &model,
                     const std::vector<const std::vector<int64_t> *> &sequences,
                     Logits &logits) {
  int64_t rows = static_cast<int64_t>(sequences.size()), cols = 0;
  for (const std::vector<int64_t> *sequence : sequences)
    cols = std::max(cols, static_cast<int64_t>(sequence->size()));
  if (model.batchDim > 0)
    rows = model.batchDim;
  if (model.seqDim > 0)
    cols = model.seqDim;
  int64_t count;
  if (__builtin_mul_overflow(rows, cols, &count))
    return model.path + ": token ids [" + std::to_string(rows) + ", " +
           std::to_string(cols) + "] are too many";
  model.ids.assign(static_cast<size_t>(count), 0);
  for (size_t r = 0; r < sequences.size(); ++r)
    std::copy(sequences[r]->begin(), sequences[r]->end(),
              model.ids.begin() + static_cast<int64_t>(r) * cols);
  int64_t shape[2] = {rows, cols};
  qrt_tensor out;
  if (qrt_session_set_input(model.loaded.session, model.input.c_str(),
                            QART_DTYPE_I64, 2, shape,
                            model.ids.data()) != QRT_OK ||
      qrt_session_run(model.loaded.session) != QRT_OK ||
      qrt_session_get_output(model.loaded.session, model.output.c_str(),
                             &out) != QRT_OK)
    return model.path + ": " + qrt_last_error();
  if (out.dtype != QART_DTYPE_F32 || out.rank != 3 || out.shape[0] != rows ||
      out.shape[1] != cols || out.shape[2] <= 0 ||
      (model.vocab > 0 && out.shape[2] != model.vocab))
    return model.path + ": the logits have shape [" +
           std::to_string(out.shape[0]) + ", " + std::to_string(out.shape[1]) +
           ", " + std::to_string(out.shape[2]) + "] for input ids [" +
           std::to_string(rows) + ", " + std::to_string(cols) + "]";
  logits.data = static_cast<const float *>(out.data);
  logits.rows = rows;
  logits.cols = cols;
  logits.vocab = out.shape[2];
  return "";
}

/// The greedy choice: the first index of the largest logit (ties go to the
/// lowest id, NaN never wins).
int64_t argmax(const float *logits, int64_t vocab) {
  int64_t best = 0;
  float bestValue = -INFINITY;
  for (int64_t k = 0; k < vocab; ++k)
    if (logits[k] > bestValue) {
      bestValue = logits[k];
      best = k;
    }
  return best;
}

/// -log softmax(logits)[target], in double, stable (max subtracted).
double negativeLogLikelihood(const float *logits, int64_t vocab,
                             int64_t target) {
  double maximum = -INFINITY;
  for (int64_t k = 0; k < vocab; ++k)
    maximum = std::max(maximum, static_cast<double>(logits[k]));
  if (!std::isfinite(maximum))
    return NAN;
  double sum = 0;
  for (int64_t k = 0; k < vocab; ++k)
    sum += std::exp(static_cast<double>(logits[k]) - maximum);
  return maximum + std::log(sum) - static_cast<double>(logits[target]);
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

/// (candidate - baseline) / baseline; 0 when both are 0, +inf when only the
/// baseline is.
double relativeDelta(double baseline, double candidate) {
  if (baseline == 0)
    return candidate == 0 ? 0 : INFINITY;
  return (candidate - baseline) / baseline;
}

/// Whether a relative change passes the gate. Scores are fractions k/n, so a
/// drop of exactly --max-drop may come out a rounding error beyond it.
bool withinDrop(double delta, double maxDrop) {
  return !(delta < -maxDrop - 1e-12);
}

std::string percent(double delta) {
  if (std::isinf(delta))
    return delta > 0 ? "+inf" : "-inf";
  if (std::isnan(delta))
    return "nan";
  char buffer[32];
  snprintf(buffer, sizeof(buffer), "%+.2f%%", delta * 100);
  return buffer;
}

class Progress {
public:
  Progress() : enabled(isatty(2)) {}
  void start(const std::string &what, size_t total) {
    label = what;
    this->total = total;
    begin = nowMs();
    update(0);
  }
  void update(size_t done) {
    if (!enabled)
      return;
    double seconds = (nowMs() - begin) / 1000;
    fprintf(stderr, "\r%s: %zu/%zu", label.c_str(), done, total);
    if (done && seconds > 0)
      fprintf(stderr, ", %.1f/s", static_cast<double>(done) / seconds);
    fprintf(stderr, "\033[K");
    fflush(stderr);
  }
  void clear() {
    if (enabled)
      fprintf(stderr, "\r\033[K");
  }

private:
  bool enabled;
  std::string label;
  size_t total = 0;
  double begin = 0;
};

std::string writeFileAtomically(const std::string &path,
                                const std::string &text) {
  std::string tmp = path + ".tmp";
  FILE *file = fopen(tmp.c_str(), "w");
  if (!file || fwrite(text.data(), 1, text.size(), file) != text.size() ||
      fclose(file) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    remove(tmp.c_str());
    return "cannot write '" + path + "': " + strerror(saved);
  }
  return "";
}

std::string baseName(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

//===----------------------------------------------------------------------===//
// qrun eval
//===----------------------------------------------------------------------===//

int qrun::evalCommand(int argc, char **argv) {
  std::string baselinePath, candidatePath, suitesDir, maxDropText = "0.03",
                                                      jsonPath, pplPath;
  long long limit = 0, threads = 0, batch = 8;
  ArgParser args;
  args.strings = {
      {"--baseline", &baselinePath}, {"--candidate", &candidatePath},
      {"--suites", &suitesDir},      {"--max-drop", &maxDropText},
      {"--json", &jsonPath},         {"--ppl-file", &pplPath}};
  args.ints = {{"--limit", &limit, 1},
               {"--threads", &threads, 0},
               {"--batch", &batch, 1}};
  if (std::string error = args.parse(argc, argv); !error.empty())
    return usageError(error + "\n" + kEvalUsage);
  const std::pair<const std::string *, const char *> required[] = {
      {&baselinePath, "--baseline"},
      {&candidatePath, "--candidate"},
      {&suitesDir, "--suites"}};
  for (const auto &[value, flag] : required)
    if (value->empty())
      return usageError(std::string(flag) + " is required\n" + kEvalUsage);
  char *end = nullptr;
  double maxDrop = strtod(maxDropText.c_str(), &end);
  if (maxDropText.empty() || *end != 0 || !std::isfinite(maxDrop) ||
      maxDrop < 0)
    return usageError("--max-drop takes a relative drop >= 0 (0.03 = 3%), "
                      "got '" +
                      maxDropText + "'");

  // Every suite is read and checked before anything runs.
  std::vector<Suite> suites;
  {
    DIR *dir = opendir(suitesDir.c_str());
    if (!dir)
      return usageError("cannot read the suites directory '" + suitesDir +
                        "': " + strerror(errno));
    std::vector<std::string> names;
    while (dirent *entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name.size() > 6 && name.compare(name.size() - 6, 6, ".jsonl") == 0)
        names.push_back(name);
    }
    closedir(dir);
    std::sort(names.begin(), names.end());
    if (names.empty())
      return usageError("no suites (*.jsonl) in '" + suitesDir + "'");
    for (const std::string &name : names) {
      Suite suite;
      suite.name = name.substr(0, name.size() - 6);
      suite.path = suitesDir + "/" + name;
      if (std::string error = readSuite(suite, limit); !error.empty())
        return usageError(error);
      suites.push_back(std::move(suite));
    }
  }
  std::string pplText;
  if (pplPath.empty()) {
    struct stat info;
    std::string fallback = suitesDir + "/prose_heldout.txt";
    if (stat(fallback.c_str(), &info) == 0 && S_ISREG(info.st_mode))
      pplPath = fallback;
  }
  if (!pplPath.empty()) {
    if (std::string error = readFile(pplPath, pplText); !error.empty())
      return usageError(error);
    if (pplText.size() < 2)
      return usageError(pplPath + ": needs at least 2 bytes for perplexity");
  }

  qrt_set_num_threads(static_cast<int>(threads));
  Model models[2];
  models[0].path = baselinePath;
  models[1].path = candidatePath;
  for (Model &model : models)
    if (std::string error = loadModel(model); !error.empty())
      return usageError(error);

  // What both artifacts accept: the fixed sequence length, if any, bounds
  // every case; a fixed batch dimension bounds the rows of a batch.
  int64_t maxLength = INT64_MAX, maxRows = batch, vocab = -1;
  for (const Model &model : models) {
    if (model.seqDim > 0)
      maxLength = std::min(maxLength, model.seqDim);
    if (model.batchDim > 0)
      maxRows = std::min(maxRows, model.batchDim);
    if (model.vocab > 0) {
      if (vocab > 0 && vocab != model.vocab)
        return usageError("the baseline has a vocabulary of " +
                          std::to_string(vocab) + " tokens, the candidate " +
                          std::to_string(model.vocab));
      vocab = model.vocab;
    }
  }
  // A case whose token ids lie outside the vocabulary; checked again against
  // the logits when the vocabulary is dynamic.
  auto badToken = [&](const Suite &suite, const Case &c, int64_t vocab) {
    for (const std::vector<int64_t> *ids : {&c.prompt, &c.answer})
      for (int64_t id : *ids)
        if (id >= vocab)
          return suite.path + ":" + std::to_string(c.line) + ": token id " +
                 std::to_string(id) + " is outside the model's vocabulary (" +
                 std::to_string(vocab) + " tokens)";
    return std::string();
  };
  for (const Suite &suite : suites)
    for (const Case &c : suite.cases) {
      if (c.length() > maxLength)
        return usageError(
            suite.path + ":" + std::to_string(c.line) +
            ": prompt + answer is " + std::to_string(c.length() + 1) +
            " tokens; the artifacts take at most " + std::to_string(maxLength) +
            " (+1 for the last "
            "answer token)");
      if (vocab > 0)
        if (std::string error = badToken(suite, c, vocab); !error.empty())
          return usageError(error);
    }
  if (vocab > 0 && vocab < 256 && !pplText.empty())
    return usageError(pplPath +
                      ": perplexity is measured on bytes, and the "
                      "model has only " +
                      std::to_string(vocab) + " tokens");

  double start = nowMs();
  Progress progress;
  size_t nameWidth = 5;
  for (const Suite &suite : suites)
    nameWidth = std::max(nameWidth, suite.name.size());
  printf("%-*s  %5s  %8s  %9s  %8s  %s\n", static_cast<int>(nameWidth), "suite",
         "n", "baseline", "candidate", "delta", "result");
  fflush(stdout);

  long long failedSuites = 0;
  std::string failedNames;
  std::vector<double> deltas;
  for (Suite &suite : suites) {
    double suiteStart = nowMs();
    // Shortest first, so that a batch's rows have similar lengths and little
    // padding (equal lengths keep the file's order).
    std::vector<size_t> order(suite.cases.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      int64_t lengthA = suite.cases[a].length(),
              lengthB = suite.cases[b].length();
      return lengthA != lengthB ? lengthA < lengthB : a < b;
    });
    // The fed tokens of each case: prompt + answer without its last token.
    std::vector<std::vector<int64_t>> fed(suite.cases.size());
    for (size_t i = 0; i < fed.size(); ++i) {
      const Case &c = suite.cases[i];
      fed[i] = c.prompt;
      fed[i].insert(fed[i].end(), c.answer.begin(), c.answer.end() - 1);
    }
    progress.start(suite.name, order.size());
    for (size_t first = 0; first < order.size();) {
      // Sorted by length, so the last row is the longest.
      size_t last = first + 1;
      while (last < order.size() &&
             static_cast<int64_t>(last - first) < maxRows &&
             static_cast<int64_t>(last - first + 1) *
                     suite.cases[order[last]].length() <=
                 kMaxBatchTokens)
        ++last;
      std::vector<const std::vector<int64_t> *> sequences;
      for (size_t k = first; k < last; ++k)
        sequences.push_back(&fed[order[k]]);
      // Rows are padded on the right with token 0. The model is causal: the
      // logits at position t depend only on tokens 0..t of their own row, and
      // padding lies after every position that is scored, so it changes
      // nothing that is read below.
      for (int m = 0; m < 2; ++m) {
        Logits logits;
        if (std::string error = runModel(models[m], sequences, logits);
            !error.empty()) {
          progress.clear();
          return usageError(error);
        }
        // Teacher forcing: the case passes iff, at every answer position, the
        // argmax of the logits one position earlier is the answer token. This
        // is exactly greedy decoding of len(answer) tokens compared with the
        // answer: while every argmax matches, greedy decoding has produced
        // the answer's prefix, so its next input is the teacher-forced one;
        // at the first mismatch greedy decoding emits a wrong token and the
        // case fails either way.
        for (size_t k = first; k < last; ++k) {
          const Case &c = suite.cases[order[k]];
          if (vocab <= 0)
            if (std::string error = badToken(suite, c, logits.vocab);
                !error.empty()) {
              progress.clear();
              return usageError(error);
            }
          int64_t row = static_cast<int64_t>(k - first);
          int64_t position = static_cast<int64_t>(c.prompt.size()) - 1;
          bool pass = true;
          for (size_t i = 0; pass && i < c.answer.size(); ++i, ++position)
            pass =
                argmax(logits.at(row, position), logits.vocab) == c.answer[i];
          suite.passed[m] += pass;
        }
      }
      first = last;
      progress.update(first);
    }
    progress.clear();
    suite.seconds = (nowMs() - suiteStart) / 1000;
    double n = static_cast<double>(suite.cases.size());
    double b = static_cast<double>(suite.passed[0]) / n;
    double c = static_cast<double>(suite.passed[1]) / n;
    double delta = relativeDelta(b, c);
    bool pass = withinDrop(delta, maxDrop);
    deltas.push_back(delta);
    if (!pass) {
      ++failedSuites;
      failedNames += (failedNames.empty() ? "" : ", ") + suite.name;
    }
    printf("%-*s  %5zu  %8.3f  %9.3f  %8s  %s\n", static_cast<int>(nameWidth),
           suite.name.c_str(), suite.cases.size(), b, c, percent(delta).c_str(),
           pass ? "PASS" : "FAIL");
    fflush(stdout);
  }

  // Perplexity: consecutive chunks of at most kPerplexityChunk bytes, each
  // run as one sequence; every byte but the first of a chunk is predicted.
  double perplexity[2] = {NAN, NAN};
  if (!pplText.empty()) {
    int64_t chunkSize = std::min(kPerplexityChunk, maxLength);
    std::vector<std::vector<int64_t>> chunks;
    for (size_t at = 0; at + 1 < pplText.size();
         at += static_cast<size_t>(chunkSize)) {
      size_t length =
          std::min(pplText.size() - at, static_cast<size_t>(chunkSize));
      if (length < 2)
        break;
      std::vector<int64_t> chunk;
      for (size_t i = 0; i < length; ++i)
        chunk.push_back(static_cast<unsigned char>(pplText[at + i]));
      chunks.push_back(std::move(chunk));
    }
    double total[2] = {0, 0};
    size_t predicted = 0;
    progress.start("perplexity", chunks.size());
    for (size_t k = 0; k < chunks.size(); ++k) {
      const std::vector<int64_t> &chunk = chunks[k];
      for (int m = 0; m < 2; ++m) {
        Logits logits;
        if (std::string error = runModel(models[m], {&chunk}, logits);
            !error.empty()) {
          progress.clear();
          return usageError(error);
        }
        if (logits.vocab < 256) {
          progress.clear();
          return usageError(pplPath +
                            ": perplexity is measured on bytes, "
                            "and the model has only " +
                            std::to_string(logits.vocab) + " tokens");
        }
        for (size_t t = 1; t < chunk.size(); ++t)
          total[m] += negativeLogLikelihood(logits.at(0, t - 1), logits.vocab,
                                            chunk[t]);
      }
      predicted += chunk.size() - 1;
      progress.update(k + 1);
    }
    progress.clear();
    for (int m = 0; m < 2; ++m)
      perplexity[m] = std::exp(total[m] / static_cast<double>(predicted));
    printf("perplexity (%s)  baseline %.4f  candidate %.4f  delta %s\n",
           baseName(pplPath).c_str(), perplexity[0], perplexity[1],
           percent(relativeDelta(perplexity[0], perplexity[1])).c_str());
  }

  char dropText[32];
  snprintf(dropText, sizeof(dropText), "%g%%", maxDrop * 100);
  if (failedSuites == 0)
    printf("PASS: every suite within a relative drop of %s of the baseline\n",
           dropText);
  else
    printf("FAIL: %lld of %zu suites dropped by more than %s relative to the "
           "baseline (%s)\n",
           failedSuites, suites.size(), dropText, failedNames.c_str());
  fflush(stdout);
  size_t cases = 0;
  for (const Suite &suite : suites)
    cases += suite.cases.size();
  fprintf(stderr, "qrun eval: %zu cases x 2 artifacts in %.1f s (%d threads)\n",
          cases, (nowMs() - start) / 1000, qrt_get_num_threads());

  if (!jsonPath.empty()) {
    std::string out = "{\"baseline\": " + jsonString(baselinePath) +
                      ", \"candidate\": " + jsonString(candidatePath) +
                      ", \"max_drop\": " + jsonNumber(maxDrop) +
                      ", \"passed\": " + (failedSuites ? "false" : "true") +
                      ",\n \"suites\": {";
    for (size_t s = 0; s < suites.size(); ++s) {
      const Suite &suite = suites[s];
      double n = static_cast<double>(suite.cases.size());
      out += (s ? ",\n  " : "\n  ") + jsonString(suite.name) +
             ": {\"metric\": \"exact_match\", \"n\": " +
             std::to_string(suite.cases.size()) +
             ", \"baseline\": " + jsonNumber(suite.passed[0] / n) +
             ", \"candidate\": " + jsonNumber(suite.passed[1] / n) +
             ", \"delta\": " + jsonNumber(deltas[s]) + ", \"passed\": " +
             (withinDrop(deltas[s], maxDrop) ? "true" : "false") + "}";
    }
    out += "},\n \"perplexity\": ";
    if (pplText.empty())
      out += "null";
    else
      out += "{\"baseline\": " + jsonNumber(perplexity[0]) +
             ", \"candidate\": " + jsonNumber(perplexity[1]) + "}";
    out += "}\n";
    if (std::string error = writeFileAtomically(jsonPath, out); !error.empty())
      return usageError(error);
  }
  return failedSuites ? 1 : 0;
}
