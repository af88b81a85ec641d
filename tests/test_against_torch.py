"""Optional: cnnlib against PyTorch, torchvision's networks and the counting tools torchinfo,
fvcore and ptflops.

torch is never a dependency of the course, so this whole module skips where torch is not
installed (CI); the torchvision and counting tests also skip without their package. The
torchvision cross-checks (3. below) run in their own environment::

    python3 -m venv /tmp/tvenv
    /tmp/tvenv/bin/pip install torch==2.14.1 torchvision==0.29.1
    /tmp/tvenv/bin/pip install -e . pytest hypothesis scipy
    /tmp/tvenv/bin/python -m pytest tests/test_against_torch.py -q -k torchvision

Last run there: 9 passed in 49 s (torch 2.14.1, torchvision 0.29.1, numpy 2.4.6, Python 3.11);
the whole module, without the counting tools, 39 passed and 62 skipped in 101 s. To run everything, in a
separate environment (it keeps the project's .venv lean)::

    python3 -m venv /tmp/xvenv
    /tmp/xvenv/bin/pip install torch==2.13.0 torchinfo fvcore ptflops pytest hypothesis scipy
    /tmp/xvenv/bin/pip install -e .
    /tmp/xvenv/bin/pytest tests/test_against_torch.py

Last run, every test passing, with torch 2.13.0+cpu, torchinfo 1.8.0, fvcore 0.1.5.post20221221
and ptflops 0.7.5 (numpy 2.4.6, Python 3.11).

1. Forward pass. ``to_torch`` (here, not in cnnlib) turns a cnnlib module tree into torch.nn
   modules on the same weights with the same settings. In float64, with random weights, biases
   and batch-norm statistics, every leaf layer's output of each famous network agrees with
   cnnlib's, in shape (also with ``Module.layers``) and in value. LeNet-5's sparse C3 becomes a
   dense ``Conv2d``: cnnlib holds the unconnected weights at zero, so the outputs agree (but the
   tools then count all 96 filter-map pairs).
2. Counting. The tools' rules in tests/test_counting.py (``TOOL_RULES``, which follow
   ``Convention``'s Notes) and the numbers recorded there (``SINGLE_LAYERS``, ``NETWORKS``)
   against the running tools: per layer (torchinfo's table, fvcore's ``by_module``), by operator
   (fvcore), in total, and ptflops' two backends. On CONV and FC layers the numbers are the
   presets' (``CONVENTIONS``); test_counting.py checks, without torch, that the rules add up to
   the recorded totals and that the presets are exact on CONV and FC layers.
3. torchvision. ``to_torch`` cannot see a layer that cnnlib builds differently from the
   published network, since it translates cnnlib's own definition. So torchvision builds each
   network it also has from its own code, with random weights (``weights=None``, no download):
   MobileNet v2, SqueezeNet 1.0 and 1.1, ShuffleNet v2 x1.0, VGG-16, ResNet-18 and ResNet-50
   (v1.5, torchvision's) agree in parameter count, in every CONV, FC and batch-norm layer in
   execution order (weight shapes, bias, stride, padding, groups, eps) and, with torchvision's
   weights and non-trivial batch-norm statistics loaded into cnnlib's model
   (``Module.load_state``), in their float64 logits. AlexNet and GoogLeNet are the papers' in
   cnnlib and not in torchvision: their tests compare what is comparable and say why.
"""

import contextlib
import io
import math
from collections import OrderedDict

import numpy as np
import pytest
from numpy.testing import assert_allclose
from test_counting import NETWORKS, SINGLE_LAYERS, TOOL_RULES  # the tools' rules and recorded numbers

from cnnlib import models, nn
from cnnlib.counting import summary

torch = pytest.importorskip("torch")
tnn = torch.nn

N = 2  # batch of most forward passes and of torchinfo's and fvcore's counts


# -- the translator ---------------------------------------------------------------------------


class Concat(tnn.Module):
    """cnnlib.nn.Concat: every branch sees the input, outputs concatenated along channels."""

    def __init__(self, branches):
        super().__init__()
        for name, branch in branches:
            self.add_module(name, branch)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.children()], dim=1)


