"""What ECS does by itself for a task set on AWS and moto leaves out.

On AWS, ECS registers a task set's tasks with its target group as they start, and stops
them (after deregistering them) when the task set is deleted. moto starts the tasks but
does neither, and does not even link a task to its task set (``startedBy`` is the
account id). These functions fill exactly that gap, reading every fact back from the
emulator: a task set's tasks are the running tasks of its task definition (every
release registers a new revision, so the match is exact).
"""

from __future__ import annotations

from typing import Any

from bluegreen.aws.session import Clients


def tasks(clients: Clients, cluster: str, task_definition: str) -> list[dict[str, Any]]:
    """The running tasks of ``task_definition`` in ``cluster`` (read from ECS)."""
    ecs = clients.ecs
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]
    if not arns:
        return []
    found = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    return [
        task
        for task in found
        if task["taskDefinitionArn"] == task_definition and task.get("lastStatus") != "STOPPED"
    ]


def task_ip(task: dict[str, Any]) -> str:
    """The private IPv4 address of an awsvpc task's network interface."""
    for attachment in task.get("attachments", []):
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                return str(detail["value"])
    raise ValueError(f"task {task['taskArn']} has no private IP (not awsvpc?)")


def _targets(clients: Clients, cluster: str, task_set: dict[str, Any]) -> list[tuple[str, Any]]:
    ips = [task_ip(task) for task in tasks(clients, cluster, task_set["taskDefinition"])]
    pairs = []
    for lb in task_set.get("loadBalancers", []):
        targets = [{"Id": ip, "Port": int(lb["containerPort"])} for ip in ips]
        if targets:
            pairs.append((lb["targetGroupArn"], targets))
    return pairs


def register_targets(clients: Clients, cluster: str, task_set: dict[str, Any]) -> int:
    """Register the task set's task IPs with its target group(s); the number registered."""
    count = 0
    for group, targets in _targets(clients, cluster, task_set):
        clients.elbv2.register_targets(TargetGroupArn=group, Targets=targets)
        count += len(targets)
    return count


def remove(
    clients: Clients, cluster: str, service: str, task_set: dict[str, Any], why: str
) -> None:
    """Delete a task set as ECS does: deregister its targets, stop its tasks, delete it."""
    for group, targets in _targets(clients, cluster, task_set):
        clients.elbv2.deregister_targets(TargetGroupArn=group, Targets=targets)
    for task in tasks(clients, cluster, task_set["taskDefinition"]):
        clients.ecs.stop_task(cluster=cluster, task=task["taskArn"], reason=why)
    clients.ecs.delete_task_set(cluster=cluster, service=service, taskSet=task_set["taskSetArn"])


def stop_tasks(clients: Clients, cluster: str, task_definition: str, why: str) -> int:
    """Stop the running tasks of ``task_definition`` (ECS replacing failed tasks)."""
    found = tasks(clients, cluster, task_definition)
    for task in found:
        clients.ecs.stop_task(cluster=cluster, task=task["taskArn"], reason=why)
    return len(found)
