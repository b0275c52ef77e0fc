"""The operating commands end to end: the real CLI against the emulated AWS.

Each test is a scenario in one emulated account (tests/emulated.py): at most one
``bluegreen deploy``, then a sequence of commands, each asserted on what a user sees
(exact lines, exit codes, JSON documents). Ids, times and revisions in the expected
output are read through the emulated AWS's own API (tests/operations.py), never through
bluegreen's code. Simulated time moves through the commands' sleep seam and
``Emulated.until``; nothing waits for real.

What AWS does by itself (CloudFormation, the pipeline, CodeDeploy's blue/green
lifecycle, ECS tasks, health checks, FireLens) is the emulator's, each behaviour citing
its AWS source in src/bluegreen/emulator/; where a test relies on a specific AWS
behaviour it names the source next to it.

What the emulated AWS cannot produce is given for one call inside an otherwise real run
(operations.answered): a state changing between two calls of a command (CodeDeploy
answering "not Ready" right after reporting Ready, a deployment started meanwhile),
throttling, access denied, a field AWS may leave out. What needs no run at all stays on
botocore Stubber: credential and SSO failures and error kinds (test_aws_engine.py),
ListDeployments answers arranged adversarially (test_aws_codedeploy.py), a pipeline that
never lists its first run (test_aws_first_release.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import typer
import yaml
from emulated import Emulated, emulated  # noqa: F401 (the fixture ops builds on)
from operations import (
    ALB,
    CLUSTER,
    LIFECYCLE,
    REGION,
    SERVICE,
    answered,
    deployment,
    deployments,
    empty_artifact_bucket,
    execution,
    latest,
    link,
    ops_fixture,  # noqa: F401 (fixture)
    revision,
    stack_gone,
    stamp,
    task_definition,
    wait_for_deployment,
    wait_for_event,
    wait_for_status,
    wait_for_termination_wait,
    wait_until_green_is_tested,
)

from bluegreen.appkit import render
from bluegreen.config import Config

ROLES = (
    "blue: the revision production serves (during a release: served when it began), "
    "green: the new one"
)
"""status's legend of blue and green on its target groups line (review U6)."""

NO_SERVICE_STACK = [
    "error: the service stack sample3-dev-service does not exist in ap-northeast-1",
    "  hint: check --region and project.region (ap-northeast-1 is the one used); if it is "
    "right, create the stacks with `bluegreen deploy`",
]


def stacks(ops: Emulated) -> list[tuple[str, str]]:
    return [
        (s["StackName"], s["StackStatus"])
        for s in ops.aws.client("cloudformation").list_stacks()["StackSummaries"]
    ]


# ---- an empty account ------------------------------------------------------------------


def test_an_empty_account_refuses_every_operation_and_deploy_changes_nothing_unasked(
    ops: Emulated,
) -> None:
    for command in ("status", "promote", "finish", "rollback"):
        result = ops.cli(command)
        assert (result.code, result.out) == (1, ""), command
        assert result.err.splitlines()[:2] == NO_SERVICE_STACK, command

    result = ops.cli("status", "-o", "json")
    assert result.code == 1
    document = json.loads(result.out)
    assert document == {
        "ok": False,
        "kind": "operation",
        "error": "the service stack sample3-dev-service does not exist in ap-northeast-1",
        "hint": NO_SERVICE_STACK[1].removeprefix("  hint: "),
        "exit_code": 1,
        "code": None,
        "action": None,
        "problems": [],
        "left": None,
        "resume": None,
        "region": REGION,
        "result": None,
    }

    # IAM refusing DescribeStacks: AccessDenied naming the principal (CloudFormation API
    # reference, "Common errors"; the wording of ops-live review run 55). The emulated
    # AWS does not evaluate the operator's policies, so the answer is given here.
    denied = (
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/ci/bot is not authorized to perform: "
        "cloudformation:DescribeStacks",
    )
    with answered(ops, "cloudformation", "DescribeStacks", error=denied):
        result = ops.cli("rollback")
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines()[0] == (
        "error: access denied: arn:aws:sts::123456789012:assumed-role/ci/bot may not call "
        "cloudformation:DescribeStacks"
    )
    with answered(ops, "cloudformation", "DescribeStacks", error=denied):
        result = ops.cli("status", "--output=json")
    document = json.loads(result.out)
    assert result.code == 1
    assert (document["kind"], document["code"], document["action"]) == (
        "operation",
        "AccessDenied",
        "cloudformation:DescribeStacks",
    )
    assert document["error"] == result.err.splitlines()[0].removeprefix("error: ")
    assert document["hint"].startswith("grant cloudformation:DescribeStacks to ")

    # FilterLogEvents on a missing group: ResourceNotFoundException (CloudWatch Logs API
    # reference, FilterLogEvents, Errors); moto answers it for the emulated account.
    result = ops.cli("logs")
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines() == [
        "error: log group /bluegreen/sample3-dev/webapp does not exist in ap-northeast-1",
        "  hint: project.region in bluegreen.toml chose it (ap-northeast-1); pass --region "
        "REGION if the stacks are in another one; in the right region, run `bluegreen deploy` "
        "first (the service stack makes the log group)",
    ]
    # With --region, the hint says the flag chose the region (the emulated account has one
    # region: the test seam gives its clients whatever --region says).
    result = ops.cli("logs", "--region", "ap-southeast-2")
    assert result.err.splitlines()[1] == (
        "  hint: --region ap-southeast-2 chose it (project.region is ap-northeast-1); drop "
        "--region or pass the region the stacks are in; in the right region, run `bluegreen "
        "deploy` first (the service stack makes the log group)"
    )

    # StartPipelineExecution on a missing pipeline: PipelineNotFoundException naming the
    # account (botocore codepipeline model; the emulated CodePipeline's wording).
    result = ops.cli("release")
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines() == [
        "error: the pipeline sample3-dev-pipeline does not exist in ap-northeast-1 "
        "(account 123456789012)",
        "  hint: check --region / project.region (now ap-northeast-1); in the right region, "
        "run `bluegreen deploy` first (the pipeline stack creates it)",
    ]  # nothing started, so nothing is said to keep running

    # No terminal to confirm on: deploy and destroy refuse as bad input, nothing changes.
    for command in ("deploy", "destroy"):
        result = ops.cli(command)
        assert (result.code, result.out) == (2, ""), command
        assert "pass --yes" in result.err, command
    assert stacks(ops) == []

    result = ops.cli("deploy", "--dry-run", "--output", "json")
    assert result.code == 0
    data = json.loads(result.out)
    assert [(s["stack"], s["action"]) for s in data["stacks"]] == [
        ("sample3-dev-source", "would-create"),
        ("sample3-dev-service", "would-create"),
        ("sample3-dev-pipeline", "would-create"),
    ]
    assert data["would_commit_files"] == 21 and data["links"] is None
    assert (
        "sample3-dev-service in ap-northeast-1 (account 123456789012): CREATE" in result.err
    )  # the changes went to stderr
    assert stacks(ops) == []  # a dry run of new stacks makes no change set at all
    assert ops.aws.client("codecommit").list_repositories()["repositories"] == []


# ---- a service stack the operations cannot use -------------------------------------------


def _template(outputs: dict[str, str] | None = None) -> str:
    """A small stack under the service stack's name: a log group, and ``outputs``."""
    body: dict[str, object] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/demo"}}
        },
    }
    if outputs:
        body["Outputs"] = {key: {"Value": value} for key, value in outputs.items()}
    return json.dumps(body)


def _stack_status(ops: Emulated) -> str:
    """The service stack's status; DELETE_COMPLETE once deleted (or never made)."""
    live = [s for name, s in stacks(ops) if name == "sample3-dev-service"]
    return next((s for s in live if s != "DELETE_COMPLETE"), "DELETE_COMPLETE")


def _change_set(ops: Emulated, name: str, body: str) -> str:
    """A CREATE change set for the service stack, computed (not executed); its id."""
    cf = ops.aws.client("cloudformation")
    made: str = cf.create_change_set(
        StackName="sample3-dev-service",
        ChangeSetName=name,
        ChangeSetType="CREATE",
        TemplateBody=body,
        Capabilities=["CAPABILITY_IAM"],
    )["Id"]
    ops.until(lambda: cf.describe_change_set(ChangeSetName=made)["Status"] == "CREATE_COMPLETE")
    return made


def _execute(ops: Emulated, change_set: str) -> None:
    ops.aws.client("cloudformation").execute_change_set(ChangeSetName=change_set)


def _error(ops: Emulated) -> list[str]:
    result = ops.cli("status")
    assert (result.code, result.out) == (1, "")
    return result.err.splitlines()


