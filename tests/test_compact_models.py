"""Compact networks (MobileNet v1/v2, SqueezeNet 1.0/1.1, ShuffleNet v2) and the layers they added.

Counts are checked against published numbers:

- torchvision's model documentation (pytorch.org/vision/stable/models.html, each weight enum's
  ``num_params`` and ``GFLOPS``, which torchvision computes as multiply-adds in billions):
  mobilenet_v2 3,504,872 params, 0.30 GFLOPS; squeezenet1_0 1,248,424, 0.82; squeezenet1_1
  1,235,496, 0.35; shufflenet_v2_x1_0 2,278,604, 0.14.
- Howard et al. 2017, "MobileNets", Table 8 (1.0 MobileNet-224): 4.2 million parameters and
  569 million mult-adds.

New layers' backward passes are checked against numeric gradients (tests/gradcheck.py).
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from gradcheck import assert_grad, numeric_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from test_backward_nn import check_module, randomize

from cnnlib import models, nn
from cnnlib.activations import relu6, relu6_grad
from cnnlib.counting import conv_counts, summary
from cnnlib.models._seeds import seed_stream
from cnnlib.models.mobilenet import depthwise_separable, inverted_residual
from cnnlib.models.shufflenet import shuffle_unit
from cnnlib.models.squeezenet import fire
from cnnlib.shapes import ConvShape

F64 = dict(dtype=np.float64)

# name: (parameters, MACs) of one 224x224 image: parameters as published (exact), MACs as counted
# here (weights x E x F of every CONV and FC layer), which round to the published figure below.
COUNTS = {
    "mobilenet_v1": (4_231_976, 568_740_352),
    "mobilenet_v2": (3_504_872, 300_774_272),
    "squeezenet1_0": (1_248_424, 818_924_576),
    "squeezenet1_1": (1_235_496, 349_151_936),
    "shufflenet_v2": (2_278_604, 144_907_992),
}
#: torchvision's GFLOPS column (multiply-adds, in billions, two decimals).
TORCHVISION_GFLOPS = {"mobilenet_v2": 0.30, "squeezenet1_0": 0.82, "squeezenet1_1": 0.35, "shufflenet_v2": 0.14}


@pytest.mark.parametrize("name", COUNTS)
def test_parameters_and_macs(name):
    params, macs = COUNTS[name]
    counts = models.get(name).counts(models.input_shape(name))
    assert (counts.params, counts.macs) == (params, macs)
    if name in TORCHVISION_GFLOPS:
        assert round(macs / 1e9, 2) == TORCHVISION_GFLOPS[name]
    else:  # Howard et al. 2017, Table 8: 4.2 million parameters, 569 million mult-adds
        assert (round(params / 1e6, 1), round(macs / 1e6)) == (4.2, 569)


def test_summary_agrees_with_counts():
    net = models.get("mobilenet_v2")
    total = summary(net, models.input_shape("mobilenet_v2")).total
    assert (total.params, total.macs) == COUNTS["mobilenet_v2"]


@pytest.mark.parametrize("C, M, H", [(32, 64, 112), (512, 512, 14), (3, 8, 5)])
def test_depthwise_separable_mac_ratio(C, M, H):
    """Howard et al., Section 3.1: (C R S + C M) / (C M R S) = 1/M + 1/(R S) of a standard 3x3 layer."""
    separable = depthwise_separable(C, M, seeds=seed_stream(0)).counts((C, H, H)).macs
    standard = conv_counts(ConvShape(N=1, C=C, H=H, W=H, M=M, R=3, S=3, P=1), bias=False).macs
    assert separable * M * 9 == standard * (9 + M)  # exact, in integers


def test_depthwise_layer_is_groups_equal_channels():
    net = models.get("mobilenet_v1")
    dw = net["sep1"]["dw"]["conv"]
    assert (dw.groups, dw.C, dw.M, dw.w.shape) == (32, 32, 32, (32, 1, 3, 3))


def test_squeezenet_map_sizes_round_up():
    """torchvision's SqueezeNet pools with ceil_mode=True: 109 -> 54 -> 27 -> 13 (v1.0)."""
    net = models.get("squeezenet1_0")
    sizes = [out[1] for name, _, _, out in net.layers((3, 224, 224)) if name.startswith("pool")]
    assert sizes == [54, 27, 13]


