//===- WeightOnlyAVX2.cpp - AVX2+FMA weight-only kernels ------------------===//
//
// Part of the qopt project.
//
// Built with -mavx2 -mfma; only called after a run-time CPU check.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include <algorithm>
#include <cstring>
#include <immintrin.h>

using namespace qrt::uk;

// Also compile the code below for the ISA when the file is built without the
// flags (for instance by the one-line benchmark build in bench/ukernels).
#pragma clang attribute push(__attribute__((target("avx2,fma"))),              \
                             apply_to = function)

namespace {
#include "WeightOnlyX86.inc"
} // namespace

WoArch qrt::uk::getWoArchAVX2() { return {"avx2", gemv, dequantTile, true}; }

#pragma clang attribute pop
