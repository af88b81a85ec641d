"""VGG-16 and VGG-19 (Simonyan and Zisserman 2014), configurations D and E of the paper's Table 1.

Only 3x3 filters (stride 1, padding 1, so CONV layers keep H x W) and 2x2 max pools that halve
H x W: two stacked 3x3 layers see a 5x5 window with 2 x 9 = 18 weights per (input, output)
channel pair instead of 25, three see 7x7 with 27 instead of 49, and there is an extra ReLU
between them. Three FC layers (4096, 4096, 1000) follow, with dropout before fc7 and fc8.
"""

from __future__ import annotations

import numpy as np

from ..nn import Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential
from ._seeds import seed_stream

#: Filters M of each 3x3 CONV layer, block by block; each block ends with a 2x2 max pool.
VGG_CFG = {
    16: ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)),
    19: ((64, 64), (128, 128), (256,) * 4, (512,) * 4, (512,) * 4),
}


def vgg(depth=16, *, classes=1000, seed=0, dtype=np.float32):
    """VGG-``depth`` on a 224x224x3 input (depth = CONV layers + 3 FC layers: 16 or 19).

    Layer names follow the paper's blocks: conv1_1, relu1_1, ..., pool1, ..., fc6, fc7, fc8.

    Parameters
    ----------
    depth : {16, 19}
    classes : int
        Outputs of fc8.
    seed : int
        Seed of the random initial weights.
    dtype : float32 or float64

    Returns
    -------
    Sequential
        Input (N, 3, 224, 224), output (N, classes).
    """
    if depth not in VGG_CFG:
        raise ValueError(f"depth must be one of {sorted(VGG_CFG)}; got {depth!r}")
    seeds = seed_stream(seed)
    layers, C = [], 3
    for block, filters in enumerate(VGG_CFG[depth], start=1):
        for layer, M in enumerate(filters, start=1):
            layers += [(f"conv{block}_{layer}", Conv2d(C, M, 3, padding=1, seed=next(seeds), dtype=dtype)),
                       (f"relu{block}_{layer}", ReLU())]
            C = M
        layers.append((f"pool{block}", MaxPool2d(2)))
    return Sequential(
        *layers,
        ("flatten", Flatten()),
        ("fc6", Linear(C * 7 * 7, 4096, seed=next(seeds), dtype=dtype)), ("relu6", ReLU()),
        ("drop6", Dropout(0.5, seed=next(seeds))),
        ("fc7", Linear(4096, 4096, seed=next(seeds), dtype=dtype)), ("relu7", ReLU()),
        ("drop7", Dropout(0.5, seed=next(seeds))),
        ("fc8", Linear(4096, classes, seed=next(seeds), dtype=dtype)),
    )


def vgg16(**kwargs):
    """VGG-16 (configuration D): 13 CONV + 3 FC layers; see :func:`vgg`."""
    return vgg(16, **kwargs)


def vgg19(**kwargs):
    """VGG-19 (configuration E): 16 CONV + 3 FC layers; see :func:`vgg`."""
    return vgg(19, **kwargs)
