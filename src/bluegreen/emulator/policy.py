"""IAM policy documents evaluated as AWS does, for the emulated AWS.

Follows the IAM User Guide, "Policy evaluation logic" (reference_policies_evaluation-logic)
and "IAM JSON policy elements":

- a statement applies when its Action (or NotAction), Resource (or NotResource), Principal
  (or NotPrincipal, for resource-based policies) and every Condition match;
- within one account (:func:`decide`): an explicit Deny in any policy wins; else an Allow
  in a resource-based policy that names the principal allows (within the permissions
  boundary, if any); else the permissions boundary, if the role has one, must allow; else
  an identity-based policy must allow; otherwise the request is implicitly denied;
- wildcards ``*`` (any run of characters) and ``?`` (one character) match in actions
  (case-insensitively: "IAM JSON policy elements: Action") and in resources and
  condition values (case-sensitively);
- condition operators ("IAM JSON policy elements: Condition operators"): the String, Arn,
  Numeric, Date and Bool families, their ``IfExists`` forms, ``Null``, and the
  ``ForAnyValue:``/``ForAllValues:`` set qualifiers; a condition key the request does not
  carry does not match (except with ``IfExists``, ``Null``, or ``ForAllValues``), as the
  guide says. An operator the evaluator does not know raises :class:`ValueError` rather
  than guessing.

Documents are compiled once per text (patterns as regular expressions), so evaluating the
same policies on thousands of requests costs a few dictionary lookups each.

moto evaluates bucket policies without the request's context, so a policy denying
``aws:SecureTransport = false`` (the artifact bucket's) denies every request there; the
emulator evaluates them here with the context of the request (:mod:`bluegreen.emulator.
motofix`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from urllib.parse import unquote


class Decision(Enum):
    ALLOW = "allow"
    DENY = "deny"  # an explicit Deny
    NEUTRAL = "neutral"  # no statement applies: implicitly denied


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=4096)
def _regex(pattern: str, case: bool) -> re.Pattern[str]:
    text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(text, 0 if case else re.IGNORECASE | re.DOTALL)


def _glob(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM's wildcard match: ``*`` any run of characters, ``?`` one character."""
    if "*" not in pattern and "?" not in pattern:
        return pattern == value if case else pattern.lower() == value.lower()
    return _regex(pattern, case).fullmatch(value) is not None


# ------------------------------------------------------------------------- conditions


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> float | None:
    """A condition date: ISO 8601 or epoch seconds ("Date condition operators")."""
    number = _number(text)
    if number is not None:
        return number
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _compare(
    convert: Callable[[str], float | None], test: Callable[[float, float], bool]
) -> Callable[[str, str], bool]:
    def run(want: str, have: str) -> bool:
        a, b = convert(have), convert(want)
        return a is not None and b is not None and test(a, b)

    return run


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
    "NumericEquals": _compare(_number, lambda a, b: a == b),
    "NumericNotEquals": _compare(_number, lambda a, b: a != b),
    "NumericLessThan": _compare(_number, lambda a, b: a < b),
    "NumericLessThanEquals": _compare(_number, lambda a, b: a <= b),
    "NumericGreaterThan": _compare(_number, lambda a, b: a > b),
    "NumericGreaterThanEquals": _compare(_number, lambda a, b: a >= b),
    "DateEquals": _compare(_date, lambda a, b: a == b),
    "DateNotEquals": _compare(_date, lambda a, b: a != b),
    "DateLessThan": _compare(_date, lambda a, b: a < b),
    "DateLessThanEquals": _compare(_date, lambda a, b: a <= b),
    "DateGreaterThan": _compare(_date, lambda a, b: a > b),
    "DateGreaterThanEquals": _compare(_date, lambda a, b: a >= b),
}
# Negated operators: the key's value must differ from every listed value ("a condition
# with multiple values for one key ... negated matching operators: NOR").
_NEGATED = frozenset(
    {
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "ArnNotEquals",
        "ArnNotLike",
        "NumericNotEquals",
        "DateNotEquals",
    }
)


@dataclass(frozen=True)
class _Test:
    qualifier: str  # "" | ForAnyValue | ForAllValues
    base: str
    if_exists: bool
    key: str  # lower-cased
    wants: tuple[str, ...]


