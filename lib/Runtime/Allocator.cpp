//===- Allocator.cpp - The heap of compiled code --------------------------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// Artifacts allocate their intermediate buffers through the generic memref
// allocation functions of MLIR's LLVM lowering (`_mlir_memref_to_llvm_*`),
// which libqrt defines here. A model runs many times with the same shapes,
// and its large buffers (attention scores of tens of MiB) are above glibc's
// mmap threshold: with plain malloc every run maps them afresh, and the page
// faults that zero them cost as much as the arithmetic. Freed blocks of
// kMinCachedBytes or more therefore go to a cache and serve later
// allocations of about the same size, keeping their pages. The cache holds at
// most $QRT_ALLOC_CACHE_MB MiB (default 1024; 0 disables it); beyond that
// the oldest blocks go back to the system.
//
//===----------------------------------------------------------------------===//

#include "Allocator.h"

#include "qopt/Runtime/qrt.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <list>
#include <malloc.h>
#include <map>
#include <mutex>
#include <unordered_map>

namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kMinCachedBytes = size_t(1) << 20;

/// Bytes of blocks handed out and not yet freed, and their most since the
/// last reset (qrt_memory_usage). Small blocks are counted by
/// malloc_usable_size, cached ones by their rounded size.
std::atomic<size_t> liveBytes{0}, peakBytes{0};

void countAllocated(size_t bytes) {
  size_t live = liveBytes.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  size_t peak = peakBytes.load(std::memory_order_relaxed);
  while (live > peak && !peakBytes.compare_exchange_weak(
                            peak, live, std::memory_order_relaxed))
    ;
}

/// Clamped at 0: the free function also takes blocks that came from malloc
/// elsewhere, which were never counted.
void countReleased(size_t bytes) {
  size_t live = liveBytes.load(std::memory_order_relaxed);
  while (!liveBytes.compare_exchange_weak(live, live > bytes ? live - bytes : 0,
                                          std::memory_order_relaxed))
    ;
}

class BlockCache {
public:
  BlockCache() {
    size_t mib = 1024;
    if (const char *env = std::getenv("QRT_ALLOC_CACHE_MB")) {
      char *end = nullptr;
      unsigned long long value = std::strtoull(env, &end, 10);
      if (end != env && *end == '\0')
        mib = static_cast<size_t>(value);
    }
    limit = mib << 20;
  }

  void *allocate(size_t size, size_t alignment) {
    // Generated code passes a negative byte count (from a negative dimension)
    // as a huge size_t; rounding it up would wrap to a tiny block.
    if (size > static_cast<size_t>(PTRDIFF_MAX))
      return nullptr;
    if (size < kMinCachedBytes || limit == 0) {
      void *ptr = allocateFromSystem(size, alignment);
      if (ptr)
        countAllocated(malloc_usable_size(ptr));
      return ptr;
    }
    size_t rounded = roundUp(size);
    {
      std::lock_guard<std::mutex> lock(mutex);
      // The smallest free block that fits and wastes at most a quarter.
      auto it = freeBySize.lower_bound(rounded);
      if (it != freeBySize.end() && it->first <= rounded + rounded / 4 &&
          reinterpret_cast<uintptr_t>(it->second->ptr) % alignment == 0) {
        auto block = it->second;
        void *ptr = block->ptr;
        cachedBytes -= block->size;
        countAllocated(block->size);
        freeBySize.erase(it);
        lru.erase(block);
        return ptr;
      }
    }
    void *ptr = allocateFromSystem(rounded, alignment);
    if (ptr) {
      std::lock_guard<std::mutex> lock(mutex);
      liveSizes[ptr] = rounded;
      countAllocated(rounded);
    }
    return ptr;
  }

