"""cnnlib.models: every network's structure, exact counts and a full-size forward pass.

The expected integers were computed by hand from each paper's layer table (weights
M x C/groups x R x S, MACs weights x E x F, biases M, batch norm 2 per channel) and agree with
the published totals to the slides' rounding; torchvision's parameter counts agree exactly for
VGG and ResNet (its GoogLeNet and AlexNet are different networks).
"""

from functools import cache, lru_cache

import numpy as np
import pytest

from cnnlib import models, nn
from cnnlib.counting import conv_layers, conv_output_size, summary
from cnnlib.models.resnet import BLOCKS, block


@lru_cache(maxsize=2)
def built(name, **kwargs):
    """The two models built last are kept (a model's weights are drawn on first use: VGG-19's are
    0.57 GB in float32, so caching every model for the whole session held about 2 GB)."""
    return models.get(name, **kwargs)


@cache  # summaries hold counts only, no weights
def summ(name, convention=None, **kwargs):
    return summary(built(name, **kwargs), models.input_shape(name), convention=convention)


# weights (no biases), biases, params (all learned: + batch norm), MACs (no bias adds), per image
TOTALS = {
    "lenet5": (61_470, 236, 61_706, 416_520),
    "lenet5_sparse": (60_570, 236, 60_806, 326_520),
    "alexnet": (60_954_656, 10_568, 60_965_224, 724_406_816),
    "vgg16": (138_344_128, 13_416, 138_357_544, 15_470_264_320),
    "vgg19": (143_652_544, 14_696, 143_667_240, 19_632_062_464),
    "googlenet": (6_990_272, 8_280, 6_998_552, 1_582_671_872),
    "resnet18": (11_678_912, 1_000, 11_689_512, 1_814_073_344),
    "resnet34": (21_779_648, 1_000, 21_797_672, 3_663_761_408),
    "resnet50": (25_502_912, 1_000, 25_557_032, 3_857_973_248),
    "resnet101": (44_442_816, 1_000, 44_549_160, 7_570_194_432),
    "resnet152": (60_040_384, 1_000, 60_192_808, 11_282_415_616),
    # compact networks: params as torchvision's docs and Howard et al. (tests/test_compact_models.py)
    "mobilenet_v1": (4_209_088, 1_000, 4_231_976, 568_740_352),
    "mobilenet_v2": (3_469_760, 1_000, 3_504_872, 300_774_272),
    "squeezenet1_0": (1_244_448, 3_976, 1_248_424, 818_924_576),
    "squeezenet1_1": (1_231_552, 3_944, 1_235_496, 349_151_936),
    "shufflenet_v2": (2_261_424, 1_000, 2_278_604, 144_907_992),
}


def test_names_and_registry():
    assert models.names() == list(TOTALS)
    for name in models.names():
        assert len(models.input_shape(name)) == 3 and models.describe(name)
    with pytest.raises(ValueError, match="model name must be one of lenet5, lenet5_sparse, alexnet"):
        models.get("lenet6")


@pytest.mark.parametrize("name", list(TOTALS))
def test_totals_exact(name):
    t = summ(name).total
    assert (t.weights, t.biases, t.params, t.macs) == TOTALS[name]


@pytest.mark.parametrize("name", list(TOTALS))
def test_one_definition_serves_counting_and_the_hardware_model(name):
    net = built(name)
    shapes = conv_layers(net, models.input_shape(name))
    s = summ(name)
    assert [n for n, _ in shapes] == [r.name for r in s.rows if r.kind]
    if name != "lenet5_sparse":  # ConvShape knows no connection table
        assert sum(c.weights for _, c in shapes) == s.total.weights
        assert sum(c.macs for _, c in shapes) == s.total.macs


@pytest.mark.parametrize("name", list(TOTALS))
def test_full_size_forward(name):
    net = built(name)
    shape = models.input_shape(name)
    x = np.random.default_rng(0).standard_normal((1, *shape)).astype(np.float32)
    y = net(x)
    assert y.shape == (1, *net.output_shape(shape)) == (1, 10 if name.startswith("lenet") else 1000)
    assert y.dtype == np.float32 and np.isfinite(y).all()