def test_a_service_stack_without_outputs_says_why_and_what_to_run(ops: Emulated) -> None:
    # CloudFormation user guide, "Stack status codes": a stack being created, waiting for
    # its change set (REVIEW_IN_PROGRESS), rolling back or rolled back after a failed
    # create, or being deleted, is listed by DescribeStacks without outputs.
    cf = ops.aws.client("cloudformation")
    where = "error: the service stack sample3-dev-service in ap-northeast-1"
    made = _change_set(ops, "by-hand", _template())
    assert _error(ops) == [
        f"{where} has not been created yet (REVIEW_IN_PROGRESS: its change set was never executed)",
        "  hint: run `bluegreen deploy` to create it",
    ]
    _execute(ops, made)
    assert _error(ops) == [
        f"{where} is being created (CREATE_IN_PROGRESS) and has no outputs yet",
        "  hint: wait until `bluegreen deploy` has finished it, then try again",
    ]
    ops.until(lambda: _stack_status(ops) == "CREATE_COMPLETE")
    assert _error(ops) == [
        f"{where} has no outputs (CREATE_COMPLETE)",
        "  hint: run `bluegreen deploy` to bring it up to date",
    ]
    cf.delete_stack(StackName="sample3-dev-service")
    assert _error(ops) == [
        f"{where} is being deleted or failed to delete (DELETE_IN_PROGRESS)",
        "  hint: let `bluegreen destroy` finish, then `bluegreen deploy` creates it again",
    ]
    ops.until(lambda: _stack_status(ops) == "DELETE_COMPLETE")
    assert _error(ops) == NO_SERVICE_STACK

    # A create that fails rolls back (user guide, "Stack failure options"): here an IAM
    # role naming a managed policy that does not exist.
    failing = json.loads(_template())
    failing["Resources"]["Role"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/NoSuchPolicyAnywhere"],
        },
    }
    _execute(ops, _change_set(ops, "failing", json.dumps(failing)))
    ops.until(lambda: _stack_status(ops) == "ROLLBACK_IN_PROGRESS", step=1)
    assert _error(ops) == [
        f"{where} failed to create (ROLLBACK_IN_PROGRESS: The following resource(s) failed "
        "to create: [Role]. Rollback requested by user.)",
        "  hint: wait for the rollback to end, then run `bluegreen deploy` again",
    ]
    ops.until(lambda: _stack_status(ops) == "ROLLBACK_COMPLETE")
    assert _error(ops) == [
        f"{where} failed to create (ROLLBACK_COMPLETE)",
        "  hint: see its events in the CloudFormation console, fix the cause and run "
        "`bluegreen deploy` again (it deletes the failed stack and creates it again)",
    ]


def test_a_service_that_is_not_blue_green_is_refused(ops: Emulated) -> None:
    # An ECS service with the rolling (ECS) controller, once with no strategy and once
    # with strategy ROLLING (ECS API reference, DeploymentConfiguration.strategy), behind a
    # stack with the service stack's name.
    aws = ops.aws
    aws.client("iam").create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName="other")
    ecs.register_task_definition(
        family="other",
        containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}],
    )
    ecs.create_service(
        cluster="other", serviceName="rolling", taskDefinition="other", desiredCount=0
    )
    ecs.create_service(
        cluster="other",
        serviceName="builtin",
        taskDefinition="other",
        desiredCount=0,
        deploymentConfiguration={"strategy": "ROLLING"},
    )
    cf = aws.client("cloudformation")
    refused = {
        "rolling": [
            "error: rolling uses the ECS deployment controller, not blue/green",
            "  hint: deploy the service stack with `bluegreen deploy` (deployment.engine sets "
            'CODE_DEPLOY for "codedeploy", built-in blue/green for "ecs")',
        ],
        # ECS built-in blue/green (strategy BLUE_GREEN, LINEAR, CANARY) is operated by the
        # ECS engine (tests/test_e2e_ecs_engine.py); an explicit ROLLING strategy is not.
        "builtin": [
            "error: builtin uses the ECS deployment controller with strategy ROLLING, not "
            "blue/green",
            "  hint: deploy the service stack with `bluegreen deploy` (deployment.engine sets "
            'CODE_DEPLOY for "codedeploy", built-in blue/green for "ecs")',
        ],
    }
    for service, lines in refused.items():
        cf.delete_stack(StackName="sample3-dev-service")
        ops.until(lambda: _stack_status(ops) == "DELETE_COMPLETE")
        _execute(
            ops,
            _change_set(ops, service, _template({"ClusterName": "other", "ServiceName": service})),
        )
        ops.until(lambda: _stack_status(ops) == "CREATE_COMPLETE")
        for command in ("status", "promote", "finish", "rollback"):
            result = ops.cli(command)
            assert (result.code, result.out) == (1, ""), command
            assert result.err.splitlines()[:2] == lines, command


# ---- logs, read from CloudWatch Logs ------------------------------------------------------


def test_logs_page_sort_and_keep_the_terminal_safe(ops: Emulated) -> None:
    # The app's log group as the service stack makes it, with lines written straight
    # through the CloudWatch Logs API (as FireLens' cloudwatch_logs output does).
    logs = ops.aws.client("logs")
    group = "/bluegreen/sample3-dev/webapp"
    logs.create_log_group(logGroupName=group)

    result = ops.cli("logs", "--since", "2h")  # the window by the service's clock
    assert (result.code, result.out) == (0, "")
    assert result.err == (
        "no events in /bluegreen/sample3-dev/webapp since 2021-09-18 23:00:00 UTC (--since 2h)\n"
    )
    result = ops.cli("logs", "-o", "json")
    assert (result.code, result.out) == (0, "[]\n")
    assert result.err.endswith(" UTC (--since 10m)\n")

    # 10 001 events in two streams, interleaved in time. FilterLogEvents answers at most
    # 10 000 per page ("up to 1 MB (up to 10,000 log events)", API reference), so the
    # command follows nextToken; the emulated Logs (moto) answers stream by stream where
    # AWS sorts by time, and the command shows them in time order either way.
    t0 = int(ops.aws.now().timestamp() * 1000) - 60_000
    written: list[tuple[int, str]] = []
    for stream, first, count in (("webapp/a", 0, 6000), ("webapp/b", 1, 4001)):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        events = [
            {"timestamp": t0 + first + 2 * i, "message": f"{stream} {i}"} for i in range(count)
        ]
        written += [(e["timestamp"], e["message"]) for e in events]
        for batch in range(0, count, 5000):
            logs.put_log_events(
                logGroupName=group, logStreamName=stream, logEvents=events[batch : batch + 5000]
            )
    first = logs.filter_log_events(logGroupName=group, startTime=t0)
    assert len(first["events"]) == 10_000 and first["nextToken"]  # two pages
    result = ops.cli("logs", "--since", "2m", "-o", "json")
    found = json.loads(result.out)
    assert [e["message"] for e in found] == [message for _, message in sorted(written)]
    assert [(e["timestamp"], e["stream"]) for e in found[:2]] == [
        ("2021-09-19T00:59:00Z", "webapp/a"),
        ("2021-09-19T00:59:00.001000Z", "webapp/b"),
    ]

    # An app that logs untrusted input: text output drops control characters (terminal
    # escapes) and shows a newline as a backslash and n; JSON keeps the message exact,
    # the C1 controls escaped.
    message = "\x1b]0;owned\x07\x1b[31mred\x1b[0m\r\nnext line\x9b2J tab"
    logs.create_log_stream(logGroupName=group, logStreamName="webapp/\x1b[2Kc")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="webapp/\x1b[2Kc",
        logEvents=[{"timestamp": t0 + 59_000, "message": message}],
    )
    result = ops.cli("logs", "--since", "2s")
    assert (result.code, result.out) == (
        0,
        "2021-09-19T00:59:59.000Z webapp/[2Kc ]0;owned[31mred[0m\\nnext line2J tab\n",
    )
    result = ops.cli("logs", "--since", "2s", "-o", "json")
    assert "\x1b" not in result.out and "\x9b" not in result.out and "\\u009b" in result.out
    assert [e["message"] for e in json.loads(result.out)] == [message]


# ---- a release with manual reroute, phase by phase -----------------------------------------

SUCCEEDED_EVENTS = [f"  {name:<21}  Succeeded" for name in LIFECYCLE]
OVER = (
    "it is over, so there is nothing to stop (CodeDeploy rolls a failed deployment back "
    "only when the deployment group's auto-rollback is on)"
)
HINT_OVER = (
    "  hint: see `bluegreen status` for what production serves; to release an earlier "
    "commit, revert and push"
)
PIPELINE_DONE_UNTIL_DEPLOY = [
    "  Source         Succeeded",
    "    Source       Succeeded",
    "  Build          Succeeded",
    "    BuildApp     Succeeded",
    "    BuildRouter  Succeeded",
]


def _pipeline_head(ops: Emulated, message: str) -> list[str]:
    """The first two lines of `status`: the latest execution and its source revision."""
    latest_run = execution(ops)
    revision = latest_run["sourceRevisions"][0]["revisionId"]
    return [
        f"pipeline sample3-dev-pipeline: {latest_run['status']} (execution "
        f"{latest_run['pipelineExecutionId']}, {stamp(latest_run['startTime'])})",
        f"  revision {revision[:8]} {message}",
    ]


def _no_summaries(parsed: dict[str, Any]) -> None:
    for summary in parsed.get("pipelineExecutionSummaries", []):
        for source in summary.get("sourceRevisions", []):
            source.pop("revisionSummary", None)


def _shown(ops: Emulated, *command: str) -> list[str]:
    """``command`` succeeded (exit 0); its stdout lines."""
    result = ops.cli(*command)
    assert result.code == 0, result.err
    return result.out.splitlines()


def deployed_tags(ops: Emulated, deployment_id: str) -> dict[str, str]:
    """Each container's image tag in the task definition a deployment deployed: the
    hash of the content each image is built from (selective builds), so they differ."""
    family_revision = task_definition(ops, deployment_id)
    found = ops.aws.client("ecs").describe_task_definition(taskDefinition=family_revision)
    return {
        str(c["name"]): str(c["image"]).rsplit(":", 1)[-1]
        for c in found["taskDefinition"]["containerDefinitions"]
    }


def deployed_images(ops: Emulated, deployment_id: str) -> str:
    """The images as `bluegreen status` lists them: ``webapp:<tag> log-router:<tag>``."""
    tags = deployed_tags(ops, deployment_id)
    return f"webapp:{tags['webapp']} log-router:{tags['log-router']}"


def deployment_image(ops: Emulated, deployment_id: str) -> str:
    """The image tag (the commit) of the task definition a deployment deployed."""
    family_revision = task_definition(ops, deployment_id)
    found = ops.aws.client("ecs").describe_task_definition(taskDefinition=family_revision)
    image = found["taskDefinition"]["containerDefinitions"][0]["image"]
    return str(image).rsplit(":", 1)[-1]


