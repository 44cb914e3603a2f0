//===- Eval.h - qrun eval: per-capability regression gate -------*- C++ -*-===//
//
// The library behind `qrun eval`: reading suites, running a baseline and a
// candidate language model side by side, scoring them per case, comparing
// them with paired statistics (EvalStats.h), the gate decision, and the table
// and JSON output. evalCommand only parses options and prints.
// docs/eval.md describes the formats, the metrics and the statistics.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNNER_EVAL_H
#define QOPT_RUNNER_EVAL_H

#include "qopt/Runner/Common.h"
#include "qopt/Runner/EvalStats.h"
#include "qopt/Runner/Tokenizer.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qrun {
namespace eval {

//===----------------------------------------------------------------------===//
// Metrics
//===----------------------------------------------------------------------===//

/// What a suite is scored and gated by (its cases' "metric" field). Every
/// metric is computed by teacher forcing prompt + answer in one pass; the
/// scored positions are those that predict the answer's tokens.
enum class Metric {
  /// Fraction of cases whose greedy continuation is exactly the answer.
  ExactMatch,
  /// Fraction of answer tokens that are the argmax of their position.
  TokenAccuracy,
  /// Mean over answer tokens of KL(baseline || candidate) of the next-token
  /// distributions, in nats (the baseline's score is 0). Lower is better.
  KLD,
  /// Fraction of answer tokens where the candidate's argmax is the
  /// baseline's (the baseline's score is 1).
  Top1Agreement,
};
constexpr int kNumMetrics = 4;

/// The metric's name in suites, the table and the JSON: "exact_match",
/// "token_accuracy", "kld", "top1_agreement".
const char *metricName(Metric metric);
/// The metric called `name`; false when there is none.
bool parseMetric(const std::string &name, Metric &metric);
/// KLD: Absolute (a difference in nats); the others: Relative.
DeltaKind metricDeltaKind(Metric metric);

//===----------------------------------------------------------------------===//
// Suites
//===----------------------------------------------------------------------===//

/// One eval case as token ids.
struct Case {
  std::vector<int64_t> prompt, answer;
  /// The case's line in its file (1-based).
  size_t line = 0;
  /// Whether it came from "prompt" and "answer" strings (kept in
  /// promptText and answerText; prompt and answer hold their bytes until a
  /// TextEncoder tokenizes them).
  bool fromText = false;
  std::string promptText, answerText;
  /// The tokens fed to the model: prompt + answer without its last token.
  int64_t length() const {
    return static_cast<int64_t>(prompt.size() + answer.size()) - 1;
  }
};

/// A suite: the cases of one DIR/NAME.jsonl.
struct Suite {
  std::string name, path;
  Metric metric = Metric::ExactMatch;
  std::vector<Case> cases;
};

/// How the strings of suites and texts become token ids: a tokenizer
/// (bytes when null) and the tokens put before every prompt and text (the
/// BOS; see docs/eval.md, "Tokenizers").
struct TextEncoder {
  const Tokenizer *tokenizer = nullptr;
  std::vector<int64_t> bos;

