"""What the emulated tasks write to CloudWatch Logs, through FireLens as ECS routes it.

Sources: ECS developer guide, FireLens (using_firelens.md: metadata keys ecs_cluster,
ecs_task_arn, ecs_task_definition; firelens-taskdef.md: the generated output from the
awsfirelens options, custom configuration files); AWS Containers blog "Under the hood:
FireLens for Amazon ECS Tasks" (the tag <container>-firelens-<task id>); Fluent Bit
manual, filters/grep (Regex/Exclude, Logical_Op legacy) and record_modifier; ECS guide
using_awslogs.md (awslogs-stream-prefix: prefix/container/task id); uvicorn's and
Python http.server's log formats.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from emulator_system import (
    APP_LOGS,
    CLUSTER,
    REGION,
    ROUTER_LOGS,
    SERVICE,
    T0,
    System,
    build,
    push_image,
    scaffold_images,
)

from bluegreen.emulator import Emulator, firelens
from bluegreen.emulator.services.ecs import Ecs
from bluegreen.emulator.tasks import EmulatedTask


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with Emulator(REGION, start=T0) as emulator:
        yield emulator


@pytest.fixture
def system(aws: Emulator) -> System:
    return build(aws)


def _events(system: System, group: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group}
    while True:
        page = system.clients.logs.filter_log_events(**kwargs)
        found.extend(page["events"])
        if not page.get("nextToken"):
            return found
        kwargs["nextToken"] = page["nextToken"]


def _logs(system: System) -> list[str]:
    return [json.loads(e["message"])["log"] for e in _events(system, APP_LOGS)]


def _task(system: System) -> EmulatedTask:
    ecs: Ecs = system.aws.service("ecs")
    return ecs.tasks(CLUSTER, SERVICE)[0]


def _run_on_blue(system: System, task_definition: str) -> EmulatedTask:
    """One task of ``task_definition`` in a task set on the group the listeners serve."""
    ecs: Ecs = system.aws.service("ecs")
    created = ecs.create_task_set(
        CLUSTER,
        SERVICE,
        task_definition,
        target_group_arn=system.blue,
        container_name="webapp",
        container_port=80,
    )
    return ecs.tasks(CLUSTER, SERVICE, created.id)[0]


def test_the_scaffold_router_drops_health_checks_and_keeps_requests(system: System) -> None:
    # extra.conf: [FILTER] grep Exclude log GET\s+/health[\s?] (uvicorn's request line);
    # record_modifier adds project/environment/container.
    system.aws.sleep(600)  # 40 health checks of the task
    task = _task(system)
    assert _logs(system) == [
        "INFO:     Started server process [1]",
        "INFO:     Waiting for application startup.",
        "INFO:     Application startup complete.",
        "INFO:     Uvicorn running on http://0.0.0.0:80 (Press CTRL+C to quit)",
    ]
    ecs: Ecs = system.aws.service("ecs")
    assert ecs.serve_request(task, "/", client="203.0.113.7", port=40000)
    assert not ecs.serve_request(task, "/health")  # dropped by the router's filter
    events = _events(system, APP_LOGS)
    assert {e["logStreamName"] for e in events} == {f"webapp/webapp-firelens-{task.task_id}"}
    record = json.loads(events[-1]["message"])
    assert record == {
        "container_id": task.runtime_id("webapp"),
        "container_name": "webapp",
        "source": "stdout",
        "log": 'INFO:     203.0.113.7:40000 - "GET / HTTP/1.1" 200 OK',
        "ecs_cluster": CLUSTER,
        "ecs_task_arn": task.task_arn,
        "ecs_task_definition": "sample3-dev-task:1",
        "project": "sample3",
        "environment": "dev",
        "container": "webapp",
    }
    assert events[-1]["timestamp"] == int(system.aws.now().timestamp() * 1000)


def test_without_the_exclude_rules_every_health_check_is_logged(system: System) -> None:
    _, router = scaffold_images()
    conf = router["extra.conf"].decode()
    router["extra.conf"] = "\n".join(
        line for line in conf.splitlines() if not line.strip().startswith("Exclude")
    ).encode()
    system.router_image = push_image(
        system.aws, system.clients, "sample3-dev-log-router", "v2", router
    )
    task = _run_on_blue(system, system.register(system.app_image))
    system.aws.sleep(300)
    checks = [line for line in _logs(system) if '"GET /health HTTP/1.1" 200 OK' in line]
    mine = [
        json.loads(e["message"])
        for e in _events(system, APP_LOGS)
        if e["logStreamName"].endswith(task.task_id)
    ]
    assert len(checks) == len([r for r in mine if "/health" in r["log"]])
    # Registered at ~75 s, checked every 15 s from 10 s after: ~14 checks by 300 s.
    assert 12 <= len(checks) <= 15
    assert checks[0].startswith("INFO:     10.0.")  # the load balancer node's address


def test_the_bootstrap_http_server_writes_its_own_format_unfiltered(system: System) -> None:
    # The service stack's bootstrap task definition: a public Python image running
    # http.server, the public AWS for Fluent Bit image without a custom configuration.
    definition = system.clients.ecs.register_task_definition(
        family="bootstrap",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        taskRoleArn=system.task_role,
        executionRoleArn=system.execution_role,
        containerDefinitions=[
            {
                "name": "webapp",
                "image": "public.ecr.aws/docker/library/python:3.12.11-slim-bookworm",
                "essential": True,
                "memoryReservation": 448,
                "command": ["python", "-c", "import http.server; ..."],
                "portMappings": [{"containerPort": 80}],
                "logConfiguration": {
                    "logDriver": "awsfirelens",
                    "options": {
                        "Name": "cloudwatch_logs",
                        "region": REGION,
                        "log_group_name": APP_LOGS,
                        "log_stream_prefix": "webapp/",
                        "auto_create_group": "false",
                    },
                },
            },
            {
                "name": "log-router",
                "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:3.2.1",
                "essential": True,
                "memoryReservation": 64,
                "firelensConfiguration": {
                    "type": "fluentbit",
                    "options": {"enable-ecs-log-metadata": "true"},
                },
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": ROUTER_LOGS,
                        "awslogs-region": REGION,
                        "awslogs-stream-prefix": "log-router",
                    },
                },
            },
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    task = _run_on_blue(system, definition)
    system.aws.sleep(200)
    mine = [
        json.loads(e["message"])
        for e in _events(system, APP_LOGS)
        if e["logStreamName"] == f"webapp/webapp-firelens-{task.task_id}"
    ]
    assert mine, "health checks reached the group"
    assert all(r["source"] == "stderr" for r in mine)
    first = mine[0]["log"]
    # http.server: '%s - - [%s] %s' with day/Mon/year hh:mm:ss.
    assert first.endswith('"GET /health HTTP/1.1" 200 -')
    assert " - - [19/Sep/2021 01:0" in first
    router = [
        e["message"]
        for e in _events(system, ROUTER_LOGS)
        if e["logStreamName"].endswith(task.task_id)
    ]
    assert router[0] == "AWS for Fluent Bit Container Image Version 3.2.1"
    assert {
        e["logStreamName"]
        for e in _events(system, ROUTER_LOGS)
        if e["logStreamName"].endswith(task.task_id)
    } == {f"log-router/log-router/{task.task_id}"}


def test_the_router_writes_its_own_lines_through_awslogs(system: System) -> None:
    task = _task(system)
    streams = {e["logStreamName"] for e in _events(system, ROUTER_LOGS)}
    assert streams == {f"log-router/log-router/{task.task_id}"}
    lines = [e["message"] for e in _events(system, ROUTER_LOGS)]
    assert lines[0] == "[2021/09/19 01:01:00] [ info] [engine] started (pid=1)"


def test_a_missing_app_log_group_is_an_error_in_the_routers_log(system: System) -> None:
    # auto_create_group false: the cloudwatch_logs output cannot write; the router logs it.
    system.clients.logs.delete_log_group(logGroupName=APP_LOGS)
    task = _run_on_blue(system, system.register(system.app_image))
    system.aws.sleep(200)
    mine = [
        e["message"]
        for e in _events(system, ROUTER_LOGS)
        if e["logStreamName"].endswith(task.task_id)
    ]
    assert any(
        "[error] [output:cloudwatch_logs:cloudwatch_logs.0] CreateLogStream API responded "
        "with error='ResourceNotFoundException'" in m
        for m in mine
    )
    assert task.status == "RUNNING"  # the app runs; only its logs are lost


def test_a_missing_awslogs_group_stops_the_task_before_it_runs(system: System) -> None:
    system.clients.logs.delete_log_group(logGroupName=ROUTER_LOGS)
    task = _run_on_blue(system, system.register(system.app_image))
    system.aws.sleep(120)
    assert task.stopped
    assert task.stop_code == "TaskFailedToStart"
    assert task.stopped_reason.startswith(
        "ResourceInitializationError: failed to validate logger args: create stream has been "
        "retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: "
        "The specified log group does not exist."
    )


def test_a_router_image_without_its_config_file_stops_the_task(system: System) -> None:
    _, router = scaffold_images()
    del router["extra.conf"]
    system.router_image = push_image(
        system.aws, system.clients, "sample3-dev-log-router", "v3", router
    )
    task = _run_on_blue(system, system.register(system.app_image))
    system.aws.sleep(120)
    assert task.stopped
    assert task.stopped_reason == "Essential container in task exited"
    mine = [
        e["message"]
        for e in _events(system, ROUTER_LOGS)
        if e["logStreamName"].endswith(task.task_id)
    ]
    assert any("/fluent-bit/etc/extra.conf" in m for m in mine)


def test_hours_of_filtered_health_checks_write_nothing(system: System) -> None:
    # Volume stays bounded: 12 hours of checks (2,880) are filtered, not stored.
    system.aws.sleep(12 * 3600)
    assert len(_logs(system)) == 4


# ------------------------------------------------------------------- Fluent Bit


CONF = """
# a comment
[SERVICE]
    Flush 1

