"""Logging set-up for the CLI and the daemon.

Logs go to stderr. systemd sets ``$JOURNAL_STREAM`` to the device and inode
of the journal stream it connected to stderr. Under journald, lines carry no
timestamp, because the journal adds its own. They start with a ``<N>`` syslog
priority prefix instead, which journald turns into the entry's priority. Elsewhere
each line starts with a UTC timestamp. ``json`` writes one JSON object per
line for log collectors.

Every line passes through a redaction step that masks tokens: values given to
``register_secret`` and anything shaped like a GitHub or GitLab token, a
Bearer or token Authorization header, or a password in a URL.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
import logging
import os
import re
import sys
import urllib.parse
from typing import TextIO

LOG_FORMATS = ("text", "json")

# Loggers of client libraries are noisy at DEBUG and may print request headers,
# so they stay at WARNING until the user asks for more than one -v.
_LIBRARY_LOGGERS = ("urllib3", "httpx", "httpcore", "github", "gitlab")

# Syslog priorities for the journald prefix (sd-daemon(3)).
_SYSLOG_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}

_TOKEN_PATTERNS = (
    # GitHub classic and fine-grained tokens, GitLab personal and CI tokens.
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{16,}"),
    # Authorization and private-token headers as clients print them.
    re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|token|basic)\s+)[^\s\"',}]+"),
    re.compile(r"(?i)\b(private-token[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
    # A Basic or Bearer credential on its own, as a proxy may echo it.
    re.compile(r"(?i)\b(basic\s+)[A-Za-z0-9+/]{8,}={0,2}"),
    re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    # https://user:password@host
    re.compile(r"(?<=://)([^/\s:@]+:)[^/\s@]+(?=@)"),
)

_REDACTED = "***"

_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it would appear in a log line from now on.

    Values shorter than 8 characters are ignored, because masking them would
    blank out ordinary words.
    """

    if value and len(value) >= 8:
        _secrets.add(value)


@functools.lru_cache(maxsize=64)
def _secret_pattern(secret: str) -> re.Pattern[str]:
    """Return a pattern for ``secret`` as a server may echo it back.

    A server can quote a token URL-encoded (in a query string or a form),
    Base64-encoded, or in another case, so every one of these is matched,
    ignoring case.
    """

    forms = {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        base64.b64encode(secret.encode("utf-8")).decode("ascii"),
    }
    alternatives = sorted(forms, key=len, reverse=True)
    return re.compile("|".join(re.escape(form) for form in alternatives), re.IGNORECASE)


def mask_secret(text: str, secret: str) -> str:
    """Return ``text`` with ``secret`` masked in each form a server may echo it."""

    if not secret:
        return text
    return _secret_pattern(secret).sub(_REDACTED, text)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = mask_secret(text, secret)
    for pattern in _TOKEN_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda match: match.group(1) + _REDACTED, text)
        else:
            text = pattern.sub(_REDACTED, text)
    return text


def under_journald(stream: TextIO | None = None) -> bool:
    """Return whether ``stream`` (stderr by default) is connected to journald.

    ``$JOURNAL_STREAM`` alone is not enough, because child processes inherit it
    after their stderr was redirected, so the device and inode must match.
    """

    value = os.environ.get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    stream = sys.stderr if stream is None else stream
    try:
        status = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return status.st_dev == int(device) and status.st_ino == int(inode)


class TextFormatter(logging.Formatter):
    """``2026-01-05T10:00:00Z INFO syncd.engine: message``, or journald style."""

    def __init__(self, journald: bool) -> None:
        super().__init__()
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        message = redact(message)
        if self.journald:
            priority = _SYSLOG_PRIORITY.get(record.levelno, 6)
            return f"<{priority}>{record.name}: {message}"
        timestamp = _utc_timestamp(record.created)
        return f"{timestamp} {record.levelname} {record.name}: {message}"


# Attributes every LogRecord has. Anything else came from ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _utc_timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key in _STANDARD_ATTRIBUTES or key.startswith("_"):
                continue
            entry[key] = _redact_value(value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value))


def _utc_timestamp(created: float) -> str:
    moment = datetime.datetime.fromtimestamp(created, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def level_for(verbosity: int) -> int:
    """Map -q/-v counts to a level: -1 and below WARNING, 0 INFO, 1 and up DEBUG."""

    if verbosity < 0:
        return logging.WARNING
    if verbosity == 0:
        return logging.INFO
    return logging.DEBUG


def configure(verbosity: int, log_format: str = "text") -> None:
    """Send log records to stderr at the level ``verbosity`` selects.

    Calling it again replaces the handler it installed before, so the daemon
    can reconfigure after a reload. Raises ValueError for an unknown format.
    """

    if log_format not in LOG_FORMATS:
        raise ValueError(
            f"unknown log format {log_format!r}: use one of {', '.join(LOG_FORMATS)}"
        )

    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("syncd")
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter(journald=under_journald()))

    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "syncd":
            root.removeHandler(existing)
    root.addHandler(handler)
    level = level_for(verbosity)
    root.setLevel(level)

    library_level = logging.DEBUG if verbosity >= 2 else logging.WARNING
    for name in _LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, library_level))
