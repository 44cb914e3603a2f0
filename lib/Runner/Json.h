//===- Json.h - the runner's JSON, by nlohmann/json -------------*- C++ -*-===//
//
// Private to lib/Runner: the .cpp files that read or write JSON include it,
// public headers never do (nlohmann/json takes about a second to compile).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_RUNNER_JSON_H
#define QOPT_LIB_RUNNER_JSON_H

#include <nlohmann/json.hpp>

#include <string>

namespace qrun {

/// The JSON that qrun writes: objects keep their keys in the order they were
/// added, so that the output reads like the documented examples.
using Json = nlohmann::ordered_json;

/// `value` as JSON text, on one line (indent < 0) or indented by `indent`
/// spaces per level. Numbers round-trip: integers exactly, and doubles in
/// the shortest form that reads back as the same double (integral ones with
/// ".0"). JSON has no infinity or NaN: non-finite numbers are written as
/// null. Bytes of strings that are not UTF-8 become U+FFFD.
inline std::string dumpJson(const Json &value, int indent = -1) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

} // namespace qrun

#endif // QOPT_LIB_RUNNER_JSON_H
