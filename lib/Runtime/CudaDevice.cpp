//===- CudaDevice.cpp - libqrt's CUDA device through dlopen ---------------===//
//
// The CUDA driver API without CUDA at build time: libcuda.so.1 is opened at
// run time and every entry point is looked up with cuGetProcAddress, under
// the ABI of CUDA 12.0 (the driver keeps old ABIs stable), so the same
// libqrt runs with any driver from 12.0 on and fails cleanly without one.
// Only the few driver types used here are declared, by their documented
// values.
//
//===----------------------------------------------------------------------===//

#include "qopt/Runtime/GPUKernelABI.h"
#include "qopt/Runtime/qrt_cuda.h"

#include "Error.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <iterator>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using CUresult = int;
using CUdevice = int;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUdeviceptr = unsigned long long;

constexpr int kCudaVersion = 12000;
constexpr int kAttrSmCount = 16; // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
constexpr int kAttrCcMajor = 75; // ..._COMPUTE_CAPABILITY_MAJOR
constexpr int kAttrCcMinor = 76; // ..._COMPUTE_CAPABILITY_MINOR
constexpr unsigned kMemAttachGlobal = 1; // CU_MEM_ATTACH_GLOBAL
constexpr int kJitErrorLog = 5;          // CU_JIT_ERROR_LOG_BUFFER
constexpr int kJitErrorLogSize = 6;      // CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES

/// The driver entry points libqrt uses, resolved once per process.
struct Driver {
  CUresult (*init)(unsigned);
  CUresult (*getErrorString)(CUresult, const char **);
  CUresult (*deviceGetCount)(int *);
  CUresult (*deviceGet)(CUdevice *, int);
  CUresult (*deviceGetName)(char *, int, CUdevice);
  CUresult (*deviceGetAttribute)(int *, int, CUdevice);
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*primaryCtxRelease)(CUdevice);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*ctxSynchronize)();
  CUresult (*moduleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                               void **);
  CUresult (*moduleUnload)(CUmodule);
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*memAlloc)(CUdeviceptr *, size_t);
  CUresult (*memFree)(CUdeviceptr);
  CUresult (*memcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*memcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*memsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*memAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*memPrefetchAsync)(CUdeviceptr, size_t, CUdevice, CUstream);
  CUresult (*streamSynchronize)(CUstream);
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **);
  CUresult (*funcSetAttribute)(CUfunction, int, int);
  // cuTensorMapEncodeTiled; the tensor map and the enums are passed as
  // their documented sizes and values.
  CUresult (*tensorMapEncodeTiled)(void *, int, unsigned, void *,
                                   const unsigned long long *,
                                   const unsigned long long *, const unsigned *,
                                   const unsigned *, int, int, int, int);
};

