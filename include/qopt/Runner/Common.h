//===- Common.h - helpers shared by qrun's commands -------------*- C++ -*-===//
//
// Command lines, error reporting and the artifact + session pair, shared by
// the commands of qrun (QRun.cpp, EvalCommand.cpp). Like the rest of the
// runner, no LLVM or MLIR; no CLI11 or JSON either (CommandLine.cpp and
// lib/Runner/Json.h keep those out of the headers).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNNER_COMMON_H
#define QOPT_RUNNER_COMMON_H

#include "qopt/Runner/Tensor.h"
#include "qopt/Runtime/qrt.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qrun {

/// Prints "qrun: error: MESSAGE" and returns 2 (usage) or 1 (run).
int usageError(const std::string &message);
int runError(const std::string &message);

/// Loaded artifact + session, freed together.
struct Loaded {
  qrt_artifact *artifact = nullptr;
  qrt_session *session = nullptr;
  Loaded() = default;
  Loaded(const Loaded &) = delete;
  Loaded &operator=(const Loaded &) = delete;
  ~Loaded();
  /// Returns an error message, or "" on success.
  std::string load(const std::string &path);
  /// Also refuses an artifact compiled for another device than `device`
  /// ("cpu" or "cuda", qrun's --device).
  std::string load(const std::string &path, const std::string &device);
  std::string bind(const Tensor &tensor);
};

/// The devices of qrun's --device option.
extern const std::vector<std::string> kDevices;
/// "" when the artifact at `path` runs on `device` ("cpu" or "cuda"), else
/// why not (a CUDA device that cannot be opened included).
std::string checkArtifactDevice(const std::string &path,
                                const std::string &device);

/// Milliseconds of a monotonic clock.
double nowMs();

/// A "LABEL: done/total, rate/s" line on stderr, redrawn in place, when
/// stderr is a terminal; nothing otherwise (logs stay clean).
class Progress {
public:
  Progress();
  void start(const std::string &what, size_t total);
  void update(size_t done);
  /// Erases the line, if one is shown.
  void clear();
  /// A (done, total) callback for the libraries; a new `what` or total
  /// starts a new line.
  std::function<void(size_t, size_t)> callback(const std::string &what);

private:
  bool enabled, shown = false;
  std::string label;
  size_t total = 0;
  double begin = 0;
};

/// Writes `text` to `path` through a temporary file renamed at the end, so
/// that a failure leaves no partial file. Returns an error message, or "".
std::string writeFileAtomically(const std::string &path,
                                const std::string &text);

/// Parses a whole decimal integer.
bool parseInt(const std::string &text, long long &value);

/// One command's command line (`qrun run ...`), parsed by CLI11. Bind each
/// option to the variable that holds its default with one call, then parse:
///
///   std::string artifactPath, outputDir;
///   long long threads = 0;
///   CommandLine cli("run", "Runs ARTIFACT once and prints ...");
///   cli.positional("ARTIFACT", artifactPath, "the artifact to run");
///   cli.option("--output-dir", outputDir, "DIR", "write each output ...");
///   cli.option("--threads", threads, 0, "kernel threads; 0: every CPU");
///   if (int rc = cli.parse(argc, argv); rc >= 0)
///     return rc;
///
/// Adding an option is one more call; a command that qrun lists is one
/// line of QRun.cpp's kCommands. `--flag VALUE` and `--flag=VALUE` both
/// work, and a flag given twice keeps its last value (scripts append
/// overrides). `qrun COMMAND --help` prints every option with its help.
/// Every usage error is one line, "qrun: error: WHAT", naming the flag at
/// fault, then a hint to --help, and exit code 2. CLI11 takes about 5 s of
/// CPU to compile (-O3), so only CommandLine.cpp includes it.
class CommandLine {
public:
  /// `command` is the name after "qrun"; `description` opens its --help.
  CommandLine(const std::string &command, const std::string &description);
  ~CommandLine();
  CommandLine(const CommandLine &) = delete;
  CommandLine &operator=(const CommandLine &) = delete;

  /// A required positional argument; `name` in capitals ("ARTIFACT").
  void positional(const char *name, std::string &value, const char *help);
  /// `--flag VALUE`; `valueName` stands for the value in --help ("DIR").
  void option(const char *flag, std::string &value, const char *valueName,
              const char *help);
  /// A repeatable `--flag VALUE`: each one appends a value.
  void option(const char *flag, std::vector<std::string> &values,
              const char *valueName, const char *help);
  /// A decimal integer of at least `minimum`.
  void option(const char *flag, long long &value, long long minimum,
              const char *help);
  /// A finite number that `valid` accepts; `expected` says which in the
  /// error ("a level between 0 and 1").
  void option(const char *flag, double &value, bool (*valid)(double),
              const char *expected, const char *help);
  /// One of `choices`.
  void choice(const char *flag, std::string &value,
              const std::vector<std::string> &choices, const char *help);
  /// `--flag` without a value: sets `value` to true.
  void flag(const char *flag, bool &value, const char *help);
  /// Text for the end of --help (modes, formats, exit codes), as laid out
  /// (descriptions and help are wrapped to 80 columns).
  void footer(const std::string &text);

  /// Parses the command's arguments (argv excludes "qrun COMMAND"). Returns
  /// -1 when the command should run, 0 after printing --help to stdout, or
  /// the exit code of a usage error (2) after printing it.
  int parse(int argc, char **argv);
  /// Prints a usage error found after parsing (options that exclude each
  /// other, say) like parse's, with the hint to --help; returns 2.
  int usageError(const std::string &message) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// A command of a tool with commands (`qrun run ...`).
struct Command {
  const char *name;
  /// One line for the tool's --help; null hides the command.
  const char *summary;
  /// Runs the command on its arguments (those after its name).
  int (*run)(int argc, char **argv);
};

/// `qrun COMMAND ARGS...`: runs the command named by argv[1] on the rest.
/// `qrun --help` lists the visible commands on stdout (exit 0); no command
/// prints that list to stderr, and an unknown one a usage error (exit 2).
int dispatchCommand(const std::string &description,
                    const std::vector<Command> &commands, int argc,
                    char **argv);

} // namespace qrun

#endif // QOPT_RUNNER_COMMON_H
