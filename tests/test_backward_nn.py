"""Backward of every nn module, leaf and container, checked against numeric gradients in float64."""

import numpy as np
import pytest
from gradcheck import assert_grad
from numpy.testing import assert_allclose

from cnnlib import nn

F64 = dict(dtype=np.float64)


def check_module(module, in_shape, seed=0):
    """Gradients of the input and of every parameter, against central differences."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(in_shape)
    module.train()
    dout = rng.standard_normal(module(x).shape)
    dx = module.backward(dout)
    grads = module.gradients()
    params = module.parameters()
    assert grads.keys() == params.keys()
    assert dx.shape == x.shape
    assert_grad(module, x, dout, dx)
    for name, p in params.items():
        assert grads[name].shape == p.shape, name
        assert_grad(lambda _: module(x), p, dout, grads[name])


def randomize(module, seed=1):
    """Non-trivial parameters (BN starts at gamma = 1, beta = 0; biases at 0)."""
    rng = np.random.default_rng(seed)
    for p in module.parameters().values():
        p[...] = rng.standard_normal(p.shape)
    return module


LEAVES = {
    "linear": (lambda: nn.Linear(5, 3, **F64), (4, 5)),
    "linear_no_bias": (lambda: nn.Linear(5, 3, bias=False, **F64), (2, 5)),
    "maxpool": (lambda: nn.MaxPool2d(2), (2, 3, 4, 5)),
    "maxpool_overlap_pad": (lambda: nn.MaxPool2d(3, stride=2, padding=1), (1, 2, 5, 5)),
    "avgpool": (lambda: nn.AvgPool2d(2, stride=1), (2, 2, 3, 4)),
    "batchnorm_4d": (lambda: randomize(nn.BatchNorm2d(3, **F64)), (4, 3, 2, 3)),
    "batchnorm_2d": (lambda: randomize(nn.BatchNorm2d(4, **F64)), (5, 4)),
    "lrn": (lambda: nn.LocalResponseNorm(3, alpha=0.2, beta=0.75, k=1.0), (2, 5, 2, 2)),
    "flatten": (nn.Flatten, (2, 3, 2, 2)),
    "relu": (nn.ReLU, (3, 7)),
    "sigmoid": (nn.Sigmoid, (3, 7)),
    "tanh": (nn.Tanh, (2, 3, 2, 2)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), (3, 7)),
    "elu": (nn.ELU, (3, 7)),
    "dropout_p0": (lambda: nn.Dropout(0.0), (3, 4)),
}


@pytest.mark.parametrize("name", LEAVES)
def test_leaf_backward(name):
    make, shape = LEAVES[name]
    check_module(make(), shape)


def test_batchnorm_training_updates_running_statistics_and_inference_uses_them():
    bn = nn.BatchNorm2d(2, momentum=0.5, **F64)
    x = np.random.default_rng(0).standard_normal((4, 2, 3, 3)) * [[[[2]], [[3]]]] + [[[[1]], [[-1]]]]
    bn.train()
    y = bn(x)
    assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    assert_allclose(bn.running_mean, 0.5 * x.mean(axis=(0, 2, 3)))
    assert_allclose(bn.running_var, 0.5 + 0.5 * x.var(axis=(0, 2, 3), ddof=1))
    bn.eval()
    assert_allclose(bn(x), (x - bn.running_mean[:, None, None]) / np.sqrt(bn.running_var[:, None, None] + 1e-5))


def test_dropout_backward_uses_the_forward_mask():
    drop = nn.Dropout(0.5, seed=3).train()
    x = np.ones((4, 50))
    y = drop(x)
    assert set(np.unique(y)) == {0.0, 2.0}
    assert_allclose(drop.backward(np.ones_like(x)), y)
    drop.eval()
    assert_allclose(drop(x), x)


def test_backward_needs_a_training_forward():
    fc = nn.Linear(3, 2)
    fc.eval()(np.zeros((1, 3)))
    with pytest.raises(RuntimeError, match=r"call model.train\(\) before the forward pass"):
        fc.backward(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match="has no gradients yet"):
        fc.gradients()
    fc.train()(np.ones((1, 3)))
    fc.eval()(np.zeros((1, 3)))  # an inference pass forgets the training pass's input
    with pytest.raises(RuntimeError, match="backward needs a forward pass in training mode"):
        fc.backward(np.zeros((1, 2)))


# -- layers that need conv2d_backward ----------------------------------------------------------

CONV_LEAVES = {
    "conv": (lambda: nn.Conv2d(2, 3, 3, **F64), (2, 2, 5, 4)),
    "conv_stride_pad_dilation": (lambda: nn.Conv2d(2, 2, 2, stride=2, padding=1, dilation=2, **F64), (1, 2, 6, 5)),
    "conv_groups_no_bias": (lambda: nn.Conv2d(4, 6, 3, groups=2, bias=False, **F64), (1, 4, 4, 4)),
}


@pytest.mark.parametrize("name", CONV_LEAVES)
def test_conv_backward(name):
    make, shape = CONV_LEAVES[name]
    check_module(randomize(make()), shape)


def test_sparse_conv_gradient_is_masked():
    table = np.array([[1, 0, 1], [0, 1, 1]], dtype=bool)
    conv = nn.Conv2d(3, 2, 3, connections=table, **F64).train()
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 5))
    dout = np.random.default_rng(5).standard_normal(conv(x).shape)
    dx = conv.backward(dout)
    dw = conv.gradients()["w"]
    assert np.all(dw[~table] == 0)
    assert_grad(conv, x, dout, dx)
    dense = nn.Conv2d(3, 2, 3, **F64).train()
    dense.w[...] = conv.w
    dense(x)
    dense.backward(dout)
    assert_allclose(dw[table], dense.gradients()["w"][table])


def small_cnn(activation="relu", pool=nn.MaxPool2d):
    return nn.Sequential(
        ("conv1", nn.Conv2d(2, 3, 3, padding=1, bias=False, seed=1, **F64)),  # BN's beta is the bias
        ("bn1", nn.BatchNorm2d(3, **F64)),
        ("act1", nn.Activation(activation)),
        ("pool1", pool(2)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(3 * 2 * 2, 4, seed=2, **F64)),
    )


CONTAINERS = {
    "sequential": (lambda: randomize(small_cnn("tanh", nn.AvgPool2d)), (3, 2, 4, 4)),
    "sequential_relu_max": (lambda: randomize(small_cnn()), (3, 2, 4, 4)),
    "concat": (lambda: randomize(nn.Concat(("a", nn.Conv2d(2, 2, 1, **F64)),
                                           ("b", nn.Conv2d(2, 3, 3, padding=1, **F64)),
                                           ("c", nn.MaxPool2d(3, stride=1, padding=1)))), (2, 2, 4, 4)),
    "residual_identity": (lambda: randomize(nn.Residual(
        nn.Sequential(nn.Conv2d(2, 2, 3, padding=1, **F64), nn.Tanh(), nn.Conv2d(2, 2, 3, padding=1, **F64)),
        activation="tanh")), (2, 2, 4, 4)),
    "residual_projection": (lambda: randomize(nn.Residual(
        nn.Conv2d(2, 3, 3, padding=1, **F64), nn.Conv2d(2, 3, 1, **F64), activation=None)), (1, 2, 3, 3)),
}


@pytest.mark.parametrize("name", CONTAINERS)
def test_container_backward(name):
    make, shape = CONTAINERS[name]
    check_module(make(), shape)


def test_gradient_names_mirror_parameter_names():
    net = small_cnn().train()
    net.backward(np.ones_like(net(np.zeros((1, 2, 4, 4)))))
    assert list(net.gradients()) == list(net.parameters()) == [
        "conv1.w", "bn1.gamma", "bn1.beta", "fc.w", "fc.b"]
