"""An independent GPTQ in numpy, the reference of qopt's agreement test.

Written from the structure of the GPTQ authors' `fasterquant` (whole-matrix
numpy operations, a Quantizer object whose parameters are found on slices,
Q/Err/Losses kept per block), not from qopt's C++. The conventions are
qopt's, stated here so that the two can agree bit for bit:

* symmetric is narrow range: codes in [-(2^(b-1) - 1), 2^(b-1) - 1], no zero
  point, scale = max(|lo|, |hi|) / qmax (the reference's symmetric grid is
  unsigned with zero = (maxq + 1) / 2 instead);
* asymmetric: codes in [0, 2^b - 1], scale = (hi - lo) / maxq,
  zero = clip(round(-lo / scale)); the range always contains 0;
* a zero range gets scale 1;
* ranges, scales and the rounding of a weight are f32 (the weight cast to
  f32, divided by the f32 scale in f32, rounded half to even), everything
  else f64;
* act-order sorts diag(H) descending with a stable sort; with groups it
  uses static groups (grids of the un-permuted weight, found before the
  loop) unless static_groups=False: then groups are formed over the
  permuted columns as the reference's desc_act does, and the codes are
  returned in that permuted order (qopt stores them so, with a qopt.permute
  of the input, where the reference un-permutes them and keeps a g_idx);
* per-channel grids come from the weight before dead columns are zeroed;
* mse=True is the reference quantizer's `mse` grid search with its
  defaults (norm 2.4, grid 100, maxshrink 0.8): per row, the range
  p * [lo, hi] for p = 1 - i / 100, i = 0 .. 79 (p in f32), whose f32
  round trip has the least sum |error|^2.4 (summed in f64), the first on
  ties.
"""

import numpy as np


class Quantizer:
    def __init__(self, bits, sym, mse=False):
        self.bits, self.sym, self.mse = bits, sym, mse
        if sym:
            self.qmax = np.float32(2 ** (bits - 1) - 1)
            self.qmin = -self.qmax
        else:
            self.qmin, self.qmax = np.float32(0), np.float32(2 ** bits - 1)

    def grid(self, lo, hi):
        """Scale and zero point (f32) of the ranges [lo, hi] (f32, rows)."""
        lo = np.minimum(lo, np.float32(0))
        hi = np.maximum(hi, np.float32(0))
        if self.sym:
            scale = np.maximum(-lo, hi) / self.qmax
        else:
            scale = (hi - lo) / self.qmax
        bad = ~(scale > 0) | ~np.isfinite(scale)
        scale = np.where(bad, np.float32(1), scale).astype(np.float32)
        if self.sym:
            zero = np.zeros_like(scale)
        else:
            zero = np.clip(np.rint(-lo / scale), self.qmin, self.qmax)
        return scale, zero.astype(np.float32)

    def find_params(self, x):
        """Per row of x: scale and zero point (f32)."""
        x = x.astype(np.float32)
        lo, hi = x.min(axis=1), x.max(axis=1)
        self.scale, self.zero = self.grid(lo, hi)
        if not self.mse:
            return
        lo, hi = np.minimum(lo, np.float32(0)), np.maximum(hi, np.float32(0))
        best = np.full(x.shape[0], np.inf)
        for i in range(80):
            p = np.float32(1) - np.float32(i) / np.float32(100)
            scale, zero = self.grid(p * lo, p * hi)
            q = np.clip(np.rint(x / scale[:, None]) + zero[:, None],
                        self.qmin, self.qmax)
            d = (q - zero[:, None]) * scale[:, None] - x  # all f32
            err = (np.abs(d).astype(np.float64) ** 2.4).sum(axis=1)
            better = err < best
            best = np.where(better, err, best)
            self.scale = np.where(better, scale, self.scale)
            self.zero = np.where(better, zero, self.zero)

    def codes(self, w):
        q = np.rint(w.astype(np.float32) / self.scale) + self.zero
        return np.clip(q, self.qmin, self.qmax).astype(np.float32)

    def dequantize(self, q):
        return (q.astype(np.float64) - self.zero.astype(np.float64)) * \
            self.scale.astype(np.float64)


def gptq(W, H, bits=4, sym=True, groupsize=-1, actorder=False,
         blocksize=128, percdamp=0.01, static_groups=True, return_perm=False,
         mse=False):
    """GPTQ of W [rows, columns] (f64) with H [columns, columns] (f64).
    Returns (codes [rows, columns], scales, zeros): scales and zeros [rows]
    per channel, [rows, columns / groupsize] per group. With actorder,
    groups and static_groups=False the codes, scales and zeros are in the
    permuted column order. With return_perm, the column order (perm[j] is
    the original column of stored column j; arange when not permuted) is
    returned last."""
    W = W.astype(np.float64).copy()
    H = H.astype(np.float64).copy()
    rows, columns = W.shape
    quantizer = Quantizer(bits, sym, mse)
    quantizer.find_params(W)  # per channel: the original weight

    dead = np.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0

    permuted = groupsize != -1 and actorder and not static_groups
    groups = []
    if groupsize != -1 and actorder and static_groups:
        for i in range(0, columns, groupsize):
            g = Quantizer(bits, sym, mse)
            g.find_params(W[:, i:i + groupsize])
            groups.append(g)

    perm = np.arange(columns)
    if actorder:
        perm = np.argsort(-np.diag(H), kind="stable")
        W = W[:, perm]
        H = H[perm][:, perm]

    damp = percdamp * np.mean(np.diag(H))
    H[np.arange(columns), np.arange(columns)] += damp
    L = np.linalg.cholesky(H)
    Linv = np.linalg.inv(L)
    Hinv = np.linalg.cholesky(Linv.T @ Linv).T  # upper: H^-1 = U^T U

    Q = np.zeros_like(W, dtype=np.float32)
    ngroups = columns // groupsize if groupsize != -1 else 1
    scales = np.zeros((rows, ngroups), dtype=np.float32)
    zeros = np.zeros((rows, ngroups), dtype=np.float32)
    if groupsize == -1:
        scales[:, 0], zeros[:, 0] = quantizer.scale, quantizer.zero
    for g, q in enumerate(groups):
        scales[:, g], zeros[:, g] = q.scale, q.zero

    for i1 in range(0, columns, blocksize):
        i2 = min(i1 + blocksize, columns)
        count = i2 - i1
        W1 = W[:, i1:i2].copy()
        Q1 = np.zeros_like(W1, dtype=np.float32)
        Err1 = np.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        for i in range(count):
            w = W1[:, i]
            d = Hinv1[i, i]
            if groupsize != -1:
                if not actorder or not static_groups:
                    if (i1 + i) % groupsize == 0:
                        quantizer.find_params(W[:, i1 + i:i1 + i + groupsize])
                        g = (i1 + i) // groupsize
                        scales[:, g] = quantizer.scale
                        zeros[:, g] = quantizer.zero
                else:
                    quantizer = groups[perm[i1 + i] // groupsize]
            q = quantizer.codes(w)
            Q1[:, i] = q
            err1 = (w - quantizer.dequantize(q)) / d
            W1[:, i:] -= np.outer(err1, Hinv1[i, i:])
            Err1[:, i] = err1
        Q[:, i1:i2] = Q1
        W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:]

    if permuted:
        codes = Q
    else:
        codes = np.zeros_like(Q)
        codes[:, perm] = Q
        perm = np.arange(columns)
    if return_perm:
        return codes.astype(np.int64), scales, zeros, perm
    return codes.astype(np.int64), scales, zeros
