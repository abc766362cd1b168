"""Read minutes files into Documents.

``parse_bytes`` is the one entry point for a single file; ``ParseCache``
wraps it with an SQLite cache; ``run_parse_command`` is ``syncd parse``.
"""

from syncd.parser.cache import ParseCache
from syncd.parser.command import run_parse_command
from syncd.parser.core import parse_bytes
from syncd.parser.dialect import Dialect, bundled_dialects, load_dialect
from syncd.parser.meeting import series_for_path

__all__ = [
    "Dialect",
    "ParseCache",
    "bundled_dialects",
    "load_dialect",
    "parse_bytes",
    "run_parse_command",
    "series_for_path",
]
