"""The data the course ships in ``data/``, loaded with its checksum verified.

Nothing is downloaded: every file lives in the repository's ``data/`` folder, listed with its
provenance, license and sha256 in ``data/README.md``. ``np.load`` is always called with
``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

#: The repository's data folder (the package is installed in editable mode from the clone).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

#: file name -> sha256 of the committed file; data/README.md lists the same values.
CHECKSUMS = {
    "mnist_5k.npz": "246e0c30eeea57c8d0037d3f38c8e00651ec204cc61b8022563e9aeeb9d756f4",
    "lenet5.npz": "ecb3cc9875973d0d166ee0744f83f709812bce3d5d2979c366b55c4003c158f2",
    "lenet5_repeats.npz": "be4453594ee4b78c8b42a5670f16d4eac5089f1414e4e894009c7054ba7cb3f1",
    "lenet5_pruned.npz": "83f63c756816c4ff0abb49d8a548b57b783b0fa19b8f8a3e28555e7d0c36ee36",
}

_RESTORE = "restore it with `git checkout -- data/{name}` (or a fresh clone of the course)"


def sha256(path) -> str:
    """Return the hex sha256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_npz(name: str, data_dir=None) -> dict[str, np.ndarray]:
    """Load ``data/<name>`` after checking its sha256 against ``CHECKSUMS``.

    Returns a dict of arrays. Raises ``FileNotFoundError`` for a missing file and
    ``ValueError`` for a corrupted one; both name the file and say how to restore it.
    """
    if name not in CHECKSUMS:
        raise ValueError(f"name must be one of the shipped files {sorted(CHECKSUMS)}; got {name!r}")
    path = Path(data_dir or DATA_DIR) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {_RESTORE.format(name=name)}")
    actual = sha256(path)
    if actual != CHECKSUMS[name]:
        raise ValueError(
            f"{path} is corrupted: its sha256 is {actual}, expected {CHECKSUMS[name]}; "
            + _RESTORE.format(name=name)
        )
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def load_mnist(data_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """The course's 5,000 MNIST digits (500 per class).

    Returns
    -------
    images : uint8 array (5000, 28, 28)
        Grey levels 0 (background) to 255 (ink).
    labels : uint8 array (5000,)
        Digits 0-9.
    """
    arrays = load_npz("mnist_5k.npz", data_dir)
    return arrays["images"], arrays["labels"]
