//===- Int8ConvAVX2.cpp - AVX2 int8 depthwise convolution plane -----------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//

#include "Int8ConvImpl.h"

using namespace qrt::uk;

#pragma clang attribute push(__attribute__((target("avx2"))),                  \
                             apply_to = function)

namespace {
#include "Int8DepthwiseConv.inc"
} // namespace

S8DepthwisePlaneFn qrt::uk::getS8DepthwisePlaneAVX2() {
  return s8DepthwisePlane;
}

#pragma clang attribute pop
