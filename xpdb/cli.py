"""The ``xpdb`` command line: ``xpdb demo`` (more commands arrive with the database layer)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xpdb`` command."""
    from . import demo

    parser = argparse.ArgumentParser(prog="xpdb", description="xpdb command line")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="run the end-to-end demo on generated data")
    demo.add_arguments(p_demo)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo.run(args)
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
