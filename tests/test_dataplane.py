"""The data plane: tasks that really run, health checked for real, behind local listeners.

Each test creates the scaffold's service stack (tests/dataplane_support.py) in an
emulated account with the data plane on, broken the way a user could break it, and reads
what AWS would show through the AWS APIs: the task's stop code and reason, the target's
health reason and description, what the listener answers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import yaml
from dataplane_support import (
    REGION,
    T0,
    Resources,
    alive,
    app_container,
    create_service_stack,
    get,
    gone,
    health_states,
    listener_address,
    log_messages,
    plane_fixture,  # noqa: F401 (the plane fixture)
    service_template,
    target_health,
    tasks,
    until,
)

from bluegreen.emulator import Emulator
from bluegreen.emulator.dataplane import matches

APP_LOGS = "/bluegreen/sample3-dev/webapp"


def _healthy_or_unhealthy(aws: Emulator) -> bool:
    return any(s in ("healthy", "unhealthy") for s in health_states(aws))


def _stopped(aws: Emulator) -> list[dict[str, Any]]:
    return tasks(aws, "STOPPED")


# ------------------------------------------------------------------- the unmodified stack


def test_the_bootstrap_task_runs_for_real_and_passes_its_health_checks(plane: Emulator) -> None:
    # The stack's bootstrap app container is Python's http.server started by the task
    # definition's command: it runs here as a process; the load balancer's checks are
    # real HTTP requests to it, and the production listener forwards to it.
    create_service_stack(plane)
    until(plane, lambda: health_states(plane) == ["healthy"])
    [task] = tasks(plane)
    assert task["lastStatus"] == "RUNNING"
    runner = plane.service("ecs").runner
    assert runner.started == 1 and runner.derived == []
    status, body, headers = get(listener_address(plane, 80))
    assert (status, body) == (200, "bluegreen bootstrap: waiting for the first pipeline run")
    # The test listener forwards to the same (blue) target group until a release.
    assert get(listener_address(plane, 8080))[:2] == (200, body)
    # http.server logged each request it served on stderr: the proxied one and the load
    # balancer's health checks (the bootstrap's stock log router filters nothing).
    messages = log_messages(plane, APP_LOGS)
    assert any('"GET / HTTP/1.1" 200' in m for m in messages), messages
    assert sum('"GET /health HTTP/1.1" 200' in m for m in messages) >= 2


def test_every_process_ends_with_the_emulator_even_on_an_exception(tmp_path: Any) -> None:
    pids: list[int] = []
    with (
        pytest.raises(RuntimeError, match="interrupted"),  # noqa: PT012
        Emulator(REGION, start=T0, work_dir=tmp_path / "aws", data_plane=True) as aws,
    ):
        aws.clients().iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
        create_service_stack(aws)
        until(aws, lambda: health_states(aws) == ["healthy"])
        pids = aws.service("ecs").runner.pids()
        assert len(pids) == 2  # the app and the process starter
        assert all(alive(pid) for pid in pids)
        raise RuntimeError("interrupted")
    assert gone(pids)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_no_process_survives_an_emulator_that_is_killed(tmp_path: Any) -> None:
    # SIGKILL leaves the emulator no chance to clean up: the kernel kills the process
    # starter when its parent dies, and the apps when the starter dies (PR_SET_PDEATHSIG).
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from pathlib import Path
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from dataplane_support import REGION, T0, create_service_stack, health_states, until
        from bluegreen.emulator import Emulator
        work = Path({str(tmp_path / "aws")!r})
        with Emulator(REGION, start=T0, work_dir=work, data_plane=True) as aws:
            aws.clients().iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
            create_service_stack(aws)
            until(aws, lambda: health_states(aws) == ["healthy"])
            print(json.dumps(aws.service("ecs").runner.pids()), flush=True)
            time.sleep(60)
        """
    )
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert child.stdout is not None
        pids = json.loads(child.stdout.readline())
        assert len(pids) == 2 and all(alive(pid) for pid in pids)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert gone(pids)


# ------------------------------------------------------------------ ways to break it


