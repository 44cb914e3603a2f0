//===- CudaModel.cpp - what CUDA artifacts call: mgpu*, managed memory ----===//
//
// A CUDA artifact's host code is MLIR's `gpu-to-llvm` lowering: it loads its
// embedded PTX and launches kernels through the `mgpu*` functions of MLIR's
// CUDA runtime wrappers (mlir/lib/ExecutionEngine/CudaRuntimeWrappers.cpp),
// with the same signatures. Debian ships no libmlir_cuda_runtime, and
// libqrt must not need CUDA to build, so they are implemented here on the
// dlopen'ed driver of CudaDevice.cpp. Differences from upstream:
//
// * modules load lazily: the artifact's constructors call
//   mgpuModuleLoad(JIT) when the library is dlopen'ed, before anyone asked
//   for a GPU; the PTX is compiled by the driver at the first launch;
// * streams are the legacy default stream: the launches of a forward are
//   chained on it (qopt-gpu-async-launches) and mgpuStreamSynchronize waits
//   where host code needs their results;
// * a failing call does not abort: it ends the artifact's run with
//   QRT_ERROR_DEVICE and the driver's message (Runtime.cpp's jump).
//
//===----------------------------------------------------------------------===//

#include "qopt/Runtime/qrt_cuda.h"

#include "Error.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

std::mutex deviceMutex;
qrt_cuda_device *modelDevice = nullptr;

/// The process's model device, current on this thread; ends the run with
/// QRT_ERROR_DEVICE when there is none.
qrt_cuda_device *currentDevice() {
  thread_local qrt_cuda_device *current = nullptr;
  if (current)
    return current;
  qrt_cuda_device *dev = nullptr;
  if (qrt_cuda_model_device(&dev) != QRT_OK)
    qrt::runFailed(QRT_ERROR_DEVICE, qrt_last_error());
  if (qrt_cuda_make_current(dev) != QRT_OK)
    qrt::runFailed(QRT_ERROR_DEVICE, qrt_last_error());
  current = dev;
  return dev;
}

/// Managed blocks by size, for reuse: cuMemAllocManaged and cuMemFree cost
/// tens of microseconds each (cuMemFree synchronizes), and a model's run
/// allocates the same sizes every time. Freed blocks keep their pages on
/// the GPU.
std::mutex cacheMutex;
std::unordered_map<void *, size_t> liveBlocks;
std::multimap<size_t, void *> freeBlocks;

/// Sizes round up to 256 bytes (and at least 256), so that nearby sizes
/// share blocks and every block is aligned as the GPU's loads want.
size_t roundSize(size_t bytes) { return ((bytes ? bytes : 1) + 255) & ~255ul; }

/// An embedded module, compiled at its first use.
struct LazyModule {
  LazyModule(const void *image, size_t size) : image(image), size(size) {}
  const void *image;
  size_t size; // 0: NUL-terminated PTX
  std::mutex mutex;
  qrt_cuda_module *module = nullptr;
  std::unordered_map<const char *, qrt_cuda_function> functions;
};

} // namespace

extern "C" qrt_status qrt_cuda_model_device(qrt_cuda_device **out) {
  std::lock_guard<std::mutex> lock(deviceMutex);
  if (!modelDevice) {
    qrt_cuda_device *dev = nullptr;
    if (qrt_status s = qrt_cuda_open(0, &dev))
      return s;
    modelDevice = dev;
  }
  *out = modelDevice;
  return QRT_OK;
}

extern "C" void *qrt_cuda_model_alloc(size_t bytes) {
  size_t size = roundSize(bytes);
  {
    std::lock_guard<std::mutex> lock(cacheMutex);
    auto it = freeBlocks.find(size);
    if (it != freeBlocks.end()) {
      void *p = it->second;
      freeBlocks.erase(it);
      liveBlocks[p] = size;
      return p;
    }
  }
  qrt_cuda_device *dev = currentDevice();
  void *p = nullptr;
  if (qrt_cuda_malloc_managed(dev, size, &p) != QRT_OK)
    qrt::runFailed(QRT_ERROR_DEVICE, qrt_last_error());
  std::lock_guard<std::mutex> lock(cacheMutex);
  liveBlocks[p] = size;
  return p;
}

