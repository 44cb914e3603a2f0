//===- EvalReportHtml.h - qrun eval's HTML report ---------------*- C++ -*-===//
//
// `qrun eval --report OUT.html`: one self-contained page (inline CSS and
// SVG, no script, no external asset) with the gate settings, each
// candidate's verdict, a chart of every suite's delta and interval, the
// held-out text's perplexity, KLD and top-1 agreement, and the per-suite
// table. docs/eval.md describes what each mark means.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNNER_EVALREPORTHTML_H
#define QOPT_RUNNER_EVALREPORTHTML_H

#include "qopt/Runner/Eval.h"

#include <string>
#include <vector>

namespace qrun {
namespace eval {

/// One candidate's run against the baseline, under a short label for the
/// chart ("" = the candidate's path).
struct NamedReport {
  std::string name;
  EvalReport report;
};

/// The report page of one or several candidates, each compared with the same
/// baseline under the same gate (the page shows the first report's baseline
/// and settings, and flags a candidate whose baseline or gate differs).
/// Suites are those of the first report, then any others in order; a
/// candidate without a suite shows a dash there. Reports without suites
/// (`--text`) give a page of the text comparison alone.
///
/// Every text is escaped; deltas that are NaN or infinite are drawn as text
/// or as a bar clipped at the axis' end with an arrow, never as a
/// coordinate. The output depends only on the reports (no date, no random
/// ids), so that it can be compared.
std::string formatReportHtml(const std::vector<NamedReport> &reports);

/// Labels for candidates at `paths`: their file names, or the paths
/// themselves when two file names coincide.
std::vector<std::string> candidateLabels(const std::vector<std::string> &paths);

/// `text` with & < > " ' as character references, and control characters
/// other than tab and newline as U+FFFD (HTML allows none).
std::string escapeHtml(const std::string &text);

} // namespace eval
} // namespace qrun

#endif // QOPT_RUNNER_EVALREPORTHTML_H