class Residual(tnn.Module):
    """cnnlib.nn.Residual: act(main(x) + shortcut(x)), the shortcut x itself if None."""

    def __init__(self, main, shortcut, act):
        super().__init__()
        self.main, self.shortcut, self.act = main, shortcut, act

    def forward(self, x):
        y = self.main(x) + (x if self.shortcut is None else self.shortcut(x))
        return y if self.act is None else self.act(y)


class GlobalAvgPool(tnn.Module):
    """cnnlib.nn.GlobalAvgPool2d: torchvision's adaptive average pool to 1x1, flattened."""

    def forward(self, x):
        return torch.flatten(tnn.functional.adaptive_avg_pool2d(x, 1), 1)


class ChannelSlice(tnn.Module):
    """cnnlib.nn.ChannelSlice: channels start:stop (torchvision's ShuffleNet v2 uses x.chunk(2, dim=1))."""

    def __init__(self, start, stop):
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x):
        return torch.narrow(x, 1, self.start, self.stop - self.start)


ACTIVATIONS = {"relu": tnn.ReLU, "relu6": tnn.ReLU6, "sigmoid": tnn.Sigmoid, "tanh": tnn.Tanh,
               "leaky_relu": lambda alpha=0.1: tnn.LeakyReLU(alpha), "elu": lambda alpha=1.0: tnn.ELU(alpha)}


def _shared(array):
    """A torch parameter on the same memory as the cnnlib array (no copy)."""
    return tnn.Parameter(torch.from_numpy(array), requires_grad=False)


def _weighted(layer, module_class, *args, **kwargs):
    """A torch Conv2d or Linear on the cnnlib layer's weights (skipping torch's own initialisation)."""
    module = tnn.utils.skip_init(module_class, *args, bias=layer.b is not None, **kwargs)
    module.weight = _shared(layer.w)
    if layer.b is not None:
        module.bias = _shared(layer.b)
    return module


def to_torch(m):
    """torch.nn modules that compute what the cnnlib module ``m`` computes (inference), same names."""
    if isinstance(m, nn.Concat):
        return Concat([(name, to_torch(c)) for name, c in m.children()])
    if isinstance(m, nn.Sequential):
        return tnn.Sequential(OrderedDict((name, to_torch(c)) for name, c in m.children()))
    if isinstance(m, nn.Residual):
        return Residual(to_torch(m.main), m.shortcut and to_torch(m.shortcut), m.act and to_torch(m.act))
    if isinstance(m, nn.Conv2d):  # a sparse connection table is in the weights (zeros)
        return _weighted(m, tnn.Conv2d, m.C, m.M, (m.R, m.S), stride=m.stride, padding=m.padding,
                         dilation=m.dilation, groups=m.groups)
    if isinstance(m, nn.Linear):
        return _weighted(m, tnn.Linear, m.K, m.M)
    if isinstance(m, nn.MaxPool2d):  # pads with -inf; rounds sizes down unless ceil_mode (SqueezeNet)
        return tnn.MaxPool2d(m.size, m.stride, m.padding, ceil_mode=m.ceil_mode)
    if isinstance(m, nn.GlobalAvgPool2d):
        return GlobalAvgPool()
    if isinstance(m, nn.ChannelShuffle):
        return tnn.ChannelShuffle(m.groups)
    if isinstance(m, nn.ChannelSlice):
        return ChannelSlice(m.start, m.stop)
    if isinstance(m, nn.AvgPool2d):  # cnnlib's padding zeros count in the mean
        return tnn.AvgPool2d(m.size, m.stride, m.padding, ceil_mode=False, count_include_pad=True)
    if isinstance(m, nn.BatchNorm2d):  # inference: cnnlib's running statistics and eps
        bn = tnn.BatchNorm2d(m.C, eps=m.eps, momentum=m.momentum)
        bn.weight, bn.bias = _shared(m.gamma), _shared(m.beta)
        bn.running_mean, bn.running_var = torch.from_numpy(m.running_mean), torch.from_numpy(m.running_var)
        return bn
    if isinstance(m, nn.LocalResponseNorm):  # torch divides alpha by size, the paper (and cnnlib) do not
        return tnn.LocalResponseNorm(m.size, alpha=m.alpha * m.size, beta=m.beta, k=m.k)
    if isinstance(m, nn.Activation):
        return ACTIVATIONS[m.kind](**m.kwargs)
    if isinstance(m, nn.Dropout):  # the identity at inference, as in cnnlib
        return tnn.Dropout(m.p)
    if isinstance(m, nn.Flatten):  # both flatten (C, H, W) in C order
        return tnn.Flatten()
    raise TypeError(f"no torch translation for {m!r}")


