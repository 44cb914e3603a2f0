/*===- qrt.h - the qopt runtime's C API ---------------------------*- C -*-===*
 *
 * libqrt loads artifacts written by `qopt-compile` and runs them. It has no
 * dependency on LLVM or MLIR, so it runs on machines without them.
 *
 *   qrt_artifact *art;
 *   if (qrt_artifact_load("model.so", &art) != QRT_OK)
 *     fprintf(stderr, "%s\n", qrt_last_error());
 *   qrt_session *s;
 *   qrt_session_create(art, &s);
 *   int64_t shape[2] = {1, 128};
 *   qrt_session_set_input(s, "input_ids", QART_DTYPE_I64, 2, shape, ids);
 *   qrt_session_run(s);
 *   qrt_tensor logits;
 *   qrt_session_get_output(s, "logits", &logits);
 *   ...
 *   qrt_session_free(s);
 *   qrt_artifact_free(art);
 *
 * Every call returns a status; on failure, qrt_last_error() describes it (per
 * thread, until the next failing call). Bad input never aborts the process.
 *
 *===----------------------------------------------------------------------===*/

#ifndef QOPT_RUNTIME_QRT_H
#define QOPT_RUNTIME_QRT_H

#include "qopt/Runtime/ArtifactABI.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this API: runtimes load artifacts of ABI versions
    QART_ABI_VERSION_MIN to QART_ABI_VERSION. */
#define QRT_API_VERSION 1

typedef enum qrt_status {
  QRT_OK = 0,
  QRT_ERROR_IO = 1,               /* a file is missing or unreadable */
  QRT_ERROR_INVALID_ARTIFACT = 2, /* not a qopt artifact, or corrupt */
  QRT_ERROR_VERSION_MISMATCH = 3, /* built for another ABI version */
  QRT_ERROR_WEIGHTS = 4,          /* weights file missing or not matching */
  QRT_ERROR_INVALID_ARGUMENT = 5, /* null pointer, bad index, ... */
  QRT_ERROR_NOT_FOUND = 6,        /* no input or output of that name */
  QRT_ERROR_DTYPE = 7,            /* wrong element type */
  QRT_ERROR_SHAPE = 8,            /* wrong rank or dimension */
  QRT_ERROR_UNBOUND_INPUT = 9,    /* run without every input bound */
  QRT_ERROR_OUT_OF_MEMORY = 10,
  QRT_ERROR_UNSUPPORTED = 11, /* the CPU lacks features the code needs */
  /* The inputs break a contract that the model's code checks at run time
     (sizes that do not broadcast, an index out of range); the error names
     the ONNX node and the sizes. */
  QRT_ERROR_CHECK = 12,
  /* A GPU device call failed, or no CUDA driver or GPU is there
     (qrt_cuda.h); the message says which. */
  QRT_ERROR_DEVICE = 13
} qrt_status;

typedef struct qrt_artifact qrt_artifact;
typedef struct qrt_session qrt_session;

/** A tensor owned by someone else: shape and data stay valid as the owning
    call documents. */
typedef struct qrt_tensor {
  const char *name;
  int32_t dtype; /* a qart_dtype */
  int32_t rank;
  const int64_t *shape; /* for signatures, -1 where dynamic */
  const void *data;     /* null in signatures */
  size_t num_bytes;
} qrt_tensor;

/** The message of the calling thread's last failure ("" if none). */
const char *qrt_last_error(void);
/** "f32", "i64", ...; "?" for unknown values. */
const char *qrt_dtype_name(int32_t dtype);
/** Bytes per element, 0 for unknown values. */
size_t qrt_dtype_size(int32_t dtype);

/** Whether `dtype` is an integer type (bool excluded). Inputs accept integer
    data of either signedness for an integer of the same width: compiled code
    sees bits, not signs. */
int qrt_dtype_is_integer(int32_t dtype);

/** Threads for kernels; n <= 0 selects the number of usable CPUs. */
void qrt_set_num_threads(int n);
int qrt_get_num_threads(void);

/** The intermediate buffers of compiled code (process-wide, every session):
    `*live` (if non-null) receives the bytes allocated and not yet freed,
    `*peak` the most that were live at once since the last
    qrt_reset_peak_memory (or the start), `*cached` the bytes of freed
    blocks the allocator keeps for reuse ($QRT_ALLOC_CACHE_MB). Weights are
    not counted: they live in the artifact's mapped file. A driver that must
    bound its memory (qrun calibrate --max-memory) measures a run's peak with
    these. */
void qrt_memory_usage(size_t *live, size_t *peak, size_t *cached);
/** Starts a new peak: sets it to the bytes live now. */
void qrt_reset_peak_memory(void);

