//===- WeightOnlyAVX512.cpp - AVX-512 weight-only kernels -----------------===//
//
// Part of the qopt project.
//
// Built with -mavx512f -mavx512bw -mavx512vl -mfma; only called after a
// run-time CPU check. The algorithms are those of the AVX2 kernels (see
// WeightOnlyX86.inc), recompiled for this ISA.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include <algorithm>
#include <cstring>
#include <immintrin.h>

using namespace qrt::uk;

// Also compile the code below for the ISA when the file is built without the
// flags (for instance by the one-line benchmark build in bench/ukernels).
#pragma clang attribute push(                                                  \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma"))),             \
    apply_to = function)

namespace {
#include "WeightOnlyX86.inc"
} // namespace

WoArch qrt::uk::getWoArchAVX512() {
  return {"avx512", gemv, dequantTile, true};
}

#pragma clang attribute pop
