"""ELBv2: which target groups the listeners forward to, and target health (read only:
CodeDeploy owns the listeners of a CODE_DEPLOY service)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bluegreen.aws.errors import call


def describe_listeners(elbv2: Any, arns: list[str]) -> dict[str, dict[str, Any]]:
    """Listeners by ARN (one call for both listeners)."""
    found = call(elbv2, "describe_listeners", ListenerArns=arns).get("Listeners", [])
    return {listener["ListenerArn"]: listener for listener in found}


def forwards(listener: dict[str, Any]) -> list[tuple[str, int]]:
    """(target group ARN, weight) pairs of the listener's default forward action.

    A plain forward has one pair with weight 100; a weighted forward (during a linear or
    canary shift) lists each group with its weight.
    """
    for action in listener.get("DefaultActions", []):
        if action.get("Type") != "forward":
            continue
        groups = action.get("ForwardConfig", {}).get("TargetGroups", [])
        if groups:
            return [(g["TargetGroupArn"], int(g.get("Weight", 1))) for g in groups]
        if action.get("TargetGroupArn"):
            return [(action["TargetGroupArn"], 100)]
    return []


def target_group_name(arn: str) -> str:
    """``arn:...:targetgroup/<name>/<id>`` -> ``<name>`` (no API call needed)."""
    parts = arn.split(":targetgroup/", 1)
    if len(parts) != 2:
        return arn
    return parts[1].split("/", 1)[0]


def target_health(elbv2: Any, target_group_arn: str) -> dict[str, int]:
    """How many targets are in each health state (healthy, initial, unhealthy, draining...)."""
    answer = call(elbv2, "describe_target_health", TargetGroupArn=target_group_arn)
    states = Counter(
        d.get("TargetHealth", {}).get("State", "unknown")
        for d in answer.get("TargetHealthDescriptions", [])
    )
    return dict(sorted(states.items()))
