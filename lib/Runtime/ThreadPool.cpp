//===- ThreadPool.cpp - The runtime's process-wide thread pool ------------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"

#include "qopt/Runtime/UKernels.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <sched.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

using namespace qrt;

namespace {

/// How long an idle worker polls for the next job before it blocks. Kernels of
/// one model follow each other within microseconds; blocking between them
/// would add a futex wake-up (several microseconds) to every call.
constexpr auto kSpinTime = std::chrono::microseconds(200);

/// Set while a thread runs a chunk of some job: a parallelFor() from there
/// runs serially, since the pool's threads are already busy with the outer
/// job.
thread_local bool tlInParallelRegion = false;

/// See getRunContext().
thread_local void *tlRunContext = nullptr;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

int getNumUsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0)
      return count;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

int resolveNumThreads(int n) { return n > 0 ? n : getNumUsableCpus(); }

// Fields of ThreadPool::state.
constexpr uint64_t kChunkBits = 16;
constexpr uint64_t kChunkMask = (uint64_t(1) << kChunkBits) - 1;
constexpr int64_t kMaxChunks = int64_t(kChunkMask);

inline uint32_t stateGen(uint64_t s) { return uint32_t(s >> 32); }
inline uint64_t stateNext(uint64_t s) { return (s >> kChunkBits) & kChunkMask; }
inline uint64_t stateCount(uint64_t s) { return s & kChunkMask; }

} // namespace

ThreadPool::ThreadPool(int n) { startWorkers(resolveNumThreads(n)); }

ThreadPool::~ThreadPool() { stopWorkers(); }

bool ThreadPool::isInParallelRegion() { return tlInParallelRegion; }

void ThreadPool::startWorkers(int n) {
  numThreads.store(n, std::memory_order_relaxed);
  stopping.store(false);
  workers.reserve(n - 1);
  for (int i = 1; i < n; ++i)
    workers.emplace_back([this] { workerLoop(); });
}

void ThreadPool::stopWorkers() {
  {
    std::lock_guard<std::mutex> lock(wakeMutex);
    stopping.store(true);
  }
  wakeCv.notify_all();
  for (std::thread &t : workers)
    t.join();
  workers.clear();
}

void ThreadPool::setNumThreads(int n) {
  n = resolveNumThreads(n);
  std::lock_guard<std::mutex> lock(submitMutex);
  if (n == getNumThreads())
    return;
  stopWorkers();
  startWorkers(n);
}

void ThreadPool::workerLoop() {
  uint32_t seen = stateGen(state.load(std::memory_order_acquire));
  while (true) {
    // Poll for a new job for a little while, then block.
    bool found = false;
    auto deadline = std::chrono::steady_clock::now() + kSpinTime;
    for (unsigned iter = 1;; ++iter) {
      if (stateGen(state.load(std::memory_order_acquire)) != seen ||
          stopping.load(std::memory_order_relaxed)) {
        found = true;
        break;
      }
      cpuRelax();
      if (iter % 64 == 0 && std::chrono::steady_clock::now() > deadline)
        break;
    }
    if (!found) {
      // The submitter publishes `state` and then reads `numSleeping`; we
      // bump `numSleeping` and then read `state` (both sequentially
      // consistent), so at least one of us sees the other's write and no
      // wake-up is lost. The predicate is checked under the mutex that the
      // submitter takes to notify.
      numSleeping.fetch_add(1);
      {
        std::unique_lock<std::mutex> lock(wakeMutex);
        wakeCv.wait(lock, [&] {
          return stopping.load() || stateGen(state.load()) != seen;
        });
      }
      numSleeping.fetch_sub(1);
    }
    if (stopping.load())
      return;
    seen = stateGen(state.load(std::memory_order_acquire));
    runChunks(seen);
  }
}

void ThreadPool::runChunks(uint32_t gen) {
  bool wasInRegion = tlInParallelRegion;
  tlInParallelRegion = true;
  uint64_t s = state.load(std::memory_order_acquire);
  while (stateGen(s) == gen && stateNext(s) < stateCount(s)) {
    if (!state.compare_exchange_weak(s, s + (uint64_t(1) << kChunkBits),
                                     std::memory_order_acq_rel,
                                     std::memory_order_acquire))
      continue;
    // The chunk is ours, so the job fields are those of generation `gen`
    // (published before `state`) and stay valid until it is done.
    int64_t begin = int64_t(stateNext(s)) * jobChunk;
    int64_t end = std::min(jobN, begin + jobChunk);
    jobFn(jobCtx, begin, end);
    pending.fetch_sub(1, std::memory_order_acq_rel);
    s = state.load(std::memory_order_acquire);
  }
  tlInParallelRegion = wasInRegion;
}