def _refused(ops: Emulated, command: str) -> list[str]:
    """``command`` refused: exit 1, nothing on stdout; the error lines."""
    result = ops.cli(command)
    assert (result.code, result.out) == (1, ""), command
    return result.err.splitlines()


NOT_READY = (
    "DeploymentIsNotInReadyStateException",
    "The deployment does not have a status of Ready and can't continue yet",
)
"""ContinueDeployment's error for a deployment that is not Ready (botocore codedeploy
model), answered by AWS when the status changes between a command's read and its call:
the emulated AWS cannot time that, so it is given (operations.answered)."""


def test_a_release_waits_for_promote_and_every_wrong_state_is_refused(ops: Emulated) -> None:
    # deploy's first promotion is answered "not Ready" once: it keeps following and
    # promotes on its next poll.
    with answered(ops, "codedeploy", "ContinueDeployment", error=NOT_READY) as refused:
        deployed = ops.cli("deploy", "--yes")
    assert refused == [1]
    assert deployed.code == 0
    d1 = latest(ops)["deploymentId"]
    first_run = execution(ops)["pipelineExecutionId"]
    images1 = deployed_images(ops, d1)
    # deploy follows the pipeline's first run and promotes it: blue is the bootstrap
    # placeholder, nothing to protect.
    assert deployed.out.splitlines()[-1] == f"first release {first_run[:8]}: promoted"
    assert deployed.err.splitlines()[-1] == (
        "promoted the first release (blue was the bootstrap placeholder): rerouting production "
        f"(:80) to the green task set of deployment {d1}; follow with `bluegreen status --watch`"
    )

    # The termination wait: production on green (the first release, sample3-dev-task:2),
    # blue (the placeholder, revision 1) kept running.
    result = ops.cli("status")
    assert result.code == 0
    assert result.out.splitlines() == [
        *_pipeline_head(ops, "Initial commit by bluegreen deploy"),
        *PIPELINE_DONE_UNTIL_DEPLOY,
        "  Deploy         InProgress",
        f"    Deploy       InProgress  {d1}",
        f"deployment {d1}: InProgress (termination-wait)",
        *SUCCEEDED_EVENTS,
        "  traffic: blue 0%, green 100%",
        "listeners",
        "  production  :80    green (sample3-dev-green) 100%, blue (sample3-dev-blue) 0%",
        "  test        :8080  green (sample3-dev-green) 100%, blue (sample3-dev-blue) 0%",
        f"target groups ({ROLES})",
        "  blue   sample3-dev-blue   healthy 1",
        # Healthy already since the branch checks (builds.branches) joined the pipeline
        # stack: this status is read at a later health-check round than before.
        "  green  sample3-dev-green  healthy 1",
        "task sets",
        f"  green (sample3-dev-green)  PRIMARY  sample3-dev-task:2  1/1 running  {images1}",
        "  blue (sample3-dev-blue)    ACTIVE   sample3-dev-task:1  1/1 running  "
        "webapp:3.12.11-slim-bookworm log-router:3.2.1",
    ]
    # finish ends the termination wait: ContinueDeployment(TERMINATION_WAIT)
    # (https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_ContinueDeployment.html).
    result = ops.cli("finish")
    assert (result.code, result.out.splitlines()) == (
        0,
        [
            f"terminating the original (blue) task set of deployment {d1} now; rollback is no "
            "longer possible once it is gone"
        ],
    )
    wait_for_status(ops, d1, "Succeeded")
    ops.sleep(300)  # the placeholder's targets drain and its tasks stop
    result = ops.cli("status")
    # After a release the group serving production is blue, whatever its name.
    assert result.out.splitlines() == [
        *_pipeline_head(ops, "Initial commit by bluegreen deploy"),
        *PIPELINE_DONE_UNTIL_DEPLOY,
        "  Deploy         Succeeded",
        "    Deploy       Succeeded",
        f"deployment {d1}: Succeeded (succeeded)",
        *SUCCEEDED_EVENTS,
        "listeners",
        "  production  :80    blue (sample3-dev-green) 100%, green (sample3-dev-blue) 0%",
        "  test        :8080  blue (sample3-dev-green) 100%, green (sample3-dev-blue) 0%",
        f"target groups ({ROLES})",
        "  green  sample3-dev-blue   no targets",
        "  blue   sample3-dev-green  healthy 1",
        "task sets",
        f"  blue (sample3-dev-green)  PRIMARY  sample3-dev-task:2  1/1 running  {images1}",
    ]
    # A source revision without its summary (revisionSummary is optional in the API
    # reference's SourceRevision; the emulated CodeCommit source always gives one): the
    # revision line shows the commit alone.
    with answered(ops, "codepipeline", "ListPipelineExecutions", edit=_no_summaries):
        head = _shown(ops, "status")[:2]
    assert head == [_pipeline_head(ops, "")[0], _pipeline_head(ops, "")[1].rstrip()]
    assert _refused(ops, "promote") == [
        f"error: cannot promote: deployment {d1} is Succeeded (succeeded), not waiting for reroute",
        "  hint: start a new release with `bluegreen release`",
    ]
    assert _refused(ops, "finish") == [
        f"error: cannot finish: deployment {d1} is Succeeded (succeeded), not in the "
        "termination wait",
        "  hint: start a new release with `bluegreen release`",
    ]
    assert _refused(ops, "rollback") == [
        f"error: cannot roll back: deployment {d1} is the first release of deployment group "
        "sample3-dev-deployment-group; there is no earlier release to return to (before the "
        "first release the service ran the bootstrap placeholder)",
        "  hint: revert the commit and push: the pipeline releases the reverted code (or start "
        "it with `bluegreen release`)",
    ]
    assert len(deployments(ops)) == 1  # nothing was started

    # `release` starts the pipeline (the console's "Release change": the latest commit
    # again) and follows it until CodeDeploy reports the deployment Ready: green on the
    # test listener, waiting for reroute (DeploymentReadyOption STOP_DEPLOYMENT).
    result = ops.cli("release")
    run2 = execution(ops)["pipelineExecutionId"]
    d2 = latest(ops)["deploymentId"]
    assert result.code == 0
    assert result.out.splitlines() == [
        f"execution {run2}: InProgress",
        f"console   {link(run2)}",
        f"deployment {d2} waits for reroute: test green on {ALB}:8080, then `bluegreen "
        "promote` (or `bluegreen rollback`)",
    ]
    progress = result.err.splitlines()
    assert progress[0] == f"started sample3-dev-pipeline execution {run2}"
    assert progress[-1] == f"Deploy/Deploy: InProgress ({d2})"
    assert "Build/BuildApp: Succeeded" in progress and "Build/BuildRouter: Succeeded" in progress
    assert deployment(ops, d2)["status"] == "Ready"

    waiting = [
        *_pipeline_head(ops, "Initial commit by bluegreen deploy"),
        *PIPELINE_DONE_UNTIL_DEPLOY,
        "  Deploy         InProgress",
        f"    Deploy       InProgress  {d2}",
        f"deployment {d2}: Ready (waiting-for-reroute)",
        *SUCCEEDED_EVENTS[:5],
        "  BeforeAllowTraffic     Pending",
        "  AllowTraffic           Pending",
        "  AfterAllowTraffic      Pending",
        "  traffic: blue 100%, green 0%",
        "listeners",
        "  production  :80    blue (sample3-dev-green) 100%, green (sample3-dev-blue) 0%",
        "  test        :8080  green (sample3-dev-blue) 100%, blue (sample3-dev-green) 0%",
        f"target groups ({ROLES})",
        "  green  sample3-dev-blue   healthy 1",
        "  blue   sample3-dev-green  healthy 1",
        "task sets",
        f"  blue (sample3-dev-green)  PRIMARY  sample3-dev-task:2  1/1 running  {images1}",
        f"  green (sample3-dev-blue)  ACTIVE   sample3-dev-task:3  1/1 running  {images1}",
    ]
    assert _shown(ops, "status") == waiting

    result = ops.cli("status", "-o", "json")
    data = json.loads(result.out)
    assert (data["deployment"]["id"], data["deployment"]["phase"]) == (d2, "waiting-for-reroute")
    assert data["listeners"] == [
        {
            "role": "production",
            "port": 80,
            "forwards": [
                {"target_group": "sample3-dev-green", "weight": 100},
                {"target_group": "sample3-dev-blue", "weight": 0},
            ],
        },
        {
            "role": "test",
            "port": 8080,
            "forwards": [
                {"target_group": "sample3-dev-blue", "weight": 100},
                {"target_group": "sample3-dev-green", "weight": 0},
            ],
        },
    ]
    assert [(t["label"], t["name"]) for t in data["target_groups"]] == [
        ("green", "sample3-dev-blue"),
        ("blue", "sample3-dev-green"),
    ]
    assert [t["images"] for t in data["task_sets"]] == [deployed_tags(ops, d1)] * 2

    # --watch without a terminal: three snapshots, 5 s apart, one JSON document per line.
    before = ops.aws.clock.seconds
    result = ops.cli("status", "--watch", "-o", "json")
    assert result.code == 0
    snapshots = [json.loads(line) for line in result.out.splitlines()]
    assert [s["deployment"]["phase"] for s in snapshots] == ["waiting-for-reroute"] * 3
    assert ops.aws.clock.seconds - before == 10

    assert _refused(ops, "finish") == [
        f"error: cannot finish: deployment {d2} is Ready (waiting-for-reroute), not in the "
        "termination wait",
        "  hint: `bluegreen promote` shifts production to green; `bluegreen rollback` drops it",
    ]
    with answered(ops, "codedeploy", "ContinueDeployment", error=NOT_READY):
        assert _refused(ops, "promote") == [
            f"error: cannot promote yet: CodeDeploy says deployment {d2} is not Ready",
            "  hint: run `bluegreen promote` again in a few seconds",
        ]
    # promote = ContinueDeployment(READY_WAIT), the console's "Reroute traffic" (API
    # reference, ContinueDeployment).
    result = ops.cli("promote")
    assert (result.code, result.out.splitlines()) == (
        0,
        [
            f"rerouting production (:80) to the green task set of deployment {d2}; follow "
            "with `bluegreen status --watch`"
        ],
    )
    wait_for_termination_wait(ops, d2)
    assert _refused(ops, "promote") == [
        f"error: cannot promote: deployment {d2} is InProgress (termination-wait), not waiting "
        "for reroute",
        "  hint: `bluegreen finish` removes blue now; `bluegreen rollback` returns to blue",
    ]
    result = ops.cli("finish")
    assert result.code == 0 and d2 in result.out
    wait_for_status(ops, d2, "Succeeded")

    # --no-follow only starts the execution; then the deployment installs green.
    result = ops.cli("release", "--no-follow")
    run3 = execution(ops)["pipelineExecutionId"]
    assert (result.code, result.out.splitlines()) == (
        0,
        [f"execution {run3}: InProgress", f"console   {link(run3)}"],
    )
    assert result.err == f"started sample3-dev-pipeline execution {run3}\n"
    d3 = wait_for_deployment(ops, after=2)
    wait_for_event(ops, d3, "Install", "InProgress")
    assert _shown(ops, "status") == [
        *_pipeline_head(ops, "Initial commit by bluegreen deploy"),
        *PIPELINE_DONE_UNTIL_DEPLOY,
        "  Deploy         InProgress",
        f"    Deploy       InProgress  {d3}",
        f"deployment {d3}: InProgress (installing)",
        "  BeforeInstall          Succeeded",
        "  Install                InProgress",
        *(f"  {name:<21}  Pending" for name in LIFECYCLE[2:]),
        "  traffic: blue 100%, green 0%",
        "listeners",
        "  production  :80    blue (sample3-dev-blue) 100%, green (sample3-dev-green) 0%",
        "  test        :8080  blue (sample3-dev-blue) 100%, green (sample3-dev-green) 0%",
        f"target groups ({ROLES})",
        "  blue   sample3-dev-blue   healthy 1",
        "  green  sample3-dev-green  no targets",
        "task sets",
        f"  blue (sample3-dev-blue)    PRIMARY  sample3-dev-task:3  1/1 running  {images1}",
        f"  green (sample3-dev-green)  ACTIVE   sample3-dev-task:4  0/1 running  {images1}",
    ]
    installing = f"deployment {d3} is InProgress (installing, Install in progress)"
    wait_hint = (
        "  hint: wait until the green tasks serve the test listener (`bluegreen status --watch`)"
    )
    assert _refused(ops, "promote") == [
        f"error: cannot promote: {installing}, not waiting for reroute",
        wait_hint,
    ]
    assert _refused(ops, "finish") == [
        f"error: cannot finish: {installing}, not in the termination wait",
        wait_hint,
    ]
    # rollback before reroute: StopDeployment with autoRollbackEnabled, the console's
    # "Stop and roll back deployment" (CodeDeploy user guide, "Stop a deployment"); the
    # rollback is a new deployment (user guide, "Redeploy and roll back a deployment").
    result = ops.cli("rollback")
    d4 = latest(ops)["deploymentId"]
    assert result.code == 0
    assert result.out.splitlines() == [
        f"stopped deployment {d3} (installing) with rollback: production stays on the original "
        f"task set and CodeDeploy removes the replacement (Deployment {d3} stopped; rollback "
        f"deployment {d4} restores the original task set)"
    ]
    wait_for_status(ops, d4, "Succeeded")
    assert deployment(ops, d3)["status"] == "Stopped"
    assert _shown(ops, "status")[9:] == [
        # CodeDeploy's rollback deployment says so (review U5)
        f"deployment {d4} (rollback of {d3}): Succeeded (succeeded)",
        "  production back on sample3-dev-task:3",
        *(f"  {name:<21}  Skipped" for name in LIFECYCLE[:6]),
        "  AllowTraffic           Succeeded",
        "  AfterAllowTraffic      Skipped",
        "listeners",
        "  production  :80    blue (sample3-dev-blue) 100%, green (sample3-dev-green) 0%",
        "  test        :8080  blue (sample3-dev-blue) 100%, green (sample3-dev-green) 0%",
        f"target groups ({ROLES})",
        "  blue   sample3-dev-blue   healthy 1",
        "  green  sample3-dev-green  no targets",
        "task sets",
        f"  blue (sample3-dev-blue)    PRIMARY   sample3-dev-task:3  1/1 running  {images1}",
        f"  green (sample3-dev-green)  DRAINING  sample3-dev-task:4  0/0 running  {images1}",
    ]  # CodeDeploy removes the replacement task set


