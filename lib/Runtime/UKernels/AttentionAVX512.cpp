//===- AttentionAVX512.cpp - AVX512 fused attention
//-------------------------===//
//
// Part of the qopt project.
//
// Built with -mavx512f -mavx512bw -mavx512vl -mfma; only called after a
// run-time CPU check. The code is AttentionImpl.inc, shared with the other
// builds.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

using namespace qrt::uk;

// Also compile the code below for the ISA when the file is built without the
// flags (for instance by the one-line benchmark build in bench/ukernels).
#pragma clang attribute push(                                                  \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma"))),             \
    apply_to = function)

namespace {
#define QRT_ATTN_ROWS 8
#include "AttentionImpl.inc"
} // namespace

AttentionArch qrt::uk::getAttentionArchAVX512() { return {"avx512", attnTask}; }

#pragma clang attribute pop
