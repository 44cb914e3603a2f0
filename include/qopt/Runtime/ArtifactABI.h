/*===- ArtifactABI.h - the binary interface of qopt artifacts ------*- C -*-===*
 *
 * A qopt artifact is a shared library for the host produced by
 * `qopt-compile`, plus an optional weights file beside it. This header is
 * the contract between the compiler that writes artifacts and the runtime
 * (libqrt) that loads them; it is plain C so that any host can read it.
 *
 * The library exports one symbol, `qopt_artifact`, a `qart_artifact_v1`.
 * Its first two fields (magic, ABI version) keep their place in every
 * version, so a runtime can refuse an artifact it does not understand
 * before reading anything else. The weights file starts with a
 * `qart_weights_header`; its `weights_id` must equal the artifact's.
 *
 * Calling convention of `entry(args)`: `args[0]` points at storage for the
 * results' memref descriptors, one after another; `args[1 + i]` points at
 * the memref descriptor of input `i`. A memref descriptor of rank r is
 * `{void *allocated; void *aligned; int64_t offset; int64_t sizes[r];
 * int64_t strides[r];}` (all fields 8 bytes). Results are freshly
 * `malloc`ed buffers that the caller frees (through `allocated`).
 *
 * `entry` may call `qrt_check_failed` (qopt/Runtime/UKernels.h) when its
 * inputs break a contract it checks at run time; that call does not return
 * to the artifact (version 2).
 *
 * Artifacts compiled from IR with `qopt.observe` ops (calibration builds)
 * call `qrt_observe` and list their observation points in the descriptor's
 * `observe_points` table; the point id a call passes is an index into it
 * (version 3).
 *
 * Version 4 names the device the code runs on. A CUDA artifact
 * (`qopt-compile --target=cuda`) is still a host library: its entry runs on
 * the CPU and launches the model's kernels, whose PTX it embeds, through the
 * `mgpu*` functions libqrt provides (lib/Runtime/CudaModel.cpp). Its
 * buffers, weights included, live in CUDA managed memory: libqrt copies the
 * weights file there at load and the inputs there before each run, and the
 * artifact allocates through `qrt_cuda_model_alloc`/`qrt_cuda_model_free`
 * instead of `_mlir_memref_to_llvm_*`; its results are freed with
 * `qrt_cuda_model_free`. A runtime reads version 3 artifacts as CPU ones.
 *
 *===----------------------------------------------------------------------===*/

#ifndef QOPT_RUNTIME_ARTIFACTABI_H
#define QOPT_RUNTIME_ARTIFACTABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** "QOPTART1" read as a little-endian integer. */
#define QART_MAGIC 0x3154524154504f51ull
/** Bumped whenever any structure below or the calling convention changes. */
#define QART_ABI_VERSION 4u
/** The oldest ABI version this header still describes (CPU only). */
#define QART_ABI_VERSION_MIN 3u
/** "QOPTWTS1" read as a little-endian integer. */
#define QART_WEIGHTS_MAGIC 0x3153545754504f51ull
/** Offset of the first weight in the weights file: one page, so mapped
    weights are page aligned. */
#define QART_WEIGHTS_DATA_OFFSET 4096u
/** Name of the exported descriptor symbol. */
#define QART_SYMBOL "qopt_artifact"

/** Element types of artifact inputs and outputs. */
typedef enum qart_dtype {
  QART_DTYPE_F32 = 1,
  QART_DTYPE_F64 = 2,
  QART_DTYPE_F16 = 3,
  QART_DTYPE_BF16 = 4,
  QART_DTYPE_I8 = 5,
  QART_DTYPE_I16 = 6,
  QART_DTYPE_I32 = 7,
  QART_DTYPE_I64 = 8,
  QART_DTYPE_U8 = 9,
  QART_DTYPE_U16 = 10,
  QART_DTYPE_U32 = 11,
  QART_DTYPE_U64 = 12,
  QART_DTYPE_BOOL = 13 /* one byte per element, 0 or 1 */
} qart_dtype;

/** Where an artifact's code runs (version 4). */
typedef enum qart_device {
  QART_DEVICE_CPU = 0,
  QART_DEVICE_CUDA = 1 /* NVIDIA GPU through libcuda (qrt_cuda.h) */
} qart_device;

/** One input or output of the artifact's entry point. */
typedef struct qart_tensor_desc {
  const char *name; /* the ONNX name */
  int32_t dtype;    /* a qart_dtype */
  int32_t rank;
  const int64_t *dims; /* rank entries; -1 where the size is dynamic */
  /* rank entries, or null: a name per dynamic dimension ("" when unnamed);
     dimensions with the same name must have the same size at run time. */
  const char *const *dim_names;
} qart_tensor_desc;

/** What an observation point records; the values of qopt's ObserverKind. */
typedef enum qart_observer_kind {
  QART_OBSERVE_MIN_MAX = 0,
  QART_OBSERVE_PERCENTILE = 1,
  QART_OBSERVE_MSE = 2,
  QART_OBSERVE_HISTOGRAM = 3,
  QART_OBSERVE_ABS_MAX = 4,
  QART_OBSERVE_HESSIAN = 5
} qart_observer_kind;

/** One `qopt.observe` of a calibration build. */
typedef struct qart_observe_point {
  const char *name; /* the op's `name`, e.g. "fc1:input" */
  int32_t kind;     /* a qart_observer_kind */
  int32_t axis;     /* the channel axis, or -1 for per-tensor statistics */
  /* Entries of the per-channel statistics (the size of `axis`), the
     Hessian's K (the last dimension), or 1 per tensor; -1 when that size
     is dynamic (fixed by the first observation). */
  int64_t channels;
  int64_t bins;      /* histogram-based kinds: number of bins */
  double percentile; /* percentile kind: e.g. 99.99 */
} qart_observe_point;

/** The descriptor an artifact exports as `qopt_artifact`. */
typedef struct qart_artifact_v1 {
  uint64_t magic;       /* QART_MAGIC */
  uint32_t abi_version; /* QART_ABI_VERSION */
  uint32_t reserved;
  const char *producer;        /* e.g. "qopt-compile 0.1" */
  const char *target_cpu;      /* the CPU the code was tuned for */
  const char *target_features; /* LLVM feature string it requires */
  /* File name of the weights beside the library when it was built, or null
     without weights. The runtime looks for `<library path>.weights` first. */
  const char *weights_file;
  uint64_t weights_size; /* total size of that file in bytes */
  uint64_t weights_id;   /* must match the file's header */
  /* Where the runtime stores the address of the mapped weights file before
     the first call. */
  const void **weights_base;
  int32_t num_inputs;
  int32_t num_outputs;
  const qart_tensor_desc *inputs;
  const qart_tensor_desc *outputs;
  void (*entry)(void **args);
  /* Version 3: the observation points (none outside calibration builds). */
  int32_t num_observe_points;
  int32_t reserved2;
  const qart_observe_point *observe_points;
  /* Version 4: the device (a qart_device) and, for CUDA, the GPU
     architecture the PTX was generated for (e.g. "sm_90a"; null or "" for
     the CPU). */
  int32_t device;
  int32_t reserved3;
  const char *device_arch;
} qart_artifact_v1;

/** The header at the start of a weights file. */
typedef struct qart_weights_header {
  uint64_t magic; /* QART_WEIGHTS_MAGIC */
  uint32_t abi_version;
  uint32_t reserved;
  uint64_t weights_id;
  uint64_t file_size;
} qart_weights_header;

#ifdef __cplusplus
}
#endif

#endif /* QOPT_RUNTIME_ARTIFACTABI_H */
