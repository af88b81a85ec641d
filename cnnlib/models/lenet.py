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

Input: the paper pads MNIST's 28x28 digits to 32x32 and maps grey levels so that the
background is -0.1 and full ink 1.175 (mean about 0, variance about 1); :func:`mnist_input`
does the same, and ``LeNet5.predict`` applies it to raw uint8 digits.
"""

from __future__ import annotations

import numpy as np

from .._checks import as_float_array
from ..activations import softmax
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


def mnist_input(images, dtype=np.float32):
    """MNIST digits as LeNet-5's input: pad 28x28 to 32x32 and map grey 0 ... 255 to -0.1 ... 1.175.

    Parameters
    ----------
    images : array (N, 28, 28) or (28, 28)
        Grey levels 0 (background) to 255 (ink), uint8 or float. Floats scaled to 0 ... 1
        are refused (they would read as almost blank digits).
    dtype : float32 or float64

    Returns
    -------
    array (N, 1, 32, 32)
        A (28, 28) image gives N = 1.

    Examples
    --------
    >>> x = mnist_input(np.full((28, 28), 255, dtype=np.uint8))
    >>> x.shape, round(float(x[0, 0, 0, 0]), 3), round(float(x[0, 0, 2, 2]), 3)
    ((1, 1, 32, 32), -0.1, 1.175)
    """
    x = as_float_array(images, "images")
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"images must be MNIST digits (N, 28, 28) or (28, 28); got shape {x.shape}")
    if x.size and (x.min() < 0 or x.max() > 255):
        raise ValueError(f"images must hold grey levels 0 ... 255; got {x.min()} ... {x.max()}")
    if np.issubdtype(np.asarray(images).dtype, np.floating) and x.size and 0 < x.max() <= 1:
        # a digit's ink reaches 255; floats that stop at 1 were scaled to 0 ... 1 and would read as blank
        raise ValueError(f"images look scaled to 0 ... 1 (largest value {x.max():g}); "
                         "pass grey levels 0 ... 255 (images * 255)")
    x = (x / 255 * 1.275 - 0.1).astype(dtype)
    return np.pad(x, ((0, 0), (2, 2), (2, 2)), constant_values=-0.1)[:, None]


class LeNet5(Sequential):
    """LeNet-5, a :class:`~cnnlib.nn.Sequential` that also reads raw MNIST digits."""

    def predict_proba(self, images):
        """Class probabilities (softmax of the scores): digits (N, 28, 28) -> (N, 10), (28, 28) -> (10,)."""
        x = mnist_input(images, dtype=self["c1"].w.dtype)
        training = self.training
        try:
            proba = softmax(self.eval()(x), axis=1)
        finally:
            self.train(training)
        return proba[0] if np.ndim(images) == 2 else proba

    def predict(self, images):
        """Predicted digits of uint8 MNIST images: (N, 28, 28) -> int array (N,); (28, 28) -> int."""
        labels = self.predict_proba(images).argmax(axis=-1)
        return int(labels) if labels.ndim == 0 else labels


def lenet5(pretrained=False, *, sparse_c3=False, activation="tanh", seed=0, dtype=np.float32):
    """LeNet-5 on a 32x32x1 input: 2 CONV, 2 POOL, 3 FC (the slide counts the output FC apart).

    Layer names (stable, used by the trained weights in ``data/lenet5.npz``): c1, a1, s2, c3,
    a3, s4, flatten, f5, a5, f6, a6, output.

    Parameters
    ----------
    pretrained : bool or "pruned"
        True: load the trained weights shipped in ``data/lenet5.npz`` (full C3 and tanh, the
        defaults; trained by ``python -m cnnlib.train lenet5``, see data/README.md).
        "pruned": load ``data/lenet5_pruned.npz``, the same network with 91 % of its CONV and
        FC weights pruned to exactly zero (``python -m cnnlib.train lenet5-pruned``, see
        :mod:`cnnlib.sparsity`).
    sparse_c3 : bool
        Connect C3 as in the 1998 paper (:data:`C3_CONNECTIONS`) instead of fully.
    activation : str
        Activation after c1, c3, f5 and f6: "tanh" (default), "sigmoid" (the slide) or "relu".
    seed : int
        Seed of the random initial weights.
    dtype : float32 or float64

    Returns
    -------
    LeNet5
        A Sequential: input (N, 1, 32, 32), output (N, 10) class scores; ``predict(images)``
        takes raw uint8 MNIST digits (N, 28, 28) and returns their labels.
    """
    if not (isinstance(pretrained, bool) or pretrained == "pruned"):
        raise ValueError(f"pretrained must be False, True or 'pruned'; got {pretrained!r}")
    if pretrained and (sparse_c3 or activation != "tanh"):
        raise ValueError("pretrained=True needs the trained network's sparse_c3=False and activation='tanh'; "
                         f"got sparse_c3={sparse_c3}, activation={activation!r}")
    seeds = seed_stream(seed)
    model = LeNet5(
        ("c1", Conv2d(1, 6, 5, seed=next(seeds), dtype=dtype)),
        ("a1", Activation(activation)),
        ("s2", AvgPool2d(2)),
        ("c3", Conv2d(6, 16, 5, connections=C3_CONNECTIONS if sparse_c3 else None,
                      seed=next(seeds), dtype=dtype)),
        ("a3", Activation(activation)),
        ("s4", AvgPool2d(2)),
        ("flatten", Flatten()),
        ("f5", Linear(16 * 5 * 5, 120, seed=next(seeds), dtype=dtype)),
        ("a5", Activation(activation)),
        ("f6", Linear(120, 84, seed=next(seeds), dtype=dtype)),
        ("a6", Activation(activation)),
        ("output", Linear(84, 10, seed=next(seeds), dtype=dtype)),
    )
    if pretrained:
        from ..data import load_npz

        model.load_state(load_npz("lenet5_pruned.npz" if pretrained == "pruned" else "lenet5.npz"))
    return model
