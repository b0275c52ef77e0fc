"""What the end-to-end tests read from the emulated account (no tests here).

The commands run unchanged against the emulated AWS (tests/emulated.py); these helpers
look at the account the way a person would with the AWS CLI afterwards: what exists,
what a stack looks like, which pipeline actions failed, which requests were refused.
They also give the tests a clock seam (a ``sleep`` that presses Ctrl-C, or does what
someone else would do in the account, at a chosen moment).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from emulated import Emulated

from bluegreen.emulator import ACCOUNT_ID, Emulator

SOURCE, SERVICE, PIPELINE = "sample3-dev-source", "sample3-dev-service", "sample3-dev-pipeline"
REPO = "sample3-dev-webappservice"
CLUSTER = "sample3-dev-cluster"
ECS_SERVICE = "sample3-dev-service"
FAMILY = "sample3-dev-task"
SLR = "AWSServiceRoleForECS"
INSIGHTS = f"/aws/ecs/containerinsights/{CLUSTER}/performance"
WHERE = f" in ap-northeast-1 (account {ACCOUNT_ID})"
"""What deploy says with every change set and prompt (the config's region, STS's account)."""


@pytest.fixture(name="e2e")
def e2e_fixture(emulated: Emulated) -> Emulated:
    """tests/emulated.py's ``emulated`` (a fresh account and scaffold, the CLI wired to
    them) under a name of its own, so test modules can import the fixture ``emulated``
    without their parameters shadowing it."""
    return emulated


# ---- the config ----------------------------------------------------------------------------


def set_config(emulated: Emulated, **edits: Any) -> None:
    """Rewrite keys of the repository's bluegreen.toml (``task__desired_count=3``), as a
    user edits the file: the line ``<key> = <old>`` of that table becomes the new value."""
    path = emulated.root / "bluegreen.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    for dotted, value in edits.items():
        table, key = dotted.split("__")
        inside = False
        for i, line in enumerate(lines):
            if line.startswith("["):
                inside = line.strip() == f"[{table}]"
            elif inside and line.split("=")[0].strip() == key:
                lines[i] = f"{key} = {json.dumps(value, ensure_ascii=False)}"
                break
        else:
            raise AssertionError(f"no {key} in [{table}] of bluegreen.toml")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@contextmanager
def config_edited(emulated: Emulated, **edits: Any) -> Iterator[None]:
    """bluegreen.toml with ``edits`` for the block, then as it was."""
    path = emulated.root / "bluegreen.toml"
    before = path.read_text(encoding="utf-8")
    set_config(emulated, **edits)
    try:
        yield
    finally:
        path.write_text(before, encoding="utf-8")


# ---- what the account holds ------------------------------------------------------------------


def stack(aws: Emulator, name: str) -> dict[str, Any] | None:
    """DescribeStacks of ``name`` (None: no such stack)."""
    from botocore.exceptions import ClientError

    try:
        found: dict[str, Any] = aws.client("cloudformation").describe_stacks(StackName=name)[
            "Stacks"
        ][0]
    except ClientError:
        return None
    return found


def stack_statuses(aws: Emulator) -> dict[str, str]:
    """Every stack of the account that is not deleted, with its status."""
    summaries = aws.client("cloudformation").list_stacks()["StackSummaries"]
    return {
        s["StackName"]: s["StackStatus"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"
    }


def snapshot(aws: Emulator) -> dict[str, Any]:
    """What a refused command must leave as it was: every stack (status, last update,
    template, resources, change sets) and the ECS service CodeDeploy runs."""
    cfn = aws.client("cloudformation")
    state: dict[str, Any] = {}
    for name in stack_statuses(aws):
        described = cfn.describe_stacks(StackName=name)["Stacks"][0]
        state[name] = {
            "status": described["StackStatus"],
            "updated": described.get("LastUpdatedTime"),
            "template": cfn.get_template(StackName=name)["TemplateBody"],
            "resources": sorted(
                (r["LogicalResourceId"], r.get("PhysicalResourceId"), r["ResourceStatus"])
                for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
            ),
            "change_sets": cfn.list_change_sets(StackName=name)["Summaries"],
        }
    services = aws.client("ecs").describe_services(cluster=CLUSTER, services=[ECS_SERVICE])
    for service in services.get("services", []):
        state["ecs-service"] = {
            "desiredCount": service["desiredCount"],
            "taskDefinition": service.get("taskDefinition"),
            "status": service["status"],
        }
    return state


def change_sets(aws: Emulator) -> dict[str, list[str]]:
    """The change sets left on each stack."""
    cfn = aws.client("cloudformation")
    return {
        name: [c["ChangeSetName"] for c in cfn.list_change_sets(StackName=name)["Summaries"]]
        for name in stack_statuses(aws)
    }


def leftovers(aws: Emulator) -> dict[str, list[str]]:
    """Everything the account holds that someone made: what `destroy` must leave nothing
    of. (moto's default VPC and its default security groups are the account's own.)"""
    c = {name: aws.client(name) for name in _SERVICES}
    default_vpcs = {v["VpcId"] for v in c["ec2"].describe_vpcs()["Vpcs"] if v.get("IsDefault")}
    ecs = c["ecs"]
    found = {
        "stacks": sorted(stack_statuses(aws)),
        "codecommit": [
            r["repositoryName"] for r in c["codecommit"].list_repositories()["repositories"]
        ],
        "ecr": [r["repositoryName"] for r in c["ecr"].describe_repositories()["repositories"]],
        "s3": [b["Name"] for b in c["s3"].list_buckets()["Buckets"]],
        "ecs clusters": [
            cluster["clusterName"]
            for cluster in ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])[
                "clusters"
            ]
            if cluster["status"] == "ACTIVE"
        ],
        "task definitions": ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
        + ecs.list_task_definitions(status="INACTIVE")["taskDefinitionArns"],
        "load balancers": [
            lb["LoadBalancerName"] for lb in c["elbv2"].describe_load_balancers()["LoadBalancers"]
        ],
        "target groups": [
            tg["TargetGroupName"] for tg in c["elbv2"].describe_target_groups()["TargetGroups"]
        ],
        "vpcs": [v["VpcId"] for v in c["ec2"].describe_vpcs()["Vpcs"] if not v.get("IsDefault")],
        "security groups": [
            g["GroupName"]
            for g in c["ec2"].describe_security_groups()["SecurityGroups"]
            if g["VpcId"] not in default_vpcs and g["GroupName"] != "default"
        ],
        "log groups": [g["logGroupName"] for g in c["logs"].describe_log_groups()["logGroups"]],
        "roles": [r["RoleName"] for r in c["iam"].list_roles()["Roles"]],
        "pipelines": [p["name"] for p in c["codepipeline"].list_pipelines()["pipelines"]],
        "build projects": c["codebuild"].list_projects()["projects"],
        "codedeploy applications": c["codedeploy"].list_applications()["applications"],
        "event rules": [r["Name"] for r in c["events"].list_rules()["Rules"]],
    }
    return {kind: sorted(names) for kind, names in found.items() if names}


_SERVICES = (
    "codecommit",
    "ecr",
    "s3",
    "ecs",
    "elbv2",
    "ec2",
    "logs",
    "iam",
    "codepipeline",
    "codebuild",
    "codedeploy",
    "events",
)


def failed_actions(aws: Emulator) -> list[str]:
    """Every pipeline action that failed so far, with CodePipeline's error message (what
    the console and GetPipelineState show), over all executions of all pipelines."""
    codepipeline = aws.service("codepipeline")
    return [
        f"{pipeline.name} {run.stage}/{run.name}: {(run.error or {}).get('message', '')}"
        for pipeline in codepipeline.pipelines.values()
        for execution in pipeline.executions
        for run in execution.runs
        if run.status == "Failed"
    ]


# ---- the clock seam --------------------------------------------------------------------------


def sleep_doing(aws: Emulator, when: Callable[[], bool], act: Callable[[], None]) -> Any:
    """A ``sleep`` for the CLI's seam: simulated time passes, and once ``when()`` holds,
    ``act()`` runs first (once). ``act`` may raise KeyboardInterrupt: Ctrl-C pressed
    while the command waits."""
    done = False

    def sleep(seconds: float) -> None:
        nonlocal done
        if not done and when():
            done = True
            act()
        aws.sleep(seconds)

    return sleep


def ctrl_c() -> None:
    raise KeyboardInterrupt


def wait_until(
    emulated: Emulated, condition: Callable[[], bool], limit: float = 3600, step: float = 30
) -> bool:
    """Let simulated time pass (``step`` s at a time) until ``condition()`` holds."""
    waited = 0.0
    while not condition():
        if waited >= limit:
            return False
        emulated.sleep(step)
        waited += step
    return True


def deployment_phase(aws: Emulator, config: Any) -> str:
    """The phase `bluegreen status` shows for the newest deployment ("" when none)."""
    from bluegreen import engine as engine_mod

    view = engine_mod.select(aws.clients(), config).status()
    return "" if view is None else str(view.phase)


def rerun_promotes_the_first_release(emulated: Emulated, links: list[str]) -> str:
    """``deploy --yes`` run again while the first release is unfinished: no stack
    changes, and it follows that first release and promotes it (ops-live P1). Returns
    its progress (stderr)."""
    done = emulated.cli("deploy", "--yes")
    assert done.code == 0, done.err
    [first] = emulated.aws.client("codepipeline").list_pipeline_executions(pipelineName=PIPELINE)[
        "pipelineExecutionSummaries"
    ]
    assert done.out.splitlines() == [
        f"{SOURCE}: no changes",
        f"{SERVICE}: no changes",
        f"{PIPELINE}: no changes",
        *links,
        f"first release {first['pipelineExecutionId'][:8]}: promoted",
    ]
    return done.err