  void release(void *ptr) {
    if (!ptr)
      return;
    std::unique_lock<std::mutex> lock(mutex);
    auto live = liveSizes.find(ptr);
    if (live == liveSizes.end()) {
      lock.unlock();
      countReleased(malloc_usable_size(ptr));
      std::free(ptr);
      return;
    }
    size_t size = live->second;
    countReleased(size);
    if (size > limit) {
      liveSizes.erase(live);
      lock.unlock();
      std::free(ptr);
      return;
    }
    lru.push_back({ptr, size});
    freeBySize.emplace(size, std::prev(lru.end()));
    cachedBytes += size;
    // Oldest first back to the system. The block just freed stays.
    while (cachedBytes > limit) {
      Block oldest = lru.front();
      auto range = freeBySize.equal_range(oldest.size);
      for (auto it = range.first; it != range.second; ++it)
        if (it->second == lru.begin()) {
          freeBySize.erase(it);
          break;
        }
      lru.pop_front();
      liveSizes.erase(oldest.ptr);
      cachedBytes -= oldest.size;
      std::free(oldest.ptr);
    }
  }

private:
  struct Block {
    void *ptr;
    size_t size;
  };

  static size_t roundUp(size_t size) {
    // Page multiples, so that sizes a few bytes apart share blocks.
    return (size + 4095) & ~size_t(4095);
  }

  static void *allocateFromSystem(size_t size, size_t alignment) {
    if (alignment < kAlignment)
      alignment = kAlignment;
    size_t rounded = (size + alignment - 1) & ~(alignment - 1);
    if (rounded == 0)
      rounded = alignment;
    return std::aligned_alloc(alignment, rounded);
  }

public:
  size_t getCachedBytes() {
    std::lock_guard<std::mutex> lock(mutex);
    return cachedBytes;
  }

private:
  std::mutex mutex;
  size_t limit = 0;
  size_t cachedBytes = 0;
  /// Every block this cache handed out, free or not, and its size.
  std::unordered_map<void *, size_t> liveSizes;
  /// Free blocks, oldest first, and the same blocks by size.
  std::list<Block> lru;
  std::multimap<size_t, std::list<Block>::iterator> freeBySize;
};

BlockCache &getBlockCache() {
  // Never destroyed: artifacts may free buffers during static destruction.
  static BlockCache *cache = new BlockCache();
  return *cache;
}

thread_local qrt::AllocationScope *currentScope = nullptr;

} // namespace

namespace qrt {
struct AllocationScopeAccess {
  static void allocated(void *ptr) {
    if (ptr && currentScope)
      currentScope->live.insert(ptr);
  }
  static void released(void *ptr) {
    if (ptr && currentScope)
      currentScope->live.erase(ptr);
  }
};
} // namespace qrt

qrt::AllocationScope::AllocationScope() : previous(currentScope) {
  currentScope = this;
}

qrt::AllocationScope::~AllocationScope() { currentScope = previous; }

void qrt::AllocationScope::releaseAll() {
  std::unordered_set<void *> blocks;
  blocks.swap(live);
  for (void *ptr : blocks)
    getBlockCache().release(ptr);
}

extern "C" {

// The functions MLIR's memref lowering calls with `use-generic-functions`.
void *_mlir_memref_to_llvm_alloc(size_t size) {
  void *ptr = getBlockCache().allocate(size, kAlignment);
  qrt::AllocationScopeAccess::allocated(ptr);
  return ptr;
}

void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size) {
  // aligned_alloc wants a power of two.
  if (alignment == 0 || (alignment & (alignment - 1)))
    return nullptr;
  void *ptr = getBlockCache().allocate(size, alignment);
  qrt::AllocationScopeAccess::allocated(ptr);
  return ptr;
}

void qrt_memory_usage(size_t *live, size_t *peak, size_t *cached) {
  if (live)
    *live = liveBytes.load(std::memory_order_relaxed);
  if (peak)
    *peak = peakBytes.load(std::memory_order_relaxed);
  if (cached)
    *cached = getBlockCache().getCachedBytes();
}

void qrt_reset_peak_memory(void) {
  peakBytes.store(liveBytes.load(std::memory_order_relaxed),
                  std::memory_order_relaxed);
}

void _mlir_memref_to_llvm_free(void *ptr) {
  qrt::AllocationScopeAccess::released(ptr);
  getBlockCache().release(ptr);
}

} // extern "C"
