"""Where tokens come from, and that a token shows up nowhere a person can read."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from syncd_adapters._tokens import Secret, resolve_token, validate_token_options
from syncd_adapters.github import GitHubTracker

from syncd.errors import AuthenticationError, ConfigError, SyncdError
from syncd.logsetup import TextFormatter
from tests.fakes import runs
from tests.fakes.github_fake import DEFAULT_LOGIN

CANARY = "canary-7f3e9a1c5b2d4e6f8a0b1c2d3e4f5a6b"


def test_token_from_environment():
    token = resolve_token(
        {"token_env": "MY_TOKEN"},
        default_env="GITHUB_TOKEN",
        target="t",
        environ={"MY_TOKEN": " abc \n"},
    )

    assert token == "abc"


def test_token_default_variable():
    token = resolve_token(
        {}, default_env="GITLAB_TOKEN", target="t", environ={"GITLAB_TOKEN": "xyz"}
    )

    assert token == "xyz"


def test_token_from_file(tmp_path):
    path = tmp_path / "token"
    path.write_text("from-file\n", encoding="utf-8")

    assert (
        resolve_token(
            {"token_file": str(path)}, default_env="X", target="t", environ={}
        )
        == "from-file"
    )


def test_token_from_systemd_credential(tmp_path):
    (tmp_path / "github-token").write_text("from-credential", encoding="utf-8")
    environ = {"CREDENTIALS_DIRECTORY": str(tmp_path)}

    token = resolve_token(
        {"token_credential": "github-token"},
        default_env="X",
        target="t",
        environ=environ,
    )

    assert token == "from-credential"


def test_credential_without_directory_is_explained():
    with pytest.raises(AuthenticationError) as caught:
        resolve_token(
            {"token_credential": "github-token"},
            default_env="X",
            target="t",
            environ={},
        )

    assert "$CREDENTIALS_DIRECTORY" in str(caught.value)
    assert "LoadCredential=" in caught.value.hint


def test_missing_token_names_the_variable():
    with pytest.raises(AuthenticationError) as caught:
        resolve_token({}, default_env="GITHUB_TOKEN", target="ops", environ={})

    assert "GITHUB_TOKEN" in str(caught.value)
    assert caught.value.target == "ops"


@pytest.mark.parametrize("content", ["", "   \n"])
def test_empty_token_file_is_rejected(tmp_path, content):
    path = tmp_path / "token"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(AuthenticationError) as caught:
        resolve_token(
            {"token_file": str(path)}, default_env="X", target="t", environ={}
        )

    assert "is empty" in str(caught.value)


def test_inline_token_is_rejected():
    problems = dict(validate_token_options({"token": CANARY}))

    assert "token" in problems
    assert CANARY not in problems["token"]


def test_two_token_sources_are_rejected():
    problems = validate_token_options({"token_env": "A", "token_file": "/x"})

    assert [key for key, _ in problems] == ["token_file"]


def test_secret_hides_its_value():
    secret = Secret(CANARY)

    assert CANARY not in repr(secret)
    assert CANARY not in f"{secret}"
    assert CANARY not in repr({"token": secret})


def test_config_error_does_not_echo_inline_token():
    with pytest.raises(ConfigError) as caught:
        GitHubTracker("ops", {"repo": "acme/ops", "token": CANARY}, environ={})

    assert CANARY not in str(caught.value)


# The canary: a real token value driven through requests, failures and logs.


def _assert_no_canary(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text, text[
            max(0, text.find(CANARY) - 300) : text.find(CANARY) + 100
        ]


def test_canary_token_in_no_log_or_error(rig, caplog, tmp_path):
    rig.fake.tokens[CANARY] = DEFAULT_LOGIN
    caplog.set_level(logging.DEBUG)
    logging.getLogger("github").setLevel(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    tracker = rig.tracker(token=CANARY, state_dir=tmp_path)
    texts = []

    tracker.preflight()
    tracker.list_managed("syncd")
    rig.fake.inject(
        "POST",
        rig.create_path(),
        status=502,
        after_commit=True,
        body={"message": "Bad Gateway"},
    )

    def create_with_echo(status: int) -> None:
        # A server that quotes the request's token in its error body.
        rig.fake.inject(
            "POST",
            rig.create_path(),
            status=status,
            body={
                "message": f"echo {CANARY}",
                "errors": [{"message": f"token {CANARY} rejected"}],
            },
        )
        tracker.create(_draft())

    for failing in (
        lambda: tracker.create(_draft()),
        lambda: tracker.get(999),
        lambda: rig.tracker(token=CANARY + "-revoked").preflight(),
    ):
        with pytest.raises(SyncdError) as caught:
            failing()
        texts += [
            str(caught.value),
            repr(caught.value),
            str(caught.value.hint),
            repr(caught.value.__cause__),
        ]
    log_before_echo = caplog.text
    # The client library logs an echoed body at DEBUG as it came. syncd's
    # formatters mask it, which the formatted lines below check.
    for status in (500, 422, 403):
        with pytest.raises(SyncdError) as caught:
            create_with_echo(status)
        texts += [str(caught.value), repr(caught.value), str(caught.value.hint)]
    formatter = TextFormatter(journald=False)
    formatted = [formatter.format(record) for record in caplog.records]
    tracker.close_session()

    _assert_no_canary(
        log_before_echo,
        *formatted,
        repr(tracker.stats),
        repr(tracker.options),
        *texts,
        *tracker.warnings,
    )
    cache_files = list(tmp_path.glob("*.sqlite*"))
    assert cache_files
    for path in cache_files:
        assert CANARY.encode() not in path.read_bytes()
    # The fake did receive it: the check above is not vacuous.
    assert any(CANARY in str(entry.request_headers) for entry in rig.fake.requests)


def _draft():
    from syncd.tracker import IssueDraft

    return IssueDraft(
        title="Rotate the key", body="<!-- syncd:v1 e30= -->", labels=("syncd",)
    )


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_canary_token_in_no_cli_output(kind, tmp_path):
    fake = runs.start_fake(kind, ("alice",))
    try:
        fake.tokens[CANARY] = "syncd-bot"
        minutes = tmp_path / "minutes" / "ops"
        minutes.mkdir(parents=True)
        (minutes / "2024-05-02.md").write_text(
            "---\ndate: 2024-05-02\n---\n\n## Action items\n\nAlice: Rotate the backup key.\n",
            encoding="utf-8",
        )
        people = [{"name": "Alice", "github": "alice", "gitlab": "alice"}]
        config = runs.write_config(
            tmp_path,
            kind=kind,
            fake=fake,
            minutes_root=tmp_path / "minutes",
            # No wait after the failed create below, so a later run creates.
            base={"people": people, "guards": {"unknown_create_wait": 0}},
        )
        environment = dict(os.environ, **{runs.TOKEN_VARIABLE: CANARY})

        def run_cli(*arguments: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [sys.executable, "-m", "syncd.cli", "--config", str(config), *arguments],
                capture_output=True,
                text=True,
                env=environment,
                timeout=120,
                cwd=tmp_path,
            )

        outputs = []
        # The server echoes the token in error bodies: a 500 makes the
        # create pending, a 422 makes it fail, and both reports print why.
        create_path = (
            r"/repos/acme/ops/issues" if kind == "github" else r"/projects/[^/]+/issues"
        )
        echoes = (
            (500, {"message": f"upstream rejected Authorization: token {CANARY}"}),
            (
                422,
                {
                    "message": f"Validation Failed for {CANARY}",
                    "errors": [{"message": f"token {CANARY} is not allowed here"}],
                },
            ),
        )
        for (status, body), output_format in zip(echoes, ("text", "json")):
            fake.inject("POST", create_path, status=status, body=body, times=1)
            done = run_cli("sync", "--format", output_format, "-vv")
            assert done.returncode == 3, done.stdout + done.stderr
            assert fake.count("POST", create_path) >= 1
            outputs += [done.stdout, done.stderr]
        for arguments in (
            ["plan", "--format", "json"],
            ["sync", "--format", "json", "--log-format", "json", "-vv"],
            ["status", "--format", "json"],
        ):
            done = run_cli(*arguments)
            outputs += [done.stdout, done.stderr]
        # A revoked token: the error path must not print it either.
        fake.tokens.pop(CANARY)
        done = run_cli("sync", "--format", "json", "-vv")
        outputs += [done.stdout, done.stderr]
    finally:
        fake.stop()

    transcript = "\n".join(outputs)
    assert len(fake.issues_in("acme/ops" if kind == "github" else "acme/infra")) == 1, (
        transcript
    )
    assert done.returncode != 0, transcript
    assert "token" in (done.stdout + done.stderr).lower(), transcript
    echoed = json.loads(outputs[2])
    assert echoed["failures"][0]["outcome"] == "failed", transcript
    assert "***" in echoed["failures"][0]["error"], transcript
    assert "pending: " in outputs[0], transcript
    json.loads(outputs[4])
    _assert_no_canary(*outputs)
    state_files = [path for path in (tmp_path / "state").rglob("*") if path.is_file()]
    assert any(path.name.startswith("state.sqlite") for path in state_files)
    for path in state_files:
        assert CANARY.encode() not in path.read_bytes(), path


ODD_TOKEN = "Zq9/tok+en=odd-canary-1f2e3d4c5b6a"


def _echoed_forms(token: str) -> list[str]:
    import base64
    import urllib.parse

    return [
        token,
        urllib.parse.quote(token, safe=""),
        urllib.parse.quote_plus(token),
        token.upper(),
        base64.b64encode(token.encode()).decode(),
    ]


def test_mask_secret_covers_encoded_forms():
    from syncd.logsetup import mask_secret

    for form in _echoed_forms(ODD_TOKEN):
        masked = mask_secret(f"access_token={form}&x=1", ODD_TOKEN)
        assert form not in masked
        assert "***" in masked


def test_encoded_token_echo_is_masked(rig):
    rig.fake.tokens[ODD_TOKEN] = DEFAULT_LOGIN
    tracker = rig.tracker(token=ODD_TOKEN)
    echoes = " ".join(_echoed_forms(ODD_TOKEN))
    rig.fake.inject(
        "POST",
        rig.create_path(),
        status=422,
        body={"message": f"echo {echoes}", "errors": [{"message": echoes}]},
    )

    with pytest.raises(SyncdError) as caught:
        tracker.create(_draft())
    tracker.close_session()

    text = f"{caught.value} {caught.value!r} {caught.value.hint}"
    for form in _echoed_forms(ODD_TOKEN):
        assert form not in text