qrt_status fail(qrt_status status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

qrt_status fail(qrt_status status, const char *format, ...) {
  char buffer[2048];
  va_list args;
  va_start(args, format);
  vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  qrt::setLastError(buffer);
  return status;
}

std::once_flag driverOnce;
Driver driver;
std::string driverError; // empty once the driver loaded

void loadDriver() {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    driverError = std::string("no CUDA driver: cannot load libcuda.so.1 (") +
                  (why ? why : "unknown") + ")";
    return;
  }
  // cuGetProcAddress_v2 (CUDA 12.0+) takes a trailing status pointer.
  using GetProc2 =
      CUresult (*)(const char *, void **, int, unsigned long long, int *);
  auto getProc = reinterpret_cast<GetProc2>(dlsym(lib, "cuGetProcAddress_v2"));
  if (!getProc) {
    driverError = "the CUDA driver is older than 12.0 (no "
                  "cuGetProcAddress_v2 in libcuda.so.1)";
    return;
  }
  bool ok = true;
  auto resolve = [&](auto &fn, const char *name) {
    void *p = nullptr;
    int status = 0;
    if (getProc(name, &p, kCudaVersion, 0, &status) != 0 || !p) {
      if (ok)
        driverError = std::string("the CUDA driver lacks ") + name;
      ok = false;
    }
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
  };
  resolve(driver.init, "cuInit");
  resolve(driver.getErrorString, "cuGetErrorString");
  resolve(driver.deviceGetCount, "cuDeviceGetCount");
  resolve(driver.deviceGet, "cuDeviceGet");
  resolve(driver.deviceGetName, "cuDeviceGetName");
  resolve(driver.deviceGetAttribute, "cuDeviceGetAttribute");
  resolve(driver.primaryCtxRetain, "cuDevicePrimaryCtxRetain");
  resolve(driver.primaryCtxRelease, "cuDevicePrimaryCtxRelease");
  resolve(driver.ctxSetCurrent, "cuCtxSetCurrent");
  resolve(driver.ctxSynchronize, "cuCtxSynchronize");
  resolve(driver.moduleLoadDataEx, "cuModuleLoadDataEx");
  resolve(driver.moduleUnload, "cuModuleUnload");
  resolve(driver.moduleGetFunction, "cuModuleGetFunction");
  resolve(driver.memAlloc, "cuMemAlloc");
  resolve(driver.memFree, "cuMemFree");
  resolve(driver.memcpyHtoD, "cuMemcpyHtoD");
  resolve(driver.memcpyDtoH, "cuMemcpyDtoH");
  resolve(driver.memsetD32Async, "cuMemsetD32Async");
  resolve(driver.launchKernel, "cuLaunchKernel");
  resolve(driver.memAllocManaged, "cuMemAllocManaged");
  resolve(driver.streamSynchronize, "cuStreamSynchronize");
  // Optional: only a hint.
  {
    void *p = nullptr;
    int status = 0;
    if (getProc("cuMemPrefetchAsync", &p, kCudaVersion, 0, &status) == 0)
      driver.memPrefetchAsync =
          reinterpret_cast<decltype(driver.memPrefetchAsync)>(p);
  }
  resolve(driver.funcSetAttribute, "cuFuncSetAttribute");
  resolve(driver.tensorMapEncodeTiled, "cuTensorMapEncodeTiled");
  if (!ok)
    return;
  if (CUresult r = driver.init(0)) {
    const char *msg = nullptr;
    driver.getErrorString(r, &msg);
    driverError = std::string("cuInit failed: ") + (msg ? msg : "?") +
                  " (no GPU, or the driver cannot reach it)";
    return;
  }
}

/// Fails with the driver's message for `r`, naming the call `what`.
qrt_status check(CUresult r, const char *what) {
  if (r == 0)
    return QRT_OK;
  const char *msg = nullptr;
  if (driver.getErrorString)
    driver.getErrorString(r, &msg);
  return fail(QRT_ERROR_DEVICE, "%s failed: CUDA error %d (%s)", what, r,
              msg ? msg : "unknown");
}

} // namespace

struct qrt_cuda_device {
  CUdevice device;
  CUcontext context;
};

struct qrt_cuda_module {
  qrt_cuda_device *dev;
  CUmodule module;
};

extern "C" qrt_status qrt_cuda_open(int ordinal, qrt_cuda_device **out) {
  if (!out)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_open: null output");
  *out = nullptr;
  std::call_once(driverOnce, loadDriver);
  if (!driverError.empty())
    return fail(QRT_ERROR_DEVICE, "%s", driverError.c_str());
  int count = 0;
  if (qrt_status s = check(driver.deviceGetCount(&count), "cuDeviceGetCount"))
    return s;
  if (ordinal < 0 || ordinal >= count)
    return fail(QRT_ERROR_DEVICE, "no CUDA device %d (%d present)", ordinal,
                count);
  CUdevice device;
  if (qrt_status s = check(driver.deviceGet(&device, ordinal), "cuDeviceGet"))
    return s;
  CUcontext ctx;
  if (qrt_status s = check(driver.primaryCtxRetain(&ctx, device),
                           "cuDevicePrimaryCtxRetain"))
    return s;
  if (qrt_status s = check(driver.ctxSetCurrent(ctx), "cuCtxSetCurrent")) {
    driver.primaryCtxRelease(device);
    return s;
  }
  auto *dev = new (std::nothrow) qrt_cuda_device{device, ctx};
  if (!dev) {
    driver.primaryCtxRelease(device);
    return fail(QRT_ERROR_OUT_OF_MEMORY, "qrt_cuda_open: out of memory");
  }
  *out = dev;
  return QRT_OK;
}

