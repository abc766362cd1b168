"""Minutes in a git repository, read with the ``git`` command.

The source keeps a bare repository under ``<state folder>/sources/`` and
fetches only the configured branch (the remote's default branch when none is
set) into a private ref. Files are read from that commit with ``git ls-tree``
and ``git cat-file``, so there is no work tree to get out of step, and every
document records the commit it came from for permalinks.

A fetch that fails raises ``SourceError``. The old fetched commit is not used
in its place, so an unreachable remote never makes items look removed and
nothing from the source is closed.

Plans and dry runs must not write under the state folder. They fetch into a
temporary bare repository, borrowing objects from the kept one through git's
alternates file when it exists, and delete it afterwards.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from syncd.errors import InputError, SourceError
from syncd.model import SourceRevision
from syncd.sources import Source

logger = logging.getLogger(__name__)

# Seconds a fetch may take. A large first clone over a slow link may need more.
FETCH_TIMEOUT = 600
# Seconds for a local git command (ls-tree, rev-parse).
LOCAL_TIMEOUT = 60

# The ref the fetched branch head is stored under, out of the way of branches.
SOURCE_REF = "refs/syncd/source"

# Transports git may use. ``ext::`` and other helpers that run commands are
# left out, because the URL comes from a config file.
ALLOWED_PROTOCOLS = "file:git:http:https:ssh"

# Regular files in a tree listing: mode 100644 or 100755. Symbolic links
# (120000) and submodules (160000) are not minutes.
_REGULAR_FILE_MODES = ("100644", "100755")

_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def redact_url(url: str) -> str:
    """Return ``url`` with any user name and password removed, for messages."""

    return _USERINFO.sub("", url)


def guess_web_url(url: str) -> str | None:
    """Return a permalink template for a GitHub or GitLab repository URL, or None.

    ``https://github.com/acme/minutes.git`` and ``git@github.com:acme/minutes``
    give ``https://github.com/acme/minutes/blob/{revision}/{path}#L{line}``;
    GitLab URLs give the same with ``/-/blob/``.
    """

    match = re.fullmatch(r"https://(?:[^/@]+@)?([^/]+)/(.+?)(?:\.git)?/?", url)
    if match is None:
        match = re.fullmatch(r"(?:ssh://)?git@([^:/]+)[:/](.+?)(?:\.git)?/?", url)
    if match is None:
        return None
    host, project = match.groups()
    if host == "github.com":
        return f"https://{host}/{project}/blob/{{revision}}/{{path}}#L{{line}}"
    if host == "gitlab.com" or host.startswith("gitlab."):
        return f"https://{host}/{project}/-/blob/{{revision}}/{{path}}#L{{line}}"
    return None


def _error_detail(stderr: str, returncode: int) -> str:
    """Return git's ``fatal:`` or ``error:`` lines, or its last line, for a message."""

    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return f"exit status {returncode}"
    errors = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return redact_url(" ".join(errors or lines[-1:]))


