#!/usr/bin/env python3
"""Checks qrt_cuda_gemm_plan_create's argument and shape checks, which come
before any use of the device (so no GPU is needed).

usage: cuda_gemm_plan.py LIBQRT
"""
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])
lib.qrt_last_error.restype = ctypes.c_char_p
vp, u64, i64 = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64


class Cfg(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int32), ("out", ctypes.c_int32),
                ("block_n", ctypes.c_int32), ("stages", ctypes.c_int32),
                ("consumers", ctypes.c_int32)]


lib.qrt_cuda_gemm_plan_create.argtypes = [vp, vp, ctypes.POINTER(Cfg), u64, u64,
                                          i64, i64, i64, ctypes.POINTER(vp)]
lib.qrt_cuda_gemm_plan_launch.argtypes = [vp, u64, u64, u64, vp]


def plan(cfg, m, n, k):
    p = vp()
    st = lib.qrt_cuda_gemm_plan_create(None, None, ctypes.byref(cfg) if cfg else None,
                                       0, 0, m, n, k, ctypes.byref(p))
    print("status %d %s" % (st, lib.qrt_last_error().decode()))


good = Cfg(2, 0, 128, 4, 2)  # s8, f16 out
plan(None, 512, 4096, 4096)
plan(Cfg(7, 0, 128, 4, 2), 512, 4096, 4096)
plan(Cfg(0, 0, 72, 4, 2), 512, 4096, 4096)
plan(Cfg(0, 0, 128, 9, 2), 512, 4096, 4096)
plan(good, 512, 4100, 4096)      # N % 8
plan(good, 512, 4096, 4100)      # K bytes % 16
plan(Cfg(0, 0, 128, 4, 2), 512, 4096, 4104)  # f16: 8208 bytes is fine
plan(good, 0, 4096, 4096)
plan(good, 65536, 65536, 4096)   # M * N >= 2^31
plan(good, 512, 4096, 4096)      # valid, but no device
st = lib.qrt_cuda_gemm_plan_launch(None, 0, 0, 0, None)
print("status %d %s" % (st, lib.qrt_last_error().decode()))
