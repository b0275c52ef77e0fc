"""Releases of the scaffold whose app really runs: what AWS would make of each revision.

`bluegreen deploy` and `git push` against an emulated account with the data plane on
(the rehearsal's): every revision's app container runs from the files CodeBuild built its
image from, the load balancer checks it over HTTP, and the listeners' local servers
answer with what the app answers. A revision that would fail on AWS fails here with the
cause AWS gives, and production keeps serving the revision before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dataplane_support import get, listener_address, log_messages, tasks
from emulated import REGION, T0, Emulated
from operations import (
    deployment,
    deployments,
    wait_for_deployment,
    wait_for_status,
    wait_for_termination_wait,
)

from bluegreen.config import Config
from bluegreen.emulator import Emulator

GREETING = "Hello, 網走"
APP_LOGS = "/bluegreen/sample3-dev/webapp"
MAIN = "webapp/app/main.py"


@pytest.fixture
def live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Emulated]:
    """tests/emulated.py's ``emulated``, with the data plane on."""
    from bluegreen.appkit import init
    from bluegreen.cli import common

    root = tmp_path / "app"
    init(root, Config())
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws", data_plane=True) as aws:

        def make_clients(config: Config, profile: str | None, region: str | None) -> Any:
            common.invocation().region = region or config.project.region
            return aws.clients()

        monkeypatch.setattr(common, "make_clients", make_clients)
        monkeypatch.setattr(common, "sleep", aws.sleep)
        monkeypatch.setattr(common, "interactive", lambda: False)
        yield Emulated(aws, root, capsys)


def _deployed(live: Emulated) -> str:
    """`bluegreen deploy` (the first release promoted, its termination wait ended)."""
    assert live.cli("deploy", "--yes").code == 0
    first = str(deployments(live)[-1]["deploymentId"])
    assert live.cli("finish").code == 0
    wait_for_status(live, first, "Succeeded")
    live.adopt_first_commit()
    # The first release's targets were not health-checked while their group was behind
    # no listener (Target.NotInUse); production answers once they pass their checks.
    production = listener_address(live.aws, 80)
    live.until(lambda: get(production)[0] == 200, limit=600)
    return first


def _push_main(live: Emulated, message: str, old: str, new: str) -> str:
    count = len(deployments(live))
    main = (live.root / MAIN).read_text(encoding="utf-8")
    assert old in main
    live.push(message, {MAIN: main.replace(old, new)})
    return wait_for_deployment(live, after=count)


def test_the_unmodified_scaffold_serves_each_revision_it_releases(live: Emulated) -> None:
    _deployed(live)
    production = listener_address(live.aws, 80)
    test = listener_address(live.aws, 8080)
    # The first release's app (FastAPI on uvicorn, from the scaffold's image) answers.
    assert get(production)[:2] == (200, GREETING)
    runner = live.aws.service("ecs").runner
    assert runner.derived == []
    d2 = _push_main(live, "Say hi", GREETING, "Hi")
    wait_for_status(live, d2, "Ready")
    # Green answers on the test listener, production still on blue.
    assert get(test)[:2] == (200, "Hi")
    assert get(production)[:2] == (200, GREETING)
    assert live.cli("promote").code == 0
    live.until(lambda: get(production)[1] == "Hi", limit=600)
    assert live.cli("finish").code == 0
    wait_for_status(live, d2, "Succeeded")
    # uvicorn's own lines, as the process printed them.
    messages = log_messages(live.aws, APP_LOGS)
    assert "Uvicorn running on http://0.0.0.0:80 (Press CTRL+C to quit)" in " ".join(messages)


INSTALL_TIMEOUT = (
    "The deployment timed out while waiting for the replacement task set to become healthy. "
    "This time out period is 60 minutes."
)
"""CodeDeploy's error when the replacement task set's targets never turn healthy (quoted in
CircleCI-Public/aws-ecs-orb#134, which also gives the 60 minutes; the emulated CodeDeploy's
text)."""


def _stack_resource(live: Emulated, logical_id: str) -> str:
    """The physical id of a resource of the service stack (DescribeStackResource)."""
    from bluegreen.names import Names

    found = live.aws.client("cloudformation").describe_stack_resource(
        StackName=Names.of(live.config).service_stack, LogicalResourceId=logical_id
    )
    return str(found["StackResourceDetail"]["PhysicalResourceId"])


