//===- Runtime.cpp - libqrt: load and run qopt artifacts ------------------===//
//
// No LLVM or MLIR here: libqrt must run where they are not installed.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runtime/UKernels.h"
#include "qopt/Runtime/qrt.h"
#include "qopt/Runtime/qrt_cuda.h"

#include "Allocator.h"
#include "Observe.h"

#include <cerrno>
#include <csetjmp>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "Error.h"

namespace {

thread_local std::string lastError;

qrt_status fail(qrt_status status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

qrt_status fail(qrt_status status, const char *format, ...) {
  char buffer[1024];
  va_list args;
  va_start(args, format);
  vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  lastError = buffer;
  return status;
}

} // namespace

void qrt::setLastError(std::string message) { lastError = std::move(message); }

namespace {

/// Where qrt_check_failed jumps to on this thread (inside callEntry), and
/// the message of the check that failed.
thread_local jmp_buf *checkJump = nullptr;
thread_local std::string checkMessage;
/// QRT_ERROR_CHECK, or QRT_ERROR_DEVICE when a CUDA call failed.
thread_local int checkStatus = QRT_ERROR_CHECK;

/// Calls the artifact's entry point; false when a run-time check in it
/// failed (the message is in checkMessage). The jump target lives in a frame
/// of its own that holds no C++ objects, since longjmp skips destructors;
/// the frames it skips are the artifact's.
[[gnu::noinline]] bool callEntry(void (*entry)(void **), void **args) {
  jmp_buf target;
  jmp_buf *outer = checkJump;
  checkJump = &target;
  if (setjmp(target) != 0) {
    checkJump = outer;
    return false;
  }
  entry(args);
  checkJump = outer;
  return true;
}

/// checkMessage = `format` with each `{N}` replaced by `values[N]`.
void formatCheckMessage(const char *format, int64_t count,
                        const int64_t *values) {
  checkMessage.clear();
  for (const char *p = format; *p; ++p) {
    char *end = nullptr;
    unsigned long index = *p == '{' ? strtoul(p + 1, &end, 10) : 0;
    if (*p != '{' || end == p + 1 || *end != '}' ||
        index >= static_cast<uint64_t>(count)) {
      checkMessage += *p;
      continue;
    }
    checkMessage += std::to_string(values[index]);
    p = end;
  }
}

/// A mapped weights file, shared by every load of the same library: the
/// library's `weights_base` global exists once per process.
struct Mapping {
  void *base = nullptr;
  size_t size = 0;
  int refs = 0;
  /// CUDA artifacts: the weights' copy in managed memory.
  void *managed = nullptr;
};
std::mutex mappingsMutex;
std::map<void *, Mapping> mappings; // by dlopen handle

/// CPU features an artifact may require that this machine may lack.
bool hostHasFeature(const std::string &name, bool &known) {
  known = true;
  __builtin_cpu_init();
#define QRT_FEATURE(str)                                                       \
  if (name == str)                                                             \
    return __builtin_cpu_supports(str);
  QRT_FEATURE("avx")
  QRT_FEATURE("avx2")
  QRT_FEATURE("fma")
  QRT_FEATURE("f16c")
  QRT_FEATURE("bmi2")
  QRT_FEATURE("avx512f")
  QRT_FEATURE("avx512bw")
  QRT_FEATURE("avx512vl")
  QRT_FEATURE("avx512dq")
  QRT_FEATURE("avx512cd")
  QRT_FEATURE("avx512vnni")
  QRT_FEATURE("avx512bf16")
  QRT_FEATURE("avx512fp16")
#undef QRT_FEATURE
  known = false;
  return false;
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

/// The bytes of a C-order tensor of `shape`; false when a dimension is
/// negative or the bytes of the nonzero dimensions overflow int64_t. As in
/// NumPy, a zero dimension does not excuse huge others: every stride and
/// offset into a shape that passes fits in int64_t.
bool getByteSize(const int64_t *shape, int rank, size_t elemSize,
                 size_t &bytes) {
  int64_t nonzeroBytes = static_cast<int64_t>(elemSize);
  bool empty = false;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] < 0)
      return false;
    if (shape[d] == 0)
      empty = true;
    else if (__builtin_mul_overflow(nonzeroBytes, shape[d], &nonzeroBytes))
      return false;
  }
  bytes = empty ? 0 : static_cast<size_t>(nonzeroBytes);
  return true;
}

} // namespace

struct qrt_artifact {
  std::string path;
  void *handle = nullptr;
  const qart_artifact_v1 *desc = nullptr;
  std::string target;
  int device = QART_DEVICE_CPU;
};

