"""cnnlib.counting: output sizes, per-layer counts of every layer type, conventions and memory.

Expected values are computed by hand in the comments (exact integers).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib import models, nn
from cnnlib.counting import (
    CONVENTIONS,
    Convention,
    ConvShape,
    LayerCounts,
    conv_counts,
    conv_output_size,
    get_convention,
    memory_bytes,
    summary,
)
from cnnlib.layers import conv2d

# -- conv_output_size -------------------------------------------------------------------------


def test_lecture_output_sizes():
    assert conv_output_size(7, 3) == 5  # 7x7 input, 3x3 filter
    assert conv_output_size(7, 3, padding=1) == 7  # zero padding keeps 7x7
    assert conv_output_size(7, 3, stride=2) == 3  # stride 2 downsamples to 3x3
    assert conv_output_size(32, 5) == 28  # the worked example
    assert conv_output_size(227, 11, stride=4) == 55  # AlexNet conv1
    assert conv_output_size(7, 3, dilation=2) == 3  # a dilated 3x3 spans 5


def test_strict_explains_a_stride_that_does_not_fit():
    assert conv_output_size(7, 3, stride=2, strict=True) == 3  # (7 - 3) = 4 is a multiple of 2
    with pytest.raises(ValueError, match=r"stride=3 does not fit: .* = 4 is not a multiple .* last 1 row"):
        conv_output_size(7, 3, stride=3, strict=True)
    assert conv_output_size(7, 3, stride=3) == 2  # without strict: floor, the last row is skipped
    assert conv_output_size(224, 11, stride=4) == 54  # AlexNet on 224: (224 - 11) / 4 = 53.25
    with pytest.raises(ValueError, match=r"= 213 is not a multiple of the stride, so the last 1 row"):
        conv_output_size(224, 11, stride=4, strict=True)


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((3, 7), {}, ValueError, r"the filter \(R=7, dilation 1, spanning 7\) is larger than the padded input"),
        ((5, 3), {"dilation": 3}, ValueError, r"spanning 7\) is larger .* \(H=5 \+ 2 x padding 0 = 5\)"),
        ((5, 3), {"names": ("W", "S")}, None, None),
        ((3, 7), {"names": ("W", "S")}, ValueError, r"the filter \(S=7"),
        ((0, 1), {}, ValueError, "H must be >= 1; got 0"),
        ((5, 3), {"stride": 0}, ValueError, "stride must be >= 1; got 0"),
        ((5, 3), {"padding": -1}, ValueError, "padding must be >= 0; got -1"),
        ((5.0, 3), {}, TypeError, "H must be an int; got 5.0"),
        ((5, 3), {"dilation": True}, TypeError, "dilation must be an int; got True"),
    ],
)
def test_conv_output_size_checks(args, kwargs, exc, match):
    if exc is None:
        assert conv_output_size(*args, **kwargs) == 3
        return
    with pytest.raises(exc, match=match):
        conv_output_size(*args, **kwargs)


@st.composite
def size_cases(draw):
    R, D = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    P, U = draw(st.integers(0, 3)), draw(st.integers(1, 4))
    span = D * (R - 1) + 1
    H = draw(st.integers(max(1, span - 2 * P), 16))
    return H, R, P, U, D


@settings(max_examples=200, deadline=None)
@given(size_cases())
def test_output_size_agrees_with_conv2d_and_window_starts(case):
    H, R, P, U, D = case
    E = conv_output_size(H, R, P, U, D)
    x, w = np.zeros((1, 1, H, H + 1)), np.zeros((1, 1, R, R))
    assert conv2d(x, w, stride=U, padding=P, dilation=D).shape[2] == E
    span = D * (R - 1) + 1
    starts = range(0, H + 2 * P - span + 1, U)  # every window that fits in the padded input
    assert len(starts) == E


@settings(max_examples=200, deadline=None)
@given(size_cases())
def test_strict_raises_iff_the_last_window_misses_the_edge(case):
    H, R, P, U, D = case
    remainder = (H + 2 * P - D * (R - 1) - 1) % U
    if remainder:
        with pytest.raises(ValueError, match=f"the last {remainder} row"):
            conv_output_size(H, R, P, U, D, strict=True)
    else:
        assert conv_output_size(H, R, P, U, D, strict=True) == conv_output_size(H, R, P, U, D)


# -- ConvShape and per-layer counts -----------------------------------------------------------


def test_worked_example_counts():
    # 32x32x3 input, ten 5x5x3 filters: 750 weights + 10 biases = 760 parameters
    c = conv_counts(ConvShape(N=1, C=3, H=32, W=32, M=10, R=5, S=5))
    assert c == LayerCounts(weights=750, biases=10, macs=750 * 28 * 28, bias_adds=10 * 28 * 28,
                            input_activations=3 * 32 * 32, output_activations=10 * 28 * 28)
    assert c.params == 760 and c.macs == 588_000


def test_lecture_progression_of_macs():
    # (S x R) x (E x F) for one 2-D map, x C channels, x M filters, x N batch
    one_map = ConvShape(N=1, C=1, H=7, W=7, M=1, R=3, S=3)
    assert one_map.macs == (3 * 3) * (5 * 5) == 225
    assert ConvShape(N=1, C=4, H=7, W=7, M=1, R=3, S=3).macs == 225 * 4
    assert ConvShape(N=1, C=4, H=7, W=7, M=6, R=3, S=3).macs == 225 * 4 * 6
    batch = ConvShape(N=8, C=4, H=7, W=7, M=6, R=3, S=3)
    assert batch.macs == 225 * 4 * 6 * 8
    assert batch.weights == 6 * 3 * 3 * 4  # weights do not grow with N
    assert batch.output_activations == 8 * 6 * 5 * 5  # N x (M x E x F) stored outputs


def test_grouped_conv_alexnet_conv2():
    # 96 -> 256 channels, 5x5, pad 2, two groups (two GPUs): each filter is 48 deep
    shape = ConvShape(N=1, C=96, H=27, W=27, M=256, R=5, S=5, P=2, groups=2)
    c = conv_counts(shape)
    assert (shape.E, shape.F) == (27, 27)
    assert c.weights == 256 * 48 * 25 == 307_200  # the slide's "307K"
    assert c.macs == 307_200 * 27 * 27 == 223_948_800  # the slide's "224M"
    layer = nn.Conv2d(96, 256, 5, padding=2, groups=2)
    assert layer.counts((96, 27, 27)) == c


def test_sparse_connections_lenet_c3():
    # LeNet-5's C3: 16 filters over 6 maps, 60 of the 96 (filter, map) pairs connected
    table = np.zeros((16, 6), dtype=bool)
    for m in range(6):
        table[m, [(m + d) % 6 for d in range(3)]] = True
    for m in range(6, 12):
        table[m, [(m + d) % 6 for d in range(4)]] = True
    for m, skip in zip(range(12, 15), range(3), strict=True):
        table[m, [skip, skip + 1, (skip + 3) % 6, (skip + 4) % 6]] = True
    table[15] = True
    assert table.sum() == 60
    c = nn.Conv2d(6, 16, 5, connections=table).counts((6, 14, 14))
    assert (c.weights, c.biases) == (60 * 25, 16)  # 1,516 parameters, as in LeCun et al. 1998
    assert c.macs == 1500 * 10 * 10 and c.bias_adds == 1600  # 151,600 "connections"
    full = nn.Conv2d(6, 16, 5).counts((6, 14, 14))
    assert (full.weights, full.macs) == (2400, 240_000)


def test_fc_counts():
    # LeNet-5's F6: 120 -> 84
    c = nn.Linear(120, 84).counts((120,))
    assert c == LayerCounts(weights=10_080, biases=84, macs=10_080, bias_adds=84,
                            input_activations=120, output_activations=84)
    assert nn.Linear(120, 84, bias=False).counts((120,)).params == 10_080
    # the lecture's FC example: 32x32x3 stretched to 3072, 10 outputs
    assert conv_counts(ConvShape.fc(N=1, C=3, M=10, H=32, W=32)).weights == 10 * 3072


def test_pooling_counts():
    # 2x2 max pooling of 6 maps of 28x28: 3 compares per output
    c = nn.MaxPool2d(2).counts((6, 28, 28))
    assert c == LayerCounts(other_ops=6 * 14 * 14 * 3, input_activations=6 * 28 * 28,
                            output_activations=6 * 14 * 14)
    # 3x3 average pooling, stride 2 (overlapping, as in AlexNet): 8 adds per output
    c = nn.AvgPool2d(3, stride=2).counts((4, 13, 13))
    assert c.output_activations == 4 * 6 * 6 and c.other_ops == 4 * 36 * 8
    assert c.params == 0 and c.macs == 0


def test_batch_norm_activation_lrn_dropout_flatten_counts():
    assert nn.BatchNorm2d(4).counts((4, 8, 8)) == LayerCounts(
        other_params=8, other_ops=256, input_activations=256, output_activations=256)
    assert nn.ReLU().counts((4, 8, 8)) == LayerCounts(other_ops=256, input_activations=256,
                                                      output_activations=256)
    assert nn.LocalResponseNorm().counts((96, 55, 55)).other_ops == 96 * 55 * 55
    assert nn.Dropout().counts((4096,)) == LayerCounts(input_activations=4096, output_activations=4096)
    assert nn.Flatten().counts((4, 4, 4)) == LayerCounts()


def test_layer_counts_add():
    a = LayerCounts(weights=1, biases=2, other_params=3, macs=4, bias_adds=5, other_ops=6,
                    input_activations=7, output_activations=8)
    assert a + a == LayerCounts(2, 4, 6, 8, 10, 12, 14, 16)
    assert a.params == 6


# -- conventions ------------------------------------------------------------------------------

CONV = conv_counts(ConvShape(N=1, C=3, H=32, W=32, M=10, R=5, S=5))  # 588,000 MACs, 7,840 outputs


@pytest.mark.parametrize(
    "convention, N, macs, activations",
    [
        (Convention(), 1, 588_000, 7840),
        (Convention(), 4, 4 * 588_000, 4 * 7840),
        (Convention(bias_adds=True), 1, 588_000 + 7840, 7840),  # LeCun's connections
        (Convention(bias_adds=True), 4, 4 * (588_000 + 7840), 4 * 7840),
        (Convention(batch=False), 4, 588_000, 7840),
        (Convention(bias_adds=True, batch=False), 4, 595_840, 7840),
        (Convention(other_ops=True), 1, 588_000, 7840),  # a conv layer has no other ops
    ],
)
def test_convention_on_a_conv_layer(convention, N, macs, activations):
    assert convention.macs(CONV, N) == macs
    assert convention.activations(CONV, N) == activations


def test_convention_other_ops():
    pool = nn.MaxPool2d(2).counts((6, 28, 28))
    assert Convention().macs(pool) == 0
    assert Convention(other_ops=True).macs(pool, N=2) == 2 * 3528


# The tools' rules, written from their source independently of the presets (see Convention's
# Notes): what each tool reports for one cnnlib layer, torchinfo and fvcore for a batch of N,
# ptflops (its default pytorch backend) per image. tests/test_against_torch.py checks them
# against the running tools; the numbers below were recorded there.


def _spatial(layer, in_shape):
    out = layer.output_shape(in_shape)
    return out[1] * out[2] if len(out) == 3 else 1


def _torchinfo(layer, in_shape, N):
    """torchinfo's rule (layer_info.py): parameters x N x E x F for a conv, parameters x N otherwise."""
    params = sum(p.size for p in layer.parameters().values())  # batch norm: gamma and beta
    return params * N * (_spatial(layer, in_shape) if isinstance(layer, nn.Conv2d) else 1)


