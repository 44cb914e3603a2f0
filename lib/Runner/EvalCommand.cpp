//===- EvalCommand.cpp - the qrun eval command line -----------------------===//
//
// Options, progress and printing only; what it computes is the library in
// Eval.h and EvalStats.h.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/Eval.h"

#include "qopt/Runner/Common.h"
#include "qopt/Runner/Tensor.h"
#include "qopt/Runtime/qrt.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace qrun;
using namespace qrun::eval;

namespace {

const char *kEvalUsage =
    "usage: qrun eval --baseline ART --candidate ART --suites DIR\n"
    "    [--max-drop X] [--max-kld X] [--gate significant|raw]\n"
    "    [--confidence C] [--limit N] [--json OUT] [--threads N] [--batch B]\n"
    "    [--ppl-file FILE]\n"
    "   or: qrun eval --baseline ART --candidate ART\n"
    "    (--text FILE | --tokens IDS.npy) [--confidence C] [--json OUT]\n"
    "    [--threads N]";

std::string baseName(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// Parses a whole finite number.
bool parseDouble(const std::string &text, double &value) {
  char *end = nullptr;
  value = strtod(text.c_str(), &end);
  return !text.empty() && *end == 0 && std::isfinite(value);
}

/// The text mode: KLD, top-1 agreement and perplexity on one token sequence.
int compareOnText(const std::string &baselinePath,
                  const std::string &candidatePath, const std::string &path,
                  bool bytes, const BootstrapOptions &bootstrap,
                  const std::string &jsonPath, long long batch) {
  std::vector<int64_t> tokens;
  if (bytes) {
    std::string text;
    if (std::string error = readFile(path, text); !error.empty())
      return usageError(error);
    if (text.size() < 2)
      return usageError(path + ": needs at least 2 bytes");
    tokens = byteTokens(text);
  } else if (std::string error = readTokenIds(path, tokens); !error.empty()) {
    return usageError(error);
  }
  ModelPair pair;
  if (std::string error = pair.load(baselinePath, candidatePath, batch);
      !error.empty())
    return usageError(error);
  if (pair.vocab > 0)
    for (int64_t id : tokens)
      if (id >= pair.vocab)
        return usageError(path + ": token id " + std::to_string(id) +
                          " is outside the model's vocabulary (" +
                          std::to_string(pair.vocab) + " tokens)");
  double start = nowMs();
  Progress progress;
  int64_t chunkSize = std::min(kTextChunk, pair.maxLength);
  progress.start(baseName(path), (tokens.size() - 2) / chunkSize + 1);
  TextScore score;
  std::string error = scoreText(pair, tokens, score, progress.callback());
  progress.clear();
  if (!error.empty())
    return usageError(path + ": " + error);
  TextComparison text = compareText(score, bootstrap);
  fputs(formatTextReport(baseName(path), text, bootstrap.confidence).c_str(),
        stdout);
  fflush(stdout);
  fprintf(stderr,
          "qrun eval: %lld tokens x 2 artifacts in %.1f s (%d threads)\n",
          static_cast<long long>(text.tokens), (nowMs() - start) / 1000,
          qrt_get_num_threads());
  if (!jsonPath.empty())
    if (std::string error = writeFileAtomically(
            jsonPath,
            formatTextJson(baselinePath, candidatePath, path, text, bootstrap));
        !error.empty())
      return usageError(error);
  return 0;
}

} // namespace

int qrun::evalCommand(int argc, char **argv) {
  std::string baselinePath, candidatePath, suitesDir,
      maxDropText = "0.03", maxKldText = "0.05", gateText = "significant",
      confidenceText = "0.95", jsonPath, pplPath, textPath, tokensPath;
  long long limit = 0, threads = 0, batch = 8;
  ArgParser args;
  args.strings = {
      {"--baseline", &baselinePath},     {"--candidate", &candidatePath},
      {"--suites", &suitesDir},          {"--max-drop", &maxDropText},
      {"--max-kld", &maxKldText},        {"--gate", &gateText},
      {"--confidence", &confidenceText}, {"--json", &jsonPath},
      {"--ppl-file", &pplPath},          {"--text", &textPath},
      {"--tokens", &tokensPath}};
  args.ints = {{"--limit", &limit, 1},
               {"--threads", &threads, 0},
               {"--batch", &batch, 1}};
  if (std::string error = args.parse(argc, argv); !error.empty())
    return usageError(error + "\n" + kEvalUsage);
  bool textMode = !textPath.empty() || !tokensPath.empty();
  const std::pair<const std::string *, const char *> required[] = {
      {&baselinePath, "--baseline"}, {&candidatePath, "--candidate"}};
  for (const auto &[value, flag] : required)
    if (value->empty())
      return usageError(std::string(flag) + " is required\n" + kEvalUsage);
  if (!textMode && suitesDir.empty())
    return usageError(
        "--suites is required (or --text/--tokens to compare on a text)\n" +
        std::string(kEvalUsage));
  if (textMode && (!suitesDir.empty() || !pplPath.empty() || limit))
    return usageError("--text and --tokens compare the artifacts on a text; "
                      "they do not take --suites, --ppl-file or --limit");
  if (!textPath.empty() && !tokensPath.empty())
    return usageError("--text and --tokens: one text at a time");

  GateOptions gate;
  BootstrapOptions bootstrap;
  if (!parseDouble(maxDropText, gate.maxDrop) || gate.maxDrop < 0)
    return usageError("--max-drop takes a relative drop >= 0 (0.03 = 3%), "
                      "got '" +
                      maxDropText + "'");
  if (!parseDouble(maxKldText, gate.maxKld) || gate.maxKld < 0)
    return usageError("--max-kld takes a mean KLD in nats >= 0, got '" +
                      maxKldText + "'");
  if (gateText == "raw")
    gate.rule = GateRule::Raw;
  else if (gateText != "significant")
    return usageError("--gate takes 'significant' or 'raw', got '" + gateText +
                      "'");
  if (!parseDouble(confidenceText, bootstrap.confidence) ||
      !(bootstrap.confidence > 0 && bootstrap.confidence < 1))
    return usageError("--confidence takes a level between 0 and 1 (0.95), "
                      "got '" +
                      confidenceText + "'");
  qrt_set_num_threads(static_cast<int>(threads));

  if (textMode)
    return compareOnText(baselinePath, candidatePath,
                         !textPath.empty() ? textPath : tokensPath,
                         !textPath.empty(), bootstrap, jsonPath, batch);

  // Every suite is read and checked before anything runs.
  std::vector<Suite> suites;
  if (std::string error = readSuites(suitesDir, limit, suites); !error.empty())
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
    if (pplText.size() < 2)
      return usageError(pplPath + ": needs at least 2 bytes for perplexity");
  }

