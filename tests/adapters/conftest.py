from __future__ import annotations

import pytest

from tests.adapters.rigs import RIGS, GitHubRig, GitLabRig


@pytest.fixture(params=sorted(RIGS))
def rig(request, tmp_path):
    """A fake of each kind (GitHub, GitLab) with trackers on a simulated clock."""

    made = RIGS[request.param](tmp_path)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def github_rig(tmp_path):
    made = GitHubRig(tmp_path)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def gitlab_rig(tmp_path):
    made = GitLabRig(tmp_path)
    try:
        yield made
    finally:
        made.close()