# ---- logs of the running app, Ctrl-C, and a missing pipeline stack ---------------------------


def _serving_task(ops: Emulated) -> Any:
    """The task serving production (the emulated ECS's record of it)."""
    ecs = ops.aws.service("ecs")
    running = [t for t in ecs.tasks(CLUSTER, SERVICE) if t.status == "RUNNING"]
    assert len(running) == 1
    return running[0]


def _interrupt_at(
    ops: Emulated,
    monkeypatch: pytest.MonkeyPatch,
    wait: int,
    before: Callable[[], None] | None = None,
) -> None:
    """The command's ``wait``-th wait (1: the first) is cut by Ctrl-C; the waits before it
    pass simulated time and run ``before`` (something happening meanwhile)."""
    from bluegreen.cli import common

    calls = {"n": 0}

    def sleep(seconds: float) -> None:
        calls["n"] += 1
        if calls["n"] >= wait:
            raise KeyboardInterrupt
        ops.sleep(seconds)
        if before is not None:
            before()

    monkeypatch.setattr(common, "sleep", sleep)


def test_logs_ctrl_c_and_a_missing_pipeline_stack(
    ops: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bluegreen.cli import common

    assert ops.cli("deploy", "--yes").code == 0
    d1 = latest(ops)["deploymentId"]
    assert ops.cli("finish").code == 0
    wait_for_status(ops, d1, "Succeeded")
    ops.sleep(600)
    task = _serving_task(ops)
    images = deployed_images(ops, d1)
    stream = f"webapp/webapp-firelens-{task.task_id}"
    ecs = ops.aws.service("ecs")
    # A visitor's request and one of the load balancer's health checks: the scaffold's
    # extra.conf drops a 200 answer to GET /health (uvicorn's access-log line), FireLens
    # routes the rest to the app's log group.
    assert ecs.serve_request(task, "/", client="203.0.113.7", port=40000)
    assert not ecs.serve_request(task, "/health", client="10.0.1.20", port=40001)

    result = ops.cli("logs", "--since", "1h", "-o", "json")
    assert result.code == 0
    mine = [e for e in json.loads(result.out) if e["stream"] == stream]
    records = [json.loads(e["message"]) for e in mine]
    # uvicorn's four start-up lines share one millisecond; the command orders lines of one
    # millisecond by eventId, which the emulated Logs numbers without a fixed width, so
    # their order is not asserted (see the report on eventId ordering).
    assert sorted(r["log"] for r in records[:4]) == sorted(
        [
            "INFO:     Started server process [1]",
            "INFO:     Waiting for application startup.",
            "INFO:     Application startup complete.",
            "INFO:     Uvicorn running on http://0.0.0.0:80 (Press CTRL+C to quit)",
        ]
    )
    assert [r["log"] for r in records[4:]] == [
        'INFO:     203.0.113.7:40000 - "GET / HTTP/1.1" 200 OK'
    ]  # the health checks the load balancer made all along were dropped too
    assert records[-1] | {"ecs_task_arn": ""} == {
        "container_id": task.runtime_id("webapp"),
        "container_name": "webapp",
        "source": "stdout",
        "log": 'INFO:     203.0.113.7:40000 - "GET / HTTP/1.1" 200 OK',
        "ecs_cluster": CLUSTER,
        "ecs_task_arn": "",
        "ecs_task_definition": "sample3-dev-task:2",
        "project": "sample3",
        "environment": "dev",
        "container": "webapp",
    }
    text = ops.cli("logs", "--since", "1h").out.splitlines()
    assert text[-1] == f"{mine[-1]['timestamp'][:19]}.000Z {stream} {mine[-1]['message']}"

    # The log router's own lines (Fluent Bit's start-up), in its own log group.
    result = ops.cli("logs", "--since", "1h", "--container", "router")
    router = [line.split(" ") for line in result.out.splitlines() if task.task_id in line]
    assert {words[1] for words in router} == {f"log-router/log-router/{task.task_id}"}
    assert sorted(" ".join(words[4:]) for words in router) == [
        "[ info] [engine] started (pid=1)",
        "[ info] [input:forward:forward.0] listening on unix:///var/run/fluent.sock",
        "[ info] [input:forward:forward.1] listening on 127.0.0.1:24224",
        "[ info] [sp] stream processor started",
    ]  # one millisecond: order not asserted (above)

    # --follow polls every 2 s through the sleep seam: a request served between two polls
    # shows up once (FilterLogEvents returns the events at the last timestamp again, the
    # command drops those it printed); the third wait is cut by Ctrl-C.
    def visit() -> None:
        ecs.serve_request(task, "/hello", client="203.0.113.8", port=40002)

    _interrupt_at(ops, monkeypatch, wait=3, before=visit)
    result = ops.cli("logs", "--follow", "--since", "1s")
    assert result.code == 130
    followed = [json.loads(line.split(" ", 2)[2])["log"] for line in result.out.splitlines()]
    assert followed == [
        'INFO:     203.0.113.7:40000 - "GET / HTTP/1.1" 200 OK',  # within the last second
        'INFO:     203.0.113.8:40002 - "GET /hello HTTP/1.1" 200 OK',
        'INFO:     203.0.113.8:40002 - "GET /hello HTTP/1.1" 200 OK',  # the second visit
    ]
    assert result.err == "interrupted: nothing left running (logs --follow only reads)\n"

    # Nothing in the window yet: said once on stderr, then the events as they come.
    _interrupt_at(ops, monkeypatch, wait=2, before=visit)
    ops.sleep(60)
    result = ops.cli("logs", "--follow", "--since", "30s", "-o", "json")
    assert result.code == 130
    (event, failure) = (json.loads(line) for line in result.out.splitlines())
    assert event["stream"] == stream and "GET /hello" in event["message"]
    # JSON Lines end with the failure document (bluegreen.cli.common).
    assert (failure["ok"], failure["kind"], failure["exit_code"]) == (False, "interrupted", 130)
    (waiting, interrupted) = result.err.splitlines()
    assert waiting.startswith("no events in /bluegreen/sample3-dev/webapp since ")
    assert waiting.endswith(" UTC yet; waiting for new ones")
    assert interrupted == "interrupted: nothing left running (logs --follow only reads)"

    # Ctrl-C while `release` follows: the execution keeps running on AWS, said with the
    # command that resumes following it.
    _interrupt_at(ops, monkeypatch, wait=2)
    result = ops.cli("release")
    run = execution(ops)["pipelineExecutionId"]
    keeps_running = f"execution {run} of sample3-dev-pipeline keeps running on AWS: {link(run)}"
    assert (result.code, result.out) == (130, "")
    assert result.err.splitlines()[0] == f"started sample3-dev-pipeline execution {run}"
    assert result.err.splitlines()[-1] == (
        f"interrupted: {keeps_running}; resume with: bluegreen status --watch"
    )
    assert execution(ops)["status"] == "InProgress"

    # The same in JSON: one failure document carrying what was started.
    _interrupt_at(ops, monkeypatch, wait=1)
    result = ops.cli("release", "-o", "json")
    run = execution(ops)["pipelineExecutionId"]
    keeps_running = f"execution {run} of sample3-dev-pipeline keeps running on AWS: {link(run)}"
    assert result.code == 130
    assert json.loads(result.out) == {
        "ok": False,
        "kind": "interrupted",
        "error": f"interrupted: {keeps_running}",
        "hint": "resume with: bluegreen status --watch",
        "exit_code": 130,
        "code": None,
        "action": None,
        "problems": [],
        "left": keeps_running,
        "resume": "bluegreen status --watch",
        "region": REGION,
        "result": {
            "pipeline": "sample3-dev-pipeline",
            "execution_id": run,
            "status": "InProgress",
            "console": link(run),
            "waiting_deployment": None,
            "failed_action": None,
            "error": None,
            "deployment_phase": None,
            "promoted": False,
        },
    }

    # A prompt cut short: click's confirm raises Abort on Ctrl-C and on end of input
    # (`except (KeyboardInterrupt, EOFError): raise Abort() from None`, click termui).
    def prompt_cut(by: type[BaseException]) -> Callable[[float], None]:
        def sleep(seconds: float) -> None:
            try:
                raise by
            except by:
                raise typer.Abort() from None

        return sleep

    monkeypatch.setattr(common, "sleep", prompt_cut(KeyboardInterrupt))
    result = ops.cli("release")
    run = execution(ops)["pipelineExecutionId"]
    keeps_running = f"execution {run} of sample3-dev-pipeline keeps running on AWS: {link(run)}"
    assert result.code == 130
    assert result.err.splitlines()[-1] == (
        f"interrupted: {keeps_running}; resume with: bluegreen status --watch"
    )
    monkeypatch.setattr(common, "sleep", prompt_cut(EOFError))
    result = ops.cli("release")
    run = execution(ops)["pipelineExecutionId"]
    keeps_running = f"execution {run} of sample3-dev-pipeline keeps running on AWS: {link(run)}"
    assert result.code == 1
    assert result.err.splitlines()[-3:] == [
        "error: aborted: the prompt got no answer (end of input)",
        "  hint: answer on a terminal, or pass --yes where the command offers it",
        f"  left: {keeps_running}; resume with: bluegreen status --watch",
    ]

    # status --watch only reads: Ctrl-C leaves nothing behind.
    _interrupt_at(ops, monkeypatch, wait=1)
    result = ops.cli("status", "--watch")
    assert result.code == 130
    assert result.out.splitlines()[0].startswith("pipeline sample3-dev-pipeline: InProgress")
    assert result.err == "interrupted: nothing left running (status --watch only reads)\n"

    # Throttled beyond botocore's retries while following (ThrottlingException, CodePipeline
    # API reference, "Common errors"; the emulated AWS never throttles, so it is given):
    # the error, and the execution left running.
    monkeypatch.setattr(common, "sleep", ops.sleep)
    throttled = ("ThrottlingException", "Rate exceeded")
    with answered(ops, "codepipeline", "GetPipelineExecution", error=throttled):
        result = ops.cli("release")
    run = execution(ops)["pipelineExecutionId"]
    keeps_running = f"execution {run} of sample3-dev-pipeline keeps running on AWS: {link(run)}"
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines() == [
        f"started sample3-dev-pipeline execution {run}",
        "error: AWS throttled codepipeline:GetPipelineExecution even after retries "
        "(ThrottlingException)",
        "  hint: wait a minute and run the command again; other tools may be calling the same API",
        f"  left: {keeps_running}; resume with: bluegreen status --watch",
    ]
    # status --watch -o json: a JSON document per snapshot, then the failure document.
    with answered(ops, "cloudformation", "DescribeStacks", error=throttled, after=2):
        result = ops.cli("status", "--watch", "-o", "json")
    assert result.code == 1
    first, last = (json.loads(line) for line in result.out.splitlines())
    assert first["pipeline"]["execution_id"] == run
    assert (last["ok"], last["code"], last["action"]) == (
        False,
        "ThrottlingException",
        "cloudformation:DescribeStacks",
    )

    # The newest execution (each run supersedes the one before, the pipeline's SUPERSEDED
    # mode) deploys; rollback while green waits for reroute keeps production on blue.
    d2 = wait_for_deployment(ops, after=1)
    wait_for_status(ops, d2, "Ready")
    result = ops.cli("rollback")
    d3 = latest(ops)["deploymentId"]
    assert (result.code, result.out.splitlines()) == (
        0,
        [
            f"stopped deployment {d2} (waiting-for-reroute) with rollback: production stays on "
            f"the original task set and CodeDeploy removes the replacement (Deployment {d2} "
            f"stopped; rollback deployment {d3} restores the original task set)"
        ],
    )
    wait_for_status(ops, d3, "Succeeded")
    ops.until(lambda: execution(ops)["status"] != "InProgress")

    # Without the pipeline stack (deleted by hand: its bucket emptied first, as S3 deletes
    # only empty buckets) there is no CodeDeploy deployment group to read or act on.
    empty_artifact_bucket(ops)
    ops.aws.client("cloudformation").delete_stack(StackName="sample3-dev-pipeline")
    ops.until(stack_gone(ops, "sample3-dev-pipeline"))
    absent = (
        "no deployment group yet: sample3-dev-app/sample3-dev-deployment-group (the pipeline "
        "stack sample3-dev-pipeline is not deployed in ap-northeast-1)"
    )
    assert _shown(ops, "status") == [
        "pipeline: not deployed",
        f"deployment: {absent}; run `bluegreen deploy`",
        "listeners",
        "  production  :80    blue (sample3-dev-green) 100%, green (sample3-dev-blue) 0%",
        "  test        :8080  green (sample3-dev-blue) 0%, blue (sample3-dev-green) 100%",
        f"target groups ({ROLES})",
        "  green  sample3-dev-blue   no targets",
        "  blue   sample3-dev-green  healthy 1",
        "task sets",
        f"  blue (sample3-dev-green)  PRIMARY  sample3-dev-task:2  1/1 running  {images}",
    ]
    for command, verb in (("promote", "promote"), ("finish", "finish"), ("rollback", "roll back")):
        assert _refused(ops, command)[:2] == [
            f"error: cannot {verb}: {absent}",
            "  hint: run `bluegreen deploy`: the pipeline stack holds the CodeDeploy application "
            "and deployment group",
        ], command


# ---- canary traffic with automatic reroute -------------------------------------------------


def test_a_canary_shifts_by_itself_and_rollbacks_never_promote(ops: Emulated) -> None:
    # reroute = "auto": the deployment group's DeploymentReadyOption is CONTINUE_DEPLOYMENT,
    # CodeDeploy reroutes as soon as green is ready; CodeDeployDefault.ECSCanary10Percent5
    # Minutes moves 10% of production, then the rest five minutes later (CodeDeploy user
    # guide, "Deployment configurations on an Amazon ECS compute platform").
    ops.configure(
        "deployment",
        config="CodeDeployDefault.ECSCanary10Percent5Minutes",
        reroute="auto",
        wait_minutes=None,
        termination_wait_minutes=5,
    )

    # CodePipeline starts a run when it creates the pipeline (user guide, "Start a pipeline
    # in CodePipeline"); ListPipelineExecutions may list it only a moment later, which
    # the emulated CodePipeline never does: its first two answers are given empty.
    def none_yet(answer: dict[str, Any]) -> None:
        answer["pipelineExecutionSummaries"].clear()

    with answered(ops, "codepipeline", "ListPipelineExecutions", edit=none_yet, calls=2):
        deployed = ops.cli("deploy", "--yes")
    assert deployed.code == 0
    d1 = latest(ops)["deploymentId"]
    first_run = execution(ops)["pipelineExecutionId"]
    progress = deployed.err.splitlines()
    waiting = progress.index(
        "waiting for the pipeline's first run (sample3-dev-pipeline, started when the pipeline "
        "was created) to be listed; checking every 10 s ..."
    )
    assert progress[waiting + 1] == (
        f"following the first release: sample3-dev-pipeline execution {first_run}"
    )
    # Not promoted: the group reroutes by itself; deploy follows until production moved.
    assert deployed.out.splitlines()[-1] == f"first release {first_run[:8]}: termination-wait"
    assert not any("promot" in line for line in deployed.err.splitlines())
    assert ops.cli("finish").code == 0
    wait_for_status(ops, d1, "Succeeded")

    ops.adopt_first_commit()
    main = (ops.root / "webapp/app/main.py").read_text(encoding="utf-8")
    ops.push("Say hi", {"webapp/app/main.py": main.replace("Hello", "Hi")})
    d2 = wait_for_deployment(ops, after=1)
    # Green tested, not rerouted yet: the group continues by itself, nothing to promote.
    wait_until_green_is_tested(ops, d2)
    assert _refused(ops, "promote") == [
        f"error: cannot promote: deployment {d2} reroutes production by itself (the "
        "deployment group continues without waiting)",
        "  hint: follow it with `bluegreen status --watch`",
    ]
    wait_for_event(ops, d2, "AllowTraffic", "InProgress")
    images1, images2 = deployed_images(ops, d1), deployed_images(ops, d2)
    # The canary: 10% of production on green, blue (the group serving before, here
    # sample3-dev-green) keeps 90%; the test listener already on green.
    assert _shown(ops, "status") == [
        *_pipeline_head(ops, "Say hi"),
        *PIPELINE_DONE_UNTIL_DEPLOY,
        "  Deploy         InProgress",
        f"    Deploy       InProgress  {d2}",
        f"deployment {d2}: InProgress (shifting)",
        *SUCCEEDED_EVENTS[:6],
        "  AllowTraffic           InProgress",
        "  AfterAllowTraffic      Pending",
        "  traffic: blue 90%, green 10%",
        "listeners",
        "  production  :80    green (sample3-dev-blue) 10%, blue (sample3-dev-green) 90%",
        "  test        :8080  green (sample3-dev-blue) 100%, blue (sample3-dev-green) 0%",
        f"target groups ({ROLES})",
        "  green  sample3-dev-blue   healthy 1",
        "  blue   sample3-dev-green  healthy 1",
        "task sets",
        f"  blue (sample3-dev-green)  PRIMARY  sample3-dev-task:2  1/1 running  {images1}",
        f"  green (sample3-dev-blue)  ACTIVE   sample3-dev-task:3  1/1 running  {images2}",
    ]
    assert _refused(ops, "promote") == [
        f"error: cannot promote: deployment {d2} is InProgress (shifting, AllowTraffic in "
        "progress), not waiting for reroute",
        "  hint: traffic is shifting; `bluegreen rollback` stops and reverts it",
    ]
    # Rollback while shifting: StopDeployment with rollback moves production back
    # ("CodeDeploy implements rollbacks by rerouting traffic from the replacement task set
    # to the original task set", user guide, "Deployments on an Amazon ECS compute
    # platform").
    result = ops.cli("rollback")
    d3 = latest(ops)["deploymentId"]
    assert (result.code, result.out.splitlines()) == (
        0,
        [
            f"stopped deployment {d2} (shifting) with rollback: production returns to the "
            f"original task set and CodeDeploy removes the replacement (Deployment {d2} "
            f"stopped; rollback deployment {d3} restores the original task set)"
        ],
    )
    wait_for_status(ops, d3, "Succeeded")
    ops.sleep(300)  # the replacement's targets drain, its task set goes
    assert _shown(ops, "status")[-8:] == [
        "listeners",
        "  production  :80    green (sample3-dev-blue) 0%, blue (sample3-dev-green) 100%",
        "  test        :8080  green (sample3-dev-blue) 0%, blue (sample3-dev-green) 100%",
        f"target groups ({ROLES})",
        "  green  sample3-dev-blue   no targets",
        "  blue   sample3-dev-green  healthy 1",
        "task sets",
        f"  blue (sample3-dev-green)  PRIMARY  sample3-dev-task:2  1/1 running  {images1}",
    ]

    # release follows an automatic reroute to its end: nothing to promote.
    result = ops.cli("release")
    run = execution(ops)["pipelineExecutionId"]
    d4 = latest(ops)["deploymentId"]
    assert (result.code, result.out.splitlines()) == (
        0,
        [f"execution {run}: Succeeded", f"console   {link(run)}"],
    )
    assert result.err.splitlines()[-2:] == [
        f"Deploy/Deploy: InProgress ({d4})",
        "Deploy/Deploy: Succeeded",
    ]
    assert deployment(ops, d4)["status"] == "Succeeded"

    # Rollback after success: a new deployment of the previous release's revision,
    # followed; CodeDeploy reroutes it by itself, so it is never promoted.
    result = ops.cli("rollback")
    d5 = latest(ops)["deploymentId"]
    assert result.code == 0
    # The release production served before d4: d3's, CodeDeploy's own rollback deployment
    # (RollbackInfo), which restored sample3-dev-task:2.
    assert result.err.splitlines() == [
        f"deployment {d4} had succeeded: started deployment {d5}, which redeploys "
        f"sample3-dev-task:2 (the release of deployment {d3}) through CodeDeploy",
        f"rollback deployment {d5}: Created (queued)",
        f"rollback deployment {d5}: InProgress (installing, Install in progress)",
        f"rollback deployment {d5}: InProgress (waiting-for-reroute)",
        f"rollback deployment {d5}: InProgress (shifting, AllowTraffic in progress)",
        f"rollback deployment {d5}: InProgress (termination-wait)",
    ]  # the lifecycle events read "waiting" a moment; nothing is promoted
    assert result.out.splitlines() == [
        f"production (:80) serves sample3-dev-task:2 again (deployment {d5}); the replaced "
        "tasks are kept for the termination wait: `bluegreen finish` removes them now"
    ]
    assert deployment(ops, d5)["description"] == (
        f"bluegreen rollback of {d4}: redeploys the revision of {d3}"
    )
    assert ops.cli("finish").code == 0
    wait_for_status(ops, d5, "Succeeded")
    # d5 copies d3, which restored the first release: nothing earlier to return to.
    assert _refused(ops, "rollback") == [
        f"error: cannot roll back: deployment {d5} redeploys the first release (deployment "
        f"{d3}); there is no earlier release to return to (before the first release the "
        "service ran the bootstrap placeholder)",
        "  hint: revert the commit and push: the pipeline releases the reverted code (or start "
        "it with `bluegreen release`)",
    ]
    assert len(deployments(ops)) == 5  # nothing was started

    # A release after it, then rollback --no-follow: the message says CodeDeploy moves
    # production by itself (reroute = "auto": nobody has to promote).
    ops.push("Say hey", {"webapp/app/main.py": main.replace("Hello", "Hey")})
    d6 = wait_for_deployment(ops, after=5)
    wait_for_status(ops, d6, "Succeeded")
    result = ops.cli("rollback", "--no-follow", "-o", "json")
    d7 = latest(ops)["deploymentId"]
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "ok": True,
        "action": "rollback",
        "deployment_id": d6,
        "message": f"deployment {d6} had succeeded: started deployment {d7}, which redeploys "
        f"{task_definition(ops, d5)} (the release of deployment {d5}) through CodeDeploy; "
        "CodeDeploy moves production once its tasks are healthy; follow with "
        "`bluegreen status --watch`",
        "started_deployment": d7,
        "revision": ops.aws.client("ecs").describe_task_definition(
            taskDefinition=task_definition(ops, d5)
        )["taskDefinition"]["taskDefinitionArn"],
        "phase": "queued",
        "promoted": False,
    }
    assert task_definition(ops, d7) == task_definition(ops, d5)


