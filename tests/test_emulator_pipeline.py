"""The emulated CodePipeline through the real API: bluegreen's pipeline, run on the clock.

Sources: CodePipeline user guide ("How pipeline executions work": stage locks and
superseded executions; "Start a pipeline": a new pipeline starts an execution; "Stop a
pipeline execution"; "Quotas in AWS CodePipeline": CodeDeployToECS artifacts of at most
3 MB; the pipeline structure reference and the action references of CodeCommit,
CodeBuild and CodeDeployToECS) and the API reference (GetPipelineState, ExecutionTrigger,
ListPipelineExecutions). B3 and M2 of reviews-2026-11/aws-fidelity.md name the AWS
behaviours a pipeline must show: two builds at one runOrder fail at quota 1, a Deploy
input over 3 MB fails the action.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_cicd import REGION, T0, System, build_system, commit_files, scaffold, settle

from bluegreen.emulator import USER_ARN, Emulator, timing
from bluegreen.emulator.artifacts import zip_files
from bluegreen.emulator.services.codepipeline import MAX_ECS_ARTIFACT_BYTES


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with Emulator(REGION, start=T0) as emulator:
        yield emulator


@pytest.fixture
def system(aws: Emulator) -> System:
    return build_system(aws)


def _executions(aws: Emulator, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = aws.clients().codepipeline.list_pipeline_executions(
        pipelineName=name
    )["pipelineExecutionSummaries"]
    return found


def _state(aws: Emulator, name: str) -> dict[str, dict[str, Any]]:
    """GetPipelineState, stage name -> stage state."""
    states = aws.clients().codepipeline.get_pipeline_state(name=name)["stageStates"]
    return {s["stageName"]: s for s in states}


def _action(state: dict[str, dict[str, Any]], stage: str, action: str) -> dict[str, Any]:
    for entry in state[stage]["actionStates"]:
        if entry["actionName"] == action:
            found: dict[str, Any] = entry.get("latestExecution", {})
            return found
    raise KeyError(action)


def _code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


# --------------------------------------------------------------------------- CreatePipeline


def test_creating_the_pipeline_starts_its_first_execution_which_releases_the_scaffold(
    aws: Emulator, system: System
) -> None:
    codepipeline = aws.clients().codepipeline
    name = system.names.pipeline
    created = codepipeline.create_pipeline(pipeline=system.declaration())["pipeline"]
    assert created["version"] == 1
    assert created["executionMode"] == "SUPERSEDED"
    (first,) = _executions(aws, name)
    assert first["trigger"] == {"triggerType": "CreatePipeline", "triggerDetail": USER_ARN}
    assert first["status"] == "InProgress"
    assert settle(aws, name, first["pipelineExecutionId"]) == "Succeeded"

    state = _state(aws, name)
    assert [s for s in state] == ["Source", "Build", "Deploy"]
    for stage in state.values():
        assert stage["latestExecution"] == {
            "pipelineExecutionId": first["pipelineExecutionId"],
            "status": "Succeeded",
            "type": "STANDARD",
        }
        assert stage["inboundTransitionState"] == {"enabled": True}
    source = _action(state, "Source", "Source")
    assert source["externalExecutionId"] == system.head
    assert source["summary"] == "Initial commit"
    app = _action(state, "Build", "BuildApp")
    assert app["externalExecutionId"].startswith(f"{system.names.app_build_project}:")
    deploy = _action(state, "Deploy", "Deploy")
    (deployment_id,) = system.codedeploy.deployments
    assert deploy["externalExecutionId"] == deployment_id
    assert all(
        _action(state, s, a)["status"] == "Succeeded"
        for s, a in (("Source", "Source"), ("Build", "BuildApp"), ("Build", "BuildRouter"))
    )

    summary = _executions(aws, name)[0]
    assert summary["sourceRevisions"] == [
        {
            "actionName": "Source",
            "revisionId": system.head,
            "revisionSummary": "Initial commit",
            "revisionUrl": summary["sourceRevisions"][0]["revisionUrl"],
        }
    ]

    # The Deploy action registered taskdef.json with both images and the stack's roles
    # filled in, acting as the pipeline role, and gave CodeDeploy the AppSpec with the
    # new task definition's ARN.
    deployment = system.codedeploy.deployments[deployment_id]
    assert deployment["principal"] == system.pipeline_role
    task = aws.clients().ecs.describe_task_definition(taskDefinition="sample3-dev-task")[
        "taskDefinition"
    ]
    images = {c["name"]: c["image"] for c in task["containerDefinitions"]}
    # Each image's tag is the one its build computed from its content and exported.
    builds = aws.service("codebuild").builds.values()
    tags = [
        {v["name"]: v["value"] for v in b.data["exportedEnvironmentVariables"]}["IMAGE_TAG"]
        for b in builds
    ]
    assert len(tags) == 2 and tags[0] != tags[1] and all(t.startswith("src-") for t in tags)
    assert images == {
        "webapp": f"{system.app_repository['repositoryUri']}:{tags[0]}",
        "log-router": f"{system.router_repository['repositoryUri']}:{tags[1]}",
    }
    assert task["taskRoleArn"] == "arn:aws:iam::123456789012:role/task-role"
    assert f'TaskDefinition: "{task["taskDefinitionArn"]}"' in deployment["appspec"]
    assert "<TASK_DEFINITION>" not in deployment["appspec"]


def test_create_pipeline_refuses_what_codepipeline_refuses(aws: Emulator, system: System) -> None:
    codepipeline = aws.clients().codepipeline

    def refused(edit: Any) -> tuple[str, str]:
        declaration = system.declaration()
        edit(declaration)
        with pytest.raises(ClientError) as caught:
            codepipeline.create_pipeline(pipeline=declaration)
        error = caught.value.response["Error"]
        return str(error["Code"]), str(error["Message"])

    def deploy(d: dict[str, Any]) -> dict[str, Any]:
        action: dict[str, Any] = d["stages"][2]["actions"][0]
        return action

    def role(d: dict[str, Any]) -> None:
        d["roleArn"] = system.build_role  # trusts codebuild, not codepipeline

    assert refused(role) == (
        "InvalidStructureException",
        f"CodePipeline is not authorized to perform AssumeRole on role {system.build_role}",
    )
    assert refused(lambda d: d.update(stages=d["stages"][:1])) == (
        "InvalidStructureException",
        "Pipeline has only 1 stage(s). There should be a minimum of 2 stages in a pipeline",
    )
    code, message = refused(lambda d: deploy(d)["actionTypeId"].update(provider="CodeDeployToEKS"))
    assert code == "InvalidActionDeclarationException"
    assert message == (
        "ActionType (Category: 'Deploy', Provider: 'CodeDeployToEKS', Owner: 'AWS', Version: '1') "
        "in action 'Deploy' is not available in region 'AP_NORTHEAST_1'"
    )
    assert refused(lambda d: deploy(d)["configuration"].pop("DeploymentGroupName")) == (
        "InvalidActionDeclarationException",
        "Action configuration for action 'Deploy' is missing required configuration "
        "'DeploymentGroupName'",
    )
    # CodeDeployToECS takes Image1 to Image4 (action reference; aws-cdk refuses a fifth).
    assert refused(
        lambda d: deploy(d)["configuration"].update(Image5ArtifactName="AppBuildOutput")
    ) == (
        "InvalidActionDeclarationException",
        "Action configuration for action 'Deploy' contains unknown configuration "
        "'Image5ArtifactName'",
    )
    assert refused(lambda d: d["stages"][1]["actions"][0].update(inputArtifacts=[])) == (
        "InvalidActionDeclarationException",
        "Action BuildApp declares 0 input artifacts which is less than the minimum count (1)",
    )
    code, _ = refused(lambda d: deploy(d).update(inputArtifacts=[{"name": "Nowhere"}]))
    assert code == "InvalidActionDeclarationException"
    code, _ = refused(lambda d: d["stages"][0]["actions"].append(dict(deploy(d), name="X")))
    assert code == "InvalidStructureException"  # the first stage holds source actions only
    code, _ = refused(lambda d: d.update(executionMode="QUEUED", pipelineType="V1"))
    assert code == "ValidationException"
    # Nothing was created by the refused calls.
    assert codepipeline.list_pipelines()["pipelines"] == []
    codepipeline.create_pipeline(pipeline=system.declaration())
    with pytest.raises(ClientError) as caught:
        codepipeline.create_pipeline(pipeline=system.declaration())
    assert _code(caught) == "PipelineNameInUseException"


# --------------------------------------------------------------------------- builds and the quota


def test_two_builds_at_the_same_run_order_fail_the_first_run_at_quota_1(
    aws: Emulator, system: System
) -> None:
    # B3: "Error calling startBuild: Cannot have more than 1 builds in queue for the
    # account" (aws-samples/aws-gateway-load-balancer-suricata-ids-ips-nsm#12).
    name = system.names.pipeline
    aws.clients().codepipeline.create_pipeline(pipeline=system.declaration(run_orders=(1, 1)))
    (first,) = _executions(aws, name)
    assert settle(aws, name, first["pipelineExecutionId"]) == "Failed"
    state = _state(aws, name)
    router = _action(state, "Build", "BuildRouter")
    assert router["status"] == "Failed"
    assert router["errorDetails"]["code"] == "JobFailed"
    assert router["errorDetails"]["message"].startswith(
        "Error calling startBuild: Cannot have more than 1 builds in queue for the account "
        "(Service: AWSCodeBuild; Status Code: 400; Error Code: AccountLimitExceededException;"
    )
    # The other build of that runOrder ran to its end; nothing was deployed.
    assert _action(state, "Build", "BuildApp")["status"] == "Succeeded"
    assert state["Build"]["latestExecution"]["status"] == "Failed"
    assert "latestExecution" not in state["Deploy"]
    assert system.codedeploy.deployments == {}


def test_sequential_run_orders_succeed_at_quota_1(aws: Emulator, system: System) -> None:
    name = system.names.pipeline
    aws.clients().codepipeline.create_pipeline(pipeline=system.declaration(run_orders=(1, 2)))
    (first,) = _executions(aws, name)
    assert settle(aws, name, first["pipelineExecutionId"]) == "Succeeded"


def test_the_same_run_order_succeeds_at_quota_2() -> None:
    with Emulator(REGION, start=T0, build_quota=2) as aws:
        system = build_system(aws)
        name = system.names.pipeline
        aws.clients().codepipeline.create_pipeline(pipeline=system.declaration(run_orders=(1, 1)))
        (first,) = _executions(aws, name)
        assert settle(aws, name, first["pipelineExecutionId"]) == "Succeeded"


# --------------------------------------------------------------------------- the 3 MB Deploy input


_NOISE = random.Random(0).randbytes(MAX_ECS_ARTIFACT_BYTES + 1)


def _noise(size: int) -> bytes:
    return _NOISE[:size]


def _source_zip_size(files: dict[str, bytes]) -> int:
    # The source artifact is the commit's tree as a ZIP (sizes do not depend on the date).
    return len(zip_files(files, T0, {p: 0o644 for p in files}))


@functools.cache
def _filler(target: int) -> bytes:
    """Incompressible content that makes the scaffold's source ZIP as large as possible
    but at most ``target`` bytes (the ZIP grows by about one byte per byte of noise)."""
    base = scaffold()

    def size(n: int) -> int:
        return _source_zip_size({**base, "docs/photo.bin": _noise(n)})

    n = target - (size(target) - target)
    while size(n) > target:
        n -= size(n) - target
    while size(n + 1) <= target:
        n += 1
    return _noise(n)


@pytest.mark.parametrize("over", [False, True])
def test_a_deploy_input_artifact_over_3_mb_fails_the_deploy_action(over: bool) -> None:
    # M2: the AppSpec read from the whole-repository ZIP (AppSpecTemplateArtifact:
    # SourceOutput). At most 3 MB passes (the last valid size), one byte more fails.
    base = scaffold()
    filler = _filler(MAX_ECS_ARTIFACT_BYTES)
    if over:
        filler = _noise(len(filler) + 1)
    files = {**base, "docs/photo.bin": filler}
    size = _source_zip_size(files)
    assert (size > MAX_ECS_ARTIFACT_BYTES) is over
    with Emulator(REGION, start=T0) as aws:
        system = build_system(aws, files=files)
        name = system.names.pipeline
        aws.clients().codepipeline.create_pipeline(
            pipeline=system.declaration(appspec_artifact="SourceOutput")
        )
        (first,) = _executions(aws, name)
        status = settle(aws, name, first["pipelineExecutionId"])
        deploy = _action(_state(aws, name), "Deploy", "Deploy")
        if not over:
            assert status == "Succeeded"
            return
        assert status == "Failed"
        assert deploy["status"] == "Failed"
        assert deploy["errorDetails"]["message"] == (
            "Exception while trying to read the AppSpec artifact file from: SourceOutput"
        )
        (why,) = [r for r in aws.refusals if r.code == "ArtifactTooLarge"]
        assert why.message == f"SourceOutput is {size} bytes; the action reads at most 3 MB"
        assert system.codedeploy.deployments == {}


def test_a_failed_deployment_fails_the_deploy_action_with_its_error() -> None:
    with Emulator(REGION, start=T0) as aws:
        system = build_system(aws, deploy_outcome="Failed")
        name = system.names.pipeline
        aws.clients().codepipeline.create_pipeline(pipeline=system.declaration())
        (first,) = _executions(aws, name)
        assert settle(aws, name, first["pipelineExecutionId"]) == "Failed"
        deploy = _action(_state(aws, name), "Deploy", "Deploy")
        assert deploy["errorDetails"]["message"] == (
            "The deployment failed because the replacement task set is unhealthy"
        )


# --------------------------------------------------------------------------- execution modes


def _push(aws: Emulator, system: System, name: str, content: bytes) -> str:
    codecommit = aws.clients().codecommit
    head = codecommit.get_branch(repositoryName=system.repository, branchName=system.branch)
    return commit_files(
        aws,
        system.repository,
        system.branch,
        {name: content},
        f"change {name}",
        head["branch"]["commitId"],
    )


def test_superseded_a_newer_execution_overtakes_one_waiting_at_a_stage_boundary() -> None:
    # "Rule 3: Waiting executions are superseded by more recent executions ... Executions
    # are only superseded in between stages." (How pipeline executions work)
    with Emulator(REGION, start=T0) as aws:
        system = build_system(aws, deploy_seconds=1800)
        name = system.names.pipeline
        codepipeline = aws.clients().codepipeline
        codepipeline.create_pipeline(pipeline=system.declaration())
        (a,) = _executions(aws, name)
        aws.sleep(600)  # A is deploying (30 minutes)
        assert (
            _state(aws, name)["Deploy"]["latestExecution"]["pipelineExecutionId"]
            == a["pipelineExecutionId"]
        )
        _push(aws, system, "b.txt", b"b")
        b = codepipeline.start_pipeline_execution(name=name)["pipelineExecutionId"]
        aws.sleep(600)  # B built; it waits in front of the locked Deploy stage
        state = _state(aws, name)
        assert state["Deploy"]["inboundExecution"]["pipelineExecutionId"] == b
        c_commit = _push(aws, system, "c.txt", b"c")
        c = codepipeline.start_pipeline_execution(name=name)["pipelineExecutionId"]
        aws.sleep(600)  # C built and arrived at the same boundary: B is superseded
        statuses = {e["pipelineExecutionId"]: e["status"] for e in _executions(aws, name)}
        assert statuses == {
            a["pipelineExecutionId"]: "InProgress",
            b: "Superseded",
            c: "InProgress",
        }
        # A, inside its stage, was never interrupted; C deploys after it.
        assert settle(aws, name, c) == "Succeeded"
        assert settle(aws, name, a["pipelineExecutionId"]) == "Succeeded"
        assert len(system.codedeploy.deployments) == 2
        summaries = {e["pipelineExecutionId"]: e for e in _executions(aws, name)}
        assert summaries[c]["sourceRevisions"][0]["revisionId"] == c_commit
        # Newest first, and paged.
        page = codepipeline.list_pipeline_executions(pipelineName=name, maxResults=2)
        assert [e["pipelineExecutionId"] for e in page["pipelineExecutionSummaries"]] == [c, b]
        rest = codepipeline.list_pipeline_executions(pipelineName=name, nextToken=page["nextToken"])
        assert [e["pipelineExecutionId"] for e in rest["pipelineExecutionSummaries"]] == [
            a["pipelineExecutionId"]
        ]
        assert "nextToken" not in rest


def test_queued_mode_runs_waiting_executions_in_order() -> None:
    with Emulator(REGION, start=T0) as aws:
        system = build_system(aws, deploy_seconds=900)
        name = system.names.pipeline
        codepipeline = aws.clients().codepipeline
        codepipeline.create_pipeline(pipeline=system.declaration(mode="QUEUED"))
        ids = [_executions(aws, name)[0]["pipelineExecutionId"]]
        aws.sleep(400)  # the first execution is deploying (15 minutes)
        for _ in range(2):
            ids.append(codepipeline.start_pipeline_execution(name=name)["pipelineExecutionId"])
        aws.sleep(750)  # they build (about 6 minutes each), one after the other
        state = _state(aws, name)
        # Both later executions built and wait, in order, for the Deploy stage (QUEUED:
        # nobody is superseded; "Executions are processed one by one in the order that
        # they are queued").
        waiting = [e["pipelineExecutionId"] for e in state["Deploy"].get("inboundExecutions", [])]
        assert waiting == ids[1:]
        assert state["Deploy"]["inboundExecution"]["pipelineExecutionId"] == ids[1]
        for execution in ids:
            assert settle(aws, name, execution) == "Succeeded"
        assert len(system.codedeploy.deployments) == 3


def test_parallel_mode_runs_executions_side_by_side_without_stage_locks() -> None:
    # "In PARALLEL mode, executions run simultaneously and independently of one another"
    # (How pipeline executions work): two executions build at once, so at quota 1 the
    # second one's StartBuild is refused, as on AWS.
    with Emulator(REGION, start=T0) as aws:
        system = build_system(aws)
        name = system.names.pipeline
        codepipeline = aws.clients().codepipeline
        codepipeline.create_pipeline(pipeline=system.declaration(mode="PARALLEL"))
        first = _executions(aws, name)[0]["pipelineExecutionId"]
        second = codepipeline.start_pipeline_execution(name=name)["pipelineExecutionId"]
        assert settle(aws, name, first) == "Succeeded"
        assert settle(aws, name, second) == "Failed"
        details = codepipeline.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": second}
        )["actionExecutionDetails"]
        failed = [d for d in details if d["status"] == "Failed"]
        message = failed[0]["output"]["executionResult"]["errorDetails"]["message"]
        assert "Cannot have more than 1 builds in queue for the account" in message


def test_stop_and_abandon_and_stop_and_wait(aws: Emulator, system: System) -> None:
    name = system.names.pipeline
    codepipeline = aws.clients().codepipeline
    codepipeline.create_pipeline(pipeline=system.declaration())
    (first,) = _executions(aws, name)
    first_id = first["pipelineExecutionId"]
    aws.sleep(60)  # in the Build stage
    codepipeline.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=first_id)
    assert _executions(aws, name)[0]["status"] == "Stopping"
    with pytest.raises(ClientError) as caught:
        codepipeline.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=first_id)
    assert _code(caught) == "DuplicatedStopRequestException"
    # Stop and wait: the running build finishes, nothing after it starts.
    assert settle(aws, name, first_id) == "Stopped"
    state = _state(aws, name)
    assert _action(state, "Build", "BuildApp")["status"] == "Succeeded"
    assert "latestExecution" not in _state(aws, name)["Build"]["actionStates"][1]
    assert state["Build"]["latestExecution"]["status"] == "Stopped"
    with pytest.raises(ClientError) as caught:
        codepipeline.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=first_id)
    assert _code(caught) == "PipelineExecutionNotStoppableException"
    # Stop and abandon: the running action is abandoned at once.
    second = codepipeline.start_pipeline_execution(name=name)["pipelineExecutionId"]
    aws.sleep(60)
    codepipeline.stop_pipeline_execution(
        pipelineName=name, pipelineExecutionId=second, abandon=True, reason="wrong commit"
    )
    assert settle(aws, name, second, limit=1) == "Stopped"
    assert _action(_state(aws, name), "Build", "BuildApp")["status"] == "Abandoned"
    summary = _executions(aws, name)[0]
    assert summary["stopTrigger"] == {"reason": "wrong commit"}


def test_a_disabled_transition_holds_executions_in_front_of_its_stage(
    aws: Emulator, system: System
) -> None:
    name = system.names.pipeline
    codepipeline = aws.clients().codepipeline
    codepipeline.create_pipeline(pipeline=system.declaration())
    codepipeline.disable_stage_transition(
        pipelineName=name, stageName="Deploy", transitionType="Inbound", reason="freeze"
    )
    (first,) = _executions(aws, name)
    aws.sleep(1200)
    state = _state(aws, name)
    assert state["Deploy"]["inboundTransitionState"]["enabled"] is False
    assert state["Deploy"]["inboundTransitionState"]["disabledReason"] == "freeze"
    assert (
        state["Deploy"]["inboundExecution"]["pipelineExecutionId"] == first["pipelineExecutionId"]
    )
    assert system.codedeploy.deployments == {}
    codepipeline.enable_stage_transition(
        pipelineName=name, stageName="Deploy", transitionType="Inbound"
    )
    assert settle(aws, name, first["pipelineExecutionId"]) == "Succeeded"


def test_updating_the_pipeline_cancels_executions_in_progress_after_their_stage(
    aws: Emulator, system: System
) -> None:
    name = system.names.pipeline
    codepipeline = aws.clients().codepipeline
    codepipeline.create_pipeline(pipeline=system.declaration())
    (first,) = _executions(aws, name)
    aws.sleep(60)  # building
    updated = codepipeline.update_pipeline(pipeline=system.declaration(run_orders=(1, 1)))
    assert updated["pipeline"]["version"] == 2
    assert settle(aws, name, first["pipelineExecutionId"]) == "Cancelled"
    # The Build stage it was in finished; Deploy never started.
    assert _state(aws, name)["Build"]["latestExecution"]["status"] == "Succeeded"
    assert codepipeline.get_pipeline(name=name, version=1)["pipeline"]["version"] == 1
    assert (
        codepipeline.get_pipeline(name=name)["pipeline"]["stages"][1]["actions"][1]["runOrder"] == 1
    )


def test_polling_starts_an_execution_when_the_branch_moves(aws: Emulator, system: System) -> None:
    # PollForSourceChanges defaults to true (CodeCommit source action reference).
    name = system.names.pipeline
    declaration = system.declaration()
    del declaration["stages"][0]["actions"][0]["configuration"]["PollForSourceChanges"]
    aws.clients().codepipeline.create_pipeline(pipeline=declaration)
    aws.sleep(600)
    assert len(_executions(aws, name)) == 1
    pushed = _push(aws, system, "x.txt", b"x")
    aws.sleep(120)
    latest = _executions(aws, name)[0]
    assert latest["trigger"] == {"triggerType": "PollForSourceChanges", "triggerDetail": "Source"}
    assert settle(aws, name, latest["pipelineExecutionId"]) == "Succeeded"
    assert _executions(aws, name)[0]["sourceRevisions"][0]["revisionId"] == pushed


# --------------------------------------------------------------------------- a push, end to end


def test_a_git_push_to_the_local_remote_starts_the_pipeline_through_the_eventbridge_rule(
    aws: Emulator, system: System, tmp_path: Path
) -> None:
    import os
    import subprocess

    clients = aws.clients()
    name = system.names.pipeline
    clients.codepipeline.create_pipeline(pipeline=system.declaration())
    settle(aws, name, _executions(aws, name)[0]["pipelineExecutionId"])
    pattern = {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Repository State Change"],
        "resources": [f"arn:aws:codecommit:{REGION}:123456789012:{system.repository}"],
        "detail": {
            "event": ["referenceCreated", "referenceUpdated"],
            "referenceType": ["branch"],
            "referenceName": [system.branch],
        },
    }
    rule = clients.events.put_rule(Name="SourceChangeRule", EventPattern=json.dumps(pattern))[
        "RuleArn"
    ]
    clients.events.put_targets(
        Rule="SourceChangeRule",
        Targets=[
            {
                "Id": "Pipeline",
                "Arn": f"arn:aws:codepipeline:{REGION}:123456789012:{name}",
                "RoleArn": system.events_role,
            }
        ],
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "A Person",
        "GIT_AUTHOR_EMAIL": "a@example.invalid",
        "GIT_COMMITTER_NAME": "A Person",
        "GIT_COMMITTER_EMAIL": "a@example.invalid",
    }

    def git(*args: str, cwd: Path) -> str:
        return subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
        ).stdout

    remote = aws.service("codecommit").local_remote(system.repository)
    work = tmp_path / "app"
    git("clone", "-q", str(remote), str(work), cwd=tmp_path)
    main = work / "webapp" / "app" / "main.py"
    main.write_text(main.read_text().replace("Hello", "Konnichiwa"))
    git("commit", "-qam", "Change the greeting", cwd=work)
    pushed = git("rev-parse", "HEAD", cwd=work).strip()
    git("push", "-q", "origin", system.branch, cwd=work)
    # CodeCommit sees the push at its next poll; EventBridge delivers to the rule's target.
    aws.sleep(timing.CODECOMMIT_PUSH_POLL + 5)
    latest = _executions(aws, name)[0]
    assert latest["trigger"] == {"triggerType": "CloudWatchEvent", "triggerDetail": rule}
    assert settle(aws, name, latest["pipelineExecutionId"]) == "Succeeded"
    latest = _executions(aws, name)[0]
    assert latest["sourceRevisions"][0]["revisionId"] == pushed
    assert latest["sourceRevisions"][0]["revisionSummary"] == "Change the greeting\n"
    # The pushed code is what the new image was built from (the build of the pushed
    # commit exported the content tag it pushed).
    (built,) = [
        b.data
        for b in aws.service("codebuild").builds.values()
        if b.data.get("resolvedSourceVersion") == pushed and "webapp" in b.data["projectName"]
    ]
    tag = {v["name"]: v["value"] for v in built["exportedEnvironmentVariables"]}["IMAGE_TAG"]
    app = [uri for uri in aws.images if uri.endswith(f"webapp:{tag}")]
    assert app and "Konnichiwa" in aws.images[app[0]]["app/main.py"].decode()


def test_action_executions_list_what_each_action_read_and_wrote(
    aws: Emulator, system: System
) -> None:
    name = system.names.pipeline
    codepipeline = aws.clients().codepipeline
    codepipeline.create_pipeline(pipeline=system.declaration())
    execution = _executions(aws, name)[0]["pipelineExecutionId"]
    settle(aws, name, execution)
    details = codepipeline.list_action_executions(
        pipelineName=name, filter={"pipelineExecutionId": execution}
    )["actionExecutionDetails"]
    by_name = {d["actionName"]: d for d in details}
    assert [d["actionName"] for d in details] == ["Deploy", "BuildRouter", "BuildApp", "Source"]
    source_out = by_name["Source"]["output"]["outputArtifacts"][0]
    assert source_out["s3location"]["bucket"] == system.bucket
    assert source_out["s3location"]["key"].startswith(f"{name[:20]}/SourceOutp/")
    assert by_name["BuildApp"]["input"]["inputArtifacts"] == [source_out]
    assert by_name["Source"]["output"]["outputVariables"]["CommitId"] == system.head
    # The artifacts are in the bucket, put there as the pipeline and build roles.
    key = by_name["BuildApp"]["output"]["outputArtifacts"][0]["s3location"]["key"]
    body = aws.clients().s3.get_object(Bucket=system.bucket, Key=key)["Body"].read()
    assert body[:2] == b"PK"


def test_get_pipeline_state_of_an_unknown_pipeline(aws: Emulator) -> None:
    with pytest.raises(ClientError) as caught:
        aws.clients().codepipeline.get_pipeline_state(name="nope")
    assert _code(caught) == "PipelineNotFoundException"