# -- forward equivalence ----------------------------------------------------------------------


def leaves(module):
    """The leaf layers of a cnnlib module tree."""
    children = module.children()
    if not children:
        yield module
    for _, child in children:
        yield from leaves(child)


def weight_shape(layer):
    """(M, C/groups, R, S) of a Conv2d, (M, K) of a Linear."""
    if isinstance(layer, nn.Conv2d):
        return (layer.M, layer.C // layer.groups, layer.R, layer.S)
    return (layer.M, layer.K)


def randomize_state(model, seed=0):
    """Draw every parameter and buffer of a float64 model (cnnlib starts biases, beta and the running
    statistics at 0 and gamma at 1, which would hide mistakes).

    Weights He-normal (a sparse connection table keeps its zeros), biases, beta and running means
    N(0, 0.1^2), gamma and running variances uniform in [0.5, 1.5].
    """
    rng = np.random.default_rng(seed)
    for layer in leaves(model):
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            shape = weight_shape(layer)
            w = rng.standard_normal(shape)
            w *= np.sqrt(2 / math.prod(shape[1:]))
            if getattr(layer, "mask", None) is not None:
                w *= layer.mask
            layer.w = w
            if layer.b is not None:
                layer.b = rng.normal(0, 0.1, layer.M)
        elif isinstance(layer, nn.BatchNorm2d):
            layer.gamma[...], layer.running_var[...] = rng.uniform(0.5, 1.5, (2, layer.C))
            layer.beta[...], layer.running_mean[...] = rng.normal(0, 0.1, (2, layer.C))
    assert all(a.dtype == np.float64 for a in model.state().values())
    return model


def cnnlib_outputs(model, x):
    """Every leaf layer's output of ``model(x)``, by qualified name, and the model's output."""
    outputs, leaves = {}, [(name, layer) for name, layer, _, _ in model.layers(x.shape[1:])]

    def recording(name, forward):
        def forward_and_record(x):
            outputs[name] = y = forward(x)
            return y
        return forward_and_record

    for name, layer in leaves:
        layer.forward = recording(name, layer.forward)  # Module.__call__ looks up self.forward
    try:
        y = model(x)
    finally:
        for _, layer in leaves:
            del layer.forward
    return outputs, y


def torch_outputs(module, x):
    """Every leaf module's output of ``module(x)`` (inference), by qualified name, and the output."""
    outputs = {}
    handles = [leaf.register_forward_hook(lambda _m, _i, y, name=name: outputs.__setitem__(name, y.numpy()))
               for name, leaf in module.named_modules() if not list(leaf.children())]
    try:
        with torch.no_grad():
            y = module.eval()(torch.from_numpy(x))
    finally:
        for h in handles:
            h.remove()
    return outputs, y.numpy()


def assert_same_forward(model, x):
    """Shapes and values of every leaf's output, cnnlib against torch, in float64."""
    model.eval()
    ours, y = cnnlib_outputs(model, x)
    theirs, y_torch = torch_outputs(to_torch(model), x)
    layers = list(model.layers(x.shape[1:]))
    assert list(ours) == [name for name, *_ in layers]
    assert set(theirs) == set(ours)
    for name, _, _, out_shape in layers:
        assert ours[name].shape == theirs[name].shape == (x.shape[0], *out_shape), name
        scale = np.abs(theirs[name]).max()
        assert_allclose(ours[name], theirs[name], rtol=1e-9, atol=1e-12 * scale, err_msg=name)
    assert_allclose(y, y_torch, rtol=1e-9, atol=1e-12 * np.abs(y_torch).max())


@pytest.mark.parametrize(
    "name, kwargs, batch",
    [
        ("lenet5", {}, N),
        ("lenet5", {"activation": "sigmoid"}, N),
        ("lenet5_sparse", {}, N),
        ("alexnet", {}, N),
        ("vgg16", {}, 1),  # one image for the big ones: keeps the module under a minute
        ("googlenet", {}, N),  # its 3x3/2 max pools round 112 + 2 - 3 = 111 / 2 down: 56, not 57
        ("resnet18", {}, N),
        ("resnet50", {"variant": "v1"}, 1),
        ("resnet50", {"variant": "v1.5"}, 1),
        ("mobilenet_v1", {}, 1),
        ("mobilenet_v2", {}, 1),
        ("squeezenet1_0", {}, 1),  # its max pools round up (ceil_mode), 109 -> 54 -> 27 -> 13
        ("squeezenet1_1", {}, 1),
        ("shufflenet_v2", {}, 1),
    ],
    ids=lambda v: v if isinstance(v, str) else ",".join(map(str, v.values())) if isinstance(v, dict) else None,
)
def test_famous_networks_forward_like_torch(name, kwargs, batch):
    model = randomize_state(models.get(name, dtype=np.float64, **kwargs))
    x = np.random.default_rng(1).standard_normal((batch, *models.input_shape(name)))
    assert_same_forward(model, x)


@pytest.mark.parametrize(
    "layer, in_shape",
    [
        (nn.Conv2d(4, 6, 3, stride=(2, 1), padding=(1, 2), dilation=(2, 1)), (4, 11, 9)),
        (nn.Conv2d(6, 4, 2, 3, groups=2, bias=False), (6, 7, 8)),
        (nn.MaxPool2d(3, 2, 1), (3, 10, 9)),
        (nn.MaxPool2d((2, 3), (1, 2)), (3, 7, 8)),
        (nn.AvgPool2d(3, 2, 1), (3, 10, 9)),
        (nn.LocalResponseNorm(4, alpha=0.3, beta=0.6, k=1.5), (7, 3, 3)),
        (nn.BatchNorm2d(5, eps=1e-3, dtype=np.float64), (5, 4, 4)),
        (nn.LeakyReLU(0.2), (3, 4, 4)),
        (nn.ELU(0.7), (3, 4, 4)),
        (nn.ReLU6(), (3, 4, 4)),
        (nn.MaxPool2d(3, 2, ceil_mode=True), (3, 8, 9)),
        (nn.MaxPool2d(3, 2, 1, ceil_mode=True), (3, 8, 9)),
        (nn.MaxPool2d((3, 2), (3, 3), (1, 1), ceil_mode=True), (3, 10, 8)),
        (nn.Sequential(nn.ChannelShuffle(3), nn.ChannelSlice(2, 5), nn.GlobalAvgPool2d()), (6, 3, 4)),
        (nn.Sequential(nn.Flatten(), nn.Linear(48, 5), nn.Dropout(0.3)), (3, 4, 4)),
    ],
    ids=repr,
)
def test_layer_settings_forward_like_torch(layer, in_shape):
    model = randomize_state(nn.Sequential(("layer", layer)))
    x = np.random.default_rng(2).standard_normal((N, *in_shape))
    assert_same_forward(model, x)


def test_translator_refuses_what_it_does_not_know():
    with pytest.raises(TypeError, match="no torch translation"):
        to_torch(nn.Module())


# -- against torchvision's own definitions ----------------------------------------------------
# to_torch translates cnnlib's definition, so it cannot see a layer that cnnlib builds wrong.
# Here torchvision builds each network from its own code (weights=None: random, no download).

WEIGHTED = ((nn.Conv2d, tnn.Conv2d), (nn.Linear, tnn.Linear), (nn.BatchNorm2d, tnn.BatchNorm2d))

# cnnlib name (and builder kwargs) -> torchvision builder, batch (one image for the big ones)
TORCHVISION_TWINS = {
    "mobilenet_v2": ("mobilenet_v2", {}, N),
    "squeezenet1_0": ("squeezenet1_0", {}, N),
    "squeezenet1_1": ("squeezenet1_1", {}, N),
    "shufflenet_v2": ("shufflenet_v2_x1_0", {}, N),
    "vgg16": ("vgg16", {}, 1),
    "resnet18": ("resnet18", {}, N),
    "resnet50": ("resnet50", {"variant": "v1.5"}, 1),  # torchvision's ResNet-50 is v1.5
}


def torchvision_model(builder, **kwargs):
    """torchvision's ``builder`` with random weights (seeded, no download), float64, inference mode.

    Its initialisation leaves biases, beta and the running statistics at 0 (gamma, running
    variances at 1), which would hide a bias or a statistic copied to the wrong place: these are
    redrawn, biases, beta and running means N(0, 0.1^2), gamma and running variances uniform in
    [0.5, 1.5].
    """
    tv_models = pytest.importorskip("torchvision.models")
    torch.manual_seed(0)
    module = getattr(tv_models, builder)(weights=None, **kwargs).double().eval()
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (tnn.Conv2d, tnn.Linear)) and m.bias is not None:
                m.bias.normal_(0, 0.1)
            elif isinstance(m, tnn.BatchNorm2d):
                for statistic in (m.weight, m.running_var):
                    statistic.uniform_(0.5, 1.5)
                for statistic in (m.bias, m.running_mean):
                    statistic.normal_(0, 0.1)
    return module


