//===- EvalReportHtmlTest.cpp - unit tests of qrun eval's HTML report -----===//
//
// formatReportHtml on made-up results of two candidates: a pass, a drop
// beyond the threshold that is not significant, a failure, a NaN delta, a
// -100% drop, an infinite gain, a kld suite and a suite only one candidate
// ran, under names that need escaping. Checks that every coordinate is a
// finite number, that every name is escaped and that the page does not
// change between calls; with a path argument, also writes the page there
// (test/Runner/eval-report.test checks its structure and takes a
// screenshot of it). Exits 1 and names each failed check.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/EvalReportHtml.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace qrun::eval;

namespace {

int checks = 0, failures = 0;

void check(bool ok, const std::string &what, int line) {
  ++checks;
  if (!ok) {
    ++failures;
    fprintf(stderr, "EvalReportHtmlTest.cpp:%d: check failed: %s\n", line,
            what.c_str());
  }
}

#define CHECK(cond) check((cond), #cond, __LINE__)

size_t count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size()))
    ++n;
  return n;
}

SuiteResult suite(const std::string &name, Metric metric, double baseline,
                  double candidate, double delta, double low, double high,
                  const GateOptions &gate) {
  SuiteResult result;
  result.name = name;
  result.metric = metric;
  result.cases = 8;
  Comparison &c = result.metrics[static_cast<int>(metric)];
  c.baseline = baseline;
  c.candidate = candidate;
  c.delta = delta;
  c.interval = {low, high};
  result.decision = decideGate(metric, c, gate);
  return result;
}

TextComparison text(double pplDelta, double agreement) {
  TextComparison t;
  t.chunks = 1;
  t.tokens = 299;
  t.perplexity = {
      1.1523, 1.1523 * (1 + pplDelta), pplDelta, {pplDelta / 2, pplDelta * 2}};
  t.kld = {0, 0.0123, 0.0123, {0.005, 0.021}};
  t.agreement = {1, agreement, agreement - 1, {agreement - 1.02, 0}};
  t.kldMedian = 1e-5;
  t.kldP99 = 0.4;
  t.kldMax = 3.5;
  return t;
}

std::vector<NamedReport> makeReports() {
  GateOptions gate;
  EvalReport a;
  a.baseline = "/models/fp32 <base>.so";
  a.candidate = "/models/int4 \"A\" & <b>.so";
  a.gate = gate;
  a.suites = {
      suite("chat", Metric::ExactMatch, 1, 1, 0, 0, 0, gate),
      suite("json_<tools>", Metric::ExactMatch, 1, 0.75, -0.25, -0.625, 0,
            gate),
      suite("code_gen", Metric::ExactMatch, 1, 0.5, -0.5, -0.75, -0.25, gate),
      suite("math", Metric::ExactMatch, NAN, NAN, NAN, NAN, NAN, gate),
      suite("json_kld", Metric::KLD, 0, 0.02, 0.02, 0.01, 0.03, gate),
  };
  a.textPath = "evals/prose_heldout.txt";
  a.text = text(0.0357, 0.9631);

  EvalReport b = a;
  b.candidate = "/models/int2.so";
  b.suites = {
      suite("chat", Metric::ExactMatch, 1, 0, -1, -1, -1, gate),
      suite("json_<tools>", Metric::ExactMatch, 0, 0.5, INFINITY, 0, INFINITY,
            gate),
      suite("code_gen", Metric::ExactMatch, 0.1, 1, 9, 2, 40, gate),
      suite("json_kld", Metric::KLD, 0, 3.7, 3.7, 2, INFINITY, gate),
      suite("only_b", Metric::TokenAccuracy, 0.9, 0.89, -0.0111, -0.02, 0,
            gate),
  };
  b.text = text(25.0, 0.31);
  return {{"int4 \"A\" & <b>", a}, {"int2", b}};
}

/// Every x, y, width, height, points and viewBox attribute holds finite
/// numbers only.
void checkCoordinates(const std::string &html) {
  static const char *names[] = {
      " x=\"",  " y=\"",     " x1=\"",     " x2=\"",     " y1=\"",
      " y2=\"", " width=\"", " height=\"", " points=\"", " viewBox=\""};
  size_t seen = 0;
  for (const char *name : names) {
    std::string key = name;
    for (size_t at = html.find(key); at != std::string::npos;
         at = html.find(key, at + 1)) {
      size_t begin = at + key.size(), end = html.find('"', begin);
      std::string value = html.substr(begin, end - begin);
      ++seen;
      bool ok = !value.empty();
      const char *p = value.c_str();
      while (ok && *p) {
        char *next = nullptr;
        double number = strtod(p, &next);
        ok = next != p && std::isfinite(number);
        p = next;
        while (ok && (*p == ' ' || *p == ','))
          ++p;
      }
      check(ok, key + value + "\" is not a list of finite numbers", __LINE__);
    }
  }
  CHECK(seen > 100);
}

