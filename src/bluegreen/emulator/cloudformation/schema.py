"""CloudFormation's replacement rules, read from the resource provider schemas.

Whether changing a property updates a resource in place or replaces it is part of each
resource type's provider schema (``createOnlyProperties``: "a change to these properties
requires the resource to be replaced", CloudFormation CLI, "Resource type schema"). cfn-lint,
already a dependency, ships those schemas for every region; they are read here directly as
JSON (no cfn-lint import: ~0.8 s), once per type.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_REGION_FILE = "us-east-1.json"


@functools.cache
def _schemas_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("cfnlint")
    if spec is None or spec.origin is None:  # pragma: no cover - cfn-lint is a dependency
        raise RuntimeError("cfn-lint is not installed")
    return Path(spec.origin).parent / "data" / "schemas"


@functools.cache
def _index() -> dict[str, str]:
    path = _schemas_dir() / "providers" / _REGION_FILE
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


@functools.cache
def provider_schema(resource_type: str) -> dict[str, Any]:
    """The provider schema of ``resource_type`` (empty when cfn-lint has none)."""
    key = _index().get(resource_type)
    if key is None:
        return {}
    path = _schemas_dir() / "resources" / f"{key}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _top_level(pointers: list[str]) -> frozenset[str]:
    names = set()
    for pointer in pointers:
        parts = pointer.split("/")
        if len(parts) >= 3 and parts[1] == "properties":
            names.add(parts[2])
    return frozenset(names)


@functools.cache
def create_only(resource_type: str) -> frozenset[str]:
    """Top-level properties whose change replaces the resource."""
    return _top_level(provider_schema(resource_type).get("createOnlyProperties", []))


@functools.cache
def conditionally_create_only(resource_type: str) -> frozenset[str]:
    """Properties whose change may replace the resource ("Replacement: Conditional")."""
    schema = provider_schema(resource_type)
    return _top_level(schema.get("conditionalCreateOnlyProperties", []))


def replacing(resource_type: str, changed: set[str]) -> frozenset[str]:
    """Which of the ``changed`` properties force a replacement."""
    return frozenset(changed) & create_only(resource_type)
