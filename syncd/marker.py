"""The hidden marker that ties an issue to its action item.

The marker is an HTML comment at the very start of the issue body, so it
survives truncation of a long body and is invisible in rendered Markdown. It
carries the item's key and what syncd last wrote, so the state file can be
rebuilt from the tracker alone. The payload is compact JSON, base64-encoded
so that no ``--`` or ``>`` inside it can end the comment early.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

MARKER_PREFIX = "<!-- syncd:v1 "
MARKER_PATTERN = re.compile(r"<!-- syncd:v1 ([A-Za-z0-9+/=]+) -->")
# The start of any HTML comment that could pass for one of syncd's own
# comments (the marker, the block's begin and end), in any spacing or case.
_MARKER_LIKE = re.compile(r"<!(?=--\s*syncd)", re.IGNORECASE)
# Zero-width space: after ``<!`` it ends the comment opener, so the text is
# shown as written (in prose and in code alike) and matches no marker.
ZERO_WIDTH_SPACE = "\u200b"


def encode_marker(payload: dict) -> str:
    """Return the marker comment for ``payload``, which must contain ``key``."""

    if "key" not in payload:
        raise ValueError("marker payload needs a 'key'")
    data = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    encoded = base64.b64encode(data.encode("utf-8")).decode("ascii")
    return f"{MARKER_PREFIX}{encoded} -->"


def decode_marker(body: str | None) -> dict | None:
    """Return the payload of the first marker in ``body``, or None.

    A damaged marker (a person edited it) counts as no marker, so the issue
    is not managed until the engine matches it again.
    """

    if not body:
        return None
    match = MARKER_PATTERN.search(body)
    if match is None:
        return None
    try:
        payload = json.loads(base64.b64decode(match.group(1), validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("key"), str):
        return None
    return payload


def neutralize_markers(text: str) -> str:
    """Return ``text`` with every comment that looks like a syncd marker broken.

    Minutes can quote ``<!-- syncd:end -->`` or a whole marker. Copied into an
    issue body unchanged, such text would end the managed block early or pass
    for the item's marker. A zero-width space after ``<!`` keeps the text
    readable and makes it no comment at all. The result matches nothing that
    the function would change again, so rendering stays deterministic.
    """

    return _MARKER_LIKE.sub("<!" + ZERO_WIDTH_SPACE, text)


def marker_key(body: str | None) -> str | None:
    payload = decode_marker(body)
    return payload["key"] if payload else None
