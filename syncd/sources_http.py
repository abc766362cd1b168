"""Minutes from an HTTP(S) URL that serves one Markdown export.

The source downloads the URL with httpx and keeps the body with its ETag and
Last-Modified under ``<state folder>/sources/``, so the next run sends
If-None-Match and If-Modified-Since and a ``304 Not Modified`` costs no
download. Only ``http`` and ``https`` URLs are accepted, on the first request
and on every redirect. Downloads have timeouts and stop at the source's
``max_file_bytes``.

Any failure (a timeout, a 4xx or 5xx status, an HTML page where Markdown was
expected, a body over the size limit) raises ``SourceError``. The cached copy
is not used in its place, so a broken export never makes items look removed.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from syncd import __version__
from syncd.errors import InputError, SourceError
from syncd.model import SourceRevision
from syncd.sources import Source

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")

# Seconds: connecting, waiting between bytes of the response, the whole request.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
MAX_REDIRECTS = 5

# Media types that mean the server sent a web page, typically a login form.
# Parsing one as minutes would find no items and make every issue look done.
_HTML_TYPES = ("text/html", "application/xhtml+xml")

_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".txt")


def file_name_for(url: str) -> str:
    """Return the file name a document from ``url`` is listed under.

    It is the last segment of the URL path when that names a Markdown file,
    and ``export.md`` otherwise, for URLs such as ``/doc/123/export?format=md``.
    """

    segment = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    segment = re.sub(r"[^A-Za-z0-9_.-]", "_", segment)
    if segment.lower().endswith(_MARKDOWN_SUFFIXES):
        return segment
    return "export.md"


def _check_scheme(source_name: str, url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise SourceError(
            source_name,
            f"URL {url!r} uses {scheme or 'no'} scheme; only http and https are allowed",
        )


class HttpSource(Source):
    """One Markdown document downloaded from a URL."""

    kind = "http"

    def __init__(
        self,
        settings,
        *,
        state_dir: Path,
        read_only: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(settings, state_dir=state_dir, read_only=read_only)
        if not settings.url:
            raise SourceError(settings.name, "an http source needs url")
        _check_scheme(settings.name, settings.url)
        self.url = settings.url
        self.path = file_name_for(self.url)
        self._transport = transport
        self._body: bytes | None = None
        self._revision: str | None = None
        # Set when the last prepare() got a 304, for tests and metrics.
        self.not_modified = False

    @property
    def cache_dir(self) -> Path:
        digest = hashlib.sha256(self.url.encode("utf-8")).hexdigest()[:12]
        safe_name = re.sub(r"[^A-Za-z0-9_.-]", "_", self.name)
        return self.state_dir / "sources" / f"{safe_name}-{digest}.http"

    # Downloading.

    def prepare(self) -> None:
        cached_body, cached_meta = self._read_cache()
        headers = {
            "Accept": "text/markdown, text/plain;q=0.9, */*;q=0.1",
            "User-Agent": f"syncd/{__version__}",
        }
        if cached_body is not None:
            if cached_meta.get("etag"):
                headers["If-None-Match"] = cached_meta["etag"]
            if cached_meta.get("last_modified"):
                headers["If-Modified-Since"] = cached_meta["last_modified"]

        response_meta, body = self._download(headers)
        if body is None:
            if cached_body is None:
                raise SourceError(
                    self.name,
                    f"{self.url} returned 304 Not Modified to a request without a cached copy",
                )
            logger.info("source %s not modified since the last download", self.name)
            self.not_modified = True
            self._body = cached_body
            self._revision = cached_meta.get("sha256", "")[:12] or None
            return

        self.not_modified = False
        digest = hashlib.sha256(body).hexdigest()
        response_meta["sha256"] = digest
        self._body = body
        self._revision = digest[:12]
        logger.info("downloaded %s: %d bytes", self.url, len(body))
        if not self.read_only:
            self._write_cache(body, response_meta)

    def _download(self, headers: dict[str, str]) -> tuple[dict, bytes | None]:
        """GET the URL. Return the cache metadata and the body, or None for a 304."""

        timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
        limit = self.settings.max_file_bytes
        try:
            with httpx.Client(
                timeout=timeout,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                transport=self._transport,
                event_hooks={"request": [self._check_request]},
            ) as client:
                with client.stream("GET", self.url, headers=headers) as response:
                    if response.status_code == 304:
                        return {}, None
                    if response.status_code != 200:
                        raise SourceError(
                            self.name,
                            f"GET {self.url} returned {response.status_code} {response.reason_phrase}",
                            hint="check the URL and that the export is public or reachable",
                        )
                    self._check_content_type(response)
                    declared = response.headers.get("Content-Length", "")
                    if declared.isdigit() and int(declared) > limit:
                        raise self._too_large(f"{declared} bytes")
                    chunks, size = [], 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > limit:
                            raise self._too_large(f"more than {limit} bytes")
                        chunks.append(chunk)
                    meta = {
                        "url": self.url,
                        "etag": response.headers.get("ETag"),
                        "last_modified": response.headers.get("Last-Modified"),
                        "fetched_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                    }
                    return meta, b"".join(chunks)
        except httpx.TimeoutException:
            raise SourceError(
                self.name, f"GET {self.url} timed out", hint="check the network and the URL"
            ) from None
        except httpx.TooManyRedirects:
            raise SourceError(
                self.name, f"GET {self.url} was redirected more than {MAX_REDIRECTS} times"
            ) from None
        except httpx.HTTPError as error:
            raise SourceError(self.name, f"GET {self.url} failed: {error}") from None

    def _check_request(self, request: httpx.Request) -> None:
        # Runs for the first request and for every redirect httpx follows.
        if request.url.scheme not in ALLOWED_SCHEMES:
            raise SourceError(
                self.name,
                f"{self.url} redirected to {request.url}, which is not an http or https URL",
            )

    def _check_content_type(self, response: httpx.Response) -> None:
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media_type in _HTML_TYPES:
            raise SourceError(
                self.name,
                f"{self.url} returned a web page ({media_type}), not Markdown",
                hint="the export may need a login, or the URL points at a page instead of a raw export",
            )

    def _too_large(self, size: str) -> SourceError:
        return SourceError(
            self.name,
            f"{self.url} is {size}, over the limit of {self.settings.max_file_bytes} "
            "bytes (max_file_bytes)",
        )

    # The cache.

    def _read_cache(self) -> tuple[bytes | None, dict]:
        meta_path = self.cache_dir / "meta.json"
        body_path = self.cache_dir / "body"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes()
        except (OSError, ValueError):
            return None, {}
        if not isinstance(meta, dict) or meta.get("url") != self.url:
            return None, {}
        if meta.get("sha256") != hashlib.sha256(body).hexdigest():
            logger.warning("cached copy of %s is damaged; downloading it again", self.url)
            return None, {}
        return body, meta

    def _write_cache(self, body: bytes, meta: dict) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # The body goes first: meta.json names its checksum, so a crash between
        # the two writes leaves a mismatch that the next read discards.
        _write_atomically(self.cache_dir / "body", body)
        _write_atomically(self.cache_dir / "meta.json", json.dumps(meta).encode("utf-8"))

    # Reading.

    def list_files(self) -> list[str]:
        if self._body is None:
            raise SourceError(self.name, "the http source was read before it was downloaded")
        return [self.path]

    def read_file(self, path: str) -> bytes:
        if path != self.path or self._body is None:
            raise InputError(path, None, f"not part of the export at {self.url}")
        return self._body

    def revision(self) -> SourceRevision:
        return SourceRevision(revision=self._revision, web_url=self.settings.web_url)


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
