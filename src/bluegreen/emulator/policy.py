"""IAM policy documents evaluated as AWS does, for the emulated AWS.

Follows the IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements":
an explicit Deny wins, else an Allow allows, else the request is implicitly denied. A
statement applies when its Action (or NotAction), Resource (or NotResource), Principal
(for resource-based policies) and every Condition match. Wildcards ``*`` and ``?`` match
in actions (case-insensitively) and resources. Condition operators: the String, Arn and
Bool families with their ``IfExists`` forms, ``Null``; a condition key the request does not
carry does not match (except with ``IfExists``, or ``Null``), as the guide says.

moto evaluates bucket policies without the request's context, so a policy denying
``aws:SecureTransport = false`` (the artifact bucket's) denies every request there; the
emulator evaluates them here with the context of the request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any


class Decision(Enum):
    ALLOW = "allow"
    DENY = "deny"  # an explicit Deny
    NEUTRAL = "neutral"  # no statement applies: implicitly denied


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM's wildcard match: ``*`` any run of characters, ``?`` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = 0 if case else re.IGNORECASE
    return re.fullmatch(regex, value, flags) is not None


def _action_matches(patterns: list[Any], action: str) -> bool:
    return any(_glob(str(p), action, case=False) for p in patterns)


def _resource_matches(patterns: list[Any], resource: str) -> bool:
    return any(_glob(str(p), resource) for p in patterns)


def _principal_matches(principal: Any, who: str, service: str | None) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    for kind, values in principal.items():
        for value in _list(values):
            if value == "*":
                return True
            if kind == "Service" and service is not None and value == service:
                return True
            if kind == "AWS" and (value == who or _account_of(value) == _account_of(who)):
                return True
    return False


def _account_of(arn_or_account: str) -> str:
    if re.fullmatch(r"\d{12}", arn_or_account):
        return arn_or_account
    parts = arn_or_account.split(":")
    if len(parts) >= 5 and parts[4] and parts[5:6] == ["root"]:
        return parts[4]
    return ""


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda want, have: have == want,
    "StringNotEquals": lambda want, have: have != want,
    "StringEqualsIgnoreCase": lambda want, have: have.lower() == want.lower(),
    "StringNotEqualsIgnoreCase": lambda want, have: have.lower() != want.lower(),
    "StringLike": lambda want, have: _glob(want, have),
    "StringNotLike": lambda want, have: not _glob(want, have),
    "ArnEquals": lambda want, have: have == want,
    "ArnLike": lambda want, have: _glob(want, have),
    "ArnNotEquals": lambda want, have: have != want,
    "ArnNotLike": lambda want, have: not _glob(want, have),
    "Bool": lambda want, have: have.lower() == want.lower(),
}
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals"}
_NEGATED |= {"ArnNotLike"}


def _condition_matches(conditions: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    for operator, tests in conditions.items():
        base = operator.removesuffix("IfExists")
        if_exists = operator.endswith("IfExists")
        for key, wanted in dict(tests).items():
            present = _lookup(context, key)
            if base == "Null":
                if (present is None) != (str(_list(wanted)[0]).lower() == "true"):
                    return False
                continue
            test = _OPERATORS.get(base)
            if test is None:
                raise ValueError(f"condition operator {operator} is not evaluated by the emulator")
            if present is None:
                if if_exists:
                    continue
                return False
            haves = [str(v) for v in _list(present)]
            wants = [str(v) for v in _list(wanted)]
            if base in _NEGATED:
                if not all(test(want, have) for want in wants for have in haves):
                    return False
            elif not any(test(want, have) for want in wants for have in haves):
                return False
    return True


def _lookup(context: Mapping[str, Any], key: str) -> Any:
    for name, value in context.items():
        if name.lower() == key.lower():
            return value
    return None


def statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, (str, bytes)):
        document = json.loads(document)
    return [dict(s) for s in _list(dict(document).get("Statement"))]


def evaluate(
    documents: list[Any],
    action: str,
    resource: str,
    context: Mapping[str, Any] | None = None,
    *,
    principal: str | None = None,
    service: str | None = None,
) -> Decision:
    """The decision of ``documents`` (identity policies, or a resource policy when
    ``principal``/``service`` name the caller) for ``action`` on ``resource``."""
    context = context or {}
    allowed = False
    for document in documents:
        for statement in statements(document):
            if "Principal" in statement or "NotPrincipal" in statement:
                if principal is None and service is None:
                    continue
                if "Principal" in statement and not _principal_matches(
                    statement["Principal"], principal or "", service
                ):
                    continue
            if "Action" in statement and not _action_matches(_list(statement["Action"]), action):
                continue
            if "NotAction" in statement and _action_matches(_list(statement["NotAction"]), action):
                continue
            if "Resource" in statement and not _resource_matches(
                _list(statement["Resource"]), resource
            ):
                continue
            if "NotResource" in statement and _resource_matches(
                _list(statement["NotResource"]), resource
            ):
                continue
            if not _condition_matches(statement.get("Condition") or {}, context):
                continue
            if statement.get("Effect") == "Deny":
                return Decision.DENY
            if statement.get("Effect") == "Allow":
                allowed = True
    return Decision.ALLOW if allowed else Decision.NEUTRAL
