//===- Int8ConvImpl.h - Internal interface of the int8 convolution -*- C++ -*-//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// The per-ISA piece of qrt_uk_conv2d_s8_i32: the direct depthwise plane. The
// same source (Int8DepthwiseConv.inc, plain loops) is compiled once per ISA
// so that the compiler's vectorizer uses the widest integer vectors; the
// GEMM path reuses the int8 GEMM micro-kernels (UKernelsImpl.h, S8Arch).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_RUNTIME_UKERNELS_INT8CONVIMPL_H
#define QOPT_LIB_RUNTIME_UKERNELS_INT8CONVIMPL_H

#include "UKernelsImpl.h"

namespace qrt::uk {

/// One channel of an int8 depthwise convolution: y (+)= conv(x, w[KH, KW]),
/// products and sums in int32 modulo 2^32 (wrapping, as the i32 generic it
/// implements). `row` is scratch for one output row (OW int32).
using S8DepthwisePlaneFn = void (*)(const ConvPlaneArgs &a, const int8_t *x,
                                    const int8_t *w, int32_t *y, int32_t *row);

S8DepthwisePlaneFn getS8DepthwisePlaneScalar();
S8DepthwisePlaneFn getS8DepthwisePlaneAVX2();
S8DepthwisePlaneFn getS8DepthwisePlaneAVX512();

} // namespace qrt::uk

#endif // QOPT_LIB_RUNTIME_UKERNELS_INT8CONVIMPL_H
