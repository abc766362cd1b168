"""The folder source and path globs."""

from __future__ import annotations

import os

import pytest

from syncd.errors import InputError, SourceError
from syncd.settings import SourceSettings
from syncd.sources import FolderSource, matches_any, open_source


def folder_source(root, **settings) -> FolderSource:
    return FolderSource(
        SourceSettings(name="minutes", root=root, **settings), state_dir=root
    )


def write(root, relative: str, text: str = "## Action items\n") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("2024-05-02.md", "**/*.md", True),
        ("ops/2024/2024-05-02.md", "**/*.md", True),
        ("ops/2024-05-02.md", "*.md", False),
        ("README.md", "README.md", True),
        ("ops/README.md", "README.md", False),
        ("ops/README.md", "**/README.md", True),
        ("discussions/kraft/2022-02-18.md", "discussions/**/*.md", True),
        ("docs/kraft/2022-02-18.md", "discussions/**/*.md", False),
        ("ops/2024-05-02.md", "ops/202?-*.md", True),
        ("ops/notes.txt", "**/*.md", False),
        ("a/b.md", "[ab]/*.md", True),
        ("c/b.md", "[!ab]/*.md", True),
    ],
)
def test_glob_matching(path, pattern, expected):
    assert matches_any(path, (pattern,)) is expected


def test_folder_lists_selected_files_sorted(tmp_path):
    for relative in ("b/2024-05-09.md", "a/2024-05-02.md", "README.md", "a/notes.txt"):
        write(tmp_path, relative)

    source = folder_source(tmp_path, exclude=("README.md",))

    assert source.list_files() == ["a/2024-05-02.md", "b/2024-05-09.md"]


def test_folder_skips_git_metadata(tmp_path):
    write(tmp_path, ".git/info/2024-05-02.md")
    write(tmp_path, "2024-05-02.md")

    assert folder_source(tmp_path).list_files() == ["2024-05-02.md"]


def test_folder_reads_bytes_unchanged(tmp_path):
    (tmp_path / "m.md").write_bytes(
        b"\xef\xbb\xbf## Action items\r\nRD: caf\xc3\xa9\r\n"
    )

    assert (
        folder_source(tmp_path).read_file("m.md")
        == b"\xef\xbb\xbf## Action items\r\nRD: caf\xc3\xa9\r\n"
    )


def test_oversized_file_is_input_error(tmp_path):
    write(tmp_path, "big.md", "x" * 200)

    with pytest.raises(InputError) as raised:
        folder_source(tmp_path, max_file_bytes=100).read_file("big.md")

    assert raised.value.path == "big.md"
    assert "200 bytes" in str(raised.value)
    assert "max_file_bytes" in str(raised.value)


def test_vanished_file_is_input_error(tmp_path):
    with pytest.raises(InputError):
        folder_source(tmp_path).read_file("gone.md")


def test_missing_root_is_source_error(tmp_path):
    source = folder_source(tmp_path / "absent")

    with pytest.raises(SourceError) as raised:
        source.prepare()

    assert raised.value.source == "minutes"
    assert "does not exist" in str(raised.value)


def test_file_as_root_is_source_error(tmp_path):
    write(tmp_path, "file.md")

    with pytest.raises(SourceError):
        folder_source(tmp_path / "file.md").prepare()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_unlistable_subfolder_fails_source(tmp_path):
    write(tmp_path, "locked/2024-05-02.md")
    (tmp_path / "locked").chmod(0)
    try:
        with pytest.raises(SourceError):
            folder_source(tmp_path).list_files()
    finally:
        (tmp_path / "locked").chmod(0o755)


def test_open_source_by_kind(tmp_path):
    source = open_source(SourceSettings(name="m", root=tmp_path), state_dir=tmp_path)

    assert isinstance(source, FolderSource)
    assert source.describe() == str(tmp_path)


def test_named_pipe_is_input_error_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "2024-05-02.md")

    with pytest.raises(InputError, match="named pipe"):
        folder_source(tmp_path).read_file("2024-05-02.md")


def test_dangling_link_is_named(tmp_path):
    (tmp_path / "2024-05-02.md").symlink_to(tmp_path / "gone.md")

    with pytest.raises(InputError, match="symbolic link to a file that does not exist"):
        folder_source(tmp_path).read_file("2024-05-02.md")


def test_non_utf8_name_is_listed_escaped(tmp_path):
    (tmp_path / os.fsdecode(b"caf\xe9.md")).write_bytes(b"## Action items\n")
    write(tmp_path, "2024-05-02.md")
    source = folder_source(tmp_path)

    assert source.list_files() == ["2024-05-02.md", "caf\\xe9.md"]
    with pytest.raises(InputError, match="not valid UTF-8"):
        source.read_file("caf\\xe9.md")
