import numpy as np
import pytest
from numpy.testing import assert_allclose

from cnnlib import layers, models, nn
from cnnlib.counting import ConvShape, LayerCounts, conv_layers


def small_cnn():
    return nn.Sequential(
        ("conv1", nn.Conv2d(3, 4, 3, padding=1)),
        ("bn1", nn.BatchNorm2d(4)),
        ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(4 * 4 * 4, 5)),
    )


def test_forward_matches_functional_layers():
    net = small_cnn()
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    c = net["conv1"]
    y = layers.conv2d(x, c.w, c.b, padding=1)
    y = layers.batch_norm(y, np.zeros(4), np.ones(4), np.ones(4), np.zeros(4))
    y = layers.max_pool2d(np.maximum(y, 0), 2).reshape(2, -1)
    y = layers.linear(y, net["fc"].w, net["fc"].b)
    out = net(x)
    assert out.dtype == np.float32
    assert_allclose(out, y, rtol=1e-5, atol=1e-6)


def test_shapes_and_layer_walk():
    net = small_cnn()
    walk = list(net.layers((3, 8, 8)))
    assert [name for name, *_ in walk] == ["conv1", "bn1", "relu1", "pool1", "flatten", "fc"]
    assert walk[3][3] == (4, 4, 4) and net.output_shape((3, 8, 8)) == (5,)
    with pytest.raises(ValueError, match="expects C=3 input channels"):
        net.output_shape((2, 8, 8))


def test_counts_by_hand():
    net = small_cnn()
    total = net.counts((3, 8, 8))
    assert total.weights == 4 * 3 * 9 + 64 * 5
    assert total.biases == 4 + 5
    assert total.other_params == 8  # BN gamma and beta
    assert total.macs == 4 * 3 * 9 * 64 + 64 * 5
    assert total.params == total.weights + total.biases + 8
    assert net["pool1"].counts((4, 8, 8)) == LayerCounts(
        other_ops=4 * 16 * 3, input_activations=256, output_activations=64
    )


def test_conv_layers_lists_conv_and_fc_as_convshapes():
    listed = conv_layers(small_cnn(), (3, 8, 8), N=2)
    assert listed == [
        ("conv1", ConvShape(N=2, C=3, H=8, W=8, M=4, R=3, S=3, P=1)),
        ("fc", ConvShape.fc(N=2, C=64, M=5)),
    ]


def test_sparse_connections_zero_and_uncounted():
    table = np.eye(4, 3, dtype=bool)
    conv = nn.Conv2d(3, 4, 5, connections=table)
    assert np.all(conv.w[~table] == 0)
    assert conv.counts((3, 5, 5)).weights == 3 * 25
    with pytest.raises(ValueError, match=r"connections must be a bool array \(M, C\) = \(4, 3\)"):
        nn.Conv2d(3, 4, 5, connections=np.ones((3, 4), bool))


def test_residual_and_concat():
    main = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
    block = nn.Residual(main)
    x = np.random.default_rng(1).standard_normal((1, 4, 5, 5))
    assert_allclose(block(x), np.maximum(main(x) + x, 0))
    with pytest.raises(ValueError, match="projection shortcut"):
        nn.Residual(nn.Conv2d(4, 8, 1)).output_shape((4, 5, 5))
    inc = nn.Concat(("a", nn.Conv2d(4, 2, 1)), ("b", nn.Conv2d(4, 3, 3, padding=1)))
    assert inc.output_shape((4, 5, 5)) == (5, 5, 5)
    assert inc(x).shape == (1, 5, 5, 5)
    assert [n for n, *_ in inc.layers((4, 5, 5))] == ["a", "b"]


def test_parameters_are_qualified_and_seeded():
    p = small_cnn().parameters()
    assert sorted(p) == ["bn1.beta", "bn1.gamma", "conv1.b", "conv1.w", "fc.b", "fc.w"]
    assert_allclose(p["conv1.w"], small_cnn().parameters()["conv1.w"])


def test_sequential_rejects_non_modules_and_duplicate_names():
    with pytest.raises(TypeError, match="Sequential takes Modules"):
        nn.Sequential(np.zeros(3))
    with pytest.raises(ValueError, match="names must be unique"):
        nn.Sequential(("a", nn.ReLU()), ("a", nn.ReLU()))


def test_counts_of_dilated_and_asymmetric_convs():
    conv = nn.Conv2d(3, 4, 3, dilation=2, stride=(1, 2), padding=(1, 0))
    c = conv.counts((3, 9, 9))
    E, F = conv.output_shape((3, 9, 9))[1:]
    assert (E, F) == (7, 3)
    assert c.weights == 4 * 3 * 9 and c.macs == 4 * 3 * 9 * E * F and c.output_activations == 4 * E * F
    with pytest.raises(ValueError, match="ConvShape needs equal strides/paddings and dilation 1"):
        conv.conv_shape((3, 9, 9))


