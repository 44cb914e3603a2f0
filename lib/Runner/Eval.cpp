//===- Eval.cpp - qrun eval: suites, scoring, gate and output -------------===//
//
// The library half of `qrun eval` (Eval.h): suites, the two models run side
// by side, per-case and per-token scores, the gate and the output formats.
// The statistics are in EvalStats.cpp, the command line in EvalCommand.cpp.
// docs/eval.md describes the formats, the metrics and the statistics.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/Eval.h"

#include "Json.h"
#include "qopt/Runner/EvalCache.h"
#include "qopt/Runner/Tensor.h"
#include "qopt/Runtime/qrt.h"

#include "Unicode.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <dlfcn.h>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

using namespace qrun;
using namespace qrun::eval;

namespace {

//===----------------------------------------------------------------------===//
// Suites: one JSON object per line, read by nlohmann/json
//===----------------------------------------------------------------------===//

/// `value` for a message, cut short when long.
std::string shortJson(const nlohmann::json &value) {
  std::string text =
      value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return text.size() <= 40 ? text : text.substr(0, 37) + "...";
}

/// nlohmann/json's "[json.exception.parse_error.101] parse error at line 1,
/// column 36: syntax error while parsing object key - unexpected '}';
/// expected string literal" as "syntax error while parsing object key -
/// unexpected '}'; expected string literal (column 36)".
std::string describeParseError(const nlohmann::json::parse_error &error) {
  std::string what = error.what();
  size_t colon = what.find(": ");
  if (colon != std::string::npos)
    what = what.substr(colon + 2);
  return what + " (column " + std::to_string(error.byte) + ")";
}

/// The bytes of the string field `key` as token ids.
std::string readTextField(const nlohmann::json &object, const char *key,
                          std::vector<int64_t> &ids) {
  const nlohmann::json &value = object.at(key);
  if (!value.is_string())
    return std::string("\"") + key + "\" must be a string, not " +
           shortJson(value);
  for (unsigned char c : value.get_ref<const std::string &>())
    ids.push_back(c);
  return "";
}

/// The array field `key` of non-negative integers as token ids.
std::string readIdsField(const nlohmann::json &object, const char *key,
                         std::vector<int64_t> &ids) {
  const nlohmann::json &value = object.at(key);
  std::string name = std::string("\"") + key + "\"";
  if (!value.is_array())
    return name + " must be an array of token ids, not " + shortJson(value);
  for (size_t i = 0; i < value.size(); ++i) {
    const nlohmann::json &id = value[i];
    std::string where = name + "[" + std::to_string(i) + "]";
    // Non-negative integers parse as unsigned, negative ones as signed;
    // anything with a fraction or an exponent as a double.
    if (id.is_number_unsigned() &&
        id.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX))
      ids.push_back(static_cast<int64_t>(id.get<uint64_t>()));
    else if (id.is_number_integer() && !id.is_number_unsigned() &&
             id.get<int64_t>() >= 0) // -0
      ids.push_back(id.get<int64_t>());
    else if (id.is_number_integer() && !id.is_number_unsigned())
      return where + " is the negative token id " + shortJson(id);
    else
      return where + " is " + shortJson(id) +
             ", not a token id (an integer from 0 to 2^63 - 1)";
  }
  return "";
}

std::string baseName(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

struct MetricInfo {
  Metric metric;
  const char *name;
};
constexpr MetricInfo kMetrics[kNumMetrics] = {
    {Metric::ExactMatch, "exact_match"},
    {Metric::TokenAccuracy, "token_accuracy"},
    {Metric::KLD, "kld"},
    {Metric::Top1Agreement, "top1_agreement"}};

} // namespace

//===----------------------------------------------------------------------===//
// Metrics and suites
//===----------------------------------------------------------------------===//

const char *eval::metricName(Metric metric) {
  return kMetrics[static_cast<int>(metric)].name;
}

bool eval::parseMetric(const std::string &name, Metric &metric) {
  for (const MetricInfo &info : kMetrics)
    if (name == info.name) {
      metric = info.metric;
      return true;
    }
  return false;
}

DeltaKind eval::metricDeltaKind(Metric metric) {
  return metric == Metric::KLD ? DeltaKind::Absolute : DeltaKind::Relative;
}

std::string eval::parseCase(const std::string &line, Case &out,
                            std::string &metric) {
  metric.clear();
  // nlohmann/json keeps the last of duplicate keys; a case must not have
  // any (which "prompt" would count?).
  std::vector<std::string> keys;
  std::string duplicate;
  auto checkKeys = [&](int depth, nlohmann::json::parse_event_t event,
                       nlohmann::json &parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 &&
        duplicate.empty()) {
      const std::string &key = parsed.get_ref<const std::string &>();
      if (std::find(keys.begin(), keys.end(), key) != keys.end())
        duplicate = key;
      keys.push_back(key);
    }
    return true;
  };
  nlohmann::json object;
  try {
    // Strict: exactly one JSON value (surrounding whitespace aside), in
    // UTF-8, no comments.
    object = nlohmann::json::parse(line, checkKeys);
  } catch (const nlohmann::json::parse_error &error) {
    return describeParseError(error);
  }
  if (!object.is_object())
    return "expected a JSON object, not " + shortJson(object);
  if (!duplicate.empty())
    return "duplicate key \"" + duplicate + "\"";
  // Other fields may hold anything and are ignored.
  bool havePrompt = object.contains("prompt"),
       haveAnswer = object.contains("answer"),
       havePromptIds = object.contains("prompt_ids"),
       haveAnswerIds = object.contains("answer_ids");
  std::string error;
  if (havePrompt && error.empty())
    error = readTextField(object, "prompt", out.prompt);
  if (haveAnswer && error.empty())
    error = readTextField(object, "answer", out.answer);
  if (havePromptIds && error.empty())
    error = readIdsField(object, "prompt_ids", out.prompt);
  if (haveAnswerIds && error.empty())
    error = readIdsField(object, "answer_ids", out.answer);
  if (object.contains("metric") && error.empty()) {
    const nlohmann::json &value = object.at("metric");
    if (value.is_string())
      metric = value.get<std::string>();
    else
      error = "\"metric\" must be a string, not " + shortJson(value);
  }
  if (!error.empty())
    return error;
  bool strings = havePrompt && haveAnswer && !havePromptIds && !haveAnswerIds;
  bool ids = havePromptIds && haveAnswerIds && !havePrompt && !haveAnswer;
  if (!strings && !ids)
    return "a case needs \"prompt\" and \"answer\" (strings) or "
           "\"prompt_ids\" and \"answer_ids\" (token ids), not both kinds";
  out.fromText = strings;
  if (strings) {
    // Kept for a tokenizer (TextEncoder::encodeCase); out.prompt and
    // out.answer hold their bytes until then.
    out.promptText = object.at("prompt").get<std::string>();
    out.answerText = object.at("answer").get<std::string>();
  }
  if (out.prompt.empty())
    return "empty prompt (the first answer token must follow a prompt "
           "token)";
  if (out.answer.empty())
    return "empty answer";
  return "";
}

