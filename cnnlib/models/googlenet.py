"""GoogLeNet, i.e. Inception v1 (Szegedy et al. 2015, "Going deeper with convolutions"), the
ILSVRC 2014 winner, as in the paper's Table 1 and Figure 3.

An inception module runs four branches on the same input and concatenates their outputs along
channels: a 1x1 CONV; a 1x1 "reduce" then a 3x3 CONV; a 1x1 reduce then a 5x5 CONV; a 3x3 max
pool (stride 1) then a 1x1 "pool projection". The 1x1 reductions are bottlenecks: they shrink
the channels the expensive 3x3 and 5x5 filters have to read.

Not included: the two auxiliary classifiers (after inception 4a and 4d), which only help
training and are dropped at inference, so they are in no count here. The stem has the paper's
LRN layers (after pool1 and conv2). Many libraries' "GoogLeNet" differ: torchvision uses 3x3
instead of 5x5 in the third branch and batch norm instead of LRN.
"""

from __future__ import annotations

import numpy as np

from ..nn import (
    AvgPool2d,
    Concat,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    LocalResponseNorm,
    MaxPool2d,
    ReLU,
    Sequential,
)
from ..shapes import conv_output_size
from ._seeds import seed_stream

#: Table 1 of the paper: per inception module, the filters of (1x1, 3x3 reduce, 3x3, 5x5 reduce,
#: 5x5, pool proj). The module's output channels are 1x1 + 3x3 + 5x5 + pool proj.
INCEPTION_CFG = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def inception(C, n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj, *, seeds, dtype=np.float32):
    """One inception module (with dimension reductions) on C input channels.

    Parameters
    ----------
    C : int
        Input channels.
    n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj : int
        Filters of each CONV layer, as in a row of the paper's Table 1.
    seeds : iterator of int
        Where each CONV layer draws its seed (see ``seed_stream``).
    dtype : float32 or float64

    Returns
    -------
    Concat
        Input (N, C, H, W), output (N, n1x1 + n3x3 + n5x5 + pool_proj, H, W).
    """

    def conv(C, M, R):
        return Conv2d(C, M, R, padding=R // 2, seed=next(seeds), dtype=dtype)

    return Concat(
        ("1x1", Sequential(("conv", conv(C, n1x1, 1)), ("relu", ReLU()))),
        ("3x3", Sequential(("reduce", conv(C, n3x3_reduce, 1)), ("relu_reduce", ReLU()),
                           ("conv", conv(n3x3_reduce, n3x3, 3)), ("relu", ReLU()))),
        ("5x5", Sequential(("reduce", conv(C, n5x5_reduce, 1)), ("relu_reduce", ReLU()),
                           ("conv", conv(n5x5_reduce, n5x5, 5)), ("relu", ReLU()))),
        ("pool", Sequential(("pool", MaxPool2d(3, 1, 1)), ("proj", conv(C, pool_proj, 1)),
                            ("relu", ReLU()))),
    )


def googlenet(*, pool_padding=1, classes=1000, seed=0, dtype=np.float32):
    """GoogLeNet (Inception v1) on a 224x224x3 input, without the auxiliary classifiers.

    57 CONV layers (3 in the stem, 6 per inception module) and one FC layer; the longest path
    has 21 CONV layers (3 + 2 per module) and the FC: the paper's "22 layers deep".

    Parameters
    ----------
    pool_padding : {1, 0}
        Padding of the four 3x3/2 max pools. With 1 (default) they halve the maps exactly,
        112 -> 56 -> 28 -> 14 -> 7, the sizes of the paper's Table 1 (Caffe gets the same by
        rounding up). With 0 the sizes round down to 55, 27, 13 and 6, which is what Sze et
        al.'s "1.43G MACs" (the lecture's figure) counts; the final average pool then covers
        6x6 instead of 7x7.
    classes : int
        Outputs of the FC layer.
    seed : int
        Seed of the random initial weights.
    dtype : float32 or float64

    Returns
    -------
    Sequential
        Input (N, 3, 224, 224), output (N, classes).
    """
    if pool_padding not in (0, 1):
        raise ValueError(f"pool_padding must be 0 or 1; got {pool_padding!r}")
    seeds = seed_stream(seed)

    def pool():
        return MaxPool2d(3, 2, pool_padding)

    size = conv_output_size(224, 7, 3, 2)  # after conv1
    for _ in range(4):
        size = conv_output_size(size, 3, pool_padding, 2)  # after pool1 .. pool4
    layers = [
        ("conv1", Conv2d(3, 64, 7, stride=2, padding=3, seed=next(seeds), dtype=dtype)), ("relu1", ReLU()),
        ("pool1", pool()), ("norm1", LocalResponseNorm()),
        ("conv2_reduce", Conv2d(64, 64, 1, seed=next(seeds), dtype=dtype)), ("relu2_reduce", ReLU()),
        ("conv2", Conv2d(64, 192, 3, padding=1, seed=next(seeds), dtype=dtype)), ("relu2", ReLU()),
        ("norm2", LocalResponseNorm()), ("pool2", pool()),
    ]
    C = 192
    for name, cfg in INCEPTION_CFG.items():
        if name in ("4a", "5a"):
            layers.append((f"pool{int(name[0]) - 1}", pool()))  # the paper's pool3 and pool4
        layers.append((f"inception_{name}", inception(C, *cfg, seeds=seeds, dtype=dtype)))
        C = cfg[0] + cfg[2] + cfg[4] + cfg[5]
    return Sequential(
        *layers,
        ("avgpool", AvgPool2d(size, 1)),
        ("flatten", Flatten()),
        ("dropout", Dropout(0.4, seed=next(seeds))),
        ("fc", Linear(C, classes, seed=next(seeds), dtype=dtype)),
    )
