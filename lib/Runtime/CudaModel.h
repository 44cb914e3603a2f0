//===- CudaModel.h - libqrt-internal hooks of the CUDA model path -*- C++
//-*-===//
//
// What the rest of libqrt needs from CudaModel.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_RUNTIME_CUDAMODEL_H
#define QOPT_LIB_RUNTIME_CUDAMODEL_H

namespace qrt {

/// Waits for the kernels this thread launched without waiting
/// (QRT_CUDA_ASYNC=1), before host code reads what they wrote (qrt_observe
/// reads the managed buffers of calibration builds); returns at once
/// otherwise, also in CPU sessions. Ends the run with QRT_ERROR_DEVICE when
/// the wait fails.
void waitForKernels();

} // namespace qrt

#endif // QOPT_LIB_RUNTIME_CUDAMODEL_H
