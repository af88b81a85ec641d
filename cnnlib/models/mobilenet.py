"""MobileNet v1 (Howard et al. 2017) and v2 (Sandler et al. 2018): depthwise separable CONV layers.

A standard CONV layer mixes space and channels at once: M x C x R x S weights, each used E x F
times. MobileNet splits it in two:

- a *depthwise* R x S CONV, one filter per input channel (``Conv2d(C, C, 3, groups=C)``):
  C x R x S weights, no mixing across channels;
- a *pointwise* 1x1 CONV that mixes the channels: M x C weights.

Per output position that is C R S + C M MACs instead of C M R S: a ratio of 1/M + 1/(R S),
about 1/8 to 1/9 for 3x3 filters (Howard et al., Section 3.1).

MobileNet v2's *inverted residual* block widens instead of narrowing: a 1x1 CONV expands the C
channels t = 6 times, a 3x3 depthwise CONV filters the wide map, and a *linear* 1x1 bottleneck
(no activation after it) projects back to few channels; the shortcut joins the narrow ends.
Every CONV is followed by batch norm and (except that projection) ReLU6. (Howard et al.'s
Figure 3 draws ReLU after MobileNet v1's layers; their released TensorFlow model uses ReLU6, as
here: the counts are the same.)
"""

from __future__ import annotations

import numpy as np

from ..nn import BatchNorm2d, Conv2d, Dropout, GlobalAvgPool2d, Linear, ReLU6, Residual, Sequential
from ._seeds import seed_stream

#: MobileNet v1 (Howard et al. 2017, Table 1): (filters M of the pointwise CONV, stride of the
#: depthwise CONV) of its 13 depthwise separable layers. The table prints the 13th depthwise
#: stride as 2 on a 7x7 input; the paper's own 7x7 output and every implementation use 1.
MOBILENET_V1_CFG = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                    *((512, 1),) * 5, (1024, 2), (1024, 1))

#: MobileNet v2 (Sandler et al. 2018, Table 2): (expansion t, output channels c, repeats n,
#: stride s of the first repeat) of each bottleneck sequence.
MOBILENET_V2_CFG = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                    (6, 160, 3, 2), (6, 320, 1, 1))


def conv_bn(C, M, R, stride=1, *, groups=1, act=True, seeds, dtype=np.float32):
    """A CONV without bias, its batch norm and (if ``act``) ReLU6, as a Sequential (conv, bn, relu).

    Input (N, C, H, W), output (N, M, H / stride, W / stride): padding R // 2 keeps the size.
    """
    layers = [("conv", Conv2d(C, M, R, stride=stride, padding=R // 2, groups=groups, bias=False,
                              seed=next(seeds), dtype=dtype)),
              ("bn", BatchNorm2d(M, dtype=dtype))]
    return Sequential(*layers, ("relu", ReLU6())) if act else Sequential(*layers)


def depthwise_separable(C, M, stride=1, *, seeds, dtype=np.float32):
    """MobileNet v1's layer: 3x3 depthwise CONV (groups = C), then 1x1 pointwise CONV to M channels.

    Returns
    -------
    Sequential
        (dw, pw), each a conv-bn-ReLU6 Sequential. Input (N, C, H, W), output (N, M, H / stride,
        W / stride).
    """
    return Sequential(("dw", conv_bn(C, C, 3, stride, groups=C, seeds=seeds, dtype=dtype)),
                      ("pw", conv_bn(C, M, 1, seeds=seeds, dtype=dtype)))


def mobilenet_v1(*, classes=1000, seed=0, dtype=np.float32):
    """MobileNet v1, width multiplier 1.0, on a 224x224x3 input (Howard et al. 2017, Table 1).

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
        Input (N, 3, 224, 224), output (N, classes). Names: conv1, sep1 .. sep13, avgpool, fc.

    Examples
    --------
    >>> net = mobilenet_v1()
    >>> net.output_shape((3, 224, 224)), net["sep13"].output_shape((1024, 7, 7))
    ((1000,), (1024, 7, 7))
    """
    seeds = seed_stream(seed)
    layers, C = [("conv1", conv_bn(3, 32, 3, 2, seeds=seeds, dtype=dtype))], 32
    for i, (M, stride) in enumerate(MOBILENET_V1_CFG, start=1):
        layers.append((f"sep{i}", depthwise_separable(C, M, stride, seeds=seeds, dtype=dtype)))
        C = M
    return Sequential(*layers, ("avgpool", GlobalAvgPool2d()),
                      ("fc", Linear(C, classes, seed=next(seeds), dtype=dtype)))


def inverted_residual(C, M, stride, t, *, seeds, dtype=np.float32):
    """MobileNet v2's bottleneck block: expand 1x1 (t C channels), depthwise 3x3, linear 1x1 to M.

    Parameters
    ----------
    C, M : int
        Input and output channels.
    stride : int
        Of the depthwise CONV.
    t : int
        Expansion factor; with t = 1 there is no expanding 1x1 CONV.
    seeds : iterator of int
    dtype : float32 or float64

    Returns
    -------
    Residual or Sequential
        A Residual (main + x, no activation after the sum) where stride = 1 and C = M, else the
        main path alone. Input (N, C, H, W), output (N, M, H / stride, W / stride).
    """
    hidden = C * t
    layers = [("expand", conv_bn(C, hidden, 1, seeds=seeds, dtype=dtype))] if t != 1 else []
    layers += [("dw", conv_bn(hidden, hidden, 3, stride, groups=hidden, seeds=seeds, dtype=dtype)),
               ("project", conv_bn(hidden, M, 1, act=False, seeds=seeds, dtype=dtype))]
    main = Sequential(*layers)
    return Residual(main, activation=None) if stride == 1 and C == M else main


def mobilenet_v2(*, classes=1000, seed=0, dtype=np.float32):
    """MobileNet v2, width 1.0, on a 224x224x3 input (Sandler et al. 2018, Table 2; torchvision's).

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
        Input (N, 3, 224, 224), output (N, classes). Names: conv1, block1 .. block17, conv_last
        (1x1 to 1280 channels), avgpool, dropout, fc.

    Examples
    --------
    >>> mobilenet_v2().output_shape((3, 224, 224))
    (1000,)
    """
    seeds = seed_stream(seed)
    layers, C = [("conv1", conv_bn(3, 32, 3, 2, seeds=seeds, dtype=dtype))], 32
    for t, M, repeats, first_stride in MOBILENET_V2_CFG:
        for i in range(repeats):
            block = inverted_residual(C, M, first_stride if i == 0 else 1, t, seeds=seeds, dtype=dtype)
            layers.append((f"block{len(layers)}", block))
            C = M
    return Sequential(*layers, ("conv_last", conv_bn(C, 1280, 1, seeds=seeds, dtype=dtype)),
                      ("avgpool", GlobalAvgPool2d()), ("dropout", Dropout(0.2, seed=next(seeds))),
                      ("fc", Linear(1280, classes, seed=next(seeds), dtype=dtype)))