def _compile_condition(conditions: Mapping[str, Any]) -> tuple[_Test, ...]:
    tests: list[_Test] = []
    for operator, block in conditions.items():
        qualifier, _, name = str(operator).rpartition(":")
        base = name.removesuffix("IfExists")
        if base != "Null" and base not in _OPERATORS:
            raise ValueError(f"condition operator {operator} is not evaluated by the emulator")
        if qualifier not in ("", "ForAnyValue", "ForAllValues"):
            raise ValueError(f"condition operator {operator} is not evaluated by the emulator")
        for key, wanted in dict(block).items():
            tests.append(
                _Test(
                    qualifier,
                    base,
                    name.endswith("IfExists"),
                    str(key).lower(),
                    tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in _list(wanted)),
                )
            )
    return tuple(tests)


def _test_matches(test: _Test, context: Mapping[str, Any]) -> bool:
    present = context.get(test.key)
    if test.base == "Null":
        missing = present is None or present == []
        return missing == (test.wants[:1] == ("true",))
    if present is None:
        # ForAllValues over an absent key is true ("ForAllValues ... also returns true if
        # there are no keys in the request"); IfExists makes a missing key match.
        return test.if_exists or test.qualifier == "ForAllValues"
    run = _OPERATORS[test.base]
    haves = [str(v).lower() if isinstance(v, bool) else str(v) for v in _list(present)]
    negated = test.base in _NEGATED

    def one(have: str) -> bool:
        if negated:
            return all(run(want, have) for want in test.wants)
        return any(run(want, have) for want in test.wants)

    if test.qualifier == "ForAllValues":
        return all(one(have) for have in haves)
    return any(one(have) for have in haves)


# ------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class Statement:
    """One compiled statement."""

    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principal: Any
    not_principal: Any
    conditions: tuple[_Test, ...]

    @property
    def resource_based(self) -> bool:
        return self.principal is not None or self.not_principal is not None

    def matches(
        self,
        action: str,
        resource: str,
        context: Mapping[str, Any],
        who: str | None,
        service: str | None,
    ) -> bool:
        if self.resource_based:
            if who is None and service is None:
                return False
            if self.principal is not None and not _principal_matches(self.principal, who, service):
                return False
            if self.not_principal is not None and _principal_matches(
                self.not_principal, who, service
            ):
                return False
        if self.actions is not None and not any(_glob(p, action, case=False) for p in self.actions):
            return False
        if self.not_actions is not None and any(
            _glob(p, action, case=False) for p in self.not_actions
        ):
            return False
        if self.resources is not None and not any(_glob(p, resource) for p in self.resources):
            return False
        if self.not_resources is not None and any(_glob(p, resource) for p in self.not_resources):
            return False
        return all(_test_matches(test, context) for test in self.conditions)


def _strings(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in _list(value))


def _principal_matches(principal: Any, who: str | None, service: str | None) -> bool:
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
            if kind == "AWS" and who is not None and _aws_principal_matches(str(value), who):
                return True
    return False


def _aws_principal_matches(value: str, who: str) -> bool:
    """An ``AWS`` principal: the caller's ARN (its role's ARN for a role session), or its
    account ("arn:aws:iam::<account>:root" or the bare account id)."""
    if value == who or value == _role_of_session(who):
        return True
    account = _account_of(value)
    return bool(account) and account == _account_of_principal(who)


