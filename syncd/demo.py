"""What ``make run`` runs: the example minutes into an embedded tracker.

It runs ``syncd plan``, ``syncd sync`` and ``syncd status`` on
``config/example.yaml``, which reads ``examples/minutes/`` and keeps its
tracker file and state under ``.syncd-demo/``. No token and no network are
needed. A second run finds nothing to change and creates nothing;
``make clean`` removes ``.syncd-demo/`` to start over.
"""

from __future__ import annotations

import sys
from pathlib import Path

from syncd import cli

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = PROJECT_ROOT / "config" / "example.yaml"


def _step(title: str, arguments: list[str], accepted: tuple[int, ...]) -> int:
    print(f"\n$ syncd {' '.join(arguments)}\n# {title}", flush=True)
    code = cli.main(arguments)
    sys.stdout.flush()
    if code not in accepted:
        print(f"syncd {arguments[0]} exited with status {code}", file=sys.stderr)
    return code


def main(config_path: Path = EXAMPLE_CONFIG) -> int:
    shown = config_path
    if config_path.is_relative_to(Path.cwd()):
        shown = config_path.relative_to(Path.cwd())
    config = ["--config", str(shown)]
    # plan exits 2 when there are changes to make, which is expected here.
    plan = _step("what a sync would change (writes nothing)", ["plan", *config], (0, 2))
    if plan not in (0, 2):
        return plan
    sync = _step("apply it to the embedded tracker", ["sync", *config], (0,))
    if sync != 0:
        return sync
    status = _step(
        "the managed issues and where each item was seen", ["status", *config], (0,)
    )
    if status == 0:
        print(
            "\nRun `make run` again: it finds nothing to change. Edit a meeting in "
            "examples/minutes/ (reword or drop an item) and run it again to see the "
            "update or the close. `git checkout examples` undoes the edit, and "
            "`make clean` starts over."
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
