"""Command line: ``python -m cnnlib <command> ...`` (also installed as ``cnnlib``).

Each command is a function ``_cmd_<name>(args)`` registered in ``_parser()``; ``--json`` output
is what scripts and tests use.
"""

from __future__ import annotations

import argparse
import sys

from .hardware import dataflows, systolic
from .hardware.arch import EYERISS_CLOCK_HZ
from .hardware.precision import PRECISIONS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cnnlib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("conv-size", help="output size of a conv layer along one axis")
    p.add_argument("H", type=int, help="input size")
    p.add_argument("R", type=int, help="filter size")
    p.add_argument("--padding", type=int, default=0)
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--dilation", type=int, default=1)
    p.set_defaults(func=_cmd_conv_size)
    p = sub.add_parser("systolic", help="a conv layer on a systolic array (SCALE-Sim's model)")
    p.add_argument("--ifmap", required=True, metavar="H,W,C", help="input size, padding included")
    p.add_argument("--filter", required=True, metavar="R,S,M", help="filter size and number")
    p.add_argument("--stride", default="1", metavar="U")
    p.add_argument("--array", required=True, metavar="ROWS,COLS", help="PEs of the array")
    p.add_argument("--dataflow", required=True, metavar="|".join(systolic.DATAFLOWS))
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_systolic)
    p = sub.add_parser("summary", help="per-layer weights, MACs and activations of a famous CNN")
    p.add_argument("model", metavar="MODEL", help="a name from cnnlib.models.names(), e.g. alexnet")
    p.add_argument("--input", metavar="C,H,W", help="input shape (default: the model's own)")
    p.add_argument("--batch", type=int, default=1, metavar="N", help="batch size (multiplies MACs)")
    p.add_argument("--convention", default="lecture",
                   help="what a MAC includes: lecture (default), lecun, torchinfo, fvcore, ptflops")
    p.add_argument("--bias-adds", action="store_true", help="count each bias add as a MAC")
    p.add_argument("--other-ops", action="store_true",
                   help="count pooling, batch-norm, activation and LRN operations as MACs")
    p.add_argument("--variant", choices=("v1", "v1.5"), help="ResNet: stride on the 1x1 (v1) or 3x3 (v1.5)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_summary)
    p = sub.add_parser(
        "map",
        help="map a CNN layer (or, with --all, every CONV/FC layer) onto the Eyeriss-like accelerator",
        description="The mapper's best mapping of one CONV/FC layer for a dataflow: loop nest, MACs, "
        "accesses and energy per level and operand, cycles and utilization. With --all, every CONV and "
        "FC layer of the model one after another: per-layer rows, totals and per-inference metrics.",
        epilog="JSON keys (--layer): model, layer_name, dataflow, sliding_window, "
        "layer {N,C,H,W,M,R,S,U,P,groups}, "
        "arch, loop_nest, macs, accesses {level: {weights|inputs|outputs: {reads, writes}}}, "
        "noc {operand: words}, "
        "energy {total, per_mac, unit, per_level {level}, noc, mac}, cycles {total, compute, "
        "bandwidth {level}}, utilization, effective_utilization, active_pes, pes, lower_bound, "
        "above_bound (energy / lower bound). Energies are in multiples of one MAC's energy. "
        "JSON keys (--all): model, batch, dataflow, precision, arch, energy_unit, clock_hz, pes, "
        "sliding_window, "
        "layers [{name, macs, energy, energy_by_level {level, NoC, MAC}, energy_pj, cycles, latency_s, "
        "dram_accesses (words), dram_accesses_per_mac, utilization, spatial_utilization}], total {the same "
        "keys, inferences_per_s, energy_per_inference, energy_per_inference_pj, inferences_per_J, "
        "tops_per_W, power_W, chip_power_W}; energy_pj prices the same counts with Horowitz's 45 nm table.",
    )
    p.add_argument("model", metavar="MODEL", help="a name from cnnlib.models.names(), e.g. vgg16")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--layer", metavar="NAME", help="a CONV or FC layer name, e.g. conv1")
    which.add_argument("--all", action="store_true", help="every CONV and FC layer, with totals")
    p.add_argument("--batch", type=int, default=1, metavar="N", help="images per run (N of every layer)")
    p.add_argument("--dataflow", default="rs", choices=tuple(dataflows.DATAFLOWS))
    p.add_argument("--precision", choices=tuple(PRECISIONS),
                   help="word size of the chip (default: its own 16-bit words, Sze's normalized costs)")
    p.add_argument("--clock-mhz", type=float, default=EYERISS_CLOCK_HZ / 1e6,
                   help="clock for latency and throughput (default: Eyeriss's 200 MHz)")
    p.add_argument("--objective", default="energy", choices=("energy", "edp"))
    p.add_argument("--no-sliding-window", action="store_true",
                   help="refetch a whole input tile whenever it moves (the model without sliding-window "
                        "reuse, Architecture.sliding_window=False)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_cmd_map)
    p = sub.add_parser(
        "quantize",
        help="LeNet-5 with b-bit integer weights and activations: accuracy, weight memory, energy",
        description="Quantize the trained LeNet-5 to b-bit integers (calibrated on the 500 validation "
        "digits), run it integer-only on the 1,000 test digits, and compare with float: accuracy, weight "
        "memory, and energy per inference on the Eyeriss-like array (Horowitz's 45 nm table).",
        epilog="JSON keys: model, bits, per_channel, calibration_digits, test_digits, float_accuracy, "
        "quantized_accuracy, weight_bytes {float32, quantized}, "
        "energy_per_inference_pj {float32, quantized}, energy_model. Below 8 bits a MAC is priced as an "
        "int8 MAC (Horowitz's table starts at 8 bits).",
    )
    p.add_argument("model", choices=("lenet5",), help="the trained network (lenet5)")
    p.add_argument("--bits", type=int, required=True, metavar="B",
                   help="bits of weights and activations, 2 ... 16")
    p.add_argument("--per-channel", action="store_true",
                   help="one weight scale per filter instead of per layer")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_cmd_quantize)
    return parser


def _cmd_conv_size(args) -> None:
    from .counting import conv_output_size

    print(conv_output_size(args.H, args.R, args.padding, args.stride, args.dilation))


def _ints(text: str, option: str, count: int) -> list[int]:
    """Parse "a,b,c" given to ``option`` into ``count`` ints (ValueError naming the option)."""
    parts = text.split(",")
    if len(parts) != count or not all(p.strip().lstrip("-").isdigit() for p in parts):
        raise ValueError(f"{option} must be {count} comma-separated integers; got {text!r}")
    return [int(p) for p in parts]


def _cmd_systolic(args) -> None:
    import json

    result = systolic.topology_layer(
        _ints(args.ifmap, "--ifmap", 3),
        _ints(args.filter, "--filter", 3),
        _ints(args.stride, "--stride", 1)[0],
        _ints(args.array, "--array", 2),
        args.dataflow,
    )
    print(json.dumps(result.to_dict(), indent=2) if args.json else result)


def _cmd_summary(args) -> None:
    import dataclasses
    import json

    from . import models
    from .counting import get_convention, summary

    convention = get_convention(args.convention)
    if args.bias_adds or args.other_ops:
        convention = dataclasses.replace(convention, bias_adds=convention.bias_adds or args.bias_adds,
                                         other_ops=convention.other_ops or args.other_ops)
    shape = models.input_shape(args.model)  # raises, listing the names, for an unknown model
    if args.input is not None:
        shape = tuple(_ints(args.input, "--input", 3))
    kwargs = {}
    if args.variant is not None:
        if not args.model.startswith("resnet"):
            raise ValueError(f"--variant applies to the ResNets only; got model {args.model!r}")
        kwargs["variant"] = args.variant
    result = summary(models.get(args.model, **kwargs), shape, N=args.batch, convention=convention)
    print(json.dumps({"model": args.model, **result.to_dict()}, indent=2) if args.json else result)


def _cmd_map(args) -> None:
    import json
    from dataclasses import replace

    from . import models
    from .counting import conv_layers
    from .hardware.dataflows import dataflow
    from .hardware.mapper import search
    from .hardware.network import map_network
    from .hardware.precision import priced

    flow = dataflow(args.dataflow)
    if args.no_sliding_window:
        flow = replace(flow, arch=replace(flow.arch, sliding_window=False))
    if args.all:
        net = map_network(args.model, batch=args.batch, flow=flow, prec=args.precision,
                          clock_hz=args.clock_mhz * 1e6, objective=args.objective)
        result = {**net.to_dict(), "sliding_window": flow.arch.sliding_window}
        print(json.dumps(result, indent=2) if args.json else net)
        return
    layers = dict(conv_layers(models.get(args.model), models.input_shape(args.model), args.batch))
    if args.layer not in layers:
        known = ", ".join(layers)
        raise ValueError(f"--layer must be a CONV/FC layer of {args.model}: {known}; got {args.layer!r}")
    if args.precision is not None:
        flow = replace(flow, arch=priced(flow.arch, args.precision))
    best = search(layers[args.layer], flow, args.objective)
    r = best.report
    if args.json:
        head = {"model": args.model, "layer_name": args.layer, "dataflow": args.dataflow,
                "sliding_window": flow.arch.sliding_window}
        tail = {"lower_bound": best.lower_bound, "above_bound": best.above_bound}
        print(json.dumps({**head, **r.to_dict(), **tail}, indent=2))
        return
    print(f"{args.model} {args.layer}: {r.layer}, {r.macs:,} MACs, dataflow {args.dataflow}")
    print(r.arch.table(), "", r.mapping.loop_nest(r.layer, r.arch), "", r.table(), sep="\n")
    print(f"lower bound (compulsory DRAM traffic + MACs) {best.lower_bound:,.0f}: x{best.above_bound:.2f}")


def _cmd_quantize(args) -> None:
    import json

    from .quantize.evaluate import lenet5_report

    r = lenet5_report(args.bits, per_channel=args.per_channel)
    if args.json:
        print(json.dumps(r, indent=2))
        return
    mem, energy = r["weight_bytes"], r["energy_per_inference_pj"]
    granularity = "per channel" if r["per_channel"] else "per tensor"
    print(f"LeNet-5, {r['bits']}-bit weights and activations ({granularity}), "
          f"calibrated on {r['calibration_digits']} validation digits")
    print(f"accuracy on {r['test_digits']} test digits: float {r['float_accuracy']:.1%}, "
          f"{r['bits']}-bit {r['quantized_accuracy']:.1%}")
    print(f"weight memory: float32 {mem['float32']:,} bytes, {r['bits']}-bit {mem['quantized']:,} bytes")
    print(f"energy per inference: fp32 {energy['float32'] / 1e6:.2f} uJ, "
          f"{r['bits']}-bit {energy['quantized'] / 1e6:.2f} uJ ({r['energy_model']})")


def main(argv=None) -> int:
    """Run the command line; errors in the arguments exit with status 2 and a one-line message."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, TypeError) as exc:
        parser.exit(2, f"error: {exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
