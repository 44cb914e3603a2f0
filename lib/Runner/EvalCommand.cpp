//===- EvalCommand.cpp - the qrun eval command line -----------------------===//
//
// Options, progress and printing only; what it computes is the library in
// Eval.h and EvalStats.h.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/Eval.h"
#include "qopt/Runner/EvalReportHtml.h"

#include "qopt/Runner/Common.h"
#include "qopt/Runner/Tensor.h"
#include "qopt/Runtime/qrt.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace qrun;
using namespace qrun::eval;

namespace {

const char *kEvalDescription =
    "Compares candidate artifacts with their baseline, language models "
    "(token ids in, logits out). On suites it scores the baseline once and "
    "every candidate per capability with paired bootstrap intervals and gates "
    "each (exit 1 when a suite of any candidate drops significantly and by "
    "more than --max-drop); on a text (--text or --tokens) it reports "
    "perplexity, KL divergence and top-1 agreement of one candidate.";

const char *kEvalFooter =
    "Suites: qrun eval --baseline ART --candidate ART [--candidate ART ...]\n"
    "        --suites DIR [...]\n"
    "Text:   qrun eval --baseline ART --candidate ART (--text FILE |\n"
    "        --tokens IDS.npy) [--confidence C] [--json OUT] [--threads N]\n"
    "        [--batch N] [--report OUT.html] [--tokenizer FILE]\n"
    "Exit codes: 0 every suite passed (or a text was compared), 1 a suite\n"
    "failed the gate, 2 a usage or input error. docs/eval.md describes the\n"
    "suites, the metrics, the statistics and the JSON.";

std::string baseName(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// Bytes as the tokens of a model with a larger vocabulary are rarely what
/// was meant.
void warnBytes(const ModelSet &models, const TextEncoder &encoder) {
  if (!encoder.tokenizer && models.vocab > 256)
    fprintf(stderr,
            "qrun eval: warning: strings are tokenized as bytes, but the "
            "models have %lld tokens: pass their tokenizer.json with "
            "--tokenizer\n",
            static_cast<long long>(models.vocab));
}

/// The text mode: KLD, top-1 agreement and perplexity on one token sequence.
int compareOnText(const std::string &baselinePath,
                  const std::string &candidatePath, const std::string &path,
                  bool bytes, const BootstrapOptions &bootstrap,
                  const std::string &jsonPath, const std::string &reportPath,
                  long long batch, size_t workers, const TextEncoder &encoder,
                  const std::string &tokenizerName) {
  std::vector<int64_t> tokens;
  if (bytes) {
    std::string text;
    if (std::string error = readFile(path, text); !error.empty())
      return usageError(error);
    if (std::string error = encoder.encodeText(text, tokens); !error.empty())
      return usageError(path + ": " + error);
    if (tokens.size() < 2)
      return usageError(path + ": needs at least 2 tokens");
  } else if (std::string error = readTokenIds(path, tokens); !error.empty()) {
    return usageError(error);
  }
  ModelSet models;
  if (std::string error =
          models.load(baselinePath, {candidatePath}, batch, workers);
      !error.empty())
    return usageError(error);
  if (std::string error =
          checkTokenizerVocabulary(models, encoder.tokenizer, tokenizerName);
      !error.empty())
    return usageError(error);
  if (bytes)
    warnBytes(models, encoder);
  if (models.vocab > 0)
    for (int64_t id : tokens)
      if (id >= models.vocab)
        return usageError(path + ": token id " + std::to_string(id) +
                          " is outside the model's vocabulary (" +
                          std::to_string(models.vocab) + " tokens)");
  double start = nowMs();
  Progress progress;
  std::vector<TextScore> scores;
  std::string error = scoreText(models, tokens, scores, nullptr,
                                progress.callback(baseName(path)));
  progress.clear();
  if (!error.empty())
    return usageError(path + ": " + error);
  TextComparison text = compareText(scores[0], bootstrap);
  fputs(formatTextReport(baseName(path), text, bootstrap.confidence).c_str(),
        stdout);
  fflush(stdout);
  fprintf(stderr,
          "qrun eval: %lld tokens x 2 artifacts in %.1f s (%zu threads)\n",
          static_cast<long long>(text.tokens), (nowMs() - start) / 1000,
          workers * static_cast<size_t>(qrt_get_num_threads()));
  if (!jsonPath.empty())
    if (std::string error = writeFileAtomically(
            jsonPath, formatTextJson(baselinePath, candidatePath, path, text,
                                     bootstrap, tokenizerName));
        !error.empty())
      return usageError(error);
  if (!reportPath.empty()) {
    NamedReport named;
    named.name = candidateLabels({candidatePath})[0];
    named.report.baseline = baselinePath;
    named.report.candidate = candidatePath;
    named.report.tokenizer = tokenizerName;
    named.report.bootstrap = bootstrap;
    named.report.textPath = path;
    named.report.text = text;
    if (std::string error =
            writeFileAtomically(reportPath, formatReportHtml({named}));
        !error.empty())
      return usageError(error);
  }
  return 0;
}

} // namespace

int qrun::evalCommand(int argc, char **argv) {
  std::string baselinePath, suitesDir, jsonPath, pplPath, textPath, tokensPath,
      reportPath, tokenizerPath, bosText, cacheDir;
  std::vector<std::string> candidatePaths;
  std::string gateText = "significant";
  long long limit = 0, threads = 0, batch = 8, workersOption = 0;
  GateOptions gate;
  BootstrapOptions bootstrap;
  // One line per option, bound to the variable that holds its default.
  CommandLine cli("eval", kEvalDescription);
  cli.option("--baseline", baselinePath, "ART",
             "the reference artifact (required)");
  cli.option("--candidate", candidatePaths, "ART",
             "an artifact under test (required; repeat it to compare several "
             "against one run of the baseline)");
  cli.option("--suites", suitesDir, "DIR",
             "every DIR/*.jsonl is a suite, in name order (required, unless "
             "--text or --tokens)");
  cli.option(
      "--max-drop", gate.maxDrop, [](double x) { return x >= 0; },
      "a relative drop >= 0 (0.03 = 3%)",
      "largest relative drop of a suite's score (default 0.03: 3%)");
  cli.option(
      "--max-kld", gate.maxKld, [](double x) { return x >= 0; },
      "a mean KLD in nats >= 0",
      "largest mean KL divergence of a kld suite, nats (default 0.05)");
  cli.choice("--gate", gateText, {"significant", "raw"},
             "fail a suite on a significant change beyond the threshold "
             "(default), or on any (raw)");
  cli.option(
      "--confidence", bootstrap.confidence,
      [](double c) { return c > 0 && c < 1; }, "a level between 0 and 1 (0.95)",
      "two-sided level of the intervals and the test (default 0.95)");
  cli.option("--limit", limit, 1,
             "score the first N cases of each suite (all lines are checked)");
  cli.option("--json", jsonPath, "OUT", "also write the results as JSON");
  cli.option("--threads", threads, 0,
             "kernel threads (default 0: every usable CPU)");
  cli.option("--batch", batch, 1, "at most N sequences per run (default 8)");
  cli.option("--workers", workersOption, 1,
             "batches run at once, each with its share of --threads "
             "(default: one per thread)");
  std::string device = "cpu";
  cli.choice("--device", device, kDevices,
             "where the candidates run: cpu (default) or cuda (artifacts of "
             "qopt-compile --target=cuda); the baseline may be either");
  cli.option("--baseline-cache", cacheDir, "DIR",
             "reuse the baseline's results from DIR when the artifact, "
             "suites and options are the same (docs/eval.md)");
  cli.option("--ppl-file", pplPath, "FILE",
             "text for perplexity (default DIR/prose_heldout.txt if it "
             "exists)");
  cli.option("--text", textPath, "FILE",
             "compare on the bytes of FILE instead of suites (no gate)");
  cli.option("--tokens", tokensPath, "IDS.npy",
             "compare on the token ids in a .npy of integers (no gate)");
  cli.option("--report", reportPath, "OUT.html",
             "also write a self-contained HTML report (docs/eval.md)");
  // The tokenizer's options (docs/eval.md, "Tokenizers").
  cli.option("--tokenizer", tokenizerPath, "FILE",
             "a Hugging Face tokenizer.json for the strings of suites and "
             "texts (default: bytes, token id = byte value)");
  cli.option("--bos", bosText, "auto|none|TOKEN",
             "the BOS before every prompt and text (default auto: what the "
             "tokenizer's post-processor adds)");
  cli.footer(kEvalFooter);
  if (int rc = cli.parse(argc, argv); rc >= 0)
    return rc;

  bool textMode = !textPath.empty() || !tokensPath.empty();
  if (baselinePath.empty())
    return cli.usageError("--baseline is required");
  if (candidatePaths.empty())
    return cli.usageError("--candidate is required");
  if (!textMode && suitesDir.empty())
    return cli.usageError(
        "--suites is required (or --text/--tokens to compare on a text)");
  if (textMode && (!suitesDir.empty() || !pplPath.empty() || limit))
    return cli.usageError(
        "--text and --tokens compare the artifacts on a text; "
        "they do not take --suites, --ppl-file or --limit");
  if (!textPath.empty() && !tokensPath.empty())
    return cli.usageError("--text and --tokens: one text at a time");
  if (textMode && (candidatePaths.size() > 1 || !cacheDir.empty()))
    return cli.usageError("--text and --tokens compare one candidate; they "
                          "do not take several --candidate or "
                          "--baseline-cache");

  if (gateText == "raw")
    gate.rule = GateRule::Raw;
  std::unique_ptr<Tokenizer> tokenizer;
  TextEncoder encoder;
  if (std::string error =
          loadTextEncoder(tokenizerPath, bosText, tokenizer, encoder);
      !error.empty())
    return usageError(error);
  std::string tokenizerName = tokenizerPath.empty() ? "bytes" : tokenizerPath;
  // --threads in all: --workers batches at once (default: one per thread),
  // each with its share of the threads for its kernels.
  qrt_set_num_threads(static_cast<int>(threads));
  size_t threadCount = static_cast<size_t>(qrt_get_num_threads());
  size_t workers =
      workersOption > 0 ? static_cast<size_t>(workersOption) : threadCount;
  qrt_set_num_threads(
      static_cast<int>(std::max<size_t>(1, threadCount / workers)));
  threadCount = workers * static_cast<size_t>(qrt_get_num_threads());

  if (textMode) {
    for (const std::string &candidate : candidatePaths)
      if (std::string error = checkArtifactDevice(candidate, device);
          !error.empty())
        return usageError(error);
    return compareOnText(baselinePath, candidatePaths[0],
                         !textPath.empty() ? textPath : tokensPath,
                         !textPath.empty(), bootstrap, jsonPath, reportPath,
                         batch, workers, encoder, tokenizerName);
  }

  // Every suite is read and checked before anything runs.
  std::vector<Suite> suites;
  if (std::string error = readSuites(suitesDir, limit, suites, &encoder);
      !error.empty())
    return usageError(error);
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
  }
  std::vector<int64_t> pplTokens;
  if (!pplText.empty()) {
    if (std::string error = encoder.encodeText(pplText, pplTokens);
        !error.empty())
      return usageError(pplPath + ": " + error);
    if (pplTokens.size() < 2)
      return usageError(pplPath + ": needs at least 2 tokens for perplexity");
  }