def test_seed_and_dtype():
    a, b = models.lenet5(seed=0), models.lenet5(seed=0)
    c = models.lenet5(seed=1, dtype=np.float64)
    for key, w in a.parameters().items():
        np.testing.assert_array_equal(w, b.parameters()[key])
        assert c.parameters()[key].dtype == np.float64
    assert not np.allclose(a["c1"].w, c["c1"].w)
    assert not np.allclose(a["c1"].w[0], a["c1"].w[1])  # each layer and filter its own draw
    x = np.random.default_rng(1).standard_normal((3, 1, 32, 32))
    assert c(x).dtype == np.float64


# --- LeNet-5 -----------------------------------------------------------------------------------

def test_lenet5_layers_and_slide_figures():
    s, sp = summ("lenet5"), summ("lenet5_sparse")
    assert [r.name for r in s.rows] == ["c1", "a1", "s2", "c3", "a3", "s4", "flatten", "f5", "a5",
                                        "f6", "a6", "output"]
    assert [s[n].output_shape for n in ("c1", "s2", "c3", "s4")] == [
        (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5)]
    # the slide's per-layer "weights" are parameters, biases included
    assert [s[n].params for n in ("c1", "c3", "f5", "f6", "output")] == [156, 2416, 48_120, 10_164, 850]
    assert (sp["c3"].weights, sp["c3"].params) == (1500, 1516)
    # its MACs count bias adds (LeCun's "connections"): C1 122,304; C3 151,600 only with sparse C3
    lecun, lecun_sparse = summ("lenet5", "lecun"), summ("lenet5_sparse", "lecun")
    assert (s["c1"].macs, lecun["c1"].macs) == (117_600, 122_304)
    assert (lecun["c3"].macs, lecun_sparse["c3"].macs) == (241_600, 151_600)


def test_lenet5_paper_totals_reconciled():
    s = summ("lenet5_sparse", "lecun")
    conv_fc = s.conv.macs + s.fc.macs
    assert conv_fc == 333_038
    # the paper's subsampling units have 4 inputs and a bias (5 connections each, 12 + 32 params),
    # its RBF output units no bias: 340,908 connections and 60,000 trainable parameters
    subsampling = 5 * (s["s2"].output_activations + s["s4"].output_activations)
    assert conv_fc + subsampling - s["output"].biases == 340_908
    assert s.total.params - s["output"].params + 2 * (6 + 16) == 60_000


def test_c3_connection_table():
    t = models.C3_CONNECTIONS
    assert t.shape == (16, 6) and t.dtype == bool and t.sum() == 60
    assert t.sum(axis=1).tolist() == [3] * 6 + [4] * 9 + [6]
    assert t.sum(axis=0).tolist() == [10] * 6  # every S2 map feeds 10 C3 maps
    assert t[:, 0].nonzero()[0].tolist() == [0, 4, 5, 6, 9, 10, 11, 12, 14, 15]  # Table I, row 0
    net = models.lenet5(sparse_c3=True)
    assert np.all(net["c3"].w[~t] == 0)
    x = np.random.default_rng(0).standard_normal((1, 6, 14, 14)).astype(np.float32)
    x2 = x.copy()
    x2[0, 0] += 1  # change S2 map 0: C3 maps that do not see it must not move
    moved = np.abs(net["c3"](x2) - net["c3"](x)).max(axis=(2, 3))[0] > 0
    assert moved.tolist() == t[:, 0].tolist()


# --- AlexNet -----------------------------------------------------------------------------------

ALEXNET = {  # layer: (weights, MACs), the slide's L1-L8
    "conv1": (34_848, 105_415_200), "conv2": (307_200, 223_948_800), "conv3": (884_736, 149_520_384),
    "conv4": (663_552, 112_140_288), "conv5": (442_368, 74_760_192), "fc6": (37_748_736, 37_748_736),
    "fc7": (16_777_216, 16_777_216), "fc8": (4_096_000, 4_096_000),
}


def test_alexnet_per_layer():
    s = summ("alexnet")
    assert {r.name: (r.weights, r.macs) for r in s.rows if r.kind} == ALEXNET
    assert [s[n].output_shape for n in ("conv1", "pool1", "conv2", "pool2", "conv5", "pool5")] == [
        (96, 55, 55), (96, 27, 27), (256, 27, 27), (256, 13, 13), (256, 13, 13), (256, 6, 6)]
    conv_weights = [w for n, (w, _) in ALEXNET.items() if n.startswith("conv")]
    assert all(abs(w / 1e3 - k) < 1 for w, k in zip(conv_weights, [34, 307, 885, 664, 442], strict=True))  # "34K"
    assert [round(m / 1e6) for _, m in ALEXNET.values()] == [105, 224, 150, 112, 75, 38, 17, 4]