std::string eval::readSuite(const std::string &path, long long limit,
                            Suite &suite, const TextEncoder *encoder) {
  suite = Suite();
  suite.path = path;
  suite.name = baseName(path);
  if (suite.name.size() > 6 &&
      suite.name.compare(suite.name.size() - 6, 6, ".jsonl") == 0)
    suite.name.resize(suite.name.size() - 6);
  std::string text;
  if (std::string error = readFile(path, text); !error.empty())
    return error;
  std::string firstMetric;
  size_t firstMetricLine = 0;
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
    std::string metric;
    std::string where = path + ":" + std::to_string(lineNumber) + ": ";
    if (std::string error = parseCase(line, c, metric); !error.empty())
      return where + error;
    if (c.fromText && encoder && encoder->tokenizer)
      if (std::string error = encoder->encodeCase(c); !error.empty())
        return where + error;
    if (!metric.empty()) {
      Metric parsed;
      if (!parseMetric(metric, parsed))
        return where + "unknown metric \"" + metric +
               "\" (exact_match, token_accuracy, kld or top1_agreement)";
      if (firstMetricLine == 0) {
        firstMetric = metric;
        firstMetricLine = lineNumber;
        suite.metric = parsed;
      } else if (metric != firstMetric) {
        // Mixing metrics would make the suite's score mean nothing.
        return where + "metric \"" + metric + "\" differs from \"" +
               firstMetric + "\" on line " + std::to_string(firstMetricLine) +
               " (one metric per suite)";
      }
    }
    // Every line is checked, but only the first `limit` cases are kept.
    if (limit <= 0 || static_cast<long long>(suite.cases.size()) < limit)
      suite.cases.push_back(std::move(c));
  }
  if (suite.cases.empty())
    return path + ": no cases";
  return "";
}

std::string eval::readSuites(const std::string &dir, long long limit,
                             std::vector<Suite> &out,
                             const TextEncoder *encoder) {
  out.clear();
  DIR *handle = opendir(dir.c_str());
  if (!handle)
    return "cannot read the suites directory '" + dir + "': " + strerror(errno);
  std::vector<std::string> names;
  while (dirent *entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (name.size() > 6 && name.compare(name.size() - 6, 6, ".jsonl") == 0)
      names.push_back(name);
  }
  closedir(handle);
  std::sort(names.begin(), names.end());
  if (names.empty())
    return "no suites (*.jsonl) in '" + dir + "'";
  for (const std::string &name : names) {
    out.emplace_back();
    if (std::string error =
            readSuite(dir + "/" + name, limit, out.back(), encoder);
        !error.empty())
      return error;
  }
  return "";
}

//===----------------------------------------------------------------------===//
// Tokenizing strings
//===----------------------------------------------------------------------===//

std::string TextEncoder::encodeText(const std::string &text,
                                    std::vector<int64_t> &ids) const {
  ids = bos;
  if (!tokenizer) {
    for (unsigned char c : text)
      ids.push_back(c);
    return "";
  }
  return tokenizer->encode(text, ids);
}

namespace {

bool startsWith(const std::vector<int64_t> &whole,
                const std::vector<int64_t> &prefix) {
  return prefix.size() <= whole.size() &&
         std::equal(prefix.begin(), prefix.end(), whole.begin());
}

/// The length of `text` without its trailing whitespace (White_Space).
size_t withoutTrailingSpace(const std::string &text) {
  size_t at = 0, end = 0;
  char32_t code;
  while (at < text.size()) {
    if (!unicode::decodeUtf8(text, at, code)) {
      ++at;
      end = at;
      continue;
    }
    if (!unicode::isWhiteSpace(code))
      end = at;
  }
  return end;
}

} // namespace

std::string TextEncoder::encodeCase(Case &c) const {
  if (!tokenizer) {
    c.prompt = bos;
    c.answer.clear();
    for (unsigned char b : c.promptText)
      c.prompt.push_back(b);
    for (unsigned char b : c.answerText)
      c.answer.push_back(b);
    return "";
  }
  std::string prompt = c.promptText, answer = c.answerText;
  std::vector<int64_t> promptIds, wholeIds;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (std::string error = encodeText(prompt, promptIds); !error.empty())
      return "prompt: " + error;
    if (std::string error = encodeText(prompt + answer, wholeIds);
        !error.empty())
      return "answer: " + error;
    if (startsWith(wholeIds, promptIds))
      break;
    size_t keep = withoutTrailingSpace(prompt);
    if (attempt == 1 || keep == prompt.size()) {
      // Name the token that spans the boundary.
      size_t common = 0;
      while (common < promptIds.size() && common < wholeIds.size() &&
             promptIds[common] == wholeIds[common])
        ++common;
      std::string spanning = common < wholeIds.size()
                                 ? tokenizer->decode({wholeIds[common]})
                                 : std::string();
      return "the tokens of the prompt are not a prefix of those of prompt + "
             "answer: the token " +
             dumpJson(Json(spanning)) +
             " spans the boundary; end the prompt where the tokenizer splits "
             "(e.g. before a space that starts the answer), or give "
             "prompt_ids and answer_ids";
    }
    // Tokenizers attach a space to the word after it: "Answer: " + "Paris"
    // is tokenized as "Answer:" + " Paris" (lm-evaluation-harness moves the
    // whitespace so too).
    answer = prompt.substr(keep) + answer;
    prompt.resize(keep);
  }
  if (promptIds.empty())
    return "the prompt has no tokens (the first answer token must follow a "
           "prompt token; --bos adds one)";
  if (wholeIds.size() == promptIds.size())
    return "the answer adds no tokens";
  c.prompt = promptIds;
  c.answer.assign(wholeIds.begin() +
                      static_cast<std::ptrdiff_t>(promptIds.size()),
                  wholeIds.end());
  return "";
}

//===----------------------------------------------------------------------===//
// Logits
//===----------------------------------------------------------------------===//

int64_t eval::argmax(const float *logits, int64_t vocab) {
  int64_t best = 0;
  float bestValue = -INFINITY;
  for (int64_t k = 0; k < vocab; ++k)
    if (logits[k] > bestValue) {
      bestValue = logits[k];
      best = k;
    }
  return best;
}

namespace {

/// log(sum_k exp(logits[k])) in double with the maximum subtracted; NaN
/// when no logit is finite or one is NaN.
double logSumExp(const float *logits, int64_t vocab) {
  double maximum = -INFINITY;
  for (int64_t k = 0; k < vocab; ++k)
    maximum = std::max(maximum, static_cast<double>(logits[k]));
  if (!std::isfinite(maximum))
    return NAN;
  double sum = 0;
  for (int64_t k = 0; k < vocab; ++k)
    sum += std::exp(static_cast<double>(logits[k]) - maximum);
  return maximum + std::log(sum);
}

} // namespace

double eval::negativeLogLikelihood(const float *logits, int64_t vocab,
                                   int64_t target) {
  return logSumExp(logits, vocab) - static_cast<double>(logits[target]);
}

double eval::klDivergence(const float *baseline, const float *candidate,
                          int64_t vocab) {
  double normP = logSumExp(baseline, vocab);
  double normQ = logSumExp(candidate, vocab);
  if (std::isnan(normP) || std::isnan(normQ))
    return NAN;
  double sum = 0;
  for (int64_t k = 0; k < vocab; ++k) {
    double logP = static_cast<double>(baseline[k]) - normP;
    double p = std::exp(logP);
    // 0 log 0 = 0, also where Q_k = 0 (which would give 0 * inf = NaN).
    if (p == 0)
      continue;
    sum += p * (logP - (static_cast<double>(candidate[k]) - normQ));
  }
  return sum;
}

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

