"""LeNet-5 (LeCun, Bottou, Bengio and Haffner 1998): the CNN that read handwritten digits on checks.

The lecture's slide draws it as

    input 32x32x1 -> C1 CONV 6@5x5 -> S2 2x2 POOL -> C3 CONV 16@5x5 -> S4 2x2 POOL
                  -> F5 FC 120 -> F6 FC 84 -> output 10

with every C3 filter seeing all six S2 maps ("full C3"). The 1998 paper connects C3 sparsely
instead (its Table I, :data:`C3_CONNECTIONS`): 60 of the 96 (filter, map) pairs, "to break the
symmetry" and to keep the number of connections down.

Where this definition departs from the paper, and why:

- Activation: the paper uses a scaled tanh, 1.7159 tanh(2x/3); the slide says sigmoid. The
  default here is plain tanh (the same shape, zero-centred, trains well); pass
  ``activation="sigmoid"`` for the slide's choice.
- Subsampling: the paper's S2/S4 average 2x2 windows, then multiply by one learned coefficient
  and add one learned bias per map (12 and 32 parameters). Here they are plain 2x2 average
  pools without parameters; the coefficient would fold into the next layer's weights anyway.
- C5 is a 5x5 convolution on a 5x5 input in the paper, i.e. a fully-connected layer; here it
  is ``f5``, a Linear layer after a Flatten (same weights and MACs).
- Output: the paper's output layer is 10 Euclidean RBF units with hand-chosen, fixed 84-long
  codes; here it is a Linear layer (84 x 10 weights + 10 biases), the modern choice.
"""

from __future__ import annotations

import numpy as np

from ..nn import Activation, AvgPool2d, Conv2d, Flatten, Linear, Sequential
from ._seeds import seed_stream


def _c3_table() -> np.ndarray:
    """Table I of LeCun et al. 1998 as a bool array (M, C) = (16, 6): which S2 maps each C3 filter sees.

    The rule behind the table: C3 filters 0-5 see each run of three neighbouring S2 maps
    (wrapping around), filters 6-11 each run of four neighbours, filters 12-14 three
    non-neighbouring sets of four, and filter 15 all six.
    """
    rows = [[(m + k) % 6 for k in range(3)] for m in range(6)]
    rows += [[(m + k) % 6 for k in range(4)] for m in range(6)]
    rows += [[0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5]]
    rows += [list(range(6))]
    table = np.zeros((16, 6), dtype=bool)
    for m, maps in enumerate(rows):
        table[m, maps] = True
    return table


#: LeNet-5's sparse C3 connections (Table I of the 1998 paper): ``C3_CONNECTIONS[m, c]`` is True
#: where C3 filter m sees S2 map c. 60 of 96 pairs, so 60 x 25 = 1,500 weights instead of 2,400.
C3_CONNECTIONS = _c3_table()
C3_CONNECTIONS.setflags(write=False)


def lenet5(pretrained=False, *, sparse_c3=False, activation="tanh", seed=0, dtype=np.float32):
    """LeNet-5 on a 32x32x1 input: 2 CONV, 2 POOL, 3 FC (the slide counts the output FC apart).

    Layer names (stable, used by the trained weights in ``data/lenet5.npz``): c1, a1, s2, c3,
    a3, s4, flatten, f5, a5, f6, a6, output.

    Parameters
    ----------
    pretrained : bool
        Load the trained weights shipped in ``data/lenet5.npz`` (full C3 only).
    sparse_c3 : bool
        Connect C3 as in the 1998 paper (:data:`C3_CONNECTIONS`) instead of fully.
    activation : str
        Activation after c1, c3, f5 and f6: "tanh" (default), "sigmoid" (the slide) or "relu".
    seed : int
        Seed of the random initial weights.
    dtype : float32 or float64

    Returns
    -------
    Sequential
        Input (N, 1, 32, 32), output (N, 10) class scores.
    """
    if pretrained:
        raise ValueError("pretrained=True needs the trained weights data/lenet5.npz, not shipped yet")
    s = seed_stream(seed)
    return Sequential(
        ("c1", Conv2d(1, 6, 5, seed=next(s), dtype=dtype)),
        ("a1", Activation(activation)),
        ("s2", AvgPool2d(2)),
        ("c3", Conv2d(6, 16, 5, connections=C3_CONNECTIONS if sparse_c3 else None,
                      seed=next(s), dtype=dtype)),
        ("a3", Activation(activation)),
        ("s4", AvgPool2d(2)),
        ("flatten", Flatten()),
        ("f5", Linear(16 * 5 * 5, 120, seed=next(s), dtype=dtype)),
        ("a5", Activation(activation)),
        ("f6", Linear(120, 84, seed=next(s), dtype=dtype)),
        ("a6", Activation(activation)),
        ("output", Linear(84, 10, seed=next(s), dtype=dtype)),
    )
