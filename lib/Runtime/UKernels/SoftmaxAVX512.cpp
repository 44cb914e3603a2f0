//===- SoftmaxAVX512.cpp - AVX-512 softmax rows ---------------------------===//
//
// Part of the qopt project.
//
// Built with -mavx512f -mavx512bw -mavx512vl -mfma; only called after a
// run-time CPU check. The code is SoftmaxX86.inc, shared with the other x86
// builds.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include <algorithm>
#include <cmath>
#include <immintrin.h>

using namespace qrt::uk;

// Also compile the code below for the ISA when the file is built without the
// flags (for instance by the one-line benchmark build in bench/ukernels).
#pragma clang attribute push(                                                  \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma"))),             \
    apply_to = function)

namespace {
#include "SoftmaxX86.inc"
} // namespace

SoftmaxArch qrt::uk::getSoftmaxArchAVX512() { return {"avx512", softmaxRow}; }

#pragma clang attribute pop
