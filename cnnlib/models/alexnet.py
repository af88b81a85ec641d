"""AlexNet (Krizhevsky, Sutskever and Hinton 2012), as published: the ILSVRC 2012 winner.

Five CONV layers and three FC layers, ReLU, local response normalization (LRN) after conv1 and
conv2, overlapping 3x3 max pooling with stride 2, dropout before fc7 and fc8. The network was
split over two GPUs with 3 GB each: conv2, conv4 and conv5 only see the half of the previous
layer's maps that lives on their GPU, which is ``groups=2`` here (half the weights and MACs of
a full connection); conv3 and the FC layers talk across both GPUs.

The paper says the input is 224x224x3, but 11x11 filters with stride 4 fit 227x227 (55x55
outputs, as the paper's figure and every later count use), so this definition takes 227x227x3.
"""

from __future__ import annotations

import numpy as np

from ..nn import Conv2d, Dropout, Flatten, Linear, LocalResponseNorm, MaxPool2d, ReLU, Sequential
from ._seeds import seed_stream


def alexnet(*, classes=1000, seed=0, dtype=np.float32):
    """AlexNet 2012 on a 227x227x3 input.

    Layers: conv1 96@11x11/4 -> LRN -> pool 3x3/2 -> conv2 256@5x5 (pad 2, 2 groups) -> LRN ->
    pool -> conv3 384@3x3 -> conv4 384@3x3 (2 groups) -> conv5 256@3x3 (2 groups) -> pool ->
    fc6 4096 -> fc7 4096 -> fc8 ``classes``, ReLU after every CONV and the first two FC layers.

    Parameters
    ----------
    classes : int
        Outputs of fc8 (1,000 ImageNet classes).
    seed : int
        Seed of the random initial weights.
    dtype : float32 or float64

    Returns
    -------
    Sequential
        Input (N, 3, 227, 227), output (N, classes).
    """
    seeds = seed_stream(seed)

    def conv(C, M, R, **kw):
        return Conv2d(C, M, R, seed=next(seeds), dtype=dtype, **kw)

    def fc(K, M):
        return Linear(K, M, seed=next(seeds), dtype=dtype)

    return Sequential(
        ("conv1", conv(3, 96, 11, stride=4)), ("relu1", ReLU()), ("norm1", LocalResponseNorm()),
        ("pool1", MaxPool2d(3, 2)),
        ("conv2", conv(96, 256, 5, padding=2, groups=2)), ("relu2", ReLU()),
        ("norm2", LocalResponseNorm()), ("pool2", MaxPool2d(3, 2)),
        ("conv3", conv(256, 384, 3, padding=1)), ("relu3", ReLU()),
        ("conv4", conv(384, 384, 3, padding=1, groups=2)), ("relu4", ReLU()),
        ("conv5", conv(384, 256, 3, padding=1, groups=2)), ("relu5", ReLU()),
        ("pool5", MaxPool2d(3, 2)),
        ("flatten", Flatten()),
        ("fc6", fc(256 * 6 * 6, 4096)), ("relu6", ReLU()), ("drop6", Dropout(0.5, seed=next(seeds))),
        ("fc7", fc(4096, 4096)), ("relu7", ReLU()), ("drop7", Dropout(0.5, seed=next(seeds))),
        ("fc8", fc(4096, classes)),
    )
