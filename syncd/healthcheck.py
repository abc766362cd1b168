"""Pings to a dead man's switch service in the style of Healthchecks.io.

After each sync syncd requests the configured URL on success, or the URL
with ``/fail`` appended on failure, and sends a short summary as the body.
The service raises an alarm when the pings stop or a failure arrives, which
catches a timer that no longer fires as well as a sync that fails. ``/start``
is sent when a sync begins, so the service can also measure run time.

A ping that fails is logged and ignored: monitoring must never fail a sync.
The URL usually contains a secret check id, so only its host is logged.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from syncd import __version__

logger = logging.getLogger(__name__)

# Seconds for the whole ping. A slow monitor must not hold up the daemon.
PING_TIMEOUT = 5.0
# Healthchecks.io stores up to 100 kB of body; the summary needs far less.
MAX_BODY_BYTES = 10_000

PING_URL_ENV = "SYNCD_PING_URL"
# The file name under $CREDENTIALS_DIRECTORY (systemd LoadCredential=).
PING_URL_CREDENTIAL = "ping-url"


def find_ping_url(explicit: str | None = None) -> str | None:
    """Return the ping URL from the option, ``$SYNCD_PING_URL`` or the credential file."""

    if explicit:
        return explicit
    from_environment = os.environ.get(PING_URL_ENV, "").strip()
    if from_environment:
        return from_environment
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials:
        try:
            return (Path(credentials) / PING_URL_CREDENTIAL).read_text().strip() or None
        except OSError:
            return None
    return None


class HealthCheck:
    """Send start, success and failure pings to one check URL."""

    def __init__(
        self, url: str, *, timeout: float = PING_TIMEOUT, transport: httpx.BaseTransport | None = None
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"ping URL must be an http or https URL, not {parts.scheme or url!r}")
        self.url = url.rstrip("/")
        self.host = parts.hostname or "?"
        self.timeout = timeout
        self.transport = transport

    def start(self) -> bool:
        return self._send(self.url + "/start", "")

    def success(self, summary: str) -> bool:
        return self._send(self.url, summary)

    def failure(self, summary: str) -> bool:
        return self._send(self.url + "/fail", summary)

    def report(self, ok: bool, summary: str) -> bool:
        return self.success(summary) if ok else self.failure(summary)

    def _send(self, url: str, body: str) -> bool:
        data = body.encode("utf-8")[:MAX_BODY_BYTES]
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(
                    url, content=data, headers={"User-Agent": f"syncd/{__version__}"}
                )
        except httpx.HTTPError as error:
            logger.warning(
                "health check ping to %s failed: %s", self.host, type(error).__name__
            )
            return False
        if response.status_code >= 400:
            logger.warning(
                "health check ping to %s returned %d", self.host, response.status_code
            )
            return False
        logger.debug("health check ping to %s sent", self.host)
        return True
