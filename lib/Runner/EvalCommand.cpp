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

#include <algorithm>
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
    "    [--candidate ART ...] [--max-drop X] [--max-kld X]\n"
    "    [--gate significant|raw]\n"
    "    [--confidence C] [--limit N] [--json OUT] [--threads N] [--batch B]\n"
    "    [--workers W] [--ppl-file FILE] [--baseline-cache DIR]\n"
    "   or: qrun eval --baseline ART --candidate ART\n"
    "    (--text FILE | --tokens IDS.npy) [--confidence C] [--json OUT]\n"
    "    [--threads N] [--workers W]";

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
    shown = true;
    double seconds = (nowMs() - begin) / 1000;
    fprintf(stderr, "\r%s: %zu/%zu", label.c_str(), done, total);
    if (done && seconds > 0)
      fprintf(stderr, ", %.1f/s", static_cast<double>(done) / seconds);
    fprintf(stderr, "\033[K");
    fflush(stderr);
  }
  void clear() {
    if (enabled && shown)
      fprintf(stderr, "\r\033[K");
    shown = false;
  }
  ProgressFn callback(const std::string &what) {
    return [this, what](size_t done, size_t total) {
      if (what != label || total != this->total)
        start(what, total);
      update(done);
    };
  }

private:
  bool enabled, shown = false;
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
                  const std::string &jsonPath, long long batch,
                  size_t workers) {
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
  ModelSet models;
  if (std::string error =
          models.load(baselinePath, {candidatePath}, batch, workers);
      !error.empty())
    return usageError(error);
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
            jsonPath,
            formatTextJson(baselinePath, candidatePath, path, text, bootstrap));
        !error.empty())
      return usageError(error);
  return 0;
}

} // namespace

int qrun::evalCommand(int argc, char **argv) {
  std::string baselinePath, suitesDir,
      maxDropText = "0.03", maxKldText = "0.05", gateText = "significant",
      confidenceText = "0.95", jsonPath, pplPath, textPath, tokensPath,
      cacheDir;
  std::vector<std::string> candidatePaths;
  long long limit = 0, threads = 0, batch = 8, workersOption = 0;
  ArgParser args;
  args.strings = {
      {"--baseline", &baselinePath},  {"--suites", &suitesDir},
      {"--max-drop", &maxDropText},   {"--max-kld", &maxKldText},
      {"--gate", &gateText},          {"--confidence", &confidenceText},
      {"--json", &jsonPath},          {"--ppl-file", &pplPath},
      {"--text", &textPath},          {"--tokens", &tokensPath},
      {"--baseline-cache", &cacheDir}};
  args.lists = {{"--candidate", &candidatePaths}};
  args.ints = {{"--limit", &limit, 1},
               {"--threads", &threads, 0},
               {"--batch", &batch, 1},
               {"--workers", &workersOption, 1}};
  if (std::string error = args.parse(argc, argv); !error.empty())
    return usageError(error + "\n" + kEvalUsage);
  bool textMode = !textPath.empty() || !tokensPath.empty();
  if (baselinePath.empty())
    return usageError(std::string("--baseline is required\n") + kEvalUsage);
  if (candidatePaths.empty())
    return usageError(std::string("--candidate is required\n") + kEvalUsage);
  if (!textMode && suitesDir.empty())
    return usageError(
        "--suites is required (or --text/--tokens to compare on a text)\n" +
        std::string(kEvalUsage));
  if (textMode && (!suitesDir.empty() || !pplPath.empty() || limit))
    return usageError("--text and --tokens compare the artifacts on a text; "
                      "they do not take --suites, --ppl-file or --limit");
  if (!textPath.empty() && !tokensPath.empty())
    return usageError("--text and --tokens: one text at a time");
  if (textMode && (candidatePaths.size() > 1 || !cacheDir.empty()))
    return usageError("--text and --tokens compare one candidate; they do "
                      "not take several --candidate or --baseline-cache");

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
  // --threads in all: --workers batches at once (default: one per thread),
  // each with its share of the threads for its kernels.
  qrt_set_num_threads(static_cast<int>(threads));
  size_t threadCount = static_cast<size_t>(qrt_get_num_threads());
  size_t workers =
      workersOption > 0 ? static_cast<size_t>(workersOption) : threadCount;
  qrt_set_num_threads(
      static_cast<int>(std::max<size_t>(1, threadCount / workers)));
  threadCount = workers * static_cast<size_t>(qrt_get_num_threads());

  if (textMode)
    return compareOnText(baselinePath, candidatePaths[0],
                         !textPath.empty() ? textPath : tokensPath,
                         !textPath.empty(), bootstrap, jsonPath, batch,
                         workers);

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

  ModelSet models;
  if (std::string error =
          models.load(baselinePath, candidatePaths, batch, workers);
      !error.empty())
    return usageError(error);
  for (const Suite &suite : suites)
    if (std::string error = checkSuite(models, suite); !error.empty())
      return usageError(error);
  if (models.vocab > 0 && models.vocab < 256 && !pplText.empty())
    return usageError(pplPath +
                      ": perplexity is measured on bytes, and the "
                      "model has only " +
                      std::to_string(models.vocab) + " tokens");
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
  setup.text = pplText;
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
  return passed ? 0 : 1;
}