  /// bos + the tokens of `text`.
  std::string encodeText(const std::string &text,
                         std::vector<int64_t> &ids) const;
  /// Sets c.prompt and c.answer from c.promptText and c.answerText: the
  /// prompt's tokens are bos + encode(prompt), the answer's are the rest of
  /// bos + encode(prompt + answer), which must begin with the prompt's. If
  /// it does not, the prompt's trailing whitespace moves to the answer and
  /// the rule is tried once more; then it is an error. Bytes: the bytes of
  /// each.
  std::string encodeCase(Case &c) const;
};

/// Parses one line of a suite: a JSON object with "prompt" and "answer"
/// (strings, kept in promptText and answerText, their UTF-8 bytes in prompt
/// and answer) or "prompt_ids" and
/// "answer_ids" (arrays of non-negative integers), and optionally "metric"
/// (a string, returned in `metric`; "" when absent). Other fields may hold
/// any JSON value and are skipped. Strict (nlohmann/json): one object in
/// UTF-8, nothing after it, no duplicate keys, fields of the right types.
/// Returns an error message (a syntax error's with its column), or "" on
/// success.
std::string parseCase(const std::string &line, Case &out, std::string &metric);

/// Reads the suite at `path` (named after its file), checking every line but
/// keeping only the first `limit` cases when limit > 0. Its metric is that of
/// its lines' "metric" fields, which must agree; exact_match when none has
/// one. String cases are tokenized by `encoder` (bytes when null). Errors
/// are "PATH:LINE: what".
std::string readSuite(const std::string &path, long long limit, Suite &out,
                      const TextEncoder *encoder = nullptr);

/// Reads every DIR/*.jsonl, in name order.
std::string readSuites(const std::string &dir, long long limit,
                       std::vector<Suite> &out,
                       const TextEncoder *encoder = nullptr);

//===----------------------------------------------------------------------===//
// Logits
//===----------------------------------------------------------------------===//

/// The greedy choice: the first index of the largest logit (ties go to the
/// lowest id, NaN never wins).
int64_t argmax(const float *logits, int64_t vocab);

/// -log softmax(logits)[target], in double, stable (max subtracted); NaN
/// when no logit is finite.
double negativeLogLikelihood(const float *logits, int64_t vocab,
                             int64_t target);

/// KL(P || Q) = sum_k P_k (log P_k - log Q_k) in nats, where P = softmax of
/// `baseline` and Q = softmax of `candidate` (llama.cpp's --kl-divergence);
/// computed in double with log-softmax. Tokens with P_k = 0 add nothing;
/// +inf when Q_k = 0 where P_k > 0; NaN when a side has no finite logit.
double klDivergence(const float *baseline, const float *candidate,
                    int64_t vocab);

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

/// Logits of one run: [rows, cols, vocab], valid until the model's next run.
struct Logits {
  const float *data = nullptr;
  int64_t rows = 0, cols = 0, vocab = 0;
  const float *at(int64_t row, int64_t position) const {
    return data + (row * cols + position) * vocab;
  }
};

/// An artifact that takes token ids [batch, seq] (int64) and returns logits
/// [batch, seq, vocab] (f32). The dimensions are -1 where dynamic.
struct LanguageModel {
  std::string path;
  Loaded loaded;
  std::string input, output;
  int64_t batchDim = -1, seqDim = -1, vocab = -1;

  LanguageModel() = default;
  LanguageModel(const LanguageModel &) = delete;
  LanguageModel &operator=(const LanguageModel &) = delete;
  ~LanguageModel();

  /// Loads `path` and checks the signature.
  std::string load(const std::string &path);
  /// Makes sessions 1..n-1 (session 0 is `loaded`'s), so that n threads can
  /// run the model at once, thread i with session i.
  std::string addSessions(size_t n);
  /// The shape of the token ids that run() binds for `sequences`: the
  /// longest one (or the static sequence length) and, for a static batch
  /// dimension, that many rows.
  void inputShape(const std::vector<const std::vector<int64_t> *> &sequences,
                  int64_t &rows, int64_t &cols) const;
  /// Runs `sequences` with session `session`, right-padded with token 0 to
  /// the longest one (or to the static sequence length) and, for a static
  /// batch dimension, padded with rows of zeros. The logits stay valid until
  /// that session's next run.
  std::string run(const std::vector<const std::vector<int64_t> *> &sequences,
                  Logits &logits, size_t session = 0);

private:
  /// Sessions 1.. (addSessions).
  std::vector<qrt_session *> extra;
  /// Each session's bound token ids (the buffers are reused).
  std::vector<std::vector<int64_t>> ids = std::vector<std::vector<int64_t>>(1);
};

/// The artifacts of one evaluation, loaded together: a baseline and one or
/// more candidates. Every batch runs through each of them.
struct ModelSet {
  /// The baseline, then the candidates in order.
  std::vector<std::unique_ptr<LanguageModel>> models;
  /// The longest sequence all take (INT64_MAX when all are dynamic).
  int64_t maxLength = INT64_MAX;
  /// The most rows of a batch.
  int64_t maxRows = 1;
  /// The common vocabulary, -1 when all are dynamic.
  int64_t vocab = -1;
  /// How many batches run at once, each on its own thread with its own
  /// session of every model (1: the calling thread runs them all).
  size_t workers = 1;