namespace {

std::string signatureText(const qrt_tensor &t) {
  std::string text = std::string(t.name) + " " + qrt_dtype_name(t.dtype) + " [";
  for (int i = 0; i < t.rank; ++i)
    text += (i ? ", " : "") +
            (t.shape[i] < 0 ? std::string("?") : std::to_string(t.shape[i]));
  return text + "]";
}

std::string vocabularyMismatch(int64_t baseline, int64_t candidate) {
  return "the baseline has a vocabulary of " + std::to_string(baseline) +
         " tokens, the candidate " + std::to_string(candidate);
}

/// An error naming the first token id of `c` outside `vocab`, or "".
std::string badToken(const Suite &suite, const Case &c, int64_t vocab) {
  for (const std::vector<int64_t> *ids : {&c.prompt, &c.answer})
    for (int64_t id : *ids)
      if (id >= vocab)
        return suite.path + ":" + std::to_string(c.line) + ": token id " +
               std::to_string(id) + " is outside the model's vocabulary (" +
               std::to_string(vocab) + " tokens)";
  return "";
}

} // namespace

std::string LanguageModel::load(const std::string &path) {
  this->path = path;
  if (std::string error = loaded.load(path); !error.empty())
    return error;
  const qrt_artifact *artifact = loaded.artifact;
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
    return path +
           ": a language model (qrun eval, .jsonl calibration) needs one input "
           "of token ids (i64 [batch, seq]) and "
           "one output of logits (f32 [batch, seq, vocab]); the artifact has " +
           (have.empty() ? std::string("neither") : have);
  }
  input = in.name;
  output = out.name;
  batchDim = in.shape[0];
  seqDim = in.shape[1];
  vocab = out.shape[2];
  return "";
}

void LanguageModel::inputShape(
    const std::vector<const std::vector<int64_t> *> &sequences, int64_t &rows,
    int64_t &cols) const {
  rows = static_cast<int64_t>(sequences.size());
  cols = 0;
  for (const std::vector<int64_t> *sequence : sequences)
    cols = std::max(cols, static_cast<int64_t>(sequence->size()));
  if (batchDim > 0)
    rows = batchDim;
  if (seqDim > 0)
    cols = seqDim;
}

LanguageModel::~LanguageModel() {
  for (qrt_session *session : extra)
    qrt_session_free(session);
}

std::string LanguageModel::addSessions(size_t n) {
  while (extra.size() + 1 < n) {
    qrt_session *session = nullptr;
    if (qrt_session_create(loaded.artifact, &session) != QRT_OK)
      return path + ": " + qrt_last_error();
    extra.push_back(session);
  }
  ids.resize(std::max<size_t>(n, 1));
  return "";
}

std::string
LanguageModel::run(const std::vector<const std::vector<int64_t> *> &sequences,
                   Logits &logits, size_t sessionIndex) {
  qrt_session *session =
      sessionIndex == 0 ? loaded.session : extra[sessionIndex - 1];
  std::vector<int64_t> &bound = ids[sessionIndex];
  int64_t rows, cols;
  inputShape(sequences, rows, cols);
  int64_t count;
  if (__builtin_mul_overflow(rows, cols, &count))
    return path + ": token ids [" + std::to_string(rows) + ", " +
           std::to_string(cols) + "] are too many";
  bound.assign(static_cast<size_t>(count), 0);
  for (size_t r = 0; r < sequences.size(); ++r)
    std::copy(sequences[r]->begin(), sequences[r]->end(),
              bound.begin() + static_cast<int64_t>(r) * cols);
  int64_t shape[2] = {rows, cols};
  qrt_tensor out;
  if (qrt_session_set_input(session, input.c_str(), QART_DTYPE_I64, 2, shape,
                            bound.data()) != QRT_OK ||
      qrt_session_run(session) != QRT_OK ||
      qrt_session_get_output(session, output.c_str(), &out) != QRT_OK)
    return path + ": " + qrt_last_error();
  if (out.dtype != QART_DTYPE_F32 || out.rank != 3 || out.shape[0] != rows ||
      out.shape[1] != cols || out.shape[2] <= 0 ||
      (vocab > 0 && out.shape[2] != vocab))
    return path + ": the logits have shape [" + std::to_string(out.shape[0]) +
           ", " + std::to_string(out.shape[1]) + ", " +
           std::to_string(out.shape[2]) + "] for input ids [" +
           std::to_string(rows) + ", " + std::to_string(cols) + "]";
  logits.data = static_cast<const float *>(out.data);
  logits.rows = rows;
  logits.cols = cols;
  logits.vocab = out.shape[2];
  return "";
}

std::string ModelSet::load(const std::string &baseline,
                           const std::vector<std::string> &candidates,
                           int64_t batch, size_t workers) {
  models.clear();
  this->workers = std::max<size_t>(workers, 1);
  std::vector<std::string> paths = {baseline};
  paths.insert(paths.end(), candidates.begin(), candidates.end());
  for (const std::string &path : paths) {
    models.push_back(std::make_unique<LanguageModel>());
    if (std::string error = models.back()->load(path); !error.empty())
      return error;
    if (std::string error = models.back()->addSessions(this->workers);
        !error.empty())
      return error;
  }
  // What every artifact accepts: the fixed sequence length, if any, bounds
  // every sequence; a fixed batch dimension bounds the rows of a batch.
  maxLength = INT64_MAX;
  maxRows = std::max<int64_t>(batch, 1);
  vocab = -1;
  for (const std::unique_ptr<LanguageModel> &model : models) {
    if (model->seqDim > 0)
      maxLength = std::min(maxLength, model->seqDim);
    if (model->batchDim > 0)
      maxRows = std::min(maxRows, model->batchDim);
    if (model->vocab > 0) {
      if (vocab > 0 && vocab != model->vocab)
        return vocabularyMismatch(vocab, model->vocab);
      vocab = model->vocab;
    }
  }
  return "";
}

std::string eval::loadTextEncoder(const std::string &tokenizerPath,
                                  const std::string &bosText,
                                  std::unique_ptr<Tokenizer> &tokenizer,
                                  TextEncoder &encoder) {
  if (tokenizerPath.empty()) {
    if (!bosText.empty() && bosText != "auto" && bosText != "none")
      return "--bos " + bosText + " needs --tokenizer (bytes have no BOS)";
    return "";
  }
  if (std::string error = loadTokenizer(tokenizerPath, tokenizer);
      !error.empty())
    return error;
  encoder.tokenizer = tokenizer.get();
  if (bosText.empty() || bosText == "auto") {
    encoder.bos = tokenizer->prefix();
  } else if (bosText != "none") {
    int64_t id = tokenizer->tokenId(bosText);
    if (id < 0)
      return "--bos: " + tokenizerPath + " has no token '" + bosText + "'";
    encoder.bos = {id};
  }
  return "";
}

std::string eval::checkTokenizerVocabulary(const ModelSet &models,
                                           const Tokenizer *tokenizer,
                                           const std::string &tokenizerPath) {
  if (!tokenizer || models.vocab <= 0 || tokenizer->vocabSize() <= models.vocab)
    return "";
  return "the tokenizer " + tokenizerPath + " has " +
         std::to_string(tokenizer->vocabSize()) +
         " tokens, but the artifacts' logits only " +
         std::to_string(models.vocab) +
         ": the tokenizer does not belong to these models";
}

//===----------------------------------------------------------------------===//
// Running plans: the baseline once (or from the cache), then each candidate
//===----------------------------------------------------------------------===//