struct qrt_session {
  struct Input {
    const void *data = nullptr;
    std::vector<int64_t> shape;
    bool bound = false;
  };
  struct Output {
    void *allocated = nullptr;
    const void *data = nullptr;
    std::vector<int64_t> shape;
    std::vector<char> copy; // when the result was strided
    size_t numBytes = 0;
  };
  /// A copy of one point's statistics, what qrt_session_observation hands
  /// out while the point keeps gathering.
  struct Snapshot {
    std::vector<float> min, max, absmax;
    std::vector<double> hessian;
    std::vector<int64_t> histogram;
  };
  const qrt_artifact *artifact = nullptr;
  std::vector<Input> inputs;
  std::vector<Output> outputs;
  bool ran = false;
  /// Calibration builds only.
  std::unique_ptr<qrt::Observations> observations;
  std::vector<Snapshot> snapshots;

  void releaseOutputs() {
    std::set<void *> freed;
    bool cuda = artifact && artifact->device == QART_DEVICE_CUDA;
    for (Output &output : outputs) {
      if (output.allocated && freed.insert(output.allocated).second) {
        if (cuda)
          qrt_cuda_model_free(output.allocated);
        else
          _mlir_memref_to_llvm_free(output.allocated);
      }
      output = Output();
    }
  }
};

extern "C" {

const char *qrt_last_error(void) { return lastError.c_str(); }

int qrt_dtype_is_integer(int32_t dtype) {
  return dtype >= QART_DTYPE_I8 && dtype <= QART_DTYPE_U64;
}

const char *qrt_dtype_name(int32_t dtype) {
  switch (dtype) {
  case QART_DTYPE_F32:
    return "f32";
  case QART_DTYPE_F64:
    return "f64";
  case QART_DTYPE_F16:
    return "f16";
  case QART_DTYPE_BF16:
    return "bf16";
  case QART_DTYPE_I8:
    return "i8";
  case QART_DTYPE_I16:
    return "i16";
  case QART_DTYPE_I32:
    return "i32";
  case QART_DTYPE_I64:
    return "i64";
  case QART_DTYPE_U8:
    return "u8";
  case QART_DTYPE_U16:
    return "u16";
  case QART_DTYPE_U32:
    return "u32";
  case QART_DTYPE_U64:
    return "u64";
  case QART_DTYPE_BOOL:
    return "bool";
  default:
    return "?";
  }
}

size_t qrt_dtype_size(int32_t dtype) {
  switch (dtype) {
  case QART_DTYPE_F64:
  case QART_DTYPE_I64:
  case QART_DTYPE_U64:
    return 8;
  case QART_DTYPE_F32:
  case QART_DTYPE_I32:
  case QART_DTYPE_U32:
    return 4;
  case QART_DTYPE_F16:
  case QART_DTYPE_BF16:
  case QART_DTYPE_I16:
  case QART_DTYPE_U16:
    return 2;
  case QART_DTYPE_I8:
  case QART_DTYPE_U8:
  case QART_DTYPE_BOOL:
    return 1;
  default:
    return 0;
  }
}

} // extern "C"

/// Checks the descriptor's tables before anyone follows their pointers.
static qrt_status validateDescriptor(const qart_artifact_v1 *desc,
                                     const char *path) {
  auto checkTensors = [&](const qart_tensor_desc *list, int32_t count,
                          const char *kind) -> qrt_status {
    if (count < 0 || count > 4096 || (count && !list))
      return fail(QRT_ERROR_INVALID_ARTIFACT, "%s: corrupt %s table", path,
                  kind);
    for (int32_t i = 0; i < count; ++i) {
      const qart_tensor_desc &t = list[i];
      if (!t.name || t.rank < 0 || t.rank > 64 || (t.rank && !t.dims) ||
          qrt_dtype_size(t.dtype) == 0)
        return fail(QRT_ERROR_INVALID_ARTIFACT, "%s: corrupt %s %d", path, kind,
                    i);
    }
    return QRT_OK;
  };
  if (!desc->entry || !desc->producer || !desc->target_cpu ||
      !desc->target_features)
    return fail(QRT_ERROR_INVALID_ARTIFACT, "%s: corrupt descriptor", path);
  if (qrt_status s = checkTensors(desc->inputs, desc->num_inputs, "input"))
    return s;
  if (qrt_status s = checkTensors(desc->outputs, desc->num_outputs, "output"))
    return s;
  if (desc->num_observe_points < 0 || desc->num_observe_points > (1 << 20) ||
      (desc->num_observe_points && !desc->observe_points))
    return fail(QRT_ERROR_INVALID_ARTIFACT,
                "%s: corrupt observation point table", path);
  for (int32_t i = 0; i < desc->num_observe_points; ++i) {
    const qart_observe_point &p = desc->observe_points[i];
    if (!p.name || p.kind < QART_OBSERVE_MIN_MAX ||
        p.kind > QART_OBSERVE_HESSIAN || p.axis < -1)
      return fail(QRT_ERROR_INVALID_ARTIFACT,
                  "%s: corrupt observation point %d", path, i);
  }
  return QRT_OK;
}

