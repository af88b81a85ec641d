"""Whole-network mapping benchmark: ``python -m cnnlib map MODEL --all`` in-process, timed
(target: VGG-16 under 30 s on this 2-core machine, with the mapper's cache cold).

Prints the time per layer (the mapper's own search time, 0 for a layer whose shape was already
searched: ``mapper.search`` remembers), the total wall time, and the network's totals.

    .venv/bin/python benchmarks/map_all.py [--model vgg16] [--dataflow rs] [--batch 1]
"""

import argparse
import platform
import time

from cnnlib import models
from cnnlib.hardware import mapper
from cnnlib.hardware.dataflows import DATAFLOWS
from cnnlib.hardware.network import map_network


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vgg16", choices=models.names())
    parser.add_argument("--dataflow", default="rs", choices=tuple(DATAFLOWS))
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{args.model} {args.dataflow}, batch {args.batch}")
    mapper.clear_cache()
    seen = set()
    start = time.perf_counter()
    net = map_network(args.model, batch=args.batch, flow=args.dataflow)
    wall = time.perf_counter() - start
    print(f"{'layer':<34}{'search (s)':>11}{'energy/MAC':>11}{'DRAM/MAC':>10}{'util':>6}")
    for lc, row in zip(net.layers, net.rows(), strict=True):
        fresh = lc.layer not in seen  # a repeated shape came from the cache
        seen.add(lc.layer)
        print(f"{lc.name:<34}{lc.best.seconds if fresh else 0:>11.2f}{row['energy'] / row['macs']:>11.2f}"
              f"{row['dram_accesses_per_mac']:>10.4f}{row['utilization']:>6.0%}")
    t = net.total()
    print(f"total {wall:.2f} s for {len(net.layers)} layers (target < 30 s); "
          f"{t['inferences_per_s']:.3g} inferences/s, "
          f"{t['energy_per_inference_pj'] / 1e6:.4g} uJ per inference")


if __name__ == "__main__":
    main()
