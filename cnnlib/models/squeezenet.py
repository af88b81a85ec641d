"""SqueezeNet (Iandola et al. 2016): AlexNet's accuracy with 50x fewer weights, from fire modules.

A fire module *squeezes* its input with s 1x1 CONV filters, then *expands* with e1 1x1 and
e3 3x3 filters side by side, their outputs concatenated (e1 + e3 channels). The 3x3 filters
read only s channels (s < e1 + e3), a 1x1 bottleneck as in GoogLeNet's inception modules.
There is no FC layer: a 1x1 CONV to 1000 channels and a global average pool end the network.

Both of torchvision's variants are here: ``squeezenet1_0`` (the paper's Table 1) and
``squeezenet1_1`` (SqueezeNet's v1.1 release: a 3x3 conv1 with 64 filters and earlier pools,
about 2.4x fewer MACs at the same accuracy). Their 3x3/2 max pools round the output size up
(``ceil_mode``), as Caffe does: 109 -> 54 -> 27 -> 13 for v1.0.
"""

from __future__ import annotations

import numpy as np

from ..nn import Concat, Conv2d, Dropout, GlobalAvgPool2d, MaxPool2d, ReLU, Sequential
from ._seeds import seed_stream

#: Fire modules (squeeze s, expand e1, expand e3) in order; "pool" is a 3x3/2 max pool.
SQUEEZENET_CFG = {
    "1_0": ("pool", (16, 64, 64), (16, 64, 64), (32, 128, 128), "pool", (32, 128, 128),
            (48, 192, 192), (48, 192, 192), (64, 256, 256), "pool", (64, 256, 256)),
    "1_1": ("pool", (16, 64, 64), (16, 64, 64), "pool", (32, 128, 128), (32, 128, 128), "pool",
            (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256)),
}


def fire(C, s, e1, e3, *, seeds, dtype=np.float32):
    """A fire module: squeeze (1x1, s filters), then expand (1x1, e1 and 3x3, e3) concatenated.

    Returns
    -------
    Sequential
        (squeeze, relu, expand); input (N, C, H, W), output (N, e1 + e3, H, W).

    Examples
    --------
    >>> from cnnlib.models._seeds import seed_stream
    >>> fire(96, 16, 64, 64, seeds=seed_stream(0)).counts((96, 54, 54)).weights  # 96 16 + 16 64 + 16 64 9
    11776
    """

    def conv(C, M, R):
        return Conv2d(C, M, R, padding=R // 2, seed=next(seeds), dtype=dtype)

    return Sequential(
        ("squeeze", conv(C, s, 1)), ("relu", ReLU()),
        ("expand", Concat(("1x1", Sequential(("conv", conv(s, e1, 1)), ("relu", ReLU()))),
                          ("3x3", Sequential(("conv", conv(s, e3, 3)), ("relu", ReLU()))))),
    )


def squeezenet(version="1_0", *, classes=1000, seed=0, dtype=np.float32):
    """SqueezeNet ``version`` ("1_0" or "1_1", torchvision's) on a 224x224x3 input.

    Parameters
    ----------
    version : {"1_0", "1_1"}
    classes : int
        Filters of the last 1x1 CONV (there is no FC layer).
    seed : int
        Seed of the random initial weights.
    dtype : float32 or float64

    Returns
    -------
    Sequential
        Input (N, 3, 224, 224), output (N, classes). Names: conv1, relu1, pool1, fire2 .. fire9
        (with pools between), dropout, conv10, relu10, avgpool.
    """
    if version not in SQUEEZENET_CFG:
        raise ValueError(f"version must be one of {list(SQUEEZENET_CFG)}; got {version!r}")
    seeds = seed_stream(seed)
    M, R = (96, 7) if version == "1_0" else (64, 3)
    layers, C, pools, fires = [("conv1", Conv2d(3, M, R, stride=2, seed=next(seeds), dtype=dtype)),
                               ("relu1", ReLU())], M, 0, 1
    for item in SQUEEZENET_CFG[version]:
        if item == "pool":
            pools += 1
            layers.append((f"pool{pools}", MaxPool2d(3, 2, ceil_mode=True)))
        else:
            fires += 1
            layers.append((f"fire{fires}", fire(C, *item, seeds=seeds, dtype=dtype)))
            C = item[1] + item[2]
    return Sequential(*layers, ("dropout", Dropout(0.5, seed=next(seeds))),
                      ("conv10", Conv2d(C, classes, 1, seed=next(seeds), dtype=dtype)), ("relu10", ReLU()),
                      ("avgpool", GlobalAvgPool2d()))


def squeezenet1_0(**kwargs):
    """SqueezeNet v1.0 (the paper's Table 1); see :func:`squeezenet`."""
    return squeezenet("1_0", **kwargs)


def squeezenet1_1(**kwargs):
    """SqueezeNet v1.1 (3x3 conv1 with 64 filters, pools after fire3 and fire5); see :func:`squeezenet`."""
    return squeezenet("1_1", **kwargs)
