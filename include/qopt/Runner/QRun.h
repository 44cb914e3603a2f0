//===- QRun.h - the qrun tool's main ----------------------------*- C++ -*-===//

#ifndef QOPT_RUNNER_QRUN_H
#define QOPT_RUNNER_QRUN_H

namespace qrun {

/// The whole of `qrun`: `run`, `bench`, `info`, `conformance` and `eval`
/// (QRun.cpp's kCommands; `qrun COMMAND --help` prints each one's options).
/// Returns the process exit code (0 success, 1 model or run failure, 2
/// usage error).
int qrunMain(int argc, char **argv);

} // namespace qrun

#endif // QOPT_RUNNER_QRUN_H