def _fvcore(layer, in_shape, N):
    """fvcore's rule (jit_handles.py): N x prod(w.shape) x E x F for a conv, no bias; Linear N x K x M;
    batch norm in inference with gamma and beta 2 per element; nothing else."""
    if isinstance(layer, (nn.Conv2d, nn.Linear)):
        return N * layer.w.size * _spatial(layer, in_shape)
    return 2 * N * int(np.prod(in_shape)) if isinstance(layer, nn.BatchNorm2d) else 0


def _ptflops(layer, in_shape, N):
    """ptflops' rule (pytorch_ops.py and the functionals it patches), per image."""
    n_in, spatial = int(np.prod(in_shape)), _spatial(layer, in_shape)
    if isinstance(layer, nn.Conv2d):  # R S C (M/groups) E F + M E F with a bias
        return layer.R * layer.S * layer.C * (layer.M // layer.groups) * spatial + (
            layer.M * spatial if layer.b is not None else 0)
    if isinstance(layer, nn.Linear):
        return layer.K * layer.M + (layer.M if layer.b is not None else 0)
    if isinstance(layer, nn.BatchNorm2d):  # with gamma and beta
        return 2 * n_in
    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):  # module hook + patched F.*_pool2d
        return 2 * n_in
    if isinstance(layer, nn.Activation):  # nn.ReLU and nn.ELU also call patched functionals
        return {"relu": 2, "elu": 2, "leaky_relu": 1}.get(layer.kind, 0) * n_in
    if isinstance(layer, nn.LocalResponseNorm):  # x.mul(x), .mul(alpha), .add(k); avg_pool3d on the
        C, H, W = in_shape  # input padded by size - 1 channels
        return 3 * n_in + (C + layer.size - 1) * H * W
    return 0


