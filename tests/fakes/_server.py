"""A threaded loopback HTTP server with a request log and failure injection.

The GitHub and GitLab fakes subclass ``FakeServer`` and implement ``route``.
Every request is recorded (method, path, status) so tests can count them, and
``inject`` arms a ``Fault``: a status with headers and body, a delay, a
dropped connection, or a failure sent after the request was applied (the
write is stored but the client never sees the response).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    reason: str | None = None
    # False: send only these headers, without the fake's usual ones.
    decorated: bool = True
    # True: announce the whole body but send half of it, then hang up.
    truncated: bool = False

    def encoded_body(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


@dataclass
class Request:
    method: str
    raw_path: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body)


@dataclass
class RecordedRequest:
    method: str
    raw_path: str
    path: str
    query: str
    status: int
    request_headers: dict[str, str]
    body: bytes


@dataclass
class Fault:
    """A failure to send instead of (or after) the normal response.

    ``path`` is a regular expression matched against the whole path after the
    API prefix, without the query. ``times`` is how many matching requests
    fail (None: all), after ``skip`` matching requests pass.
    """

    method: str | None
    path: str
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    reason: str | None = None
    times: int | None = 1
    skip: int = 0
    after_commit: bool = False
    drop: bool = False
    # Send the headers and half the body, then close the connection.
    truncate: bool = False
    delay: float = 0.0
    hits: int = 0

    def matches(self, request: Request) -> bool:
        if self.method is not None and self.method.upper() != request.method:
            return False
        return re.fullmatch(self.path, request.path) is not None

    def take(self) -> bool:
        """Count one matching request; return whether this one fails."""

        self.hits += 1
        if self.hits <= self.skip:
            return False
        return self.times is None or self.hits - self.skip <= self.times


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        # The request log on the fake replaces the stderr access log.
        pass

    def _handle(self) -> None:
        self.server.fake._serve(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeServer

    def handle_error(self, request, client_address) -> None:
        # A client that was killed or timed out resets its connection. The
        # reliability tests do that on purpose, so it is no fault of the fake.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class FakeServer:
    """Base class: start with ``start()`` or as a context manager."""

    # Path prefix every API path starts with ("" or "/api/v3" or "/api/v4").
    prefix = ""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.fake = self
        self._thread: threading.Thread | None = None
        self.lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        # Exceptions raised inside route(): a test may assert there are none.
        self.internal_errors: list[str] = []
        self.clock: Callable[[], float] = time.time
        # Called with (kind, data) for each JSON object the fake renders;
        # tests plug a tests.fakes.schemas.SchemaCheck in here.
        self.schema_check: Callable[[str, Any], None] | None = None

    # Lifecycle.

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.origin + self.prefix

    def start(self) -> FakeServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _check(self, kind: str, data: Any) -> None:
        if self.schema_check is not None:
            self.schema_check(kind, data)

    # Faults and the request log.

    def inject(self, method: str | None, path: str, **kwargs: Any) -> Fault:
        fault = Fault(method=method, path=path, **kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def request_log(self) -> list[tuple[str, str, int]]:
        """Return (method, path, status) for every request so far."""

        with self.lock:
            return [(entry.method, entry.path, entry.status) for entry in self.requests]

    def count(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> int:
        """Count recorded requests; ``path`` is a regular expression over the path."""

        total = 0
        for entry_method, entry_path, entry_status in self.request_log():
            if method is not None and entry_method != method:
                continue
            if path is not None and re.fullmatch(path, entry_path) is None:
                continue
            if status is not None and entry_status != status:
                continue
            total += 1
        return total

    def reset_log(self) -> None:
        with self.lock:
            self.requests.clear()

    # Serving.

    def route(self, request: Request) -> Response:
        raise NotImplementedError

    def _serve(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        raw_path, _, raw_query = handler.path.partition("?")
        headers = {key.lower(): value for key, value in handler.headers.items()}
        path = (
            raw_path[len(self.prefix) :] if raw_path.startswith(self.prefix) else None
        )
        request = Request(
            method=handler.command,
            raw_path=raw_path,
            path=path if path is not None else raw_path,
            query=urllib.parse.parse_qs(raw_query, keep_blank_values=True),
            headers=headers,
            body=body,
        )

        with self.lock:
            fault = next(
                (item for item in self.faults if item.matches(request) and item.take()),
                None,
            )

        if fault is not None and fault.delay:
            time.sleep(fault.delay)

        response: Response | None
        if (
            fault is not None
            and not fault.after_commit
            and (fault.status or fault.drop)
        ):
            response = self._fault_response(fault)
        else:
            with self.lock:
                if path is None:
                    response = self.not_found_route(request)
                else:
                    try:
                        response = self.route(request)
                    except json.JSONDecodeError:
                        response = self.bad_json(request)
                    except Exception as error:
                        # A bug in the fake: report it as a 500, not a dropped connection.
                        response = Response(
                            500, {"message": f"fake server error: {error!r}"}
                        )
                        self.internal_errors.append(repr(error))
            if fault is not None and (fault.after_commit or fault.truncate):
                response = self._fault_response(fault, response)

        with self.lock:
            self.requests.append(
                RecordedRequest(
                    method=request.method,
                    raw_path=request.raw_path,
                    path=request.path,
                    query=raw_query,
                    status=0 if response is None else response.status,
                    request_headers=headers,
                    body=body,
                )
            )

        if response is None:
            self._drop(handler)
            return
        self._write(handler, request, response)

    def _fault_response(
        self, fault: Fault, committed: Response | None = None
    ) -> Response | None:
        if fault.drop:
            return None
        if fault.truncate and fault.status is None and committed is not None:
            committed.truncated = True
            return committed
        response = Response(
            status=fault.status or 500,
            body=fault.body,
            headers=dict(fault.headers),
            content_type=fault.content_type,
            reason=fault.reason,
        )
        response.truncated = fault.truncate
        return response

    def decorate(self, request: Request, response: Response) -> None:
        """Add headers every response carries (rate limits); subclasses override."""

    def not_found_route(self, request: Request) -> Response:
        return Response(404, {"message": "Not Found"})

    def bad_json(self, request: Request) -> Response:
        return Response(400, {"message": "Problems parsing JSON"})

    def _write(self, handler: _Handler, request: Request, response: Response) -> None:
        if response.decorated:
            self.decorate(request, response)
        payload = response.encoded_body()
        try:
            handler.send_response(response.status, response.reason)
            if payload or response.status not in (204, 304):
                handler.send_header("Content-Type", response.content_type)
            for key, value in response.headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if payload and request.method != "HEAD":
                handler.wfile.write(
                    payload[: len(payload) // 2] if response.truncated else payload
                )
            handler.wfile.flush()
            if response.truncated:
                self._drop(handler)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    @staticmethod
    def _drop(handler: _Handler) -> None:
        # Close without a status line: the client sees the connection end.
        handler.close_connection = True
        try:
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def iso_time(seconds: float, *, milliseconds: bool = False) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if milliseconds:
        return f"{stamp}.{int(seconds * 1000) % 1000:03d}Z"
    return stamp + "Z"


@contextlib.contextmanager
def contract_session(tracker: Any, fake: FakeServer) -> Iterator[Any]:
    """Yield ``tracker`` with its fake attached and close its session after."""

    tracker.fake = fake
    try:
        yield tracker
    finally:
        tracker.close_session()


def serve_until_interrupted(fake: FakeServer, url: str) -> None:
    """Start ``fake``, print ``url`` for the caller and serve until Ctrl-C."""

    fake.start()
    print(url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


def compile_routes(
    routes: list[tuple[str, str, str]], *placeholders: tuple[str, str]
) -> list[tuple[str, re.Pattern[str], str]]:
    """Compile (method, pattern, handler) routes.

    Each placeholder such as ``{issue}`` is replaced by its regular
    expression, in the order given.
    """

    compiled = []
    for method, pattern, handler in routes:
        for placeholder, expression in placeholders:
            pattern = pattern.replace(placeholder, expression)
        compiled.append((method, re.compile(pattern), handler))
    return compiled
