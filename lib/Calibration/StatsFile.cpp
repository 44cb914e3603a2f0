//===- StatsFile.cpp - the calibration statistics file --------------------===//
//
// No LLVM here: qrun writes these files on machines without it.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/StatsFile.h"

#include <cstring>

using namespace qstats;

uint64_t qstats::fnv1a64(const void *data, size_t size) {
  const auto *bytes = static_cast<const unsigned char *>(data);
  uint64_t hash = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

namespace {

// The hosts qopt runs on are little-endian, so values are copied as they
// are in memory.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the statistics file is little-endian");

template <typename T> void put(std::string &out, T value) {
  out.append(reinterpret_cast<const char *>(&value), sizeof(T));
}

template <typename T> void putArray(std::string &out, const std::vector<T> &v) {
  out.append(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
}

/// Bounds-checked reads from the payload.
struct Reader {
  const char *data;
  size_t size, at = 0;
  bool ok = true;

  template <typename T> T get() {
    T value{};
    if (size - at < sizeof(T)) {
      ok = false;
      return value;
    }
    memcpy(&value, data + at, sizeof(T));
    at += sizeof(T);
    return value;
  }
  template <typename T> bool getArray(std::vector<T> &v, int64_t count) {
    if (count < 0 || static_cast<uint64_t>(count) > (size - at) / sizeof(T)) {
      ok = false;
      return false;
    }
    v.resize(static_cast<size_t>(count));
    memcpy(v.data(), data + at, v.size() * sizeof(T));
    at += v.size() * sizeof(T);
    return true;
  }
};

} // namespace

std::string qstats::encodeStatsFile(const StatsFile &stats) {
  std::string payload;
  put<uint32_t>(payload, static_cast<uint32_t>(stats.points.size()));
  for (const PointStats &p : stats.points) {
    put<uint32_t>(payload, static_cast<uint32_t>(p.name.size()));
    payload += p.name;
    put<int32_t>(payload, p.kind);
    put<int32_t>(payload, p.axis);
    put<int64_t>(payload, p.bins);
    put<double>(payload, p.percentile);
    put<int64_t>(payload, p.samples);
    put<int64_t>(payload, p.elements);
    put<int64_t>(payload, p.nonfinite);
    put<int64_t>(payload, static_cast<int64_t>(p.min.size()));
    putArray(payload, p.min);
    putArray(payload, p.max);
    putArray(payload, p.absmax);
    put<int64_t>(payload, p.hessianK);
    putArray(payload, p.hessian);
    put<int64_t>(payload, static_cast<int64_t>(p.histogram.size()));
    put<double>(payload, p.histogramRange);
    putArray(payload, p.histogram);
  }
  std::string file(kStatsFileMagic, sizeof(kStatsFileMagic));
  put<uint32_t>(file, kStatsFileVersion);
  put<uint32_t>(file, 0);
  put<uint64_t>(file, payload.size());
  put<uint64_t>(file, fnv1a64(payload.data(), payload.size()));
  return file + payload;
}

std::string qstats::decodeStatsFile(const std::string &bytes,
                                    const std::string &path, StatsFile &out) {
  const size_t headerSize = 32;
  if (bytes.size() < headerSize ||
      memcmp(bytes.data(), kStatsFileMagic, sizeof(kStatsFileMagic)) != 0)
    return path + ": not a qopt statistics file (bad magic)";
  Reader header = {bytes.data() + 8, headerSize - 8};
  uint32_t version = header.get<uint32_t>();
  header.get<uint32_t>();
  uint64_t payloadSize = header.get<uint64_t>();
  uint64_t checksum = header.get<uint64_t>();
  if (version != kStatsFileVersion)
    return path + ": statistics file version " + std::to_string(version) +
           ", this build reads version " + std::to_string(kStatsFileVersion) +
           (version < kStatsFileVersion
                ? " (written by an older qrun, before histograms)"
                : "") +
           "; rerun qrun calibrate";
  if (payloadSize != bytes.size() - headerSize)
    return path + ": truncated or padded statistics file (payload of " +
           std::to_string(bytes.size() - headerSize) + " bytes, the header " +
           "says " + std::to_string(payloadSize) + ")";
  const char *payload = bytes.data() + headerSize;
  if (fnv1a64(payload, payloadSize) != checksum)
    return path + ": statistics file checksum mismatch (corrupt file)";

  Reader r = {payload, static_cast<size_t>(payloadSize)};
  StatsFile result;
  uint32_t count = r.get<uint32_t>();
  for (uint32_t i = 0; r.ok && i < count; ++i) {
    PointStats p;
    uint32_t nameSize = r.get<uint32_t>();
    std::vector<char> name;
    if (!r.getArray(name, nameSize))
      break;
    p.name.assign(name.begin(), name.end());
    p.kind = r.get<int32_t>();
    p.axis = r.get<int32_t>();
    p.bins = r.get<int64_t>();
    p.percentile = r.get<double>();
    p.samples = r.get<int64_t>();
    p.elements = r.get<int64_t>();
    p.nonfinite = r.get<int64_t>();
    int64_t channels = r.get<int64_t>();
    if (!r.ok || !r.getArray(p.min, channels) || !r.getArray(p.max, channels) ||
        !r.getArray(p.absmax, channels))
      break;
    p.hessianK = r.get<int64_t>();
    if (!r.ok || p.hessianK < 0 || p.hessianK > (int64_t(1) << 20) ||
        !r.getArray(p.hessian, p.hessianK * p.hessianK))
      break;
    int64_t bins = r.get<int64_t>();
    p.histogramRange = r.get<double>();
    if (!r.ok || !(p.histogramRange >= 0) || !r.getArray(p.histogram, bins))
      break;
    result.points.push_back(std::move(p));
  }
  if (!r.ok || r.at != r.size)
    return path + ": corrupt statistics file (point " +
           std::to_string(result.points.size()) + " is malformed)";
  out = std::move(result);
  return "";
}
