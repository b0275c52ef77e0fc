"""Helpers for the data plane's tests: the scaffold's service stack in an emulated account
whose tasks really run (no tests here).

The service stack (``bluegreen synth``'s 2-service.yaml, optionally edited the way a user
could break it) is created through the emulated CloudFormation API; ECS starts its
bootstrap task, whose app container (Python's http.server) runs as a local process, and
the load balancer checks it over HTTP. Everything is read back through the AWS APIs.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bluegreen import stacks
from bluegreen.config import Config
from bluegreen.emulator import Emulator

REGION = "ap-northeast-1"
T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)
CLUSTER = "sample3-dev-cluster"
BLUE = "sample3-dev-blue"

Resources = dict[str, Any]


@pytest.fixture(name="plane")
def plane_fixture(tmp_path: Path) -> Iterator[Emulator]:
    """An emulated account with the data plane on (the rehearsal's and the sandbox's)."""
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws", data_plane=True) as aws:
        # What `bluegreen deploy` creates first: ECS's service-linked role.
        aws.clients().iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
        yield aws


def service_template(edit: Callable[[Resources], None] | None = None) -> str:
    """The scaffold's service stack template, edited by ``edit`` (its Resources)."""
    stack = next(s for s in stacks.build(Config()) if s.key == "service")
    template = yaml.safe_load(stack.to_yaml())
    if edit is not None:
        edit(template["Resources"])
    return json.dumps(template)


def create_service_stack(aws: Emulator, edit: Callable[[Resources], None] | None = None) -> None:
    stack = next(s for s in stacks.build(Config()) if s.key == "service")
    aws.clients().cloudformation.create_stack(
        StackName=stack.name,
        TemplateBody=service_template(edit),
        Capabilities=["CAPABILITY_IAM"],
    )


def app_container(resources: Resources) -> dict[str, Any]:
    """The app container of the stack's (bootstrap) task definition."""
    found: dict[str, Any] = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    return found


def until(
    aws: Emulator, condition: Callable[[], bool], limit: float = 1800, step: float = 15
) -> float:
    """Simulated time passes until ``condition()`` holds; the seconds it took."""
    waited = 0.0
    while not condition():
        if waited >= limit:
            raise AssertionError(f"still not the case after {waited:g} simulated seconds")
        aws.sleep(step)
        waited += step
    return waited


def target_health(aws: Emulator, group: str = BLUE) -> list[dict[str, Any]]:
    """DescribeTargetHealth of a target group, by name."""
    elbv2 = aws.client("elbv2")
    try:
        arn = elbv2.describe_target_groups(Names=[group])["TargetGroups"][0]["TargetGroupArn"]
    except elbv2.exceptions.TargetGroupNotFoundException:
        return []  # the stack has not created it yet
    found: list[dict[str, Any]] = elbv2.describe_target_health(TargetGroupArn=arn)[
        "TargetHealthDescriptions"
    ]
    return found


def health_states(aws: Emulator, group: str = BLUE) -> list[str]:
    return [t["TargetHealth"]["State"] for t in target_health(aws, group)]


def tasks(aws: Emulator, status: str = "RUNNING") -> list[dict[str, Any]]:
    """The cluster's tasks of a desired status (ListTasks, DescribeTasks), oldest first."""
    ecs = aws.client("ecs")
    arns = ecs.list_tasks(cluster=CLUSTER, desiredStatus=status)["taskArns"]
    if not arns:
        return []
    found: list[dict[str, Any]] = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    return sorted(found, key=lambda t: t["createdAt"])


def listener_address(aws: Emulator, port: int) -> tuple[str, int]:
    """The local address of the load balancer's listener on ``port``."""
    elbv2 = aws.client("elbv2")
    balancer = elbv2.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    for listener in elbv2.describe_listeners(LoadBalancerArn=balancer)["Listeners"]:
        if listener["Port"] == port:
            address: tuple[str, int] = aws.service("elbv2").local_address(listener["ListenerArn"])
            return address
    raise AssertionError(f"no listener on port {port}")


def get(address: tuple[str, int], path: str = "/") -> tuple[int, str, dict[str, str]]:
    """A request to a local listener: status, body, headers (errors included)."""
    url = f"http://{address[0]}:{address[1]}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def log_messages(aws: Emulator, group: str) -> list[str]:
    """Every message of a log group (FilterLogEvents)."""
    logs = aws.client("logs")
    found: list[str] = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
        for event in page["events"]:
            message = str(event["message"])
            # FireLens with ECS metadata sends a JSON record; its "log" is the line.
            if message.startswith("{"):
                message = str(json.loads(message).get("log", message))
            found.append(message)
    return found


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(") ", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def gone(pids: list[int], limit: float = 5.0) -> bool:
    """Whether every process of ``pids`` has ended within ``limit`` real seconds."""
    deadline = time.monotonic() + limit
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