def test_a_security_group_that_does_not_admit_the_load_balancer_times_out_its_checks(
    plane: Emulator,
) -> None:
    # The task's security group admits the ALB's on 8080, not on the app port 80: the
    # health check requests are dropped and time out (TargetHealth.Reason
    # "Target.Timeout - The health check requests timed out"; the description ELB shows,
    # "Request timed out"). The listener cannot connect either: 504 (ALB guide,
    # load-balancer-troubleshooting.md, "HTTP 504: Gateway timeout").
    def block(resources: Resources) -> None:
        rule = resources["TaskSecurityGroup"]["Properties"]["SecurityGroupIngress"][0]
        rule["FromPort"] = rule["ToPort"] = 8080

    create_service_stack(plane, block)
    until(plane, lambda: _healthy_or_unhealthy(plane))
    [health] = target_health(plane)
    assert health["TargetHealth"] == {
        "State": "unhealthy",
        "Reason": "Target.Timeout",
        "Description": "Request timed out",
    }
    status, body, _ = get(listener_address(plane, 80))
    # Fail-open: the group has only unhealthy targets, so the ALB routes to them anyway;
    # the connection itself is what the security group drops.
    assert status == 504
    assert "do not admit the load balancer" in body


def test_no_route_to_the_internet_stops_the_task_before_it_runs(plane: Emulator) -> None:
    # Without the public route table's 0.0.0.0/0 route to the internet gateway the task
    # cannot reach the registry (ECS developer guide, task_cannot_pull_image.md,
    # "Connection timed out": "a route to the internet doesn't exist"): it stops before
    # it runs, TaskFailedToStart, CannotPullContainerError ... i/o timeout.
    create_service_stack(plane, lambda r: r.pop("PublicDefaultRoute"))
    until(plane, lambda: bool(_stopped(plane)), limit=3600)
    stopped = _stopped(plane)[0]
    assert stopped["stopCode"] == "TaskFailedToStart"
    # The bootstrap's image, by tag: public.ecr.aws/docker/library/python:<tag>.
    image = app_container(yaml.safe_load(service_template())["Resources"])["Image"]
    repository, _, tag = str(image).rpartition(":")
    path = repository.removeprefix("public.ecr.aws/")
    assert stopped["stoppedReason"] == (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed "
        f"to resolve ref {image}: failed to do request: Head "
        f'"https://public.ecr.aws/v2/{path}/manifests/{tag}": dial tcp public.ecr.aws:443: '
        "i/o timeout"
    )
    assert "startedAt" not in stopped
    assert plane.service("ecs").runner.started == 0


def test_a_public_subnet_without_a_public_ip_cannot_pull_either(plane: Emulator) -> None:
    # "If you use an internet gateway (public subnets), then confirm that the task has a
    # public IP assigned to it" (AWS re:Post, ecs-fargate-pull-container-error).
    def private(resources: Resources) -> None:
        network = resources["Service"]["Properties"]["NetworkConfiguration"]
        network["AwsvpcConfiguration"]["AssignPublicIp"] = "DISABLED"

    create_service_stack(plane, private)
    until(plane, lambda: bool(_stopped(plane)), limit=3600)
    stopped = _stopped(plane)[0]
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith("CannotPullContainerError: pull image manifest")
    assert stopped["stoppedReason"].endswith("dial tcp public.ecr.aws:443: i/o timeout")


def test_a_matcher_that_excludes_200_fails_with_the_codes_the_app_answered(
    plane: Emulator,
) -> None:
    # The app answers 200, the target group expects 204: "Target.ResponseCodeMismatch -
    # The health checks did not return an expected HTTP code"; the description as ELB
    # shows it, "Health checks failed with these codes: [200]" (awsdocs/aws-doc-sdk-
    # examples, the resilient service example's output).
    def only_204(resources: Resources) -> None:
        resources["BlueTargetGroup"]["Properties"]["Matcher"] = {"HttpCode": "204"}

    create_service_stack(plane, only_204)
    until(plane, lambda: _healthy_or_unhealthy(plane))
    [health] = target_health(plane)
    assert health["TargetHealth"] == {
        "State": "unhealthy",
        "Reason": "Target.ResponseCodeMismatch",
        "Description": "Health checks failed with these codes: [200]",
    }
    # Fail-open: a group with only unhealthy targets still gets the requests (ALB guide,
    # target-group-health-checks.md).
    assert get(listener_address(plane, 80))[0] == 200


def test_a_wrong_health_check_path_fails_with_404(plane: Emulator) -> None:
    # The container serves files (python -m http.server) and has no /health: 404.
    def file_server(resources: Resources) -> None:
        app_container(resources)["Command"] = ["python", "-m", "http.server", "80"]

    create_service_stack(plane, file_server)
    until(plane, lambda: _healthy_or_unhealthy(plane))
    [health] = target_health(plane)
    assert health["TargetHealth"]["Reason"] == "Target.ResponseCodeMismatch"
    assert health["TargetHealth"]["Description"] == "Health checks failed with these codes: [404]"