TOOL_RULES = {"torchinfo": _torchinfo, "fvcore": _fvcore, "ptflops": _ptflops}


@pytest.mark.parametrize("tool, rule", TOOL_RULES.items())
@pytest.mark.parametrize(
    "layer, in_shape",
    [
        (nn.Conv2d(3, 10, 5), (3, 32, 32)),
        (nn.Conv2d(96, 256, 5, padding=2, groups=2), (96, 27, 27)),
        (nn.Conv2d(4, 6, 3, stride=2, bias=False), (4, 9, 9)),
        (nn.Linear(120, 84), (120,)),
    ],
)
def test_named_conventions_reproduce_the_tools_on_conv_and_fc(tool, rule, layer, in_shape):
    for N in (1, 3):
        assert CONVENTIONS[tool].macs(layer.counts(in_shape), N) == rule(layer, in_shape, N)


# (label, layer, in_shape) -> (torchinfo, fvcore, ptflops) as the tools report them for N = 2:
# torchinfo 1.8.0, fvcore 0.1.5.post20221221, ptflops 0.7.5 (default backend), torch 2.13.0.
SINGLE_LAYERS = [
    ("conv", nn.Conv2d(3, 10, 5), (3, 32, 32), (1_191_680, 1_176_000, 595_840)),
    ("conv without bias", nn.Conv2d(4, 6, 3, stride=2, bias=False), (4, 9, 9), (6912, 6912, 3456)),
    ("grouped conv", nn.Conv2d(96, 256, 5, padding=2, groups=2), (96, 27, 27),
     (448_270_848, 447_897_600, 224_135_424)),
    ("fc", nn.Linear(120, 84), (120,), (20_328, 20_160, 10_164)),
    ("batch norm", nn.BatchNorm2d(4), (4, 8, 8), (16, 1024, 512)),
    ("max pool", nn.MaxPool2d(3, 2), (4, 13, 13), (0, 0, 1352)),
    ("padded max pool", nn.MaxPool2d(3, 2, 1), (4, 13, 13), (0, 0, 1352)),
    ("avg pool", nn.AvgPool2d(2), (6, 28, 28), (0, 0, 9408)),
    ("relu", nn.ReLU(), (4, 8, 8), (0, 0, 512)),
    ("tanh", nn.Tanh(), (4, 8, 8), (0, 0, 0)),
    ("lrn", nn.LocalResponseNorm(), (8, 5, 5), (0, 0, 900)),
]

