"""Helpers for what a service does on the system's behalf.

When AWS makes an API call itself (CodePipeline calling CodeBuild as the pipeline role,
EventBridge starting a pipeline as a rule target's role, CodeBuild writing to S3 as the
project's role), the emulator makes the same call through a client acting as that role
(:meth:`bluegreen.emulator.core.Emulator.client` with ``internal=True``); issue 9 will
evaluate the role's policies on exactly these calls. :func:`client` keeps them per
emulator (creating a botocore client costs milliseconds).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

_CLIENTS: weakref.WeakKeyDictionary[Emulator, dict[tuple[str, str], Any]]
_CLIENTS = weakref.WeakKeyDictionary()


def client(emulator: Emulator, service: str, principal: str) -> Any:
    """A client of ``service`` acting as ``principal`` on the system's behalf."""
    kept = _CLIENTS.setdefault(emulator, {})
    found = kept.get((service, principal))
    if found is None:
        found = emulator.client(service, principal=principal, internal=True)
        kept[(service, principal)] = found
    return found


def stable_uuid(*parts: object) -> str:
    """A UUID-shaped id from stable inputs: the same story gives the same ids."""
    import hashlib
    import uuid

    digest = hashlib.sha256("\0".join(str(p) for p in parts).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def role_trusts(emulator: Emulator, role_arn: str, service: str) -> bool:
    """Whether the role exists and its trust policy lets ``service`` assume it.

    What a service checks before it accepts a role (CodePipeline's CreatePipeline,
    CodeBuild's CreateProject): it must be able to call sts:AssumeRole on it. The trust
    policy is read from IAM's records (AssumeRole is AWS's own call here); a principal
    written as a string or a list both count.
    """
    import json
    from urllib.parse import unquote

    try:
        role = emulator.backend("iam").get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto's IAMNotFoundException (and malformed ARNs)
        return False
    text = role.assume_role_policy_document
    try:
        document = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError:
        document = json.loads(unquote(text))
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = statement.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if service in services:
            return True
    return False
