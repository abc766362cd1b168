"""``python -m syncd.parser [parse] [--dialect NAME|FILE] [--format text|json] PATHS...``"""

from __future__ import annotations

import argparse
import sys

from syncd.errors import ConfigError
from syncd.parser.command import run_parse_command
from syncd.roster import Roster, load_roster


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["parse"]:
        # Accept the "parse" word so this module can stand in for `syncd parse`.
        argv = argv[1:]
    parser = argparse.ArgumentParser(prog="python -m syncd.parser", description=__doc__)
    parser.add_argument("--dialect", default="default", help="bundled dialect name or a YAML file")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--roster", help="people roster YAML file")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    try:
        roster = None
        if args.roster:
            people, groups = load_roster(args.roster)
            roster = Roster(people, groups)
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(encoding="utf-8", errors="replace")
        return run_parse_command(
            args.paths,
            dialect=args.dialect,
            roster=roster,
            output_format=args.format,
            stdout=sys.stdout,
        )
    except ConfigError as error:
        sys.stderr.write(f"{error}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
