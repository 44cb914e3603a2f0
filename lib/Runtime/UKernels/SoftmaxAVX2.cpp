//===- SoftmaxAVX2.cpp - AVX2+FMA softmax rows ---------------------------===//
//
// Part of the qopt project.
//
// Built with -mavx2 -mfma; only called after a run-time CPU check. The
// code is SoftmaxX86.inc, shared with the other x86 builds.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include <algorithm>
#include <cmath>
#include <immintrin.h>

using namespace qrt::uk;

// Also compile the code below for the ISA when the file is built without the
// flags (for instance by the one-line benchmark build in bench/ukernels).
#pragma clang attribute push(__attribute__((target("avx2,fma"))),              \
                             apply_to = function)

namespace {
#include "SoftmaxX86.inc"
} // namespace

SoftmaxArch qrt::uk::getSoftmaxArchAVX2() { return {"avx2", softmaxRow}; }

#pragma clang attribute pop
