"""Turning raw bytes into the text the parser works on.

Everything here keeps line numbers as git counts them: only a line feed ends
a line. Removing the carriage return of a CRLF pair, dropping a byte-order
mark and NFC normalisation never add or remove a line feed, so a line number
computed on the prepared text is the line number in the file. The one
exception is a file with carriage returns and no line feed at all, whose
carriage returns become line feeds.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

DEFAULT_MAX_BYTES = 2_000_000

# Non-ASCII characters that are NFC whatever characters surround them. Each
# has canonical combining class 0, is its own NFC form and is never the
# second character of a canonical composition. A text made only of these and
# ASCII passes the NFC quick check (UAX #15), so it is in NFC. The ranges
# cover Latin, Greek, Cyrillic, punctuation, symbols, CJK, Hangul syllables
# and emoji, and skip the few code points there that fail one of the tests.
# tests/parser/test_input.py checks every code point listed here against
# unicodedata.
_NFC_SAFE_RANGES = (
    ("\u0080", "\u02ff"),
    ("\u0391", "\u03a1"),
    ("\u03a3", "\u0482"),
    ("\u048a", "\u052f"),
    ("\u2002", "\u2064"),
    ("\u20a0", "\u20c0"),
    ("\u2100", "\u2125"),
    ("\u2127", "\u2129"),
    ("\u212c", "\u218b"),
    ("\u2190", "\u2328"),
    ("\u232b", "\u2426"),
    ("\u2460", "\u2adb"),
    ("\u2add", "\u2b73"),
    ("\u3000", "\u3029"),
    ("\u3030", "\u303f"),
    ("\u3041", "\u3096"),
    ("\u309b", "\u30ff"),
    ("\u4e00", "\u9fff"),
    ("\uac00", "\ud7a3"),
    ("\ufe00", "\ufe0f"),
    ("\ufeff", "\ufeff"),
    ("\uff01", "\uffbe"),
    ("\U0001f1e6", "\U0001f1ff"),
    ("\U0001f300", "\U0001f6d7"),
    ("\U0001f900", "\U0001fa53"),
)
_NFC_SAFE_TEXT = re.compile(
    "[" + "".join(f"{low}-{high}" for low, high in _NFC_SAFE_RANGES) + "]*"
)
_ASCII_BYTES = bytes(range(128))


class InputProblem(Exception):
    """The bytes cannot be read as minutes. ``line`` is 1-based or None."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class PreparedText(NamedTuple):
    """The decoded, normalised text of one file and its UTF-8 encoding.

    A named tuple, because a frozen dataclass costs about three times as
    much to build, once per parsed file.
    """

    text: str
    encoded: bytes
    had_bom: bool
    had_crlf: bool
    # The file ended its lines with CR alone (classic Mac OS) and no LF.
    had_cr_only: bool = False


def prepare_text(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> PreparedText:
    """Decode ``data`` as UTF-8 and normalise it for parsing.

    Raises InputProblem for a file over ``max_bytes`` or with invalid UTF-8,
    naming the byte offset and line of the first bad byte.
    """

    if len(data) > max_bytes:
        raise InputProblem(
            f"file is {len(data):,} bytes, over the limit of {max_bytes:,} bytes "
            "(raise max_file_bytes for this source if the file is really minutes)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.start + 1].hex()
        raise InputProblem(
            f"not valid UTF-8: byte 0x{bad} at offset {error.start} "
            "(save the file as UTF-8)",
            line,
        ) from None
    # The checks for NUL and CRLF search the bytes, which is faster than
    # searching text with non-ASCII characters. UTF-8 encodes U+0000, CR
    # and LF as those single bytes and never uses the bytes otherwise.
    if b"\x00" in data:
        offset = text.index("\x00")
        raise InputProblem(
            f"contains a NUL character at offset {len(text[:offset].encode())}: "
            "this looks like a binary file, not minutes",
            text.count("\n", 0, offset) + 1,
        )

    had_bom = text.startswith("\ufeff")
    if had_bom:
        text = text[1:]
    # Most files have no CR at all, and a one-byte search is the faster one.
    had_cr = b"\r" in data
    had_crlf = had_cr and b"\r\n" in data
    if had_crlf:
        text = text.replace("\r\n", "\n")
    # A file with CRs and no LF at all is one line to git, and its items
    # would be lost. Reading each CR as a line break keeps them, at the cost
    # of line numbers that count CRs; the parser warns about that.
    had_cr_only = had_cr and b"\n" not in data
    if had_cr_only:
        text = text.replace("\r", "\n")
    changed = had_bom or had_crlf or had_cr_only or type(data) is not bytes
    if not data.isascii() and not _is_nfc(data, text):
        text = unicodedata.normalize("NFC", text)
        changed = True
    # Strict UTF-8 decoding round-trips, so text that was not changed
    # encodes to the input bytes.
    return PreparedText(
        text, text.encode("utf-8") if changed else data, had_bom, had_crlf, had_cr_only
    )


def _is_nfc(data: bytes, text: str) -> bool:
    """Return whether ``text``, decoded from ``data``, is in NFC.

    Most minutes add only a few punctuation marks, accented letters or emoji
    to ASCII. Deleting the ASCII bytes costs less than checking every
    character, and when every character left is in _NFC_SAFE_RANGES the text
    is known to be in NFC. Any other text gets the full check.
    """

    rest = data.translate(None, _ASCII_BYTES).decode("utf-8")
    if _NFC_SAFE_TEXT.fullmatch(rest):
        return True
    return unicodedata.is_normalized("NFC", text)


def line_count(data: bytes) -> int:
    """Return how many lines the parser numbers in ``data``.

    That is git's count, one more than the line feeds, except for a file
    with carriage returns and no line feed, where each carriage return
    ends a line.
    """

    if b"\n" not in data and b"\r" in data:
        return data.count(b"\r") + 1
    return data.count(b"\n") + 1


class LineIndex:
    """Maps byte offsets in the prepared text to 1-based line numbers.

    Offsets mostly come in increasing order, so it counts line feeds from the
    previous offset instead of keeping a table of them.
    """

    __slots__ = ("_data", "_offset", "_line")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0
        self._line = 1

    def line_of(self, offset: int) -> int:
        if offset >= self._offset:
            self._line += self._data.count(b"\n", self._offset, offset)
        else:
            self._line = self._data.count(b"\n", 0, offset) + 1
        self._offset = offset
        return self._line

    def last_line_of(self, start: int, end: int) -> int:
        """Return the line of the last non-blank byte in ``[start, end)``."""

        data = self._data
        while end > start and data[end - 1] in b" \t\r\n":
            end -= 1
        return self.line_of(max(start, end - 1))
