//===- EvalCache.h - qrun eval's baseline cache -----------------*- C++ -*-===//
//
// The baseline's logits at the scored positions of a suite (or a text),
// stored in a file named after a SHA-256 of everything that determines them,
// so that a later `qrun eval` with the same baseline reads them instead of
// running the baseline again. docs/eval.md ("Baseline cache") describes the
// key and the file format.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNNER_EVALCACHE_H
#define QOPT_RUNNER_EVALCACHE_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace qrun {
namespace eval {

/// A SHA-256 digest.
using Digest = std::array<uint8_t, 32>;

/// SHA-256 (FIPS 180-4).
class Sha256 {
public:
  Sha256() { reset(); }
  void reset();
  void update(const void *data, size_t size);
  /// An integer as 8 little-endian bytes.
  void updateU64(uint64_t value);
  /// A string as its length (updateU64) and its bytes, so that consecutive
  /// strings cannot run into each other.
  void updateString(const std::string &text);
  /// The digest; the object is reset.
  Digest finish();

private:
  void block(const uint8_t *data);
  uint32_t state[8];
  uint8_t buffer[64];
  size_t buffered = 0;
  uint64_t length = 0;
};

/// Lower-case hexadecimal.
std::string hexDigest(const Digest &digest);

/// Adds the size and the contents of the file at `path` to `hash`. Returns
/// an error message, or "".
std::string hashFile(const std::string &path, Sha256 &hash);

/// The version of the cache file format (and of the key's layout). Files of
/// other versions are never read.
constexpr uint32_t kCacheVersion = 1;

/// Cached baseline logits read from a file: `rows(s)` rows of `vocab`
/// floats for sequence s. The data are mapped from the file and stay valid
/// while the object lives.
class CachedLogits {
public:
  CachedLogits() = default;
  CachedLogits(const CachedLogits &) = delete;
  CachedLogits &operator=(const CachedLogits &) = delete;
  ~CachedLogits();

  /// Maps `path` and checks it: magic, version, byte order, `key`,
  /// `rowsPerSequence` (the rows each sequence must have), the vocabulary
  /// (when `vocab` > 0), the size and the checksum of the payload. Returns
  /// "" when the file is valid, "missing" when it does not exist, otherwise
  /// what is wrong with it.
  std::string open(const std::string &path, const Digest &key,
                   const std::vector<int64_t> &rowsPerSequence, int64_t vocab);
  int64_t vocab() const { return vocabSize; }
  /// The first logit of sequence `s`'s first row.
  const float *rows(size_t s) const {
    return data + static_cast<size_t>(offsets[s]) * vocabSize;
  }

private:
  void *mapping = nullptr;
  size_t mappedBytes = 0;
  const float *data = nullptr;
  int64_t vocabSize = 0;
  std::vector<int64_t> offsets;
};

/// Writes a cache file: the header first, then every sequence's rows at
/// their place as they are computed (in any order, from any thread), then
/// commit() renames the temporary file into place, so that readers see a
/// whole file or none.
class CacheWriter {
public:
  CacheWriter() = default;
  CacheWriter(const CacheWriter &) = delete;
  CacheWriter &operator=(const CacheWriter &) = delete;
  /// Removes the temporary file unless committed.
  ~CacheWriter();

  /// Starts `path` (written as `path.tmp.PID` first; the directory is
  /// created when missing). Returns an error message, or "".
  std::string start(const std::string &path, const Digest &key,
                    const std::vector<int64_t> &rowsPerSequence, int64_t vocab);
  /// Writes sequence `s`'s rows (rowsPerSequence[s] rows of `vocab`
  /// floats). Calls for different sequences may run at once.
  std::string put(size_t s, const float *rows);
  /// Checks that every sequence was written, writes the checksum, syncs
  /// and renames the file into place.
  std::string commit();

private:
  std::string fail(const std::string &what, int error);
  int fd = -1;
  std::string path, tmpPath;
  int64_t vocab = 0;
  std::vector<int64_t> rows;
  /// Where each sequence's rows start in the file.
  std::vector<uint64_t> offsets;
  std::vector<char> written;
};

} // namespace eval
} // namespace qrun

#endif // QOPT_RUNNER_EVALCACHE_H