namespace {

/// Sequences to run through every model, in the order they run, grouped
/// into batches of consecutive sequences, and for each the positions whose
/// logits are scored.
struct Plan {
  /// "suite" or "text" (part of the cache key).
  std::string kind;
  /// The tokens fed.
  std::vector<std::vector<int64_t>> fed;
  /// What each sequence is (a case's or a chunk's index), for the scorer.
  std::vector<size_t> item;
  /// Scored positions [first, first + count) of each sequence.
  std::vector<int64_t> first, count;
  /// Where each batch ends (one past its last sequence).
  std::vector<size_t> batchEnd;
};

/// Scores sequence `s` of a plan for candidate `c`: `count[s]` rows of
/// `vocab` logits from the baseline and from the candidate.
using ScoreFn = std::function<void(size_t c, size_t s, const float *baseline,
                                   const float *candidate, int64_t vocab)>;
/// Checks sequence `s`'s token ids against the vocabulary of its logits
/// (only called when the vocabulary is dynamic); returns an error or "".
using CheckFn = std::function<std::string(size_t s, int64_t vocab)>;

/// The rows of batch [begin, end) of `plan`.
std::vector<const std::vector<int64_t> *> batchRows(const Plan &plan,
                                                    size_t begin, size_t end) {
  std::vector<const std::vector<int64_t> *> rows;
  for (size_t s = begin; s < end; ++s)
    rows.push_back(&plan.fed[s]);
  return rows;
}

/// The cache key of `plan` under `cache`: the shared part, then the exact
/// token ids the baseline is fed, batch by batch (padded as
/// LanguageModel::run pads them), and the positions kept of every row.
Digest planKey(const BaselineCache &cache, const LanguageModel &baseline,
               const Plan &plan) {
  Sha256 hash;
  hash.updateString("qrun eval baseline logits");
  hash.updateU64(kCacheVersion);
  hash.update(cache.modelKey().data(), cache.modelKey().size());
  hash.updateString(plan.kind);
  hash.updateU64(plan.batchEnd.size());
  std::vector<int64_t> padded;
  for (size_t b = 0, begin = 0; b < plan.batchEnd.size(); ++b) {
    size_t end = plan.batchEnd[b];
    int64_t rows, cols;
    baseline.inputShape(batchRows(plan, begin, end), rows, cols);
    hash.updateU64(static_cast<uint64_t>(rows));
    hash.updateU64(static_cast<uint64_t>(cols));
    for (size_t s = begin; s < end; ++s) {
      padded.assign(static_cast<size_t>(cols), 0);
      std::copy(plan.fed[s].begin(), plan.fed[s].end(), padded.begin());
      hash.update(padded.data(), padded.size() * sizeof(int64_t));
      hash.updateU64(static_cast<uint64_t>(plan.first[s]));
      hash.updateU64(static_cast<uint64_t>(plan.count[s]));
    }
    begin = end;
  }
  return hash.finish();
}

/// Runs `plan` batch by batch: the baseline (unless `cache` has its logits,
/// which it gets otherwise), then each candidate, calling `score` with both
/// sides' rows of every sequence. models.workers threads take batches in
/// turn, each with its own sessions; `score` and `check` may run on any of
/// them, at once for different sequences.
std::string runPlan(ModelSet &models, const Plan &plan, BaselineCache *cache,
                    const CheckFn &check, const ScoreFn &score,
                    const ProgressFn &progress) {
  size_t sequences = plan.fed.size(), batches = plan.batchEnd.size();
  size_t candidates = models.numCandidates();
  CachedLogits cached;
  bool fromCache = false;
  CacheWriter writer;
  std::atomic<bool> writing{false};
  std::string cachePath;
  Digest key{};
  if (cache && cache->enabled()) {
    key = planKey(*cache, models.baseline(), plan);
    cachePath = cache->dir + "/" + hexDigest(key) + ".qevc";
    std::string why = cached.open(cachePath, key, plan.count, models.vocab);
    fromCache = why.empty();
    if (fromCache) {
      ++cache->hits;
    } else {
      ++cache->misses;
      writing = true;
      if (why != "missing" && cache->note)
        cache->note("baseline cache file '" + cachePath + "' " + why +
                    "; recomputing it");
    }
  }
  std::mutex mutex; // guards `done`, `failure`, the notes and `progress`
  size_t total = sequences * (candidates + (fromCache ? 0 : 1)), done = 0;
  std::string failure;
  std::atomic<bool> failed{false};
  if (progress)
    progress(0, total);
  auto report = [&](size_t runs) {
    std::lock_guard<std::mutex> lock(mutex);
    done += runs;
    if (progress)
      progress(done, total);
  };
  auto stopWriting = [&](const std::string &error) {
    std::lock_guard<std::mutex> lock(mutex);
    if (writing && cache->note)
      cache->note("baseline cache: " + error);
    writing = false;
  };
  int64_t vocab = fromCache ? cached.vocab() : models.vocab;
  auto startWriting = [&] {
    if (writing)
      if (std::string error = writer.start(cachePath, key, plan.count, vocab);
          !error.empty())
        stopWriting(error);
  };
  // Checks the logits of a batch against the vocabulary (the first batch's
  // when it is dynamic) and the batch's token ids against it.
  auto checkBatch = [&](size_t begin, size_t end, int64_t have) -> std::string {
    if (have != vocab)
      return vocabularyMismatch(vocab, have);
    if (models.vocab <= 0 && check)
      for (size_t s = begin; s < end; ++s)
        if (std::string error = check(s, vocab); !error.empty())
          return error;
    return "";
  };
  // Batch `b` through every model with sessions `worker`.
  auto runBatch = [&](size_t b, size_t worker) -> std::string {
    size_t begin = b ? plan.batchEnd[b - 1] : 0, end = plan.batchEnd[b];
    std::vector<const std::vector<int64_t> *> rows =
        batchRows(plan, begin, end);
    std::vector<const float *> baseline(end - begin);
    if (fromCache) {
      for (size_t s = begin; s < end; ++s)
        baseline[s - begin] = cached.rows(s);
    } else {
      // The baseline's logits stay valid while the candidates run: each
      // model has its own sessions.
      Logits logits;
      if (std::string error = models.baseline().run(rows, logits, worker);
          !error.empty())
        return error;
      if (vocab <= 0) { // the first batch, run before the others start
        vocab = logits.vocab;
        startWriting();
      }
      if (std::string error = checkBatch(begin, end, logits.vocab);
          !error.empty())
        return error;
      for (size_t s = begin; s < end; ++s) {
        baseline[s - begin] =
            logits.at(static_cast<int64_t>(s - begin), plan.first[s]);
        if (writing)
          if (std::string error = writer.put(s, baseline[s - begin]);
              !error.empty())
            stopWriting(error);
      }
      report(end - begin);
    }
    for (size_t c = 0; c < candidates; ++c) {
      Logits logits;
      if (std::string error = models.models[1 + c]->run(rows, logits, worker);
          !error.empty())
        return error;
      if (std::string error = checkBatch(begin, end, logits.vocab);
          !error.empty())
        return error;
      for (size_t s = begin; s < end; ++s)
        score(c, s, baseline[s - begin],
              logits.at(static_cast<int64_t>(s - begin), plan.first[s]), vocab);
      report(end - begin);
    }
    return "";
  };

  // Longest batches first: the runtime keeps freed buffers for later runs
  // that need at most as much (in ascending order every run would need a
  // little more than any before, and map fresh memory), and with several
  // workers the last batches to start are the shortest.
  std::vector<size_t> order(batches);
  std::vector<int64_t> width(batches, 0);
  for (size_t b = 0; b < batches; ++b) {
    order[b] = b;
    for (size_t s = b ? plan.batchEnd[b - 1] : 0; s < plan.batchEnd[b]; ++s)
      width[b] = std::max(width[b], static_cast<int64_t>(plan.fed[s].size()));
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return width[a] != width[b] ? width[a] > width[b] : a < b;
  });
  size_t first = 0;
  if (vocab <= 0 && batches > 0) {
    // A dynamic vocabulary: the first batch tells it.
    if (std::string error = runBatch(order[0], 0); !error.empty())
      return error;
    first = 1;
  } else {
    startWriting();
  }
  std::atomic<size_t> next{first};
  auto work = [&](size_t worker) {
    while (!failed.load()) {
      size_t k = next.fetch_add(1);
      if (k >= batches)
        return;
      if (std::string error = runBatch(order[k], worker); !error.empty()) {
        std::lock_guard<std::mutex> lock(mutex);
        if (failure.empty())
          failure = error;
        failed = true;
      }
    }
  };
  size_t workers = std::min(models.workers, batches - first);
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w)
    threads.emplace_back(work, w);
  work(0);
  for (std::thread &thread : threads)
    thread.join();
  if (!failure.empty())
    return failure;
  if (writing) {
    if (std::string error = writer.commit(); !error.empty()) {
      if (cache->note)
        cache->note("baseline cache: " + error);
    } else {
      ++cache->stored;
    }
  }
  return "";
}