# ---- failures: a build, a lifecycle hook, a reroute nobody made ------------------------------

BUILD_FAILED = "docker build exited with status 1 (fault injected)"
# The command of the scaffold's app buildspec that runs docker build: the fault makes its
# docker build exit 1, and CodeBuild's message names the whole command.
DOCKER_BUILD = next(
    command
    for command in yaml.safe_load(render(Config())["webapp/buildspec.yml"])["phases"]["build"][
        "commands"
    ]
    if "docker build" in command
)
HOOK_FAILED = "the validation of the test listener reported Failed (fault injected)"


def test_failures_name_the_failing_action_and_leave_nothing_to_roll_back(ops: Emulated) -> None:
    # auto_rollback = false: a failed or stopped deployment stays as it is (the group's
    # autoRollbackConfiguration off; CodeDeploy user guide, "Redeploy and roll back a
    # deployment"), so its final status is what the operations read next.
    ops.configure("deployment", auto_rollback=False)
    # The emulated CodeBuild fails the project's next build with this message (as a
    # failing command in the buildspec does).
    ops.aws.service("codebuild").faults["sample3-dev-webapp-build"] = BUILD_FAILED
    deployed = ops.cli("deploy", "--yes", "-o", "json")
    assert deployed.code == 1
    document = json.loads(deployed.out)  # the stacks are deployed, the run still failed
    assert (document["ok"], document["kind"], document["exit_code"]) == (False, "operation", 1)
    assert document["first_release"]["status"] == "Failed"
    assert document["error"].startswith("the first release failed at Build/BuildApp")
    run1 = execution(ops)["pipelineExecutionId"]
    build_error = (
        "Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR, "
        f"Message: Error while executing command: {DOCKER_BUILD}. Reason: exit status 1 "
        f"({BUILD_FAILED})"
    )
    assert f"error: the first release failed at Build/BuildApp: {build_error}" in deployed.err
    build_id = ops.aws.client("codebuild").list_builds_for_project(
        projectName="sample3-dev-webapp-build"
    )["ids"][0]
    lines = _shown(ops, "status")
    assert lines[:7] == [
        f"pipeline sample3-dev-pipeline: Failed (execution {run1}, "
        f"{stamp(execution(ops)['startTime'])})",
        f"  revision {execution(ops)['sourceRevisions'][0]['revisionId'][:8]} Initial commit "
        "by bluegreen deploy",
        "  Source         Succeeded",
        "    Source       Succeeded",
        "  Build          Failed",
        f"    BuildApp     Failed      {build_id} error: {build_error}",
        "    BuildRouter  NotStarted",  # a later runOrder, never started
    ]
    assert lines[7:] == [
        "  Deploy         NotStarted",
        "    Deploy       NotStarted",
        "deployment: none yet",
        "listeners",
        "  production  :80    blue (sample3-dev-blue) 100%, green (sample3-dev-green) 0%",
        "  test        :8080  blue (sample3-dev-blue) 100%, green (sample3-dev-green) 0%",
        f"target groups ({ROLES})",
        "  blue   sample3-dev-blue   healthy 1",
        "  green  sample3-dev-green  no targets",
        "task sets",
        "  blue (sample3-dev-blue)  PRIMARY  sample3-dev-task:1  1/1 running  "
        "webapp:3.12.11-slim-bookworm log-router:3.2.1",
    ]  # the bootstrap placeholder serves production
    for command, verb in (("promote", "promote"), ("finish", "finish"), ("rollback", "roll back")):
        assert _refused(ops, command)[:2] == [
            f"error: cannot {verb}: the deployment group sample3-dev-deployment-group has no "
            "deployments yet",
            "  hint: start one with `bluegreen release`",
        ], command

    # A failing build again, through `release`: exit 1 naming the failing action.
    ops.aws.service("codebuild").faults["sample3-dev-webapp-build"] = BUILD_FAILED
    result = ops.cli("release")
    run2 = execution(ops)["pipelineExecutionId"]
    assert result.code == 1
    assert result.out.splitlines() == [f"execution {run2}: Failed", f"console   {link(run2)}"]
    assert result.err.splitlines()[-2:] == [
        f"error: the pipeline execution failed at Build/BuildApp: {build_error}",
        f"  hint: details: {link(run2)}",
    ]  # the execution ended: nothing is said to keep running
    ops.aws.service("codebuild").faults["sample3-dev-webapp-build"] = BUILD_FAILED
    result = ops.cli("release", "-o", "json")
    run3 = execution(ops)["pipelineExecutionId"]
    assert result.code == 1
    assert json.loads(result.out) == {  # exactly one document
        "ok": False,
        "kind": "operation",
        "error": f"the pipeline execution failed at Build/BuildApp: {build_error}",
        "hint": f"details: {link(run3)}",
        "exit_code": 1,
        "code": None,
        "action": None,
        "problems": [],
        "left": None,
        "resume": None,
        "region": REGION,
        "result": {
            "pipeline": "sample3-dev-pipeline",
            "execution_id": run3,
            "status": "Failed",
            "console": link(run3),
            "waiting_deployment": None,
            "failed_action": "Build/BuildApp",
            "error": build_error,
            "deployment_phase": None,
            "promoted": False,
        },
    }
    assert deployments(ops) == []

    # The first release that builds: it waits for reroute like any other (bluegreen
    # promotes on its own only the run deploy follows).
    result = ops.cli("release", "-o", "json")
    d1 = latest(ops)["deploymentId"]
    assert result.code == 0
    assert json.loads(result.out)["waiting_deployment"] == d1
    assert ops.cli("promote").code == 0
    wait_for_termination_wait(ops, d1)
    assert ops.cli("finish").code == 0
    wait_for_status(ops, d1, "Succeeded")

    # A lifecycle hook reports Failed (the emulated CodeDeploy fails the next deployment
    # at that event, as a failing AfterAllowTestTraffic hook does, user guide "AppSpec
    # 'hooks' section"): the Deploy action fails with CodeDeploy's message.
    ops.aws.service("codedeploy").faults["AfterAllowTestTraffic"] = HOOK_FAILED
    result = ops.cli("release")
    run4 = execution(ops)["pipelineExecutionId"]
    d2 = latest(ops)["deploymentId"]
    assert result.code == 1
    assert result.err.splitlines()[-2:] == [
        f"error: the pipeline execution failed at Deploy/Deploy: {HOOK_FAILED}",
        f"  hint: details: {link(run4)}",
    ]
    images = deployed_images(ops, d1)
    hook_error = f"HOOK_EXECUTION_FAILURE: {HOOK_FAILED}"
    assert _shown(ops, "status")[7:] == [
        "  Deploy         Failed",
        f"    Deploy       Failed     {d2} error: {HOOK_FAILED}",
        f"deployment {d2}: Failed (failed)",
        f"  error: {hook_error}",
        *SUCCEEDED_EVENTS[:4],
        "  AfterAllowTestTraffic  Failed",
        "  BeforeAllowTraffic     Skipped",
        "  AllowTraffic           Skipped",
        "  AfterAllowTraffic      Skipped",
        "listeners",
        "  production  :80    blue (sample3-dev-green) 100%, green (sample3-dev-blue) 0%",
        "  test        :8080  green (sample3-dev-blue) 100%, blue (sample3-dev-green) 0%",
        f"target groups ({ROLES})",
        "  green  sample3-dev-blue   healthy 1",
        "  blue   sample3-dev-green  healthy 1",
        "task sets",
        f"  blue (sample3-dev-green)  PRIMARY  sample3-dev-task:2  1/1 running  {images}",
        f"  green (sample3-dev-blue)  ACTIVE   sample3-dev-task:3  1/1 running  {images}",
    ]  # production never moved; without auto-rollback the replacement stays as it was
    assert _refused(ops, "rollback") == [
        f"error: cannot roll back: deployment {d2} is already Failed ({hook_error}): " + OVER,
        HINT_OVER,
    ]

    # Nobody promotes: after deployment.wait_minutes (10) CodeDeploy stops the deployment
    # (DeploymentReadyOption STOP_DEPLOYMENT with waitTimeInMinutes, API reference).
    result = ops.cli("release")
    d3 = latest(ops)["deploymentId"]
    assert result.code == 0 and f"deployment {d3} waits for reroute" in result.out
    ops.sleep(10 * 60)
    wait_for_status(ops, d3, "Stopped")
    ops.until(lambda: execution(ops)["status"] != "InProgress")
    timeout = (
        "TIMEOUT: Traffic was not rerouted to the replacement task set before the end of the "
        "wait period (10 minutes)."
    )
    assert _shown(ops, "status")[7:19] == [
        "  Deploy         Failed",
        f"    Deploy       Failed     {d3} error: {timeout.removeprefix('TIMEOUT: ')}",
        f"deployment {d3}: Stopped (stopped)",
        f"  error: {timeout}",
        *SUCCEEDED_EVENTS[:5],
        "  BeforeAllowTraffic     Skipped",
        "  AllowTraffic           Skipped",
        "  AfterAllowTraffic      Skipped",
    ]
    assert _refused(ops, "rollback") == [
        f"error: cannot roll back: deployment {d3} is already Stopped ({timeout}): " + OVER,
        HINT_OVER,
    ]

    # A release that succeeds; its previous release (d1's) cannot run any more once its
    # task definition revision is deregistered (INACTIVE: "cannot be used to run new
    # tasks", ECS developer guide, "Deregistering an Amazon ECS task definition revision")
    # or deleted (DeleteTaskDefinitions; DescribeTaskDefinition then answers
    # ClientException), so rollback refuses before creating anything.
    assert ops.cli("release").code == 0
    d4 = latest(ops)["deploymentId"]
    assert ops.cli("promote").code == 0
    wait_for_termination_wait(ops, d4)
    assert ops.cli("finish").code == 0
    wait_for_status(ops, d4, "Succeeded")
    previous = task_definition(ops, d1)
    ecs = ops.aws.client("ecs")
    ecs.deregister_task_definition(taskDefinition=previous)
    assert _refused(ops, "rollback") == [
        f"error: cannot roll back: the task definition of the previous release ({previous}, "
        f"deployment {d1}) is INACTIVE, so ECS cannot start tasks from it",
        "  hint: revert the commit and push: the pipeline builds and releases it again",
    ]

    # DeleteTaskDefinitions moves a revision to DELETE_IN_PROGRESS until nothing uses it
    # (ECS API reference, DeleteTaskDefinitions); the emulated ECS (moto) deletes it at
    # once, so that status is given here.
    def deleting(answer: dict[str, Any]) -> None:
        answer["taskDefinition"]["status"] = "DELETE_IN_PROGRESS"

    with answered(ops, "ecs", "DescribeTaskDefinition", edit=deleting):
        assert _refused(ops, "rollback")[0] == (
            f"error: cannot roll back: the task definition of the previous release "
            f"({previous}, deployment {d1}) is DELETE_IN_PROGRESS, so ECS cannot start tasks "
            "from it"
        )
    ecs.delete_task_definitions(taskDefinitions=[previous])
    assert _refused(ops, "rollback")[0] == (
        f"error: cannot roll back: the task definition of the previous release ({previous}, "
        f"deployment {d1}) is missing, so ECS cannot start tasks from it"
    )
    assert latest(ops)["deploymentId"] == d4  # nothing was created

    # auto_rollback = false, yet `bluegreen rollback` asks for the rollback itself:
    # StopDeployment with autoRollbackEnabled = true ("Indicates, when a deployment is
    # stopped, whether instances that have been updated should be rolled back to the
    # previous version", CodeDeploy API reference) whatever the group's configuration.
    result = ops.cli("release")
    d5 = latest(ops)["deploymentId"]
    assert result.code == 0 and f"deployment {d5} waits for reroute" in result.out
    assert ops.cli("rollback").code == 0
    d6 = latest(ops)["deploymentId"]
    assert d6 != d5
    assert deployment(ops, d6)["creator"] == "codeDeployRollback"
    wait_for_status(ops, d6, "Succeeded")
    assert deployment(ops, d5)["status"] == "Stopped"


