"""The ``syncd`` command line.

Subcommands are listed in ``COMMANDS``. Adding one takes one ``Command``
entry naming a function that adds its arguments and a handler that takes
the parsed options and returns an exit code. The common options (``--config``,
``--format``, ``--source``, ``--tracker``, ``--allow-mass-close``, ``-v``,
``-q``) are accepted before or after the subcommand.

Exit codes: 0 success, 1 error, 2 from ``plan`` when changes are pending,
3 when the run partly failed (some files, sources or targets), 75 when
another run holds the run lock.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from syncd import __version__
from syncd.errors import ConfigError, LockHeldError, SyncdError
from syncd.lock import EXIT_LOCKED
from syncd.messages import format_error, format_problem, plural
from syncd.runner import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL

logger = logging.getLogger("syncd.cli")

FORMATS = ("text", "json", "markdown")


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, help line, argument set-up and handler.

    ``handler`` takes the parsed arguments and the output stream and returns
    the exit code. ``formats`` lists the ``--format`` values it accepts.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace, TextIO], int]
    formats: tuple[str, ...] = ("text", "json")


# Common options.


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps an option given before the subcommand from being reset
    # by the subcommand parser's default; _fill_defaults sets them after.
    suppress = argparse.SUPPRESS
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=suppress,
        help="config file (default: $SYNCD_CONFIG, then ./syncd.yaml, then /etc/syncd/syncd.yaml)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=suppress,
        dest="output_format",
        help="output format: text (default) or json; plan also takes markdown",
    )
    parser.add_argument(
        "--source",
        metavar="PATH",
        default=suppress,
        help="read minutes from the folder PATH instead of the root of the config's one source",
    )
    parser.add_argument(
        "--tracker",
        metavar="local:PATH",
        default=suppress,
        help="send every target to the embedded tracker file PATH (state goes to PATH.state)",
    )
    parser.add_argument(
        "--allow-mass-close",
        action="store_true",
        default=suppress,
        help="let one run close more issues than the guards allow",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=suppress,
        help="log more (repeat for debug output of client libraries)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="count",
        default=suppress,
        help="log only errors",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=suppress,
        help="log line format on stderr (default text)",
    )


_COMMON_DEFAULTS = {
    "config": None,
    "output_format": "text",
    "source": None,
    "tracker": None,
    "allow_mass_close": False,
    "verbose": 0,
    "quiet": 0,
    "log_format": "text",
}


def _fill_defaults(arguments: argparse.Namespace) -> None:
    for name, value in _COMMON_DEFAULTS.items():
        if not hasattr(arguments, name):
            setattr(arguments, name, value)


# Loading the config with the overrides.


def load_settings(arguments: argparse.Namespace):
    """Load the config named by the options and apply ``--source`` and ``--tracker``."""

    from syncd.config import (
        find_config,
        load_config,
        override_source,
        override_trackers,
        parse_tracker_override,
    )

    settings = load_config(find_config(arguments.config))
    if arguments.source is not None:
        settings = override_source(settings, arguments.source)
    if arguments.tracker is not None:
        settings = override_trackers(
            settings, parse_tracker_override(arguments.tracker)
        )
    return settings


def _print_json(data: Any, out: TextIO) -> None:
    json.dump(data, out, ensure_ascii=False, indent=2, sort_keys=False, default=str)
    out.write("\n")


def _print_problems(problems, out: TextIO) -> None:
    for problem in problems:
        out.write(format_problem(problem) + "\n")


# Handlers.


def _add_parse_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="FILE",
        help=(
            "minutes files to parse; a folder is rejected, so give its files "
            "(FOLDER/*.md) or make it a config source and run syncd plan"
        ),
    )
    parser.add_argument(
        "--dialect",
        metavar="NAME|FILE",
        default=None,
        help=(
            "dialect preset name or dialect file (default: the dialect of the "
            "config source that holds the file, else default)"
        ),
    )
    parser.add_argument(
        "--people",
        metavar="FILE",
        default=None,
        help="roster file for resolving owners (default: the config's roster, if a config is found)",
    )


def _parse_handler(arguments: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from syncd.parsefiles import check_parse_paths, parse_files

    bad_path = check_parse_paths(arguments.paths)
    if bad_path is not None:
        sys.stderr.write(f"syncd parse: error: {bad_path}\n")
        return EXIT_ERROR

    roster = None
    settings = _optional_settings(arguments)
    if arguments.people is not None:
        from syncd.roster import Roster, load_roster

        roster = Roster(*load_roster(Path(arguments.people)))
    elif settings is not None and (settings.people or settings.groups):
        from syncd.runner import make_roster

        roster = make_roster(settings)
    return parse_files(
        arguments.paths,
        settings=settings,
        dialect=arguments.dialect,
        roster=roster,
        output_format=arguments.output_format,
        stdout=out,
    )


def _optional_settings(arguments: argparse.Namespace):
    """Return the settings when a config is named or found; None when there is none.

    ``syncd parse`` works without a config, but an explicitly named config
    that is invalid is still an error.
    """

    from syncd.config import find_config

    if arguments.config is None:
        try:
            find_config(None)
        except ConfigError:
            return None
    return load_settings(arguments)


def _add_no_arguments(parser: argparse.ArgumentParser) -> None:
    """Add nothing: the command takes only the common options."""


def _plan_handler(arguments: argparse.Namespace, out: TextIO) -> int:
    from syncd.runner import plan_run

    settings = load_settings(arguments)
    outcome = plan_run(settings, allow_mass_close=arguments.allow_mass_close)
    _print_outcome(outcome, arguments.output_format, out, verbose=arguments.verbose)
    return outcome.exit_code(detailed=True)


def _add_sync_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="show what the sync would do and write nothing (trackers and state stay unchanged)",
    )
    from syncd.daemon import add_monitoring_arguments

    add_monitoring_arguments(parser)


def _sync_handler(arguments: argparse.Namespace, out: TextIO) -> int:
    from syncd.runner import sync_run

    settings = load_settings(arguments)
    if arguments.dry_run:
        outcome = sync_run(
            settings, dry_run=True, allow_mass_close=arguments.allow_mass_close
        )
    else:
        from syncd.daemon import Monitor, monitored_sync

        outcome = monitored_sync(settings, arguments, Monitor.from_arguments(arguments))
    _print_outcome(outcome, arguments.output_format, out, verbose=arguments.verbose)
    return outcome.exit_code()


def _print_outcome(
    outcome, output_format: str, out: TextIO, *, verbose: int = 0
) -> None:
    from syncd import planview

    if output_format == "json":
        _print_json(outcome.to_json(), out)
        return
    if output_format == "markdown":
        out.write(
            planview.render_plan_markdown(
                outcome.plan, failed_files=outcome.collected.failed_files
            )
        )
        problems = outcome.problems()
        if problems:
            out.write(
                "\n**Problems** (each affects only its own file, target or item):\n\n"
            )
            for problem in problems:
                out.write(f"- `{format_problem(problem)}`\n")
        return
    collected = outcome.collected
    if outcome.result is not None:
        out.write(
            planview.render_result_text(
                outcome.result, failed_files=collected.failed_files
            )
        )
    else:
        out.write(
            planview.render_plan_text(outcome.plan, failed_files=collected.failed_files)
        )
    problems = outcome.problems()
    if problems:
        out.write(
            f"\n{plural(len(problems), 'problem')} "
            "(each affects only its own file, target or item):\n"
        )
        _print_problems(problems, out)
    warnings = outcome.warnings()
    if warnings and verbose:
        out.write(f"\n{plural(len(warnings), 'warning')}:\n")
        for warning in warnings:
            out.write(f"{warning}\n")
    elif warnings:
        out.write(
            f"\n{plural(len(warnings), 'warning')} (owners left unassigned, files left "
            "out): -v lists them, and --format json includes them\n"
        )
    if outcome.dry_run:
        out.write("\ndry run: nothing was written to the trackers or the state.\n")
    out.write(
        f"\nread {plural(collected.files, 'file')} ({collected.failed_files} failed), "
        f"{plural(collected.items, 'item')}, in {outcome.seconds:.1f} s\n"
    )


def _status_handler(arguments: argparse.Namespace, out: TextIO) -> int:
    from syncd.runner import status_run

    settings = load_settings(arguments)
    report = status_run(settings)
    if arguments.output_format == "json":
        _print_json(report.to_json(), out)
    else:
        out.write(render_last_run_text(report))
        out.write(render_status_text(report.issues))
        _print_problems(report.problems, out)
    return EXIT_PARTIAL if report.problems else EXIT_OK


# The noun (when the count needs one) and the verb of each stored run count.
_COUNT_WORDS = {
    "create": ("issue", "created"),
    "labels": ("label", "created"),
    "update": (None, "updated"),
    "close": (None, "closed"),
    "reopen": (None, "reopened"),
    "comment": ("comment", "posted"),
    "conflict": (None, "in conflict"),
    "refused": ("close", "refused by a guard"),
    "failed": (None, "failed"),
    "pending": (None, "pending"),
    "unchanged": (None, "unchanged"),
}


def _count_text(name: str, count: int) -> str:
    noun, verb = _COUNT_WORDS.get(name, (None, name))
    return f"{plural(count, noun)} {verb}" if noun else f"{count} {verb}"


def render_last_run_text(report) -> str:
    """Render the last run and any unfinished writes, above the issue list."""

    lines = []
    last = report.last_run
    if last is not None:
        counts = last.get("counts") or {}
        done = ", ".join(
            _count_text(name, counts[name]) for name in sorted(counts) if counts[name]
        )
        when = last.get("finished") or f"{last.get('started')} (did not finish)"
        lines.append(
            f"last run: {when}, {last.get('outcome') or 'unknown'}; {done or 'no changes'}"
        )
        for error in last.get("errors") or []:
            lines.append(f"  error: {error}")
    for entry in report.failed_writes:
        lines.append(
            f"failed: {entry['action']} on {entry['target']} (item {entry['key']}): {entry['error']}"
        )
    for entry in report.pending_writes:
        lines.append(
            f"unfinished: {entry['action']} on {entry['target']} (item {entry['key']}), "
            "checked on the next sync"
        )
    return "\n".join(lines) + ("\n\n" if lines else "")


def render_status_text(issues: list[dict]) -> str:
    """Render the status list for people: one block per issue."""

    if not issues:
        return "no managed issues yet\n"
    lines = []
    ref_width = max(len(str(issue.get("ref", ""))) for issue in issues)
    for issue in issues:
        state = issue.get("state") or "unknown"
        if issue.get("state_reason") and state == "closed":
            state = f"closed ({issue['state_reason']})"
        assignees = ", ".join(issue.get("assignees") or []) or "unassigned"
        lines.append(
            f"{issue.get('ref', ''):<{ref_width}}  {state:<22} {issue.get('title', '')}"
        )
        indent = " " * (ref_width + 2)
        lines.append(f"{indent}assignees: {assignees}")
        if issue.get("error"):
            lines.append(f"{indent}error: {issue['error']}")
        occurrences = issue.get("occurrences") or []
        for occurrence in occurrences:
            notes = [occurrence["date"]] if occurrence.get("date") else []
            if occurrence.get("present") is False:
                notes.append("file no longer in the source")
            where = f"{occurrence.get('path')}:{occurrence.get('line')}"
            detail = f" ({'; '.join(notes)})" if notes else ""
            lines.append(f"{indent}seen: {where}{detail}")
    open_count = sum(1 for issue in issues if issue.get("state") == "open")
    lines.append(f"\n{plural(len(issues), 'issue')}, {open_count} open")
    return "\n".join(lines) + "\n"


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(
        dest="config_action", metavar="ACTION", required=True
    )
    validate = actions.add_parser(
        "validate",
        help="check the config and report every problem with file, line and key",
    )
    _add_common_options(validate)


def _config_handler(arguments: argparse.Namespace, out: TextIO) -> int:
    from syncd.config import find_config, validate_config_file

    path = find_config(arguments.config)
    settings, problems = validate_config_file(path)
    if arguments.output_format == "json":
        _print_json(
            {
                "valid": not problems,
                "path": str(path),
                "problems": [
                    {
                        "path": problem.path,
                        "line": problem.line,
                        "key_path": problem.key_path,
                        "message": problem.message,
                    }
                    for problem in problems
                ],
            },
            out,
        )
    elif problems:
        out.write(f"{path}: invalid, {plural(len(problems), 'problem')}:\n")
        for problem in problems:
            out.write(f"  {problem}\n")
    else:
        out.write(
            f"{path}: valid ({plural(len(settings.sources), 'source')}, "
            f"{plural(len(settings.targets), 'target')}, "
            f"{plural(len(settings.people), 'person', 'people')})\n"
        )
    return EXIT_ERROR if problems else EXIT_OK


def _lazy(name: str) -> Callable:
    """Return a function that calls ``syncd.daemon.<name>``, imported on first use."""

    def call(*args):
        from syncd import daemon

        return getattr(daemon, name)(*args)

    return call


COMMANDS: list[Command] = [
    Command(
        "parse",
        "parse minutes files and print their meetings and items",
        _add_parse_arguments,
        _parse_handler,
    ),
    Command(
        "plan",
        "show what a sync would change, writing nothing (exit 2: changes pending)",
        _add_no_arguments,
        _plan_handler,
        formats=FORMATS,
    ),
    Command(
        "sync",
        "bring the trackers in line with the minutes",
        _add_sync_arguments,
        _sync_handler,
    ),
    Command(
        "status",
        "list the managed issues and where each item was seen",
        _add_no_arguments,
        _status_handler,
    ),
    Command(
        "config",
        "check the configuration (config validate)",
        _add_config_arguments,
        _config_handler,
    ),
    Command(
        "run",
        "run as a daemon: sync every interval until stopped (SIGHUP reloads)",
        _lazy("add_run_arguments"),
        _lazy("run_handler"),
    ),
    Command(
        "retry",
        "let the next sync try one failed item afresh",
        _lazy("add_retry_arguments"),
        _lazy("retry_handler"),
    ),
]


class _ArgumentParser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit 1.

    argparse exits 2 on a usage error, but 2 means "changes pending" from
    ``syncd plan``, so a script could not tell the two apart.
    """

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="syncd",
        description="Keep one tracker issue per action item in Markdown meeting minutes.",
        epilog=(
            "exit codes: 0 success, 1 error, 2 changes pending (plan), "
            "3 partial failure, 75 another run holds the lock"
        ),
    )
    parser.add_argument("--version", action="version", version=f"syncd {__version__}")
    _add_common_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        subparser = commands.add_parser(
            command.name, help=command.help, description=command.help
        )
        _add_common_options(subparser)
        command.add_arguments(subparser)
    return parser


def _use_utf8(stream: TextIO) -> TextIO:
    """Write UTF-8 whatever the locale, so LANG=C under systemd cannot crash on emoji."""

    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(encoding="utf-8", errors="backslashreplace")
    return stream


def main(argv: list[str] | None = None) -> int:
    stdout = _use_utf8(sys.stdout)
    _use_utf8(sys.stderr)
    parser = build_parser()
    arguments = parser.parse_args(argv)
    _fill_defaults(arguments)
    command = next(command for command in COMMANDS if command.name == arguments.command)
    if arguments.output_format not in command.formats:
        parser.error(
            f"syncd {command.name} takes --format {' or '.join(command.formats)}, "
            f"not {arguments.output_format}"
        )

    from syncd.logsetup import configure

    configure(arguments.verbose - arguments.quiet, arguments.log_format)
    try:
        return command.handler(arguments, stdout)
    except LockHeldError as error:
        sys.stderr.write(format_error(error) + "\n")
        return EXIT_LOCKED
    except SyncdError as error:
        sys.stderr.write(format_error(error) + "\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader (head, a closed pager) closed the pipe, so no output can follow.
        return EXIT_OK
    except OSError as error:
        sys.stderr.write(format_error(error) + "\n")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
