"""One seed per layer, drawn from the model's seed, so every layer starts from different weights."""

from __future__ import annotations

import numpy as np


def seed_stream(seed):
    """Yield an endless stream of int seeds derived from ``seed`` (reproducible).

    Examples
    --------
    >>> s, t = seed_stream(0), seed_stream(0)
    >>> next(s) == next(t), next(s) == next(s)
    (True, False)
    """
    rng = np.random.default_rng(seed)
    while True:
        yield int(rng.integers(2**31 - 1))
