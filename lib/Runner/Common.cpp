//===- Common.cpp - helpers shared by qrun's commands ---------------------===//

#include "qopt/Runner/Common.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>

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