def _appspec_network(appspec: str, subnets: list[str], groups: list[str]) -> str:
    """appspec.yml with a NetworkConfiguration for the replacement task set (CodeDeploy
    user guide, reference-appspec-file-structure-resources.md: "NetworkConfiguration ...
    AwsvpcConfiguration ... Subnets, SecurityGroups, AssignPublicIp")."""
    anchor = '        PlatformVersion: "LATEST"\n'
    assert anchor in appspec
    network = (
        "        NetworkConfiguration:\n"
        "          AwsvpcConfiguration:\n"
        f"            Subnets: [{', '.join(subnets)}]\n"
        f"            SecurityGroups: [{', '.join(groups)}]\n"
        '            AssignPublicIp: "ENABLED"\n'
    )
    return appspec.replace(anchor, anchor + network)


def _unhealthy_reasons(live: Emulated) -> list[dict[str, Any]]:
    """The TargetHealth of every unhealthy target (DescribeTargetHealth, every group)."""
    elbv2 = live.aws.client("elbv2")
    return [
        health["TargetHealth"]
        for group in elbv2.describe_target_groups()["TargetGroups"]
        for health in elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])[
            "TargetHealthDescriptions"
        ]
        if health["TargetHealth"]["State"] == "unhealthy"
    ]


def _stopped_reasons(live: Emulated) -> set[str]:
    return {str(t.get("stoppedReason")) for t in tasks(live.aws, "STOPPED")}


def _fails_on_blue(live: Emulated, deployment_id: str, seen: Callable[[], bool]) -> None:
    """The release's deployment fails with CodeDeploy's Install timeout; ``seen()`` (the
    cause in ELB's or ECS's answers) holds on the way; production answers with release 1's
    app at every step (never the broken revision); the rollback ends."""
    production = listener_address(live.aws, 80)
    observed = False
    waited = 0.0
    while deployment(live, deployment_id)["status"] not in ("Failed", "Stopped", "Succeeded"):
        assert waited < 2 * 3600, "the deployment did not end within two simulated hours"
        assert get(production)[:2] == (200, GREETING)
        observed = observed or seen()
        live.aws.sleep(60)
        waited += 60
    info = deployment(live, deployment_id)
    assert observed, (
        f"the cause never showed: {_unhealthy_reasons(live)}, {_stopped_reasons(live)}, {info}"
    )
    assert info["status"] == "Failed"
    assert info["errorInformation"] == {"code": "ECS_UPDATE_ERROR", "message": INSTALL_TIMEOUT}
    rollback = str(info["rollbackInfo"]["rollbackDeploymentId"])
    wait_for_status(live, rollback, "Succeeded", limit=3600)
    assert get(production)[:2] == (200, GREETING)