  // After the suites: a bad suite line is reported before any artifact is
  // opened.
  for (const std::string &candidate : candidatePaths)
    if (std::string error = checkArtifactDevice(candidate, device);
        !error.empty())
      return usageError(error); // as any artifact that does not load
  ModelSet models;
  if (std::string error =
          models.load(baselinePath, candidatePaths, batch, workers);
      !error.empty())
    return usageError(error);
  if (std::string error =
          checkTokenizerVocabulary(models, encoder.tokenizer, tokenizerName);
      !error.empty())
    return usageError(error);
  for (const Suite &suite : suites)
    if (std::string error = checkSuite(models, suite); !error.empty())
      return usageError(error);
  if (!tokenizer && models.vocab > 0 && models.vocab < 256 && !pplText.empty())
    return usageError(pplPath +
                      ": perplexity is measured on bytes, and the "
                      "model has only " +
                      std::to_string(models.vocab) + " tokens");
  bool anyText = !pplText.empty();
  for (const Suite &suite : suites)
    for (const Case &c : suite.cases)
      anyText = anyText || c.fromText;
  if (anyText)
    warnBytes(models, encoder);
  Progress progress;
  BaselineCache cache;
  cache.dir = cacheDir;
  cache.note = [&progress](const std::string &note) {
    progress.clear();
    fprintf(stderr, "qrun eval: note: %s\n", note.c_str());
  };
  if (cache.enabled())
    if (std::string error = cache.prepare(models); !error.empty())
      return usageError("--baseline-cache: " + error);

