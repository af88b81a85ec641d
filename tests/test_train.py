import numpy as np
import pytest
from gradcheck import assert_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from cnnlib import nn
from cnnlib.train import (
    SGD,
    Adam,
    accuracy,
    affine_warp,
    cross_entropy,
    random_affine,
    stratified_split,
    train,
    training_macs,
)

# -- loss -----------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_cross_entropy_matches_the_definition_and_its_gradient(N, K, seed):
    rng = np.random.default_rng(seed)
    z, y = rng.standard_normal((N, K)) * 3, rng.integers(0, K, N)
    loss, dz = cross_entropy(z, y)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert_allclose(loss, -np.mean(np.log(p[np.arange(N), y])), rtol=1e-12)
    assert_grad(lambda v: np.asarray(cross_entropy(v, y)[0]), z, np.ones(()), dz)


def test_cross_entropy_is_stable_for_huge_logits():
    loss, dz = cross_entropy(np.array([[1e4, -1e4, 0.0]]), np.array([1]))
    assert loss == pytest.approx(2e4) and np.all(np.isfinite(dz))
    assert_allclose(dz, [[1, -1, 0]], atol=1e-12)


@pytest.mark.parametrize(
    "logits, labels, message",
    [
        (np.zeros(3), np.array([0]), r"logits must be a 2-D array \(N, K\)"),
        (np.zeros((2, 3)), np.array([0]), r"labels must be an int array \(N,\) = \(2,\)"),
        (np.zeros((2, 3)), np.array([0.0, 1.0]), "labels must be an int array"),
        (np.zeros((2, 3)), np.array([0, 3]), r"labels must be in 0 ... 2; got 0 ... 3"),
    ],
)
def test_cross_entropy_bad_arguments(logits, labels, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy(logits, labels)


# -- optimizers -----------------------------------------------------------------------------------

def test_sgd_momentum_and_weight_decay_by_hand():
    params = {"fc.w": np.array([1.0, 2.0]), "fc.b": np.array([1.0])}
    opt = SGD(params, lr=0.1, momentum=0.5, weight_decay=0.1)
    grads = {"fc.w": np.array([1.0, 1.0]), "fc.b": np.array([1.0])}
    opt.step(grads)  # v = -lr (g + wd w) for weights, -lr g for biases
    assert_allclose(params["fc.w"], [1 - 0.11, 2 - 0.12])
    assert_allclose(params["fc.b"], [0.9])
    opt.step(grads)  # v = 0.5 v - lr (g + wd w)
    assert_allclose(params["fc.b"], [0.9 - 0.05 - 0.1])
    with pytest.raises(ValueError, match=r"gradient of fc.b must have the parameter's shape \(1,\)"):
        opt.step({"fc.w": grads["fc.w"], "fc.b": np.zeros(2)})


@pytest.mark.parametrize("optimizer", [SGD, Adam])
def test_weight_decay_reaches_a_bare_layers_weights(optimizer):
    """A bare layer's parameters are named "w" and "b", not "fc.w": its weights decay all the same."""
    layer, net = nn.Linear(2, 1), nn.Sequential(("fc", nn.Linear(2, 1)))
    for model in (layer, net):
        model.parameters()  # draws the weights
        zero = {k: np.zeros_like(v) for k, v in model.parameters().items()}
        before = {k: v.copy() for k, v in model.parameters().items()}
        optimizer(model.parameters(), lr=0.1, weight_decay=0.5).step(zero)
        after = model.parameters()
        moved = {k.rpartition(".")[2]: not np.array_equal(before[k], after[k]) for k in after}
        assert moved == {"w": True, "b": False}, type(model).__name__


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1), lambda p: Adam(p, lr=0.1)])
def test_optimizers_minimise_a_quadratic(make):
    params = {"q.w": np.array([3.0, -2.0])}
    opt = make(params)
    for _ in range(300):
        opt.step({"q.w": 2 * params["q.w"]})  # gradient of |w|^2
    assert np.linalg.norm(params["q.w"]) < 1e-2


def test_adam_first_step_is_lr_times_the_sign():
    params = {"a.w": np.array([1.0, 1.0])}
    Adam(params, lr=0.01).step({"a.w": np.array([5.0, -0.1])})
    assert_allclose(params["a.w"], [0.99, 1.01], rtol=1e-6)


# -- data -----------------------------------------------------------------------------------------

def test_stratified_split_keeps_class_shares_and_is_seeded():
    labels = np.repeat(np.arange(10), [50, 60, 40, 50, 50, 50, 50, 50, 50, 50])
    train_idx, test_idx = stratified_split(labels, 100, seed=3)
    assert len(test_idx) == 100 and len(train_idx) == 400
    assert not set(train_idx) & set(test_idx)
    assert np.bincount(labels[test_idx]).tolist() == [10, 12, 8, 10, 10, 10, 10, 10, 10, 10]
    assert_array_equal(stratified_split(labels, 100, seed=3)[1], test_idx)
    assert not np.array_equal(stratified_split(labels, 100, seed=4)[1], test_idx)


def test_stratified_split_sizes_add_up_with_remainders():
    labels = np.array([0] * 7 + [1] * 5 + [2] * 3)
    for n_test in range(1, 15):
        train_idx, test_idx = stratified_split(labels, n_test)
        assert len(test_idx) == n_test and len(train_idx) == 15 - n_test
    with pytest.raises(ValueError, match="n_test must be smaller than the 15 samples; got 15"):
        stratified_split(labels, 15)
    with pytest.raises(ValueError, match="labels must be a 1-D int array"):
        stratified_split(labels.astype(float), 3)


