"""LeNet-5 reading raw MNIST digits: preprocessing, predict, and the shipped trained weights."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from cnnlib import models
from cnnlib.data import load_mnist, load_npz
from cnnlib.models.lenet import mnist_input
from cnnlib.train import LENET5_RECIPE, lenet5_split, stratified_split


def test_mnist_input_pads_and_scales_like_the_paper():
    digits = np.zeros((3, 28, 28), np.uint8)
    digits[:, 10:18, 13:15] = 255
    x = mnist_input(digits)
    assert x.shape == (3, 1, 32, 32) and x.dtype == np.float32
    assert_allclose(x[:, 0, :2], -0.1)  # padding is background
    assert_allclose(x[0, 0, 12:20, 15:17], 1.175, rtol=1e-6)
    assert mnist_input(digits[0], dtype=np.float64).shape == (1, 1, 32, 32)


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((2, 32, 32)), r"images must be MNIST digits \(N, 28, 28\) or \(28, 28\); got shape \(2, 32, 32\)"),
        (np.full((28, 28), 300.0), r"images must hold grey levels 0 ... 255; got 300.0 ... 300.0"),
        (np.full((3, 28, 28), 0.5), r"images look scaled to 0 ... 1 \(largest value 0.5\); pass grey levels 0 ... 255"),
    ],
)
def test_mnist_input_bad_images(images, message):
    with pytest.raises(ValueError, match=message):
        mnist_input(images)


def test_mnist_input_takes_integer_and_blank_images():
    """Only floats that stop at 1 are refused: uint8 ink of 1 and all-blank float images pass."""
    assert mnist_input(np.ones((28, 28), dtype=np.uint8)).shape == (1, 1, 32, 32)
    np.testing.assert_allclose(mnist_input(np.zeros((2, 28, 28))), -0.1, rtol=1e-6)


def test_predict_shapes_and_mode():
    net = models.lenet5(seed=1)
    digits = load_mnist()[0][:5]
    labels = net.predict(digits)
    assert labels.shape == (5,) and np.issubdtype(labels.dtype, np.integer)
    assert net.predict(digits[2]) == labels[2] and isinstance(net.predict(digits[2]), int)
    p = net.predict_proba(digits)
    assert p.shape == (5, 10) and np.allclose(p.sum(axis=1), 1)
    net.train()
    net.predict(digits)
    assert net.training  # predict restores the mode


def test_the_split_is_fixed_stratified_and_disjoint():
    labels = load_mnist()[1].astype(np.int64)
    fit, val, test = lenet5_split(labels)
    assert (len(fit), len(val), len(test)) == (3500, 500, 1000)
    assert len(set(fit) | set(val) | set(test)) == 5000
    assert np.bincount(labels[test]).tolist() == [100] * 10
    assert np.bincount(labels[val]).tolist() == [50] * 10
    assert_array_equal(test, stratified_split(labels, LENET5_RECIPE["n_test"], 0)[1])


def test_pretrained_needs_the_trained_configuration():
    with pytest.raises(ValueError, match="pretrained=True needs the trained network's sparse_c3=False"):
        models.lenet5(pretrained=True, activation="sigmoid")


def test_digit_picker_shows_each_digit():
    from cnnlib.widgets import digit_picker

    images, labels = load_mnist()
    box = digit_picker(models.lenet5(seed=2), images[:4], labels[:4])
    first = box.children[1].value
    box.children[0].children[0].value = 3
    assert box.children[1].value[:4] == b"\x89PNG" and box.children[1].value != first
    with pytest.raises(ValueError, match=r"labels must have shape \(N,\) = \(4,\)"):
        digit_picker(models.lenet5(), images[:4], labels[:3])


def test_pretrained_reads_the_unseen_test_digits():
    images, labels = load_mnist()
    _, _, test = lenet5_split(labels.astype(np.int64))
    net = models.lenet5(pretrained=True)
    accuracy = np.mean(net.predict(images[test]) == labels[test])
    stored = load_npz("lenet5.npz")
    assert accuracy >= 0.97
    assert accuracy == pytest.approx(float(stored["history_test_accuracy"]))
    assert_array_equal(net["c3"].w, stored["c3.w"])
    assert net["c1"].w.dtype == np.float32
    assert models.lenet5(pretrained=True, dtype=np.float64)["f5"].w.dtype == np.float64


def test_the_training_command_reproduces_the_shipped_first_epoch(tmp_path):
    """`python -m cnnlib.train lenet5` is the recipe behind data/lenet5.npz: its first epoch
    (the cosine schedule starts at the same rate whatever the epoch count) gives the shipped
    file's minibatch losses again."""
    import subprocess
    import sys

    from cnnlib.data import load_npz

    out = tmp_path / "lenet5.npz"
    res = subprocess.run([sys.executable, "-m", "cnnlib.train", "lenet5", "--epochs", "1", "--quiet",
                          "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "test accuracy" in res.stdout and f"wrote {out}" in res.stdout
    shipped = load_npz("lenet5.npz")
    with np.load(out, allow_pickle=False) as fresh:
        n = len(fresh["history_batch_loss"])
        assert n == 3500 // 64 + 1
        np.testing.assert_allclose(fresh["history_batch_loss"], shipped["history_batch_loss"][:n], rtol=1e-3)
        assert set(fresh.files) == set(shipped)