# network -> (torchinfo, fvcore, ptflops, ptflops with backend="aten") for N = 2, same versions
NETWORKS = {
    "lenet5": (846_076, 833_040, 435_646, 423_038),
    "lenet5_sparse": (846_076, 833_040, 435_646, 423_038),  # the tools see a dense C3
    "alexnet": (1_450_132_176, 1_448_813_632, 729_346_320, 725_066_088),
    "vgg16": (30_967_642_064, 30_940_528_640, 15_523_175_400, 15_483_821_032),
    "resnet18": (3_628_167_888, 3_638_081_536, 1_825_313_768, 1_814_074_344),
    "googlenet": (3_171_798_064, 3_165_343_744, 1_601_439_480, 1_585_899_032),
}


@pytest.mark.parametrize("label, layer, in_shape, reported", SINGLE_LAYERS, ids=[c[0] for c in SINGLE_LAYERS])
def test_tool_rules_reproduce_the_recorded_layers(label, layer, in_shape, reported):
    assert tuple(rule(layer, in_shape, 2) for rule in TOOL_RULES.values()) == reported


@pytest.mark.parametrize("name", NETWORKS)
def test_tool_rules_and_presets_reproduce_the_recorded_networks(name):
    model, in_shape = models.get(name), models.input_shape(name)
    layers = list(model.layers(in_shape))
    torchinfo, fvcore, ptflops, ptflops_aten = NETWORKS[name]
    for tool, reported in (("torchinfo", torchinfo), ("fvcore", fvcore), ("ptflops", ptflops)):
        assert sum(TOOL_RULES[tool](layer, s, 2) for _, layer, s, _ in layers) == reported
    # ptflops' aten backend counts CONV and FC layers only: the preset, for the network the tool sees
    unconnected = (2400 - 1500) * 10 * 10 if name == "lenet5_sparse" else 0  # C3's zero weights x E x F
    assert summary(model, in_shape, N=2, convention="ptflops").total.macs + unconnected == ptflops_aten
    # the presets are exact on CONV and FC layers; the rest is what the tools count for the other layers
    for tool in TOOL_RULES:
        table = summary(model, in_shape, N=2, convention=tool)
        for row, (_, layer, s, _) in zip(table.rows, layers, strict=True):
            if row.kind and not (name == "lenet5_sparse" and row.name == "c3"):
                assert row.macs == TOOL_RULES[tool](layer, s, 2), (tool, row.name)


