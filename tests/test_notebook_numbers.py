"""The full tables behind claims the notebooks make with one readable assert each.

A notebook asserts the claim it states (e.g. "conv1 has 16 x 5 x 5 x 3 weights"); the
exhaustive per-layer tables that pin every number live here, so notebook code shows the idea.
"""

from cnnlib import nn
from cnnlib.counting import summary


def small_cnn():
    """The small CNN of notebook 04 (section "Weights versus activations")."""
    return nn.Sequential(
        ("conv1", nn.Conv2d(3, 16, 5, padding=2)), ("bn1", nn.BatchNorm2d(16)), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(16, 32, 3, padding=1)), ("bn2", nn.BatchNorm2d(32)), ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(32, 64, 3, padding=1)), ("relu3", nn.ReLU()), ("pool3", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(64 * 4 * 4, 256)), ("relu4", nn.ReLU()),
        ("fc2", nn.Linear(256, 10)),
    )


def test_notebook_04_small_cnn_summary_by_hand():
    s = summary(small_cnn(), (3, 32, 32))
    by_hand = {  # weights = M x R x S x C; MACs = weights x E x F
        "conv1": (16 * 5 * 5 * 3, 32 * 32),
        "conv2": (32 * 3 * 3 * 16, 16 * 16),
        "conv3": (64 * 3 * 3 * 32, 8 * 8),
        "fc1": (1024 * 256, 1),
        "fc2": (256 * 10, 1),
    }
    for name, (weights, positions) in by_hand.items():
        assert (s[name].weights, s[name].macs) == (weights, weights * positions), name
    assert s.total.params == s.total.weights + s.total.biases + 2 * (16 + 32)  # BN's gamma and beta
    assert (s.to_dict()["total"]["weights"], s.to_dict()["total"]["macs"]) == (288_944, 3_852_800)


def test_notebook_10_googlenet_bottleneck_savings_per_module():
    """MACs of each inception module's 3x3 and 5x5 branches with the 1x1 reductions, and of the
    same filters reading every input channel directly (notebook 10, "What the 1x1 bottlenecks save")."""
    from cnnlib import models
    from cnnlib.counting import ConvShape

    googlenet = models.googlenet()
    shape, with_reduce, direct = (192, 28, 28), [], []
    for key, (_, _, n3, _, n5, _) in models.INCEPTION_CFG.items():
        module = googlenet[f"inception_{key}"]
        if key in ("4a", "5a"):
            shape = googlenet[f"pool{int(key[0]) - 1}"].output_shape(shape)
        C, H, W = shape
        with_reduce.append(sum(module[n].counts(shape).macs for n in ("3x3", "5x5")))
        direct.append(sum(ConvShape(N=1, C=C, H=H, W=W, M=M, R=R, S=R, P=R // 2).macs
                          for M, R in ((n3, 3), (n5, 5))))
        shape = module.output_shape(shape)
    assert with_reduce == [113_598_464, 265_732_096, 49_523_712, 65_429_504, 80_582_656,
                           100_853_760, 130_256_896, 35_424_256, 49_824_768]
    assert direct == [293_830_656, 828_506_112, 289_013_760, 362_872_832, 391_774_208,
                      420_675_584, 629_207_040, 247_869_440, 271_351_808]
    assert (sum(with_reduce), sum(direct)) == (891_226_112, 3_735_101_440)


def test_notebook_04_conventions_on_lenet5_c1_and_memory():
    """LeNet-5's C1 under each named convention for N = 2, and the small CNN's memory per layer."""
    from cnnlib.counting import CONVENTIONS, ConvShape, conv_counts, memory_bytes

    c1 = conv_counts(ConvShape(N=1, C=1, H=32, W=32, M=6, R=5, S=5))
    assert {name: c.macs(c1, N=2) for name, c in CONVENTIONS.items()} == {
        "lecture": 235_200, "lecun": 244_608, "torchinfo": 244_608, "fvcore": 235_200, "ptflops": 122_304}
    s = summary(small_cnn(), (3, 32, 32))
    layers = [r for r in s.rows if r.kind]
    kib = 1024
    assert [memory_bytes(r.counts)["params"] / kib for r in layers] == [4.75, 18.125, 72.25, 1025.0, 2570 * 4 / kib]
    assert [memory_bytes(r.counts, N=1)["outputs"] / kib for r in layers] == [64.0, 32.0, 16.0, 1.0, 40 / kib]
