"""API tokens for the tracker adapters.

A token comes from exactly one place named in the target's options: an
environment variable (``token_env``), a file (``token_file``) or a systemd
credential (``token_credential``, a file name under ``$CREDENTIALS_DIRECTORY``,
as set by ``LoadCredential=`` in the unit). Tokens are never accepted as an
option value, so they never reach a command line or a config file, and this
module never puts a token into a message.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from syncd.errors import AuthenticationError
from syncd.logsetup import register_secret

TOKEN_OPTIONS = ("token_env", "token_file", "token_credential")

# Options that look like an inline secret. They are rejected so that a token
# pasted into the config is reported instead of being used.
INLINE_TOKEN_OPTIONS = ("token", "private_token", "password", "api_key")


class Secret(str):
    """A string that hides its value from ``repr`` and formatting in logs."""

    def __new__(cls, value: str) -> "Secret":
        # Masked in every log line from now on, also where a client library
        # prints it in full (a header dump at -vv, an error message).
        register_secret(value)
        return super().__new__(cls, value)

    def __repr__(self) -> str:
        return "Secret('***')"

    def __format__(self, spec: str) -> str:
        return "***"


def validate_token_options(options: Mapping) -> list[tuple[str, str]]:
    """Return (option, message) pairs, one per problem with the token options."""

    problems = []
    for key in INLINE_TOKEN_OPTIONS:
        if key in options:
            problems.append(
                (
                    key,
                    "tokens are not accepted in the config; use token_env, "
                    "token_file or token_credential",
                )
            )
    given = [key for key in TOKEN_OPTIONS if options.get(key) not in (None, "")]
    if len(given) > 1:
        problems.append(
            (given[1], "give only one of token_env, token_file, token_credential")
        )
    for key in given:
        if not isinstance(options[key], str):
            problems.append((key, f"must be text, not {type(options[key]).__name__}"))
    credential = options.get("token_credential")
    if isinstance(credential, str) and ("/" in credential or credential in (".", "..")):
        problems.append(
            (
                "token_credential",
                f"{credential!r} must be a credential name, not a path",
            )
        )
    return problems


def resolve_token(
    options: Mapping,
    *,
    default_env: str,
    target: str,
    environ: Mapping[str, str] | None = None,
) -> Secret:
    """Read the token named by ``options``; fall back to ``$default_env``.

    Raise AuthenticationError, whose message names where syncd looked but
    never contains the token, when no token is found.
    """

    environ = os.environ if environ is None else environ

    if options.get("token_file"):
        return Secret(
            _read_token_file(Path(options["token_file"]), target, "token_file")
        )

    if options.get("token_credential"):
        directory = environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise AuthenticationError(
                f"token_credential {options['token_credential']!r} is set but "
                "$CREDENTIALS_DIRECTORY is not",
                target=target,
                hint="run syncd from a systemd unit with LoadCredential=, "
                "or use token_env or token_file",
            )
        path = Path(directory) / options["token_credential"]
        return Secret(_read_token_file(path, target, "token_credential"))

    variable = options.get("token_env") or default_env
    value = environ.get(variable, "").strip()
    if not value:
        raise AuthenticationError(
            f"no token: environment variable {variable} is not set or empty",
            target=target,
            hint=f"export {variable}, or set token_file or token_credential "
            "in the target's options",
        )
    return Secret(value)


def _read_token_file(path: Path, target: str, option: str) -> str:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AuthenticationError(
            f"cannot read the token file named by {option}: {path}: {error.strerror}",
            target=target,
        ) from None
    if not stat.S_ISREG(mode):
        raise AuthenticationError(
            f"{option}: {path} is not a regular file", target=target
        )
    value = text.strip()
    if not value:
        raise AuthenticationError(f"{option}: {path} is empty", target=target)
    return value
