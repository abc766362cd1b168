"""Small helpers shared by the parser tests."""

from __future__ import annotations

from syncd.parser import load_dialect, parse_bytes


def parse(data: bytes | str, *, dialect: str = "default", path: str = "team/2024-05-02.md", **kwargs):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return parse_bytes(data, path=path, dialect=load_dialect(dialect), **kwargs)


def rows(document) -> list[tuple]:
    """(line, end_line, owners, kind, text, done) of every item."""

    return [
        (item.line, item.end_line, list(item.owners), item.kind.value, item.text, item.done)
        for item in document.items
    ]


def owners_by_line(document) -> dict[int, list[str]]:
    return {item.line: list(item.owners) for item in document.items}
