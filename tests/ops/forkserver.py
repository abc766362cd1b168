"""Start ``syncd`` commands as forked children of a process that imported syncd once.

Importing syncd with PyGithub takes about a second, which would dominate a
test that runs the command a hundred times. This server imports everything a
sync needs, then forks one child per command. Each child is a separate
process that runs ``syncd.cli.main`` exactly as the ``syncd`` script does,
with its own working folder, environment and output files, so a test can
SIGKILL it at any moment like any other run.

Protocol, one JSON object per line on stdin and stdout:

- ``{"op": "run", "cwd": ..., "argv": [...], "env": {...}, "stdout": path,
  "stderr": path}`` replies ``{"pid": N}``;
- ``{"op": "wait", "pid": N}`` replies ``{"status": S}``, the exit status, or
  minus the signal number for a killed child.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import importlib
import pkgutil

import syncd
import syncd.cli
import syncd_adapters


def preload() -> None:
    """Import every module of syncd and its adapters, as a sync would on first use."""

    for package in (syncd, syncd_adapters):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name.endswith("__main__"):
                continue
            importlib.import_module(module.name)


def run_child(request: dict) -> None:
    """Become the syncd command described by ``request``. Never returns."""

    status = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        stdin = os.open(os.devnull, os.O_RDONLY)
        stdout = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        stderr = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        status = syncd.cli.main(request["argv"])
    except SystemExit as exit_request:
        status = exit_request.code if isinstance(exit_request.code, int) else 1
    except BaseException:  # noqa: BLE001 - report any crash as the child's status
        import traceback

        traceback.print_exc()
        status = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def main() -> int:
    preload()
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "run":
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                run_child(request)
            reply = {"pid": pid}
        elif request["op"] == "wait":
            _, wait_status = os.waitpid(request["pid"], 0)
            reply = {"status": os.waitstatus_to_exitcode(wait_status)}
        else:
            reply = {"error": f"unknown op {request['op']!r}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
