"""Why im2col's copy costs more inside conv2d than alone: the copy that follows a GEMM.

``conv2d`` (im2col) copies each group's windows into a column buffer and multiplies it by the
filters with a two-thread GEMM; the next group, or the next call, copies into the same buffer.
This script times that copy, ``numpy.copyto`` of one group's column matrix, for AlexNet's conv3
and conv4 and VGG-16's conv5_1 (float32, N = 1) in three situations, each after a 0.2 s pause:

- *alone*: OpenBLAS's second thread asleep, the buffer last touched by this thread;
- *after a GEMM on other data*: right after a two-thread GEMM that did not read the buffer
  (OpenBLAS's second thread spins for about 0.1 s after each call);
- *after the GEMM that read it*: right after a two-thread GEMM that read the buffer, as in
  conv2d: each line written must first be taken back from the other core's caches.

It prints the best and the median time of each, and their ratio to *alone*.

    .venv/bin/python benchmarks/copy_after_gemm.py [--rounds K]
"""

from __future__ import annotations

import argparse
import time

import blas_env  # before numpy: re-executes without the OpenBLAS pins
import numpy as np

from cnnlib.layers.windows import windows

# (name, C/groups, H = W, M/groups): 3 x 3 filters, stride 1, padding 1.
LAYERS = [("AlexNet conv3", 256, 13, 384), ("AlexNet conv4", 192, 13, 192),
          ("VGG-16 conv5_1", 512, 14, 512)]
PAUSE = 0.2  # seconds: OpenBLAS's idle thread stops spinning and sleeps


def situations(Cg, H, Mg, rng):
    """The three timed copies for one layer, as callables returning seconds."""
    x = rng.standard_normal((1, Cg, H + 2, H + 2), dtype=np.float32)  # already padded
    src = windows(x, 3, 3, H, H, (1, 1), (1, 1))[0]  # (C, R, S, E, F), a strided view
    cols, other = np.zeros(src.shape, np.float32), np.zeros(src.shape, np.float32)
    w = rng.standard_normal((Mg, Cg * 9), dtype=np.float32)

    def copy():
        start = time.perf_counter()
        np.copyto(cols, src)
        return time.perf_counter() - start

    def alone():
        np.copyto(other, src)  # this thread busy, BLAS's asleep
        return copy()

    def after_other_gemm():
        np.matmul(w, other.reshape(Cg * 9, -1))
        return copy()

    def after_own_gemm():
        np.matmul(w, cols.reshape(Cg * 9, -1))
        return copy()

    return {"alone": alone, "after a GEMM on other data": after_other_gemm,
            "after the GEMM that read it": after_own_gemm}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=25, help="rounds per situation")
    args = parser.parse_args()
    print(f"{blas_env.kernels()}; best and median of {args.rounds} rounds, each after {PAUSE} s")
    rng = np.random.default_rng(0)
    for name, Cg, H, Mg in LAYERS:
        cases = situations(Cg, H, Mg, rng)
        times = {case: [] for case in cases}
        for _ in range(args.rounds):
            for case, fn in cases.items():
                time.sleep(PAUSE)
                times[case].append(fn())
        base = np.median(times["alone"])
        print(f"\n{name}: copy of {Cg * 9} x {H * H} values ({Cg * 9 * H * H * 4 / 2**20:.1f} MiB)")
        print(f"{'situation':<30}{'best ms':>9}{'median ms':>11}{'median / alone':>16}")
        for case, ts in times.items():
            print(f"{case:<30}{min(ts) * 1e3:>9.3f}{np.median(ts) * 1e3:>11.3f}"
                  f"{np.median(ts) / base:>16.2f}")


if __name__ == "__main__":
    main()
