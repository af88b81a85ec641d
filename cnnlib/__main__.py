"""Command line: ``python -m cnnlib <command> ...`` (also installed as ``cnnlib``).

Each command is a function ``_cmd_<name>(args)`` registered in ``_parser()``; ``--json`` output
is what scripts and tests use.
"""

from __future__ import annotations

import argparse
import sys


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
    p.add_argument("--dataflow", required=True, metavar="os|ws|is")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_systolic)
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

    from .hardware.systolic import topology_layer

    result = topology_layer(
        _ints(args.ifmap, "--ifmap", 3),
        _ints(args.filter, "--filter", 3),
        _ints(args.stride, "--stride", 1)[0],
        _ints(args.array, "--array", 2),
        args.dataflow,
    )
    print(json.dumps(result.to_dict(), indent=2) if args.json else result)


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
