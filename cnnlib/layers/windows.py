"""Sliding windows of a zero-padded input: the view that im2col copies from.

Shared by the readable convolution (``conv``) and the fast one (``conv_fast``), so neither
imports the other's internals. Notation: x (N, C, H, W), filters R x S, output E x F, stride
(Uh, Uw), padding (Ph, Pw) and dilation (Dh, Dw) along H and W.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def pad(x, padding):
    """Zero-pad the two spatial axes of x (N, C, H, W) by (Ph, Pw) on each side."""
    Ph, Pw = padding
    if Ph == 0 and Pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (Ph, Ph), (Pw, Pw)))


def windows(xp, R, S, E, F, stride, dilation, writeable=False):
    """Strided view (N, C, R, S, E, F) of the padded input xp (N, C, Hp, Wp), copying nothing.

    ``windows[n, c, r, s, e, f] = xp[n, c, Uh e + Dh r, Uw f + Dw s]``: for each output (e, f),
    the C x R x S input values its filters see. Reshaped to (C R S) x (E F) it is im2col's
    matrix. With ``writeable=True`` the view aliases xp; col2im adds into it one (r, s) at a
    time (for a fixed (r, s) no two outputs share an input, so ``+=`` is safe).
    """
    (Uh, Uw), (Dh, Dw) = stride, dilation
    N, C = xp.shape[:2]
    sn, sc, sh, sw = xp.strides
    return as_strided(
        xp, (N, C, R, S, E, F), (sn, sc, Dh * sh, Dw * sw, Uh * sh, Uw * sw), writeable=writeable
    )