def test_each_way_of_breaking_a_release_fails_it_and_production_stays_on_blue(
    live: Emulated,
) -> None:
    """One deployed system, one broken release after another (each rolled back), then an
    unbroken one that succeeds. Each broken release fails where AWS fails it: its targets
    never turn healthy (the reason DescribeTargetHealth gives) or its tasks never start
    (the stoppedReason DescribeTasks gives), and CodeDeploy's Install times out."""
    _deployed(live)
    vpc = live.aws.client("ec2")
    subnets = [_stack_resource(live, "PublicSubnet1"), _stack_resource(live, "PublicSubnet2")]
    task_group = _stack_resource(live, "TaskSecurityGroup")
    taskdef = (live.root / "taskdef.json").read_text(encoding="utf-8")

    # 1. The app moved its health endpoint: /health answers 404 (ALB guide,
    # target-group-health-checks.md, Target.ResponseCodeMismatch; the description as ELB
    # shows it, awsdocs/aws-doc-sdk-examples' resilient service output).
    count = len(deployments(live))
    main = (live.root / MAIN).read_text(encoding="utf-8")
    live.push(
        "Move the health check",
        {MAIN: main.replace('HEALTH_PATH = "/health"', 'HEALTH_PATH = "/status"')},
    )
    mismatch = {
        "State": "unhealthy",
        "Reason": "Target.ResponseCodeMismatch",
        "Description": "Health checks failed with these codes: [404]",
    }
    _fails_on_blue(
        live, wait_for_deployment(live, after=count), lambda: mismatch in _unhealthy_reasons(live)
    )

    # 2. The container listens on another port than the target's (the task definition
    # sets PORT=8000; the mapping and the target group say 80): nothing answers the checks
    # ("Target.FailedHealthChecks", DescribeTargetHealth TargetHealth.Reason).
    count = len(deployments(live))
    live.push(
        "Restore the health check; listen on 8000",
        {
            MAIN: main,
            "taskdef.json": taskdef.replace(
                '"environment": [\n',
                '"environment": [\n        {\n          "name": "PORT",\n'
                '          "value": "8000"\n        },\n',
                1,
            ),
        },
    )
    refused = {
        "State": "unhealthy",
        "Reason": "Target.FailedHealthChecks",
        "Description": "Health checks failed",
    }
    _fails_on_blue(
        live, wait_for_deployment(live, after=count), lambda: refused in _unhealthy_reasons(live)
    )

    # 3. appspec.yml puts the replacement tasks in the VPC's default security group, which
    # does not admit the load balancer's: the checks are dropped and time out
    # (Target.Timeout; ALB guide, load-balancer-update-security-groups.md).
    vpc_id = vpc.describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
    default_group = vpc.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]["GroupId"]
    appspec = (live.root / "appspec.yml").read_text(encoding="utf-8")
    count = len(deployments(live))
    live.push(
        "Listen on the mapped port; use the default security group",
        {
            "taskdef.json": taskdef,
            "appspec.yml": _appspec_network(appspec, subnets, [default_group]),
        },
    )
    timed_out = {
        "State": "unhealthy",
        "Reason": "Target.Timeout",
        "Description": "Request timed out",
    }
    _fails_on_blue(
        live, wait_for_deployment(live, after=count), lambda: timed_out in _unhealthy_reasons(live)
    )

    # 4. appspec.yml puts them in a subnet whose route table has no route to the internet
    # (the VPC's main table: local only) and the VPC has no ECR endpoints: the registry
    # authorization times out first (ECS developer guide, "Troubleshoot
    # ResourceInitializationError": "unable to pull secrets or registry auth"); the tasks
    # stop before running.
    isolated = vpc.create_subnet(VpcId=vpc_id, CidrBlock="10.0.200.0/24")["Subnet"]["SubnetId"]
    count = len(deployments(live))
    live.push(
        "Use a subnet without a route",
        {"appspec.yml": _appspec_network(appspec, [isolated], [task_group])},
    )
    _fails_on_blue(
        live,
        wait_for_deployment(live, after=count),
        lambda: any(
            r.startswith("ResourceInitializationError: unable to pull secrets or registry auth: ")
            and r.endswith("i/o timeout. Please check your task network configuration.")
            for r in _stopped_reasons(live)
        ),
    )

    # 5. The build names an image tag it did not push (imageDetail.json says :latest):
    # the tasks cannot pull it (CannotPullContainerError ... not found; ECS stopped-task
    # errors).
    spec = (live.root / "webapp/buildspec.yml").read_text(encoding="utf-8")
    wrong = spec.replace(
        """printf '{"ImageURI":"%s"}' "${IMAGE_REPOSITORY_URI}:${IMAGE_TAG}" > imageDetail.json""",
        """printf '{"ImageURI":"%s"}' "${IMAGE_REPOSITORY_URI}:latest" > imageDetail.json""",
    )
    assert wrong != spec
    count = len(deployments(live))
    live.push(
        "Use the service's network; name the wrong tag",
        {"appspec.yml": appspec, "webapp/buildspec.yml": wrong},
    )
    _fails_on_blue(
        live,
        wait_for_deployment(live, after=count),
        lambda: any(
            r.endswith("sample3-dev-webapp:latest: not found") for r in _stopped_reasons(live)
        ),
    )

    # The unbroken scaffold, pushed again: it succeeds.
    count = len(deployments(live))
    live.push("Name the pushed tag", {"webapp/buildspec.yml": spec})
    good = wait_for_deployment(live, after=count)
    wait_for_status(live, good, "Ready")
    assert live.cli("promote").code == 0
    wait_for_termination_wait(live, good)
    finished = live.cli("finish")
    assert finished.code == 0, finished.out + finished.err
    wait_for_status(live, good, "Succeeded")
    assert get(listener_address(live.aws, 80))[:2] == (200, GREETING)


def test_a_release_whose_app_crashes_at_start_stops_its_tasks(live: Emulated) -> None:
    # The pushed app raises at import: uvicorn exits 1, the task stops with
    # EssentialContainerExited (ECS API reference, Task.stopCode), the traceback is in
    # the app's logs; production keeps the previous revision.
    _deployed(live)
    production = listener_address(live.aws, 80)
    _push_main(
        live,
        "Read a setting that is not there",
        "GREETING = ",
        'import os\nos.environ["APP_SETTING"]\nGREETING = ',
    )

    def crashed() -> list[dict[str, Any]]:
        return [
            t for t in tasks(live.aws, "STOPPED") if t.get("stopCode") == "EssentialContainerExited"
        ]

    live.until(lambda: bool(crashed()), limit=1800)
    task = crashed()[0]
    assert task["stoppedReason"] == "Essential container in task exited"
    assert {c["name"]: c.get("exitCode") for c in task["containers"]}["webapp"] == 1
    assert any("KeyError: 'APP_SETTING'" in m for m in log_messages(live.aws, APP_LOGS))
    assert get(production)[:2] == (200, GREETING)