def test_the_ptflops_preset_is_its_aten_backend():
    # the small CNN of notebook 04: bias adds in, per image; ptflops' default backend adds 2 per
    # batch-norm, ReLU and pooling-input element (4,046,090 with ptflops 0.7.5)
    net = nn.Sequential(
        nn.Conv2d(3, 16, 5, padding=2), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 256), nn.ReLU(), nn.Linear(256, 10),
    )
    s = summary(net, (3, 32, 32), N=2, convention="ptflops")
    assert CONVENTIONS["ptflops"] == Convention(bias_adds=True, batch=False)
    assert s.total.macs == s.conv.macs + s.fc.macs == 3_881_738
    layers = list(net.layers((3, 32, 32)))
    assert sum(_ptflops(layer, shape, 2) for _, layer, shape, _ in layers) == 4_046_090


def test_get_convention():
    assert get_convention(None) == Convention()
    assert get_convention("lecun") == Convention(bias_adds=True)
    c = Convention(batch=False)
    assert get_convention(c) is c
    with pytest.raises(ValueError, match="convention must be a Convention or one of"):
        get_convention(Convention)


# -- memory -----------------------------------------------------------------------------------


def test_memory_bytes_by_dtype_and_batch():
    assert memory_bytes(CONV) == {"params": 760 * 4, "inputs": 3072 * 4, "outputs": 7840 * 4}
    assert memory_bytes(CONV, np.int8, N=10) == {"params": 760, "inputs": 30_720, "outputs": 78_400}
    assert memory_bytes(CONV, "float64")["params"] == 6080
    with pytest.raises(ValueError, match="N must be >= 1"):
        memory_bytes(CONV, N=0)
