//===- EvalTest.cpp - unit tests of qrun eval's library -------------------===//
//
// The pure parts of include/qopt/Runner/Eval.h and EvalStats.h on inputs
// whose results are worked out by hand in the comments, plus lines for
// FileCheck that test/Runner/eval-stats-reference.py (an independent,
// standard-library implementation of the bootstrap) must print too.
// Run by test/Runner/eval-stats.test; exits 1 and names each failed check.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/Eval.h"
#include "qopt/Runner/EvalCache.h"
#include "qopt/Runner/EvalStats.h"

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

using namespace qrun::eval;

namespace {

int checks = 0, failures = 0;

void check(bool ok, const std::string &what, int line) {
  ++checks;
  if (!ok) {
    ++failures;
    fprintf(stderr, "EvalTest.cpp:%d: check failed: %s\n", line, what.c_str());
  }
}

/// Equal within `tolerance`; infinities and NaN must match exactly.
void checkNear(double actual, double expected, double tolerance,
               const std::string &what, int line) {
  bool ok = std::isnan(expected)   ? std::isnan(actual)
            : std::isinf(expected) ? actual == expected
                                   : std::fabs(actual - expected) <= tolerance;
  char buffer[128];
  snprintf(buffer, sizeof(buffer), " is %.17g, expected %.17g", actual,
           expected);
  check(ok, what + buffer, line);
}

#define CHECK(cond) check((cond), #cond, __LINE__)
#define CHECK_NEAR(actual, expected, tolerance)                                \
  checkNear((actual), (expected), (tolerance), #actual, __LINE__)
#define CHECK_EQ_STR(actual, expected)                                         \
  checkString((actual), (expected), #actual, __LINE__)

/// Takes the strings as arguments, so that each is computed once.
void checkString(const std::string &actual, const std::string &expected,
                 const char *what, int line) {
  check(actual == expected,
        std::string(what) + " is '" + actual + "', expected '" + expected + "'",
        line);
}

std::vector<PairedUnit> units(std::initializer_list<PairedUnit> list) {
  return std::vector<PairedUnit>(list);
}

void testDeltas() {
  // 0.75 against 0.8: -0.05 / 0.8.
  CHECK_NEAR(computeDelta(0.8, 0.75, DeltaKind::Relative), -0.0625, 1e-15);
  CHECK_NEAR(computeDelta(0, 0, DeltaKind::Relative), 0, 0);
  CHECK_NEAR(computeDelta(0, 0.5, DeltaKind::Relative), INFINITY, 0);
  CHECK_NEAR(computeDelta(0.25, 0.75, DeltaKind::Absolute), 0.5, 0);
  // Perplexity 2 against 3 from mean NLLs ln 2 and ln 3: +50%.
  CHECK_NEAR(
      computeDelta(std::log(2.0), std::log(3.0), DeltaKind::ExpDifference), 0.5,
      1e-15);
}

void testSplitMix64() {
  // The reference outputs of splitmix64.c (Vigna) from state 0.
  uint64_t state = 0;
  CHECK(splitMix64(state) == 0xe220a8397b1dcdafULL);
  CHECK(splitMix64(state) == 0x6e789e6aa1b965f4ULL);
  CHECK(splitMix64(state) == 0x06c45d188009454fULL);
  state = 0;
  printf("splitmix64 seed 0:");
  for (int i = 0; i < 3; ++i)
    printf(" %016" PRIx64, splitMix64(state));
  printf("\n");
}

void testQuantile() {
  std::vector<double> xs = {1, 2, 3, 4};
  // h = 3q: q = 0.5 -> 1.5, halfway between 2 and 3.
  CHECK_NEAR(quantile(xs, 0.5), 2.5, 0);
  CHECK_NEAR(quantile(xs, 0), 1, 0);
  CHECK_NEAR(quantile(xs, 1), 4, 0);
  // h = 0.75: 1 + 0.75 (2 - 1).
  CHECK_NEAR(quantile(xs, 0.25), 1.75, 1e-15);
  CHECK_NEAR(quantile({}, 0.5), NAN, 0);
  CHECK_NEAR(quantile({7}, 0.3), 7, 0);
  // Between equal infinities there is nothing to interpolate (inf - inf
  // would be NaN); towards one, the interpolation is infinite.
  CHECK_NEAR(quantile({-INFINITY, -INFINITY, 0}, 0.25), -INFINITY, 0);
  CHECK_NEAR(quantile({0, INFINITY}, 0.5), INFINITY, 0);
  CHECK_NEAR(quantile({0, INFINITY}, 0), 0, 0);
}

void testLogits() {
  // Ties go to the lowest id; NaN never wins.
  const float tie[] = {1, 3, 3, 2};
  CHECK(argmax(tie, 4) == 1);
  const float withNan[] = {NAN, 1, 1};
  CHECK(argmax(withNan, 3) == 1);
  // Four equal logits: -log(1/4) = ln 4.
  const float flat[] = {5, 5, 5, 5};
  CHECK_NEAR(negativeLogLikelihood(flat, 4, 2), std::log(4.0), 1e-12);
  // Logits 0 and ln 3: probabilities 1/4 and 3/4.
  const float quarter[] = {0, static_cast<float>(std::log(3.0))};
  CHECK_NEAR(negativeLogLikelihood(quarter, 2, 1), std::log(4.0 / 3), 1e-7);

  // P = (1/2, 1/2), Q = (1/4, 3/4): KL = 1/2 ln 2 + 1/2 ln(2/3)
  // = 1/2 ln(4/3) = 0.1438410362258904.
  const float half[] = {0, 0};
  CHECK_NEAR(klDivergence(half, quarter, 2), 0.1438410362258904, 1e-7);
  // The other way: 1/4 ln(1/2) + 3/4 ln(3/2) = 0.1308120...
  CHECK_NEAR(klDivergence(quarter, half, 2),
             0.25 * std::log(0.5) + 0.75 * std::log(1.5), 1e-7);
  // The same distribution, also shifted by a constant: 0.
  CHECK_NEAR(klDivergence(quarter, quarter, 2), 0, 0);
  const float shifted[] = {10, static_cast<float>(10 + std::log(3.0))};
  CHECK_NEAR(klDivergence(quarter, shifted, 2), 0, 1e-6);
  // P = (1, 0) (a -inf logit), Q = (1/2, 1/2): KL = ln 2; the zero
  // probability adds nothing.
  const float certain[] = {0, -INFINITY};
  CHECK_NEAR(klDivergence(certain, half, 2), std::log(2.0), 1e-12);
  // Q = 0 where P > 0: infinite.
  CHECK_NEAR(klDivergence(half, certain, 2), INFINITY, 0);
  const float broken[] = {0, NAN};
  CHECK_NEAR(klDivergence(half, broken, 2), NAN, 0);
}

void testComparePaired() {
  CHECK_NEAR(comparePaired({}, DeltaKind::Relative).delta, NAN, 0);

  // Scores are weighted means: B = (3 + 1) / 6, C = (2 + 1) / 6, so the
  // relative delta is (3 - 4) / 4.
  Comparison weighted =
      comparePaired(units({{3, 2, 4}, {1, 1, 2}}), DeltaKind::Relative);
  CHECK_NEAR(weighted.baseline, 4.0 / 6, 1e-15);
  CHECK_NEAR(weighted.candidate, 3.0 / 6, 1e-15);
  CHECK_NEAR(weighted.delta, -0.25, 1e-15);

  // Identical sides: every resample gives 0.
  Comparison same = comparePaired(units({{1, 1, 1}, {0, 0, 1}, {1, 1, 1}}),
                                  DeltaKind::Relative);
  CHECK_NEAR(same.interval.low, 0, 0);
  CHECK_NEAR(same.interval.high, 0, 0);

  // Pairing: the candidate is always the baseline + 0.5, however much the
  // units differ, so every resample's absolute delta is 0.5 (an unpaired
  // comparison would spread over +-1).
  Comparison paired = comparePaired(
      units({{0, 0.5, 1}, {2, 2.5, 1}, {-1, -0.5, 1}, {1, 1.5, 1}}),
      DeltaKind::Absolute);
  CHECK_NEAR(paired.delta, 0.5, 1e-15);
  CHECK_NEAR(paired.interval.low, 0.5, 1e-15);
  CHECK_NEAR(paired.interval.high, 0.5, 1e-15);

  // 400 cases, the candidate fails 20 that the baseline passes: the mean
  // paired difference is -0.05 with standard error sqrt(0.05 * 0.95 / 400)
  // = 0.010897, so the normal 95% interval is -0.05 +- 1.96 x 0.010897 =
  // [-0.07136, -0.02864]; the bootstrap's must be close (its own Monte
  // Carlo error with 2000 resamples is about 0.001 at these quantiles).
  std::vector<PairedUnit> many(400, PairedUnit{1, 1, 1});
  for (int i = 0; i < 20; ++i)
    many[static_cast<size_t>(i) * 20].candidate = 0;
  Comparison large = comparePaired(many, DeltaKind::Absolute);
  CHECK_NEAR(large.delta, -0.05, 1e-12);
  CHECK_NEAR(large.interval.low, -0.07136, 0.004);
  CHECK_NEAR(large.interval.high, -0.02864, 0.004);
  // A narrower level gives a narrower interval.
  BootstrapOptions half;
  half.confidence = 0.5;
  Comparison narrow = comparePaired(many, DeltaKind::Absolute, half);
  CHECK(narrow.interval.low > large.interval.low);
  CHECK(narrow.interval.high < large.interval.high);
  // The normal 50% interval: -0.05 +- 0.6745 x 0.010897.
  CHECK_NEAR(narrow.interval.low, -0.05735, 0.003);
  CHECK_NEAR(narrow.interval.high, -0.04265, 0.003);

  // A resample without the baseline's only pass has B = 0: +inf for a
  // candidate above 0. Units: (B 0, C 1) and (B 1, C 1). Resamples of
  // 2 draws: both the first (1/4) +inf, both the second (1/4) 0, mixed
  // (1/2) +1. So the 2.5% quantile is 0 and the 97.5% is +inf.
  Comparison infinite =
      comparePaired(units({{0, 1, 1}, {1, 1, 1}}), DeltaKind::Relative);
  CHECK_NEAR(infinite.delta, 1, 0);
  CHECK_NEAR(infinite.interval.low, 0, 0);
  CHECK_NEAR(infinite.interval.high, INFINITY, 0);

  // Exact reproduction: the same cases as eval-stats-reference.py.
  struct Reference {
    const char *name;
    std::vector<PairedUnit> units;
    DeltaKind kind;
    double confidence;
    int resamples;
    uint64_t seed;
  };
  std::vector<PairedUnit> json8 = {{1, 1, 1}, {1, 0, 1}, {1, 1, 1}, {1, 1, 1},
                                   {1, 0, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}};
  const Reference references[] = {
      {"json8", json8, DeltaKind::Relative, 0.95, 2000, kBootstrapSeed},
      {"json8-90", json8, DeltaKind::Relative, 0.90, 1000, 7},
      {"tokens10",
       {{5, 5, 5},
        {3, 2, 4},
        {7, 7, 7},
        {2, 1, 3},
        {6, 6, 6},
        {4, 3, 4},
        {9, 8, 9},
        {1, 1, 2},
        {5, 4, 5},
        {8, 8, 8}},
       DeltaKind::Relative,
       0.95,
       2000,
       kBootstrapSeed},
      {"kld6",
       {{0, 0.03, 3},
        {0, 0.25, 5},
        {0, 0.0, 2},
        {0, 0.12, 4},
        {0, 0.07, 1},
        {0, 0.4, 6}},
       DeltaKind::Absolute,
       0.95,
       2000,
       kBootstrapSeed},
      {"ppl5",
       {{40.5, 41.0, 64},
        {38.25, 38.5, 64},
        {45.0, 47.5, 64},
        {12.0, 12.25, 20},
        {50.0, 50.5, 64}},
       DeltaKind::ExpDifference,
       0.95,
       2000,
       kBootstrapSeed},
  };
  for (const Reference &r : references) {
    BootstrapOptions options;
    options.confidence = r.confidence;
    options.resamples = r.resamples;
    options.seed = r.seed;
    Comparison c = comparePaired(r.units, r.kind, options);
    printf("bootstrap %s: delta %.10g interval [%.10g, %.10g]\n", r.name,
           c.delta, c.interval.low, c.interval.high);
  }
  // By hand, for json8: a resample's delta is -k/8 with k ~ Binomial(8,
  // 1/4) failures drawn. P(k = 0) = 0.75^8 = 0.100 > 0.025, so the upper
  // end is 0: two failures in eight cases are not a significant drop.
  // P(k >= 5) = 0.027 and P(k >= 6) = 0.004, so the lower end is -5/8.
}

void testGate() {
  GateOptions significant, raw;
  raw.rule = GateRule::Raw;
  auto comparison = [](double delta, double low, double high) {
    Comparison c;
    c.delta = delta;
    c.interval = {low, high};
    return c;
  };
  // -25% whose interval reaches 0: beyond the threshold, not significant.
  Comparison unclear = comparison(-0.25, -0.625, 0);
  GateDecision d = decideGate(Metric::ExactMatch, unclear, significant);
  CHECK(d.beyondThreshold && !d.significant && d.passed);
  CHECK(!decideGate(Metric::ExactMatch, unclear, raw).passed);
  // -25% whose interval excludes 0: fails under both rules.
  Comparison clear = comparison(-0.25, -0.4, -0.1);
  CHECK(!decideGate(Metric::ExactMatch, clear, significant).passed);
  CHECK(decideGate(Metric::ExactMatch, clear, significant).significant);
  CHECK(!decideGate(Metric::TokenAccuracy, clear, raw).passed);
  // Significant but small (-2% against 3%): passes under both.
  Comparison small = comparison(-0.02, -0.04, -0.01);
  CHECK(decideGate(Metric::Top1Agreement, small, significant).passed);
  CHECK(decideGate(Metric::Top1Agreement, small, raw).passed);
  // A drop of exactly 3% (0.97 against 1.0, which is -0.030000000000000027
  // in double) is within.
  Comparison edge =
      comparison(computeDelta(1.0, 0.97, DeltaKind::Relative), -0.05, -0.01);
  CHECK(!decideGate(Metric::ExactMatch, edge, raw).beyondThreshold);
  Comparison beyond =
      comparison(computeDelta(1.0, 0.969, DeltaKind::Relative), -0.05, -0.01);
  CHECK(!decideGate(Metric::ExactMatch, beyond, raw).passed);
  // An increase never fails.
  CHECK(decideGate(Metric::ExactMatch, comparison(0.5, 0.1, 0.9), raw).passed);

  // KLD: above --max-kld (0.05) with an interval above 0 fails; below it
  // passes; an interval reaching 0 passes only under the significant rule.
  CHECK(!decideGate(Metric::KLD, comparison(0.06, 0.04, 0.08), significant)
             .passed);
  CHECK(decideGate(Metric::KLD, comparison(0.04, 0.03, 0.05), raw).passed);
  CHECK(
      decideGate(Metric::KLD, comparison(0.06, 0.0, 0.1), significant).passed);
  CHECK(!decideGate(Metric::KLD, comparison(0.06, 0.0, 0.1), raw).passed);
  // NaN (NaN logits) fails.
  CHECK(
      !decideGate(Metric::KLD, comparison(NAN, NAN, NAN), significant).passed);
}

void testMetrics() {
  // One case of 4 answer tokens: the baseline gets all, the candidate 3,
  // agreeing with the baseline on 3; KLD sum 0.2.
  CaseScore s;
  s.tokens = 4;
  s.correct[0] = 4;
  s.correct[1] = 3;
  s.agreed = 3;
  s.kld = 0.2;
  std::vector<CaseScore> scores = {s};
  PairedUnit exact = metricUnits(scores, Metric::ExactMatch)[0];
  CHECK(exact.baseline == 1 && exact.candidate == 0 && exact.weight == 1);
  PairedUnit tokens = metricUnits(scores, Metric::TokenAccuracy)[0];
  CHECK(tokens.baseline == 4 && tokens.candidate == 3 && tokens.weight == 4);
  PairedUnit kld = metricUnits(scores, Metric::KLD)[0];
  CHECK(kld.baseline == 0 && kld.candidate == 0.2 && kld.weight == 4);
  PairedUnit top1 = metricUnits(scores, Metric::Top1Agreement)[0];
  CHECK(top1.baseline == 4 && top1.candidate == 3 && top1.weight == 4);
  CHECK(metricDeltaKind(Metric::KLD) == DeltaKind::Absolute);
  CHECK(metricDeltaKind(Metric::ExactMatch) == DeltaKind::Relative);

  for (Metric m : {Metric::ExactMatch, Metric::TokenAccuracy, Metric::KLD,
                   Metric::Top1Agreement}) {
    Metric parsed;
    CHECK(parseMetric(metricName(m), parsed) && parsed == m);
  }
  Metric parsed;
  CHECK(!parseMetric("accuracy", parsed));
  CHECK_EQ_STR(std::string(metricName(Metric::Top1Agreement)),
               std::string("top1_agreement"));

  Case c;
  std::string metric;
  CHECK_EQ_STR(parseCase("{\"prompt\": \"1+1=\", \"answer\": \"2\\n\", "
                         "\"metric\": \"kld\"}",
                         c, metric),
               std::string(""));
  CHECK_EQ_STR(metric, std::string("kld"));
  CHECK(c.prompt.size() == 4 && c.answer.size() == 2 && c.answer[1] == 10);
  Case d;
  CHECK_EQ_STR(parseCase("{\"prompt\": \"1\", \"answer\": \"2\", "
                         "\"metric\": 3}",
                         d, metric),
               std::string("\"metric\" must be a string, not 3"));
}

/// parseCase's error for `line` ("" when it parses).
std::string caseError(const std::string &line) {
  Case c;
  std::string metric;
  return parseCase(line, c, metric);
}

void testSuiteLines() {
  // Escapes are decoded to UTF-8 bytes, a surrogate pair to 4 bytes; other
  // fields hold anything; whitespace (a CR of CRLF) around the object is
  // fine.
  Case c;
  std::string metric = "stale";
  CHECK_EQ_STR(parseCase("{\"prompt\": \"\\u00e9\\ud83d\\ude00\\n\", "
                         "\"answer\": \"x\", \"n\": [1, {\"a\": null}]}\r",
                         c, metric),
               std::string(""));
  CHECK(metric.empty());
  CHECK((c.prompt ==
         std::vector<int64_t>{0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 10}));
  Case ids;
  CHECK_EQ_STR(parseCase("{\"prompt_ids\": [0, 9223372036854775807, -0], "
                         "\"answer_ids\": [5]}",
                         ids, metric),
               std::string(""));
  CHECK((ids.prompt == std::vector<int64_t>{0, INT64_MAX, 0}));
  CHECK(ids.answer.size() == 1 && ids.answer[0] == 5);

  // Not JSON, or not one object: nlohmann/json's message and the column.
  CHECK_EQ_STR(caseError("{\"prompt\": \"1\", \"answer\": \"2\",}"),
               std::string("syntax error while parsing object key - "
                           "unexpected '}'; expected string literal "
                           "(column 31)"));
  CHECK_EQ_STR(caseError("{\"prompt\": \"1\", \"answer\": \"2\"} {}"),
               std::string("syntax error while parsing value - "
                           "unexpected '{'; expected end of input (column "
                           "32)"));
  CHECK_EQ_STR(caseError("[1, 2]"),
               std::string("expected a JSON object, not [1,2]"));
  CHECK_EQ_STR(caseError("{\"prompt\": \"a\tb\", \"answer\": \"2\"}"),
               std::string("syntax error while parsing value - invalid "
                           "string: control character U+0009 (HT) must be "
                           "escaped to \\u0009 or \\t; last read: "
                           "'\"a<U+0009>' (column 14)"));
  CHECK(caseError("{\"prompt\": \"\xff\", \"answer\": \"2\"}")
            .find("ill-formed UTF-8 byte") != std::string::npos);
  CHECK(caseError("{\"prompt\": \"1\", \"answer\": \"2\" // note") != "");
  CHECK_EQ_STR(caseError("{\"prompt\": \"1\", \"answer\": \"2\", "
                         "\"prompt\": \"3\"}"),
               std::string("duplicate key \"prompt\""));
  // Duplicates inside other fields are theirs to worry about.
  CHECK_EQ_STR(caseError("{\"prompt\": \"1\", \"answer\": \"2\", "
                         "\"x\": {\"a\": 1, \"a\": 2}}"),
               std::string(""));

  // Wrong types name the field and show the value.
  CHECK_EQ_STR(caseError("{\"prompt\": 5, \"answer\": \"2\"}"),
               std::string("\"prompt\" must be a string, not 5"));
  CHECK_EQ_STR(caseError("{\"prompt\": \"1\", \"answer\": [50]}"),
               std::string("\"answer\" must be a string, not [50]"));
  CHECK_EQ_STR(caseError("{\"prompt_ids\": \"12\", \"answer_ids\": [5]}"),
               std::string("\"prompt_ids\" must be an array of token ids, "
                           "not \"12\""));
  CHECK_EQ_STR(caseError("{\"prompt_ids\": [1], \"answer_ids\": [5, 1.5]}"),
               std::string("\"answer_ids\"[1] is 1.5, not a token id (an "
                           "integer from 0 to 2^63 - 1)"));
  CHECK_EQ_STR(caseError("{\"prompt_ids\": [1e2], \"answer_ids\": [5]}"),
               std::string("\"prompt_ids\"[0] is 100.0, not a token id (an "
                           "integer from 0 to 2^63 - 1)"));
  CHECK_EQ_STR(
      caseError("{\"prompt_ids\": [9223372036854775808], \"answer_ids\": [5]}"),
      std::string("\"prompt_ids\"[0] is 9223372036854775808, not a token id "
                  "(an integer from 0 to 2^63 - 1)"));
  CHECK_EQ_STR(caseError("{\"prompt_ids\": [1], \"answer_ids\": [\"5\"]}"),
               std::string("\"answer_ids\"[0] is \"5\", not a token id (an "
                           "integer from 0 to 2^63 - 1)"));
  CHECK_EQ_STR(caseError("{\"prompt_ids\": [1, -3], \"answer_ids\": [5]}"),
               std::string("\"prompt_ids\"[1] is the negative token id -3"));
  CHECK_EQ_STR(caseError("{\"prompt\": \"1\", \"answer\": \"2\", "
                         "\"metric\": {\"name\": \"a very long metric name "
                         "indeed\"}}"),
               std::string("\"metric\" must be a string, not {\"name\":\"a "
                           "very long metric name inde..."));

  // The two kinds, and empty prompts and answers.
  CHECK_EQ_STR(caseError("{\"prompt\": \"1\"}"),
               std::string("a case needs \"prompt\" and \"answer\" (strings) "
                           "or \"prompt_ids\" and \"answer_ids\" (token ids), "
                           "not both kinds"));
  CHECK_EQ_STR(caseError("{\"prompt\": \"\", \"answer\": \"2\"}"),
               std::string("empty prompt (the first answer token must follow "
                           "a prompt token)"));
  CHECK_EQ_STR(caseError("{\"prompt_ids\": [1], \"answer_ids\": []}"),
               std::string("empty answer"));
}

void testText() {
  // One block of 2 tokens: NLL sums 2 ln 2 and 2 ln 3 give perplexities 2
  // and 3 (+50%); every resample is that block.
  TextScore score;
  score.chunks = 1;
  score.tokens = 4;
  score.nll = {{2 * std::log(2.0), 2 * std::log(3.0), 2}};
  score.kld = {{0, 1.0, 4}};
  score.agreement = {{4, 3, 4}};
  score.tokenKld = {0.4, 0.1, 0.3, 0.2};
  TextComparison text = compareText(score);
  CHECK_NEAR(text.perplexity.baseline, 2, 1e-12);
  CHECK_NEAR(text.perplexity.candidate, 3, 1e-12);
  CHECK_NEAR(text.perplexity.delta, 0.5, 1e-12);
  CHECK_NEAR(text.perplexity.interval.low, 0.5, 1e-12);
  CHECK_NEAR(text.kld.candidate, 0.25, 1e-15);
  CHECK_NEAR(text.agreement.candidate, 0.75, 1e-15);
  CHECK_NEAR(text.agreement.delta, -0.25, 1e-15);
  // Sorted 0.1 0.2 0.3 0.4: median at h = 1.5 is 0.25; the 99th percentile
  // at h = 2.97 is 0.3 + 0.97 x 0.1.
  CHECK_NEAR(text.kldMedian, 0.25, 1e-15);
  CHECK_NEAR(text.kldP99, 0.397, 1e-12);
  CHECK_NEAR(text.kldMax, 0.4, 0);
  std::vector<int64_t> bytes = byteTokens("a\xff");
  CHECK(bytes.size() == 2 && bytes[0] == 97 && bytes[1] == 255);
}

/// Parses `text` as JSON, failing the check (and returning null) when it is
/// not strict JSON.
nlohmann::json parseJson(const std::string &text, int line) {
  nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
  check(!value.is_discarded(), "output is not JSON: " + text, line);
  return value;
}

/// The bits of `value`, so that -0.0 and 0.0 differ.
uint64_t bits(double value) {
  uint64_t out;
  memcpy(&out, &value, sizeof(out));
  return out;
}

void testJson() {
  // Awkward names and numbers: every finite double reads back as itself,
  // non-finite ones are null (documented in docs/eval.md).
  const double awkward[] = {0.1,    1.0 / 3, 1e-300, -0.0,
                            2.5e-7, 1e300,   -0.625, 4e-320 /* subnormal */};
  EvalReport report;
  report.baseline = "dir/\"quoted\"\\back\nslash.so";
  report.candidate = "caf\xc3\xa9 \x01 \xff.so"; // é, a control byte, not UTF-8
  report.gate.maxDrop = 0.1;
  for (size_t i = 0; i < sizeof(awkward) / sizeof(awkward[0]); ++i) {
    SuiteResult suite;
    suite.name = "suite" + std::to_string(i);
    suite.cases = 250;
    Comparison &c = suite.metrics[static_cast<int>(Metric::ExactMatch)];
    c.baseline = awkward[i];
    c.candidate = INFINITY;
    c.delta = NAN;
    c.interval = {-INFINITY, awkward[i]};
    report.suites.push_back(suite);
  }
  nlohmann::json json = parseJson(formatReportJson(report), __LINE__);
  CHECK(json["baseline"] == report.baseline);
  CHECK(json["candidate"] == "caf\xc3\xa9 \x01 \xef\xbf\xbd.so"); // U+FFFD
  CHECK(json["max_drop"].get<double>() == 0.1);
  CHECK(json["resamples"].is_number_integer() && json["seed"] == 24301);
  CHECK(json["perplexity"].is_null());
  for (size_t i = 0; i < sizeof(awkward) / sizeof(awkward[0]); ++i) {
    const nlohmann::json &suite = json["suites"]["suite" + std::to_string(i)];
    CHECK(suite["n"].is_number_unsigned() && suite["n"] == 250);
    CHECK(suite["baseline"].is_number_float() &&
          bits(suite["baseline"].get<double>()) == bits(awkward[i]));
    CHECK(suite["interval"][1].is_number_float() &&
          bits(suite["interval"][1].get<double>()) == bits(awkward[i]));
    CHECK(suite["candidate"].is_null() && suite["delta"].is_null() &&
          suite["interval"][0].is_null());
    CHECK(suite["metrics"].size() == 4 &&
          suite["metrics"]["top1_agreement"]["interval"].size() == 2);
  }
  // Keys in the documented order, not sorted.
  std::string text = formatReportJson(report);
  CHECK(text.find("\"baseline\"") < text.find("\"candidate\"") &&
        text.find("\"max_drop\"") < text.find("\"passed\"") &&
        text.find("\"seed\"") < text.find("\"suites\"") && text.back() == '\n');

  TextComparison comparison;
  comparison.chunks = 2;
  comparison.tokens = 1000;
  comparison.kldMax = INFINITY;
  comparison.kldMedian = 1.0 / 3;
  nlohmann::json textJson = parseJson(
      formatTextJson("a.so", "b.so", "t.txt", comparison, BootstrapOptions()),
      __LINE__);
  CHECK(textJson["tokens"] == 1000 && textJson["chunks"] == 2);
  CHECK(textJson["kld"]["max"].is_null());
  CHECK(textJson["kld"]["median"].get<double>() == 1.0 / 3);
  CHECK(textJson["perplexity"]["interval"].size() == 2);
  CHECK(textJson["confidence"].get<double>() == 0.95);
}

void testOutput() {
  CHECK_EQ_STR(formatPercent(-0.25), std::string("-25.00%"));
  CHECK_EQ_STR(formatPercent(0), std::string("+0.00%"));
  CHECK_EQ_STR(formatPercent(INFINITY), std::string("+inf"));
  CHECK_EQ_STR(formatPercent(NAN), std::string("nan"));

  Suite suite;
  suite.name = "json_tools";
  TableLayout layout({suite}, 0.95);
  SuiteResult result;
  result.name = "json_tools";
  result.cases = 8;
  Comparison &c = result.metrics[static_cast<int>(Metric::ExactMatch)];
  c.baseline = 1;
  c.candidate = 0.75;
  c.delta = -0.25;
  c.interval = {-0.625, 0};
  GateOptions gate;
  result.decision = decideGate(Metric::ExactMatch, c, gate);
  CHECK_EQ_STR(formatTableHeader(layout),
               std::string("suite       metric           n  baseline  "
                           "candidate     delta  95% interval          "
                           "result"));
  CHECK_EQ_STR(formatTableRow(layout, result),
               std::string("json_tools  exact_match      8     1.000      "
                           "0.750   -25.00%  [-62.50%, +0.00%]     "
                           "PASS (n.s.)"));
  EvalReport report;
  report.suites = {result};
  CHECK_EQ_STR(formatVerdict(report),
               std::string("PASS: every suite within a relative drop of 3% "
                           "of the baseline, or not significantly beyond it "
                           "at 95% (json_tools)"));
  report.gate.rule = GateRule::Raw;
  report.suites[0].decision = decideGate(Metric::ExactMatch, c, report.gate);
  CHECK_EQ_STR(formatVerdict(report),
               std::string("FAIL: 1 of 1 suites dropped by more than 3% "
                           "relative to the baseline (json_tools)"));
}

void testSha256() {
  auto digest = [](const std::string &text) {
    Sha256 hash;
    hash.update(text.data(), text.size());
    return hexDigest(hash.finish());
  };
  // FIPS 180-4's examples.
  CHECK_EQ_STR(digest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
                           "a495991b7852b855");
  CHECK_EQ_STR(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a"
                              "9cb410ff61f20015ad");
  std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK_EQ_STR(digest(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff216"
                            "7f6ecedd419db06c1");
  CHECK_EQ_STR(digest(std::string(1000000, 'a')),
               "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112c"
               "d0");
  // Fed in pieces of every size, the same digest.
  std::string text;
  for (int i = 0; i < 300; ++i)
    text += static_cast<char>(i * 7);
  std::string whole = digest(text);
  for (size_t piece : {1, 3, 63, 64, 65, 128}) {
    Sha256 hash;
    for (size_t at = 0; at < text.size(); at += piece)
      hash.update(text.data() + at, std::min(piece, text.size() - at));
    CHECK_EQ_STR(hexDigest(hash.finish()), whole);
  }
}

/// Writes `bytes` over the file at `path` from `offset`.
void patchFile(const std::string &path, long offset, const std::string &bytes) {
  FILE *file = fopen(path.c_str(), "r+b");
  fseek(file, offset, SEEK_SET);
  fwrite(bytes.data(), 1, bytes.size(), file);
  fclose(file);
}

void testCacheFiles() {
  char dirTemplate[] = "/tmp/qrun-eval-cache-XXXXXX";
  std::string dir = mkdtemp(dirTemplate);
  std::string path = dir + "/sub/entry.qevc";
  Sha256 keyHash;
  keyHash.updateString("key");
  Digest key = keyHash.finish(), otherKey = key;
  otherKey[0] ^= 1;
  // Two sequences of 2 and 1 rows of 3 logits.
  std::vector<int64_t> rows = {2, 1};
  std::vector<float> logits = {1, 2, 3, 4, 5, 6, 7, 8.5f, -9};
  {
    // Not committed: nothing stays behind.
    CacheWriter writer;
    CHECK_EQ_STR(writer.start(path, key, rows, 3), "");
    CHECK_EQ_STR(writer.put(0, logits.data()), "");
  }
  CachedLogits none;
  CHECK_EQ_STR(none.open(path, key, rows, 3), "missing");
  {
    CacheWriter writer;
    CHECK_EQ_STR(writer.start(path, key, rows, 3), "");
    CHECK_EQ_STR(writer.put(0, logits.data()), "");
    CHECK(!writer.commit().empty()); // sequence 1 missing
  }
  CHECK_EQ_STR(none.open(path, key, rows, 3), "missing");
  {
    // Sequences in any order.
    CacheWriter writer;
    CHECK_EQ_STR(writer.start(path, key, rows, 3), "");
    CHECK_EQ_STR(writer.put(1, logits.data() + 6), "");
    CHECK_EQ_STR(writer.put(0, logits.data()), "");
    CHECK_EQ_STR(writer.commit(), "");
  }
  {
    CachedLogits cached;
    CHECK_EQ_STR(cached.open(path, key, rows, 3), "");
    CHECK(cached.vocab() == 3);
    CHECK(memcmp(cached.rows(0), logits.data(), 6 * sizeof(float)) == 0);
    CHECK(cached.rows(1)[2] == -9.0f);
    CachedLogits dynamic;
    CHECK_EQ_STR(dynamic.open(path, key, rows, -1), "");
  }
  CachedLogits bad;
  CHECK_EQ_STR(bad.open(path, otherKey, rows, 3),
               "its key does not match its name");
  CachedLogits other;
  CHECK_EQ_STR(other.open(path, key, {1, 2}, 3),
               "sequence 0 has 2 rows, expected 1");
  CachedLogits vocab;
  CHECK_EQ_STR(vocab.open(path, key, rows, 4),
               "holds other sequences or another vocabulary than expected");
  // A flipped bit in a logit (the data start at byte 192: 128 + 2 x 8,
  // aligned to 64).
  patchFile(path, 192 + 4, std::string(1, '\x41'));
  CachedLogits corrupt;
  CHECK_EQ_STR(corrupt.open(path, key, rows, 3), "checksum mismatch (corrupt)");
  // Another format version.
  patchFile(path, 8, std::string("\x02\0\0\0", 4));
  CachedLogits version;
  CHECK_EQ_STR(version.open(path, key, rows, 3),
               "format version 2, this qrun reads 1");
  // Truncated.
  CHECK(truncate(path.c_str(), 200) == 0);
  CachedLogits truncated;
  CHECK_EQ_STR(truncated.open(path, key, rows, 3).substr(0, 13),
               "format versio");
  patchFile(path, 8, std::string("\x01\0\0\0", 4));
  CHECK_EQ_STR(truncated.open(path, key, rows, 3),
               "has 200 bytes, expected 228");
  CHECK(truncate(path.c_str(), 10) == 0);
  CachedLogits tiny;
  CHECK_EQ_STR(tiny.open(path, key, rows, 3), "truncated (10 bytes)");
  remove(path.c_str());
  rmdir((dir + "/sub").c_str());
  rmdir(dir.c_str());
}

} // namespace

int main() {
  testDeltas();
  testSplitMix64();
  testQuantile();
  testLogits();
  testComparePaired();
  testGate();
  testMetrics();
  testSuiteLines();
  testText();
  testJson();
  testOutput();
  testSha256();
  testCacheFiles();
  printf("%d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
