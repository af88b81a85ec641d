"""Optional: cnnlib against PyTorch and the counting tools torchinfo, fvcore and ptflops.

torch is never a dependency of the course, so this whole module skips where torch is not
installed (CI); the counting tests also skip without their tool. To run everything, in a
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
    if isinstance(m, nn.Concat):  # before Sequential, its base class
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