class GitSource(Source):
    """Minutes in a branch of a git repository."""

    kind = "git"

    def __init__(self, settings, *, state_dir: Path, read_only: bool = False) -> None:
        super().__init__(settings, state_dir=state_dir, read_only=read_only)
        if not settings.url:
            raise SourceError(settings.name, "a git source needs url")
        self.url = settings.url
        self.commit: str | None = None
        self._repository: Path | None = None
        self._temporary: tempfile.TemporaryDirectory | None = None
        self._blobs: dict[str, tuple[str, int]] = {}
        self._reader: subprocess.Popen | None = None

    @property
    def kept_repository(self) -> Path:
        """The bare repository under the state folder, one per source name and URL."""

        digest = hashlib.sha256(self.url.encode("utf-8")).hexdigest()[:12]
        safe_name = re.sub(r"[^A-Za-z0-9_.-]", "_", self.name)
        return self.state_dir / "sources" / f"{safe_name}-{digest}.git"

    def describe(self) -> str:
        branch = self.settings.branch or "the default branch"
        return f"{redact_url(self.url)} ({branch})"

    # Fetching.

    def prepare(self) -> None:
        if shutil.which("git") is None:
            raise SourceError(
                self.name,
                "the git command is not installed",
                hint="install git, or use a folder source over a checkout",
            )
        self.close()
        # Forget the last commit first, so a failed fetch leaves nothing to read.
        self.commit = None
        self._blobs = {}
        if self.read_only:
            repository = self._temporary_repository()
        else:
            repository = self.kept_repository
            if not (repository / "HEAD").exists():
                repository.parent.mkdir(parents=True, exist_ok=True)
                self._git(["init", "--quiet", "--bare", str(repository)], cwd=None)
            else:
                self._remove_stale_locks(repository)
        self._repository = repository

        branch = self.settings.branch
        remote_ref = f"refs/heads/{branch}" if branch else "HEAD"
        logger.info("fetching %s from %s", branch or "the default branch", redact_url(self.url))
        self._git(
            [
                "fetch",
                "--quiet",
                "--no-tags",
                "--depth=1",
                "--",
                self.url,
                f"+{remote_ref}:{SOURCE_REF}",
            ],
            timeout=FETCH_TIMEOUT,
            action=f"fetching {branch or 'the default branch'} of {redact_url(self.url)}",
        )
        self.commit = self._git(
            ["rev-parse", "--verify", f"{SOURCE_REF}^{{commit}}"], action="reading the fetched commit"
        ).strip()
        self._blobs = self._list_blobs(self.commit)
        logger.info(
            "source %s is at commit %s (%d files)", self.name, self.commit[:12], len(self._blobs)
        )

    def _remove_stale_locks(self, repository: Path) -> None:
        """Delete ``*.lock`` files that a killed git left in the kept repository.

        git takes these locks for the duration of one command and refuses to
        run while one exists, so a sync killed during a fetch would block
        every later fetch. Only a sync holding the run lock uses the kept
        repository, so no other git command can own them.
        """

        # NOTE: this relies on read_only=False being used only under the run
        # lock, as syncd.runner.sync_run does.
        for lock_file in [*repository.glob("*.lock"), *repository.glob("refs/**/*.lock")]:
            logger.warning("removing %s, left by an interrupted git command", lock_file)
            try:
                lock_file.unlink()
            except FileNotFoundError:
                pass
            except OSError as error:
                raise SourceError(
                    self.name, f"cannot remove the stale git lock {lock_file}: {error.strerror}"
                ) from None

    def _temporary_repository(self) -> Path:
        self._temporary = tempfile.TemporaryDirectory(prefix="syncd-git-")
        repository = Path(self._temporary.name) / "source.git"
        self._git(["init", "--quiet", "--bare", str(repository)], cwd=None)
        kept_objects = self.kept_repository / "objects"
        if kept_objects.is_dir():
            alternates = repository / "objects" / "info" / "alternates"
            alternates.write_text(str(kept_objects.resolve()) + "\n")
        return repository

    def _list_blobs(self, commit: str) -> dict[str, tuple[str, int]]:
        listing = self._git(
            ["ls-tree", "-r", "-z", "--long", "--full-tree", commit],
            action="listing the files of the fetched commit",
        )
        blobs = {}
        for entry in listing.split("\0"):
            if not entry:
                continue
            meta, _, path = entry.partition("\t")
            mode, object_type, object_id, size = meta.split()
            if object_type != "blob" or mode not in _REGULAR_FILE_MODES:
                continue
            blobs[path] = (object_id, int(size))
        return blobs

    # Reading.

    def list_files(self) -> list[str]:
        if self.commit is None:
            raise SourceError(self.name, "the git source was read before it was fetched")
        listed = (self.listed_name(path) for path in self._blobs)
        return sorted(path for path in listed if self.selects(path))

    def read_file(self, path: str) -> bytes:
        self.reject_undecodable(path)
        entry = self._blobs.get(path)
        if entry is None:
            raise InputError(path, None, f"not found at commit {self.commit}")
        object_id, size = entry
        if size > self.settings.max_file_bytes:
            raise InputError(
                path,
                None,
                f"file is {size} bytes, more than the limit of "
                f"{self.settings.max_file_bytes} (max_file_bytes)",
            )
        return self._read_blob(path, object_id)

    def _read_blob(self, path: str, object_id: str) -> bytes:
        # One ``git cat-file --batch`` process serves every file of the run.
        reader = self._reader
        if reader is None or reader.poll() is not None:
            reader = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self._repository,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=self._environment(),
            )
            self._reader = reader
        try:
            reader.stdin.write(object_id.encode("ascii") + b"\n")
            reader.stdin.flush()
            header = reader.stdout.readline().split()
            if len(header) != 3 or header[1] != b"blob":
                raise InputError(path, None, f"git object {object_id} is missing or not a file")
            content = reader.stdout.read(int(header[2]))
            reader.stdout.read(1)  # the newline after each object
        except (OSError, ValueError) as error:
            self._stop_reader()
            raise InputError(path, None, f"reading it from git failed: {error}") from None
        return content

    def revision(self) -> SourceRevision:
        template = self.settings.web_url or guess_web_url(self.url)
        if template and self.commit:
            template = template.replace("{revision}", self.commit)
        return SourceRevision(revision=self.commit, web_url=template)

    def close(self) -> None:
        """Stop the reader process and delete a temporary repository."""

        self._stop_reader()
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass

    def _stop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is None:
            return
        try:
            reader.stdin.close()
        except OSError:
            pass
        try:
            reader.wait(timeout=5)
        except subprocess.TimeoutExpired:
            reader.kill()
            reader.wait()
        reader.stdout.close()

    # Running git.

    @staticmethod
    def _environment() -> dict[str, str]:
        environment = dict(os.environ)
        environment.update(
            {
                # Do not prompt on the terminal: an unattended run would hang.
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_ALLOW_PROTOCOL": ALLOWED_PROTOCOLS,
                "LC_ALL": "C",
            }
        )
        environment.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        return environment

    def _git(
        self,
        arguments: list[str],
        *,
        cwd: Path | None | str = "repository",
        timeout: float = LOCAL_TIMEOUT,
        action: str = "running git",
    ) -> str:
        directory = self._repository if cwd == "repository" else cwd
        command = ["git", *arguments]
        try:
            completed = subprocess.run(
                command,
                cwd=directory,
                env=self._environment(),
                capture_output=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise SourceError(
                self.name,
                f"{action} timed out after {timeout:.0f} s",
                hint="check the network and the repository URL",
            ) from None
        except OSError as error:
            raise SourceError(self.name, f"{action} failed: {error.strerror}") from None
        if completed.returncode != 0:
            detail = _error_detail(completed.stderr.decode("utf-8", "replace"), completed.returncode)
            raise SourceError(
                self.name,
                f"{action} failed: {detail}",
                hint="check the URL, the branch and the access rights of the account syncd runs as",
            )
        return completed.stdout.decode("utf-8", "surrogateescape")
