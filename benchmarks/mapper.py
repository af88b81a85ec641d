"""Mapper benchmark: the best row-stationary mapping of every VGG-16 conv layer on the
Eyeriss-like architecture (target: under 10 s in total on 2 cores).

Prints, per layer, the search time, the candidates costed, the energy per MAC, and how far the
best mapping is from the compulsory-traffic lower bound (energy, and DRAM words moved).

    .venv/bin/python benchmarks/mapper.py [--dataflow rs] [--model vgg16]
"""

import argparse
import platform
import time

from cnnlib import models
from cnnlib.counting import conv_layers
from cnnlib.hardware.dataflows import DATAFLOWS
from cnnlib.hardware.mapper import clear_cache, search


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vgg16")
    parser.add_argument("--dataflow", default="rs", choices=tuple(DATAFLOWS))
    args = parser.parse_args()
    layers = [(n, s) for n, s in conv_layers(models.get(args.model), models.input_shape(args.model))
              if s.E * s.F > 1]  # the CONV layers (FC layers have E = F = 1)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{args.model} {args.dataflow}")
    print(f"{'layer':<9}{'time (s)':>9}{'costed':>9}{'energy/MAC':>11}{'x bound':>9}{'DRAM x':>8}{'util':>7}")
    start = time.perf_counter()
    for name, shape in layers:
        clear_cache()  # time every layer's search, even a shape searched before (search remembers)
        best = search(shape, args.dataflow)
        print(f"{name:<9}{best.seconds:>9.2f}{best.evaluated:>9}{best.energy / shape.macs:>11.2f}"
              f"{best.above_bound:>9.2f}{best.dram_over_compulsory:>8.2f}{best.report.utilization:>7.0%}")
    print(f"total {time.perf_counter() - start:.2f} s for {len(layers)} layers")


if __name__ == "__main__":
    main()