  EvalSetup setup;
  setup.gate = gate;
  setup.bootstrap = bootstrap;
  setup.textPath = pplPath;
  setup.textTokens = pplTokens;
  setup.tokenizer = tokenizerName;
  std::vector<EvalReport> reports;
  double start = nowMs();
  TableLayout layout(suites, bootstrap.confidence);
  // One candidate: rows as suites finish. Several: a table per candidate at
  // the end.
  bool single = candidatePaths.size() == 1;
  if (single) {
    printf("%s\n", formatTableHeader(layout).c_str());
    fflush(stdout);
  }
  EvalCallbacks callbacks;
  callbacks.progress = [&progress](const std::string &stage, size_t done,
                                   size_t total) {
    progress.callback(stage)(done, total);
  };
  callbacks.suiteDone = [&](size_t index) {
    progress.clear();
    if (single) {
      printf("%s\n", formatTableRow(layout, reports[0].suites[index]).c_str());
      fflush(stdout);
    }
  };
  std::string error =
      evaluateSuites(models, suites, setup, &cache, reports, callbacks);
  progress.clear();
  if (!error.empty())
    return usageError(error);
  bool passed = true;
  for (size_t c = 0; c < reports.size(); ++c) {
    const EvalReport &report = reports[c];
    passed &= report.passed();
    if (single) {
      if (!report.textPath.empty())
        printf("%s\n",
               formatPerplexityLine(baseName(report.textPath), report.text)
                   .c_str());
      printf("%s\n", formatVerdict(report).c_str());
    } else {
      printf("%scandidate %zu of %zu: %s\n%s", c ? "\n" : "", c + 1,
             reports.size(), report.candidate.c_str(),
             formatReportTable(layout, report).c_str());
    }
  }
  if (!single)
    printf("\n%s\n", formatCandidatesVerdict(reports).c_str());
  fflush(stdout);
  size_t cases = 0;
  for (const Suite &suite : suites)
    cases += suite.cases.size();
  std::string cacheText;
  if (cache.enabled())
    cacheText = "; baseline cache: " + std::to_string(cache.hits) + " hit" +
                (cache.hits == 1 ? "" : "s") + ", " +
                std::to_string(cache.misses) + " computed";
  fprintf(stderr,
          "qrun eval: %zu cases x %zu artifacts in %.1f s (%zu threads%s)\n",
          cases, candidatePaths.size() + 1, (nowMs() - start) / 1000,
          threadCount, cacheText.c_str());

  if (!jsonPath.empty())
    if (std::string error =
            writeFileAtomically(jsonPath, formatReportsJson(reports));
        !error.empty())
      return usageError(error);
  if (!reportPath.empty()) {
    std::vector<std::string> labels = candidateLabels(candidatePaths);
    std::vector<NamedReport> named;
    for (size_t c = 0; c < reports.size(); ++c)
      named.push_back({labels[c], reports[c]});
    if (std::string error =
            writeFileAtomically(reportPath, formatReportHtml(named));
        !error.empty())
      return usageError(error);
  }
  return passed ? 0 : 1;
}
