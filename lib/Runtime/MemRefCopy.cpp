//===- MemRefCopy.cpp - strided copies for generated code -----------------===//
//
// `memref.copy` between non-contiguous buffers lowers to a call to
// `memrefCopy`, which MLIR's own runner library defines. Artifacts must not
// depend on that library (it comes with MLIR), so libqrt provides the same
// symbol with the same ABI.
//
//===----------------------------------------------------------------------===//

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
  // Innermost dimension contiguous in both: copy rows with memcpy.
  int64_t inner = rank - 1;
  bool rows = from.strides[inner] == 1 && to.strides[inner] == 1;
  int64_t rowBytes = rows ? from.sizes[inner] * elemSize : elemSize;
  int64_t outerRank = rows ? inner : rank;
  std::vector<int64_t> index(outerRank, 0);
  while (true) {
    int64_t fromOffset = 0, toOffset = 0;
    for (int64_t d = 0; d < outerRank; ++d) {
      fromOffset += index[d] * from.strides[d];
      toOffset += index[d] * to.strides[d];
    }
    memcpy(to.base + toOffset * elemSize, from.base + fromOffset * elemSize,
           rowBytes);
    int64_t d = outerRank - 1;
    for (; d >= 0; --d) {
      if (++index[d] < from.sizes[d])
        break;
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}
