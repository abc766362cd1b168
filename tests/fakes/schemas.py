"""Validation of the fakes' responses against the official API schemas.

``SchemaCheck`` plugs into a fake's ``schema_check`` hook and collects every
violation, so a test can run a whole workload and then assert none occurred.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_DIR = Path(__file__).with_name("schemas")

GITHUB_SCHEMAS = {
    "issue": "issue.json",
    "issue-comment": "issue-comment.json",
    "label": "label.json",
    "milestone": "milestone.json",
    "basic-error": "basic-error.json",
    "validation-error": "validation-error.json",
}
GITLAB_SCHEMAS = {
    "issue": "issue.json",
    "note": "notes.json",
    "label": "label.json",
    "user": "user-basic.json",
}


def openapi_to_json_schema(schema: Any) -> Any:
    """Turn OpenAPI 3.0 ``nullable: true`` into a JSON Schema type list, recursively."""

    if isinstance(schema, list):
        return [openapi_to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: openapi_to_json_schema(value) for key, value in schema.items()}
    if converted.pop("nullable", False):
        kind = converted.get("type")
        if isinstance(kind, str):
            converted["type"] = [kind, "null"]
        elif "type" not in converted:
            converted = {"anyOf": [converted, {"type": "null"}]}
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
    for key in ("example", "examples", "x-github-breaking-changes"):
        converted.pop(key, None)
    return converted


@functools.cache
def validator(service: str, kind: str) -> jsonschema.protocols.Validator:
    if service == "github":
        schema = json.loads(
            (SCHEMA_DIR / "github" / GITHUB_SCHEMAS[kind]).read_text("utf-8")
        )
        schema = openapi_to_json_schema(schema)
    else:
        schema = json.loads(
            (SCHEMA_DIR / "gitlab" / GITLAB_SCHEMAS[kind]).read_text("utf-8")
        )
        if kind == "note":
            # notes.json describes the list; one note is its items schema.
            schema = schema["items"]
    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft7Validator
    )
    return validator_class(schema)


class SchemaCheck:
    """Collects schema violations of one service's responses: ``fake.schema_check = SchemaCheck("github")``."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.checked: dict[str, int] = {}
        self.errors: list[str] = []

    def __call__(self, kind: str, data: Any) -> None:
        self.checked[kind] = self.checked.get(kind, 0) + 1
        for error in validator(self.service, kind).iter_errors(data):
            path = "/".join(str(part) for part in error.absolute_path)
            self.errors.append(f"{kind} {path}: {error.message[:200]}")
