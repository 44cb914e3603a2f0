//===- EvalReportHtml.cpp - qrun eval's HTML report -----------------------===//
//
// A page of plain HTML with inline CSS and inline SVG, written as strings:
// one element per line, so that tests can FileCheck it. Coordinates go
// through coord(), which never prints NaN or inf; values that have no place
// on an axis (NaN, infinities, beyond the axis' range) become text or a bar
// clipped at the end of the axis with an arrow.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/EvalReportHtml.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace qrun;
using namespace qrun::eval;

namespace {

// The bars' colours by the gate's decision (also the legend's, and in
// docs/eval.md). The Chromium test counts them in a screenshot, so nothing
// but bars and the legend's swatches uses them: the badges, the table's
// results and the threshold have darker shades.
constexpr const char *kPassColour = "#2e7d32";
constexpr const char *kUnclearColour = "#e69f00";
constexpr const char *kFailColour = "#c62828";
/// Bars of what is not gated (the held-out text).
constexpr const char *kInfoColour = "#5b6abf";
constexpr const char *kThresholdColour = "#8e0000";

std::string format(const char *spec, double value) {
  char buffer[64];
  snprintf(buffer, sizeof(buffer), spec, value);
  return buffer;
}

std::string format(const char *spec, int precision, double value) {
  char buffer[64];
  snprintf(buffer, sizeof(buffer), spec, precision, value);
  return buffer;
}

/// An SVG coordinate or length. Callers clamp to the axis first; a value
/// that is still not finite becomes 0 rather than an attribute a browser
/// rejects.
std::string coord(double value) {
  if (!std::isfinite(value))
    value = 0;
  std::string text = format("%.1f", value);
  return text == "-0.0" ? "0.0" : text;
}

/// `text` cut to `maxChars` code points, the last one an ellipsis, so that a
/// long name cannot run over the chart (the full name is in the tooltip and
/// the table).
std::string truncateLabel(const std::string &text, size_t maxChars) {
  size_t count = 0, cut = 0;
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (count + 1 == maxChars)
        cut = i;
      ++count;
    }
  if (count <= maxChars)
    return text;
  return text.substr(0, cut) + "\u2026";
}

std::string percentInterval(const Interval &interval) {
  return "[" + formatPercent(interval.low) + ", " +
         formatPercent(interval.high) + "]";
}

/// KLD and other nats: 4 decimals, "nan" and "+inf" as words.
std::string nats(double value, bool sign = false) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value > 0 ? "+inf" : "-inf";
  return format(sign ? "%+.4f" : "%.4f", value);
}

std::string natsInterval(const Interval &interval) {
  return "[" + nats(interval.low) + ", " + nats(interval.high) + "]";
}

std::string score(double value, Metric metric) {
  if (metric == Metric::KLD)
    return nats(value);
  if (std::isnan(value))
    return "nan";
  return format("%.3f", value);
}

/// "3%" for 0.03.
std::string percentSetting(double fraction) {
  return format("%g", fraction * 100) + "%";
}

//===----------------------------------------------------------------------===//
// Charts
//===----------------------------------------------------------------------===//

enum class Unit { Percent, Nats };

/// One candidate's bar of a group.
struct Bar {
  std::string candidate;
  /// False: the candidate has no result here (a dash instead of a bar).
  bool present = true;
  double value = NAN;
  Interval interval;
  /// The class after "bar " ("pass", "pass ns", "fail", "info") and its
  /// colour.
  std::string decision = "info";
  const char *colour = kInfoColour;
  /// Next to the bar: the value and its interval.
  std::string text;
  /// The bar's tooltip.
  std::string tooltip;
};

struct Group {
  std::string label, sublabel;
  /// data-suite of the group's <g>; "" for none.
  std::string suite;
  std::vector<Bar> bars;
};

struct Chart {
  std::string title;
  Unit unit = Unit::Percent;
  /// The axis never reaches beyond these; bars that do are clipped.
  double minValue = -1, maxValue = 1;
  /// The narrowest axis (identical artifacts give deltas of 0).
  double minSpan = 0.02;
  bool hasThreshold = false;
  double threshold = 0;
  std::string thresholdLabel;
  std::string axisTitle;
  int width = 740, labelWidth = 150, textWidth = 210, ticks = 6;
  /// Candidate names before the values (several candidates).
  bool showCandidates = false;
  std::vector<Group> groups;
};

/// A linear axis [lo, hi] in steps of `step`, mapped onto [left, right].
struct Axis {
  double lo = 0, hi = 1, step = 0.5;
  double left = 0, right = 1;
  double x(double value) const {
    value = std::min(std::max(value, lo), hi);
    return left + (value - lo) / (hi - lo) * (right - left);
  }
};