/// The CPU's vendor and feature flags (the first processor's lines of
/// /proc/cpuinfo), which choose the runtime's kernels; "" where unknown.
std::string cpuFeatures() {
  std::string text;
  if (!readFile("/proc/cpuinfo", text).empty())
    return "";
  std::string out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos)
      end = text.size();
    std::string line = text.substr(at, end - at);
    at = end + 1;
    if (line.empty())
      break; // the end of the first processor
    if (line.compare(0, 9, "vendor_id") == 0 ||
        line.compare(0, 5, "flags") == 0 || line.compare(0, 8, "Features") == 0)
      out += line + "\n";
  }
  return out;
}

} // namespace

std::string BaselineCache::prepare(const ModelSet &models) {
  Sha256 hash;
  hash.updateString("qrun eval baseline cache");
  hash.updateU64(kCacheVersion);
  const std::string &path = models.baseline().path;
  if (std::string error = hashFile(path, hash); !error.empty())
    return error;
  // The weights file beside the artifact (`<artifact>.weights`, where
  // qopt-compile writes it). The artifact holds a hash of its weights that
  // the runtime checks against the file's header, so an artifact whose
  // weights live elsewhere is still told apart by its own bytes.
  struct stat info;
  std::string weights = path + ".weights";
  if (stat(weights.c_str(), &info) == 0) {
    hash.updateString("weights");
    if (std::string error = hashFile(weights, hash); !error.empty())
      return error;
  } else {
    hash.updateString("no weights file beside it");
  }
  // The runtime: its kernels compute the logits.
  Dl_info library;
  if (dladdr(reinterpret_cast<void *>(&qrt_session_run), &library) &&
      library.dli_fname) {
    hash.updateString("libqrt");
    if (std::string error = hashFile(library.dli_fname, hash); !error.empty())
      return error;
  } else {
    return "cannot find the runtime library (libqrt) to key the baseline cache";
  }
  hash.updateString(cpuFeatures());
  hash.updateU64(static_cast<uint64_t>(qrt_get_num_threads()));
  shared = hash.finish();
  return "";
}

//===----------------------------------------------------------------------===//
// Scoring suites
//===----------------------------------------------------------------------===//

std::string eval::checkSuite(const ModelSet &models, const Suite &suite) {
  for (const Case &c : suite.cases) {
    if (c.length() > models.maxLength)
      return suite.path + ":" + std::to_string(c.line) +
             ": prompt + answer is " + std::to_string(c.length() + 1) +
             " tokens; the artifacts take at most " +
             std::to_string(models.maxLength) +
             " (+1 for the last answer token)";
    if (models.vocab > 0)
      if (std::string error = badToken(suite, c, models.vocab); !error.empty())
        return error;
  }
  return "";
}

std::string eval::scoreSuite(ModelSet &models, const Suite &suite,
                             std::vector<std::vector<CaseScore>> &out,
                             BaselineCache *cache, const ProgressFn &progress) {
  size_t candidates = models.numCandidates();
  out.assign(candidates, std::vector<CaseScore>(suite.cases.size()));
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
  Plan plan;
  plan.kind = "suite";
  for (size_t i : order) {
    const Case &c = suite.cases[i];
    std::vector<int64_t> fed = c.prompt;
    fed.insert(fed.end(), c.answer.begin(), c.answer.end() - 1);
    plan.fed.push_back(std::move(fed));
    plan.item.push_back(i);
    // The positions that predict the answer's tokens.
    plan.first.push_back(static_cast<int64_t>(c.prompt.size()) - 1);
    plan.count.push_back(static_cast<int64_t>(c.answer.size()));
  }
  for (size_t first = 0; first < order.size();) {
    // Sorted by length, so the last row is the longest.
    size_t last = first + 1;
    while (last < order.size() &&
           static_cast<int64_t>(last - first) < models.maxRows &&
           static_cast<int64_t>(last - first + 1) *
                   suite.cases[order[last]].length() <=
               kMaxBatchTokens)
      ++last;
    plan.batchEnd.push_back(last);
    first = last;
  }
  // Rows are padded on the right with token 0. The model is causal: the
  // logits at position t depend only on tokens 0..t of their own row, and
  // padding lies after every position that is scored, so it changes nothing
  // that is read below.
  CheckFn check = [&](size_t s, int64_t vocab) {
    return badToken(suite, suite.cases[plan.item[s]], vocab);
  };
  // Teacher forcing: the case passes exact match iff, at every answer
  // position, the argmax of the logits one position earlier is the answer
  // token. This is exactly greedy decoding of len(answer) tokens compared
  // with the answer: while every argmax matches, greedy decoding has
  // produced the answer's prefix, so its next input is the teacher-forced
  // one; at the first mismatch greedy decoding emits a wrong token and the
  // case fails either way.
  ScoreFn score = [&](size_t c, size_t s, const float *baseline,
                      const float *candidate, int64_t vocab) {
    const Case &k = suite.cases[plan.item[s]];
    CaseScore &result = out[c][plan.item[s]];
    result = CaseScore();
    result.tokens = static_cast<int64_t>(k.answer.size());
    for (size_t i = 0; i < k.answer.size();
         ++i, baseline += vocab, candidate += vocab) {
      int64_t choice[2] = {argmax(baseline, vocab), argmax(candidate, vocab)};
      result.correct[0] += choice[0] == k.answer[i];
      result.correct[1] += choice[1] == k.answer[i];
      result.agreed += choice[0] == choice[1];
      result.kld += klDivergence(baseline, candidate, vocab);
    }
  };
  return runPlan(models, plan, cache, check, score, progress);
}