def test_affine_warp_identity_shift_and_rotation():
    rng = np.random.default_rng(0)
    img = rng.random((2, 9, 9))
    assert_allclose(affine_warp(img, [0, 0], [1, 1], np.zeros((2, 2))), img, rtol=1e-6)
    moved = affine_warp(img, [0, 0], [1, 1], [[2, 0], [0, -3]])
    assert_allclose(moved[0, 2:], img[0, :-2], rtol=1e-6)  # down 2 rows
    assert_allclose(moved[0, :2], 0)  # background came in
    assert_allclose(moved[1, :, :-3], img[1, :, 3:], rtol=1e-6)  # left 3 columns
    quarter = affine_warp(img, [90, 90], [1, 1], np.zeros((2, 2)))
    assert_allclose(quarter, np.rot90(img, k=-1, axes=(1, 2)), atol=1e-5)  # clockwise
    with pytest.raises(ValueError, match=r"shift must have shape \(N, 2\) = \(2, 2\)"):
        affine_warp(img, [0, 0], [1, 1], np.zeros(2))


def test_random_affine_is_seeded_small_and_keeps_the_ink():
    digit = np.zeros((4, 28, 28))
    digit[:, 8:20, 12:16] = 255
    a = random_affine(digit, np.random.default_rng(1))
    assert_array_equal(a, random_affine(digit, np.random.default_rng(1)))
    assert a.dtype == np.float32 and a.shape == digit.shape
    assert np.all(np.abs(a.sum(axis=(1, 2)) / digit.sum(axis=(1, 2)) - 1) < 0.25)  # scale 1 +- 0.1
    assert np.all(a[:, :3] == 0) and np.all(a[:, -3:] == 0)  # moved by at most ~3 pixels


# -- the loop -------------------------------------------------------------------------------------

def blobs(n, seed):
    """Two classes of 1 x 4 x 4 'images': bright top half or bright bottom half, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 0.3, (n, 1, 4, 4))
    x[y == 0, :, :2] += 1
    x[y == 1, :, 2:] += 1
    return x, y


def tiny_net(seed=0):
    return nn.Sequential(("c", nn.Linear(16, 8, seed=seed, dtype=np.float64)), ("a", nn.Tanh()),
                         ("o", nn.Linear(8, 2, seed=seed + 1, dtype=np.float64)))


def fit(seed=0, epochs=5, **kw):
    x, y = blobs(200, 0)
    net = nn.Sequential(("flatten", nn.Flatten()), ("mlp", tiny_net(seed)))
    history = train(net, x, y, epochs=epochs, optimizer=SGD(net.parameters(), lr=0.1), batch_size=16,
                    seed=seed, progress=False, **kw)
    return net, history


def test_training_learns_and_is_deterministic():
    net, history = fit(val=blobs(100, 1))
    assert history["loss"][-1] < history["loss"][0] / 3
    assert accuracy(net, *blobs(100, 2)) > 0.95
    again, history2 = fit(val=blobs(100, 1))
    for name, p in net.parameters().items():
        assert_array_equal(p, again.parameters()[name])
    assert_array_equal(history["loss"], history2["loss"])
    assert history["val_accuracy"].shape == (5,) and history["batch_loss"].shape == (5 * 13,) and not net.training


def test_training_keeps_the_best_validation_epoch():
    x_val, y_val = blobs(100, 1)
    net, history = fit(val=(x_val, y_val), epochs=4)
    best = int(history["best_epoch"])
    assert history["val_accuracy"][best] == history["val_accuracy"].max()
    assert accuracy(net, x_val, y_val) == history["val_accuracy"][best]


def test_training_bad_arguments():
    net = tiny_net()
    with pytest.raises(ValueError, match="schedule must be 'cosine' or 'constant'"):
        train(net, np.zeros((4, 16)), np.zeros(4, int), epochs=1, optimizer=SGD(net.parameters()),
              schedule="step", progress=False)
    with pytest.raises(ValueError, match=r"labels must have shape \(N,\) = \(4,\)"):
        train(net, np.zeros((4, 16)), np.zeros(3, int), epochs=1, optimizer=SGD(net.parameters()),
              progress=False)


def test_load_state_copies_and_checks():
    a, b = tiny_net(0), tiny_net(5)
    b.load_state({**a.parameters(), "extra": np.zeros(1)})
    for name, p in a.parameters().items():
        assert_array_equal(b.parameters()[name], p)
    with pytest.raises(ValueError, match=r"missing \['o.b'\]"):
        b.load_state({k: v for k, v in a.parameters().items() if k != "o.b"})
    with pytest.raises(ValueError, match=r"arrays\['c.b'\] must have shape \(8,\); got \(3,\)"):
        b.load_state({**a.parameters(), "c.b": np.zeros(3)})


def test_training_macs_is_three_forward_passes():
    net = nn.Sequential(nn.Flatten(), tiny_net())
    assert training_macs(net, (1, 4, 4), 10) == 3 * (16 * 8 + 8 * 2) * 10


def test_augmented_digits_stay_in_the_grey_range():
    digits = np.full((64, 28, 28), 255, dtype=np.uint8)
    warped = random_affine(digits, np.random.default_rng(0))
    assert warped.min() >= 0 and warped.max() <= 255