void testReport(const std::string &html) {
  // One bar per suite and candidate that has a number: 5 + 5 suites, less
  // the first candidate's NaN math (text instead); "not run" where a
  // candidate has no such suite; and 2 x 2 bars of the text.
  CHECK(count(html, "<rect class=\"bar ") == 13);
  CHECK(count(html, "<rect class=\"bar info\"") == 4);
  CHECK(count(html, "<text class=\"nan\"") == 1);
  CHECK(count(html, "<text class=\"missing\"") == 2);
  // a: chat and json_kld pass, json_<tools> is beyond 3% but not
  // significant, code_gen fails; b: chat (-100%) and json_kld (3.7) fail,
  // the rest pass.
  CHECK(count(html, "<rect class=\"bar pass\"") == 5);
  CHECK(count(html, "<rect class=\"bar pass ns\"") == 1);
  CHECK(count(html, "<rect class=\"bar fail\"") == 3);
  // Infinite and out-of-axis values are clipped with an arrow: b's
  // json_<tools> (+inf) and code_gen (+900%), and its perplexity (+2500%).
  CHECK(count(html, "<polygon class=\"clipped\"") == 3);
  // Two threshold lines: -3% and a KLD of 0.05.
  CHECK(count(html, "<line class=\"threshold\"") == 2);
  CHECK(html.find("max drop -3%") != std::string::npos);
  CHECK(html.find("max KLD 0.05") != std::string::npos);
  // Escaped everywhere, never raw.
  CHECK(html.find("<b>.so") == std::string::npos);
  CHECK(html.find("<tools>") == std::string::npos);
  CHECK(html.find("<base>") == std::string::npos);
  CHECK(html.find("json_&lt;tools&gt;") != std::string::npos);
  CHECK(html.find("data-suite=\"json_&lt;tools&gt;\"") != std::string::npos);
  CHECK(html.find("int4 &quot;A&quot; &amp; &lt;b&gt;") != std::string::npos);
  CHECK(html.find("fp32 &lt;base&gt;.so") != std::string::npos);
  // The texts of values that have no coordinate.
  CHECK(html.find("int2</tspan> +inf [+0.00%, +inf]</text>") !=
        std::string::npos);
  CHECK(html.find("int2</tspan> +900.00% [+200.00%, +4000.00%]</text>") !=
        std::string::npos);
  CHECK(html.find("int2</tspan> -100.00% [-100.00%, -100.00%]</text>") !=
        std::string::npos);
  CHECK(html.find(">nan</text>") != std::string::npos);
  // No script, no external resource.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  checkCoordinates(html);
}

void testHelpers() {
  CHECK(escapeHtml("a<b>&\"c'\x01") == "a&lt;b&gt;&amp;&quot;c&#39;&#xFFFD;");
  CHECK(candidateLabels({"/a/int4.so", "b/int8.so"}) ==
        std::vector<std::string>({"int4.so", "int8.so"}));
  CHECK(candidateLabels({"/a/model.so", "/b/model.so"}) ==
        std::vector<std::string>({"/a/model.so", "/b/model.so"}));
  CHECK(formatReportHtml({}).find("No candidates") != std::string::npos);

  // One candidate: no names beside the values; identical artifacts (every
  // delta 0) still give a readable axis.
  std::vector<NamedReport> reports = makeReports();
  reports.resize(1);
  for (SuiteResult &s : reports[0].report.suites) {
    Comparison &c = s.metrics[static_cast<int>(s.metric)];
    c = {1, 1, 0, {0, 0}};
    s.decision = decideGate(s.metric, c, reports[0].report.gate);
  }
  std::string html = formatReportHtml(reports);
  CHECK(count(html, "<rect class=\"bar pass\"") == 5);
  CHECK(html.find("<tspan") == std::string::npos);
  CHECK(html.find(">-2%</text>") != std::string::npos);
  checkCoordinates(html);

  // The text mode: no suites, no gate.
  EvalReport text;
  text.baseline = "fp32.so";
  text.candidate = "int4.so";
  text.textPath = "prose.txt";
  text.text = makeReports()[0].report.text;
  html = formatReportHtml({{"int4.so", text}});
  CHECK(html.find("text comparison") != std::string::npos);
  CHECK(html.find("Verdict") == std::string::npos);
  CHECK(html.find("class=\"threshold\"") == std::string::npos);
  CHECK(count(html, "<rect class=\"bar info\"") == 2);
  checkCoordinates(html);
}

/// The first candidate alone: no names beside the values, and the text
/// beside the chart.
void testOneCandidate(const std::string &html) {
  CHECK(count(html, "<rect class=\"bar ") == 6);
  CHECK(count(html, "<rect class=\"bar pass\"") == 2);
  CHECK(count(html, "<rect class=\"bar pass ns\"") == 1);
  CHECK(count(html, "<rect class=\"bar fail\"") == 1);
  CHECK(count(html, "<rect class=\"bar info\"") == 2);
  CHECK(count(html, "<text class=\"missing\"") == 0);
  CHECK(html.find("<tspan") == std::string::npos);
  CHECK(html.find(">-50.00% [-75.00%, -25.00%]</text>") != std::string::npos);
  checkCoordinates(html);
}

void write(const std::string &path, const std::string &html) {
  FILE *file = fopen(path.c_str(), "w");
  bool ok = file && fwrite(html.data(), 1, html.size(), file) == html.size();
  if (file)
    ok &= fclose(file) == 0;
  check(ok, "cannot write " + path, __LINE__);
}

} // namespace

/// qrun-eval-report-unittest [TWO.html [ONE.html]]: runs the checks; writes
/// the page of both candidates to TWO.html and that of the first alone to
/// ONE.html.
int main(int argc, char **argv) {
  std::vector<NamedReport> reports = makeReports();
  std::string html = formatReportHtml(reports);
  CHECK(html == formatReportHtml(reports));
  testReport(html);
  std::string one = formatReportHtml({reports[0]});
  testOneCandidate(one);
  testHelpers();
  if (argc > 1)
    write(argv[1], html);
  if (argc > 2)
    write(argv[2], one);
  printf("%d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
