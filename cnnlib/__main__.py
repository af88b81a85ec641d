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
    return parser


def _cmd_conv_size(args) -> None:
    from .counting import conv_output_size

    print(conv_output_size(args.H, args.R, args.padding, args.stride, args.dilation))


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