def torch_run(module, x):
    """``module(x)`` (inference) and its Conv2d, Linear and BatchNorm2d modules in the order it runs them."""
    order = []
    handles = [m.register_forward_hook(lambda m, _i, _y: order.append(m))
               for m in module.modules() if isinstance(m, tuple(t for _, t in WEIGHTED))]
    try:
        with torch.no_grad():
            y = module(torch.from_numpy(x))
    finally:
        for h in handles:
            h.remove()
    return y.numpy(), order


def weighted_leaves(model, in_shape):
    """(qualified name, leaf) of cnnlib's Conv2d, Linear and BatchNorm2d layers in execution order."""
    return [(name, layer) for name, layer, _, _ in model.layers(in_shape)
            if isinstance(layer, tuple(c for c, _ in WEIGHTED))]


def settings(layer):
    """What fixes a layer's weights and arithmetic, cnnlib's or torch's, in the same form."""
    if isinstance(layer, tnn.Conv2d):
        return ("conv", tuple(layer.weight.shape), layer.bias is not None, layer.stride, layer.padding,
                layer.groups)
    if isinstance(layer, nn.Conv2d):
        return ("conv", weight_shape(layer), layer.b is not None, layer.stride, layer.padding, layer.groups)
    if isinstance(layer, tnn.Linear):
        return ("fc", tuple(layer.weight.shape), layer.bias is not None)
    if isinstance(layer, nn.Linear):
        return ("fc", weight_shape(layer), layer.b is not None)
    return ("bn", layer.num_features if isinstance(layer, tnn.BatchNorm2d) else layer.C, layer.eps)