# ---- rollback after success, release after release ---------------------------------------


def _release_by_push(ops: Emulated, message: str, old: str, new: str) -> str:
    """Push a change of the greeting, promote the deployment it starts, end its
    termination wait: a succeeded release. Its deployment id."""
    count = len(deployments(ops))
    main = (ops.root / "webapp/app/main.py").read_text(encoding="utf-8")
    assert old in main
    ops.push(message, {"webapp/app/main.py": main.replace(old, new)})
    return _promote_and_finish(ops, wait_for_deployment(ops, after=count))


def _promote_and_finish(ops: Emulated, deployment_id: str) -> str:
    wait_for_status(ops, deployment_id, "Ready")
    assert ops.cli("promote").code == 0
    wait_for_termination_wait(ops, deployment_id)
    assert ops.cli("finish").code == 0
    wait_for_status(ops, deployment_id, "Succeeded")
    return deployment_id


def test_rollbacks_walk_back_through_the_releases(ops: Emulated) -> None:
    # A manual rollback is "creating a new deployment that uses any previously deployed
    # application revision"; a rolled-back deployment gets "its own deployment ID"
    # (CodeDeploy user guide, "Redeploy and roll back a deployment with CodeDeploy").
    assert ops.cli("deploy", "--yes").code == 0
    r1 = latest(ops)["deploymentId"]
    assert ops.cli("finish").code == 0
    wait_for_status(ops, r1, "Succeeded")
    ops.adopt_first_commit()
    main = (ops.root / "webapp/app/main.py").read_text(encoding="utf-8")
    ops.push("Say hi", {"webapp/app/main.py": main.replace("Hello", "Hi")})
    r2 = wait_for_deployment(ops, after=1)
    # The test traffic hook is done, and CodeDeploy has not yet reported the deployment
    # Ready: only a Ready deployment can be continued (ContinueDeployment,
    # DeploymentIsNotInReadyStateException in the API reference), so promote refuses.
    wait_until_green_is_tested(ops, r2)
    assert deployment(ops, r2)["status"] == "InProgress"
    assert _shown(ops, "status")[9] == f"deployment {r2}: InProgress (waiting-for-reroute)"
    assert _refused(ops, "promote") == [
        f"error: cannot promote yet: deployment {r2} is InProgress (waiting-for-reroute); "
        "CodeDeploy does not report it Ready for reroute yet",
        "  hint: run `bluegreen promote` again in a few seconds",
    ]
    _promote_and_finish(ops, r2)
    r3 = _release_by_push(ops, "Say hey", "Hi", "Hey")
    # The same revision deployed again by hand (the console's "Redeploy",
    # CreateDeployment with r3's revision): not a release to return to.
    codedeploy = ops.aws.client("codedeploy")
    again = codedeploy.create_deployment(
        applicationName="sample3-dev-app",
        deploymentGroupName="sample3-dev-deployment-group",
        revision=revision(ops, r3),
    )["deploymentId"]
    _promote_and_finish(ops, again)
    # A fourth release, rolled back during its termination wait: CodeDeploy's rollback
    # deployment restores r3's revision and becomes the latest deployment.
    count = len(deployments(ops))
    main = (ops.root / "webapp/app/main.py").read_text(encoding="utf-8")
    ops.push("Say yo", {"webapp/app/main.py": main.replace("Hey", "Yo")})
    r4 = wait_for_deployment(ops, after=count)
    wait_for_status(ops, r4, "Ready")
    assert ops.cli("promote").code == 0
    wait_for_termination_wait(ops, r4)
    result = ops.cli("rollback")
    auto = latest(ops)["deploymentId"]
    assert result.out.splitlines() == [
        f"stopped deployment {r4} (termination-wait) with rollback: production returns to "
        f"the original task set and CodeDeploy removes the replacement (Deployment {r4} "
        f"stopped; rollback deployment {auto} restores the original task set)"
    ]
    wait_for_status(ops, auto, "Succeeded")
    assert deployment(ops, auto)["rollbackInfo"]["rollbackTriggeringDeploymentId"] == r4
    assert task_definition(ops, auto) == task_definition(ops, r3)

    # Another deployment started between rollback's reads and its CreateDeployment (a
    # pipeline run): CodeDeploy runs one deployment per group at a time and refuses with
    # DeploymentLimitExceededException (CreateDeployment's errors, API reference). A
    # race the emulated AWS cannot time, so the answer is given.
    limit = ("DeploymentLimitExceededException", "The number of allowed deployments was exceeded.")
    with answered(ops, "codedeploy", "CreateDeployment", error=limit):
        assert _refused(ops, "rollback") == [
            "error: cannot roll back: another deployment of sample3-dev-deployment-group "
            "started meanwhile (a pipeline run?), and CodeDeploy runs one at a time",
            "  hint: see `bluegreen status`; `bluegreen rollback` stops that one",
        ]

    # DeploymentInfo.revision is optional (botocore model): a previous release listed
    # without it cannot be redeployed, and nothing is created.
    def without_revision(answer: dict[str, Any]) -> None:
        for info in answer["deploymentsInfo"]:
            if info["deploymentId"] == r2:
                del info["revision"]

    with answered(ops, "codedeploy", "BatchGetDeployments", edit=without_revision, calls=None):
        assert _refused(ops, "rollback") == [
            f"error: cannot roll back: CodeDeploy lists no revision for deployment {r2}, the "
            "previous release, so there is nothing to redeploy",
            "  hint: revert the commit and push: the pipeline releases the reverted code",
        ]
    assert latest(ops)["deploymentId"] == auto  # nothing was created

    # Rolling back `auto`: it stands for the release before r4, so the release before
    # that is wanted: r3's revision, redeployed by `again`, is skipped; r2's it is.
    result = ops.cli("rollback", "--no-follow")
    b1 = latest(ops)["deploymentId"]
    assert (result.code, result.out.splitlines()) == (
        0,
        [
            f"deployment {auto} had succeeded: started deployment {b1}, which redeploys "
            f"{task_definition(ops, r2)} (the release of deployment {r2}) through CodeDeploy; "
            "when it waits for reroute (green on :8080), `bluegreen promote` moves production "
            "(:80) to it; follow with `bluegreen status --watch`"
        ],
    )
    assert deployment(ops, b1)["revision"] == deployment(ops, r2)["revision"]
    assert deployment(ops, b1)["status"] in ("Created", "InProgress")  # not followed
    _promote_and_finish(ops, b1)

    # A rollback deployment that fails (its test traffic hook reports Failed): the command
    # says so, production stays where b1 put it, and CodeDeploy rolls the failed one back
    # by itself (the group's auto-rollback on DEPLOYMENT_FAILURE).
    ops.aws.service("codedeploy").faults["AfterAllowTestTraffic"] = (
        "the validation of the test listener reported Failed (fault injected)"
    )
    result = ops.cli("rollback")
    failed = [d["deploymentId"] for d in deployments(ops) if d["status"] == "Failed"][-1]
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines()[-2:] == [
        f"error: the rollback deployment {failed} failed (HOOK_EXECUTION_FAILURE: the "
        "validation of the test listener reported Failed (fault injected)); production stays "
        f"where deployment {b1} put it",
        f"  hint: see https://{REGION}.console.aws.amazon.com/codesuite/codedeploy/deployments/"
        f"{failed}?region={REGION}",
    ]
    restored = latest(ops)["deploymentId"]
    wait_for_status(ops, restored, "Succeeded")
    assert deployment(ops, restored)["rollbackInfo"]["rollbackTriggeringDeploymentId"] == failed

    # Rolling back again (the restored b1, which copies r2) goes one release further back
    # (r1), not forward to r3;
    # followed, and promoted when it waits for reroute, as the user asked to roll back
    # (a "not Ready" answer to the first try only delays the promotion to the next poll).
    with answered(ops, "codedeploy", "ContinueDeployment", error=NOT_READY) as refused:
        result = ops.cli("rollback")
    assert refused == [1]
    b2 = latest(ops)["deploymentId"]
    first = task_definition(ops, r1)
    assert result.code == 0
    assert result.err.splitlines() == [
        f"deployment {restored} had succeeded: started deployment {b2}, which redeploys "
        f"{first} (the release of deployment {r1}) through CodeDeploy",
        f"rollback deployment {b2}: Created (queued)",
        f"rollback deployment {b2}: InProgress (installing, Install in progress)",
        f"rollback deployment {b2}: InProgress (waiting-for-reroute)",  # not Ready yet
        f"rollback deployment {b2}: Ready (waiting-for-reroute)",
        f"rollback deployment {b2} waits for reroute: promoting it, as you asked to roll back "
        f"(production :80 moves to {first})",
        f"rollback deployment {b2}: InProgress (termination-wait)",
    ]
    assert result.out.splitlines() == [
        f"production (:80) serves {first} again (deployment {b2}); the replaced tasks are kept "
        "for the termination wait: `bluegreen finish` removes them now"
    ]
    assert deployment(ops, b2)["description"] == (
        f"bluegreen rollback of {restored}: redeploys the revision of {r1}"
    )
    assert ops.cli("finish").code == 0
    wait_for_status(ops, b2, "Succeeded")
    assert _refused(ops, "rollback") == [
        f"error: cannot roll back: deployment {b2} redeploys the first release (deployment "
        f"{r1}); there is no earlier release to return to (before the first release the "
        "service ran the bootstrap placeholder)",
        "  hint: revert the commit and push: the pipeline releases the reverted code (or start "
        "it with `bluegreen release`)",
    ]
    assert latest(ops)["deploymentId"] == b2  # nothing was created