def _role_of_session(who: str) -> str:
    match = re.fullmatch(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/.*", who)
    return f"arn:aws:iam::{match.group(1)}:role/{match.group(2)}" if match else ""


def _account_of(arn_or_account: str) -> str:
    if re.fullmatch(r"\d{12}", arn_or_account):
        return arn_or_account
    parts = arn_or_account.split(":")
    if len(parts) >= 6 and parts[4] and parts[5] == "root":
        return parts[4]
    return ""


def _account_of_principal(who: str) -> str:
    parts = who.split(":")
    return parts[4] if len(parts) >= 6 else ""


def _document(document: Any) -> Any:
    if isinstance(document, bytes):
        document = document.decode("utf-8")
    if isinstance(document, str):
        try:
            return json.loads(document)
        except json.JSONDecodeError:
            return json.loads(unquote(document))
    return document


def statements(document: Any) -> list[dict[str, Any]]:
    return [dict(s) for s in _list(dict(_document(document)).get("Statement"))]


@functools.lru_cache(maxsize=1024)
def _compile_text(text: str) -> tuple[Statement, ...]:
    return _compile(_document(text))


def _compile(document: Any) -> tuple[Statement, ...]:
    out: list[Statement] = []
    for raw in statements(document):
        out.append(
            Statement(
                effect=str(raw.get("Effect", "")),
                actions=_strings(raw.get("Action")),
                not_actions=_strings(raw.get("NotAction")),
                resources=_strings(raw.get("Resource")),
                not_resources=_strings(raw.get("NotResource")),
                principal=raw.get("Principal"),
                not_principal=raw.get("NotPrincipal"),
                conditions=_compile_condition(raw.get("Condition") or {}),
            )
        )
    return tuple(out)


def compile_policy(document: Any) -> tuple[Statement, ...]:
    """A policy document (JSON text, URL-encoded JSON as IAM returns it, or a dict),
    compiled; the same text is compiled once."""
    if isinstance(document, bytes):
        document = document.decode("utf-8")
    if isinstance(document, str):
        return _compile_text(document)
    return _compile(document)


def _context(context: Mapping[str, Any] | None) -> dict[str, Any]:
    """Condition keys are case-insensitive ("IAM JSON policy elements: Condition")."""
    return {str(k).lower(): v for k, v in (context or {}).items()}


def _decide(
    compiled: Iterable[Statement],
    action: str,
    resource: str,
    context: Mapping[str, Any],
    who: str | None,
    service: str | None,
) -> Decision:
    allowed = False
    for statement in compiled:
        if not statement.matches(action, resource, context, who, service):
            continue
        if statement.effect == "Deny":
            return Decision.DENY
        if statement.effect == "Allow":
            allowed = True
    return Decision.ALLOW if allowed else Decision.NEUTRAL


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
    compiled = [s for document in documents for s in compile_policy(document)]
    return _decide(compiled, action, resource, _context(context), principal, service)


# ----------------------------------------------------------------- a request in an account


@dataclass(frozen=True)
class Outcome:
    """Whether a request is allowed, and which policy type decided a refusal: the phrase
    AWS's AccessDenied message carries ("Troubleshoot access denied error messages")."""

    allowed: bool
    reason: str = ""  # see REASONS

    def phrase(self, action: str) -> str:
        return REASONS[self.reason].format(action=action)


REASONS = {
    "": "",
    "identity-implicit": "because no identity-based policy allows the {action} action",
    "identity-explicit": "with an explicit deny in an identity-based policy",
    "resource-explicit": "with an explicit deny in a resource-based policy",
    "boundary-implicit": "because no permissions boundary allows the {action} action",
    "boundary-explicit": "with an explicit deny in a permissions boundary",
}
"""The IAM User Guide's phrases ("Troubleshoot access denied error messages": "with an
explicit deny in a <type> policy" / "because no <type> policy allows the <action>
action"), per policy type."""


def decide(
    identity: Iterable[Statement],
    action: str,
    resource: str,
    context: Mapping[str, Any] | None = None,
    *,
    boundary: Iterable[Statement] | None = None,
    resource_policy: Iterable[Statement] | None = None,
    caller: str | None = None,
) -> Outcome:
    """The decision for a request made by ``caller`` (a role session ARN) within one
    account: "Policy evaluation logic", "Determining whether a request is allowed or denied
    within an account" (no SCPs or session policies in the emulated account)."""
    keys = _context(context)
    identity_decision = _decide(identity, action, resource, keys, None, None)
    resource_decision = (
        _decide(resource_policy, action, resource, keys, caller, None)
        if resource_policy is not None
        else Decision.NEUTRAL
    )
    boundary_decision = (
        _decide(boundary, action, resource, keys, None, None) if boundary is not None else None
    )
    if identity_decision is Decision.DENY:
        return Outcome(False, "identity-explicit")
    if resource_decision is Decision.DENY:
        return Outcome(False, "resource-explicit")
    if boundary_decision is Decision.DENY:
        return Outcome(False, "boundary-explicit")
    if boundary_decision is Decision.NEUTRAL:
        # "An implicit deny in a permissions boundary" limits identity-based and
        # resource-based grants to a role alike.
        return Outcome(False, "boundary-implicit")
    if resource_decision is Decision.ALLOW or identity_decision is Decision.ALLOW:
        return Outcome(True)
    return Outcome(False, "identity-implicit")


def trusts(
    trust_policy: Any,
    service: str,
    context: Mapping[str, Any] | None = None,
    *,
    role_arn: str = "*",
) -> bool:
    """Whether a role's trust policy lets AWS service principal ``service`` call
    sts:AssumeRole on it (a resource-based policy: "IAM JSON policy elements: Principal",
    "AWS service principals"), with the request's context (aws:SourceArn,
    aws:SourceAccount: the confused-deputy keys services send)."""
    decision = _decide(
        compile_policy(trust_policy), "sts:AssumeRole", role_arn, _context(context), None, service
    )
    return decision is Decision.ALLOW
