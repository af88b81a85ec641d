"""Convert the MNIST subset handed to the project into ``data/mnist_5k.npz``.

Run once by the maintainers (the result is committed)::

    python tools/make_mnist_npz.py ../shared/data/mnist_5k.csv.gz data/mnist_5k.npz

Input: gzip'd CSV, one image per row, 784 grey levels (row-major) then the label.
Output: ``images`` uint8 (5000, 28, 28) and ``labels`` uint8 (5000,). Afterwards, update the
sha256 in ``data/README.md`` and ``cnnlib/data.py`` (``sha256sum data/mnist_5k.npz``).
"""

import gzip
import hashlib
import sys

import numpy as np

SOURCE_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"


def main(src: str, dst: str) -> None:
    raw = open(src, "rb").read()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"{src}: sha256 {digest} is not the expected {SOURCE_SHA256}")
    table = np.loadtxt(gzip.open(src, "rt"), delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785) or table.min() < 0 or table[:, :784].max() > 255:
        raise SystemExit(f"{src}: unexpected table shape {table.shape} or value range")
    images = table[:, :784].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, 784].astype(np.uint8)
    np.savez_compressed(dst, images=images, labels=labels)
    print(f"{dst}: {len(labels)} images, sha256 {hashlib.sha256(open(dst, 'rb').read()).hexdigest()}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
