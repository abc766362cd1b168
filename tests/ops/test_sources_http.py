"""The HTTP source against a loopback HTTP server."""

from __future__ import annotations

import email.utils
import hashlib
import http.server
import threading
import time
from pathlib import Path

import pytest

from syncd.errors import SourceError
from syncd.settings import SourceSettings
from syncd.sources import open_source
from syncd.sources_http import HttpSource, file_name_for

MINUTES = b"""---
title: Planning
date: 2026-04-01
---
# Action items
- CD: Book the room.
"""


class ExportServer:
    """A loopback server whose routes the test sets, recording each request's headers."""

    def __init__(self) -> None:
        self.routes: dict[str, dict] = {}
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append({"path": self.path, **dict(self.headers.items())})
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                time.sleep(route.get("delay", 0))

                if "location" in route:
                    self.send_response(302)
                    self.send_header("Location", route["location"])
                    self.end_headers()
                    return
                etag = route.get("etag")
                if etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return

                body = route.get("body", b"")
                self.send_response(route.get("status", 200))
                self.send_header("Content-Type", route.get("type", "text/markdown; charset=utf-8"))
                if etag:
                    self.send_header("ETag", etag)
                if "last_modified" in route:
                    self.send_header("Last-Modified", route["last_modified"])
                if not route.get("chunked"):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    # The client stopped reading at its size limit.
                    pass

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    export_server = ExportServer()
    yield export_server
    export_server.close()


def make_source(url: str, state_dir: Path, **changes) -> HttpSource:
    settings = SourceSettings(name="export", kind="http", url=url, **changes)
    source = open_source(settings, state_dir=state_dir)
    assert isinstance(source, HttpSource)
    return source


def test_download_lists_and_reads(server, tmp_path):
    server.routes["/team/planning.md"] = {"body": MINUTES, "etag": '"v1"'}
    source = make_source(server.url("/team/planning.md"), tmp_path)
    source.prepare()

    assert source.list_files() == ["planning.md"]
    assert source.read_file("planning.md") == MINUTES
    assert source.revision().revision == hashlib.sha256(MINUTES).hexdigest()[:12]


def test_etag_makes_second_run_conditional(server, tmp_path):
    server.routes["/planning.md"] = {"body": MINUTES, "etag": '"v1"'}
    make_source(server.url("/planning.md"), tmp_path).prepare()

    second = make_source(server.url("/planning.md"), tmp_path)
    second.prepare()

    assert server.requests[1]["If-None-Match"] == '"v1"'
    assert second.not_modified
    assert second.read_file("planning.md") == MINUTES


def test_last_modified_is_sent_back(server, tmp_path):
    stamp = email.utils.formatdate(usegmt=True)
    server.routes["/planning.md"] = {"body": MINUTES, "last_modified": stamp}
    make_source(server.url("/planning.md"), tmp_path).prepare()
    make_source(server.url("/planning.md"), tmp_path).prepare()
    assert server.requests[1]["If-Modified-Since"] == stamp


def test_changed_export_is_downloaded_again(server, tmp_path):
    server.routes["/planning.md"] = {"body": MINUTES, "etag": '"v1"'}
    make_source(server.url("/planning.md"), tmp_path).prepare()

    changed = MINUTES.replace(b"room", b"hall")
    server.routes["/planning.md"] = {"body": changed, "etag": '"v2"'}
    source = make_source(server.url("/planning.md"), tmp_path)
    source.prepare()
    assert not source.not_modified
    assert source.read_file("planning.md") == changed


def test_server_error_is_source_error(server, tmp_path):
    server.routes["/planning.md"] = {"body": MINUTES, "etag": '"v1"'}
    make_source(server.url("/planning.md"), tmp_path).prepare()

    server.routes["/planning.md"] = {"status": 503, "body": b"down"}
    source = make_source(server.url("/planning.md"), tmp_path)
    with pytest.raises(SourceError, match="returned 503"):
        source.prepare()

    # The cached copy is not used in place of the failed download.
    with pytest.raises(SourceError):
        source.list_files()


def test_html_page_is_rejected(server, tmp_path):
    server.routes["/planning.md"] = {"body": b"<html>Sign in</html>", "type": "text/html"}
    with pytest.raises(SourceError, match="web page"):
        make_source(server.url("/planning.md"), tmp_path).prepare()


def test_size_limit_declared_length(server, tmp_path):
    server.routes["/planning.md"] = {"body": MINUTES}
    source = make_source(server.url("/planning.md"), tmp_path, max_file_bytes=20)
    with pytest.raises(SourceError, match="over the limit"):
        source.prepare()


def test_size_limit_without_length(server, tmp_path):
    server.routes["/planning.md"] = {"body": MINUTES * 100, "chunked": True}
    source = make_source(server.url("/planning.md"), tmp_path, max_file_bytes=1000)
    with pytest.raises(SourceError, match="over the limit"):
        source.prepare()


def test_timeout_is_source_error(server, tmp_path, monkeypatch):
    monkeypatch.setattr("syncd.sources_http.READ_TIMEOUT", 0.2)
    server.routes["/slow.md"] = {"body": MINUTES, "delay": 1.0}
    with pytest.raises(SourceError, match="timed out"):
        make_source(server.url("/slow.md"), tmp_path).prepare()


def test_redirect_to_other_scheme_is_rejected(server, tmp_path):
    server.routes["/planning.md"] = {"location": "file:///etc/passwd"}
    with pytest.raises(SourceError):
        make_source(server.url("/planning.md"), tmp_path).prepare()


def test_redirect_within_http_is_followed(server, tmp_path):
    server.routes["/old.md"] = {"location": server.url("/new.md")}
    server.routes["/new.md"] = {"body": MINUTES}
    source = make_source(server.url("/old.md"), tmp_path)
    source.prepare()
    assert source.read_file("old.md") == MINUTES


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x.md", "gopher://x"])
def test_other_schemes_are_rejected(url, tmp_path):
    with pytest.raises(SourceError, match="only http and https"):
        make_source(url, tmp_path)


def test_dry_run_writes_no_cache(server, tmp_path):
    server.routes["/planning.md"] = {"body": MINUTES, "etag": '"v1"'}
    source = make_source(server.url("/planning.md"), tmp_path / "state")
    source.read_only = True
    source.prepare()
    assert source.read_file("planning.md") == MINUTES
    assert not (tmp_path / "state").exists()


def test_damaged_cache_is_downloaded_again(server, tmp_path):
    server.routes["/planning.md"] = {"body": MINUTES, "etag": '"v1"'}
    first = make_source(server.url("/planning.md"), tmp_path)
    first.prepare()
    (first.cache_dir / "body").write_bytes(b"torn")

    second = make_source(server.url("/planning.md"), tmp_path)
    second.prepare()
    assert "If-None-Match" not in server.requests[1]
    assert second.read_file("planning.md") == MINUTES


@pytest.mark.parametrize(
    "url, name",
    [
        ("https://docs.example.invalid/team/notes.md", "notes.md"),
        ("https://docs.example.invalid/doc/123/export?format=md", "export.md"),
        ("https://docs.example.invalid/", "export.md"),
    ],
)
def test_file_name_for(url, name):
    assert file_name_for(url) == name
