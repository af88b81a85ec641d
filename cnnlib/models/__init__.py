"""Famous CNNs, one definition each, built from ``cnnlib.nn`` layer objects.

The same model object runs forward (random or given float32 weights), is counted
(``cnnlib.counting``) and is mapped onto hardware (``cnnlib.counting.conv_layers``):

>>> from cnnlib import models
>>> net = models.get("alexnet")
>>> net.output_shape(models.input_shape("alexnet"))
(1000,)

Modules: ``lenet`` (LeNet-5, full and sparse C3), ``alexnet``, ``vgg`` (VGG-16/19),
``googlenet`` (Inception v1), ``resnet`` (ResNet-18/34/50/101/152, v1 and v1.5), and the
compact networks ``mobilenet`` (v1, v2), ``squeezenet`` (1_0, 1_1), ``shufflenet`` (v2 x1.0).
"""

from __future__ import annotations

from functools import partial

from .alexnet import alexnet
from .googlenet import INCEPTION_CFG, googlenet, inception
from .lenet import C3_CONNECTIONS, lenet5
from .mobilenet import MOBILENET_V1_CFG, MOBILENET_V2_CFG, mobilenet_v1, mobilenet_v2
from .resnet import RESNET_CFG, depth, resnet, resnet_from_cfg
from .shufflenet import SHUFFLENET_V2_CFG, shufflenet_v2
from .squeezenet import SQUEEZENET_CFG, squeezenet, squeezenet1_0, squeezenet1_1
from .vgg import VGG_CFG, vgg, vgg16, vgg19

# name -> (builder, per-sample input shape (C, H, W), one-line description)
_MODELS = {
    "lenet5": (lenet5, (1, 32, 32), "LeNet-5 (1998) as the slide draws it, C3 fully connected"),
    "lenet5_sparse": (partial(lenet5, sparse_c3=True), (1, 32, 32),
                      "LeNet-5 with the 1998 paper's sparse C3 connection table"),
    "alexnet": (alexnet, (3, 227, 227), "AlexNet (2012), two GPU groups, LRN"),
    "vgg16": (vgg16, (3, 224, 224), "VGG-16 (2014), configuration D"),
    "vgg19": (vgg19, (3, 224, 224), "VGG-19 (2014), configuration E"),
    "googlenet": (googlenet, (3, 224, 224), "GoogLeNet / Inception v1 (2014), no aux classifiers"),
    **{
        f"resnet{n}": (partial(resnet, n), (3, 224, 224),
                       f"ResNet-{n} (2015), {kind} blocks, cfg {list(cfg)}")
        for n, (kind, cfg) in RESNET_CFG.items()
    },
    "mobilenet_v1": (mobilenet_v1, (3, 224, 224), "MobileNet v1 (2017), width 1.0, depthwise separable"),
    "mobilenet_v2": (mobilenet_v2, (3, 224, 224), "MobileNet v2 (2018), width 1.0, inverted residuals"),
    "squeezenet1_0": (squeezenet1_0, (3, 224, 224), "SqueezeNet v1.0 (2016), fire modules"),
    "squeezenet1_1": (squeezenet1_1, (3, 224, 224), "SqueezeNet v1.1 (2016), 2.4x fewer MACs than v1.0"),
    "shufflenet_v2": (shufflenet_v2, (3, 224, 224), "ShuffleNet v2 (2018), x1.0, channel split and shuffle"),
}


def names() -> list[str]:
    """The model names :func:`get` knows, smallest network first.

    Examples
    --------
    >>> names()[:3]
    ['lenet5', 'lenet5_sparse', 'alexnet']
    """
    return list(_MODELS)


def _entry(name):
    if name not in _MODELS:
        raise ValueError(f"model name must be one of {', '.join(_MODELS)}; got {name!r}")
    return _MODELS[name]


def get(name: str, **kwargs):
    """Build the model ``name`` (see :func:`names`); keyword arguments go to its builder.

    For example ``get("resnet50", variant="v1.5")`` or ``get("vgg16", dtype=np.float64)``.
    """
    return _entry(name)[0](**kwargs)


def input_shape(name: str) -> tuple[int, int, int]:
    """The per-sample input shape (C, H, W) the model ``name`` is defined for."""
    return _entry(name)[1]


def describe(name: str) -> str:
    """A one-line description of the model ``name``."""
    return _entry(name)[2]


__all__ = [
    "C3_CONNECTIONS", "INCEPTION_CFG", "MOBILENET_V1_CFG", "MOBILENET_V2_CFG", "RESNET_CFG",
    "SHUFFLENET_V2_CFG", "SQUEEZENET_CFG", "VGG_CFG", "alexnet", "depth", "describe", "get",
    "googlenet", "inception", "input_shape", "lenet5", "mobilenet_v1", "mobilenet_v2", "names",
    "resnet", "resnet_from_cfg", "shufflenet_v2", "squeezenet", "squeezenet1_0", "squeezenet1_1",
    "vgg", "vgg16", "vgg19",
]