def test_state_holds_batch_norm_running_statistics():
    net = small_cnn().train()
    net(np.random.default_rng(0).standard_normal((4, 3, 8, 8)))  # updates the running averages
    state = net.state()
    assert set(state) == set(net.parameters()) | {"bn1.running_mean", "bn1.running_var"}
    copy = small_cnn().load_state(state)
    assert_allclose(copy["bn1"].running_var, net["bn1"].running_var)
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8))
    assert_allclose(copy.eval()(x), net.eval()(x))
    with pytest.raises(ValueError, match=r"missing \['bn1.running_mean'\]"):
        small_cnn().load_state({k: v for k, v in state.items() if k != "bn1.running_mean"})


def test_errors_inside_a_network_name_the_layer():
    """A shape error deep in a network says where it happened, as a dotted path."""
    inner = nn.Sequential(("a", nn.Linear(4, 3)), ("b", nn.Linear(5, 2)))
    net = nn.Sequential(("block", nn.Sequential(("main", inner))))
    with pytest.raises(ValueError, match=r"^layer block\.main\.b: w must have K = 3 columns"):
        net(np.zeros((1, 4)))
    lenet = models.lenet5()
    with pytest.raises(ValueError, match=r"^layer f5: w must have K = 256 columns"):
        lenet(np.zeros((1, 1, 28, 28), dtype=np.float32))  # MNIST's 28 x 28 instead of 32 x 32
    block = models.get("resnet18")["conv3_x"]["block1"]  # a residual block: main and shortcut
    with pytest.raises(ValueError, match=r"^layer main\.conv1: w must have C/groups = 10/1"):
        block(np.zeros((1, 10, 28, 28), dtype=np.float32))
    inception = models.get("googlenet")["inception_3a"]  # a Concat of branches
    with pytest.raises(ValueError, match=r"^layer 1x1\.conv: w must have C/groups = 100/1"):
        inception(np.zeros((1, 100, 28, 28), dtype=np.float32))


def test_counts_of_a_leaf_without_counts_names_its_class():
    class Doubler(nn.Module):
        def forward(self, x):
            return 2 * x

        def output_shape(self, in_shape):
            return tuple(in_shape)

    with pytest.raises(NotImplementedError, match="Doubler does not define counts"):
        Doubler().counts((3, 4, 4))  # was a RecursionError
    with pytest.raises(NotImplementedError, match="Doubler does not define counts"):
        nn.Sequential(("x2", Doubler())).counts((3, 4, 4))


def test_concat_is_not_a_sequential():
    branches = nn.Concat(("a", nn.Conv2d(2, 3, 1)), ("b", nn.Conv2d(2, 4, 1)))
    assert not isinstance(branches, nn.Sequential)
    assert len(branches) == 2 and branches["b"] is branches[1] and branches.output_shape((2, 5, 5)) == (7, 5, 5)


def test_w_setter_checks_the_shape():
    conv = nn.Conv2d(3, 4, 3)
    conv.w = np.ones((4, 3, 3, 3))
    assert_allclose(conv.counts((3, 5, 5)).weights, 108)
    with pytest.raises(ValueError, match=r"w must have this layer's weight shape \(4, 3, 3, 3\); got \(4, 3, 3\)"):
        conv.w = np.ones((4, 3, 3))
    with pytest.raises(ValueError, match=r"weight shape \(5, 6\); got \(6, 5\)"):
        nn.Linear(6, 5).w = np.ones((6, 5))  # transposed
    with pytest.raises(TypeError, match="w must hold real numbers"):
        nn.Linear(1, 1).w = np.array([["a"]])


def test_errors_in_backward_name_the_branch():
    """Backward through Concat and Residual names the branch, as forward does."""
    x = np.ones((1, 2, 4, 4))
    concat = nn.Concat(("a", nn.Conv2d(2, 3, 1)), ("b", nn.Conv2d(2, 4, 1))).train()
    concat(x)
    concat["b"]._cache = {"x": np.ones((1, 5, 4, 4))}  # b's remembered input no longer fits its weights
    with pytest.raises(ValueError, match=r"^layer b: w must have C/groups = 5/1"):
        concat.backward(np.ones((1, 7, 4, 4)))
    block = nn.Residual(nn.Sequential(("conv", nn.Conv2d(2, 2, 1))), nn.Conv2d(2, 2, 1)).train()
    block(x)
    block.shortcut._cache = {"x": np.ones((1, 5, 4, 4))}
    with pytest.raises(ValueError, match=r"^layer shortcut: w must have C/groups = 5/1"):
        block.backward(np.ones((1, 2, 4, 4)))
    block(x)
    block.main["conv"]._cache = {"x": np.ones((1, 5, 4, 4))}
    with pytest.raises(ValueError, match=r"^layer main\.conv: w must have C/groups = 5/1"):
        block.backward(np.ones((1, 2, 4, 4)))