def torch_state(name, module):
    """cnnlib state names -> arrays of the torch module that corresponds to cnnlib's leaf ``name``."""
    if isinstance(module, tnn.BatchNorm2d):
        pairs = {"gamma": module.weight, "beta": module.bias, "running_mean": module.running_mean,
                 "running_var": module.running_var}
    else:
        pairs = {"w": module.weight, "b": module.bias}
    return {f"{name}.{key}": value.detach().numpy() for key, value in pairs.items() if value is not None}


def load_from_torch(model, pairs):
    """Copy every torch module's parameters and buffers into its cnnlib twin (``Module.load_state``)."""
    arrays = {}
    for (name, _), module in pairs:
        arrays.update(torch_state(name, module))
    model.load_state(arrays)
    assert set(arrays) == set(model.state())


def assert_close_logits(y, y_torch):
    """Logits within float64 tolerances; the max abs and rel differences go to the test's output."""
    scale = np.abs(y_torch).max()
    diff = np.abs(y - y_torch)
    print(f"max |diff| {diff.max():.3g}, max |diff| / max |logit| {diff.max() / scale:.3g}")
    assert_allclose(y, y_torch, rtol=1e-9, atol=1e-12 * scale)


@pytest.mark.parametrize("name", TORCHVISION_TWINS)
def test_networks_match_torchvision(name):
    """Same parameter count, the same CONV, FC and batch-norm layers (weight shapes, bias, stride,
    padding, groups, eps) in execution order, and on torchvision's random weights the same logits."""
    builder, kwargs, batch = TORCHVISION_TWINS[name]
    module = torchvision_model(builder)
    model = models.get(name, dtype=np.float64, **kwargs).eval()
    in_shape = models.input_shape(name)
    assert sum(p.numel() for p in module.parameters()) == sum(a.size for a in model.parameters().values())
    x = np.random.default_rng(3).standard_normal((batch, *in_shape))
    y_torch, order = torch_run(module, x)
    ours = weighted_leaves(model, in_shape)
    assert [settings(layer) for _, layer in ours] == [settings(m) for m in order]
    load_from_torch(model, list(zip(ours, order, strict=True)))
    assert_close_logits(model(x), y_torch)


