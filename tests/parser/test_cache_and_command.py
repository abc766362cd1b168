"""The parse cache and the `parse` command."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys

from syncd.model import Group, Person
from syncd.parser import ParseCache, load_dialect, parse_bytes, run_parse_command
from syncd.roster import Roster

MINUTES = (
    "---\nparticipants: [KimL, Ana Berg]\n---\n"
    "# Weekly\n\n## Action items\nKL: Order chairs.\n\nAB/ZZ: Paint the wall.\n\nall: Vote.\n"
).encode()


def test_unchanged_file_not_reparsed(tmp_path):
    dialect = load_dialect("default")
    with ParseCache(tmp_path / "state" / "parse.sqlite") as cache:
        first = cache.parse(MINUTES, path="ops/2024-05-02.md", dialect=dialect)
        second = cache.parse(MINUTES, path="ops/2024-05-02.md", dialect=dialect)

        assert (cache.misses, cache.hits) == (1, 1)
        assert second == first

        cache.parse(MINUTES + b"\nPT: More.\n", path="ops/2024-05-02.md", dialect=dialect)
        cache.parse(MINUTES, path="ops/2024-05-02.md", dialect=load_dialect("unikraft"))
        cache.parse(MINUTES, path="ops/2024-05-09.md", dialect=dialect)
        assert (cache.misses, cache.hits) == (4, 1)


def test_cache_reopened_keeps_whole_document(tmp_path):
    path = tmp_path / "parse.sqlite"
    dialect = load_dialect("default")
    data = MINUTES + b"\n- KL: With context\n  - a detail\n"
    with ParseCache(path) as cache:
        original = cache.parse(data, path="ops/2024-05-02.md", dialect=dialect)

    with ParseCache(path, read_only=True) as cache:
        again = cache.parse(data, path="ops/2024-05-02.md", dialect=dialect)
        assert cache.hits == 1
    assert again == original
    assert again.items[-1].context == "- a detail"
    assert again == parse_bytes(data, path="ops/2024-05-02.md", dialect=dialect)


def test_read_only_cache_never_writes(tmp_path):
    path = tmp_path / "parse.sqlite"
    with ParseCache(path, read_only=True) as cache:
        cache.parse(MINUTES, path="a.md", dialect=load_dialect("default"))
    assert not path.exists()

    ParseCache(path).close()
    with ParseCache(path, read_only=True) as cache:
        cache.parse(MINUTES, path="a.md", dialect=load_dialect("default"))
    rows = sqlite3.connect(path).execute("SELECT COUNT(*) FROM documents").fetchone()
    assert rows == (0,)


def test_cache_keeps_file_errors(tmp_path):
    with ParseCache(tmp_path / "c.sqlite") as cache:
        first = cache.parse(b"\xff", path="bad.md", dialect=load_dialect("default"))
        second = cache.parse(b"\xff", path="bad.md", dialect=load_dialect("default"))
    assert first.errors
    assert second == first


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_json_output_shape_and_exit_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "2024-05-02.md", MINUTES)
    _write(tmp_path, "broken.md", b"---\na: 1\na: 2\n---\n")
    out = io.StringIO()

    code = run_parse_command(
        ["2024-05-02.md", "broken.md"], dialect="default", roster=None, output_format="json", stdout=out
    )

    assert code == 3
    output = json.loads(out.getvalue())
    good, bad = output["documents"]
    assert good["path"] == "2024-05-02.md"
    assert good["meeting"] == {
        "series": ".",
        "date": "2024-05-02",
        "title": None,
        "participants": ["KimL", "Ana Berg"],
    }
    assert good["items"][0] == {
        "line": 7,
        "end_line": 7,
        "owners": ["KL"],
        "kind": "task",
        "text": "Order chairs.",
        "done": False,
    }
    assert good["errors"] == []
    assert bad["items"] == []
    assert bad["errors"][0]["line"] == 3


def test_text_output_resolves_owners(tmp_path):
    path = _write(tmp_path, "2024-05-02.md", MINUTES)
    roster = Roster([Person("KimL", github="klund"), Person("Ana Berg", github="aberg")],
                    [Group("Everyone", aliases=("all",), label="everyone")])
    out = io.StringIO()

    code = run_parse_command([path], dialect="default", roster=roster, output_format="text", stdout=out)

    text = out.getvalue()
    assert code == 0
    assert "KL=KimL (@klund)" in text
    assert "AB=Ana Berg (@aberg)" in text
    assert "all=group Everyone (label everyone)" in text
    assert "unknown owner 'ZZ'" in text


def test_missing_file_fails_alone(tmp_path):
    good = _write(tmp_path, "2024-05-02.md", MINUTES)
    out = io.StringIO()

    code = run_parse_command(
        [str(tmp_path / "gone.md"), good], dialect="default", roster=None, output_format="json", stdout=out
    )

    documents = json.loads(out.getvalue())["documents"]
    assert code == 3
    assert "cannot read file" in documents[0]["errors"][0]["message"]
    assert len(documents[1]["items"]) == 3


def test_module_runs_as_a_parse_command(tmp_path):
    _write(tmp_path, "2024-05-02.md", MINUTES)

    done = subprocess.run(
        [sys.executable, "-m", "syncd.parser", "parse", "--format", "json", "--dialect", "unikraft",
         "2024-05-02.md"],
        cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "LANG": "C"},
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["documents"][0]["items"][0]["owners"] == ["KL"]


def test_module_reports_an_unknown_dialect(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "syncd.parser", "--dialect", "nope", "x.md"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )

    assert done.returncode == 2
    assert "no dialect named 'nope'" in done.stderr


def test_cache_key_roster_names_when_known(tmp_path):
    known_file = tmp_path / "known.yaml"
    known_file.write_text("owners:\n  names: known\n", encoding="utf-8")
    strict, loose = load_dialect(str(known_file)), load_dialect("default")
    data = b"## Action items\n- Kim to call.\n"
    with ParseCache(tmp_path / "c.sqlite") as cache:
        unknown = cache.parse(data, path="a.md", dialect=strict)
        known = cache.parse(data, path="a.md", dialect=strict, known_names=["kim"])
        cache.parse(data, path="a.md", dialect=loose, known_names=["kim"])
        cache.parse(data, path="a.md", dialect=loose, known_names=["lee"])

        assert unknown.items[0].owners == ()
        assert known.items[0].owners == ("Kim",)
        assert (cache.misses, cache.hits) == (3, 1)


def test_parse_command_takes_a_loaded_roster_tuple(tmp_path):
    path = _write(tmp_path, "2024-05-02.md", MINUTES)
    out = io.StringIO()

    run_parse_command(
        [path], dialect="default", roster=([Person("KimL", github="klund")], []),
        output_format="text", stdout=out,
    )

    assert "KL=KimL (@klund)" in out.getvalue()


def test_corrupt_cache_file_means_no_cache(tmp_path):
    path = tmp_path / "parse.sqlite"
    path.write_bytes(b"this is not an SQLite database" * 100)

    with ParseCache(path) as cache:
        document = cache.parse(MINUTES, path="a.md", dialect=load_dialect("default"))

    assert cache.problem is not None
    assert len(document.items) == 3


def test_bench_command_picks_dialect_by_folder(tmp_path, capsys):
    from syncd.parser.bench import main as bench_main

    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "2024-05-02.md").write_text("## TODOs and Decisions\n\nRD: Review the patch.\n")
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "2024-05-02.md").write_text("## Notes\n\nAction: Kim to tag it.\n")

    status = bench_main(["--repeat", "1", "--folder-dialect", "theirs=nodejs-tsc", str(tmp_path)])

    output = capsys.readouterr().out
    assert status == 0
    assert "2 files" in output
    assert "2 items" in output


def test_bench_parse_counts_items_with_per_file_dialects(tmp_path):
    from syncd.parser.bench import bench_parse

    (tmp_path / "a.md").write_text("## TODOs and Decisions\n\nRD: Review the patch.\n")
    (tmp_path / "b.md").write_text("## Notes\n\nAction: Kim to tag it.\n")
    markers = load_dialect("nodejs-tsc")
    sections = load_dialect("unikraft")

    figures = bench_parse(
        [tmp_path], dialect=lambda path: markers if path.endswith("b.md") else sections, repeat=1
    )

    assert figures["files"] == 2
    assert figures["items"] == 2