/// 1, 2 or 5 times a power of ten, about span / ticks.
double niceStep(double span, int ticks) {
  double raw = span / ticks;
  if (!(raw > 0) || !std::isfinite(raw))
    return 1;
  double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double normalized = raw / magnitude;
  return (normalized <= 1   ? 1
          : normalized <= 2 ? 2
          : normalized <= 5 ? 5
                            : 10) *
         magnitude;
}

/// The axis of `chart`: 0, the threshold and every finite value and
/// interval end within [minValue, maxValue], padded and rounded to steps.
Axis makeAxis(const Chart &chart) {
  double lo = 0, hi = 0;
  auto include = [&](double value) {
    if (std::isfinite(value) && value >= chart.minValue &&
        value <= chart.maxValue) {
      lo = std::min(lo, value);
      hi = std::max(hi, value);
    }
  };
  if (chart.hasThreshold)
    include(chart.threshold);
  for (const Group &group : chart.groups)
    for (const Bar &bar : group.bars)
      if (bar.present) {
        include(bar.value);
        include(bar.interval.low);
        include(bar.interval.high);
      }
  // Infinite values pin the axis to its end, where their bars are clipped.
  for (const Group &group : chart.groups)
    for (const Bar &bar : group.bars)
      if (bar.present)
        for (double value : {bar.value, bar.interval.low, bar.interval.high}) {
          if (value > chart.maxValue)
            hi = chart.maxValue;
          if (value < chart.minValue)
            lo = chart.minValue;
        }
  if (!(hi - lo >= chart.minSpan)) {
    // Widen towards where there is room: below 0 for drops.
    double missing = chart.minSpan - (hi - lo);
    if (chart.unit == Unit::Nats || lo == chart.minValue)
      hi += missing;
    else if (hi == 0)
      lo -= missing;
    else {
      lo -= missing / 2;
      hi += missing / 2;
    }
  }
  // Room around the bars; for changes, on both sides of 0, so that a
  // delta of 0 is not drawn on the frame.
  double pad = (hi - lo) * 0.04;
  if (lo < 0)
    lo -= pad;
  if (hi > 0 || chart.unit == Unit::Percent)
    hi += pad;
  Axis axis;
  axis.step = niceStep(hi - lo, chart.ticks);
  axis.lo = std::floor(lo / axis.step + 1e-9) * axis.step;
  axis.hi = std::ceil(hi / axis.step - 1e-9) * axis.step;
  axis.lo = std::max(axis.lo, chart.minValue);
  axis.hi = std::min(axis.hi, chart.maxValue);
  return axis;
}

/// A tick's label: "-10%", "0%", "+5%"; "0.02" for nats.
std::string tickLabel(double value, double step, Unit unit) {
  double scaled = unit == Unit::Percent ? value * 100 : value;
  double scaledStep = unit == Unit::Percent ? step * 100 : step;
  int decimals =
      scaledStep >= 1
          ? 0
          : static_cast<int>(std::ceil(-std::log10(scaledStep) - 1e-9));
  if (std::fabs(scaled) < scaledStep * 1e-6)
    return unit == Unit::Percent ? "0%" : format("%.*f", decimals, 0.0);
  if (unit == Unit::Percent)
    return format("%+.*f", decimals, scaled) + "%";
  return format("%.*f", decimals, scaled);
}

constexpr int kBarHeight = 14, kBarGap = 4, kGroupPad = 9, kMinGroup = 36;
constexpr int kAxisSpace = 46;

/// Room above the plot for the threshold's label.
int plotTop(const Chart &chart) { return chart.hasThreshold ? 30 : 10; }

int groupHeight(const Group &group) {
  int bars = static_cast<int>(group.bars.size());
  return std::max(kMinGroup, 2 * kGroupPad + bars * kBarHeight +
                                 std::max(0, bars - 1) * kBarGap);
}

