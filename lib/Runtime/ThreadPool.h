//===- ThreadPool.h - The runtime's process-wide thread pool ----*- C++ -*-===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// A small fork-join pool for the runtime's kernels. Kernels are short (tens of
// microseconds to milliseconds) and come back to back, so the pool is built
// for low dispatch latency rather than generality:
//
//  * one job at a time, split into at most a few chunks per thread; the
//    calling thread runs chunks too, and takes over chunks that a slow-waking
//    worker has not started yet;
//  * workers spin for a short while after a job before they block on a
//    condition variable, so a kernel that follows another finds them awake;
//  * a job is a function pointer and a context pointer: dispatch allocates
//    nothing;
//  * a parallelFor() issued from inside a job (or while another thread owns
//    the pool) runs serially on the calling thread instead of deadlocking.
//
// This library must not depend on LLVM: it is linked into compiled models.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_RUNTIME_THREADPOOL_H
#define QOPT_LIB_RUNTIME_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace qrt {

class ThreadPool {
public:
  /// A job body: processes the iterations [begin, end) of the loop.
  using RangeFn = void (*)(void *ctx, int64_t begin, int64_t end);

  /// Creates a pool of `numThreads` threads, the caller of parallelFor()
  /// included; `numThreads <= 0` selects the number of usable CPUs.
  explicit ThreadPool(int numThreads = 0);
  ~ThreadPool();

  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// Resizes the pool; `n <= 0` selects the number of usable CPUs. Waits for
  /// a job in flight on another thread to finish first.
  void setNumThreads(int n);
  int getNumThreads() const {
    return numThreads.load(std::memory_order_relaxed);
  }

  /// Runs fn(ctx, begin, end) over a partition of [0, n) into contiguous
  /// chunks of at least `minChunk` iterations, at most one chunk per thread,
  /// and returns when all have finished. Chunk boundaries are multiples of
  /// `minChunk` (except n itself), which lets callers keep them aligned to
  /// their blocking.
  void parallelFor(int64_t n, RangeFn fn, void *ctx, int64_t minChunk = 1);

  /// Convenience form for lambdas; the callable is not copied.
  void parallelFor(int64_t n, const std::function<void(int64_t, int64_t)> &fn,
                   int64_t minChunk = 1);

  /// Returns true on a thread that is running a chunk of a job of any pool.
  static bool isInParallelRegion();

private:
  void startWorkers(int n);
  void stopWorkers();
  void workerLoop();
  /// Claims and runs chunks of job `gen` until none are left.
  void runChunks(uint32_t gen);

  // The job in flight. Written by the submitter before it publishes a new
  // generation in `state`; a worker reads them only after it has claimed a
  // chunk of that generation, and the job cannot finish (and so cannot be
  // replaced) before that chunk has run.
  RangeFn jobFn = nullptr;
  void *jobCtx = nullptr;
  int64_t jobN = 0;
  int64_t jobChunk = 0;

  /// Generation (high 32 bits), next unclaimed chunk (bits 16-31) and number
  /// of chunks (bits 0-15) of the current job, updated together so that a
  /// worker that wakes late can never claim a chunk of a newer job while
  /// thinking it belongs to an older one.
  std::atomic<uint64_t> state{0};
  /// Chunks of the current job that have not finished yet.
  std::atomic<int64_t> pending{0};
  /// Workers blocked on `wakeCv` (or about to be); the submitter only takes
  /// the mutex to notify when this is non-zero.
  std::atomic<int> numSleeping{0};
  std::atomic<bool> stopping{false};
  std::atomic<int> numThreads{1};

  std::mutex wakeMutex;
  std::condition_variable wakeCv;
  /// Serialises submitters and resizing.
  std::mutex submitMutex;
  std::vector<std::thread> workers;
};

/// The pool shared by all of the runtime's kernels, created on first use with
/// one thread per usable CPU (or $QRT_NUM_THREADS threads when set).
ThreadPool &getGlobalThreadPool();

/// The run the calling thread works for: libqrt's per-session state that
/// compiled code reaches through runtime calls (the statistics qrt_observe
/// records). qrt_parallel_for hands it to the threads that run its chunks,
/// so such calls also work inside parallel loop bodies.
void *getRunContext();
void setRunContext(void *context);

} // namespace qrt

#endif // QOPT_LIB_RUNTIME_THREADPOOL_H