std::vector<PairedUnit> eval::metricUnits(const std::vector<CaseScore> &scores,
                                          Metric metric) {
  std::vector<PairedUnit> units;
  units.reserve(scores.size());
  for (const CaseScore &s : scores) {
    double tokens = static_cast<double>(s.tokens);
    switch (metric) {
    case Metric::ExactMatch:
      units.push_back({s.exact(0) ? 1.0 : 0.0, s.exact(1) ? 1.0 : 0.0, 1});
      break;
    case Metric::TokenAccuracy:
      units.push_back({static_cast<double>(s.correct[0]),
                       static_cast<double>(s.correct[1]), tokens});
      break;
    case Metric::KLD:
      units.push_back({0, s.kld, tokens});
      break;
    case Metric::Top1Agreement:
      units.push_back({tokens, static_cast<double>(s.agreed), tokens});
      break;
    }
  }
  return units;
}

//===----------------------------------------------------------------------===//
// Texts
//===----------------------------------------------------------------------===//

std::vector<int64_t> eval::byteTokens(const std::string &text) {
  std::vector<int64_t> tokens;
  tokens.reserve(text.size());
  for (unsigned char c : text)
    tokens.push_back(c);
  return tokens;
}

std::string eval::readTokenIds(const std::string &path,
                               std::vector<int64_t> &tokens) {
  tokens.clear();
  Tensor tensor;
  if (std::string error = readNpy(path, tensor); !error.empty())
    return error;
  switch (tensor.dtype) {
  case QART_DTYPE_I64:
  case QART_DTYPE_I32:
  case QART_DTYPE_I16:
  case QART_DTYPE_U16:
  case QART_DTYPE_U32:
  case QART_DTYPE_U8:
    break;
  default:
    return path + ": token ids must be integers, not " +
           qrt_dtype_name(tensor.dtype);
  }
  int64_t count = tensor.numElements();
  for (int64_t i = 0; i < count; ++i) {
    double id = tensor.at(i);
    if (id < 0)
      return path + ": token id " + std::to_string(static_cast<int64_t>(id)) +
             " at index " + std::to_string(i) + " is negative";
    tokens.push_back(static_cast<int64_t>(id));
  }
  if (tokens.size() < 2)
    return path + ": needs at least 2 token ids";
  return "";
}

std::string eval::scoreText(ModelSet &models,
                            const std::vector<int64_t> &tokens,
                            std::vector<TextScore> &out, BaselineCache *cache,
                            const ProgressFn &progress) {
  size_t candidates = models.numCandidates();
  out.assign(candidates, TextScore());
  if (tokens.size() < 2)
    return "needs at least 2 tokens";
  int64_t chunkSize = std::min(kTextChunk, models.maxLength);
  if (chunkSize < 2)
    return "the artifacts take sequences of " + std::to_string(chunkSize) +
           " token; a text needs at least 2";
  size_t step = static_cast<size_t>(chunkSize);
  // One chunk per batch; every token but the first is predicted, from the
  // logits one position earlier.
  Plan plan;
  plan.kind = "text";
  for (size_t at = 0; at + 1 < tokens.size(); at += step) {
    size_t length = std::min(tokens.size() - at, step);
    if (length < 2)
      break;
    plan.item.push_back(plan.fed.size());
    plan.fed.emplace_back(tokens.begin() + at, tokens.begin() + at + length);
    plan.first.push_back(0);
    plan.count.push_back(static_cast<int64_t>(length) - 1);
    plan.batchEnd.push_back(plan.fed.size());
  }
  CheckFn check = [&](size_t s, int64_t vocab) -> std::string {
    for (int64_t id : plan.fed[s])
      if (id >= vocab)
        return "token id " + std::to_string(id) +
               " is outside the model's vocabulary (" + std::to_string(vocab) +
               " tokens)";
    return "";
  };
  // Each chunk's results apart (chunks may finish in any order), then
  // appended in order. The predictions are grouped into blocks for the
  // bootstrap.
  std::vector<std::vector<TextScore>> parts(
      candidates, std::vector<TextScore>(plan.fed.size()));
  ScoreFn score = [&](size_t c, size_t s, const float *baselineRows,
                      const float *candidateRows, int64_t vocab) {
    const std::vector<int64_t> &chunk = plan.fed[s];
    size_t length = chunk.size();
    TextScore &result = parts[c][s];
    for (size_t t = 1; t < length;) {
      size_t end = std::min(length, t + static_cast<size_t>(kTextBlock));
      double weight = static_cast<double>(end - t);
      PairedUnit nll{0, 0, weight}, kld{0, 0, weight}, agreement{0, 0, weight};
      for (; t < end; ++t) {
        const float *baseline = baselineRows + (t - 1) * vocab;
        const float *candidate = candidateRows + (t - 1) * vocab;
        nll.baseline += negativeLogLikelihood(baseline, vocab, chunk[t]);
        nll.candidate += negativeLogLikelihood(candidate, vocab, chunk[t]);
        double divergence = klDivergence(baseline, candidate, vocab);
        kld.candidate += divergence;
        result.tokenKld.push_back(divergence);
        agreement.baseline += 1;
        agreement.candidate +=
            argmax(baseline, vocab) == argmax(candidate, vocab);
      }
      result.nll.push_back(nll);
      result.kld.push_back(kld);
      result.agreement.push_back(agreement);
    }
    result.tokens = static_cast<int64_t>(length) - 1;
    result.chunks = 1;
  };
  if (std::string error = runPlan(models, plan, cache, check, score, progress);
      !error.empty())
    return error;
  for (size_t c = 0; c < candidates; ++c)
    for (const TextScore &part : parts[c]) {
      TextScore &all = out[c];
      all.chunks += part.chunks;
      all.tokens += part.tokens;
      all.nll.insert(all.nll.end(), part.nll.begin(), part.nll.end());
      all.kld.insert(all.kld.end(), part.kld.begin(), part.kld.end());
      all.agreement.insert(all.agreement.end(), part.agreement.begin(),
                           part.agreement.end());
      all.tokenKld.insert(all.tokenKld.end(), part.tokenKld.begin(),
                          part.tokenKld.end());
    }
  return "";
}

TextComparison eval::compareText(const TextScore &score,
                                 const BootstrapOptions &options) {
  TextComparison text;
  text.chunks = score.chunks;
  text.tokens = score.tokens;
  Comparison nll = comparePaired(score.nll, DeltaKind::ExpDifference, options);
  text.perplexity = nll;
  text.perplexity.baseline = std::exp(nll.baseline);
  text.perplexity.candidate = std::exp(nll.candidate);
  text.kld = comparePaired(score.kld, DeltaKind::Absolute, options);
  text.agreement = comparePaired(score.agreement, DeltaKind::Relative, options);
  std::vector<double> sorted = score.tokenKld;
  std::sort(sorted.begin(), sorted.end());
  text.kldMedian = quantile(sorted, 0.5);
  text.kldP99 = quantile(sorted, 0.99);
  text.kldMax = sorted.empty() ? NAN : sorted.back();
  return text;
}

//===----------------------------------------------------------------------===//
// The gate
//===----------------------------------------------------------------------===//

GateDecision eval::decideGate(Metric metric, const Comparison &comparison,
                              const GateOptions &options) {
  GateDecision decision;
  if (metric == Metric::KLD) {
    // Negated comparisons, so that NaN counts against the candidate.
    decision.beyondThreshold = !(comparison.delta <= options.maxKld);
    decision.significant = !(comparison.interval.low <= 0);
  } else {
    // Scores are fractions k/n, so a drop of exactly maxDrop may come out a
    // rounding error beyond it.
    decision.beyondThreshold = comparison.delta < -options.maxDrop - 1e-12;
    decision.significant = comparison.interval.high < 0;
  }
  decision.passed =
      !decision.beyondThreshold ||
      (options.rule == GateRule::Significant && !decision.significant);
  return decision;
}