  /// Loads the artifacts and checks that they fit together; batches hold at
  /// most `batch` sequences, and `workers` run at once.
  std::string load(const std::string &baseline,
                   const std::vector<std::string> &candidates, int64_t batch,
                   size_t workers = 1);
  size_t numCandidates() const {
    return models.empty() ? 0 : models.size() - 1;
  }
  LanguageModel &baseline() { return *models[0]; }
  const LanguageModel &baseline() const { return *models[0]; }
};

/// Loads the tokenizer at `tokenizerPath` into `tokenizer` and sets up
/// `encoder` with it and the BOS that `bos` names: "" or "auto" (the
/// tokenizer's prefix()), "none", or a token of the tokenizer. An empty
/// path leaves bytes (and then `bos` must not name a token). Returns an
/// error, or "".
std::string loadTextEncoder(const std::string &tokenizerPath,
                            const std::string &bos,
                            std::unique_ptr<Tokenizer> &tokenizer,
                            TextEncoder &encoder);

/// An error when `tokenizer` (may be null: bytes, not checked) has ids
/// beyond the models' logits; a larger logits dimension is fine (models pad
/// it).
std::string checkTokenizerVocabulary(const ModelSet &models,
                                     const Tokenizer *tokenizer,
                                     const std::string &tokenizerPath);

/// Checks that every case of `suite` fits the models: its length, and its
/// token ids when the vocabulary is static.
std::string checkSuite(const ModelSet &models, const Suite &suite);

/// Called with the number of sequence runs done so far and their total; a
/// sequence run by the baseline and by two candidates counts three times
/// (once when the baseline comes from the cache).
using ProgressFn = std::function<void(size_t done, size_t total)>;

//===----------------------------------------------------------------------===//
// The baseline cache
//===----------------------------------------------------------------------===//

/// Where the baseline's logits are cached across runs (EvalCache.h,
/// docs/eval.md "Baseline cache"): per suite (and perplexity text), the
/// baseline's logits at the scored positions, in a file named after a
/// SHA-256 of everything they depend on: the baseline artifact and its
/// weights file, the runtime library, the CPU's features, the thread count,
/// and the exact batches of token ids fed and positions kept.
struct BaselineCache {
  /// The directory; "" disables the cache.
  std::string dir;
  /// Told about files that are there but unusable (then recomputed) and
  /// files that could not be written; may be empty.
  std::function<void(const std::string &note)> note;
  /// Suites and texts whose baseline came from the cache, was computed, or
  /// was computed and stored.
  size_t hits = 0, misses = 0, stored = 0;