def test_alexnet_against_torchvision():
    """torchvision's AlexNet is not the paper's, and cnnlib's is: it follows Krizhevsky's "One weird
    trick" paper (2014), with 64, 192, 384, 256, 256 filters, no groups, no LRN, conv1 padded by 2
    for 224x224 inputs, and dropout before fc6 and fc7 (cnnlib: before fc7 and fc8). Comparable:
    the kernel sizes and strides of the five CONV layers, and the classifier (fc6-fc8 on
    256 x 6 x 6 features) in shapes, parameters and logits."""
    module = torchvision_model("alexnet")
    model = models.get("alexnet", dtype=np.float64).eval()
    _, order = torch_run(module, np.zeros((1, 3, 224, 224)))
    ours = weighted_leaves(model, models.input_shape("alexnet"))
    convs = [((layer.R, layer.S), layer.stride) for _, layer in ours if isinstance(layer, nn.Conv2d)]
    assert convs == [(m.kernel_size, m.stride) for m in order if isinstance(m, tnn.Conv2d)]
    assert [m.out_channels for m in order if isinstance(m, tnn.Conv2d)] == [64, 192, 384, 256, 256]
    assert not any(isinstance(m, tnn.LocalResponseNorm) for m in module.modules())
    fcs = [(name, layer) for name, layer in ours if isinstance(layer, nn.Linear)]
    linears = [m for m in order if isinstance(m, tnn.Linear)]
    assert [settings(layer) for _, layer in fcs] == [settings(m) for m in linears]
    children = model.children()
    head = nn.Sequential(*children[[name for name, _ in children].index("flatten"):])  # flatten .. fc8
    load_from_torch(head, list(zip(fcs, linears, strict=True)))
    assert sum(p.numel() for m in linears for p in m.parameters()) == sum(a.size for a in head.parameters().values())
    features = np.random.default_rng(4).standard_normal((N, 256, 6, 6))
    with torch.no_grad():
        y_torch = module.classifier(torch.flatten(module.avgpool(torch.from_numpy(features)), 1)).numpy()
    assert_close_logits(head(features), y_torch)


