"""Compile the minutes parser's hot modules with mypyc when the build allows it.

Everything else about the package is declared in pyproject.toml. The
compiled modules run the same code as the Python sources, about a third
faster (docs/parser.md). When mypyc or a C compiler is missing, when a module
fails to compile, or when SYNCD_PURE_PYTHON=1 is set, the package installs
as pure Python and works the same, only slower.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

# Modules that hold the per-file and per-entry work of parse_bytes. The
# other parser modules (dialect loading, the cache, the command line) run
# once per process or are not on that path.
COMPILED_MODULES = [
    "syncd/parser/blocks.py",
    "syncd/parser/core.py",
    "syncd/parser/extract.py",
    "syncd/parser/meeting.py",
    "syncd/parser/owners.py",
    "syncd/parser/scan.py",
    "syncd/parser/text.py",
]


def _warn(message: str) -> None:
    print(f"syncd: {message}, so the parser is installed as pure Python", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """build_ext that leaves no compiled module behind when any one fails.

    mypyc's modules share one support library, so a partial build would not
    import. Any failure removes what was built and the Python sources are
    used instead.
    """

    def run(self) -> None:
        try:
            super().run()
        # A missing compiler, a failed compile and a failed link raise
        # different errors across setuptools versions, and each one means
        # the same thing here.
        except Exception as error:  # noqa: BLE001
            _warn(f"compiling with mypyc failed ({type(error).__name__}: {error})")
            for extension in self.extensions:
                built = self.get_ext_fullpath(extension.name)
                if os.path.exists(built):
                    os.remove(built)


def _extensions() -> list:
    if os.environ.get("SYNCD_PURE_PYTHON") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _warn("mypyc is not installed")
        return []
    try:
        return mypycify(
            # Imported modules that are not compiled are type-checked
            # without reporting their errors, so only the compiled ones must
            # type-check cleanly.
            ["--follow-imports=silent", "--ignore-missing-imports", *COMPILED_MODULES],
            opt_level="3",
            group_name="syncd_parser",
        )
    except (Exception, SystemExit) as error:  # noqa: BLE001 - mypy exits on type errors
        _warn(f"mypyc could not translate the parser ({type(error).__name__}: {error})")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
