//===- EvalCache.cpp - qrun eval's baseline cache -------------------------===//
//
// SHA-256, and the reader and writer of the baseline cache's files
// (EvalCache.h). The layout of a file, version 1, all integers in the byte
// order of the machine that wrote it (a reader with another byte order
// rejects the file):
//
//   offset  size
//        0     8  magic "QOPTEVBC"
//        8     4  u32 version (kCacheVersion)
//       12     4  u32 0x01020304, to detect the byte order
//       16    32  key (SHA-256, see docs/eval.md)
//       48     8  u64 vocabulary size V
//       56     8  u64 number of sequences S
//       64     8  u64 number of rows R (the sum of the rows per sequence)
//       72    32  SHA-256 of everything from offset 128 to the end
//      104    24  zeros
//      128   8 S  u64 rows of each sequence
//                 zeros up to a multiple of 64 bytes
//                 f32 logits [R, V], sequence after sequence
//
//===----------------------------------------------------------------------===//

#include "qopt/Runner/EvalCache.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace qrun::eval;

//===----------------------------------------------------------------------===//
// SHA-256
//===----------------------------------------------------------------------===//

namespace {

constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

} // namespace

void Sha256::reset() {
  static constexpr uint32_t initial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                          0xa54ff53a, 0x510e527f, 0x9b05688c,
                                          0x1f83d9ab, 0x5be0cd19};
  memcpy(state, initial, sizeof(state));
  buffered = 0;
  length = 0;
}

void Sha256::block(const uint8_t *data) {
  uint32_t w[64];
  for (int i = 0; i < 16; ++i)
    w[i] = static_cast<uint32_t>(data[4 * i]) << 24 |
           static_cast<uint32_t>(data[4 * i + 1]) << 16 |
           static_cast<uint32_t>(data[4 * i + 2]) << 8 |
           static_cast<uint32_t>(data[4 * i + 3]);
  for (int i = 16; i < 64; ++i) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4],
           f = state[5], g = state[6], h = state[7];
  for (int i = 0; i < 64; ++i) {
    uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    uint32_t choose = (e & f) ^ (~e & g);
    uint32_t t1 = h + s1 + choose + kRound[i] + w[i];
    uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = s0 + majority;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

void Sha256::update(const void *data, size_t size) {
  const uint8_t *bytes = static_cast<const uint8_t *>(data);
  length += size;
  if (buffered) {
    size_t take = std::min(size, sizeof(buffer) - buffered);
    memcpy(buffer + buffered, bytes, take);
    buffered += take;
    bytes += take;
    size -= take;
    if (buffered < sizeof(buffer))
      return;
    block(buffer);
    buffered = 0;
  }
  for (; size >= 64; bytes += 64, size -= 64)
    block(bytes);
  memcpy(buffer, bytes, size);
  buffered = size;
}

void Sha256::updateU64(uint64_t value) {
  uint8_t bytes[8];
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<uint8_t>(value >> (8 * i));
  update(bytes, sizeof(bytes));
}

void Sha256::updateString(const std::string &text) {
  updateU64(text.size());
  update(text.data(), text.size());
}

Digest Sha256::finish() {
  uint64_t bits = length * 8;
  uint8_t pad[72] = {0x80};
  size_t padding = (buffered < 56 ? 56 : 120) - buffered;
  for (int i = 0; i < 8; ++i)
    pad[padding + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  update(pad, padding + 8);
  Digest digest;
  for (int i = 0; i < 8; ++i)
    for (int k = 0; k < 4; ++k)
      digest[4 * i + k] = static_cast<uint8_t>(state[i] >> (24 - 8 * k));
  reset();
  return digest;
}

std::string qrun::eval::hexDigest(const Digest &digest) {
  static const char digits[] = "0123456789abcdef";
  std::string text;
  for (uint8_t byte : digest) {
    text += digits[byte >> 4];
    text += digits[byte & 15];
  }
  return text;
}

std::string qrun::eval::hashFile(const std::string &path, Sha256 &hash) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat info;
  if (fd < 0 || fstat(fd, &info) != 0) {
    std::string error = "cannot read '" + path + "': " + strerror(errno);
    if (fd >= 0)
      close(fd);
    return error;
  }
  hash.updateU64(static_cast<uint64_t>(info.st_size));
  std::vector<uint8_t> buffer(1 << 20);
  while (true) {
    ssize_t got = read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      std::string error = "cannot read '" + path + "': " + strerror(errno);
      close(fd);
      return error;
    }
    if (got == 0)
      break;
    hash.update(buffer.data(), static_cast<size_t>(got));
  }
  close(fd);
  return "";
}

//===----------------------------------------------------------------------===//
// Cache files
//===----------------------------------------------------------------------===//