[FILTER]
    Name    grep
    Match   app-firelens-*
    Exclude log ELB-HealthChecker
    Exclude log GET\\s+/health[\\s?]

[FILTER]
    Name    record_modifier
    Match   app-firelens-*
    Record  team blue
    Remove_key container_id

[FILTER]
    Name    grep
    Match   other-*
    Regex   log ^keep
"""


def test_grep_excludes_are_ored_and_only_matching_tags_are_filtered() -> None:
    # Fluent Bit manual, filters/grep: legacy mode ORs the Exclude rules.
    config = firelens.RouterConfig.from_text(CONF)
    tag = firelens.tag("app", "abc")
    assert tag == "app-firelens-abc"
    assert (
        config.apply(tag, {"log": 'INFO:     10.0.0.5:1 - "GET /health HTTP/1.1" 200 OK'}) is None
    )
    assert config.apply(tag, {"log": "ELB-HealthChecker/2.0"}) is None
    assert config.apply(tag, {"log": "GET /healthy HTTP/1.1"}) == {
        "log": "GET /healthy HTTP/1.1",
        "team": "blue",
    }
    assert config.apply(tag, {"log": "GET /health?x=1 HTTP/1.1", "container_id": "c"}) is None
    # The third filter matches other tags only.
    assert config.apply(tag, {"log": "drop me"}) == {"log": "drop me", "team": "blue"}
    assert config.apply("other-firelens-x", {"log": "drop me"}) is None
    assert config.apply("other-firelens-x", {"log": "keep me"}) == {"log": "keep me"}


def test_grep_regex_rules_are_anded_and_logical_op_changes_it() -> None:
    both = "[FILTER]\n    Name grep\n    Match *\n    Regex log a\n    Regex source std\n"
    config = firelens.RouterConfig.from_text(both)
    assert config.apply("t", {"log": "a", "source": "stdout"}) is not None
    assert config.apply("t", {"log": "a", "source": "x"}) is None
    either = both + "    Logical_Op or\n"
    assert (
        firelens.RouterConfig.from_text(either).apply("t", {"log": "a", "source": "x"}) is not None
    )


def test_an_unknown_filter_is_reported_and_records_pass_it() -> None:
    config = firelens.RouterConfig.from_text("[FILTER]\n    Name lua\n    Match *\n")
    assert config.ignored == ["lua"]
    assert config.apply("t", {"log": "x"}) == {"log": "x"}


def test_an_entry_outside_a_section_is_a_configuration_error() -> None:
    with pytest.raises(firelens.ConfigError):
        firelens.parse("Name grep\n")


def test_the_router_config_is_read_where_the_dockerfile_copies_it() -> None:
    _, router = scaffold_images()
    assert firelens.copied_paths(router["Dockerfile"].decode()) == {
        "/fluent-bit/etc/extra.conf": "extra.conf"
    }
    assert firelens.config_file(router, "/fluent-bit/etc/extra.conf") == router["extra.conf"]
    assert firelens.config_file(router, "/elsewhere.conf") is None