extern "C" void qrt_cuda_close(qrt_cuda_device *dev) {
  if (!dev)
    return;
  driver.primaryCtxRelease(dev->device);
  delete dev;
}

extern "C" qrt_status qrt_cuda_device_info(qrt_cuda_device *dev, char *name,
                                           size_t nameSize, int *smCount,
                                           int *ccMajor, int *ccMinor) {
  if (!dev)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_device_info: no device");
  if (name && nameSize) {
    int len = nameSize > 4096 ? 4096 : static_cast<int>(nameSize);
    if (qrt_status s = check(driver.deviceGetName(name, len, dev->device),
                             "cuDeviceGetName"))
      return s;
    name[nameSize - 1] = 0;
  }
  struct {
    int *out;
    int attr;
  } attrs[] = {{smCount, kAttrSmCount},
               {ccMajor, kAttrCcMajor},
               {ccMinor, kAttrCcMinor}};
  for (auto &a : attrs)
    if (a.out)
      if (qrt_status s =
              check(driver.deviceGetAttribute(a.out, a.attr, dev->device),
                    "cuDeviceGetAttribute"))
        return s;
  return QRT_OK;
}

extern "C" qrt_status qrt_cuda_module_load(qrt_cuda_device *dev,
                                           const void *image, size_t size,
                                           qrt_cuda_module **out) {
  if (!dev || !image || !size || !out)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_module_load: null or empty argument");
  *out = nullptr;
  // The driver reads PTX up to its NUL and takes an ELF by its header; make
  // sure text is terminated rather than trusting the caller.
  const auto *bytes = static_cast<const unsigned char *>(image);
  bool isElf = size >= 4 && bytes[0] == 0x7f && bytes[1] == 'E' &&
               bytes[2] == 'L' && bytes[3] == 'F';
  std::vector<char> text;
  if (!isElf) {
    text.assign(bytes, bytes + size);
    text.push_back(0);
    image = text.data();
  }
  char log[4096] = {0};
  int options[] = {kJitErrorLog, kJitErrorLogSize};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log))};
  CUmodule module;
  CUresult r = driver.moduleLoadDataEx(&module, image, 2, options, values);
  if (r != 0) {
    check(r, isElf ? "loading the cubin" : "compiling the PTX");
    return fail(QRT_ERROR_DEVICE, "%s%s%s", qrt_last_error(),
                log[0] ? ": " : "", log);
  }
  *out = new qrt_cuda_module{dev, module};
  return QRT_OK;
}

