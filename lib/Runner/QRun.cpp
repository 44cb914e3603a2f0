//===- QRun.cpp - the qrun tool -------------------------------------------===//
//
// Built on libqrt only (no LLVM/MLIR); command lines are CLI11's, through
// CommandLine (Common.h), and JSON is nlohmann/json's (Json.h). The commands
// are listed in kCommands at the end. `conformance` compiles each test case
// with the `qopt-compile` beside this executable and runs it in a child
// process, so a miscompiled case cannot take the whole run down.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/QRun.h"

#include "Json.h"
#include "qopt/Calibration/Clip.h"
#include "qopt/Runner/Calibrate.h"
#include "qopt/Runner/Common.h"
#include "qopt/Runner/Eval.h"
#include "qopt/Runner/Tensor.h"
#include "qopt/Runtime/qrt.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <spawn.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char **environ;

using namespace qrun;

namespace {

std::string shapeString(const int64_t *shape, int rank) {
  std::string text;
  for (int i = 0; i < rank; ++i)
    text += (i ? "x" : "") +
            (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return text.empty() ? "scalar" : text;
}

/// `value` with 9 significant digits ("inf" and "nan" included).
std::string formatNumber(double value) {
  char buffer[32];
  snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

/// Parses `name=path`.
bool splitAssignment(const std::string &text, std::string &name,
                     std::string &value) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    return false;
  name = text.substr(0, eq);
  value = text.substr(eq + 1);
  return true;
}

std::string readTensorFile(const std::string &path, Tensor &out) {
  if (path.size() >= 3 && path.compare(path.size() - 3, 3, ".pb") == 0)
    return readTensorProto(path, out);
  return readNpy(path, out);
}

void printSummary(const qrt_tensor &t) {
  size_t count = t.num_bytes / std::max<size_t>(qrt_dtype_size(t.dtype), 1);
  Tensor view;
  view.dtype = t.dtype;
  view.data.assign(static_cast<const char *>(t.data),
                   static_cast<const char *>(t.data) + t.num_bytes);
  double sum = 0, minimum = INFINITY, maximum = -INFINITY;
  size_t nonFinite = 0;
  for (size_t i = 0; i < count; ++i) {
    double v = view.at(static_cast<int64_t>(i));
    if (!std::isfinite(v)) {
      ++nonFinite;
      continue;
    }
    sum += v;
    minimum = std::min(minimum, v);
    maximum = std::max(maximum, v);
  }
  printf("  %s: %s %s  min %.6g  max %.6g  mean %.6g", t.name,
         qrt_dtype_name(t.dtype), shapeString(t.shape, t.rank).c_str(),
         count ? minimum : 0.0, count ? maximum : 0.0,
         count ? sum / static_cast<double>(count - nonFinite ? count - nonFinite
                                                             : 1)
               : 0.0);
  if (nonFinite)
    printf("  (%zu non-finite)", nonFinite);
  printf("\n");
}

//===----------------------------------------------------------------------===//
// info
//===----------------------------------------------------------------------===//

int infoCommand(int argc, char **argv) {
  std::string artifactPath;
  CommandLine cli("info", "Prints an artifact's inputs and outputs (name, "
                          "dtype, shape; ? for a dynamic dimension) and the "
                          "target it was compiled for.");
  cli.positional("ARTIFACT", artifactPath, "the artifact (.so)");
  if (int rc = cli.parse(argc, argv); rc >= 0)
    return rc;
  Loaded loaded;
  if (std::string error = loaded.load(artifactPath); !error.empty())
    return runError(error);
  printf("artifact: %s\ntarget: %s\n", artifactPath.c_str(),
         qrt_artifact_target(loaded.artifact));
  for (int i = 0; i < qrt_artifact_num_inputs(loaded.artifact); ++i) {
    qrt_tensor t;
    qrt_artifact_input(loaded.artifact, i, &t);
    printf("input %d: %s %s %s\n", i, t.name, qrt_dtype_name(t.dtype),
           shapeString(t.shape, t.rank).c_str());
  }
  for (int i = 0; i < qrt_artifact_num_outputs(loaded.artifact); ++i) {
    qrt_tensor t;
    qrt_artifact_output(loaded.artifact, i, &t);
    printf("output %d: %s %s %s\n", i, t.name, qrt_dtype_name(t.dtype),
           shapeString(t.shape, t.rank).c_str());
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// run
//===----------------------------------------------------------------------===//

int runCommand(int argc, char **argv) {
  std::string artifactPath, outputDir;
  std::vector<std::string> inputSpecs;
  long long threads = 0, repeat = 1;
  CommandLine cli("run", "Runs ARTIFACT once (or --repeat times) on the "
                         "given inputs and prints each output's dtype, shape, "
                         "min, max and mean, and the load and run times.");
  cli.positional("ARTIFACT", artifactPath, "the artifact (.so)");
  cli.option("--input", inputSpecs, "NAME=FILE",
             "the input NAME from a .npy or a TensorProto .pb file; one "
             "--input per input");
  cli.option("--output-dir", outputDir, "DIR",
             "also write each output to DIR/NAME.npy");
  cli.option("--threads", threads, 0,
             "kernel threads (default 0: every usable CPU)");
  cli.option("--repeat", repeat, 1,
             "runs; the median time is printed (default 1)");
  std::string device = "cpu";
  cli.choice("--device", device, kDevices,
             "where the artifact runs: cpu (default) or cuda (an artifact of "
             "qopt-compile --target=cuda, on GPU 0)");
  if (int rc = cli.parse(argc, argv); rc >= 0)
    return rc;
  qrt_set_num_threads(static_cast<int>(threads));

  std::vector<Tensor> inputs(inputSpecs.size());
  for (size_t i = 0; i < inputSpecs.size(); ++i) {
    std::string name, path;
    if (!splitAssignment(inputSpecs[i], name, path))
      return cli.usageError("--input: expected NAME=FILE, got '" +
                            inputSpecs[i] + "'");
    if (std::string error = readTensorFile(path, inputs[i]); !error.empty())
      return runError(error);
    inputs[i].name = name;
  }

  Loaded loaded;
  double loadStart = nowMs();
  if (std::string error = loaded.load(artifactPath, device); !error.empty())
    return runError(error);
  double loadMs = nowMs() - loadStart;
  for (const Tensor &input : inputs)
    if (std::string error = loaded.bind(input); !error.empty())
      return runError(error);
  std::vector<double> times;
  for (long long r = 0; r < repeat; ++r) {
    double start = nowMs();
    if (qrt_session_run(loaded.session) != QRT_OK)
      return runError(qrt_last_error());
    times.push_back(nowMs() - start);
  }
  std::sort(times.begin(), times.end());
  printf("%s: loaded in %.2f ms, ran in %.3f ms%s (%d threads)\n",
         artifactPath.c_str(), loadMs, times[times.size() / 2],
         repeat > 1 ? " (median)" : "", qrt_get_num_threads());
  if (!outputDir.empty())
    mkdir(outputDir.c_str(), 0777);
  for (int i = 0; i < qrt_artifact_num_outputs(loaded.artifact); ++i) {
    qrt_tensor signature, t;
    qrt_artifact_output(loaded.artifact, i, &signature);
    if (qrt_session_get_output(loaded.session, signature.name, &t) != QRT_OK)
      return runError(qrt_last_error());
    printSummary(t);
    if (outputDir.empty())
      continue;
    Tensor out;
    out.dtype = t.dtype;
    out.shape.assign(t.shape, t.shape + t.rank);
    out.data.assign(static_cast<const char *>(t.data),
                    static_cast<const char *>(t.data) + t.num_bytes);
    std::string file = std::string(t.name);
    std::replace(file.begin(), file.end(), '/', '_');
    if (std::string error = writeNpy(outputDir + "/" + file + ".npy", out);
        !error.empty())
      return runError(error);
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// bench
//===----------------------------------------------------------------------===//

/// Random inputs of the given shapes (integers in [0, intRange)).
std::string makeInputs(const qrt_artifact *artifact, const std::string &spec,
                       long long intRange, std::vector<Tensor> &inputs) {
  std::map<std::string, std::vector<int64_t>> shapes;
  size_t begin = 0;
  while (begin <= spec.size() && !spec.empty()) {
    size_t end = spec.find(',', begin);
    if (end == std::string::npos)
      end = spec.size();
    std::string item = spec.substr(begin, end - begin), name, dims;
    begin = end + 1;
    if (!splitAssignment(item, name, dims))
      return "--shape: expected NAME=DxD[,NAME=DxD...], got '" + spec + "'";
    std::vector<int64_t> shape;
    size_t at = 0;
    while (at < dims.size()) {
      size_t x = dims.find('x', at);
      if (x == std::string::npos)
        x = dims.size();
      long long dim;
      if (!parseInt(dims.substr(at, x - at), dim) || dim < 0)
        return "--shape: bad dimension in '" + item + "'";
      shape.push_back(dim);
      at = x + 1;
    }
    shapes[name] = shape;
  }
  std::mt19937_64 rng(0);
  inputs.clear();
  for (int i = 0; i < qrt_artifact_num_inputs(artifact); ++i) {
    qrt_tensor t;
    qrt_artifact_input(artifact, i, &t);
    Tensor input;
    input.name = t.name;
    input.dtype = t.dtype;
    auto it = shapes.find(t.name);
    if (it != shapes.end()) {
      input.shape = it->second;
    } else {
      for (int d = 0; d < t.rank; ++d) {
        if (t.shape[d] < 0)
          return std::string("input '") + t.name +
                 "' has dynamic dimensions: give its shape with --shape";
        input.shape.push_back(t.shape[d]);
      }
    }
    size_t size = qrt_dtype_size(t.dtype);
    int64_t elements;
    size_t bytes;
    if (!getShapeSize(input.shape, size, elements, bytes))
      return std::string("input '") + t.name + "': the shape " +
             shapeString(input.shape.data(),
                         static_cast<int>(input.shape.size())) +
             " is too large";
    size_t count = static_cast<size_t>(elements);
    input.data.resize(bytes);
    for (size_t e = 0; e < count; ++e) {
      if (t.dtype == QART_DTYPE_F32) {
        float v = std::uniform_real_distribution<float>(-1, 1)(rng);
        memcpy(&input.data[e * 4], &v, 4);
      } else if (t.dtype == QART_DTYPE_F64) {
        double v = std::uniform_real_distribution<double>(-1, 1)(rng);
        memcpy(&input.data[e * 8], &v, 8);
      } else {
        int64_t v = static_cast<int64_t>(
            rng() % static_cast<uint64_t>(std::max(intRange, 1LL)));
        memcpy(&input.data[e * size], &v, size); // little-endian low bytes
      }
    }
    inputs.push_back(std::move(input));
  }
  return "";
}

int benchCommand(int argc, char **argv) {
  std::string artifactPath;
  std::vector<std::string> shapeSpecs;
  long long threads = 0, warmup = 3, repeat = 10, intRange = 256;
  bool json = false;
  CommandLine cli("bench",
                  "Times ARTIFACT on random inputs (floats in [-1, 1), "
                  "integers in [0, --int-range)): the median and minimum "
                  "latency of --repeat runs after --warmup runs, for each "
                  "--shape.");
  cli.positional("ARTIFACT", artifactPath, "the artifact (.so)");
  cli.option("--shape", shapeSpecs, "NAME=DxD,...",
             "the shapes of the inputs with dynamic dimensions; each --shape "
             "is timed separately");
  cli.option("--warmup", warmup, 0, "untimed runs first (default 3)");
  cli.option("--repeat", repeat, 1, "timed runs (default 10)");
  cli.option("--threads", threads, 0,
             "kernel threads (default 0: every usable CPU)");
  cli.option("--int-range", intRange, 1,
             "integer inputs are drawn from [0, N) (default 256)");
  cli.flag("--json", json,
           "print one line of JSON: artifact, threads, load_ms and runs "
           "(shape, median_ms, min_ms)");
  std::string device = "cpu";
  cli.choice("--device", device, kDevices,
             "where the artifact runs: cpu (default) or cuda (an artifact of "
             "qopt-compile --target=cuda, on GPU 0)");
  if (int rc = cli.parse(argc, argv); rc >= 0)
    return rc;
  if (shapeSpecs.empty())
    shapeSpecs.push_back("");
  qrt_set_num_threads(static_cast<int>(threads));
  Loaded loaded;
  double loadStart = nowMs();
  if (std::string error = loaded.load(artifactPath, device); !error.empty())
    return runError(error);
  double loadMs = nowMs() - loadStart;
  Json runs = Json::array();
  if (!json)
    printf("%s: loaded in %.2f ms; %d threads, %lld warm-up + %lld timed "
           "runs\n",
           artifactPath.c_str(), loadMs, qrt_get_num_threads(), warmup, repeat);
  for (size_t s = 0; s < shapeSpecs.size(); ++s) {
    std::vector<Tensor> inputs;
    if (std::string error =
            makeInputs(loaded.artifact, shapeSpecs[s], intRange, inputs);
        !error.empty())
      return cli.usageError(error);
    std::string label;
    for (const Tensor &input : inputs) {
      if (std::string error = loaded.bind(input); !error.empty())
        return runError(error);
      label +=
          (label.empty() ? "" : ",") + input.name + "=" +
          shapeString(input.shape.data(), static_cast<int>(input.shape.size()));
    }
    std::vector<double> times;
    for (long long r = 0; r < warmup + repeat; ++r) {
      double start = nowMs();
      if (qrt_session_run(loaded.session) != QRT_OK)
        return runError(qrt_last_error());
      if (r >= warmup)
        times.push_back(nowMs() - start);
    }
    std::sort(times.begin(), times.end());
    double median = times[times.size() / 2];
    if (json)
      runs.push_back(
          {{"shape", label}, {"median_ms", median}, {"min_ms", times.front()}});
    else
      printf("  %-40s median %10.3f ms   min %10.3f ms\n", label.c_str(),
             median, times.front());
  }
  if (json) {
    Json out = {{"artifact", artifactPath},
                {"threads", qrt_get_num_threads()},
                {"load_ms", loadMs},
                {"runs", std::move(runs)}};
    printf("%s\n", dumpJson(out).c_str());
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// conformance
//===----------------------------------------------------------------------===//

/// Runs `argv` with stdout and stderr to `logPath`; returns the exit status
/// (128 + signal for a crash, -1 if it could not start, 124 on timeout).
int spawn(const std::vector<std::string> &args, const std::string &logPath,
          int timeoutSeconds) {
  std::vector<char *> argv;
  for (const std::string &arg : args)
    argv.push_back(const_cast<char *>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, logPath.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    return -1;
  int status = 0;
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
  while (true) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid)
      break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return 124;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

std::string selfDirectory() {
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0)
    return ".";
  buffer[n] = 0;
  std::string path(buffer);
  return path.substr(0, path.rfind('/'));
}

std::string selfPath() {
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0)
    return "qrun";
  buffer[n] = 0;
  return buffer;
}

std::vector<std::string> listDirectory(const std::string &path) {
  std::vector<std::string> names;
  if (DIR *dir = opendir(path.c_str())) {
    while (dirent *entry = readdir(dir))
      if (entry->d_name[0] != '.')
        names.push_back(entry->d_name);
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

/// The last line of `text` that is not blank, at most `limit` bytes of it.
std::string lastLine(const std::string &text, size_t limit = 300) {
  size_t end = text.find_last_not_of("\n ");
  if (end == std::string::npos)
    return "";
  size_t begin = text.rfind('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(begin, std::min<size_t>(end + 1 - begin, limit));
}

/// A case's name: its folder's name.
std::string caseName(const std::string &entry) {
  size_t slash = entry.find_last_of('/');
  return slash == std::string::npos ? entry : entry.substr(slash + 1);
}

struct CaseResult {
  std::string status = "failed"; // passed, failed, unsupported
  double maxAbsErr = NAN;
  std::string reason;
  std::vector<std::string> ops;    // unsupported ops
  std::vector<std::string> allOps; // every op of the model
};

/// `qrun __case ART CASEDIR BOUND`: runs every data set of a case on a
/// compiled artifact and prints one JSON object (status, max_abs_err,
/// reason). BOUND lists (comma separated) input indices compiled in as
/// constants.
int caseCommand(int argc, char **argv) {
  std::string artifactPath, caseDir, boundList;
  CommandLine cli("__case", "Runs every data set of an ONNX backend test case "
                            "on its compiled artifact and prints one line of "
                            "JSON: status, max_abs_err, reason (qrun "
                            "conformance's child process).");
  cli.positional("ARTIFACT", artifactPath, "the case compiled");
  cli.positional("CASE_DIR", caseDir, "the case's folder");
  cli.positional("BOUND", boundList,
                 "indices of the inputs compiled in as constants, comma "
                 "separated (may be empty)");
  if (int rc = cli.parse(argc, argv); rc >= 0)
    return rc;
  std::set<int> bound;
  for (const char *p = boundList.c_str(); *p;) {
    bound.insert(atoi(p));
    const char *comma = strchr(p, ',');
    p = comma ? comma + 1 : p + strlen(p);
  }
  auto report = [](const std::string &status, double err,
                   const std::string &reason) {
    Json line = {{"status", status}, {"max_abs_err", err}, {"reason", reason}};
    printf("%s\n", dumpJson(line).c_str());
    return 0;
  };
  Loaded loaded;
  if (std::string error = loaded.load(artifactPath); !error.empty())
    return report("failed", NAN, error);
  double maxErr = 0;
  // Bound inputs must outlive the run.
  std::vector<Tensor> inputs;
  for (const std::string &set : listDirectory(caseDir)) {
    if (set.compare(0, 14, "test_data_set_") != 0)
      continue;
    std::string dir = caseDir + "/" + set;
    int argIndex = 0;
    inputs.clear();
    for (int k = 0; exists(dir + "/input_" + std::to_string(k) + ".pb"); ++k) {
      if (bound.count(k))
        continue;
      Tensor input;
      if (std::string error = readTensorProto(
              dir + "/input_" + std::to_string(k) + ".pb", input);
          !error.empty())
        return report("unsupported", NAN, "test data: " + error);
      qrt_tensor signature;
      if (qrt_artifact_input(loaded.artifact, argIndex++, &signature) != QRT_OK)
        return report("failed", NAN, "more test inputs than model inputs");
      input.name = signature.name;
      // ONNX test data may carry 16-bit floats as their uint16 bits.
      if (input.dtype == QART_DTYPE_U16 &&
          (signature.dtype == QART_DTYPE_BF16 ||
           signature.dtype == QART_DTYPE_F16))
        input.dtype = signature.dtype;
      inputs.push_back(std::move(input));
    }
    for (const Tensor &input : inputs)
      if (std::string error = loaded.bind(input); !error.empty())
        return report("failed", NAN, error);
    if (qrt_session_run(loaded.session) != QRT_OK)
      return report("failed", NAN, qrt_last_error());
    for (int k = 0; exists(dir + "/output_" + std::to_string(k) + ".pb"); ++k) {
      Tensor expected;
      if (std::string error = readTensorProto(
              dir + "/output_" + std::to_string(k) + ".pb", expected);
          !error.empty())
        return report("unsupported", NAN, "test data: " + error);
      qrt_tensor signature, actual;
      if (qrt_artifact_output(loaded.artifact, k, &signature) != QRT_OK)
        return report("failed", NAN, "model has fewer outputs than expected");
      qrt_session_get_output(loaded.session, signature.name, &actual);
      std::string what =
          "output " + std::to_string(k) + " (" + signature.name + ")";
      if (expected.dtype == QART_DTYPE_U16 &&
          (actual.dtype == QART_DTYPE_BF16 || actual.dtype == QART_DTYPE_F16))
        expected.dtype = actual.dtype;
      // MLIR integers are signless: u8 data comes back as i8 of the same
      // bits.
      if (qrt_dtype_size(actual.dtype) == qrt_dtype_size(expected.dtype) &&
          qrt_dtype_is_integer(actual.dtype) &&
          qrt_dtype_is_integer(expected.dtype))
        actual.dtype = expected.dtype;
      if (actual.dtype != expected.dtype)
        return report("failed", NAN,
                      what + ": dtype " + qrt_dtype_name(actual.dtype) +
                          ", expected " + qrt_dtype_name(expected.dtype));
      if (static_cast<size_t>(actual.rank) != expected.shape.size() ||
          !std::equal(expected.shape.begin(), expected.shape.end(),
                      actual.shape))
        return report("failed", NAN,
                      what + ": shape " +
                          shapeString(actual.shape, actual.rank) +
                          ", expected " +
                          shapeString(expected.shape.data(),
                                      static_cast<int>(expected.shape.size())));
      Tensor got;
      got.dtype = actual.dtype;
      got.data.assign(static_cast<const char *>(actual.data),
                      static_cast<const char *>(actual.data) +
                          actual.num_bytes);
      bool isFloat = expected.dtype == QART_DTYPE_F32 ||
                     expected.dtype == QART_DTYPE_F64 ||
                     expected.dtype == QART_DTYPE_F16 ||
                     expected.dtype == QART_DTYPE_BF16;
      int64_t count = expected.numElements();
      for (int64_t e = 0; e < count; ++e) {
        double a = got.at(e), b = expected.at(e);
        if (std::isnan(a) && std::isnan(b))
          continue;
        if (std::isinf(a) || std::isinf(b)) {
          if (a != b)
            return report("failed", INFINITY,
                          what + ": element " + std::to_string(e) + " is " +
                              formatNumber(a) + ", expected " +
                              formatNumber(b));
          continue;
        }
        double err = std::fabs(a - b);
        if (std::isnan(err)) {
          return report("failed", NAN,
                        what + ": element " + std::to_string(e) +
                            " is NaN where a number is expected");
        }
        maxErr = std::max(maxErr, err);
        // ONNX's backend test tolerances: rtol 1e-3, atol 1e-7; integers
        // exactly.
        bool close = isFloat ? err <= 1e-7 + 1e-3 * std::fabs(b) : a == b;
        if (!close) {
          char message[256];
          snprintf(message, sizeof(message),
                   ": element %lld is %.9g, expected %.9g",
                   static_cast<long long>(e), a, b);
          return report("failed", maxErr, what + message);
        }
      }
    }
  }
  return report("passed", maxErr, "");
}

int conformanceCommand(int argc, char **argv) {
  std::string root, jsonPath, compiler, filter, casesFile;
  long long jobs = std::max(1u, std::thread::hardware_concurrency());
  CommandLine cli(
      "conformance",
      "Compiles each ONNX backend test case of DIR (a folder with "
      "model.onnx and test_data_set_*) with qopt-compile, runs it in a child "
      "process and compares its outputs with ONNX's tolerances (rtol 1e-3, "
      "atol 1e-7; integers exactly). Exit 1 when a case failed.");
  cli.positional("DIR", root,
                 "the test cases, e.g. /usr/share/libonnx-testdata/data/node");
  cli.option("--json", jsonPath, "OUT",
             "also write the totals and every case's result as JSON");
  cli.option("--jobs", jobs, 1,
             "cases compiled and run at once (default: every CPU)");
  cli.option("--filter", filter, "SUBSTRING",
             "only the cases whose folder name contains SUBSTRING");
  cli.option("--cases", casesFile, "FILE",
             "only the cases listed in FILE (folder names or paths, "
             "separated by whitespace)");
  cli.option("--compiler", compiler, "PATH",
             "the qopt-compile to use (default: the one beside qrun)");
  if (int rc = cli.parse(argc, argv); rc >= 0)
    return rc;
  if (compiler.empty())
    compiler = selfDirectory() + "/qopt-compile";
  if (!exists(compiler))
    return cli.usageError("cannot find qopt-compile at '" + compiler +
                          "' (use --compiler)");
  std::string importer =
      compiler.substr(0, compiler.rfind('/') + 1) + "qopt-import";

  std::vector<std::string> cases;
  if (!casesFile.empty()) {
    std::string text;
    if (std::string error = readFile(casesFile, text); !error.empty())
      return usageError(error);
    size_t at = 0;
    while (at < text.size()) {
      size_t end = text.find_first_of(" \n\t", at);
      if (end == std::string::npos)
        end = text.size();
      if (end > at && text[at] != '#')
        cases.push_back(text.substr(at, end - at));
      at = end + 1;
    }
  } else {
    for (const std::string &name : listDirectory(root))
      if (exists(root + "/" + name + "/model.onnx") &&
          name.find(filter) != std::string::npos)
        cases.push_back(name);
  }
  if (cases.empty())
    return usageError("no test cases (folders with model.onnx) in '" + root +
                      "'");

  // The importer's op list tells which of a case's ops are unsupported.
  std::set<std::string> supported;
  {
    char tmpl[] = "/tmp/qrun-ops-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd >= 0)
      close(fd);
    if (spawn({importer, "--list-ops"}, tmpl, 60) == 0) {
      std::string text;
      readFile(tmpl, text);
      size_t at = 0;
      while (at < text.size()) {
        size_t end = text.find('\n', at);
        if (end == std::string::npos)
          end = text.size();
        if (end > at)
          supported.insert(text.substr(at, end - at));
        at = end + 1;
      }
    }
    unlink(tmpl);
  }

  char workTemplate[] = "/tmp/qrun-conformance-XXXXXX";
  if (!mkdtemp(workTemplate))
    return runError("cannot create a temporary directory");
  std::string work = workTemplate;
  std::string self = selfPath();

  std::vector<CaseResult> results(cases.size());
  std::atomic<size_t> next{0}, done{0};
  std::mutex printMutex;
  auto runCase = [&](size_t index) {
    const std::string &name = cases[index];
    std::string caseDir = name[0] == '/' ? name : root + "/" + name;
    CaseResult &result = results[index];
    std::string art = work + "/" + std::to_string(index) + ".so";
    std::string log = work + "/" + std::to_string(index) + ".log";

    readModelOps(caseDir + "/model.onnx", result.allOps);
    // Inputs of the first data set fix the shapes.
    std::vector<std::string> names;
    if (std::string error = readModelInputs(caseDir + "/model.onnx", names);
        !error.empty()) {
      result.status = "unsupported";
      result.reason = "model: " + error;
      return;
    }
    std::string data = caseDir + "/test_data_set_0";
    std::vector<Tensor> inputs;
    for (int k = 0; exists(data + "/input_" + std::to_string(k) + ".pb"); ++k) {
      Tensor t;
      if (std::string error =
              readTensorProto(data + "/input_" + std::to_string(k) + ".pb", t);
          !error.empty()) {
        result.status = "unsupported";
        result.reason = "test data: " + error;
        return;
      }
      inputs.push_back(std::move(t));
    }
    for (int k = 0; exists(data + "/output_" + std::to_string(k) + ".pb");
         ++k) {
      Tensor t;
      if (std::string error =
              readTensorProto(data + "/output_" + std::to_string(k) + ".pb", t);
          !error.empty()) {
        result.status = "unsupported";
        result.reason = "test data: " + error;
        return;
      }
    }
    if (names.size() != inputs.size()) {
      result.reason = "graph has " + std::to_string(names.size()) +
                      " inputs, test data " + std::to_string(inputs.size());
      return;
    }
    auto compile = [&](const std::set<int> &bound) {
      std::vector<std::string> args = {compiler, caseDir + "/model.onnx", "-o",
                                       art};
      for (size_t k = 0; k < inputs.size(); ++k) {
        if (bound.count(static_cast<int>(k))) {
          args.push_back("--constant-input=" + names[k] + "=" + data +
                         "/input_" + std::to_string(k) + ".pb");
          continue;
        }
        std::string dims;
        for (size_t d = 0; d < inputs[k].shape.size(); ++d)
          dims += (d ? "x" : "") + std::to_string(inputs[k].shape[d]);
        args.push_back("--input-shape=" + names[k] + "=" + dims);
      }
      return spawn(args, log, 300);
    };
    std::set<int> bound;
    int rc = compile(bound);
    std::string text;
    readFile(log, text);
    if (rc == 1 &&
        (text.find("must be a constant") != std::string::npos ||
         text.find("must be known") != std::string::npos ||
         text.find("known element by element") != std::string::npos)) {
      // Axes, shapes, pads or scales fed as graph inputs: real models hold
      // them as constants, so compile the small 0-D/1-D inputs after the
      // data (and small integer ones) in, with the test's values.
      for (size_t k = 0; k < inputs.size(); ++k)
        if ((k > 0 || inputs[k].dtype == QART_DTYPE_I64 ||
             inputs[k].dtype == QART_DTYPE_I32) &&
            inputs[k].numElements() <= 64 && inputs[k].shape.size() <= 1)
          bound.insert(static_cast<int>(k));
      rc = compile(bound);
      readFile(log, text);
    }
    if (rc != 0) {
      for (const std::string &op : result.allOps)
        if (!supported.count(op))
          result.ops.push_back(op);
      if (!result.ops.empty()) {
        result.status = "unsupported";
        result.reason = "unsupported ops";
      } else if (rc == 1 && text.find("internal error") == std::string::npos) {
        result.status = "unsupported";
        result.reason = lastLine(text);
      } else {
        result.reason = (rc == 124 ? "compiler timed out: "
                                   : "compiler failed (exit " +
                                         std::to_string(rc) + "): ") +
                        lastLine(text);
      }
      return;
    }
    std::string boundList;
    for (int k : bound)
      boundList += (boundList.empty() ? "" : ",") + std::to_string(k);
    rc = spawn({self, "__case", art, caseDir, boundList}, log, 300);
    readFile(log, text);
    unlink(art.c_str());
    unlink((art + ".weights").c_str());
    if (rc != 0) {
      result.reason = rc == 124 ? "timed out"
                                : "crashed (exit " + std::to_string(rc) +
                                      "): " + lastLine(text);
      return;
    }
    // The child's last line: {"status": S, "max_abs_err": X, "reason": R}
    // (X null when nothing was compared).
    Json line = Json::parse(lastLine(text, std::string::npos), nullptr, false);
    if (line.is_object() && line["status"].is_string() &&
        line["reason"].is_string()) {
      result.status = line["status"].get<std::string>();
      result.reason = line["reason"].get<std::string>();
      result.maxAbsErr = line["max_abs_err"].is_number()
                             ? line["max_abs_err"].get<double>()
                             : NAN;
    } else {
      result.status.clear();
    }
    if (result.status.empty()) {
      result.status = "failed";
      result.reason = "no result: " + lastLine(text);
    }
  };
  auto worker = [&] {
    for (size_t index; (index = next++) < cases.size();) {
      runCase(index);
      size_t finished = ++done;
      std::lock_guard<std::mutex> lock(printMutex);
      if (results[index].status != "passed")
        fprintf(stderr, "%s: %s%s%s\n", caseName(cases[index]).c_str(),
                results[index].status.c_str(),
                results[index].reason.empty() ? "" : ": ",
                results[index].reason.c_str());
      if (isatty(2))
        fprintf(stderr, "\r[%zu/%zu]\r", finished, cases.size());
    }
  };
  std::vector<std::thread> threads;
  for (long long j = 0; j < jobs; ++j)
    threads.emplace_back(worker);
  for (std::thread &thread : threads)
    thread.join();
  rmdir(work.c_str());

  std::map<std::string, int> counts, unsupportedOps;
  for (const CaseResult &result : results) {
    ++counts[result.status];
    for (const std::string &op : result.ops)
      ++unsupportedOps[op];
  }
  printf("%d passed, %d failed, %d unsupported\n", counts["passed"],
         counts["failed"], counts["unsupported"]);
  if (!unsupportedOps.empty()) {
    printf("unsupported ops (cases):");
    for (const auto &[op, n] : unsupportedOps)
      printf(" %s (%d)", op.c_str(), n);
    printf("\n");
  }
  if (!jsonPath.empty()) {
    Json caseResults = Json::object();
    for (size_t i = 0; i < cases.size(); ++i) {
      const CaseResult &r = results[i];
      Json entry = {{"status", r.status},
                    {"max_abs_err", r.maxAbsErr},
                    {"reason", r.reason},
                    {"ops", r.allOps}};
      if (!r.ops.empty())
        entry["unsupported_ops"] = r.ops;
      caseResults[caseName(cases[i])] = std::move(entry);
    }
    Json json = {{"passed", counts["passed"]},
                 {"failed", counts["failed"]},
                 {"unsupported", counts["unsupported"]},
                 {"unsupported_ops", unsupportedOps},
                 {"cases", std::move(caseResults)}};
    std::string out = dumpJson(json, 2) + "\n";
    std::string tmp = jsonPath + ".tmp";
    FILE *file = fopen(tmp.c_str(), "w");
    if (!file || fwrite(out.data(), 1, out.size(), file) != out.size() ||
        fclose(file) != 0 || rename(tmp.c_str(), jsonPath.c_str()) != 0) {
      remove(tmp.c_str());
      return runError("cannot write '" + jsonPath + "'");
    }
  }
  return counts["failed"] ? 1 : 0;
}

//===----------------------------------------------------------------------===//
// calibrate
//===----------------------------------------------------------------------===//

int calibrateCommand(int argc, char **argv) {
  std::string artifactPath, outputPath, maxMemory = "4G";
  std::vector<std::string> data;
  long long batch = 8, limit = 0, threads = 0;
  CommandLine cli(
      "calibrate",
      "Runs a calibration build (an artifact compiled after "
      "qopt-insert-observers) over a calibration set and writes the "
      "statistics its observation points gathered (docs/calibration.md). "
      "The data is one eval suite (.jsonl: its cases' prompt + answer "
      "tokens feed a language model), or .npy tensors: --data FILE.npy or "
      "--data DIR (its .npy files in name order) for an artifact with one "
      "input, --data NAME=FILE.npy (or NAME=DIR) per input for several. A "
      "file of the input's rank holds samples along its first dimension, "
      "one of rank one less is one sample; --data given again for an input "
      "appends; dtypes must be the input's (int64 token ids, float32, ...). "
      ".npy data is read a batch at a time, never whole. Batches hold at "
      "most --batch samples of one shape (sequences of one length), fewer "
      "when --max-memory says so: the first run takes one sample and "
      "measures what the model's buffers need, later ones take what fits. "
      "A progress line shows on a terminal.");
  cli.positional("ARTIFACT", artifactPath, "the calibration build (.so)");
  cli.option("--data", data, "[NAME=]PATH",
             "the calibration set: FILE.jsonl, FILE.npy or a directory of "
             ".npy files; NAME=PATH feeds input NAME; repeat to add files "
             "(required)");
  cli.option("-o", outputPath, "STATS.qstats",
             "write the statistics there (.qstats)");
  cli.option("--batch", batch, 1, "at most N samples per run (default 8)");
  cli.option("--max-memory", maxMemory, "BYTES",
             "bound on the model's intermediate buffers per run, e.g. 512M, "
             "4G (default 4G; 0: none, runs always take --batch samples)");
  cli.option("--limit", limit, 0,
             "use the first N cases or samples (default 0: all)");
  cli.option("--threads", threads, 0,
             "kernel threads (default 0: every usable CPU)");
  std::string device = "cpu";
  cli.choice("--device", device, kDevices,
             "where the calibration build runs: cpu (default) or cuda (one "
             "compiled with qopt-compile --target=cuda, on GPU 0)");
  if (int rc = cli.parse(argc, argv); rc >= 0)
    return rc;
  if (data.empty())
    return cli.usageError("--data is required");
  calibrate::Options options;
  if (!calibrate::parseByteSize(maxMemory, options.maxMemory))
    return cli.usageError("--max-memory needs a byte count such as 512M or "
                          "4G, got '" +
                          maxMemory + "'");
  qrt_set_num_threads(static_cast<int>(threads));
  options.artifact = artifactPath;
  options.device = device;
  options.data = data;
  options.batch = batch;
  options.limit = limit;
  // "calibrate: done/total, rate" on a terminal only (Progress); one line
  // for the whole run, its rate in samples per second since the start.
  Progress progress;
  progress.start("calibrate", 0);
  options.progress = progress.callback("calibrate");
  calibrate::Result result;
  std::string error = calibrate::run(options, result);
  progress.clear();
  if (!error.empty())
    return runError(error);
  if (!outputPath.empty()) {
    if (result.stats.points.empty())
      return runError(options.artifact +
                      ": no observation points to write; compile a "
                      "calibration build (qopt-insert-observers) first");
    if (std::string error = writeFileAtomically(
            outputPath, qstats::encodeStatsFile(result.stats));
        !error.empty())
      return runError(error);
  }
  for (const qstats::PointStats &p : result.stats.points) {
    printf("%s %s: %lld samples", p.name.c_str(),
           p.hessianK    ? "hessian"
           : p.axis >= 0 ? "per-channel"
                         : "per-tensor",
           static_cast<long long>(p.samples));
    if (p.hessianK)
      printf(", hessian %lldx%lld", static_cast<long long>(p.hessianK),
             static_cast<long long>(p.hessianK));
    else if (p.min.size() == 1)
      printf(", min %g, max %g, absmax %g", p.min[0], p.max[0], p.absmax[0]);
    else
      printf(", %zu channels, absmax up to %g", p.absmax.size(),
             *std::max_element(p.absmax.begin(), p.absmax.end()));
    // Histogram kinds: the clip they stand for (qstats::clipFor), printed
    // in full so that tests can recompute it.
    if (!p.histogram.empty()) {
      const char *what = p.kind == 1   ? "percentile"
                         : p.kind == 2 ? "mse"
                                       : "kl";
      printf(", %s clip %.17g (histogram of %zu bins over [0, %.17g))", what,
             qstats::clipFor(p), p.histogram.size(), p.histogramRange);
    }
    printf("\n");
  }
  fprintf(stderr,
          "qrun calibrate: %zu points, %lld samples (%lld tokens) in %lld "
          "runs, %.3f s, %.0f tokens/s (%d threads)\n",
          result.stats.points.size(), static_cast<long long>(result.samples),
          static_cast<long long>(result.tokens),
          static_cast<long long>(result.runs), result.seconds,
          result.seconds > 0 ? result.tokens / result.seconds : 0.0,
          qrt_get_num_threads());
  fprintf(stderr,
          "qrun calibrate: at most %lld samples per run, peak %.1f MiB of "
          "intermediate buffers in one run (--max-memory %s)\n",
          static_cast<long long>(result.maxRows), result.peakBytes / 1048576.0,
          options.maxMemory ? maxMemory.c_str() : "0: none");
  if (result.overBudget)
    fprintf(stderr,
            "qrun calibrate: warning: one sample alone needed more than "
            "--max-memory %s; those ran one at a time\n",
            maxMemory.c_str());
  return 0;
}

/// qrun's commands, in the order of `qrun --help`. To add one, write
/// `int fooCommand(int argc, char **argv)` (argv: its arguments, after "qrun
/// foo") that declares its options on a CommandLine as runCommand does, and
/// add a line here; a null summary hides the command from --help.
const std::vector<Command> kCommands = {
    {"run", "run an artifact once; print output summaries and timing",
     runCommand},
    {"bench", "median latency per input shape, on random inputs", benchCommand},
    {"info", "print an artifact's inputs, outputs and target", infoCommand},
    {"conformance", "compile and check ONNX backend test cases",
     conformanceCommand},
    {"eval",
     "compare a candidate language model with its baseline: per-capability "
     "scores with confidence intervals and a gate, or KLD and perplexity on "
     "a text",
     evalCommand},
    {"calibrate",
     "run a calibration build over a calibration set and write the "
     "statistics its observation points gathered",
     calibrateCommand},
    {"__case", nullptr, caseCommand}, // conformance's child process
};

} // namespace

int qrun::qrunMain(int argc, char **argv) {
  // Models free and allocate the same large buffers on every run; glibc
  // would return them to the kernel and page-fault them back in each time.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return dispatchCommand("qrun: run, benchmark and check qopt artifacts "
                         "(compiled by qopt-compile).",
                         kCommands, argc, argv);
}
