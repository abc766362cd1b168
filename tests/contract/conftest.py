"""The ``tracker`` fixture: every contract test runs once per tracker kind.

``local`` is the embedded tracker on a fresh SQLite file. ``github`` and
``gitlab`` are the real adapters driving the real client libraries against
loopback fakes. Their factories live in ``tests.fakes``, and the tests of a
kind are skipped while its factory module is missing.
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager

import pytest

from syncd_adapters.local import LocalTracker

TRACKER_KINDS = ["local", "github", "gitlab"]
FAKE_MODULES = {
    "github": "tests.fakes.github_fake",
    "gitlab": "tests.fakes.gitlab_fake",
}


@contextmanager
def _local_tracker(tmp_path):
    # Only the tracker's own account is assignable, like a repository whose
    # single collaborator is the token's user.
    tracker = LocalTracker("contract", tmp_path / "tracker.db", assignable=[])
    try:
        yield tracker
    finally:
        tracker.close_session()


def _factory(kind: str):
    if kind == "local":
        return _local_tracker
    module_name = FAKE_MODULES[kind]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            pytest.skip(f"{module_name} is not available")
        raise
    return module.make_contract_tracker


@pytest.fixture(params=TRACKER_KINDS)
def tracker(request, tmp_path):
    with _factory(request.param)(tmp_path) as made:
        yield made
