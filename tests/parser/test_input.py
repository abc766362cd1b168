"""Bytes that are awkward but valid, and bytes that are not minutes at all."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.parser.text import _is_nfc, prepare_text
from tests.parser.helpers import parse, rows


def test_crlf_file_matches_lf_copy():
    lf = b"---\ntitle: Weekly\n---\n\n## Action items\nJM: Renew the lab booking.\nPT: Order cables.\n"
    crlf = lf.replace(b"\n", b"\r\n")

    from_lf, from_crlf = parse(lf), parse(crlf)

    assert from_crlf.errors == []
    assert from_crlf.meeting.title == "Weekly"
    assert rows(from_crlf) == rows(from_lf)
    assert all("\r" not in item.text for item in from_crlf.items)
    assert from_crlf.items[0].text == "Renew the lab booking."


def test_mixed_endings_keep_line_numbers():
    data = b"## Action items\r\nJM: first\nPT: second\r\n\r\nAB: third\n"

    assert [(line, owners) for line, _e, owners, *_ in rows(parse(data))] == [
        (2, ["JM"]),
        (3, ["PT"]),
        (5, ["AB"]),
    ]


def test_lone_cr_keeps_line_number():
    data = b"## Action items\nJM: first\rPT: second\nAB: third\n"

    found = [(item.line, item.owners, item.text) for item in parse(data).items]

    assert found == [(2, ("JM",), "first"), (2, ("PT",), "second"), (3, ("AB",), "third")]


def test_line_separator_stays_in_line():
    data = "## Action items\nJM: one\u2028still one\nPT: two\n".encode()

    document = parse(data)

    assert [(item.line, item.owners) for item in document.items] == [(2, ("JM",)), (3, ("PT",))]
    assert "\u2028" in document.items[0].text


def test_byte_order_mark_dropped():
    data = b"\xef\xbb\xbf---\ntitle: With a mark\n---\n## Action items\nJM: Check the mark.\n"

    document = parse(data)

    assert document.errors == []
    assert document.meeting.title == "With a mark"
    assert rows(document) == [(5, 5, ["JM"], "task", "Check the mark.", False)]


def test_decomposed_text_composed():
    # "e" followed by U+0301 COMBINING ACUTE ACCENT, as macOS writes it.
    decomposed = b"## Action items\nJM: Update the cafe\xcc\x81 menu page.\n"
    composed = "## Action items\nJM: Update the caf\u00e9 menu page.\n".encode()

    from_nfd, from_nfc = parse(decomposed), parse(composed)

    assert from_nfd.items[0].text == "Update the caf\u00e9 menu page."
    assert unicodedata.is_normalized("NFC", from_nfd.items[0].text)
    assert rows(from_nfd) == rows(from_nfc)


def test_decomposed_owner_composed():
    data = "## Action items\nS\u0326tefan: Sort the mail.\n".encode()

    assert parse(data).items[0].owners == ("\u0218tefan",)


def test_emoji_sequences_survive():
    task = "\U0001f680 Ship the \U0001f1f3\U0001f1f4 bundle for \U0001f469\u200d\U0001f4bb folks \U0001f389"
    data = f"## Action items\nJM: {task}\n".encode()

    document = parse(data)

    assert document.items[0].text == task
    assert document.items[0].owners == ("JM",)


def test_invalid_utf8_names_offset():
    data = b"## Action items\nJM: fine\nPT: caf\xe9 latin-1\n"

    document = parse(data)

    assert document.items == []
    [error] = document.errors
    assert error.line == 3
    bad_offset = data.index(b"\xe9")
    assert f"offset {bad_offset}" in error.message
    assert "0xe9" in error.message


def test_empty_file_is_fine():
    document = parse(b"")

    assert document.items == []
    assert document.errors == []
    assert document.content_hash == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_blank_and_section_facts():
    cases = [
        (b"", True, 0),
        (b" \n\t\r\n\n", True, 0),
        (b"---\ntitle: Ops\n---\n", False, 0),
        (b"## Notes\n\nNothing.\n", False, 0),
        (b"## Action items\n\n", False, 1),
        (b"## Action items\n\nRD: One.\n\n## TODOs\n\nKM: Two.\n", False, 2),
    ]
    for data, blank, sections in cases:
        document = parse(data)

        assert document.errors == [], data
        assert document.blank is blank, data
        assert document.action_sections == sections, data


def test_oversized_file_is_error():
    data = b"## Action items\n" + b"JM: line\n" * 200

    document = parse(data, max_bytes=1000)

    assert document.items == []
    [error] = document.errors
    assert "over the limit of 1,000 bytes" in error.message


def test_binary_file_rejected():
    document = parse(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    assert document.items == []
    assert document.errors


def test_body_tabs_indent_markdown():
    data = b"## Action items\n\n-\tJM:\tSweep the floor.\n\t- detail under it\n- PT: Mop.\n"

    document = parse(data)

    assert [(item.line, item.end_line, item.owners) for item in document.items] == [
        (3, 4, ("JM",)),
        (5, 5, ("PT",)),
    ]
    assert document.items[0].text == "Sweep the floor."


def test_cr_only_file_keeps_items_with_warning():
    lf = b"---\ndate: 2024-05-02\n---\n\n## Action items\n\nRD: Rotate the keys.\nKM: Order cables.\n"
    cr_only = lf.replace(b"\n", b"\r")

    from_cr = parse(cr_only)

    assert from_cr.errors == []
    assert rows(from_cr) == rows(parse(lf))
    assert str(from_cr.meeting.date) == "2024-05-02"
    [warning] = from_cr.warnings
    assert "carriage return alone" in warning.message
    assert parse(lf).warnings == []


def test_cr_only_line_numbers_stay_in_file():
    from syncd.parser.text import line_count

    data = b"## Action items\r0\rRD: Book the room.\r"

    document = parse(data)

    assert line_count(data) == 4
    assert all(item.end_line <= 4 for item in document.items)
    assert [item.line for item in document.items if item.owners] == [3]


def _second_characters_of_compositions() -> set[int]:
    """Code points that NFC can merge into the character before them."""

    # Hangul vowel and trailing consonant jamo compose by algorithm, not by
    # a decomposition mapping.
    seconds = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    for code in range(0x110000):
        mapping = unicodedata.decomposition(chr(code))
        if mapping and not mapping.startswith("<"):
            parts = mapping.split()
            if len(parts) == 2:
                seconds.add(int(parts[1], 16))
    return seconds


def test_nfc_safe_ranges_are_safe():
    from syncd.parser.text import _NFC_SAFE_RANGES

    seconds = _second_characters_of_compositions()
    for low, high in _NFC_SAFE_RANGES:
        for code in range(ord(low), ord(high) + 1):
            char = chr(code)
            assert unicodedata.combining(char) == 0, hex(code)
            assert unicodedata.normalize("NFC", char) == char, hex(code)
            assert code not in seconds, hex(code)


NFC_SAMPLE_CHARS = (
    "aeE \n-:Ss"  # ASCII, including letters that compose with marks
    "\u00e9\u0103\u0219\u0218\u2019\u201c\u2014\u2026\u043e\u00a0\ufeff"  # safe
    "\U0001f389\U0001f1f3\u4e2d\uac00\u00ad"
    "\u0301\u0326\u0308\u0338\u1161\u11a8\u2126\u212b\u2000\u0374\u0387"  # not safe
    "\u1100\u3099\u0b3e\uf900\U0001d15e\u0344"
)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=NFC_SAMPLE_CHARS, max_size=12))
def test_nfc_check_matches_unicodedata(text):
    data = text.encode("utf-8")

    prepared = prepare_text(data)

    # prepare_text drops a leading byte-order mark before normalising.
    assert prepared.text == unicodedata.normalize("NFC", text.removeprefix("\ufeff"))
    assert _is_nfc(data, text) == unicodedata.is_normalized("NFC", text)