namespace {

constexpr char kMagic[8] = {'Q', 'O', 'P', 'T', 'E', 'V', 'B', 'C'};
constexpr uint32_t kByteOrder = 0x01020304;
constexpr size_t kHeaderBytes = 128;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t byteOrder;
  uint8_t key[32];
  uint64_t vocab;
  uint64_t sequences;
  uint64_t rows;
  uint8_t checksum[32];
  uint8_t zeros[24];
};
static_assert(sizeof(Header) == kHeaderBytes, "the header has 128 bytes");

/// Where the logits start: after the rows per sequence, 64-byte aligned.
size_t dataOffset(uint64_t sequences) {
  size_t end = kHeaderBytes + 8 * static_cast<size_t>(sequences);
  return (end + 63) / 64 * 64;
}

} // namespace

CachedLogits::~CachedLogits() {
  if (mapping)
    munmap(mapping, mappedBytes);
}

std::string CachedLogits::open(const std::string &path, const Digest &key,
                               const std::vector<int64_t> &rowsPerSequence,
                               int64_t expectedVocab) {
  if (mapping)
    munmap(mapping, mappedBytes);
  mapping = nullptr;
  mappedBytes = 0;
  data = nullptr;
  vocabSize = 0;
  offsets.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? "missing"
                           : std::string("cannot open: ") + strerror(errno);
  struct stat info;
  if (fstat(fd, &info) != 0) {
    std::string error = std::string("cannot stat: ") + strerror(errno);
    close(fd);
    return error;
  }
  size_t size = static_cast<size_t>(info.st_size);
  if (size < kHeaderBytes) {
    close(fd);
    return "truncated (" + std::to_string(size) + " bytes)";
  }
  void *map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED)
    return std::string("cannot map: ") + strerror(errno);
  mapping = map;
  mappedBytes = size;
  Header header;
  memcpy(&header, map, sizeof(header));
  if (memcmp(header.magic, kMagic, sizeof(kMagic)) != 0)
    return "not a qrun eval cache file";
  if (header.byteOrder != kByteOrder)
    return "written on a machine of another byte order";
  if (header.version != kCacheVersion)
    return "format version " + std::to_string(header.version) +
           ", this qrun reads " + std::to_string(kCacheVersion);
  if (memcmp(header.key, key.data(), key.size()) != 0)
    return "its key does not match its name";
  uint64_t rows = 0;
  for (int64_t r : rowsPerSequence)
    rows += static_cast<uint64_t>(r);
  if (header.sequences != rowsPerSequence.size() || header.rows != rows ||
      header.vocab == 0 || header.vocab > (1u << 30) ||
      (expectedVocab > 0 &&
       header.vocab != static_cast<uint64_t>(expectedVocab)))
    return "holds other sequences or another vocabulary than expected";
  size_t begin = dataOffset(header.sequences);
  unsigned __int128 expectedSize =
      static_cast<unsigned __int128>(rows) * header.vocab * sizeof(float) +
      begin;
  if (expectedSize != size)
    return "has " + std::to_string(size) + " bytes, expected " +
           std::to_string(static_cast<uint64_t>(expectedSize));
  const uint8_t *bytes = static_cast<const uint8_t *>(map);
  std::vector<uint64_t> counts(header.sequences);
  memcpy(counts.data(), bytes + kHeaderBytes, 8 * counts.size());
  for (size_t s = 0; s < counts.size(); ++s)
    if (counts[s] != static_cast<uint64_t>(rowsPerSequence[s]))
      return "sequence " + std::to_string(s) + " has " +
             std::to_string(counts[s]) + " rows, expected " +
             std::to_string(rowsPerSequence[s]);
  Sha256 hash;
  hash.update(bytes + kHeaderBytes, size - kHeaderBytes);
  Digest checksum = hash.finish();
  if (memcmp(checksum.data(), header.checksum, checksum.size()) != 0)
    return "checksum mismatch (corrupt)";
  data = reinterpret_cast<const float *>(bytes + begin);
  vocabSize = static_cast<int64_t>(header.vocab);
  offsets.assign(rowsPerSequence.size(), 0);
  int64_t at = 0;
  for (size_t s = 0; s < rowsPerSequence.size(); ++s) {
    offsets[s] = at;
    at += rowsPerSequence[s];
  }
  return "";
}

CacheWriter::~CacheWriter() {
  if (fd >= 0) {
    close(fd);
    remove(tmpPath.c_str());
  }
}

std::string CacheWriter::fail(const std::string &what, int error) {
  if (fd >= 0) {
    close(fd);
    fd = -1;
    remove(tmpPath.c_str());
  }
  return "cannot write '" + tmpPath + "': " + what +
         (error ? std::string(": ") + strerror(error) : std::string());
}