def _ceil_size(n, R, U):
    """torch's ceil-mode size: ceil((n - R) / U) + 1, less one if the last window starts outside."""
    E = -(-(n - R) // U) + 1
    return E - 1 if (E - 1) * U >= n else E


def _ceil_pool_reference(x, R, U):
    """Max over every R x R window that starts inside x, clipped at the bottom/right edge."""
    Eh, Ew = _ceil_size(x.shape[2], R, U), _ceil_size(x.shape[3], R, U)
    out = np.empty((*x.shape[:2], Eh, Ew))
    for e in range(Eh):
        for f in range(Ew):
            out[:, :, e, f] = x[:, :, e * U : e * U + R, f * U : f * U + R].max(axis=(2, 3))
    return out


@pytest.mark.parametrize("H, R, U", [(109, 3, 2), (54, 3, 2), (27, 3, 2), (8, 3, 2), (10, 2, 3), (7, 3, 2)])
def test_ceil_mode_max_pool_against_clipped_windows(H, R, U):
    x = np.random.default_rng(H).standard_normal((1, 2, H, H))
    pool = nn.MaxPool2d(R, U, ceil_mode=True)
    y = pool(x)
    assert_array_equal(y, _ceil_pool_reference(x, R, U))
    assert y.shape[1:] == pool.output_shape(x.shape[1:])


@settings(max_examples=60, deadline=None)
@given(H=st.integers(3, 20), W=st.integers(3, 20), R=st.integers(1, 3), U=st.integers(1, 3))
def test_ceil_mode_max_pool_property(H, W, R, U):
    """Any size and stride (also stride > size): clipped windows; floor mode is a prefix of ceil mode."""
    x = np.random.default_rng(H * 31 + W).standard_normal((1, 2, H, W))
    pool = nn.MaxPool2d(R, U, ceil_mode=True)
    y = pool(x)
    assert_array_equal(y, _ceil_pool_reference(x, R, U))
    assert y.shape[1:] == pool.output_shape((2, H, W))
    floor = nn.MaxPool2d(R, U)(x)
    assert_array_equal(y[:, :, : floor.shape[2], : floor.shape[3]], floor)


def test_channel_shuffle_is_the_transpose_permutation():
    """Output channel j comes from input channel (j % g) (C / g) + j // g; backward undoes it."""
    C, g = 12, 3
    x = np.random.default_rng(0).standard_normal((2, C, 3, 3))
    y = nn.ChannelShuffle(g)(x)
    source = [(j % g) * (C // g) + j // g for j in range(C)]
    assert_array_equal(y, x[:, source])
    assert_array_equal(nn.ChannelShuffle(g).backward(y), x)


def test_relu6_and_its_gradient():
    x = np.array([-2.0, 0.0, 0.5, 6.0, 7.5], dtype=np.float32)
    assert relu6(x).tolist() == [0.0, 0.0, 0.5, 6.0, 6.0] and relu6(x).dtype == np.float32
    assert relu6_grad(x).tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    z = np.random.default_rng(0).uniform(-3, 9, 40)
    z = z[np.abs(z) > 1e-3]
    z = z[np.abs(z - 6) > 1e-3]  # central differences away from the two kinks
    assert_grad(relu6, z, np.ones_like(z), relu6_grad(z))


def test_global_average_pool_against_mean():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    assert_allclose(nn.GlobalAvgPool2d()(x), x.reshape(2, 3, -1).mean(axis=2))
    assert nn.GlobalAvgPool2d().counts((3, 5, 4)).other_ops == 3 * 19


LEAVES = {
    "relu6": (lambda: nn.ReLU6(), (3, 7)),
    "global_avg_pool": (nn.GlobalAvgPool2d, (2, 3, 4, 5)),
    "channel_shuffle": (lambda: nn.ChannelShuffle(2), (2, 6, 2, 3)),
    "channel_slice": (lambda: nn.ChannelSlice(1, 3), (2, 4, 2, 2)),
    "maxpool_ceil": (lambda: nn.MaxPool2d(3, 2, ceil_mode=True), (1, 2, 6, 8)),
    "maxpool_ceil_pad": (lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True), (1, 2, 7, 6)),
}
BLOCKS = {
    "fire": (lambda: randomize(fire(4, 2, 3, 3, seeds=seed_stream(0), **F64)), (2, 4, 4, 4)),
    "depthwise_separable": (lambda: randomize(depthwise_separable(3, 4, 2, seeds=seed_stream(0), **F64)),
                            (3, 3, 5, 5)),
    "inverted_residual": (lambda: randomize(inverted_residual(4, 4, 1, 2, seeds=seed_stream(0), **F64)),
                          (3, 4, 4, 4)),
    "shuffle_unit_stride1": (lambda: randomize(shuffle_unit(4, 4, 1, seeds=seed_stream(0), **F64)),
                             (3, 4, 4, 4)),
    "shuffle_unit_stride2": (lambda: randomize(shuffle_unit(2, 4, 2, seeds=seed_stream(0), **F64)),
                             (3, 2, 5, 5)),
}


@pytest.mark.parametrize("name", LEAVES)
def test_leaf_backward_against_numeric_gradients(name):
    make, shape = LEAVES[name]
    check_module(make(), shape)


@pytest.mark.parametrize("name", BLOCKS)
def test_block_backward_against_numeric_gradients(name):
    """As check_module, but a gradient that is zero by structure is only checked to be zero.

    In training mode a batch norm after a CONV after a batch norm removes any per-channel shift,
    so the first one's beta has dL/dbeta = 0 (analytic ~1e-16); a relative error means nothing there.
    """
    module, shape = BLOCKS[name][0](), BLOCKS[name][1]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    module.train()
    dout = rng.standard_normal(module(x).shape)
    dx, grads = module.backward(dout), module.gradients()
    assert_grad(module, x, dout, dx, tol=1e-6)  # several layers deep: central differences lose digits
    for name, p in module.parameters().items():
        numeric = numeric_grad(lambda _: module(x), p, dout)
        if np.abs(numeric).max() < 1e-8:
            assert np.abs(grads[name]).max() < 1e-8, name
        else:
            assert_grad(lambda _: module(x), p, dout, grads[name], tol=1e-6)


def test_inverted_residual_has_a_linear_bottleneck_and_a_shortcut_only_where_shapes_match():
    same = inverted_residual(24, 24, 1, 6, seeds=seed_stream(0))
    assert isinstance(same, nn.Residual) and same.act is None
    assert not isinstance(inverted_residual(24, 32, 1, 6, seeds=seed_stream(0)), nn.Residual)
    assert [name for name, _ in same.main["project"].children()] == ["conv", "bn"]  # no ReLU6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_keeps_dtype_and_shape(dtype):
    net = models.get("shufflenet_v2", dtype=dtype)
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(dtype)
    y = net(x)
    assert y.shape == (1, 1000) and y.dtype == dtype and np.isfinite(y).all()


def test_bad_arguments_name_what_was_given():
    with pytest.raises(ValueError, match="groups=4"):
        nn.ChannelShuffle(4).output_shape((6, 2, 2))
    with pytest.raises(ValueError, match="at least 5 input channels"):
        nn.ChannelSlice(2, 5)(np.zeros((1, 4, 2, 2)))
    with pytest.raises(ValueError, match="C must equal M"):
        shuffle_unit(4, 8, 1, seeds=seed_stream(0))
    with pytest.raises(ValueError, match="version must be one of"):
        models.squeezenet("1_2")
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.Activation("relu7")


def _cli(*args):
    res = subprocess.run([sys.executable, "-m", "cnnlib", *args], capture_output=True, text=True, check=True)
    return json.loads(res.stdout)


@pytest.mark.parametrize("name", COUNTS)
def test_cli_summary_json(name):
    total = _cli("summary", name, "--json")["total"]
    assert (total["params"], total["macs"]) == COUNTS[name]


def test_cli_map_all_json_maps_depthwise_layers():
    result = _cli("map", "mobilenet_v1", "--all", "--json")
    assert result["total"]["macs"] == COUNTS["mobilenet_v1"][1]
    rows = {row["name"]: row for row in result["layers"]}
    assert len(rows) == 28  # conv1, 13 x (dw, pw), fc
    assert rows["sep2.dw.conv"]["utilization"] < rows["sep2.pw.conv"]["utilization"]