/** Loads the artifact at `path` and maps its weights file. Refuses files that
    are not qopt artifacts, other ABI versions, weights files that do not
    belong to it, and code for CPU features this machine lacks. */
qrt_status qrt_artifact_load(const char *path, qrt_artifact **out);
void qrt_artifact_free(qrt_artifact *artifact);
int qrt_artifact_num_inputs(const qrt_artifact *artifact);
int qrt_artifact_num_outputs(const qrt_artifact *artifact);
/** Signature of input/output `index` (data is null). */
qrt_status qrt_artifact_input(const qrt_artifact *artifact, int index,
                              qrt_tensor *out);
qrt_status qrt_artifact_output(const qrt_artifact *artifact, int index,
                               qrt_tensor *out);
/** Name of the dynamic dimension `dim` of input `index`, or null. */
const char *qrt_artifact_input_dim_name(const qrt_artifact *artifact, int index,
                                        int dim);
/** The CPU and feature string the artifact was compiled for; for a CUDA
    artifact "cuda sm_NN" first. */
const char *qrt_artifact_target(const qrt_artifact *artifact);
/** Where the artifact's code runs: a qart_device (QART_DEVICE_CPU, or
    QART_DEVICE_CUDA for `qopt-compile --target=cuda`). Loading a CUDA
    artifact opens GPU 0 and copies the weights to it; without a driver or
    a GPU fit for its architecture the load fails with QRT_ERROR_DEVICE. */
int qrt_artifact_device(const qrt_artifact *artifact);

/** A session holds bound inputs and the last run's outputs. Sessions of one
    artifact may run concurrently on different threads. */
qrt_status qrt_session_create(const qrt_artifact *artifact, qrt_session **out);
void qrt_session_free(qrt_session *session);
/** Binds input `name` to caller memory (C order, not copied: it must stay
    valid until the next run returns). Checks dtype, rank and fixed dims. */
qrt_status qrt_session_set_input(qrt_session *session, const char *name,
                                 int32_t dtype, int32_t rank,
                                 const int64_t *shape, const void *data);
/** Runs the model on the bound inputs. Checks that every input is bound and
    that dimensions sharing a name agree. Returns QRT_ERROR_CHECK, with no
    outputs, when the inputs break a contract the compiled code checks at
    run time (sizes that must match, indices in range); the error names the
    ONNX node and the sizes. The session stays usable. */
qrt_status qrt_session_run(qrt_session *session);
/** Output `name` of the last run (C order); valid until the next run or
    qrt_session_free. */
qrt_status qrt_session_get_output(qrt_session *session, const char *name,
                                  qrt_tensor *out);

/** The statistics a session gathered at one observation point of a
    calibration build (see qart_observe_point). Arrays stay valid until the
    next run, qrt_session_reset_observations or qrt_session_free. */
typedef struct qrt_observation {
  const char *name;
  int32_t kind; /* a qart_observer_kind */
  int32_t axis; /* -1: per tensor */
  int64_t bins;
  double percentile;
  /* Rows observed: the product of all dimensions but the last, summed over
     the calls (tokens, for the input of a linear layer). */
  int64_t samples;
  int64_t elements;  /* values observed, non-finite ones included */
  int64_t nonfinite; /* NaN and +-Inf values, left out of every statistic */
  int64_t channels;  /* entries of min, max and absmax (1 per tensor) */
  const float *min;  /* channels entries, null when no finite value came */
  const float *max;
  const float *absmax;
  /* kind == QART_OBSERVE_HESSIAN: K and the K x K row-major matrix
     2 * sum over rows x^T x: each call's product in f32 (the sgemm
     kernel), summed over calls in double; 0 and null otherwise. */
  int64_t hessian_k;
  const double *hessian;
  /* Histogram kinds (percentile, mse, histogram; per tensor): counts of |x|
     in histogram_bins equal bins over [0, histogram_range); the range is
     the first non-zero max |x|, doubled (merging bin pairs) whenever a
     larger value comes (docs/calibration.md). 0 and null otherwise. */
  int64_t histogram_bins;
  double histogram_range;
  const int64_t *histogram;
} qrt_observation;

/** Number of observation points of the session's artifact (0 unless it is a
    calibration build). */
int qrt_session_num_observations(const qrt_session *session);
/** The statistics of point `index` gathered by the session's runs so far.
    QRT_ERROR_INVALID_ARGUMENT when a call of the compiled code did not fit
    its point (the message says which). */
qrt_status qrt_session_observation(qrt_session *session, int index,
                                   qrt_observation *out);
/** Forgets the statistics gathered so far. */
void qrt_session_reset_observations(qrt_session *session);

#ifdef __cplusplus
}
#endif

#endif /* QOPT_RUNTIME_QRT_H */