extern "C" void *qrt_cuda_model_aligned_alloc(size_t alignment, size_t bytes) {
  // Managed blocks are aligned to at least 256 bytes (and to pages in
  // practice); MLIR asks for the element size or 64.
  if (alignment > 256)
    qrt::runFailed(QRT_ERROR_DEVICE,
                   "qrt_cuda_model_aligned_alloc: alignment " +
                       std::to_string(alignment) + " above 256");
  return qrt_cuda_model_alloc(bytes);
}

extern "C" void qrt_cuda_model_free(void *ptr) {
  if (!ptr)
    return;
  std::lock_guard<std::mutex> lock(cacheMutex);
  auto it = liveBlocks.find(ptr);
  if (it == liveBlocks.end())
    return; // not ours: never free what we did not allocate
  freeBlocks.emplace(it->second, ptr);
  liveBlocks.erase(it);
}

//===----------------------------------------------------------------------===//
// MLIR's runtime wrapper functions (the subset gpu-to-llvm emits)
//===----------------------------------------------------------------------===//

extern "C" void *mgpuModuleLoad(void *data, size_t size) {
  return new LazyModule(data, size);
}

extern "C" void *mgpuModuleLoadJIT(void *data, int /*optLevel*/) {
  return new LazyModule(data, 0);
}

extern "C" void mgpuModuleUnload(void *handle) {
  auto *m = static_cast<LazyModule *>(handle);
  if (!m)
    return;
  // The driver may be gone at process exit; unloading is best effort.
  qrt_cuda_module_free(m->module);
  delete m;
}

extern "C" void *mgpuModuleGetFunction(void *handle, const char *name) {
  auto *m = static_cast<LazyModule *>(handle);
  qrt_cuda_device *dev = currentDevice();
  std::string error;
  qrt_cuda_function fn = nullptr;
  {
    // runFailed jumps out without destructors: never with the lock held.
    std::lock_guard<std::mutex> lock(m->mutex);
    auto it = m->functions.find(name);
    if (it != m->functions.end())
      return it->second;
    if (!m->module) {
      size_t size =
          m->size ? m->size : strlen(static_cast<const char *>(m->image));
      if (qrt_cuda_module_load(dev, m->image, size, &m->module) != QRT_OK)
        error = qrt_last_error();
    }
    if (error.empty()) {
      if (qrt_cuda_module_function(m->module, name, &fn) != QRT_OK)
        error = qrt_last_error();
      else
        m->functions[name] = fn;
    }
  }
  if (!error.empty())
    qrt::runFailed(QRT_ERROR_DEVICE, error);
  return fn;
}

extern "C" void *mgpuStreamCreate() {
  currentDevice();
  return nullptr; // the legacy default stream
}

extern "C" void mgpuStreamDestroy(void *) {}

/// QRT_CUDA_SYNC=1: every launch waits for its kernel, as
/// CUDA_LAUNCH_BLOCKING does for the runtime API, so that a failing kernel
/// is reported at its own launch (qopt-gpu-async-launches otherwise lets
/// the host run ahead until it needs a result).
static bool syncEveryLaunch() {
  static const bool sync = [] {
    const char *v = getenv("QRT_CUDA_SYNC");
    return v && v[0] == '1';
  }();
  return sync;
}

extern "C" void mgpuStreamSynchronize(void *stream) {
  if (qrt_cuda_stream_synchronize(currentDevice(), stream) != QRT_OK)
    qrt::runFailed(QRT_ERROR_DEVICE, qrt_last_error());
}

extern "C" void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                                 intptr_t gridZ, intptr_t blockX,
                                 intptr_t blockY, intptr_t blockZ, int32_t smem,
                                 void *stream, void **params, void ** /*extra*/,
                                 size_t /*paramsCount*/) {
  // An empty tensor's loop has no iterations; the driver refuses a grid of
  // zero blocks.
  if (gridX <= 0 || gridY <= 0 || gridZ <= 0)
    return;
  const unsigned grid[3] = {unsigned(gridX), unsigned(gridY), unsigned(gridZ)};
  const unsigned block[3] = {unsigned(blockX), unsigned(blockY),
                             unsigned(blockZ)};
  if (qrt_cuda_launch(currentDevice(), function, grid, block, unsigned(smem),
                      stream, params) != QRT_OK)
    qrt::runFailed(QRT_ERROR_DEVICE, qrt_last_error());
  if (syncEveryLaunch())
    mgpuStreamSynchronize(stream);
}