def test_an_app_listening_on_another_port_fails_its_checks(plane: Emulator) -> None:
    # The app listens on 8000, the target is port 80: the connection is refused
    # ("Target.FailedHealthChecks - The load balancer received an error while
    # establishing a connection to the target"); the description "Health checks failed".
    def other_port(resources: Resources) -> None:
        app_container(resources)["Command"] = ["python", "-m", "http.server", "8000"]

    create_service_stack(plane, other_port)
    until(plane, lambda: _healthy_or_unhealthy(plane))
    [health] = target_health(plane)
    assert health["TargetHealth"] == {
        "State": "unhealthy",
        "Reason": "Target.FailedHealthChecks",
        "Description": "Health checks failed",
    }
    # Nothing answers on the target's port: 502 (ALB guide, "HTTP 502: Bad gateway").
    assert get(listener_address(plane, 80))[0] == 502


def test_a_container_that_exits_stops_its_task_as_ecs_does(plane: Emulator) -> None:
    # The essential app container exits with 3: the task stops with stopCode
    # EssentialContainerExited, stoppedReason "Essential container in task exited", and
    # the container's exitCode (ECS API reference, Task.stopCode and Container.exitCode;
    # AWS re:Post, ecs-task-stopped). It had reached RUNNING (service-throttle-logic.md:
    # "the task has already moved to the RUNNING state"), and the scheduler replaces it.
    def crash(resources: Resources) -> None:
        app_container(resources)["Command"] = [
            "python",
            "-c",
            "import sys; print('no configuration found', file=sys.stderr); sys.exit(3)",
        ]

    create_service_stack(plane, crash)
    until(plane, lambda: len(_stopped(plane)) >= 2, limit=3600)
    first = _stopped(plane)[0]
    assert first["stopCode"] == "EssentialContainerExited"
    assert first["stoppedReason"] == "Essential container in task exited"
    assert "startedAt" in first
    exits = {c["name"]: c.get("exitCode") for c in first["containers"]}
    assert exits["webapp"] == 3
    assert "no configuration found" in log_messages(plane, APP_LOGS)[:1]
    # The second start of the same container replayed the first one's exit.
    runner = plane.service("ecs").runner
    assert runner.started == 1


def test_an_app_bluegreen_cannot_run_gets_its_health_derived_statically(
    plane: Emulator,
) -> None:
    # nginx is not a Python app: it is not run; its target is healthy because the load
    # balancer can reach the task and the checked port is one of its port mappings, and
    # the runner says so.
    def nginx(resources: Resources) -> None:
        container = app_container(resources)
        container["Image"] = "public.ecr.aws/nginx/nginx:1.27-alpine"
        container.pop("Command")

    create_service_stack(plane, nginx)
    until(plane, lambda: _healthy_or_unhealthy(plane))
    assert health_states(plane) == ["healthy"]
    runner = plane.service("ecs").runner
    assert runner.started == 0
    assert runner.derived == [
        "webapp (sample3-dev-task:1): its image public.ecr.aws/nginx/nginx:1.27-alpine is "
        "not the official Python image, nor built by the emulated CodeBuild: bluegreen "
        "cannot run it"
    ]
    status, body, _ = get(listener_address(plane, 80))
    assert status == 502 and "not run locally" in body


def test_statically_derived_health_still_needs_the_security_groups(plane: Emulator) -> None:
    def nginx_blocked(resources: Resources) -> None:
        container = app_container(resources)
        container["Image"] = "public.ecr.aws/nginx/nginx:1.27-alpine"
        container.pop("Command")
        resources["TaskSecurityGroup"]["Properties"]["SecurityGroupIngress"] = []

    create_service_stack(plane, nginx_blocked)
    until(plane, lambda: _healthy_or_unhealthy(plane))
    assert target_health(plane)[0]["TargetHealth"]["Reason"] == "Target.Timeout"


# ------------------------------------------------------------------------ the matcher


@pytest.mark.parametrize(
    ("matcher", "status", "expected"),
    [
        ("200", 200, True),
        ("200", 201, False),
        ("200,202", 202, True),
        ("200,202", 201, False),
        ("200-299", 299, True),  # the last code of the range
        ("200-299", 300, False),  # the first one after it
        ("200-299", 200, True),
        ("200-299", 199, False),
        ("200-299,302", 302, True),
    ],
)
def test_the_matcher_takes_codes_lists_and_ranges(
    matcher: str, status: int, expected: bool
) -> None:
    # ELB API reference, Matcher.HttpCode: "multiple values (for example, "200,202") or a
    # range of values (for example, "200-299")".
    assert matches(matcher, status) is expected