def test_alexnet_fc_holds_weights_conv_does_macs():
    s = summ("alexnet")
    assert s.fc.weights / s.total.weights > 0.96
    assert s.conv.macs / s.total.macs > 0.91


def test_alexnet_needs_227_not_224():
    with pytest.raises(ValueError, match="not a multiple of the stride"):
        conv_output_size(224, 11, stride=4, strict=True)
    assert conv_output_size(227, 11, stride=4, strict=True) == 55
    with pytest.raises(ValueError, match="K=9216"):  # 224 -> 54 -> ... -> 5x5x256 = 6400 inputs
        built("alexnet").output_shape((3, 224, 224))


# --- VGG ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, conv", [("vgg16", 13), ("vgg19", 16)])
def test_vgg_structure(name, conv):
    s = summ(name)
    convs = [r for r in s.rows if r.kind == "CONV"]
    assert len(convs) == conv and sum(r.kind == "FC" for r in s.rows) == 3
    net = built(name)
    assert {(m.R, m.S, m.stride, m.padding) for _, m, *_ in net.layers((3, 224, 224))
            if isinstance(m, nn.Conv2d)} == {(3, 3, (1, 1), (1, 1))}
    assert s[convs[-1].name].output_shape == (512, 14, 14)
    assert (s.conv.macs, s.fc.macs) == {
        "vgg16": (15_346_630_656, 123_633_664), "vgg19": (19_508_428_800, 123_633_664)}[name]


def test_vgg_unknown_depth():
    with pytest.raises(ValueError, match="depth must be one of"):
        models.vgg(11)


# --- GoogLeNet ---------------------------------------------------------------------------------

INCEPTION = {  # module: (weights, MACs, output channels) on the paper's map sizes
    "3a": (163_328, 128_049_152, 256), "3b": (388_096, 304_267_264, 480),
    "4a": (375_552, 73_608_192, 512), "4b": (448_512, 87_908_352, 512),
    "4c": (509_440, 99_850_240, 512), "4d": (604_672, 118_515_712, 528),
    "4e": (867_328, 169_996_288, 832), "5a": (1_042_432, 51_079_168, 832),
    "5b": (1_442_816, 70_697_984, 1024),
}


