import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from cnnlib import data


def test_load_mnist_shapes_and_balance():
    images, labels = data.load_mnist()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    assert images.max() == 255 and images.min() == 0


def test_readme_lists_the_same_checksums():
    readme = (data.DATA_DIR / "README.md").read_text()
    listed = dict(re.findall(r"^\| (\S+) \| ([0-9a-f]{64}) \|$", readme, re.M))
    assert listed == data.CHECKSUMS
    for name, digest in data.CHECKSUMS.items():
        assert data.sha256(data.DATA_DIR / name) == digest


def test_missing_file_names_it_and_says_how_to_restore(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"mnist_5k.npz is missing: restore it with `git checkout"):
        data.load_mnist(data_dir=tmp_path)


def test_corrupted_file_is_refused(tmp_path: Path):
    bad = tmp_path / "mnist_5k.npz"
    shutil.copy(data.DATA_DIR / "mnist_5k.npz", bad)
    with open(bad, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    with pytest.raises(ValueError, match=r"mnist_5k.npz is corrupted: its sha256 is [0-9a-f]{64}, expected"):
        data.load_mnist(data_dir=tmp_path)


def test_unknown_name():
    with pytest.raises(ValueError, match="name must be one of the shipped files"):
        data.load_npz("cifar.npz")