  bool enabled() const { return !dir.empty(); }
  /// Hashes what the keys share: the baseline of `models` (artifact and
  /// weights file), libqrt, the CPU and the thread count. Call once after
  /// loading and after qrt_set_num_threads. Returns an error, or "".
  std::string prepare(const ModelSet &models);
  /// The part of every key that prepare() computed.
  const std::array<uint8_t, 32> &modelKey() const { return shared; }

private:
  std::array<uint8_t, 32> shared{};
};

//===----------------------------------------------------------------------===//
// Scoring suites
//===----------------------------------------------------------------------===//

/// What teacher forcing one case gives for the baseline and a candidate.
struct CaseScore {
  /// Answer tokens.
  int64_t tokens = 0;
  /// Answer tokens that are their position's argmax: baseline, candidate.
  int64_t correct[2] = {0, 0};
  /// Answer positions where the candidate's argmax is the baseline's.
  int64_t agreed = 0;
  /// Sum over answer positions of KL(baseline || candidate), nats.
  double kld = 0;
  /// Whether side `side` produced exactly the answer.
  bool exact(int side) const { return correct[side] == tokens; }
};

/// A batch holds at most ModelSet::maxRows sequences and, beyond one
/// sequence, at most this many tokens (rows x padded length). Batching pays
/// for short sequences, where one sequence leaves the kernels little work;
/// for long ones the attention's [batch, heads, seq, seq] scores outgrow the
/// caches and one sequence at a time is faster.
constexpr int64_t kMaxBatchTokens = 1024;

/// The baseline's logits at the scored positions are kept in memory for at
/// most about this many bytes of consecutive batches at a time (each
/// candidate then runs those batches); the rest waits for the next window.
constexpr size_t kWindowBytes = size_t(256) << 20;

/// Scores the baseline and every candidate on every case of `suite`
/// (checked with checkSuite): `out[c][i]` is case i's with candidate c.
/// Cases run shortest first, in batches, through the baseline (unless
/// `cache` has its logits) and then each candidate.
std::string scoreSuite(ModelSet &models, const Suite &suite,
                       std::vector<std::vector<CaseScore>> &out,
                       BaselineCache *cache = nullptr,
                       const ProgressFn &progress = {});

/// The paired units of `metric`, one per case.
std::vector<PairedUnit> metricUnits(const std::vector<CaseScore> &scores,
                                    Metric metric);

//===----------------------------------------------------------------------===//
// Texts: perplexity, KLD and top-1 agreement without labels
//===----------------------------------------------------------------------===//

/// Texts are run in chunks of at most this many tokens (the bundled model's
/// context; less when an artifact has a smaller static sequence length).
constexpr int64_t kTextChunk = 1024;
/// Tokens of a text are resampled in blocks of this many consecutive
/// predicted tokens (within a chunk): neighbouring tokens are not
/// independent, so resampling single tokens would make the intervals too
/// narrow.
constexpr int64_t kTextBlock = 64;

/// `text`'s bytes as token ids (a byte-level vocabulary).
std::vector<int64_t> byteTokens(const std::string &text);

/// Reads the token ids of a .npy array of integers (any shape, C order; at
/// least 2 ids, none negative).
std::string readTokenIds(const std::string &path, std::vector<int64_t> &tokens);

/// Per-token results of both models on a text, as resampling blocks.
struct TextScore {
  int64_t chunks = 0;
  /// Predicted tokens (every token but the first of each chunk).
  int64_t tokens = 0;
  /// Per block: negative log-likelihood sums, KLD sums (baseline 0) and
  /// top-1 agreement counts (baseline = weight).
  std::vector<PairedUnit> nll, kld, agreement;
  /// KL(baseline || candidate) of every predicted token, in order.
  std::vector<double> tokenKld;
};

/// Runs the baseline and every candidate on `tokens` (at least 2) in
/// consecutive chunks of min(kTextChunk, models.maxLength) tokens; every
/// token but the first of a chunk is predicted. `out[c]` is candidate c's.
std::string scoreText(ModelSet &models, const std::vector<int64_t> &tokens,
                      std::vector<TextScore> &out,
                      BaselineCache *cache = nullptr,
                      const ProgressFn &progress = {});

/// A text's comparison: perplexity (exp of mean NLL, its delta relative),
/// mean KLD (absolute) and top-1 agreement (relative), with block-bootstrap
/// intervals, and the distribution of per-token KLD.
struct TextComparison {
  int64_t chunks = 0, tokens = 0;
  Comparison perplexity, kld, agreement;
  double kldMedian = NAN, kldP99 = NAN, kldMax = NAN;
};
TextComparison compareText(const TextScore &score,
                           const BootstrapOptions &options = {});

//===----------------------------------------------------------------------===//
// The gate
//===----------------------------------------------------------------------===//

enum class GateRule {
  /// Fail a suite only on a significant change beyond the threshold.
  Significant,
  /// Fail a suite on any change beyond the threshold (the rule before
  /// intervals).
  Raw,
};

struct GateOptions {
  GateRule rule = GateRule::Significant;
  /// The largest relative drop of exact_match, token_accuracy and
  /// top1_agreement.
  double maxDrop = 0.03;
  /// The largest mean KLD (nats) of a kld suite.
  double maxKld = 0.05;
};

struct GateDecision {
  /// The delta is worse than the threshold: a drop beyond maxDrop (a drop
  /// of exactly maxDrop is within), or a KLD above maxKld.
  bool beyondThreshold = false;
  /// The interval lies entirely on the worse side of no change.
  bool significant = false;
  bool passed = true;
};

/// The gate on one suite's comparison. A NaN KLD counts as beyond the
/// threshold and significant.
GateDecision decideGate(Metric metric, const Comparison &comparison,
                        const GateOptions &options);

//===----------------------------------------------------------------------===//
// Results and output
//===----------------------------------------------------------------------===//

/// One suite's comparisons under every metric, and the gate on its own.
struct SuiteResult {
  std::string name;
  Metric metric = Metric::ExactMatch;
  size_t cases = 0;
  /// Answer tokens scored (the token metrics' denominator).
  int64_t tokens = 0;
  Comparison metrics[kNumMetrics];
  GateDecision decision;
  const Comparison &gated() const { return metrics[static_cast<int>(metric)]; }
};

/// Compares the scores of `suite` under every metric and gates its own.
SuiteResult summarizeSuite(const Suite &suite,
                           const std::vector<CaseScore> &scores,
                           const GateOptions &gate,
                           const BootstrapOptions &bootstrap = {});

/// A whole run of qrun eval over suites.
struct EvalReport {
  std::string baseline, candidate;
  /// The tokenizer of the strings: "bytes" or its file.
  std::string tokenizer = "bytes";
  GateOptions gate;
  BootstrapOptions bootstrap;
  std::vector<SuiteResult> suites;
  /// The perplexity text, "" when there is none.
  std::string textPath;
  TextComparison text;
  /// Whether every suite passed.
  bool passed() const;
};

/// What a suite evaluation takes besides the models and the suites.
struct EvalSetup {
  GateOptions gate;
  BootstrapOptions bootstrap;
  /// The perplexity text's path and its tokens (TextEncoder::encodeText);
  /// no perplexity when there are none.
  std::string textPath;
  std::vector<int64_t> textTokens;
  /// The tokenizer's name in the reports ("bytes" or its file).
  std::string tokenizer = "bytes";
};

/// What evaluateSuites tells as it goes; each may be empty.
struct EvalCallbacks {
  /// Progress of stage `stage` (a suite's name, or "perplexity").
  std::function<void(const std::string &stage, size_t done, size_t total)>
      progress;
  /// Suite `index` is scored and summarized for every candidate.
  std::function<void(size_t index)> suiteDone;
};

/// `qrun eval --suites`: scores the baseline once and every candidate of
/// `models` on every suite (checked with checkSuite) and on the perplexity
/// text, and fills one report per candidate, in order, each exactly what a
/// run with that candidate alone gives. `cache` may be null.
std::string evaluateSuites(ModelSet &models, const std::vector<Suite> &suites,
                           const EvalSetup &setup, BaselineCache *cache,
                           std::vector<EvalReport> &reports,
                           const EvalCallbacks &callbacks = {});

/// Column widths of the table.
struct TableLayout {
  int nameWidth = 5, metricWidth = 6;
  double confidence = 0.95;
  TableLayout(const std::vector<Suite> &suites, double confidence);
};
/// The table's header, a suite's row and the perplexity line (no newline).
std::string formatTableHeader(const TableLayout &layout);
std::string formatTableRow(const TableLayout &layout,
                           const SuiteResult &result);
std::string formatPerplexityLine(const std::string &textName,
                                 const TextComparison &text);
/// The PASS or FAIL line under the table.
std::string formatVerdict(const EvalReport &report);
/// `report` as JSON (docs/eval.md), indented, newline-terminated; doubles
/// round-trip, non-finite ones are null.
std::string formatReportJson(const EvalReport &report);

/// The table of one candidate: header, one row per suite, the perplexity
/// line (when there is a text) and the verdict, newline-terminated.
std::string formatReportTable(const TableLayout &layout,
                              const EvalReport &report);
/// The last line of a run with several candidates: PASS when every one
/// passed, else FAIL naming those that failed (no newline).
std::string formatCandidatesVerdict(const std::vector<EvalReport> &reports);
/// The JSON of a run: formatReportJson of the only report, or for several
/// candidates {"baseline", "passed", "candidates": [each report's JSON]}
/// (docs/eval.md), newline-terminated.
std::string formatReportsJson(const std::vector<EvalReport> &reports);

/// The report of a text comparison (several lines, newline-terminated).
std::string formatTextReport(const std::string &textName,
                             const TextComparison &text, double confidence);
/// A text comparison as JSON, newline-terminated.
std::string formatTextJson(const std::string &baseline,
                           const std::string &candidate,
                           const std::string &textPath,
                           const TextComparison &text,
                           const BootstrapOptions &bootstrap,
                           const std::string &tokenizer = "bytes");

/// `delta` as a signed percentage with two decimals ("+0.57%", "-25.00%"),
/// "+inf", "-inf" or "nan".
std::string formatPercent(double delta);

} // namespace eval

/// `qrun eval`: compares a candidate artifact with its baseline on suites
/// (and gates it) or on a text; see docs/eval.md. Returns 0 (every suite
/// passed, or a text comparison ran), 1 (some suite failed the gate) or 2
/// (usage or input error). `argv` excludes "qrun eval".
int evalCommand(int argc, char **argv);

} // namespace qrun

#endif // QOPT_RUNNER_EVAL_H
