"""Sources of minutes: the interface every source implements, and the folder source.

A source lists its minutes files (paths relative to its root, in
POSIX form, filtered by the include and exclude globs) and reads one file's
bytes at a time. A failure to read the whole source raises ``SourceError``;
a failure to read one file raises ``InputError`` for that file only, so the
other files still sync. The git and HTTP sources live in
``syncd.sources_git`` and ``syncd.sources_http`` and implement the same
interface.
"""

from __future__ import annotations

import abc
import functools
import os
import re
import stat
from pathlib import Path

from syncd.errors import InputError, SourceError, SyncdError
from syncd.model import SourceRevision
from syncd.settings import SourceSettings

# Folders that never hold minutes and may be large.
SKIPPED_FOLDERS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__"})


class Source(abc.ABC):
    """One configured source of minutes.

    ``read_only`` is True for plans and dry runs: the source must then not
    write anywhere, not even a cache or a checkout under the state folder.
    """

    kind: str = ""

    def __init__(
        self, settings: SourceSettings, *, state_dir: Path, read_only: bool = False
    ) -> None:
        self.settings = settings
        self.state_dir = state_dir
        self.read_only = read_only
        # Listed names of files whose real names are not valid UTF-8.
        self.undecodable_names: dict[str, str] = {}

    @property
    def name(self) -> str:
        return self.settings.name

    def prepare(self) -> None:
        """Bring the source up to date (fetch a repository, download an export).

        Raises SourceError when the source cannot be read at all.
        """

    @abc.abstractmethod
    def list_files(self) -> list[str]:
        """Return the relative paths of the minutes files, sorted."""

    @abc.abstractmethod
    def read_file(self, path: str) -> bytes:
        """Return the bytes of one file; raise InputError for that file alone."""

    def revision(self) -> SourceRevision:
        """Return the revision and permalink template of what was read."""

        return SourceRevision()

    def close(self) -> None:
        """Release what ``prepare`` started: helper processes, temporary folders."""

    def describe(self) -> str:
        """Return where the source reads from, for messages."""

        return self.settings.url or str(self.settings.root)

    def listed_name(self, raw_path: str) -> str:
        """Return the name to list for ``raw_path``, as decoded with surrogateescape.

        A name that is not valid UTF-8 could not be stored in the state file,
        printed or linked, so it is listed with backslash escapes and reading
        it fails for that file alone.
        """

        try:
            raw_path.encode("utf-8")
        except UnicodeEncodeError:
            shown = raw_path.encode("utf-8", "surrogateescape").decode(
                "utf-8", "backslashreplace"
            )
            self.undecodable_names[shown] = raw_path
            return shown
        return raw_path

    def reject_undecodable(self, path: str) -> None:
        """Raise InputError if ``path`` lists a file whose name is not UTF-8."""

        if path in self.undecodable_names:
            raise InputError(
                path,
                None,
                "the file name is not valid UTF-8, so syncd cannot store or link"
                " it; rename the file to a UTF-8 name",
            )

    def selects(self, path: str) -> bool:
        """Return whether the include and exclude globs select ``path``."""

        return matches_any(path, self.settings.include) and not matches_any(
            path, self.settings.exclude
        )


class FolderSource(Source):
    """Minutes in a folder on this machine."""

    kind = "folder"

    @property
    def root(self) -> Path:
        if self.settings.root is None:
            raise SourceError(self.name, "the folder source has no root")
        return self.settings.root

    def prepare(self) -> None:
        root = self.root
        if not root.exists():
            raise SourceError(
                self.name,
                f"folder {root} does not exist",
                hint="check the source's root in the config, or pass --source PATH",
            )
        if not root.is_dir():
            raise SourceError(self.name, f"{root} is not a folder")
        if not os.access(root, os.R_OK | os.X_OK):
            raise SourceError(
                self.name, f"folder {root} cannot be read (permission denied)"
            )

    def list_files(self) -> list[str]:
        root = self.root
        found = []

        def fail(error: OSError) -> None:
            # A subfolder that cannot be listed makes the view incomplete, so
            # the whole source fails rather than look as if its files were gone.
            raise SourceError(
                self.name, f"cannot list {error.filename}: {error.strerror}"
            )

        for folder, subfolders, files in os.walk(root, onerror=fail):
            subfolders[:] = sorted(
                name for name in subfolders if name not in SKIPPED_FOLDERS
            )
            relative_folder = Path(folder).relative_to(root)
            for file_name in files:
                relative = self.listed_name((relative_folder / file_name).as_posix())
                if self.selects(relative):
                    found.append(relative)
        return sorted(found)

    def read_file(self, path: str) -> bytes:
        self.reject_undecodable(path)
        full = self.root / path
        try:
            status = full.stat()
            if not stat.S_ISREG(status.st_mode) and not stat.S_ISDIR(status.st_mode):
                # Opening a named pipe would block until a writer comes.
                raise InputError(
                    path,
                    None,
                    "is not a regular file (a named pipe, socket or device),"
                    " so syncd does not read it",
                )
            size = status.st_size
            if size > self.settings.max_file_bytes:
                raise InputError(
                    path,
                    None,
                    f"file is {size} bytes, more than the limit of "
                    f"{self.settings.max_file_bytes} (max_file_bytes)",
                )
            return full.read_bytes()
        except FileNotFoundError:
            if full.is_symlink():
                raise InputError(
                    path, None, "is a symbolic link to a file that does not exist"
                ) from None
            raise InputError(
                path, None, "file disappeared while syncd was reading"
            ) from None
        except IsADirectoryError:
            raise InputError(path, None, "is a folder, not a minutes file") from None
        except OSError as error:
            raise InputError(path, None, f"cannot be read: {error.strerror}") from None

    def revision(self) -> SourceRevision:
        template = self.settings.web_url
        return SourceRevision(revision=None, web_url=template)


def open_source(
    settings: SourceSettings, *, state_dir: Path, read_only: bool = False
) -> Source:
    """Build the source for ``settings`` by its kind."""

    if settings.kind == "folder":
        return FolderSource(settings, state_dir=state_dir, read_only=read_only)
    if settings.kind == "git":
        module_name, class_name = "syncd.sources_git", "GitSource"
    elif settings.kind == "http":
        module_name, class_name = "syncd.sources_http", "HttpSource"
    else:
        raise SyncdError(
            f"unknown source kind {settings.kind!r}", hint="use folder, git or http"
        )
    try:
        module = __import__(module_name, fromlist=[class_name])
    except ImportError:
        raise SourceError(
            settings.name,
            f"{settings.kind} sources are not available in this installation",
        ) from None
    source_class = getattr(module, class_name)
    return source_class(settings, state_dir=state_dir, read_only=read_only)


def matches_any(path: str, patterns: tuple[str, ...]) -> bool:
    return any(_glob_regex(pattern).fullmatch(path) for pattern in patterns)


@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a path glob to a regex.

    ``*`` and ``?`` stay within one path segment, ``**`` spans segments and
    ``**/`` also matches no folder at all, as in git and most build tools.
    """

    regex = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            regex.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            regex.append(".*")
            index += 2
            continue
        if char == "*":
            regex.append("[^/]*")
        elif char == "?":
            regex.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                regex.append(re.escape(char))
            else:
                body = pattern[index + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                regex.append(f"[{body}]")
                index = end
        else:
            regex.append(re.escape(char))
        index += 1
    return re.compile("".join(regex))