/// Maps the weights file of `artifact`, or reuses the mapping of an earlier
/// load of the same library.
static qrt_status mapWeights(qrt_artifact *artifact) {
  const qart_artifact_v1 *desc = artifact->desc;
  if (!desc->weights_file)
    return QRT_OK;
  std::lock_guard<std::mutex> lock(mappingsMutex);
  Mapping &mapping = mappings[artifact->handle];
  if (mapping.refs > 0) {
    ++mapping.refs;
    return QRT_OK;
  }
  // The weights sit beside the library as `<library>.weights`; a library
  // renamed without them still finds the file it was built with.
  std::string path = artifact->path + ".weights";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    std::string original =
        directoryOf(artifact->path) + "/" + std::string(desc->weights_file);
    fd = open(original.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
      path = original;
    else
      errno = ENOENT;
  }
  if (fd < 0) {
    mappings.erase(artifact->handle);
    return fail(QRT_ERROR_WEIGHTS, "%s: cannot open the weights file '%s': %s",
                artifact->path.c_str(), path.c_str(), strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 ||
      static_cast<uint64_t>(st.st_size) != desc->weights_size) {
    close(fd);
    mappings.erase(artifact->handle);
    return fail(QRT_ERROR_WEIGHTS,
                "%s: weights file '%s' has %lld bytes, the artifact expects "
                "%llu (it belongs to another build)",
                artifact->path.c_str(), path.c_str(),
                static_cast<long long>(st.st_size),
                static_cast<unsigned long long>(desc->weights_size));
  }
  void *base = mmap(nullptr, desc->weights_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (base == MAP_FAILED) {
    mappings.erase(artifact->handle);
    return fail(QRT_ERROR_WEIGHTS, "%s: cannot map '%s': %s",
                artifact->path.c_str(), path.c_str(), strerror(errno));
  }
  const auto *header = static_cast<const qart_weights_header *>(base);
  if (header->magic != QART_WEIGHTS_MAGIC ||
      header->weights_id != desc->weights_id ||
      header->file_size != desc->weights_size) {
    const char *why =
        header->magic != QART_WEIGHTS_MAGIC ? "bad magic" : "another build";
    munmap(base, desc->weights_size);
    mappings.erase(artifact->handle);
    return fail(QRT_ERROR_WEIGHTS,
                "%s: '%s' is not the weights file of this artifact (%s)",
                artifact->path.c_str(), path.c_str(), why);
  }
  mapping.base = base;
  mapping.size = desc->weights_size;
  mapping.refs = 1;
  *desc->weights_base =
      static_cast<const char *>(base) + QART_WEIGHTS_DATA_OFFSET;
  if (artifact->device == QART_DEVICE_CUDA) {
    // The kernels read the weights on the GPU: one copy, made here, in
    // managed memory (the host code may read small constants too).
    qrt_cuda_device *dev = nullptr;
    size_t bytes = desc->weights_size - QART_WEIGHTS_DATA_OFFSET;
    void *managed = nullptr;
    if (qrt_cuda_model_device(&dev) != QRT_OK ||
        qrt_cuda_make_current(dev) != QRT_OK ||
        qrt_cuda_malloc_managed(dev, bytes, &managed) != QRT_OK) {
      std::string why = qrt_last_error();
      munmap(base, desc->weights_size);
      mappings.erase(artifact->handle);
      return fail(QRT_ERROR_DEVICE,
                  "%s: cannot copy the weights to the GPU: %s",
                  artifact->path.c_str(), why.c_str());
    }
    memcpy(managed, static_cast<const char *>(base) + QART_WEIGHTS_DATA_OFFSET,
           bytes);
    qrt_cuda_prefetch(dev, managed, bytes, nullptr);
    mapping.managed = managed;
    *desc->weights_base = managed;
  }
  return QRT_OK;
}

/// Rejects anything that is not a complete 64-bit ELF shared object before
/// dlopen maps it: the loader maps segments past the end of a truncated file
/// and the process dies of SIGBUS on first touch.
static qrt_status checkElf(const char *path, uint64_t fileSize) {
  Elf64_Ehdr header;
  FILE *file = fopen(path, "rb");
  if (!file)
    return fail(QRT_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
  bool complete = fread(&header, 1, sizeof(header), file) == sizeof(header);
  if (!complete || memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
      header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_type != ET_DYN ||
      header.e_machine != EM_X86_64) {
    fclose(file);
    return fail(QRT_ERROR_INVALID_ARTIFACT,
                "%s: not a qopt artifact (not an x86-64 ELF shared library)",
                path);
  }
  auto truncated = [&] {
    fclose(file);
    return fail(QRT_ERROR_INVALID_ARTIFACT,
                "%s: corrupt artifact (truncated: %llu bytes)", path,
                static_cast<unsigned long long>(fileSize));
  };
  if (header.e_phentsize != sizeof(Elf64_Phdr) ||
      header.e_phoff + uint64_t(header.e_phnum) * sizeof(Elf64_Phdr) >
          fileSize ||
      header.e_shoff + uint64_t(header.e_shnum) * header.e_shentsize > fileSize)
    return truncated();
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment;
    if (fseek(file, static_cast<long>(header.e_phoff + i * sizeof(segment)),
              SEEK_SET) != 0 ||
        fread(&segment, 1, sizeof(segment), file) != sizeof(segment))
      return truncated();
    if (segment.p_type == PT_LOAD &&
        segment.p_offset + segment.p_filesz > fileSize)
      return truncated();
  }
  fclose(file);
  return QRT_OK;
}

/// A CUDA artifact needs GPU 0 and an architecture whose PTX it can run:
/// sm_NN runs on compute capability N.N and newer, sm_NNa and sm_NNf only
/// on exactly N.N.
static qrt_status checkCudaDevice(const char *path, const std::string &arch) {
  qrt_cuda_device *dev = nullptr;
  if (qrt_cuda_model_device(&dev) != QRT_OK)
    return fail(QRT_ERROR_DEVICE,
                "%s: compiled for CUDA (%s) but no GPU is usable: %s", path,
                arch.c_str(), qrt_last_error());
  char name[256] = {0};
  int major = 0, minor = 0;
  if (qrt_cuda_device_info(dev, name, sizeof(name), nullptr, &major, &minor) !=
      QRT_OK)
    return fail(QRT_ERROR_DEVICE, "%s: %s", path, qrt_last_error());
  unsigned sm = 0;
  char suffix = 0;
  if (sscanf(arch.c_str(), "sm_%u%c", &sm, &suffix) < 1)
    return fail(QRT_ERROR_INVALID_ARTIFACT, "%s: unknown GPU architecture '%s'",
                path, arch.c_str());
  unsigned have = unsigned(major * 10 + minor);
  bool exact = suffix == 'a' || suffix == 'f';
  if (exact ? have != sm : have < sm)
    return fail(QRT_ERROR_DEVICE,
                "%s: compiled for %s, which GPU 0 (%s, compute capability "
                "%d.%d) cannot run; recompile with --target=cuda:sm_%u",
                path, arch.c_str(), name, major, minor, have);
  return QRT_OK;
}

/// Artifacts resolve the kernels (`qrt_uk_*`) and `memrefCopy` from libqrt.
/// A host that dlopen()ed libqrt privately would leave them unresolved, so
/// libqrt makes its own symbols global first.
static void exportRuntimeSymbols() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&qrt_artifact_load), &info) &&
      info.dli_fname)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
}

