"""Benchmark cnnlib.layers.conv2d against the GEMM it reduces to and against PyTorch.

For every CONV layer of VGG-16 (N = 1, 3 x 224 x 224), AlexNet 2012 (N = 1, 3 x 227 x 227) and
LeNet-5 (N = 64, 1 x 32 x 32), float32, it times

- ``conv2d`` (no bias), noting the method it picks for the layer (im2col; "rows", im2col over
  whole padded rows; or Winograd), and on Winograd layers also the im2col method alone;
- the GEMM of the same shape, ``numpy.matmul`` of (M/groups) x (C/groups R S) by
  (C/groups R S) x (N E F), once per group: the work im2col reduces the layer to, with no copy;
- ``torch.nn.functional.conv2d`` with as many threads as BLAS uses, if PyTorch is installed
  (it is never a dependency of the course; the columns are left out without it). Besides
  conv/torch it prints GEMM/torch, the bare GEMM's time over torch's: a floor for im2col.

The layer shapes come from the models themselves: ``cnnlib.counting.conv_layers`` lists a
model's CONV and FC layers as ``ConvShape`` objects, and the CONV ones (``cnnlib.nn.Conv2d``)
are kept. The weights are the models' own (seeded) initial weights; inputs are seeded normal.

Timing: the methods of a layer (conv2d, the GEMM, torch) run in interleaved rounds, and each
keeps its best round (best-of-k). Each timed call comes right after an untimed call of the same
method, as in a network that runs layer after layer, and each method's pair of calls comes
after a pause of ``SETTLE`` seconds. The pause lets the previous method's idle threads stop
spinning (OpenBLAS's spin for about 0.1 s after a call, PyTorch's OpenMP threads for several
ms): timed right after torch, conv2d ran while torch's threads still held the cores, and one of
VGG-16's three 14 x 14 layers, a different one each run, took 7.4 instead of 3.5 ms in every
round (with OMP_WAIT_POLICY=PASSIVE the outliers vanished). Interleaving every method in every
round, rather than timing torch in a phase of its own, makes all of them sample the same
moments of a machine whose speed drifts: on a 2-vCPU cloud VM the same conv2d call took 2.7 ms
in one second and 4.6 ms in another (benchmarks/README.md, session 4).
Environment: measured as a user's machine runs. If ``OPENBLAS_CORETYPE`` or
``OPENBLAS_L2_SIZE`` is set (some CI machines pin numpy's OpenBLAS to older kernels that way),
the script re-executes itself without them, for its own process only (``blas_env.py``);
every table is headed by the OpenBLAS kernel in use (threadpoolctl's ``architecture``) and
PyTorch's CPU capability.
Run with ``make benchmark`` or ``python benchmarks/conv.py [--repeat K] [--threads T]``;
``--quick`` times one layer per network, a smoke test rather than a measurement.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import time

import blas_env  # before numpy: re-executes without the OpenBLAS pins

QUICK_LAYERS = {"vgg16": "conv3_2", "alexnet": "conv3", "lenet5": "c3"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds per layer (best kept)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads; also pins the process to that many CPUs "
                             "(default: what BLAS picks, unpinned)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: process CPU time, steadier on a busy machine (use with --threads 1)")
    parser.add_argument("--nets", nargs="+", default=["vgg16", "alexnet", "lenet5"],
                        choices=["vgg16", "alexnet", "lenet5"], help="networks to run")
    parser.add_argument("--quick", action="store_true",
                        help="one layer per network (" + ", ".join(QUICK_LAYERS.values())
                             + "), 2 rounds: checks the script runs, measures nothing reliably")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 2
    return args


ARGS = parse_args()
if ARGS.threads is not None:  # before numpy loads BLAS
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: ARGS.threads])
CLOCK = time.process_time if ARGS.clock == "cpu" else time.perf_counter

import numpy as np  # noqa: E402

from cnnlib import counting, models, nn  # noqa: E402
from cnnlib.layers import conv2d, conv_fast  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

BATCH = {"vgg16": 1, "alexnet": 1, "lenet5": 64}
TITLE = {"vgg16": "VGG-16", "alexnet": "AlexNet", "lenet5": "LeNet-5"}


def blas_threads() -> int:
    """Threads the loaded OpenBLAS uses (asked through ctypes; falls back to the CPU count)."""
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line}
        for path in libs:
            lib = ctypes.CDLL(path)
            for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                         "openblas_get_num_threads"):
                if hasattr(lib, name):
                    return int(getattr(lib, name)())
    except OSError:
        pass
    return ARGS.threads or os.cpu_count() or 1


def conv_layers(name):
    """(layer name, ConvShape, weights) of every CONV layer of model ``name``."""
    model = models.get(name)
    shape = models.input_shape(name)
    convs = {qual: layer for qual, layer, _, _ in model.layers(shape) if isinstance(layer, nn.Conv2d)}
    return [(qual, s, convs[qual].w) for qual, s in counting.conv_layers(model, shape, BATCH[name])
            if qual in convs]


SETTLE = 0.2  # seconds for idle BLAS / OpenMP threads to stop spinning between methods


def best_times(fns, repeat):
    """Best time of each callable over ``repeat`` interleaved rounds, each after a pause and a warm call."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for key, fn in fns.items():
            time.sleep(SETTLE)  # the previous method's idle threads stop spinning
            fn()  # warm: this method's threads are the ones awake
            start = CLOCK()
            fn()
            best[key] = min(best[key], CLOCK() - start)
    return best