def fold(conv, bn):
    """The weights and biases of one CONV that computes torch's bn(conv(x)) at inference."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    w = conv.weight * scale[:, None, None, None]
    b = bn.bias - bn.running_mean * scale + (0 if conv.bias is None else conv.bias * scale)
    return w.detach().numpy(), b.detach().numpy()


def test_googlenet_against_torchvision():
    """cnnlib's GoogLeNet is the paper's (Table 1 and Figure 3); torchvision's differs on purpose in
    four ways: batch norm after every CONV (without bias) and no LRN, a 3x3 CONV where the paper's
    third inception branch has a 5x5, max pools that round up (ceil_mode) where cnnlib pads by 1
    (same sizes, windows shifted by one pixel), and a 2x2 pool4. So the whole network's logits
    cannot agree. Comparable: all 57 CONV layers and the FC layer in execution order (filters,
    channels, stride, groups; kernel and padding except the 5x5 branch), the parameter count once
    those differences are accounted for, and each inception module's 1x1, 3x3 and pool branches in
    value, with torchvision's batch norms folded into cnnlib's CONV weights and biases."""
    module = torchvision_model("googlenet", aux_logits=False, init_weights=True)
    model = models.get("googlenet", dtype=np.float64).eval()
    _, order = torch_run(module, np.zeros((1, 3, 224, 224)))
    ours = weighted_leaves(model, models.input_shape("googlenet"))
    theirs = [m for m in order if not isinstance(m, tnn.BatchNorm2d)]
    assert len(ours) == len(theirs) == 58 and settings(ours[-1][1]) == settings(theirs[-1])
    five = 0  # parameters the 5x5 filters add to torchvision's 3x3 ones
    for (name, layer), m in zip(ours[:-1], theirs[:-1], strict=True):
        kind, shape, _, stride, padding, groups = settings(m)
        if name.endswith("5x5.conv"):
            assert (shape[2:], padding) == ((3, 3), (1, 1)), name
            shape, padding, five = (*shape[:2], 5, 5), (2, 2), five + math.prod(shape[:2]) * (25 - 9)
        assert settings(layer) == (kind, shape, True, stride, padding, groups), name
    bn_params = sum(p.numel() for m in order if isinstance(m, tnn.BatchNorm2d) for p in m.parameters())
    biases = sum(layer.M for _, layer in ours[:-1])
    tv_params = sum(p.numel() for p in module.parameters())
    assert sum(a.size for a in model.parameters().values()) == tv_params - bn_params + biases + five

    rng = np.random.default_rng(5)
    for (name, ours_module), size in zip([c for c in model.children() if c[0].startswith("inception")],
                                         (28, 28, 14, 14, 14, 14, 14, 7, 7), strict=True):
        theirs_module = getattr(module, name.replace("_", ""))
        C = ours_module["1x1"]["conv"].C
        x = rng.standard_normal((N, C, size, size))
        for branch, tv_branch in (("1x1", "branch1"), ("3x3", "branch2"), ("pool", "branch4")):
            ours_branch, theirs_branch = ours_module[branch], getattr(theirs_module, tv_branch)
            y_torch, tv_order = torch_run(theirs_branch, x)
            arrays = {}
            for (layer_name, _), conv, bn in zip(weighted_leaves(ours_branch, (C, size, size)),
                                                 tv_order[::2], tv_order[1::2], strict=True):
                arrays[f"{layer_name}.w"], arrays[f"{layer_name}.b"] = fold(conv, bn)
            ours_branch.load_state(arrays)
            scale = np.abs(y_torch).max()
            assert_allclose(ours_branch(x), y_torch, rtol=1e-9, atol=1e-12 * scale, err_msg=f"{name}.{branch}")


# -- counting against the tools ---------------------------------------------------------------

TOOLS = tuple(TOOL_RULES)  # torchinfo, fvcore, ptflops: the order of the recorded numbers


def torchinfo_macs(module, x):
    """torchinfo's total mult-adds, and each leaf's by qualified name."""
    torchinfo = pytest.importorskip("torchinfo")
    stats = torchinfo.summary(module, input_data=x, verbose=0, device="cpu")
    names = {id(m): name for name, m in module.named_modules()}
    leaves = {names[id(info.module)]: info.macs for info in stats.summary_list if info.is_leaf_layer}
    return stats.total_mult_adds, leaves


def fvcore_analysis(module, x):
    """fvcore's FlopCountAnalysis of module(x), its warnings off."""
    flop_count = pytest.importorskip("fvcore.nn")
    analysis = flop_count.FlopCountAnalysis(module.eval(), x)
    return analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)


def ptflops_macs(module, in_shape, **kwargs):
    """ptflops' get_model_complexity_info MACs, per image (it makes the batch of one itself)."""
    ptflops = pytest.importorskip("ptflops")
    with contextlib.redirect_stdout(io.StringIO()):
        macs, _ = ptflops.get_model_complexity_info(module, tuple(in_shape), as_strings=False,
                                                    print_per_layer_stat=False, **kwargs)
    assert macs is not None, "ptflops failed (it prints the exception and returns None)"
    return macs


def tool_macs(tool, module, in_shape):
    """What ``tool`` reports for ``module`` on N (ptflops: one) samples of ``in_shape``."""
    x = torch.zeros((N, *in_shape))
    if tool == "torchinfo":
        return torchinfo_macs(module, x)[0]
    if tool == "fvcore":
        return fvcore_analysis(module, x).total()
    return ptflops_macs(module, in_shape)


