"""ResNet (He, Zhang, Ren and Sun 2016, "Deep residual learning"), the ILSVRC 2015 winner.

A ResNet is a stem (7x7/2 CONV, 3x3/2 max pool), four stages of shortcut modules (the paper's
conv2_x .. conv5_x, with 64, 128, 256, 512 base filters; every stage after the first halves
H x W in its first block), global average pooling and one FC layer. A network is fixed by the
kind of block and a cfg: how many blocks each stage has.

- basic block (ResNet-18/34): 3x3 CONV, 3x3 CONV, 2 layers per block;
- bottleneck block (ResNet-50/101/152): 1x1 CONV that reduces the channels, 3x3 CONV, 1x1 CONV
  that expands them 4x, 3 layers per block.

Every CONV is followed by batch norm (and has no bias); a block's output is
ReLU(main(x) + shortcut(x)), where the shortcut is x itself, or a 1x1 CONV + BN "projection"
where the block changes the number of channels or the size (the paper's option B).

The depth counted in a ResNet's name is its layers with weights on the longest path:
depth = (layers per block) x sum(cfg) + 2 (the stem CONV and the FC); see :func:`depth`.

Version 1 (the paper) puts a bottleneck block's stride 2 on its first 1x1 CONV; "v1.5", what
torchvision and most libraries ship, puts it on the 3x3 CONV, which then works on the larger
map: more MACs, better accuracy. Both are here (``variant``).
"""

from __future__ import annotations

import numpy as np

from ..nn import AvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Residual, Sequential
from ._seeds import seed_stream

#: Layers with weights per block, and the channel expansion of a block's output.
BLOCKS = {"basic": (2, 1), "bottleneck": (3, 4)}

#: (block, cfg) of each ResNet in the paper's Table 1; cfg = blocks per stage.
RESNET_CFG = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}

VARIANTS = ("v1", "v1.5")


def depth(block, cfg) -> int:
    """Layers with weights of a ResNet built from ``cfg``: (layers per block) sum(cfg) + 2.

    Examples
    --------
    >>> depth("bottleneck", (3, 4, 6, 3)), depth("basic", (2, 2, 2, 2))
    (50, 18)
    """
    return BLOCKS[_check_kind(block)][0] * sum(cfg) + 2


def _check_kind(kind):
    if kind not in BLOCKS:
        raise ValueError(f"block must be one of {list(BLOCKS)}; got {kind!r}")
    return kind


def _conv_bn(C, M, R, stride, seeds, dtype, prefix):
    """[(prefix_conv, Conv2d), (prefix_bn, BatchNorm2d)]: a CONV without bias and its batch norm."""
    return [(f"conv{prefix}", Conv2d(C, M, R, stride=stride, padding=R // 2, bias=False,
                                     seed=next(seeds), dtype=dtype)),
            (f"bn{prefix}", BatchNorm2d(M, dtype=dtype))]


def block(kind, C, width, stride=1, *, variant="v1", seeds, dtype=np.float32):
    """One shortcut module: C input channels, ``width`` filters (x 4 at the output for bottleneck).

    Parameters
    ----------
    kind : {"basic", "bottleneck"}
    C : int
        Input channels.
    width : int
        Filters of the 3x3 CONV layers; the output has width (basic) or 4 width (bottleneck)
        channels.
    stride : int
        2 in the first block of stages 2-4 (halves H x W), else 1.
    variant : {"v1", "v1.5"}
        Where a bottleneck puts the stride: the first 1x1 (v1) or the 3x3 (v1.5).
    seeds : iterator of int
    dtype : float32 or float64

    Returns
    -------
    Residual
        Input (N, C, H, W), output (N, width x expansion, H / stride, W / stride).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}; got {variant!r}")
    M = width * BLOCKS[_check_kind(kind)][1]
    if kind == "basic":
        main = [*_conv_bn(C, width, 3, stride, seeds, dtype, "1"), ("relu1", ReLU()),
                *_conv_bn(width, width, 3, 1, seeds, dtype, "2")]
    else:
        s1, s3 = (stride, 1) if variant == "v1" else (1, stride)
        main = [*_conv_bn(C, width, 1, s1, seeds, dtype, "1"), ("relu1", ReLU()),
                *_conv_bn(width, width, 3, s3, seeds, dtype, "2"), ("relu2", ReLU()),
                *_conv_bn(width, M, 1, 1, seeds, dtype, "3")]
    shortcut = None
    if stride != 1 or C != M:
        shortcut = Sequential(*_conv_bn(C, M, 1, stride, seeds, dtype, ""))
    return Residual(Sequential(*main), shortcut)


def resnet_from_cfg(kind, cfg, *, variant="v1", classes=1000, seed=0, dtype=np.float32):
    """A ResNet of ``kind`` blocks with ``cfg[i]`` blocks in stage i (on 224x224x3 inputs).

    Parameters
    ----------
    kind : {"basic", "bottleneck"}
    cfg : sequence of 4 ints
        Blocks per stage (conv2_x .. conv5_x), e.g. (3, 4, 6, 3) for ResNet-50.
    variant : {"v1", "v1.5"}
        Stride on a bottleneck's first 1x1 CONV (v1, the paper) or on its 3x3 (v1.5).
    classes : int
        Outputs of the FC layer.
    seed : int
        Seed of the random initial weights.
    dtype : float32 or float64

    Returns
    -------
    Sequential
        Input (N, 3, 224, 224), output (N, classes). Names: conv1, bn1, relu1, pool1,
        conv2_x .. conv5_x (each a Sequential of block1, block2, ...), avgpool, flatten, fc.
    """
    cfg = tuple(cfg)
    if len(cfg) != 4 or not all(isinstance(count, int) and count >= 1 for count in cfg):
        raise ValueError(f"cfg must be 4 positive ints (blocks per stage); got {cfg!r}")
    _check_kind(kind)
    seeds = seed_stream(seed)
    layers = [*_conv_bn(3, 64, 7, 2, seeds, dtype, "1"), ("relu1", ReLU()), ("pool1", MaxPool2d(3, 2, 1))]
    C = 64
    for stage, (count, width) in enumerate(zip(cfg, (64, 128, 256, 512), strict=True), start=2):
        blocks = []
        for index in range(count):
            stride = 2 if index == 0 and stage > 2 else 1
            blocks.append((f"block{index + 1}", block(kind, C, width, stride, variant=variant, seeds=seeds,
                                                  dtype=dtype)))
            C = width * BLOCKS[kind][1]
        layers.append((f"conv{stage}_x", Sequential(*blocks)))
    return Sequential(*layers, ("avgpool", AvgPool2d(7, 1)), ("flatten", Flatten()),
                      ("fc", Linear(C, classes, seed=next(seeds), dtype=dtype)))


def resnet(layers=50, *, variant="v1", **kwargs):
    """ResNet-``layers`` of the paper's Table 1 (18, 34, 50, 101 or 152); see :func:`resnet_from_cfg`.

    Examples
    --------
    >>> RESNET_CFG[101], depth(*RESNET_CFG[101])
    (('bottleneck', (3, 4, 23, 3)), 101)
    """
    if layers not in RESNET_CFG:
        raise ValueError(f"layers must be one of {sorted(RESNET_CFG)}; got {layers!r}")
    kind, cfg = RESNET_CFG[layers]
    return resnet_from_cfg(kind, cfg, variant=variant, **kwargs)