def test_googlenet_structure_and_modules():
    net = built("googlenet")
    s = summ("googlenet")
    assert sum(r.kind == "CONV" for r in s.rows) == 57 and sum(r.kind == "FC" for r in s.rows) == 1
    shape = (192, 28, 28)
    for key, (w, macs, M) in INCEPTION.items():
        if key in ("4a", "5a"):
            shape = (shape[0], shape[1] // 2, shape[2] // 2)
        module = net[f"inception_{key}"]
        c = module.counts(shape)
        assert (c.weights, c.macs) == (w, macs)
        shape = module.output_shape(shape)
        assert shape[0] == M
    assert s["avgpool"].output_shape == (1024, 1, 1)
    # aux classifiers are not part of the inference network
    assert not any("aux" in r.name for r in s.rows)


def test_googlenet_pool_padding_gives_sze_1_43g():
    s = summ("googlenet", pool_padding=0)
    assert s.total.macs == 1_431_556_352 and s.total.weights == TOTALS["googlenet"][0]
    assert s["pool4"].output_shape == (832, 6, 6) and s["avgpool"].output_shape == (1024, 1, 1)
    with pytest.raises(ValueError, match="pool_padding"):
        models.googlenet(pool_padding=2)


def test_inception_bottleneck_saves_macs():
    # 3a's 5x5 branch: 192 -> 16 channels by 1x1 first, then 16 -> 32 by 5x5
    reduced = models.inception(192, 64, 96, 128, 16, 32, 32, seeds=iter(range(6)))["5x5"]
    direct = nn.Conv2d(192, 32, 5, padding=2)
    assert reduced.counts((192, 28, 28)).macs == 192 * 16 * 784 + 16 * 32 * 25 * 784 == 12_443_648
    assert direct.counts((192, 28, 28)).macs == 120_422_400


# --- ResNet ------------------------------------------------------------------------------------

def test_resnet_depth_from_cfg():
    for layers, (kind, cfg) in models.RESNET_CFG.items():
        assert models.depth(kind, cfg) == layers
    assert models.depth("bottleneck", (3, 4, 23, 8)) == 116  # the slide's row for "101 layers"
    assert models.depth("basic", (2, 2, 2, 2)) == 2 * 8 + 2


@pytest.mark.parametrize("layers", [18, 34, 50, 101, 152])
def test_resnet_conv_layers(layers):
    s = summ(f"resnet{layers}")
    kind, cfg = models.RESNET_CFG[layers]
    main = [r for r in s.rows if r.kind == "CONV" and "shortcut" not in r.name]
    projections = [r for r in s.rows if r.kind == "CONV" and "shortcut" in r.name]
    assert len(main) == layers - 1  # the "49xCONV, 1xFC" of ResNet-50
    assert len(projections) == (4 if kind == "bottleneck" else 3)
    assert s["fc"].output_shape == (1000,) and s["avgpool"].output_shape[1:] == (1, 1)
    assert s.total.params - s.total.weights - s.total.biases == 2 * sum(
        r.output_shape[0] for r in s.rows if r.type == "BatchNorm2d")


@pytest.mark.parametrize("layers, macs", [(50, 4_089_184_256), (101, 7_801_405_440), (152, 11_513_626_624)])
def test_resnet_v1_5_moves_the_stride(layers, macs):
    v1, v15 = summ(f"resnet{layers}"), summ(f"resnet{layers}", variant="v1.5")
    assert v15.total.macs == macs and v15.total.params == v1.total.params
    name = "conv3_x.block1.main."
    assert v1[name + "conv1"].output_shape[1:] == (28, 28) == v15[name + "conv2"].output_shape[1:]
    assert v15[name + "conv1"].output_shape[1:] == (56, 56)


def test_resnet_v1_5_same_for_basic_blocks():
    assert summ("resnet18", variant="v1.5").total == summ("resnet18").total


def test_residual_block_identity_and_projection():
    seeds = iter(range(100))
    identity = block("bottleneck", 256, 64, seeds=seeds)
    assert identity.shortcut is None and identity.output_shape((256, 56, 56)) == (256, 56, 56)
    proj = block("basic", 64, 128, 2, seeds=seeds)
    assert proj.output_shape((64, 56, 56)) == (128, 28, 28)
    assert proj.shortcut["conv"].counts((64, 56, 56)).weights == 64 * 128
    assert BLOCKS == {"basic": (2, 1), "bottleneck": (3, 4)}


@pytest.mark.parametrize("call, match", [
    (lambda: models.resnet(20), "layers must be one of"),
    (lambda: models.resnet_from_cfg("basic", (2, 2, 2)), "cfg must be 4 positive ints"),
    (lambda: models.resnet_from_cfg("wide", (2, 2, 2, 2)), "block must be one of"),
    (lambda: models.resnet(50, variant="v2"), "variant must be one of"),
])
def test_resnet_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_plot_layer_counts():
    from cnnlib.viz import plot_layer_counts

    ax = plot_layer_counts(summ("alexnet"), relative=False, title="AlexNet")
    weights, macs = ax.containers
    assert [b.get_height() for b in weights] == [w for w, _ in ALEXNET.values()]
    assert [b.get_height() for b in macs] == [m for _, m in ALEXNET.values()]
    assert ax.get_yscale() == "log" and [t.get_text() for t in ax.get_xticklabels()] == list(ALEXNET)
    shares = plot_layer_counts(summ("alexnet")).containers[0]  # the default: percent of the total
    total = sum(w for w, _ in ALEXNET.values())
    assert np.allclose([b.get_height() for b in shares], [100 * w / total for w, _ in ALEXNET.values()])


def test_network_explorer():
    from cnnlib.widgets import network_explorer

    box = network_explorer("lenet5")
    (network, convention), image = box.children[0].children, box.children[1]
    first = bytes(image.value)
    assert first.startswith(b"\x89PNG")
    convention.value = "lecun"  # bias adds counted: another chart
    second = bytes(image.value)
    assert second.startswith(b"\x89PNG") and second != first
    network.value = "alexnet"
    assert bytes(image.value) not in (first, second)
    with pytest.raises(ValueError, match="model name must be one of"):
        network_explorer("lenet6")
    with pytest.raises(ValueError, match="convention must be one of"):
        network_explorer("lenet5", "tool")