def time_layer(s, w, rng, repeat):
    """Times of conv2d, the equivalent GEMM(s) and torch (if present) for one ConvShape."""
    x = rng.standard_normal((s.N, s.C, s.H, s.W), dtype=np.float32)
    K = (s.C // s.groups) * s.R * s.S
    a = rng.standard_normal((s.M // s.groups, K), dtype=np.float32)
    b = rng.standard_normal((K, s.N * s.E * s.F), dtype=np.float32)
    c = np.empty((a.shape[0], b.shape[1]), dtype=np.float32)
    kw = dict(stride=s.U, padding=s.P, groups=s.groups)

    def gemm():
        for _ in range(s.groups):
            np.matmul(a, b, out=c)

    fns = {"conv2d": lambda: conv2d(x, w, **kw), "gemm": gemm}
    if method(s) == "winograd":
        fns["im2col"] = lambda: conv_fast.conv2d_im2col_blocked(
            x, w, (s.U, s.U), (s.P, s.P), (1, 1), s.groups, s.E, s.F)
    if torch is not None:
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)

        def torch_conv():
            with torch.no_grad():
                torch.nn.functional.conv2d(xt, wt, **kw)

        got = conv2d(x, w, **kw)
        with torch.no_grad():
            want = torch.nn.functional.conv2d(xt, wt, **kw).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3 * float(np.abs(want).max()))
    if torch is not None:
        fns["torch"] = torch_conv
    return best_times(fns, repeat)


def method(s):
    """The method conv2d picks for this layer shape (see conv2d's Notes)."""
    return conv_fast.method((s.M, s.C // s.groups, s.R, s.S), (s.U, s.U), (1, 1), s.groups, s.E, s.F)


def geomean(values):
    return float(np.exp(np.mean(np.log(values))))


def main():
    threads = blas_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    print(f"numpy {np.__version__}, BLAS threads {threads}, "
          + (f"torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else "no torch")
          + f", {ARGS.clock} clock, best of {ARGS.repeat}, load average {os.getloadavg()[0]:.2f}")
    rng = np.random.default_rng(0)
    header = (f"{'layer':<10}{'N C H -> M RxS/U g':>24}{'method':>10}{'conv2d ms':>11}{'GFLOP/s':>9}"
              f"{'GEMM GFLOP/s':>14}{'conv/GEMM':>11}{'im2col/GEMM':>13}"
              + (f"{'conv/torch':>12}{'GEMM/torch':>12}" if torch else ""))
    summary = {}
    for name in ARGS.nets:
        print(f"\n{TITLE[name]} ({blas_env.kernels(torch)})\n{header}")
        gemm_ratios, im2col_ratios, torch_ratios, bound_ratios, free_copy = [], [], [], [], []
        for qual, s, w in conv_layers(name):
            if ARGS.quick and qual != QUICK_LAYERS[name]:
                continue
            t = time_layer(s, w, rng, ARGS.repeat)
            flops = 2 * s.macs
            gemm_ratios.append(t["gemm"] / t["conv2d"])  # conv2d GFLOP/s over GEMM GFLOP/s
            im2col_ratios.append(t["gemm"] / t.get("im2col", t["conv2d"]))
            shape = f"{s.N} {s.C} {s.H} -> {s.M} {s.R}x{s.S}/{s.U} {s.groups}"
            label = {"winograd": "winograd", "im2col": "im2col", "im2col, whole rows": "rows"}[method(s)]
            row = (f"{qual:<10}{shape:>24}{label:>10}{t['conv2d'] * 1e3:>11.2f}"
                   f"{flops / t['conv2d'] / 1e9:>9.1f}{flops / t['gemm'] / 1e9:>14.1f}"
                   f"{gemm_ratios[-1]:>11.2f}{im2col_ratios[-1]:>13.2f}")
            if torch is not None:
                torch_ratios.append(t["conv2d"] / t["torch"])  # time ratio: < 1 is faster than torch
                bound_ratios.append(t["gemm"] / t["torch"])  # what im2col could reach with a free copy
                free_copy.append((t["conv2d"] if method(s) == "winograd" else t["gemm"]) / t["torch"])
                row += f"{torch_ratios[-1]:>12.2f}{bound_ratios[-1]:>12.2f}"
            print(row, flush=True)
        summary[name] = (gemm_ratios, torch_ratios, free_copy)
        print(f"{'geometric mean':<78}{geomean(gemm_ratios):>11.2f}{geomean(im2col_ratios):>13.2f}"
              + (f"{geomean(torch_ratios):>12.2f}{geomean(bound_ratios):>12.2f}" if torch_ratios else ""))
    print("\nGFLOP/s count the direct method's 2 N M E F (C/groups) R S FLOPs (Winograd does fewer).")
    print("conv/GEMM: conv2d's GFLOP/s over the same-shape GEMM's (target >= 0.85 on VGG-16);")
    print("im2col/GEMM: the same for the im2col method alone (equal to conv/GEMM where conv2d uses it).")
    if torch is not None:
        print("conv/torch: conv2d's time over torch's (target <= 1.0 over VGG-16 and AlexNet, "
              "<= 1.3 on LeNet-5).")
        print("GEMM/torch: the bare GEMM's time over torch's, a floor for im2col (its GEMM, with a copy "
              "that costs nothing).")
        big = [r for n in ("vgg16", "alexnet") if n in summary for r in summary[n][1]]
        if big:
            free = [r for n in ("vgg16", "alexnet") if n in summary for r in summary[n][2]]
            print(f"VGG-16 + AlexNet conv/torch geometric mean: {geomean(big):.2f}; "
                  f"{geomean(free):.2f} if im2col's copy cost nothing (its layers at their GEMM's time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
