//===- ConvAVX512.cpp - AVX512 depthwise convolution plane
//-----------------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include "qopt/Runtime/UKernels.h"

#include <algorithm>
#include <cstring>

using namespace qrt::uk;

#pragma clang attribute push(                                                  \
    __attribute__((target("avx512f,avx512bw,avx512vl,fma"))),                  \
    apply_to = function)

namespace {
#include "DepthwiseConv.inc"
} // namespace

ConvArch qrt::uk::getConvArchAVX512() {
  return {"avx512", depthwisePlane, convEpilogue, depthwiseLanes, convDotRows};
}

#pragma clang attribute pop