namespace {

/// Writes all of `bytes` at `offset`.
bool writeAt(int fd, const void *bytes, size_t size, uint64_t offset) {
  const char *at = static_cast<const char *>(bytes);
  while (size > 0) {
    ssize_t wrote = pwrite(fd, at, size, static_cast<off_t>(offset));
    if (wrote < 0 && errno == EINTR)
      continue;
    if (wrote <= 0)
      return false;
    at += wrote;
    size -= static_cast<size_t>(wrote);
    offset += static_cast<uint64_t>(wrote);
  }
  return true;
}

} // namespace

namespace {

/// mkdir -p.
bool makeDirectories(const std::string &dir) {
  struct stat info;
  if (dir.empty() || stat(dir.c_str(), &info) == 0)
    return true;
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0 &&
      !makeDirectories(dir.substr(0, slash)))
    return false;
  return mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST;
}

} // namespace

std::string CacheWriter::start(const std::string &path, const Digest &key,
                               const std::vector<int64_t> &rowsPerSequence,
                               int64_t vocab) {
  this->path = path;
  this->vocab = vocab;
  rows = rowsPerSequence;
  tmpPath = path + ".tmp." + std::to_string(getpid());
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && !makeDirectories(path.substr(0, slash)))
    return "cannot create the directory of '" + path + "': " + strerror(errno);
  fd = ::open(tmpPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    return fail("cannot create it", errno);
  Header header;
  memset(&header, 0, sizeof(header));
  memcpy(header.magic, kMagic, sizeof(kMagic));
  header.version = kCacheVersion;
  header.byteOrder = kByteOrder;
  memcpy(header.key, key.data(), key.size());
  header.vocab = static_cast<uint64_t>(vocab);
  header.sequences = rows.size();
  std::vector<uint8_t> front(dataOffset(header.sequences), 0);
  uint64_t at = front.size(), rowBytes = static_cast<uint64_t>(vocab) * 4;
  offsets.resize(rows.size());
  for (size_t s = 0; s < rows.size(); ++s) {
    uint64_t count = static_cast<uint64_t>(rows[s]);
    memcpy(front.data() + kHeaderBytes + 8 * s, &count, 8);
    offsets[s] = at;
    at += count * rowBytes;
    header.rows += count;
  }
  memcpy(front.data(), &header, sizeof(header));
  written.assign(rows.size(), 0);
  if (!writeAt(fd, front.data(), front.size(), 0) ||
      ftruncate(fd, static_cast<off_t>(at)) != 0)
    return fail("write failed", errno);
  return "";
}

std::string CacheWriter::put(size_t s, const float *data) {
  if (fd < 0 || s >= rows.size())
    return "";
  size_t bytes = static_cast<size_t>(rows[s] * vocab) * sizeof(float);
  if (!writeAt(fd, data, bytes, offsets[s]))
    return "cannot write '" + tmpPath + "': " + strerror(errno);
  written[s] = 1;
  return "";
}

std::string CacheWriter::commit() {
  if (fd < 0)
    return "";
  for (size_t s = 0; s < written.size(); ++s)
    if (!written[s])
      return fail("sequence " + std::to_string(s) + " was not written", 0);
  // The checksum of everything after the header, read back.
  struct stat info;
  if (fstat(fd, &info) != 0)
    return fail("cannot stat it", errno);
  int reader = ::open(tmpPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (reader < 0)
    return fail("cannot read it back", errno);
  Sha256 hash;
  std::vector<uint8_t> buffer(1 << 20);
  for (uint64_t at = kHeaderBytes; at < static_cast<uint64_t>(info.st_size);) {
    ssize_t got =
        pread(reader, buffer.data(), buffer.size(), static_cast<off_t>(at));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      int error = errno;
      close(reader);
      return fail("cannot read it back", got < 0 ? error : EIO);
    }
    hash.update(buffer.data(), static_cast<size_t>(got));
    at += static_cast<uint64_t>(got);
  }
  close(reader);
  Digest checksum = hash.finish();
  if (!writeAt(fd, checksum.data(), checksum.size(),
               offsetof(Header, checksum)) ||
      fsync(fd) != 0)
    return fail("write failed", errno);
  int closing = fd;
  fd = -1;
  if (close(closing) != 0) {
    int error = errno;
    remove(tmpPath.c_str());
    return "cannot write '" + tmpPath + "': " + strerror(error);
  }
  if (rename(tmpPath.c_str(), path.c_str()) != 0) {
    std::string message =
        "cannot rename '" + tmpPath + "' to '" + path + "': " + strerror(errno);
    remove(tmpPath.c_str());
    return message;
  }
  return "";
}
