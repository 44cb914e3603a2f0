//===- MemRefCopy.cpp - strided copies for generated code -----------------===//
//
// `memref.copy` between non-contiguous buffers lowers to a call to
// `memrefCopy`, which MLIR's own runner library defines. Artifacts must not
// depend on that library (it comes with MLIR), so libqrt provides the same
// symbol with the same ABI. Large copies run on the thread pool: the
// transposes and concatenations of a transformer are copies of whole
// activation tensors.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {
/// MLIR's UnrankedMemRefType: the rank and a pointer to a ranked descriptor
/// `{allocated, aligned, offset, sizes[rank], strides[rank]}`.
struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};

struct View {
  char *base;
  const int64_t *sizes;
  const int64_t *strides;
};

View getView(const UnrankedMemRef &memref, int64_t elemSize) {
  auto *words = static_cast<int64_t *>(memref.descriptor);
  char *aligned;
  memcpy(&aligned, &words[1], sizeof(char *));
  return {aligned + words[2] * elemSize, words + 3, words + 3 + memref.rank};
}

/// One copy: lines are all dimensions but the innermost, which each line
/// copies in full.
struct CopyJob {
  int64_t elemSize;
  int64_t rank;
  View from, to;
};

template <typename T>
void copyStrided(char *to, int64_t toStride, const char *from,
                 int64_t fromStride, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    memcpy(to + i * toStride * sizeof(T), from + i * fromStride * sizeof(T),
           sizeof(T));
}

void copyLines(void *ctx, int64_t begin, int64_t end) {
  const CopyJob &job = *static_cast<const CopyJob *>(ctx);
  int64_t inner = job.rank - 1, outer = job.rank - 1;
  int64_t count = job.from.sizes[inner];
  int64_t fromStride = job.from.strides[inner],
          toStride = job.to.strides[inner];
  bool contiguous = fromStride == 1 && toStride == 1;
  // Index of line `begin`, innermost outer dimension fastest.
  std::vector<int64_t> index(outer, 0);
  int64_t rest = begin;
  for (int64_t d = outer - 1; d >= 0; --d) {
    index[d] = rest % job.from.sizes[d];
    rest /= job.from.sizes[d];
  }
  for (int64_t line = begin; line < end; ++line) {
    int64_t fromOffset = 0, toOffset = 0;
    for (int64_t d = 0; d < outer; ++d) {
      fromOffset += index[d] * job.from.strides[d];
      toOffset += index[d] * job.to.strides[d];
    }
    char *to = job.to.base + toOffset * job.elemSize;
    const char *from = job.from.base + fromOffset * job.elemSize;
    if (contiguous) {
      memcpy(to, from, count * job.elemSize);
    } else {
      switch (job.elemSize) {
      case 1:
        copyStrided<uint8_t>(to, toStride, from, fromStride, count);
        break;
      case 2:
        copyStrided<uint16_t>(to, toStride, from, fromStride, count);
        break;
      case 4:
        copyStrided<uint32_t>(to, toStride, from, fromStride, count);
        break;
      case 8:
        copyStrided<uint64_t>(to, toStride, from, fromStride, count);
        break;
      default:
        for (int64_t i = 0; i < count; ++i)
          memcpy(to + i * toStride * job.elemSize,
                 from + i * fromStride * job.elemSize, job.elemSize);
      }
    }
    for (int64_t d = outer - 1; d >= 0; --d) {
      if (++index[d] < job.from.sizes[d])
        break;
      index[d] = 0;
    }
  }
}

/// Copies of at least this many bytes are split across the thread pool.
constexpr int64_t kMinParallelBytes = int64_t(1) << 18;

} // namespace

extern "C" void memrefCopy(int64_t elemSize, UnrankedMemRef *src,
                           UnrankedMemRef *dst) {
  int64_t rank = src->rank;
  View from = getView(*src, elemSize), to = getView(*dst, elemSize);
  for (int64_t d = 0; d < rank; ++d)
    if (from.sizes[d] == 0)
      return;
  if (rank == 0) {
    memcpy(to.base, from.base, elemSize);
    return;
  }
  CopyJob job{elemSize, rank, from, to};
  int64_t lines = 1;
  for (int64_t d = 0; d + 1 < rank; ++d)
    lines *= from.sizes[d];
  int64_t bytes = lines * from.sizes[rank - 1] * elemSize;
  qrt::ThreadPool &pool = qrt::getGlobalThreadPool();
  if (bytes < kMinParallelBytes || lines < 2 || pool.getNumThreads() <= 1 ||
      qrt::ThreadPool::isInParallelRegion()) {
    copyLines(&job, 0, lines);
    return;
  }
  // Chunks of at least kMinParallelBytes / 4.
  int64_t lineBytes = std::max<int64_t>(1, bytes / lines);
  pool.parallelFor(lines, copyLines, &job,
                   std::max<int64_t>(1, (kMinParallelBytes / 4) / lineBytes));
}
