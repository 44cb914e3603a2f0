"""Checks libqrt's int4 GPU weight packer (GPUKernelABI.h) against the
layout written out from the header's words, and its CUDA device's error
without a driver. Plain ctypes, no numpy: lit's Python may lack it.

usage: gpu_w4_pack.py LIBQRT {pack|no-driver}
"""
import ctypes
import random
import struct
import sys

lib = ctypes.CDLL(sys.argv[1])
lib.qrt_last_error.restype = ctypes.c_char_p
i64, vp = ctypes.c_int64, ctypes.c_void_p
lib.qrt_gpu_w4_pack.argtypes = [i64, i64, vp, vp, vp, vp]
lib.qrt_gpu_w4_packed_weight_bytes.restype = ctypes.c_size_t
lib.qrt_gpu_w4_packed_weight_bytes.argtypes = [i64, i64]
lib.qrt_gpu_w4_packed_scale_bytes.restype = ctypes.c_size_t
lib.qrt_gpu_w4_packed_scale_bytes.argtypes = [i64, i64]


def pack_check():
    rng = random.Random(7)
    n, k = 16, 256
    groups = k // 128
    q = [[rng.randint(-8, 7) for _ in range(k)] for _ in range(n)]
    s = [[rng.uniform(0.001, 2.0) for _ in range(groups)] for _ in range(n)]
    qa = (ctypes.c_int8 * (n * k))(*[v for row in q for v in row])
    sa = (ctypes.c_float * (n * groups))(*[v for row in s for v in row])
    wb = lib.qrt_gpu_w4_packed_weight_bytes(n, k)
    sb = lib.qrt_gpu_w4_packed_scale_bytes(n, k)
    print("bytes", wb, sb)
    pw = (ctypes.c_uint8 * wb)()
    ps = (ctypes.c_uint16 * (sb // 2))()
    assert lib.qrt_gpu_w4_pack(n, k, qa, sa, pw, ps) == 0
    raw = bytes(pw)
    bad = 0
    # Column tile T, group G: 512 bytes; lane 4g + t: column 8T + g,
    # k = 128G + 32t + 8j + {0,2,4,6,1,3,5,7}[nibble] in word j.
    order = [0, 2, 4, 6, 1, 3, 5, 7]
    for tile in range(n // 8):
        for g in range(groups):
            for lane in range(32):
                col = 8 * tile + lane // 4
                for j in range(4):
                    off = (tile * groups + g) * 512 + lane * 16 + 4 * j
                    (word,) = struct.unpack_from("<I", raw, off)
                    for nib in range(8):
                        kk = 128 * g + 32 * (lane % 4) + 8 * j + order[nib]
                        if ((word >> (4 * nib)) & 15) - 8 != q[col][kk]:
                            bad += 1
            for c in range(8):
                h = struct.unpack("<e", struct.pack("<H", ps[(tile * groups + g) * 8 + c]))[0]
                want = struct.unpack("<e", struct.pack("<e", s[8 * tile + c][g]))[0]
                if h != want:
                    bad += 1
    print("mismatches", bad)
    # Bad sizes and values are refused, never crash.
    print("n=12", lib.qrt_gpu_w4_pack(12, k, qa, sa, pw, ps))
    print("k=100", lib.qrt_gpu_w4_pack(n, 100, qa, sa, pw, ps))
    print("null", lib.qrt_gpu_w4_pack(n, k, None, sa, pw, ps))
    qa[5] = 9
    print("q=9", lib.qrt_gpu_w4_pack(n, k, qa, sa, pw, ps))


def no_driver():
    dev = ctypes.c_void_p()
    status = lib.qrt_cuda_open(0, ctypes.byref(dev))
    print("status", status, lib.qrt_last_error().decode())


{"pack": pack_check, "no-driver": no_driver}[sys.argv[2]]()