SuiteResult eval::summarizeSuite(const Suite &suite,
                                 const std::vector<CaseScore> &scores,
                                 const GateOptions &gate,
                                 const BootstrapOptions &bootstrap) {
  SuiteResult result;
  result.name = suite.name;
  result.metric = suite.metric;
  result.cases = scores.size();
  for (const CaseScore &score : scores)
    result.tokens += score.tokens;
  for (const MetricInfo &info : kMetrics)
    result.metrics[static_cast<int>(info.metric)] =
        comparePaired(metricUnits(scores, info.metric),
                      metricDeltaKind(info.metric), bootstrap);
  result.decision = decideGate(result.metric, result.gated(), gate);
  return result;
}

bool EvalReport::passed() const {
  for (const SuiteResult &suite : suites)
    if (!suite.decision.passed)
      return false;
  return true;
}

std::string eval::evaluateSuites(ModelSet &models,
                                 const std::vector<Suite> &suites,
                                 const EvalSetup &setup, BaselineCache *cache,
                                 std::vector<EvalReport> &reports,
                                 const EvalCallbacks &callbacks) {
  size_t candidates = models.numCandidates();
  reports.assign(candidates, EvalReport());
  for (size_t c = 0; c < candidates; ++c) {
    reports[c].baseline = models.baseline().path;
    reports[c].candidate = models.models[1 + c]->path;
    reports[c].tokenizer = setup.tokenizer;
    reports[c].gate = setup.gate;
    reports[c].bootstrap = setup.bootstrap;
  }
  auto progressOf = [&](const std::string &stage) -> ProgressFn {
    if (!callbacks.progress)
      return {};
    return [&callbacks, stage](size_t done, size_t total) {
      callbacks.progress(stage, done, total);
    };
  };
  for (size_t s = 0; s < suites.size(); ++s) {
    std::vector<std::vector<CaseScore>> scores;
    if (std::string error = scoreSuite(models, suites[s], scores, cache,
                                       progressOf(suites[s].name));
        !error.empty())
      return error;
    for (size_t c = 0; c < candidates; ++c)
      reports[c].suites.push_back(
          summarizeSuite(suites[s], scores[c], setup.gate, setup.bootstrap));
    if (callbacks.suiteDone)
      callbacks.suiteDone(s);
  }
  if (!setup.textTokens.empty()) {
    std::vector<TextScore> scores;
    if (std::string error = scoreText(models, setup.textTokens, scores, cache,
                                      progressOf("perplexity"));
        !error.empty())
      return setup.textPath + ": " + error;
    for (size_t c = 0; c < candidates; ++c) {
      reports[c].textPath = setup.textPath;
      reports[c].text = compareText(scores[c], setup.bootstrap);
    }
  }
  return "";
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

namespace {

std::string format(const char *spec, double value) {
  char buffer[64];
  snprintf(buffer, sizeof(buffer), spec, value);
  return buffer;
}

/// "95%" for 0.95.
std::string levelText(double confidence) {
  return format("%g", confidence * 100) + "%";
}

Json jsonInterval(const Interval &interval) {
  return Json::array({interval.low, interval.high});
}

Json jsonComparison(const Comparison &c) {
  return {{"baseline", c.baseline},
          {"candidate", c.candidate},
          {"delta", c.delta},
          {"interval", jsonInterval(c.interval)}};
}

/// Interval width in the table: "[-100.00%, -100.00%]".
constexpr int kIntervalWidth = 20;

} // namespace

std::string eval::formatPercent(double delta) {
  if (std::isinf(delta))
    return delta > 0 ? "+inf" : "-inf";
  if (std::isnan(delta))
    return "nan";
  return format("%+.2f", delta * 100) + "%";
}

TableLayout::TableLayout(const std::vector<Suite> &suites, double confidence)
    : confidence(confidence) {
  for (const Suite &suite : suites) {
    nameWidth = std::max(nameWidth, static_cast<int>(suite.name.size()));
    metricWidth = std::max(metricWidth,
                           static_cast<int>(strlen(metricName(suite.metric))));
  }
}

std::string eval::formatTableHeader(const TableLayout &layout) {
  char buffer[256];
  snprintf(buffer, sizeof(buffer), "%-*s  %-*s  %5s  %8s  %9s  %8s  %-*s  %s",
           layout.nameWidth, "suite", layout.metricWidth, "metric", "n",
           "baseline", "candidate", "delta", kIntervalWidth,
           (levelText(layout.confidence) + " interval").c_str(), "result");
  return buffer;
}

std::string eval::formatTableRow(const TableLayout &layout,
                                 const SuiteResult &result) {
  const Comparison &c = result.gated();
  bool kld = result.metric == Metric::KLD;
  // KLD is a small absolute number of nats; the others are fractions with
  // relative deltas.
  std::string scores[2], delta, interval;
  if (kld) {
    scores[0] = format("%.4f", c.baseline);
    scores[1] = format("%.4f", c.candidate);
    delta = format("%+.4f", c.delta);
    interval = "[" + format("%+.4f", c.interval.low) + ", " +
               format("%+.4f", c.interval.high) + "]";
  } else {
    scores[0] = format("%.3f", c.baseline);
    scores[1] = format("%.3f", c.candidate);
    delta = formatPercent(c.delta);
    interval = "[" + formatPercent(c.interval.low) + ", " +
               formatPercent(c.interval.high) + "]";
  }
  const char *verdict = !result.decision.passed           ? "FAIL"
                        : result.decision.beyondThreshold ? "PASS (n.s.)"
                                                          : "PASS";
  std::string name = result.name;
  char buffer[512];
  snprintf(buffer, sizeof(buffer), "%-*s  %-*s  %5zu  %8s  %9s  %8s  %-*s  %s",
           layout.nameWidth, name.c_str(), layout.metricWidth,
           metricName(result.metric), result.cases, scores[0].c_str(),
           scores[1].c_str(), delta.c_str(), kIntervalWidth, interval.c_str(),
           verdict);
  return buffer;
}

std::string eval::formatPerplexityLine(const std::string &textName,
                                       const TextComparison &text) {
  return "perplexity (" + textName + ")  baseline " +
         format("%.4f", text.perplexity.baseline) + "  candidate " +
         format("%.4f", text.perplexity.candidate) + "  delta " +
         formatPercent(text.perplexity.delta) + " [" +
         formatPercent(text.perplexity.interval.low) + ", " +
         formatPercent(text.perplexity.interval.high) + "]  mean KLD " +
         format("%.4f", text.kld.candidate) + "  top-1 agreement " +
         format("%.2f", text.agreement.candidate * 100) + "%";
}

std::string eval::formatVerdict(const EvalReport &report) {
  const GateOptions &gate = report.gate;
  bool anyKld = false;
  std::string failed, unclear;
  size_t failedCount = 0;
  for (const SuiteResult &suite : report.suites) {
    anyKld |= suite.metric == Metric::KLD;
    if (!suite.decision.passed) {
      failed += (failed.empty() ? "" : ", ") + suite.name;
      ++failedCount;
    } else if (suite.decision.beyondThreshold) {
      unclear += (unclear.empty() ? "" : ", ") + suite.name;
    }
  }
  std::string drop = format("%g", gate.maxDrop * 100) + "%";
  std::string kldText = format("%g", gate.maxKld);
  std::string level = levelText(report.bootstrap.confidence);
  if (failedCount == 0) {
    std::string text = "PASS: every suite within a relative drop of " + drop +
                       " of the baseline";
    if (anyKld)
      text += " (kld suites: a mean KLD of at most " + kldText + ")";
    if (!unclear.empty())
      text +=
          ", or not significantly beyond it at " + level + " (" + unclear + ")";
    return text;
  }
  std::string text = "FAIL: " + std::to_string(failedCount) + " of " +
                     std::to_string(report.suites.size()) + " suites ";
  if (gate.rule == GateRule::Significant)
    text += "significantly (" + level + ") ";
  text += "dropped by more than " + drop + " relative to the baseline";
  if (anyKld)
    text += " or exceeded a mean KLD of " + kldText;
  return text + " (" + failed + ")";
}

namespace {

/// `report` as a JSON object: the single-candidate file, and one entry of
/// the several-candidate one.
Json reportJson(const EvalReport &report) {
  const GateOptions &gate = report.gate;
  Json out = {{"baseline", report.baseline},
              {"candidate", report.candidate},
              {"tokenizer", report.tokenizer},
              {"max_drop", gate.maxDrop},
              {"passed", report.passed()},
              {"gate", gate.rule == GateRule::Raw ? "raw" : "significant"},
              {"confidence", report.bootstrap.confidence},
              {"max_kld", gate.maxKld},
              {"resamples", report.bootstrap.resamples},
              {"seed", report.bootstrap.seed}};
  Json suites = Json::object();
  for (const SuiteResult &suite : report.suites) {
    const Comparison &c = suite.gated();
    Json metrics = Json::object();
    for (int m = 0; m < kNumMetrics; ++m)
      metrics[kMetrics[m].name] = jsonComparison(suite.metrics[m]);
    suites[suite.name] = {{"metric", metricName(suite.metric)},
                          {"n", suite.cases},
                          {"tokens", suite.tokens},
                          {"baseline", c.baseline},
                          {"candidate", c.candidate},
                          {"delta", c.delta},
                          {"interval", jsonInterval(c.interval)},
                          {"significant", suite.decision.significant},
                          {"passed", suite.decision.passed},
                          {"metrics", std::move(metrics)}};
  }
  out["suites"] = std::move(suites);
  if (report.textPath.empty()) {
    out["perplexity"] = nullptr;
  } else {
    const TextComparison &text = report.text;
    const Comparison &p = text.perplexity;
    out["perplexity"] = {{"baseline", p.baseline},
                         {"candidate", p.candidate},
                         {"delta", p.delta},
                         {"interval", jsonInterval(p.interval)},
                         {"tokens", text.tokens},
                         {"kld", text.kld.candidate},
                         {"kld_interval", jsonInterval(text.kld.interval)},
                         {"top1_agreement", text.agreement.candidate},
                         {"top1_agreement_interval",
                          jsonInterval({1 + text.agreement.interval.low,
                                        1 + text.agreement.interval.high})}};
  }
  return out;
}

} // namespace

std::string eval::formatReportJson(const EvalReport &report) {
  return dumpJson(reportJson(report), 2) + "\n";
}

std::string eval::formatReportTable(const TableLayout &layout,
                                    const EvalReport &report) {
  std::string out = formatTableHeader(layout) + "\n";
  for (const SuiteResult &suite : report.suites)
    out += formatTableRow(layout, suite) + "\n";
  if (!report.textPath.empty())
    out += formatPerplexityLine(baseName(report.textPath), report.text) + "\n";
  return out + formatVerdict(report) + "\n";
}

std::string
eval::formatCandidatesVerdict(const std::vector<EvalReport> &reports) {
  std::string failed;
  size_t failedCount = 0;
  for (const EvalReport &report : reports)
    if (!report.passed()) {
      failed += (failed.empty() ? "" : ", ") + report.candidate;
      ++failedCount;
    }
  if (failedCount == 0)
    return "PASS: all " + std::to_string(reports.size()) +
           " candidates passed the gate";
  return "FAIL: " + std::to_string(failedCount) + " of " +
         std::to_string(reports.size()) + " candidates failed the gate (" +
         failed + ")";
}

std::string eval::formatReportsJson(const std::vector<EvalReport> &reports) {
  if (reports.size() == 1)
    return formatReportJson(reports[0]);
  bool passed = true;
  Json candidates = Json::array();
  for (const EvalReport &report : reports) {
    passed &= report.passed();
    // Each candidate's object is exactly its single-candidate file.
    candidates.push_back(reportJson(report));
  }
  Json out = {
      {"baseline", reports.empty() ? std::string() : reports[0].baseline},
      {"passed", passed},
      {"candidates", std::move(candidates)}};
  return dumpJson(out, 2) + "\n";
}

std::string eval::formatTextReport(const std::string &textName,
                                   const TextComparison &text,
                                   double confidence) {
  std::string level = levelText(confidence) + " interval ";
  const Comparison &p = text.perplexity, &k = text.kld, &a = text.agreement;
  // The baseline agrees with itself: agreement = 1 + delta, and so are the
  // ends of its interval.
  return "text (" + textName + "): " + std::to_string(text.tokens) +
         " tokens predicted in " + std::to_string(text.chunks) +
         (text.chunks == 1 ? " chunk" : " chunks") +
         "\nperplexity       baseline " + format("%.4f", p.baseline) +
         "  candidate " + format("%.4f", p.candidate) + "  delta " +
         formatPercent(p.delta) + "  " + level + "[" +
         formatPercent(p.interval.low) + ", " + formatPercent(p.interval.high) +
         "]\nmean KLD         " + format("%.6f", k.candidate) + "  " + level +
         "[" + format("%.6f", k.interval.low) + ", " +
         format("%.6f", k.interval.high) + "]  median " +
         format("%.6f", text.kldMedian) + "  99th percentile " +
         format("%.6f", text.kldP99) + "  max " + format("%.6f", text.kldMax) +
         "\ntop-1 agreement  " + format("%.2f", a.candidate * 100) + "%  " +
         level + "[" + format("%.2f", (1 + a.interval.low) * 100) + "%, " +
         format("%.2f", (1 + a.interval.high) * 100) + "%]\n";
}

std::string eval::formatTextJson(const std::string &baseline,
                                 const std::string &candidate,
                                 const std::string &textPath,
                                 const TextComparison &text,
                                 const BootstrapOptions &bootstrap,
                                 const std::string &tokenizer) {
  const Comparison &k = text.kld, &a = text.agreement;
  Json out = {{"baseline", baseline},
              {"candidate", candidate},
              {"text", textPath},
              {"tokenizer", tokenizer},
              {"confidence", bootstrap.confidence},
              {"resamples", bootstrap.resamples},
              {"seed", bootstrap.seed},
              {"chunks", text.chunks},
              {"tokens", text.tokens},
              {"perplexity", jsonComparison(text.perplexity)},
              {"kld",
               {{"mean", k.candidate},
                {"interval", jsonInterval(k.interval)},
                {"median", text.kldMedian},
                {"p99", text.kldP99},
                {"max", text.kldMax}}},
              {"top1_agreement",
               {{"mean", a.candidate},
                {"interval",
                 jsonInterval({1 + a.interval.low, 1 + a.interval.high})}}}};
  return dumpJson(out, 2) + "\n";
}