def expected(tool, model, in_shape):
    """Per leaf, by name: what the hand rules (Convention's Notes) say ``tool`` reports."""
    return {name: TOOL_RULES[tool](layer, s, N) for name, layer, s, _ in model.layers(in_shape)}


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("label, layer, in_shape, reported", SINGLE_LAYERS, ids=[c[0] for c in SINGLE_LAYERS])
def test_single_layers(tool, label, layer, in_shape, reported):
    """The recorded numbers are what the tool reports; on a CONV or FC layer they are the preset's."""
    model = nn.Sequential(("layer", layer))
    macs = tool_macs(tool, to_torch(model), in_shape)
    assert macs == reported[TOOLS.index(tool)] == TOOL_RULES[tool](layer, in_shape, N)
    if isinstance(layer, (nn.Conv2d, nn.Linear)):
        assert macs == summary(model, in_shape, N=N, convention=tool).total.macs


@pytest.mark.parametrize("label, layer, in_shape, reported", SINGLE_LAYERS, ids=[c[0] for c in SINGLE_LAYERS])
def test_ptflops_backends(label, layer, in_shape, reported):
    """The default backend is ``pytorch``; ``aten`` counts CONV and FC layers only, as the preset;
    without patched functionals, ``pytorch`` counts pooling and ReLU once and LRN not at all."""
    model = nn.Sequential(("layer", layer))
    module = to_torch(model)
    default = ptflops_macs(module, in_shape)
    assert default == ptflops_macs(module, in_shape, backend="pytorch") == reported[2]
    assert ptflops_macs(module, in_shape, backend="aten") == summary(model, in_shape, convention="ptflops").total.macs
    once = ptflops_macs(module, in_shape, backend="pytorch", backend_specific_config={"count_functional": False})
    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)) or getattr(layer, "kind", "") == "relu":
        assert once == default // 2
    else:
        assert once == (0 if isinstance(layer, nn.LocalResponseNorm) else default)


@pytest.fixture(scope="module")
def network():
    """name -> (cnnlib model, torch module), each built once, with zero weights: the tools count
    shapes, and drawing VGG-16's 138M random weights takes seconds."""
    built = {}

    def get(name):
        if name not in built:
            model = models.get(name)
            for layer in leaves(model):
                if isinstance(layer, (nn.Conv2d, nn.Linear)):
                    layer.w = np.zeros(weight_shape(layer), dtype=np.float32)
            built[name] = model, to_torch(model).eval()
        return built[name]

    return get


@pytest.mark.parametrize("name", NETWORKS)
def test_torchinfo_on_networks(network, name):
    model, module = network(name)
    in_shape = models.input_shape(name)
    total, per_leaf = torchinfo_macs(module, torch.zeros((N, *in_shape)))
    assert per_leaf == expected("torchinfo", model, in_shape)
    assert total == NETWORKS[name][0]


@pytest.mark.parametrize("name", NETWORKS)
def test_fvcore_on_networks(network, name):
    model, module = network(name)
    in_shape = models.input_shape(name)
    analysis = fvcore_analysis(module, torch.zeros((N, *in_shape)))
    rules = expected("fvcore", model, in_shape)
    by_module = analysis.by_module()
    assert {n: by_module[n] for n in rules} == rules
    layers = {name: layer for name, layer, _, _ in model.layers(in_shape)}
    by_kind = {kind: sum(v for n, v in rules.items() if isinstance(layers[n], cls))
               for kind, cls in (("conv", nn.Conv2d), ("linear", nn.Linear), ("batch_norm", nn.BatchNorm2d))}
    assert dict(analysis.by_operator()) == {kind: v for kind, v in by_kind.items() if v}
    unsupported = set(analysis.unsupported_ops())
    assert ("aten::max_pool2d" in unsupported) == any(isinstance(v, nn.MaxPool2d) for v in layers.values())
    assert "aten::relu" not in unsupported  # ignored, not reported
    assert analysis.total() == NETWORKS[name][1]


@pytest.mark.parametrize("name", NETWORKS)
def test_ptflops_on_networks(network, name):
    model, module = network(name)
    in_shape = models.input_shape(name)
    assert ptflops_macs(module, in_shape) == sum(expected("ptflops", model, in_shape).values()) == NETWORKS[name][2]
    assert ptflops_macs(module, in_shape, backend="aten") == NETWORKS[name][3]
