"""Data reuse in a conv layer: how many MACs use each weight, each input and each output.

Sze et al. ("Efficient Processing of Deep Neural Networks: A Tutorial and Survey", Proc. IEEE
105(12), 2017, Sec. V) name three kinds of reuse an accelerator can exploit, and one more that
every layer has:

- **convolutional reuse** (CONV layers only): the same filter weight slides over the E x F output
  positions, and an input activation is covered by up to R x S windows (at stride 1);
- **input fmap reuse**: each input activation is used by all M filters (M / groups);
- **filter reuse**: each weight is used for every one of the N inputs of a batch;
- **partial-sum accumulation**: each output sums C R S products (C / groups).

Every number here is a count on the lecture's seven-loop nest, so the identities
MACs = weights x uses per weight = outputs x accumulations per output hold exactly. The more
uses per value, the more a small, cheap memory next to the PEs can save trips to DRAM.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._checks import check_instance
from ..counting import ConvShape


@dataclass(frozen=True)
class Reuse:
    """The reuse of one conv layer (see the module docstring).

    Attributes
    ----------
    convolutional_weight : int
        E F: uses of one weight within one input fmap.
    convolutional_input : float
        Average number of windows covering one input activation of the padded input,
        E F R S / ((H + 2P)(W + 2P)); R S in the interior at stride 1, 1 for an FC layer.
        (``np.outer`` of ``cnnlib.viz.window_coverage`` along H and along W maps it pixel by
        pixel.)
    input_fmap : int
        M / groups: filters that use each input activation.
    filter : int
        N: inputs of the batch that use each weight.
    per_weight : int
        N E F uses of each weight (= MACs / weights).
    per_input : float
        convolutional_input x input_fmap: uses of each (padded) input activation.
    per_output : int
        C R S / groups products accumulated into each output.
    """

    convolutional_weight: int
    convolutional_input: float
    input_fmap: int
    filter: int
    per_weight: int
    per_input: float
    per_output: int


def reuse(shape: ConvShape) -> Reuse:
    """Count the reuse of each weight, input and output of ``shape``.

    Examples
    --------
    The lecture's example layer: 10 filters of 5 x 5 x 3 over a 32 x 32 x 3 input.

    >>> r = reuse(ConvShape(N=1, C=3, H=32, W=32, M=10, R=5, S=5))
    >>> r.convolutional_weight, r.input_fmap, r.per_weight, r.per_output
    (784, 10, 784, 75)
    >>> f"{r.convolutional_input:.2f}"
    '19.14'
    """
    check_instance(shape, ConvShape, "shape")
    N, E, F, R, S, P = shape.N, shape.E, shape.F, shape.R, shape.S, shape.P
    covered = E * F * R * S / ((shape.H + 2 * P) * (shape.W + 2 * P))
    fmap = shape.M // shape.groups
    return Reuse(
        convolutional_weight=E * F,
        convolutional_input=covered,
        input_fmap=fmap,
        filter=N,
        per_weight=N * E * F,
        per_input=covered * fmap,
        per_output=(shape.C // shape.groups) * R * S,
    )

