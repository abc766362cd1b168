"""A small store of ETags and page bodies for conditional list requests.

Each list page is stored with its ETag, its body and the URL of the next
page. The next run sends ``If-None-Match`` with the ETag; a 304 means the
stored page is still current, so a run with nothing new costs only 304
responses (which GitHub does not count against the primary rate limit).

The store is one SQLite file per target under the state folder. Without a
state folder it lives in memory for the run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    key TEXT PRIMARY KEY,
    etag TEXT NOT NULL,
    body TEXT NOT NULL,
    next_url TEXT,
    stored_at REAL NOT NULL
)
"""


@dataclass(frozen=True)
class CachedPage:
    etag: str
    body: object
    next_url: str | None


class PageCache:
    def __init__(self, path: Path | None, *, scope: str) -> None:
        # ``scope`` separates accounts and servers sharing one file: a page
        # one token may see is never served to another.
        self._scope = hashlib.sha256(scope.encode("utf-8")).hexdigest()[:16]
        self._lock = threading.Lock()
        if path is None:
            self._db = sqlite3.connect(":memory:", check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)
        self._db.commit()

    def _key(self, url: str) -> str:
        return f"{self._scope} {url}"

    def get(self, url: str) -> CachedPage | None:
        with self._lock:
            row = self._db.execute(
                "SELECT etag, body, next_url FROM pages WHERE key = ?",
                (self._key(url),),
            ).fetchone()
        if row is None:
            return None
        try:
            body = json.loads(row[1])
        except ValueError:
            return None
        return CachedPage(etag=row[0], body=body, next_url=row[2])

    def put(self, url: str, etag: str, body: object, next_url: str | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO pages (key, etag, body, next_url, stored_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (self._key(url), etag, json.dumps(body), next_url, time.time()),
            )
            self._db.commit()

    def discard(self, url: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM pages WHERE key = ?", (self._key(url),))
            self._db.commit()

    def get_fact(self, name: str, max_age: float) -> object | None:
        """Return a value stored by ``put_fact`` at most ``max_age`` seconds ago."""

        with self._lock:
            row = self._db.execute(
                "SELECT body, stored_at FROM pages WHERE key = ?",
                (self._key("fact " + name),),
            ).fetchone()
        if row is None or time.time() - row[1] > max_age:
            return None
        return json.loads(row[0])

    def put_fact(self, name: str, value: object) -> None:
        """Store a result without an ETag, such as whether an account is assignable."""

        self.put("fact " + name, "", value, None)

    def close(self) -> None:
        with self._lock:
            self._db.close()