std::string renderChart(const Chart &chart) {
  Axis axis = makeAxis(chart);
  axis.left = chart.labelWidth + 10;
  axis.right = chart.width - chart.textWidth - 14;
  const int kPlotTop = plotTop(chart);
  int plotBottom = kPlotTop;
  for (const Group &group : chart.groups)
    plotBottom += groupHeight(group);
  int height = plotBottom + kAxisSpace;
  std::string out;
  out += "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
         std::to_string(chart.width) + "\" height=\"" + std::to_string(height) +
         "\" viewBox=\"0 0 " + std::to_string(chart.width) + " " +
         std::to_string(height) + "\" role=\"img\" aria-label=\"" +
         escapeHtml(chart.title) +
         "\" font-family=\"system-ui, 'DejaVu Sans', sans-serif\" "
         "font-size=\"12\">\n";
  out += "<title>" + escapeHtml(chart.title) + "</title>\n";

  // Stripes behind every other group, then the grid.
  int top = kPlotTop;
  for (size_t g = 0; g < chart.groups.size(); ++g) {
    int h = groupHeight(chart.groups[g]);
    if (g % 2 == 1)
      out += "<rect class=\"stripe\" x=\"0\" y=\"" + std::to_string(top) +
             "\" width=\"" + std::to_string(chart.width) + "\" height=\"" +
             std::to_string(h) + "\" fill=\"#f3f4f6\"/>\n";
    top += h;
  }
  std::string yTop = std::to_string(kPlotTop),
              yBottom = std::to_string(plotBottom);
  int tickCount =
      static_cast<int>(std::floor((axis.hi - axis.lo) / axis.step + 1e-6));
  for (int k = 0; k <= tickCount && k <= 40; ++k) {
    double value = axis.lo + k * axis.step;
    std::string x = coord(axis.x(value));
    bool zero = std::fabs(value) < axis.step * 1e-6;
    if (!zero)
      out += "<line class=\"grid\" x1=\"" + x + "\" y1=\"" + yTop + "\" x2=\"" +
             x + "\" y2=\"" + yBottom +
             "\" stroke=\"#e2e4e8\" stroke-width=\"1\"/>\n";
    out += "<line class=\"tick\" x1=\"" + x + "\" y1=\"" + yBottom +
           "\" x2=\"" + x + "\" y2=\"" + std::to_string(plotBottom + 5) +
           "\" stroke=\"#555\" stroke-width=\"1\"/>\n";
    out += "<text class=\"tick-label\" x=\"" + x + "\" y=\"" +
           std::to_string(plotBottom + 18) + "\" text-anchor=\"middle\">" +
           escapeHtml(tickLabel(value, axis.step, chart.unit)) + "</text>\n";
  }
  std::string x0 = coord(axis.x(0));
  out += "<line class=\"axis\" x1=\"" + coord(axis.left) + "\" y1=\"" +
         yBottom + "\" x2=\"" + coord(axis.right) + "\" y2=\"" + yBottom +
         "\" stroke=\"#555\" stroke-width=\"1\"/>\n";
  out += "<line class=\"zero\" x1=\"" + x0 + "\" y1=\"" + yTop + "\" x2=\"" +
         x0 + "\" y2=\"" + yBottom +
         "\" stroke=\"#555\" stroke-width=\"1\"/>\n";
  out += "<text class=\"axis-title\" x=\"" +
         coord((axis.left + axis.right) / 2) + "\" y=\"" +
         std::to_string(plotBottom + 36) + "\" text-anchor=\"middle\">" +
         escapeHtml(chart.axisTitle) + "</text>\n";

  top = kPlotTop;
  for (const Group &group : chart.groups) {
    int h = groupHeight(group);
    out += "<g class=\"group\"";
    if (!group.suite.empty())
      out += " data-suite=\"" + escapeHtml(group.suite) + "\"";
    out += ">\n";
    double labelY = top + h / 2.0 - (group.sublabel.empty() ? 0 : 6);
    out += "<text class=\"label\" x=\"" + std::to_string(chart.labelWidth) +
           "\" y=\"" + coord(labelY) +
           "\" dy=\"0.35em\" text-anchor=\"end\" font-weight=\"600\">" +
           escapeHtml(truncateLabel(group.label, 22)) + "</text>\n";
    if (!group.sublabel.empty())
      out += "<text class=\"sublabel\" x=\"" +
             std::to_string(chart.labelWidth) + "\" y=\"" + coord(labelY + 13) +
             "\" dy=\"0.35em\" text-anchor=\"end\" font-size=\"10\" "
             "fill=\"#666\">" +
             escapeHtml(group.sublabel) + "</text>\n";
    int bars = static_cast<int>(group.bars.size());
    double barsTop =
        top + (h - bars * kBarHeight - std::max(0, bars - 1) * kBarGap) / 2.0;
    for (int b = 0; b < bars; ++b) {
      const Bar &bar = group.bars[b];
      double y = barsTop + b * (kBarHeight + kBarGap);
      std::string yc = coord(y + kBarHeight / 2.0);
      std::string candidate = escapeHtml(bar.candidate);
      // A note instead of a bar, on the side of 0 with more room.
      bool noteLeft = axis.x(0) - axis.left > axis.right - axis.x(0);
      std::string notePlace =
          "\" x=\"" + coord(axis.x(0) + (noteLeft ? -4 : 4)) + "\" y=\"" + yc +
          "\" dy=\"0.35em\" text-anchor=\"" + (noteLeft ? "end" : "start") +
          "\" fill=\"#666\" font-style=\"italic\">";
      if (!bar.present) {
        out += "<text class=\"missing\" data-candidate=\"" + candidate +
               notePlace + "not run</text>\n";
      } else if (std::isnan(bar.value)) {
        out += "<text class=\"nan\" data-candidate=\"" + candidate + notePlace +
               "nan</text>\n";
      } else {
        double from = axis.x(0), to = axis.x(bar.value);
        double left = std::min(from, to), width = std::fabs(to - from);
        if (width < 2) { // a delta of 0 still shows a mark
          left = (from + to) / 2 - 1;
          width = 2;
        }
        out += "<rect class=\"bar " + bar.decision + "\" data-candidate=\"" +
               candidate + "\" x=\"" + coord(left) + "\" y=\"" + coord(y) +
               "\" width=\"" + coord(width) + "\" height=\"" +
               std::to_string(kBarHeight) + "\" fill=\"" + bar.colour +
               "\"><title>" + escapeHtml(bar.tooltip) + "</title></rect>\n";
        double cy = y + kBarHeight / 2.0;
        if (bar.value > axis.hi)
          out += "<polygon class=\"clipped\" points=\"" + coord(axis.right) +
                 "," + coord(cy - 6) + " " + coord(axis.right + 8) + "," +
                 coord(cy) + " " + coord(axis.right) + "," + coord(cy + 6) +
                 "\" fill=\"" + bar.colour + "\"/>\n";
        if (bar.value < axis.lo)
          out += "<polygon class=\"clipped\" points=\"" + coord(axis.left) +
                 "," + coord(cy - 6) + " " + coord(axis.left - 8) + "," +
                 coord(cy) + " " + coord(axis.left) + "," + coord(cy + 6) +
                 "\" fill=\"" + bar.colour + "\"/>\n";
      }
      double low = bar.interval.low, high = bar.interval.high;
      if (bar.present && !std::isnan(low) && !std::isnan(high)) {
        if (low > high)
          std::swap(low, high);
        std::string yMid = coord(y + kBarHeight / 2.0), yCapTop = coord(y + 2),
                    yCapBottom = coord(y + kBarHeight - 2);
        out += "<line class=\"whisker\" x1=\"" + coord(axis.x(low)) +
               "\" y1=\"" + yMid + "\" x2=\"" + coord(axis.x(high)) +
               "\" y2=\"" + yMid +
               "\" stroke=\"#1f1f1f\" stroke-width=\"1.5\"/>\n";
        // A cap marks an end within the axis; a clipped end has none.
        for (double end : {low, high})
          if (end >= axis.lo && end <= axis.hi)
            out += "<line class=\"cap\" x1=\"" + coord(axis.x(end)) +
                   "\" y1=\"" + yCapTop + "\" x2=\"" + coord(axis.x(end)) +
                   "\" y2=\"" + yCapBottom +
                   "\" stroke=\"#1f1f1f\" stroke-width=\"1.5\"/>\n";
      }
      out += "<text class=\"value\" x=\"" + coord(axis.right + 14) + "\" y=\"" +
             yc + "\" dy=\"0.35em\" font-size=\"11\">";
      if (chart.showCandidates)
        out += "<tspan font-weight=\"600\">" +
               escapeHtml(truncateLabel(bar.candidate, 14)) + "</tspan> ";
      out += escapeHtml(bar.present ? bar.text : "-") + "</text>\n";
    }
    out += "</g>\n";
    top += h;
  }

  // The threshold over the bars.
  if (chart.hasThreshold) {
    bool onAxis = chart.threshold >= axis.lo && chart.threshold <= axis.hi;
    double x = onAxis ? axis.x(chart.threshold) : axis.left;
    if (onAxis)
      out += "<line class=\"threshold\" x1=\"" + coord(x) + "\" y1=\"" +
             std::to_string(kPlotTop - 8) + "\" x2=\"" + coord(x) + "\" y2=\"" +
             yBottom + "\" stroke=\"" + kThresholdColour +
             "\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n";
    // The label leans away from the nearer edge of the plot.
    bool nearLeft = x - axis.left < 90;
    std::string label =
        chart.thresholdLabel + (onAxis ? "" : " (off the axis)");
    out += "<text class=\"threshold-label\" x=\"" +
           coord(nearLeft ? x - 4 : x + 4) + "\" y=\"" +
           std::to_string(kPlotTop - 14) + "\" text-anchor=\"" +
           (nearLeft ? "start" : "end") + "\" fill=\"" + kThresholdColour +
           "\" font-size=\"11\">" + escapeHtml(label) + "</text>\n";
  }
  out += "</svg>\n";
  return out;
}

