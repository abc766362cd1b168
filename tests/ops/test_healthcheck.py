"""Health check pings against a loopback HTTP server."""

from __future__ import annotations

import http.server
import logging
import threading
import time

import pytest

from syncd.healthcheck import HealthCheck, find_ping_url


class PingServer:
    def __init__(self, delay: float = 0.0, status: int = 200) -> None:
        self.received: list[tuple[str, bytes]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server.received.append((self.path, self.rfile.read(length)))
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")
                except BrokenPipeError:
                    # The client timed out and went away, as the test intends.
                    pass

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def ping_server():
    server = PingServer()
    yield server
    server.close()


def test_success_and_failure_paths(ping_server):
    check = HealthCheck(ping_server.url("/ping/0f3c"))
    assert check.start()
    assert check.report(True, "2 create")
    assert check.report(False, "source down")
    assert ping_server.received == [
        ("/ping/0f3c/start", b""),
        ("/ping/0f3c", b"2 create"),
        ("/ping/0f3c/fail", b"source down"),
    ]


def test_timeout_is_logged_not_raised(caplog):
    slow = PingServer(delay=2.0)
    try:
        check = HealthCheck(slow.url("/ping/secret-uuid"), timeout=0.2)
        with caplog.at_level(logging.WARNING):
            # The server would return 200 after 2 s, so False means the timeout fired.
            assert not check.success("ok")
    finally:
        slow.close()
    assert "health check ping to 127.0.0.1 failed" in caplog.text
    assert "secret-uuid" not in caplog.text


def test_error_status_is_logged():
    failing = PingServer(status=500)
    try:
        assert not HealthCheck(failing.url("/ping/x")).success("ok")
    finally:
        failing.close()


def test_refused_connection_is_logged(caplog):
    check = HealthCheck("http://127.0.0.1:9/ping/x", timeout=0.5)
    with caplog.at_level(logging.WARNING):
        assert not check.failure("down")
    assert "failed" in caplog.text


def test_body_is_truncated(ping_server):
    HealthCheck(ping_server.url("/p")).success("x" * 50_000)
    assert len(ping_server.received[0][1]) == 10_000


@pytest.mark.parametrize("url", ["file:///tmp/x", "ftp://127.0.0.1/x", "no-scheme"])
def test_non_http_url_is_rejected(url):
    with pytest.raises(ValueError, match="http or https"):
        HealthCheck(url)


def test_find_ping_url_order(tmp_path, monkeypatch):
    monkeypatch.delenv("SYNCD_PING_URL", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    assert find_ping_url() is None

    (tmp_path / "ping-url").write_text("http://127.0.0.1/from-credential\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert find_ping_url() == "http://127.0.0.1/from-credential"

    monkeypatch.setenv("SYNCD_PING_URL", "http://127.0.0.1/from-env")
    assert find_ping_url() == "http://127.0.0.1/from-env"
    assert find_ping_url("http://127.0.0.1/explicit") == "http://127.0.0.1/explicit"
