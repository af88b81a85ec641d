"""ShuffleNet v2 (Ma et al. 2018), x1.0, as torchvision's ``shufflenet_v2_x1_0``.

Ma et al. measured that MACs do not predict speed and gave four guidelines: equal input and
output channels in 1x1 CONV layers, few groups, little fragmentation, few elementwise ops.
Its unit follows them:

- stride 1: a *channel split* sends half the channels straight through and the other half
  through 1x1 CONV, 3x3 depthwise CONV, 1x1 CONV; the halves are concatenated (no addition);
- stride 2: both halves see the whole input (the left one through a 3x3/2 depthwise and a 1x1
  CONV), which doubles the channels;
- then a *channel shuffle* (2 groups) interleaves the halves, so that information crosses
  between them in the next unit.

Every CONV has batch norm and no bias; ReLU follows the 1x1 CONV layers, not the depthwise ones.
"""

from __future__ import annotations

import numpy as np

from ..nn import (
    BatchNorm2d,
    ChannelShuffle,
    ChannelSlice,
    Concat,
    Conv2d,
    GlobalAvgPool2d,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
)
from ._seeds import seed_stream

#: ShuffleNet v2 x1.0 (Ma et al. 2018, Table 5): units per stage and output channels of the
#: stem (conv1), of stages 2-4, and of conv5.
SHUFFLENET_V2_CFG = {"repeats": (4, 8, 4), "channels": (24, 116, 232, 464, 1024)}


def _conv_bn(C, M, R, stride=1, *, groups=1, relu, seeds, dtype):
    """[(conv, Conv2d), (bn, BatchNorm2d)] and a ReLU if ``relu``, named with a prefix by the caller."""
    layers = [Conv2d(C, M, R, stride=stride, padding=R // 2, groups=groups, bias=False, seed=next(seeds),
                     dtype=dtype), BatchNorm2d(M, dtype=dtype)]
    return layers + [ReLU()] if relu else layers


def _conv_bn_relu(C, M, R, stride=1, *, seeds, dtype):
    """Sequential (conv, bn, relu): the stem's conv1 and the final conv5."""
    layers = _conv_bn(C, M, R, stride, relu=True, seeds=seeds, dtype=dtype)
    return Sequential(*zip(("conv", "bn", "relu"), layers, strict=True))


def _branch(C, M, stride, *, seeds, dtype):
    """The right branch: 1x1 CONV + ReLU, 3x3 depthwise CONV (stride), 1x1 CONV + ReLU; C -> M."""
    layers = [*_conv_bn(C, M, 1, relu=True, seeds=seeds, dtype=dtype),
              *_conv_bn(M, M, 3, stride, groups=M, relu=False, seeds=seeds, dtype=dtype),
              *_conv_bn(M, M, 1, relu=True, seeds=seeds, dtype=dtype)]
    names = ("pw1", "bn1", "relu1", "dw", "bn2", "pw2", "bn3", "relu2")
    return Sequential(*zip(names, layers, strict=True))


def shuffle_unit(C, M, stride, *, seeds, dtype=np.float32):
    """One ShuffleNet v2 unit from C to M channels (stride 1 needs C = M).

    Returns
    -------
    Sequential
        (split, shuffle): a Concat of the two branches, then ChannelShuffle(2). Input (N, C, H, W),
        output (N, M, H / stride, W / stride).

    Examples
    --------
    >>> from cnnlib.models._seeds import seed_stream
    >>> shuffle_unit(24, 116, 2, seeds=seed_stream(0)).output_shape((24, 56, 56))
    (116, 28, 28)
    """
    half = M // 2
    if stride == 1:
        if C != M:
            raise ValueError(f"a stride-1 unit keeps the channels: C must equal M; got C={C}, M={M}")
        left = ChannelSlice(0, half)
        right = Sequential(("split", ChannelSlice(half, C)), ("branch", _branch(half, half, 1, seeds=seeds,
                                                                                 dtype=dtype)))
    else:
        left = Sequential(*zip(("dw", "bn1", "pw", "bn2", "relu"),
                               [*_conv_bn(C, C, 3, stride, groups=C, relu=False, seeds=seeds, dtype=dtype),
                                *_conv_bn(C, half, 1, relu=True, seeds=seeds, dtype=dtype)], strict=True))
        right = _branch(C, half, stride, seeds=seeds, dtype=dtype)
    return Sequential(("split", Concat(("left", left), ("right", right))), ("shuffle", ChannelShuffle(2)))


def shufflenet_v2(*, classes=1000, seed=0, dtype=np.float32):
    """ShuffleNet v2 x1.0 on a 224x224x3 input (torchvision's ``shufflenet_v2_x1_0``).

    Parameters
    ----------
    classes : int
        Outputs of the FC layer.
    seed : int
        Seed of the random initial weights.
    dtype : float32 or float64

    Returns
    -------
    Sequential
        Input (N, 3, 224, 224), output (N, classes). Names: conv1 (conv, bn, relu), pool1,
        stage2 .. stage4 (each a Sequential of unit1, unit2, ...), conv5, avgpool, fc.

    Examples
    --------
    >>> shufflenet_v2().output_shape((3, 224, 224))
    (1000,)
    """
    seeds = seed_stream(seed)
    stem, *stages, last = SHUFFLENET_V2_CFG["channels"]
    layers = [("conv1", _conv_bn_relu(3, stem, 3, 2, seeds=seeds, dtype=dtype)),
              ("pool1", MaxPool2d(3, 2, 1))]
    C = stem
    for stage, (repeats, M) in enumerate(zip(SHUFFLENET_V2_CFG["repeats"], stages, strict=True), start=2):
        units = [(f"unit{i + 1}", shuffle_unit(C if i == 0 else M, M, 2 if i == 0 else 1, seeds=seeds,
                                               dtype=dtype)) for i in range(repeats)]
        layers.append((f"stage{stage}", Sequential(*units)))
        C = M
    return Sequential(*layers,
                      ("conv5", _conv_bn_relu(C, last, 1, seeds=seeds, dtype=dtype)),
                      ("avgpool", GlobalAvgPool2d()),
                      ("fc", Linear(last, classes, seed=next(seeds), dtype=dtype)))