extern "C" {

qrt_status qrt_artifact_load(const char *path, qrt_artifact **out) {
  if (!path || !out)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_artifact_load: null argument");
  *out = nullptr;
  struct stat st;
  if (stat(path, &st) != 0)
    return fail(QRT_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return fail(QRT_ERROR_IO, "%s: not a regular file", path);
  if (qrt_status status = checkElf(path, static_cast<uint64_t>(st.st_size)))
    return status;
  exportRuntimeSymbols();

  std::unique_ptr<qrt_artifact> artifact(new (std::nothrow) qrt_artifact);
  if (!artifact)
    return fail(QRT_ERROR_OUT_OF_MEMORY, "out of memory");
  // A relative path without a slash would make dlopen search the library
  // path instead of opening this file.
  artifact->path = strchr(path, '/') ? path : std::string("./") + path;
  artifact->handle = dlopen(artifact->path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!artifact->handle)
    return fail(QRT_ERROR_INVALID_ARTIFACT, "%s: cannot load: %s", path,
                dlerror());
  auto closeOnError = [&](qrt_status status) {
    dlclose(artifact->handle);
    return status;
  };
  const auto *desc = static_cast<const qart_artifact_v1 *>(
      dlsym(artifact->handle, QART_SYMBOL));
  if (!desc)
    return closeOnError(fail(QRT_ERROR_INVALID_ARTIFACT,
                             "%s: not a qopt artifact (no '%s' symbol)", path,
                             QART_SYMBOL));
  if (desc->magic != QART_MAGIC)
    return closeOnError(fail(QRT_ERROR_INVALID_ARTIFACT,
                             "%s: not a qopt artifact (bad magic)", path));
  if (desc->abi_version < QART_ABI_VERSION_MIN ||
      desc->abi_version > QART_ABI_VERSION)
    return closeOnError(fail(QRT_ERROR_VERSION_MISMATCH,
                             "%s: artifact ABI version %u, this runtime "
                             "supports versions %u to %u; recompile the model "
                             "with a matching qopt-compile",
                             path, desc->abi_version, QART_ABI_VERSION_MIN,
                             QART_ABI_VERSION));
  if (qrt_status status = validateDescriptor(desc, path))
    return closeOnError(status);
  // Version 3 descriptors end before the device fields.
  if (desc->abi_version >= 4) {
    if (desc->device != QART_DEVICE_CPU && desc->device != QART_DEVICE_CUDA)
      return closeOnError(fail(QRT_ERROR_INVALID_ARTIFACT,
                               "%s: unknown device %d in the descriptor", path,
                               desc->device));
    artifact->device = desc->device;
  }
  std::string deviceArch =
      artifact->device == QART_DEVICE_CUDA && desc->device_arch
          ? desc->device_arch
          : "";
  if (artifact->device == QART_DEVICE_CUDA) {
    if (qrt_status status = checkCudaDevice(path, deviceArch))
      return closeOnError(status);
  }

  // The code may use instructions this CPU does not have.
  std::string features = desc->target_features;
  for (size_t begin = 0; begin < features.size();) {
    size_t end = features.find(',', begin);
    if (end == std::string::npos)
      end = features.size();
    std::string feature = features.substr(begin, end - begin);
    begin = end + 1;
    if (feature.size() < 2 || feature[0] != '+')
      continue;
    bool known;
    if (!hostHasFeature(feature.substr(1), known) && known)
      return closeOnError(fail(QRT_ERROR_UNSUPPORTED,
                               "%s: compiled for CPU features this machine "
                               "lacks (%s); recompile with --target-cpu=host "
                               "on this machine",
                               path, feature.c_str() + 1));
  }

  artifact->desc = desc;
  artifact->target =
      (artifact->device == QART_DEVICE_CUDA ? "cuda " + deviceArch + " " : "") +
      std::string(desc->target_cpu) + " " + std::string(desc->target_features);
  if (qrt_status status = mapWeights(artifact.get()))
    return closeOnError(status);
  *out = artifact.release();
  return QRT_OK;
}

void qrt_artifact_free(qrt_artifact *artifact) {
  if (!artifact)
    return;
  if (artifact->desc && artifact->desc->weights_file) {
    std::lock_guard<std::mutex> lock(mappingsMutex);
    auto it = mappings.find(artifact->handle);
    if (it != mappings.end() && --it->second.refs == 0) {
      qrt_cuda_device *dev = nullptr;
      if (it->second.managed && qrt_cuda_model_device(&dev) == QRT_OK)
        qrt_cuda_free_managed(dev, it->second.managed);
      munmap(it->second.base, it->second.size);
      mappings.erase(it);
    }
  }
  dlclose(artifact->handle);
  delete artifact;
}

int qrt_artifact_num_inputs(const qrt_artifact *artifact) {
  return artifact ? artifact->desc->num_inputs : 0;
}

int qrt_artifact_num_outputs(const qrt_artifact *artifact) {
  return artifact ? artifact->desc->num_outputs : 0;
}

static qrt_status describe(const qart_tensor_desc *list, int count, int index,
                           qrt_tensor *out) {
  if (!out || index < 0 || index >= count)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "index %d out of range [0, %d)",
                index, count);
  const qart_tensor_desc &t = list[index];
  *out = qrt_tensor{t.name, t.dtype, t.rank, t.dims, nullptr, 0};
  return QRT_OK;
}

qrt_status qrt_artifact_input(const qrt_artifact *artifact, int index,
                              qrt_tensor *out) {
  if (!artifact)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "null artifact");
  return describe(artifact->desc->inputs, artifact->desc->num_inputs, index,
                  out);
}

