//===- Eval.h - qrun eval: per-capability regression gate -------*- C++ -*-===//

#ifndef QOPT_RUNNER_EVAL_H
#define QOPT_RUNNER_EVAL_H

namespace qrun {

/// `qrun eval --baseline ART --candidate ART --suites DIR [--max-drop X]
/// [--limit N] [--json OUT]`: scores both artifacts on every suite, prints
/// the table, and returns 0 (every suite within --max-drop), 1 (some suite
/// regressed) or 2 (usage or input error). `argv` excludes "qrun eval".
int evalCommand(int argc, char **argv);

} // namespace qrun

#endif // QOPT_RUNNER_EVAL_H