extern "C" qrt_status qrt_cuda_module_load_file(qrt_cuda_device *dev,
                                                const char *path,
                                                qrt_cuda_module **out) {
  if (!path)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_module_load_file: null path");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(QRT_ERROR_IO, "cannot read '%s'", path);
  std::vector<char> data((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  if (data.empty())
    return fail(QRT_ERROR_IO, "'%s' is empty", path);
  return qrt_cuda_module_load(dev, data.data(), data.size(), out);
}

extern "C" qrt_status qrt_cuda_module_function(qrt_cuda_module *mod,
                                               const char *name,
                                               qrt_cuda_function *out) {
  if (!mod || !name || !out)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_module_function: null argument");
  CUfunction fn;
  if (driver.moduleGetFunction(&fn, mod->module, name) != 0)
    return fail(QRT_ERROR_NOT_FOUND, "no kernel '%s' in the module", name);
  *out = fn;
  return QRT_OK;
}

extern "C" void qrt_cuda_module_free(qrt_cuda_module *mod) {
  if (!mod)
    return;
  driver.moduleUnload(mod->module);
  delete mod;
}

extern "C" qrt_status qrt_cuda_malloc(qrt_cuda_device *dev, size_t bytes,
                                      uint64_t *out) {
  if (!dev || !out)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_malloc: null argument");
  CUdeviceptr p = 0;
  if (qrt_status s = check(driver.memAlloc(&p, bytes), "cuMemAlloc"))
    return s;
  *out = p;
  return QRT_OK;
}

extern "C" qrt_status qrt_cuda_free(qrt_cuda_device *dev, uint64_t ptr) {
  if (!dev)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_free: no device");
  return check(driver.memFree(ptr), "cuMemFree");
}

extern "C" qrt_status qrt_cuda_copy_to_device(qrt_cuda_device *dev,
                                              uint64_t dst, const void *src,
                                              size_t bytes) {
  if (!dev || (!src && bytes))
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_copy_to_device: null");
  return check(driver.memcpyHtoD(dst, src, bytes), "cuMemcpyHtoD");
}

extern "C" qrt_status qrt_cuda_copy_to_host(qrt_cuda_device *dev, void *dst,
                                            uint64_t src, size_t bytes) {
  if (!dev || (!dst && bytes))
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_copy_to_host: null");
  return check(driver.memcpyDtoH(dst, src, bytes), "cuMemcpyDtoH");
}

extern "C" qrt_status qrt_cuda_memset32(qrt_cuda_device *dev, uint64_t dst,
                                        uint32_t value, size_t count,
                                        void *stream) {
  if (!dev)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_memset32: no device");
  return check(
      driver.memsetD32Async(dst, value, count, static_cast<CUstream>(stream)),
      "cuMemsetD32Async");
}

extern "C" qrt_status qrt_cuda_synchronize(qrt_cuda_device *dev) {
  if (!dev)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_synchronize: no device");
  return check(driver.ctxSynchronize(), "cuCtxSynchronize");
}

extern "C" qrt_status qrt_cuda_make_current(qrt_cuda_device *dev) {
  if (!dev)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_make_current: no device");
  return check(driver.ctxSetCurrent(dev->context), "cuCtxSetCurrent");
}

extern "C" qrt_status qrt_cuda_malloc_managed(qrt_cuda_device *dev,
                                              size_t bytes, void **out) {
  if (!dev || !out)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_malloc_managed: null argument");
  CUdeviceptr p = 0;
  if (qrt_status s =
          check(driver.memAllocManaged(&p, bytes ? bytes : 1, kMemAttachGlobal),
                "cuMemAllocManaged"))
    return s;
  *out = reinterpret_cast<void *>(static_cast<uintptr_t>(p));
  return QRT_OK;
}

extern "C" qrt_status qrt_cuda_free_managed(qrt_cuda_device *dev, void *ptr) {
  if (!dev)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_free_managed: no device");
  return check(driver.memFree(reinterpret_cast<uintptr_t>(ptr)), "cuMemFree");
}

extern "C" void qrt_cuda_prefetch(qrt_cuda_device *dev, const void *ptr,
                                  size_t bytes, void *stream) {
  if (dev && ptr && bytes && driver.memPrefetchAsync)
    driver.memPrefetchAsync(reinterpret_cast<uintptr_t>(ptr), bytes,
                            dev->device, static_cast<CUstream>(stream));
}

extern "C" qrt_status qrt_cuda_stream_synchronize(qrt_cuda_device *dev,
                                                  void *stream) {
  if (!dev)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_stream_synchronize: no device");
  return check(driver.streamSynchronize(static_cast<CUstream>(stream)),
               "cuStreamSynchronize");
}

extern "C" qrt_status
qrt_cuda_launch(qrt_cuda_device *dev, qrt_cuda_function fn,
                const unsigned grid[3], const unsigned block[3],
                unsigned sharedBytes, void *stream, void **params) {
  if (!dev || !fn || !grid || !block)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_launch: null argument");
  return check(
      driver.launchKernel(static_cast<CUfunction>(fn), grid[0], grid[1],
                          grid[2], block[0], block[1], block[2], sharedBytes,
                          static_cast<CUstream>(stream), params, nullptr),
      "cuLaunchKernel");
}

extern "C" qrt_status qrt_cuda_w4_gemm(qrt_cuda_device *dev,
                                       qrt_cuda_function fn,
                                       const qrt_gpu_w4_config *cfg, uint64_t a,
                                       uint64_t w, uint64_t s, uint64_t c,
                                       int64_t m, int64_t n, int64_t k,
                                       int64_t splits, void *stream) {
  if (!dev || !fn || !cfg)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_w4_gemm: null argument");
  if (cfg->max_m < 1 || cfg->max_m > 16 || cfg->tiles_per_warp < 1 ||
      cfg->warps_per_block < 1 || cfg->groups_per_iter < 1)
    return fail(QRT_ERROR_INVALID_ARGUMENT, "qrt_cuda_w4_gemm: bad config");
  int64_t colsPerWarp = int64_t(QRT_GPU_W4_TILE_N) * cfg->tiles_per_warp;
  int64_t kIter = int64_t(QRT_GPU_W4_GROUP) * cfg->groups_per_iter;
  if (m < 1 || m > cfg->max_m || n < 1 || n % colsPerWarp || k < 1 || k % kIter)
    return fail(QRT_ERROR_SHAPE,
                "int4 GEMM of M=%lld N=%lld K=%lld does not fit the kernel "
                "(M <= %d, N %% %lld == 0, K %% %lld == 0)",
                (long long)m, (long long)n, (long long)k, cfg->max_m,
                (long long)colsPerWarp, (long long)kIter);
  // Offsets inside the kernel are 32-bit.
  if (n * k / 2 >= (int64_t(1) << 31) || m * k >= (int64_t(1) << 30) ||
      m * n >= (int64_t(1) << 30))
    return fail(QRT_ERROR_SHAPE, "int4 GEMM too large for 32-bit offsets");
  int64_t iters = k / kIter;
  if (splits < 1)
    splits = 1;
  if (splits > iters)
    splits = iters;
  int64_t itersPerSplit = (iters + splits - 1) / splits;
  splits = (iters + itersPerSplit - 1) / itersPerSplit;
  if (splits > 1)
    if (qrt_status st = qrt_cuda_memset32(dev, c, 0, size_t(m * n), stream))
      return st;
  int32_t mi = int32_t(m), ni = int32_t(n), ki = int32_t(k),
          gps = int32_t(itersPerSplit * cfg->groups_per_iter);
  void *params[QRT_GPU_W4_NUM_PARAMS] = {&a, &w, &s, &c, &mi, &ni, &ki, &gps};
  int64_t colsPerBlock = colsPerWarp * cfg->warps_per_block;
  unsigned grid[3] = {unsigned((n + colsPerBlock - 1) / colsPerBlock),
                      unsigned(splits), 1};
  unsigned block[3] = {unsigned(32 * cfg->warps_per_block), 1, 1};
  return qrt_cuda_launch(dev, fn, grid, block, 0, stream, params);
}

extern "C" qrt_status qrt_cuda_function_set_shared(qrt_cuda_function fn,
                                                   unsigned bytes) {
  if (!fn)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_function_set_shared: no function");
  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
  constexpr int kMaxDynamicShared = 8;
  return check(driver.funcSetAttribute(static_cast<CUfunction>(fn),
                                       kMaxDynamicShared, int(bytes)),
               "cuFuncSetAttribute");
}

extern "C" qrt_status qrt_cuda_tensor_map_2d(qrt_cuda_device *dev, void *map,
                                             int dataType, uint64_t base,
                                             uint64_t inner, uint64_t outer,
                                             uint64_t rowBytes,
                                             uint32_t boxInner,
                                             uint32_t boxOuter, int swizzle) {
  if (!dev || !map)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_tensor_map_2d: null argument");
  if (reinterpret_cast<uintptr_t>(map) % 64)
    return fail(QRT_ERROR_INVALID_ARGUMENT,
                "qrt_cuda_tensor_map_2d: the map must be 64-byte aligned");
  unsigned long long dims[2] = {inner, outer};
  unsigned long long strides[1] = {rowBytes};
  unsigned box[2] = {boxInner, boxOuter};
  unsigned elementStrides[2] = {1, 1};
  constexpr int kInterleaveNone = 0, kL2Promotion256 = 3, kOobZero = 0;
  return check(driver.tensorMapEncodeTiled(
                   map, dataType, 2, reinterpret_cast<void *>(base), dims,
                   strides, box, elementStrides, kInterleaveNone, swizzle,
                   kL2Promotion256, kOobZero),
               "cuTensorMapEncodeTiled");
}
