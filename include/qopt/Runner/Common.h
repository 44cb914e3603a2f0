//===- Common.h - helpers shared by qrun's commands -------------*- C++ -*-===//
//
// Option parsing, error reporting, JSON output and the artifact + session
// pair, shared by the commands of qrun (QRun.cpp, Eval.cpp). Like the rest of
// the runner, no LLVM or MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNNER_COMMON_H
#define QOPT_RUNNER_COMMON_H

#include "qopt/Runner/Tensor.h"
#include "qopt/Runtime/qrt.h"

#include <functional>
#include <string>
#include <utility>
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
  std::string bind(const Tensor &tensor);
};

/// Milliseconds of a monotonic clock.
double nowMs();

/// A "LABEL: done/total, rate/s" line on stderr, redrawn in place, when
/// stderr is a terminal; nothing otherwise (logs stay clean).
class Progress {
public:
  Progress();
  void start(const std::string &what, size_t total);
  void update(size_t done);
  /// Erases the line.
  void clear();
  /// update() as a callback for the libraries.
  std::function<void(size_t)> callback();

private:
  bool enabled;
  std::string label;
  size_t total = 0;
  double begin = 0;
};

/// Writes `text` to `path` through a temporary file renamed at the end, so
/// that a failure leaves no partial file. Returns an error message, or "".
std::string writeFileAtomically(const std::string &path,
                                const std::string &text);

/// `text` as a JSON string literal (quotes included).
std::string jsonString(const std::string &text);
/// `value` with 6 significant digits; "null" when not finite.
std::string jsonNumber(double value);

/// Takes the value of option `flag` from argv[i] ("--flag=v" or "--flag v").
/// A flag without its value gives "\x01missing".
bool takeOption(int argc, char **argv, int &i, const char *flag,
                std::string &value);

/// Parses a whole decimal integer.
bool parseInt(const std::string &text, long long &value);

/// A command's options: `--name value` or `--name=value` strings, lists and
/// integers (with a minimum), `--name` flags, and positional arguments.
struct ArgParser {
  struct Int {
    const char *flag;
    long long *value;
    long long minimum;
  };
  std::vector<std::pair<const char *, std::string *>> strings;
  std::vector<std::pair<const char *, std::vector<std::string> *>> lists;
  std::vector<Int> ints;
  std::vector<std::pair<const char *, bool *>> flags;
  /// What the one positional argument is ("artifact"); null: none allowed.
  const char *positionalName = nullptr;
  /// The positional argument, "" when not given.
  std::string positional;

  /// Returns a usage error, or "" on success.
  std::string parse(int argc, char **argv);
};

} // namespace qrun

#endif // QOPT_RUNNER_COMMON_H
