//===- ConvAVX2.cpp - AVX2 depthwise convolution plane -----------------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include "qopt/Runtime/UKernels.h"

#include <algorithm>
#include <cstring>

using namespace qrt::uk;

#pragma clang attribute push(__attribute__((target("avx2,fma"))),              \
                             apply_to = function)

namespace {
#include "DepthwiseConv.inc"
} // namespace

ConvArch qrt::uk::getConvArchAVX2() {
  return {"avx2", depthwisePlane, convEpilogue, depthwiseLanes, convDotRows};
}

#pragma clang attribute pop
