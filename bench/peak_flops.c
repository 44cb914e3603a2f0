// peak_flops.c - measures this machine's fp32 FMA peak (AVX2 + FMA), one
// core and all cores, in GFLOP/s: the roof that benchmark GFLOP/s figures
// are compared against.
//
// Build and run (bench/peak_flops.sh does both):
//   clang-22 -O2 -mavx2 -mfma -pthread bench/peak_flops.c -o build/peak_flops
//   build/peak_flops [THREADS]      (THREADS default: online CPUs)
//
// Each thread runs 12 independent chains of 256-bit FMAs (acc = acc * a + b)
// from registers, enough to cover the FMA latency on every x86 core with two
// FMA pipes (Zen 3: latency 4 x 2 pipes = 8 chains; Intel: 4 x 2 = 8). One
// FMA on 8 floats counts as 16 flops. The best of 40 runs of about 0.05 s each
// is reported; the all-core figure is total flops over the wall time of the
// slowest thread. Prints a human-readable summary and a last line of JSON.

#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CHAINS 12
#define RUNS 40

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Runs `iters` iterations of CHAINS FMAs; returns a value that depends on
// every chain so that nothing is optimised away.
__attribute__((noinline)) static float fma_kernel(long iters) {
  const __m256 a = _mm256_set1_ps(0.999999f);
  const __m256 b = _mm256_set1_ps(1e-6f);
  __m256 acc[CHAINS];
  for (int i = 0; i < CHAINS; ++i)
    acc[i] = _mm256_set1_ps(1.0f + i * 1e-3f);
  for (long it = 0; it < iters; ++it) {
#pragma clang loop unroll(full)
    for (int i = 0; i < CHAINS; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    // Keep every chain live in a register each iteration: without this,
    // clang may fold the whole loop away.
#pragma clang loop unroll(full)
    for (int i = 0; i < CHAINS; ++i)
      __asm__ volatile("" : "+x"(acc[i]));
  }
  __m256 sum = acc[0];
  for (int i = 1; i < CHAINS; ++i)
    sum = _mm256_add_ps(sum, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, sum);
  return out[0] + out[7];
}

static double flops_of(long iters) { return (double)iters * CHAINS * 16.0; }

typedef struct {
  long iters;
  pthread_barrier_t *barrier;
  double seconds;
  float sink;
} Job;

static void *worker(void *arg) {
  Job *job = arg;
  pthread_barrier_wait(job->barrier);
  double t = now();
  job->sink = fma_kernel(job->iters);
  job->seconds = now() - t;
  return NULL;
}

// All `threads` threads run `iters` iterations together; returns GFLOP/s
// (total flops / time of the slowest thread).
static double run_threads(int threads, long iters, float *sink) {
  pthread_t tid[threads];
  Job jobs[threads];
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, threads);
  for (int i = 0; i < threads; ++i) {
    jobs[i] = (Job){iters, &barrier, 0, 0};
    if (pthread_create(&tid[i], NULL, worker, &jobs[i])) {
      perror("pthread_create");
      exit(1);
    }
  }
  double slowest = 0;
  for (int i = 0; i < threads; ++i) {
    pthread_join(tid[i], NULL);
    if (jobs[i].seconds > slowest)
      slowest = jobs[i].seconds;
    *sink += jobs[i].sink;
  }
  pthread_barrier_destroy(&barrier);
  return flops_of(iters) * threads / slowest * 1e-9;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (threads < 1 || threads > 1024) {
    fprintf(stderr, "usage: peak_flops [THREADS]\n");
    return 1;
  }
  float sink = 0;
  // Calibrate: about 0.05 s per run on one core (short runs, best of many:
  // on a shared machine some of them run undisturbed).
  long iters = 1 << 20;
  for (;;) {
    double t = now();
    sink += fma_kernel(iters);
    double dt = now() - t;
    if (dt > 0.1 || iters > (1L << 40)) {
      iters = (long)(iters * 0.05 / dt);
      break;
    }
    iters *= 2;
  }
  double single = 0, all = 0;
  for (int r = 0; r < RUNS; ++r) {
    double g = run_threads(1, iters, &sink);
    if (g > single)
      single = g;
  }
  for (int r = 0; r < RUNS; ++r) {
    double g = run_threads(threads, iters, &sink);
    if (g > all)
      all = g;
  }
  if (sink != sink) // never true; keeps the results observable
    return 2;
  printf("fp32 AVX2 FMA peak, %d chains of 8 lanes, best of %d runs\n", CHAINS,
         RUNS);
  printf("  1 core:   %8.1f GFLOP/s (= 32 flops/cycle at %.2f GHz)\n", single,
         single / 32.0);
  printf("  %d cores: %8.1f GFLOP/s (%.2fx one core)\n", threads, all,
         all / single);
  printf("{\"single_core_gflops\": %.1f, \"all_core_gflops\": %.1f, "
         "\"threads\": %d}\n",
         single, all, threads);
  return 0;
}
