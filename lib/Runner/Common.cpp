//===- Common.cpp - helpers shared by qrun's commands ---------------------===//

#include "qopt/Runner/Common.h"

#include "qopt/Runtime/ArtifactABI.h"
#include "qopt/Runtime/qrt_cuda.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

using namespace qrun;

int qrun::usageError(const std::string &message) {
  fprintf(stderr, "qrun: error: %s\n", message.c_str());
  return 2;
}

int qrun::runError(const std::string &message) {
  fprintf(stderr, "qrun: error: %s\n", message.c_str());
  return 1;
}

Loaded::~Loaded() {
  qrt_session_free(session);
  qrt_artifact_free(artifact);
}

std::string Loaded::load(const std::string &path) {
  if (qrt_artifact_load(path.c_str(), &artifact) != QRT_OK)
    return qrt_last_error();
  if (qrt_session_create(artifact, &session) != QRT_OK)
    return qrt_last_error();
  return "";
}

const std::vector<std::string> qrun::kDevices = {"cpu", "cuda"};

/// Why an artifact loaded as `artifact` from `path` does not run on
/// `device`, or "".
static std::string deviceMismatch(const qrt_artifact *artifact,
                                  const std::string &path,
                                  const std::string &device) {
  bool cuda = qrt_artifact_device(artifact) == QART_DEVICE_CUDA;
  if (cuda && device != "cuda")
    return path + ": compiled for CUDA (qopt-compile --target=cuda): run it "
                  "with --device cuda";
  if (!cuda && device == "cuda")
    return path + ": compiled for the CPU: compile the model with "
                  "qopt-compile --target=cuda to run it with --device cuda";
  return "";
}

std::string Loaded::load(const std::string &path, const std::string &device) {
  if (device == "cuda") {
    // Say that the GPU is missing before anything about the artifact.
    qrt_cuda_device *dev = nullptr;
    if (qrt_cuda_model_device(&dev) != QRT_OK)
      return std::string("--device cuda: ") + qrt_last_error();
  }
  if (std::string error = load(path); !error.empty())
    return error;
  return deviceMismatch(artifact, path, device);
}

std::string qrun::checkArtifactDevice(const std::string &path,
                                      const std::string &device) {
  if (device == "cuda") {
    qrt_cuda_device *dev = nullptr;
    if (qrt_cuda_model_device(&dev) != QRT_OK)
      return std::string("--device cuda: ") + qrt_last_error();
  }
  qrt_artifact *artifact = nullptr;
  if (qrt_artifact_load(path.c_str(), &artifact) != QRT_OK)
    return qrt_last_error();
  std::string error = deviceMismatch(artifact, path, device);
  qrt_artifact_free(artifact);
  return error;
}

std::string Loaded::bind(const Tensor &tensor) {
  if (qrt_session_set_input(session, tensor.name.c_str(), tensor.dtype,
                            static_cast<int32_t>(tensor.shape.size()),
                            tensor.shape.data(), tensor.data.data()) != QRT_OK)
    return qrt_last_error();
  return "";
}

double qrun::nowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool qrun::parseInt(const std::string &text, long long &value) {
  char *end = nullptr;
  errno = 0;
  value = strtoll(text.c_str(), &end, 10);
  return !text.empty() && *end == 0 && errno == 0;
}

Progress::Progress() : enabled(isatty(2)) {}

void Progress::start(const std::string &what, size_t total) {
  label = what;
  this->total = total;
  begin = nowMs();
  update(0);
}

void Progress::update(size_t done) {
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

void Progress::clear() {
  if (enabled && shown)
    fprintf(stderr, "\r\033[K");
  shown = false;
}

std::function<void(size_t, size_t)>
Progress::callback(const std::string &what) {
  return [this, what](size_t done, size_t total) {
    if (what != label || total != this->total)
      start(what, total);
    update(done);
  };
}

std::string qrun::writeFileAtomically(const std::string &path,
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
