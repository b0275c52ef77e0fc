"""Does a push start the pipeline? The EventBridge rules, read back and matched.

CodeCommit sources are started by an EventBridge rule on the repository's state-change
event (CodePipeline V2 triggers exist only for CodeConnections sources). moto stores
rules and targets but does not implement TestEventPattern, so the match is done here,
on the rule's pattern as the emulator holds it and the event CodeCommit sends for a
push, with EventBridge's content-filter semantics (exact values, prefix, suffix,
anything-but, exists, wildcard, numeric equality).
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from bluegreen.aws.session import Clients
from bluegreen.errors import RehearsalError


def push_event(
    region: str,
    account_id: str,
    repository_arn: str,
    repository: str,
    branch: str,
    commit: str,
    created: bool,
) -> dict[str, Any]:
    """The event CodeCommit emits when ``branch`` is pushed to ``commit``."""
    return {
        "version": "0",
        "detail-type": "CodeCommit Repository State Change",
        "source": "aws.codecommit",
        "account": account_id,
        "region": region,
        "resources": [repository_arn],
        "detail": {
            "event": "referenceCreated" if created else "referenceUpdated",
            "repositoryName": repository,
            "referenceType": "branch",
            "referenceName": branch,
            "referenceFullName": f"refs/heads/{branch}",
            "commitId": commit,
        },
    }


def rules_starting(clients: Clients, pipeline_arn: str, event: dict[str, Any]) -> list[str]:
    """Names of the enabled rules whose pattern matches ``event`` and that target the
    pipeline."""
    events = clients.events
    matched = []
    for rule in events.list_rules()["Rules"]:
        if rule.get("State") != "ENABLED" or not rule.get("EventPattern"):
            continue
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        if not any(target["Arn"] == pipeline_arn for target in targets):
            continue
        if matches(json.loads(rule["EventPattern"]), event):
            matched.append(str(rule["Name"]))
    return matched


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge's matching of an event against a pattern."""
    for key, expected in pattern.items():
        present = key in event
        value = event.get(key)
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not matches(expected, value):
                return False
            continue
        if not isinstance(expected, list):
            raise RehearsalError(f"EventBridge pattern value for {key!r} must be a list or object")
        values = value if isinstance(value, list) else [value]
        if not any(_one(rule, present, values) for rule in expected):
            return False
    return True


def _one(rule: Any, present: bool, values: list[Any]) -> bool:
    if not isinstance(rule, dict):
        return present and rule in values
    ((operator, operand),) = rule.items()
    if operator == "exists":
        return present is bool(operand)
    if not present:
        return False
    texts = [v for v in values if isinstance(v, str)]
    if operator == "prefix":
        return any(v.startswith(str(operand)) for v in texts)
    if operator == "suffix":
        return any(v.endswith(str(operand)) for v in texts)
    if operator == "wildcard":
        return any(fnmatch.fnmatchcase(v, str(operand)) for v in texts)
    if operator == "anything-but":
        excluded = operand if isinstance(operand, list) else [operand]
        return all(v not in excluded for v in values)
    if operator == "equals-ignore-case":
        return any(v.lower() == str(operand).lower() for v in texts)
    raise RehearsalError(
        f"EventBridge pattern operator {operator!r} is not played by the rehearsal"
    )