qrt_status qrt_artifact_output(const qrt_artifact *artifact, int index,
                               qrt_tensor *out) {
  if (!artifact)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "null artifact");
  return describe(artifact->desc->outputs, artifact->desc->num_outputs, index,
                  out);
}

const char *qrt_artifact_input_dim_name(const qrt_artifact *artifact, int index,
                                        int dim) {
  if (!artifact || index < 0 || index >= artifact->desc->num_inputs)
    return nullptr;
  const qart_tensor_desc &t = artifact->desc->inputs[index];
  if (!t.dim_names || dim < 0 || dim >= t.rank || !t.dim_names[dim] ||
      !*t.dim_names[dim])
    return nullptr;
  return t.dim_names[dim];
}

const char *qrt_artifact_target(const qrt_artifact *artifact) {
  return artifact ? artifact->target.c_str() : "";
}

int qrt_artifact_device(const qrt_artifact *artifact) {
  return artifact ? artifact->device : QART_DEVICE_CPU;
}

qrt_status qrt_session_create(const qrt_artifact *artifact, qrt_session **out) {
  if (!artifact || !out)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_session_create: null argument");
  auto *session = new (std::nothrow) qrt_session;
  if (!session)
    return fail(QRT_ERROR_OUT_OF_MEMORY, "out of memory");
  session->artifact = artifact;
  session->inputs.resize(artifact->desc->num_inputs);
  session->outputs.resize(artifact->desc->num_outputs);
  if (artifact->desc->num_observe_points > 0) {
    session->observations.reset(new (std::nothrow)
                                    qrt::Observations(artifact->desc));
    if (!session->observations) {
      delete session;
      return fail(QRT_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    session->snapshots.resize(artifact->desc->num_observe_points);
  }
  *out = session;
  return QRT_OK;
}

void qrt_session_free(qrt_session *session) {
  if (!session)
    return;
  session->releaseOutputs();
  delete session;
}

static std::string formatShape(const int64_t *dims, int rank) {
  std::string text = "[";
  for (int i = 0; i < rank; ++i) {
    if (i)
      text += ", ";
    text += dims[i] < 0 ? std::string("?") : std::to_string(dims[i]);
  }
  return text + "]";
}

qrt_status qrt_session_set_input(qrt_session *session, const char *name,
                                 int32_t dtype, int32_t rank,
                                 const int64_t *shape, const void *data) {
  if (!session || !name || (rank > 0 && !shape) || rank < 0)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_session_set_input: null or invalid argument");
  const qart_artifact_v1 *desc = session->artifact->desc;
  int index = -1;
  for (int i = 0; i < desc->num_inputs; ++i)
    if (strcmp(desc->inputs[i].name, name) == 0)
      index = i;
  if (index < 0) {
    std::string names;
    for (int i = 0; i < desc->num_inputs; ++i)
      names += std::string(i ? ", " : "") + "'" + desc->inputs[i].name + "'";
    return fail(QRT_ERROR_NOT_FOUND,
                "the model has no input '%s' (its inputs: %s)", name,
                names.c_str());
  }
  const qart_tensor_desc &t = desc->inputs[index];
  bool sameBits = qrt_dtype_is_integer(dtype) &&
                  qrt_dtype_is_integer(t.dtype) &&
                  qrt_dtype_size(dtype) == qrt_dtype_size(t.dtype);
  if (dtype != t.dtype && !sameBits)
    return fail(QRT_ERROR_DTYPE, "input '%s' has dtype %s, got %s", name,
                qrt_dtype_name(t.dtype), qrt_dtype_name(dtype));
  if (rank != t.rank)
    return fail(QRT_ERROR_SHAPE, "input '%s' has rank %d %s, got rank %d %s",
                name, t.rank, formatShape(t.dims, t.rank).c_str(), rank,
                formatShape(shape, rank).c_str());
  for (int d = 0; d < rank; ++d) {
    if (shape[d] < 0 || (t.dims[d] >= 0 && shape[d] != t.dims[d]))
      return fail(QRT_ERROR_SHAPE,
                  "input '%s' has shape %s, got %s (dimension %d)", name,
                  formatShape(t.dims, t.rank).c_str(),
                  formatShape(shape, rank).c_str(), d);
  }
  size_t bytes;
  if (!getByteSize(shape, rank, qrt_dtype_size(t.dtype), bytes))
    return fail(QRT_ERROR_SHAPE, "input '%s': shape %s is too large", name,
                formatShape(shape, rank).c_str());
  if (bytes && !data)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "input '%s': null data", name);
  qrt_session::Input &input = session->inputs[index];
  input.data = data;
  input.shape.assign(shape, shape + rank);
  input.bound = true;
  return QRT_OK;
}

qrt_status qrt_session_run(qrt_session *session) {
  if (!session)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_session_run: null session");
  const qart_artifact_v1 *desc = session->artifact->desc;

  // Bound inputs, and named dimensions that must agree.
  std::map<std::string, std::pair<int64_t, std::string>> named;
  for (int i = 0; i < desc->num_inputs; ++i) {
    const qart_tensor_desc &t = desc->inputs[i];
    const qrt_session::Input &input = session->inputs[i];
    if (!input.bound)
      return fail(QRT_ERROR_UNBOUND_INPUT, "input '%s' is not set", t.name);
    if (!t.dim_names)
      continue;
    for (int d = 0; d < t.rank; ++d) {
      if (!t.dim_names[d] || !*t.dim_names[d])
        continue;
      auto [it, inserted] =
          named.insert({t.dim_names[d], {input.shape[d], std::string(t.name)}});
      if (!inserted && it->second.first != input.shape[d])
        return fail(QRT_ERROR_SHAPE,
                    "dimension '%s' is %lld in input '%s' but %lld in input "
                    "'%s'",
                    t.dim_names[d], static_cast<long long>(it->second.first),
                    it->second.second.c_str(),
                    static_cast<long long>(input.shape[d]), t.name);
    }
  }

  // A CUDA artifact's kernels read their inputs on the GPU: copies in
  // managed memory, freed after the run unless a result is one of them.
  bool cuda = session->artifact->device == QART_DEVICE_CUDA;
  std::vector<void *> deviceInputs;
  auto freeDeviceInputs = [&](const std::set<void *> &keep) {
    for (void *p : deviceInputs)
      if (!keep.count(p))
        qrt_cuda_model_free(p);
    deviceInputs.clear();
  };
  if (cuda) {
    jmp_buf target;
    jmp_buf *outer = checkJump;
    checkJump = &target;
    // qrt_cuda_model_alloc jumps here when the GPU fails; nothing with a
    // destructor lives in this block.
    if (setjmp(target) != 0) {
      checkJump = outer;
      freeDeviceInputs({});
      return fail(QRT_ERROR_DEVICE, "%s", checkMessage.c_str());
    }
    for (int i = 0; i < desc->num_inputs; ++i) {
      const qrt_session::Input &input = session->inputs[i];
      size_t bytes = 0;
      getByteSize(input.shape.data(), desc->inputs[i].rank,
                  qrt_dtype_size(desc->inputs[i].dtype), bytes);
      void *copy = qrt_cuda_model_alloc(bytes);
      deviceInputs.push_back(copy);
      if (bytes)
        memcpy(copy, input.data, bytes);
    }
    checkJump = outer;
  }

  // Memref descriptors: {allocated, aligned, offset, sizes..., strides...}.
  std::vector<std::vector<int64_t>> inputDescs(desc->num_inputs);
  std::vector<void *> args(1 + desc->num_inputs);
  for (int i = 0; i < desc->num_inputs; ++i) {
    const qrt_session::Input &input = session->inputs[i];
    int rank = desc->inputs[i].rank;
    std::vector<int64_t> &d = inputDescs[i];
    d.assign(3 + 2 * rank, 0);
    // The generated code never writes to inputs.
    void *data = cuda ? deviceInputs[i] : const_cast<void *>(input.data);
    memcpy(&d[0], &data, sizeof(void *));
    memcpy(&d[1], &data, sizeof(void *));
    // No overflow: qrt_session_set_input checked the shape's byte size.
    int64_t stride = 1;
    for (int k = rank - 1; k >= 0; --k) {
      d[3 + k] = input.shape[k];
      d[3 + rank + k] = stride;
      stride *= input.shape[k];
    }
    args[1 + i] = d.data();
  }
  size_t resultWords = 0;
  for (int i = 0; i < desc->num_outputs; ++i)
    resultWords += 3 + 2 * desc->outputs[i].rank;
  std::vector<int64_t> results(resultWords, 0);
  args[0] = results.data();

  session->releaseOutputs();
  session->ran = false;
  {
    qrt::AllocationScope scope;
    qrt::ObservationScope observing(session->observations.get());
    checkStatus = QRT_ERROR_CHECK;
    if (!callEntry(desc->entry, args.data())) {
      scope.releaseAll();
      freeDeviceInputs({});
      return fail(static_cast<qrt_status>(checkStatus), "%s",
                  checkMessage.c_str());
    }
  }
  if (cuda) {
    // The results are read on the host: every kernel must have finished
    // (the entry waits before it returns; a failed run may not have).
    qrt_cuda_device *dev = nullptr;
    if (qrt_cuda_model_device(&dev) != QRT_OK ||
        qrt_cuda_make_current(dev) != QRT_OK ||
        qrt_cuda_stream_synchronize(dev, nullptr) != QRT_OK) {
      std::string why = qrt_last_error();
      freeDeviceInputs({});
      return fail(QRT_ERROR_DEVICE, "%s", why.c_str());
    }
  }
  session->ran = true;

  // Results are fresh allocations; keep them (or a compact copy) until the
  // next run. Never free memory the caller or the weights own.
  std::set<void *> inputPointers;
  for (const qrt_session::Input &input : session->inputs)
    inputPointers.insert(const_cast<void *>(input.data));
  if (cuda) {
    // A result that is an input's device copy keeps it (as its own).
    std::set<void *> keep;
    size_t at = 0;
    for (int i = 0; i < desc->num_outputs; ++i) {
      void *allocated;
      memcpy(&allocated, &results[at], sizeof(void *));
      keep.insert(allocated);
      at += 3 + 2 * desc->outputs[i].rank;
    }
    freeDeviceInputs(keep);
  }
  size_t word = 0;
  qrt_status status = QRT_OK;
  for (int i = 0; i < desc->num_outputs; ++i) {
    const qart_tensor_desc &t = desc->outputs[i];
    qrt_session::Output &output = session->outputs[i];
    const int64_t *d = &results[word];
    word += 3 + 2 * t.rank;
    void *allocated, *aligned;
    memcpy(&allocated, &d[0], sizeof(void *));
    memcpy(&aligned, &d[1], sizeof(void *));
    size_t elemSize = qrt_dtype_size(t.dtype);
    output.shape.assign(d + 3, d + 3 + t.rank);
    Dl_info info;
    bool owned = allocated && !inputPointers.count(allocated) &&
                 !dladdr(allocated, &info);
    output.allocated = owned ? allocated : nullptr;
    // A negative or huge result shape is a bug of the generated code: fail
    // the run instead of reading past the buffer (which is still freed).
    if (!getByteSize(d + 3, t.rank, elemSize, output.numBytes)) {
      std::string shape;
      for (int k = 0; k < t.rank; ++k)
        shape += (k ? ", " : "") + std::to_string(d[3 + k]);
      if (status == QRT_OK)
        status = fail(QRT_ERROR_SHAPE, "output '%s' has an invalid shape [%s]",
                      t.name, shape.c_str());
      continue;
    }
    if (status != QRT_OK)
      continue;
    size_t elements = output.numBytes / elemSize;
    bool contiguous = true;
    int64_t expected = 1;
    for (int k = t.rank - 1; k >= 0; --k) {
      if (output.shape[k] != 1 && d[3 + t.rank + k] != expected)
        contiguous = false;
      expected *= output.shape[k];
    }
    const char *base = static_cast<const char *>(aligned) + d[2] * elemSize;
    if (contiguous) {
      output.data = base;
    } else {
      output.copy.resize(output.numBytes);
      std::vector<int64_t> index(t.rank, 0);
      for (size_t e = 0; e < elements; ++e) {
        int64_t offset = 0;
        for (int k = 0; k < t.rank; ++k)
          offset += index[k] * d[3 + t.rank + k];
        memcpy(&output.copy[e * elemSize], base + offset * elemSize, elemSize);
        for (int k = t.rank - 1; k >= 0; --k) {
          if (++index[k] < output.shape[k])
            break;
          index[k] = 0;
        }
      }
      output.data = output.copy.data();
    }
  }
  if (status != QRT_OK) {
    session->releaseOutputs();
    session->ran = false;
  }
  return status;
}

qrt_status qrt_session_get_output(qrt_session *session, const char *name,
                                  qrt_tensor *out) {
  if (!session || !name || !out)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_session_get_output: null argument");
  const qart_artifact_v1 *desc = session->artifact->desc;
  for (int i = 0; i < desc->num_outputs; ++i) {
    if (strcmp(desc->outputs[i].name, name) != 0)
      continue;
    const qrt_session::Output &output = session->outputs[i];
    if (!session->ran)
      return fail(QRT_ERROR_INVALID_ARGUMENT, "the model has not run yet");
    *out = qrt_tensor{desc->outputs[i].name, desc->outputs[i].dtype,
                      desc->outputs[i].rank, output.shape.data(),
                      output.data,           output.numBytes};
    return QRT_OK;
  }
  return fail(QRT_ERROR_NOT_FOUND, "the model has no output '%s'", name);
}

} // extern "C"

