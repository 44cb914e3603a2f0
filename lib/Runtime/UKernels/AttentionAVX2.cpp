//===- AttentionAVX2.cpp - AVX2 fused attention -------------------------===//
//
// Part of the qopt project.
//
// Built with -mavx2 -mfma; only called after a run-time CPU check. The code is
// AttentionImpl.inc, shared with the other builds.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

using namespace qrt::uk;

// Also compile the code below for the ISA when the file is built without the
// flags (for instance by the one-line benchmark build in bench/ukernels).
#pragma clang attribute push(__attribute__((target("avx2,fma"))),              \
                             apply_to = function)

namespace {
#include "AttentionImpl.inc"
} // namespace

AttentionArch qrt::uk::getAttentionArchAVX2() { return {"avx2", attnTask}; }

#pragma clang attribute pop