  ModelPair pair;
  if (std::string error = pair.load(baselinePath, candidatePath, batch);
      !error.empty())
    return usageError(error);
  for (const Suite &suite : suites)
    if (std::string error = checkSuite(pair, suite); !error.empty())
      return usageError(error);
  if (pair.vocab > 0 && pair.vocab < 256 && !pplText.empty())
    return usageError(pplPath +
                      ": perplexity is measured on bytes, and the "
                      "model has only " +
                      std::to_string(pair.vocab) + " tokens");

  EvalReport report;
  report.baseline = baselinePath;
  report.candidate = candidatePath;
  report.gate = gate;
  report.bootstrap = bootstrap;
  double start = nowMs();
  Progress progress;
  TableLayout layout(suites, bootstrap.confidence);
  printf("%s\n", formatTableHeader(layout).c_str());
  fflush(stdout);
  for (const Suite &suite : suites) {
    std::vector<CaseScore> scores;
    progress.start(suite.name, suite.cases.size());
    std::string error = scoreSuite(pair, suite, scores, progress.callback());
    progress.clear();
    if (!error.empty())
      return usageError(error);
    report.suites.push_back(summarizeSuite(suite, scores, gate, bootstrap));
    printf("%s\n", formatTableRow(layout, report.suites.back()).c_str());
    fflush(stdout);
  }

  if (!pplText.empty()) {
    std::vector<int64_t> tokens = byteTokens(pplText);
    int64_t chunkSize = std::min(kTextChunk, pair.maxLength);
    progress.start("perplexity", (tokens.size() - 2) / chunkSize + 1);
    TextScore score;
    std::string error = scoreText(pair, tokens, score, progress.callback());
    progress.clear();
    if (!error.empty())
      return usageError(pplPath + ": " + error);
    report.textPath = pplPath;
    report.text = compareText(score, bootstrap);
    printf("%s\n",
           formatPerplexityLine(baseName(pplPath), report.text).c_str());
  }
  printf("%s\n", formatVerdict(report).c_str());
  fflush(stdout);
  size_t cases = 0;
  for (const Suite &suite : suites)
    cases += suite.cases.size();
  fprintf(stderr, "qrun eval: %zu cases x 2 artifacts in %.1f s (%d threads)\n",
          cases, (nowMs() - start) / 1000, qrt_get_num_threads());

  if (!jsonPath.empty())
    if (std::string error =
            writeFileAtomically(jsonPath, formatReportJson(report));
        !error.empty())
      return usageError(error);
  return report.passed() ? 0 : 1;
}