int qrt_session_num_observations(const qrt_session *session) {
  return session ? session->artifact->desc->num_observe_points : 0;
}

qrt_status qrt_session_observation(qrt_session *session, int index,
                                   qrt_observation *out) {
  if (!session || !out)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_session_observation: null argument");
  const qart_artifact_v1 *desc = session->artifact->desc;
  if (index < 0 || index >= desc->num_observe_points)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "observation point %d out of range [0, %d)", index,
                desc->num_observe_points);
  qrt::Observations &obs = *session->observations;
  {
    std::lock_guard<std::mutex> lock(obs.errorMutex);
    if (!obs.error.empty())
      return fail(QRT_ERROR_INVALID_ARGUMENT, "%s", obs.error.c_str());
  }
  const qart_observe_point &info = desc->observe_points[index];
  qrt::PointStats &p = obs.points[index];
  qrt_session::Snapshot &snap = session->snapshots[index];
  std::lock_guard<std::mutex> lock(p.mutex);
  *out = qrt_observation();
  out->name = info.name;
  out->kind = info.kind;
  out->axis = info.axis;
  out->bins = info.bins;
  out->percentile = info.percentile;
  out->samples = p.samples;
  out->elements = p.elements;
  out->nonfinite = p.nonfinite;
  out->channels = p.channels < 0 ? 0 : p.channels;
  if (p.anyFinite) {
    snap.min = p.min;
    snap.max = p.max;
    snap.absmax = p.absmax;
    out->min = snap.min.data();
    out->max = snap.max.data();
    out->absmax = snap.absmax.data();
  }
  if (p.hessianK > 0) {
    snap.hessian = p.hessian;
    out->hessian_k = p.hessianK;
    out->hessian = snap.hessian.data();
  }
  if (!p.histogram.empty()) {
    snap.histogram = p.histogram;
    out->histogram_bins = static_cast<int64_t>(p.histogram.size());
    out->histogram_range = p.histogramRange;
    out->histogram = snap.histogram.data();
  }
  return QRT_OK;
}

void qrt_session_reset_observations(qrt_session *session) {
  if (session && session->observations)
    session->observations->reset();
}

void qrt::runFailed(int status, const std::string &message) {
  checkMessage = message;
  checkStatus = status;
  if (checkJump)
    longjmp(*checkJump, 1);
  fprintf(stderr, "qopt: %s\n", checkMessage.c_str());
  abort();
}

extern "C" void qrt_check_failed(const char *format, int64_t count,
                                 const int64_t *values) {
  formatCheckMessage(format, count, values);
  checkStatus = QRT_ERROR_CHECK;
  if (checkJump)
    longjmp(*checkJump, 1);
  fprintf(stderr, "qopt: run-time check failed: %s\n", checkMessage.c_str());
  abort();
}