void ThreadPool::parallelFor(int64_t n, RangeFn fn, void *ctx,
                             int64_t minChunk) {
  if (n <= 0)
    return;
  if (minChunk < 1)
    minChunk = 1;
  int threads = getNumThreads();
  int64_t units = (n + minChunk - 1) / minChunk;
  if (threads <= 1 || units <= 1 || tlInParallelRegion) {
    fn(ctx, 0, n);
    return;
  }
  // Another thread owns the pool: rather than wait for it (its job may be
  // long, and it may even be waiting on us), run this loop serially.
  std::unique_lock<std::mutex> submitLock(submitMutex, std::try_to_lock);
  if (!submitLock.owns_lock()) {
    fn(ctx, 0, n);
    return;
  }
  threads = getNumThreads();
  int64_t numChunks = std::min<int64_t>({units, threads, kMaxChunks});
  int64_t chunk = (units + numChunks - 1) / numChunks * minChunk;
  numChunks = (n + chunk - 1) / chunk;

  jobFn = fn;
  jobCtx = ctx;
  jobN = n;
  jobChunk = chunk;
  pending.store(numChunks, std::memory_order_relaxed);
  uint32_t gen = stateGen(state.load(std::memory_order_relaxed)) + 1;
  state.store((uint64_t(gen) << 32) | uint64_t(numChunks));
  if (numSleeping.load() > 0) {
    std::lock_guard<std::mutex> lock(wakeMutex);
    wakeCv.notify_all();
  }

  runChunks(gen);

  // Wait for the chunks that workers took. They are about as long as ours,
  // so this is short; yield now and then in case the pool is oversubscribed.
  for (unsigned iter = 1; pending.load(std::memory_order_acquire) != 0;
       ++iter) {
    cpuRelax();
    if (iter % 1024 == 0)
      std::this_thread::yield();
  }
}

void ThreadPool::parallelFor(int64_t n,
                             const std::function<void(int64_t, int64_t)> &fn,
                             int64_t minChunk) {
  parallelFor(
      n,
      [](void *ctx, int64_t begin, int64_t end) {
        (*static_cast<const std::function<void(int64_t, int64_t)> *>(ctx))(
            begin, end);
      },
      const_cast<std::function<void(int64_t, int64_t)> *>(&fn), minChunk);
}

ThreadPool &qrt::getGlobalThreadPool() {
  static ThreadPool pool([] {
    const char *env = std::getenv("QRT_NUM_THREADS");
    return env ? std::atoi(env) : 0;
  }());
  return pool;
}

extern "C" void qrt_set_num_threads(int n) {
  getGlobalThreadPool().setNumThreads(n);
}

extern "C" int qrt_get_num_threads(void) {
  return getGlobalThreadPool().getNumThreads();
}

void *qrt::getRunContext() { return tlRunContext; }
void qrt::setRunContext(void *context) { tlRunContext = context; }

namespace {
struct OffsetRange {
  qrt::ThreadPool::RangeFn fn;
  void *ctx;
  int64_t begin;
  void *runContext;
};
} // namespace

extern "C" void qrt_parallel_for(int64_t begin, int64_t end, int64_t grain,
                                 void (*fn)(void *, int64_t, int64_t),
                                 void *ctx) {
  if (end <= begin)
    return;
  grain = std::max<int64_t>(grain, 1);
  ThreadPool &pool = getGlobalThreadPool();
  if (end - begin <= grain || pool.getNumThreads() <= 1 ||
      ThreadPool::isInParallelRegion()) {
    fn(ctx, begin, end);
    return;
  }
  void *runContext = tlRunContext;
  if (begin == 0 && !runContext) {
    pool.parallelFor(end, fn, ctx, grain);
    return;
  }
  OffsetRange range{fn, ctx, begin, runContext};
  pool.parallelFor(
      end - begin,
      [](void *p, int64_t b, int64_t e) {
        auto *r = static_cast<OffsetRange *>(p);
        void *outer = tlRunContext;
        tlRunContext = r->runContext;
        r->fn(r->ctx, r->begin + b, r->begin + e);
        tlRunContext = outer;
      },
      &range, grain);
}