//===----------------------------------------------------------------------===//
// The page
//===----------------------------------------------------------------------===//

const char *kStyle = R"(<style>
body { font: 14px/1.45 system-ui, "DejaVu Sans", sans-serif; color: #1f1f1f; background: #fff; margin: 16px 22px; }
h1 { font-size: 20px; margin: 0 0 6px; }
h2 { font-size: 15px; margin: 16px 0 6px; }
code { font: 12px "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 2px 8px; text-align: left; border-bottom: 1px solid #e2e4e8; vertical-align: top; }
thead th { border-bottom: 2px solid #999; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.settings th { font-weight: 600; color: #555; white-space: nowrap; border: none; }
table.settings td { border: none; }
ul.verdicts { list-style: none; padding: 0; margin: 4px 0; }
ul.verdicts li { margin: 2px 0; }
.badge { display: inline-block; min-width: 3.2em; text-align: center; padding: 0 6px; border-radius: 3px; color: #fff; font-weight: 700; font-size: 12px; }
.badge.pass { background: #1b5e20; }
.badge.fail { background: #b71c1c; }
td.result { font-weight: 600; white-space: nowrap; }
td.result.pass { color: #1b5e20; }
td.result.ns { color: #a86f00; }
td.result.fail { color: #b71c1c; }
tr.group-start td { border-top: 1px solid #bbb; }
.panels { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
#text-panel table { font-size: 12px; }
.panel h2 { margin-top: 10px; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 18px; font-size: 12px; color: #333; margin: 4px 0; }
.legend span { white-space: nowrap; }
.legend svg { vertical-align: middle; margin-right: 4px; }
.note { color: #555; font-size: 12px; max-width: 60em; }
.warn { color: #a86f00; }
svg.chart { display: block; max-width: 100%; height: auto; }
</style>
)";

std::string legendSwatch(const char *colour) {
  return std::string("<svg width=\"14\" height=\"12\"><rect x=\"0\" y=\"1\" "
                     "width=\"14\" height=\"10\" fill=\"") +
         colour + "\"/></svg>";
}

std::string legend(const EvalReport &first, bool anyRelative, bool anyKld) {
  std::string level = format("%g", first.bootstrap.confidence * 100) + "%";
  std::string out = "<div class=\"legend\">\n";
  out += "<span>" + legendSwatch(kPassColour) + "PASS</span>\n";
  if (first.gate.rule == GateRule::Significant)
    out += "<span>" + legendSwatch(kUnclearColour) +
           "PASS (n.s.): beyond the threshold, not significant</span>\n";
  out += "<span>" + legendSwatch(kFailColour) + "FAIL</span>\n";
  out += "<span><svg width=\"22\" height=\"12\"><line x1=\"2\" y1=\"6\" "
         "x2=\"20\" y2=\"6\" stroke=\"#1f1f1f\" stroke-width=\"1.5\"/><line "
         "x1=\"2\" y1=\"2\" x2=\"2\" y2=\"10\" stroke=\"#1f1f1f\" "
         "stroke-width=\"1.5\"/><line x1=\"20\" y1=\"2\" x2=\"20\" y2=\"10\" "
         "stroke=\"#1f1f1f\" stroke-width=\"1.5\"/></svg>" +
         level + " interval</span>\n";
  std::string threshold;
  if (anyRelative)
    threshold = "max drop -" + percentSetting(first.gate.maxDrop);
  if (anyKld)
    threshold += std::string(threshold.empty() ? "" : ", ") + "max KLD " +
                 format("%g", first.gate.maxKld) + " nats";
  out += "<span><svg width=\"12\" height=\"14\"><line x1=\"6\" y1=\"0\" "
         "x2=\"6\" y2=\"14\" stroke=\"" +
         std::string(kThresholdColour) +
         "\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/></svg>threshold (" +
         escapeHtml(threshold) + ")</span>\n";
  out += "<span><svg width=\"10\" height=\"12\"><polygon points=\"0,0 9,6 "
         "0,12\" fill=\"#777\"/></svg>clipped at the axis' end</span>\n";
  return out + "</div>\n";
}

const char *decisionClass(const GateDecision &decision) {
  return !decision.passed           ? "fail"
         : decision.beyondThreshold ? "pass ns"
                                    : "pass";
}

const char *decisionColour(const GateDecision &decision) {
  return !decision.passed           ? kFailColour
         : decision.beyondThreshold ? kUnclearColour
                                    : kPassColour;
}

const char *decisionText(const GateDecision &decision) {
  return !decision.passed           ? "FAIL"
         : decision.beyondThreshold ? "PASS (n.s.)"
                                    : "PASS";
}

std::string gateRuleText(GateRule rule) {
  return rule == GateRule::Raw ? "raw" : "significant";
}

/// What must agree between candidates for one chart to hold them.
std::string gateSummary(const EvalReport &report) {
  return gateRuleText(report.gate.rule) + ", max drop " +
         percentSetting(report.gate.maxDrop) + ", max KLD " +
         format("%g", report.gate.maxKld) + ", confidence " +
         format("%g", report.bootstrap.confidence * 100) + "%";
}

const SuiteResult *findSuite(const EvalReport &report,
                             const std::string &name) {
  for (const SuiteResult &suite : report.suites)
    if (suite.name == name)
      return &suite;
  return nullptr;
}

std::string displayName(const NamedReport &named) {
  return named.name.empty() ? named.report.candidate : named.name;
}

std::string suiteDeltaText(const SuiteResult &suite) {
  const Comparison &c = suite.gated();
  if (suite.metric == Metric::KLD)
    return nats(c.delta, true) + " " + natsInterval(c.interval);
  return formatPercent(c.delta) + " " + percentInterval(c.interval);
}

Bar suiteBar(const std::string &candidate, const SuiteResult *suite) {
  Bar bar;
  bar.candidate = candidate;
  if (!suite) {
    bar.present = false;
    return bar;
  }
  const Comparison &c = suite->gated();
  bar.value = c.delta;
  bar.interval = c.interval;
  bar.decision = decisionClass(suite->decision);
  bar.colour = decisionColour(suite->decision);
  bar.text = suiteDeltaText(*suite);
  bar.tooltip = candidate + ": " + suite->name + " " +
                metricName(suite->metric) + " baseline " +
                score(c.baseline, suite->metric) + ", candidate " +
                score(c.candidate, suite->metric) + ", delta " + bar.text +
                ", " + decisionText(suite->decision);
  return bar;
}

std::string textTable(const std::vector<NamedReport> &reports,
                      const std::vector<std::string> &names) {
  const NamedReport *withText = nullptr;
  for (const NamedReport &named : reports)
    if (!named.report.textPath.empty()) {
      withText = &named;
      break;
    }
  const TextComparison &first = withText->report.text;
  std::string out = "<table class=\"text\">\n<thead><tr><th></th><th "
                    "class=\"num\">baseline</th>";
  for (const std::string &name : names)
    out += "<th class=\"num\">" + escapeHtml(truncateLabel(name, 24)) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  auto row = [&](const std::string &label, const std::string &baseline,
                 auto cell) {
    out += "<tr><th>" + label + "</th><td class=\"num\">" + baseline + "</td>";
    for (const NamedReport &named : reports)
      out += "<td class=\"num\">" +
             (named.report.textPath.empty() ? std::string("-")
                                            : cell(named.report.text)) +
             "</td>";
    out += "</tr>\n";
  };
  auto fixed = [](double value, const char *spec) {
    return std::isfinite(value) ? format(spec, value)
                                : std::string(std::isnan(value) ? "nan"
                                              : value > 0       ? "+inf"
                                                                : "-inf");
  };
  row("perplexity", fixed(first.perplexity.baseline, "%.4f"),
      [&](const TextComparison &t) {
        return fixed(t.perplexity.candidate, "%.4f");
      });
  row("&Delta; perplexity", "", [](const TextComparison &t) {
    return formatPercent(t.perplexity.delta) + "<br>" +
           percentInterval(t.perplexity.interval);
  });
  row("mean KLD (nats)", "0", [&](const TextComparison &t) {
    return nats(t.kld.candidate) + "<br>" + natsInterval(t.kld.interval);
  });
  row("KLD median / p99 / max", "", [&](const TextComparison &t) {
    return nats(t.kldMedian) + " / " + nats(t.kldP99) + " / " + nats(t.kldMax);
  });
  row("top-1 agreement", "100%", [&](const TextComparison &t) {
    // The interval of the agreement itself: 1 + the delta's.
    auto pct = [&](double value) { return fixed(value * 100, "%.2f") + "%"; };
    return pct(t.agreement.candidate) + "<br>[" +
           pct(1 + t.agreement.interval.low) + ", " +
           pct(1 + t.agreement.interval.high) + "]";
  });
  row("tokens", std::to_string(first.tokens),
      [](const TextComparison &t) { return std::to_string(t.tokens); });
  return out + "</tbody>\n</table>\n";
}

} // namespace

std::string eval::escapeHtml(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') ||
          c == 0x7f)
        out += "&#xFFFD;";
      else
        out += c;
    }
  }
  return out;
}

std::vector<std::string>
eval::candidateLabels(const std::vector<std::string> &paths) {
  std::vector<std::string> names;
  for (const std::string &path : paths) {
    size_t slash = path.rfind('/');
    names.push_back(slash == std::string::npos ? path : path.substr(slash + 1));
  }
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t j = i + 1; j < names.size(); ++j)
      if (names[i] == names[j] || names[i].empty())
        return paths;
  return names;
}

std::string eval::formatReportHtml(const std::vector<NamedReport> &reports) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
                    "charset=\"utf-8\">\n";
  if (reports.empty())
    return out + "<title>qrun eval</title>\n</head>\n<body>\n<p>No "
                 "candidates.</p>\n</body>\n</html>\n";
  const EvalReport &first = reports[0].report;
  std::vector<std::string> names;
  for (const NamedReport &named : reports)
    names.push_back(displayName(named));
  bool several = reports.size() > 1;

  // Suites in the first report's order, then any only others have.
  std::vector<const SuiteResult *> suites;
  for (const NamedReport &named : reports)
    for (const SuiteResult &suite : named.report.suites) {
      bool known = false;
      for (const SuiteResult *s : suites)
        known |= s->name == suite.name;
      if (!known)
        suites.push_back(&suite);
    }
  bool anyText = false;
  for (const NamedReport &named : reports)
    anyText |= !named.report.textPath.empty();
  bool gated = !suites.empty();

  std::string candidates;
  for (size_t i = 0; i < names.size(); ++i)
    candidates += (i ? ", " : "") + names[i];
  out += "<title>" +
         escapeHtml("qrun eval: " + candidates + " against " + first.baseline) +
         "</title>\n" + kStyle + "</head>\n<body>\n";
  out += std::string("<h1>qrun eval: ") +
         (gated ? "per-capability regression gate" : "text comparison") +
         "</h1>\n";

  // Settings.
  std::string level = format("%g", first.bootstrap.confidence * 100) + "%";
  out += "<table class=\"settings\">\n";
  out += "<tr><th>baseline</th><td><code>" + escapeHtml(first.baseline) +
         "</code></td></tr>\n";
  for (size_t i = 0; i < reports.size(); ++i) {
    const EvalReport &report = reports[i].report;
    out += "<tr><th>candidate</th><td>";
    if (names[i] != report.candidate)
      out += "<b>" + escapeHtml(names[i]) + "</b> ";
    out += "<code>" + escapeHtml(report.candidate) + "</code>";
    if (report.baseline != first.baseline)
      out += " <span class=\"warn\">(against another baseline: <code>" +
             escapeHtml(report.baseline) + "</code>)</span>";
    if (gated && gateSummary(report) != gateSummary(first))
      out += " <span class=\"warn\">(another gate: " +
             escapeHtml(gateSummary(report)) + ")</span>";
    out += "</td></tr>\n";
  }
  if (gated) {
    out += "<tr><th>gate</th><td>" + gateRuleText(first.gate.rule) + ": " +
           (first.gate.rule == GateRule::Raw
                ? std::string("a suite fails on any change beyond its "
                              "threshold")
                : "a suite fails on a change beyond its threshold that is "
                  "also significant at " +
                      level) +
           "</td></tr>\n";
    out += "<tr><th>max drop</th><td>" + percentSetting(first.gate.maxDrop) +
           " relative to the baseline (exact_match, token_accuracy, "
           "top1_agreement suites)</td></tr>\n";
    out += "<tr><th>max KLD</th><td>" + format("%g", first.gate.maxKld) +
           " nats mean (kld suites)</td></tr>\n";
  }
  out += "<tr><th>intervals</th><td>" + level + ", paired bootstrap, " +
         std::to_string(first.bootstrap.resamples) + " resamples, seed " +
         std::to_string(first.bootstrap.seed) + "</td></tr>\n";
  if (anyText)
    for (const NamedReport &named : reports)
      if (!named.report.textPath.empty()) {
        out += "<tr><th>held-out text</th><td><code>" +
               escapeHtml(named.report.textPath) + "</code></td></tr>\n";
        break;
      }
  out += "</table>\n";

  if (gated) {
    out += "<h2>Verdict</h2>\n<ul class=\"verdicts\">\n";
    for (size_t i = 0; i < reports.size(); ++i) {
      const EvalReport &report = reports[i].report;
      bool passed = report.passed();
      out += std::string("<li class=\"") + (passed ? "pass" : "fail") +
             "\"><span class=\"badge " + (passed ? "pass" : "fail") + "\">" +
             (passed ? "PASS" : "FAIL") + "</span> <b>" + escapeHtml(names[i]) +
             "</b>: " +
             escapeHtml(report.suites.empty() ? "no suites"
                                              : formatVerdict(report)) +
             "</li>\n";
    }
    out += "</ul>\n";
  }

  // The charts: relative suites, kld suites, the text.
  Chart relative, kld;
  for (Chart *chart : {&relative, &kld}) {
    chart->showCandidates = several;
    chart->textWidth = several ? 280 : 210;
    chart->width = several ? 900 : 700;
  }
  relative.title = "Relative change of each suite's gated metric, candidate "
                   "against baseline, with its " +
                   level + " interval";
  relative.axisTitle = "relative change of the suite's metric (%)";
  relative.hasThreshold = true;
  relative.threshold = -first.gate.maxDrop;
  relative.thresholdLabel = "max drop -" + percentSetting(first.gate.maxDrop);
  kld.title = "Mean KL divergence of each kld suite from the baseline, with "
              "its " +
              level + " interval";
  kld.unit = Unit::Nats;
  kld.minValue = 0;
  kld.maxValue = INFINITY;
  kld.minSpan = 0.001;
  kld.axisTitle = "mean KLD per answer token (nats)";
  kld.hasThreshold = true;
  kld.threshold = first.gate.maxKld;
  kld.thresholdLabel = "max KLD " + format("%g", first.gate.maxKld);
  for (const SuiteResult *suite : suites) {
    Group group;
    group.label = suite->name;
    group.suite = suite->name;
    group.sublabel = std::string(metricName(suite->metric)) +
                     ", n = " + std::to_string(suite->cases);
    for (size_t i = 0; i < reports.size(); ++i)
      group.bars.push_back(
          suiteBar(names[i], findSuite(reports[i].report, suite->name)));
    (suite->metric == Metric::KLD ? kld : relative)
        .groups.push_back(std::move(group));
  }

  if (gated) {
    out += legend(first, !relative.groups.empty(), !kld.groups.empty());
  }
  // Two columns where the window is wide enough: the suites' charts, and
  // the text beside them.
  out += "<div class=\"panels\">\n";
  if (gated)
    out += "<div class=\"column\">\n";
  if (!relative.groups.empty())
    out += "<section class=\"panel\" id=\"suites-chart\">\n<h2>Capabilities: "
           "change of each suite's score</h2>\n" +
           renderChart(relative) + "</section>\n";
  if (!kld.groups.empty())
    out += "<section class=\"panel\" id=\"kld-chart\">\n<h2>kld suites: mean "
           "KL divergence from the baseline</h2>\n" +
           renderChart(kld) + "</section>\n";
  if (gated)
    out += "</div>\n";
  if (anyText) {
    Chart text;
    text.title = "Held-out text: relative change of perplexity and top-1 "
                 "agreement, with " +
                 level + " intervals (not gated)";
    text.axisTitle = "relative change (%)";
    text.showCandidates = several;
    text.labelWidth = 124;
    text.textWidth = several ? 150 : 80;
    text.width = several ? 520 : 390;
    text.ticks = 4;
    text.minSpan = 0.01;
    Group perplexity, agreement;
    perplexity.label = "perplexity";
    perplexity.sublabel = "higher is worse";
    agreement.label = "top-1 agreement";
    agreement.sublabel = "lower is worse";
    for (size_t i = 0; i < reports.size(); ++i) {
      const EvalReport &report = reports[i].report;
      for (Group *group : {&perplexity, &agreement}) {
        Bar bar;
        bar.candidate = names[i];
        bar.present = !report.textPath.empty();
        const Comparison &c = group == &perplexity ? report.text.perplexity
                                                   : report.text.agreement;
        bar.value = c.delta;
        bar.interval = c.interval;
        bar.text = formatPercent(c.delta);
        bar.tooltip = names[i] + ": " + group->label + " " + bar.text + " " +
                      percentInterval(c.interval);
        group->bars.push_back(bar);
      }
    }
    text.groups = {perplexity, agreement};
    out += "<section class=\"panel\" id=\"text-panel\">\n<h2>Held-out text "
           "(not gated)</h2>\n" +
           renderChart(text) + textTable(reports, names) + "</section>\n";
  }
  out += "</div>\n";

  if (gated) {
    out += "<h2>Suites</h2>\n<table class=\"suites\">\n<thead><tr><th>suite"
           "</th><th>metric</th><th class=\"num\">n</th><th "
           "class=\"num\">baseline</th><th>candidate</th><th "
           "class=\"num\">score</th><th class=\"num\">delta</th><th "
           "class=\"num\">" +
           level + " interval</th><th>result</th></tr></thead>\n<tbody>\n";
    for (const SuiteResult *suite : suites) {
      for (size_t i = 0; i < reports.size(); ++i) {
        const SuiteResult *s = findSuite(reports[i].report, suite->name);
        out +=
            std::string("<tr") + (i == 0 ? " class=\"group-start\"" : "") + ">";
        if (i == 0)
          out += "<td>" + escapeHtml(suite->name) + "</td><td>" +
                 metricName(suite->metric) + "</td>";
        else
          out += "<td></td><td></td>";
        if (!s) {
          out += "<td class=\"num\">-</td><td class=\"num\">-</td><td>" +
                 escapeHtml(names[i]) +
                 "</td><td class=\"num\">-</td><td class=\"num\">-</td><td "
                 "class=\"num\">-</td><td class=\"result\">not "
                 "run</td></tr>\n";
          continue;
        }
        const Comparison &c = s->gated();
        bool isKld = s->metric == Metric::KLD;
        out +=
            "<td class=\"num\">" + std::to_string(s->cases) +
            "</td><td class=\"num\">" + score(c.baseline, s->metric) +
            "</td><td>" + escapeHtml(names[i]) + "</td><td class=\"num\">" +
            score(c.candidate, s->metric) + "</td><td class=\"num\">" +
            (isKld ? nats(c.delta, true) : formatPercent(c.delta)) +
            "</td><td class=\"num\">" +
            (isKld ? natsInterval(c.interval) : percentInterval(c.interval)) +
            "</td><td class=\"result " + decisionClass(s->decision) + "\">" +
            decisionText(s->decision) + "</td></tr>\n";
      }
    }
    out += "</tbody>\n</table>\n";
    out += "<p class=\"note\">Deltas are relative, (candidate - baseline) / "
           "baseline, except for kld suites (candidate's mean KLD in nats). "
           "PASS (n.s.): the delta is beyond the threshold but its interval "
           "still reaches no change, so it cannot be told from noise.</p>\n";
  }
  return out + "</body>\n</html>\n";
}
