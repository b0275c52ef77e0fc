"""The emulated CodeBuild through the real API: projects, the build quota, phases, effects.

Sources: CodeBuild API reference (CreateProject, StartBuild, BatchGetBuilds, StopBuild;
the Build and BuildPhase shapes, BuildPhaseType), "Environment variables in build
environments", the evidence for B3 in reviews-2026-11/aws-fidelity.md
(aws-samples/aws-gateway-load-balancer-suricata-ids-ips-nsm#12: "Cannot have more than 1
builds in queue for the account"), and the buildspec reference (YAML_FILE_ERROR,
"no matching artifact paths found").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_cicd import REGION, T0, commit_files, make_role, scaffold

from bluegreen.emulator import Emulator, timing
from bluegreen.emulator.services.codebuild import BUILD_WITHOUT_IMAGE

SPEC = """version: 0.2
phases:
  build:
    commands:
      - echo hello
artifacts:
  files:
    - out.txt
"""


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with Emulator(REGION, start=T0) as emulator:
        yield emulator


def _project(aws: Emulator, name: str = "p1", **extra: Any) -> dict[str, Any]:
    clients = aws.clients()
    try:
        role = clients.iam.get_role(RoleName="build-role")["Role"]["Arn"]
    except ClientError:
        role = make_role(aws, "build-role", "codebuild.amazonaws.com")
    kwargs: dict[str, Any] = {
        "name": name,
        "source": {"type": "NO_SOURCE", "buildspec": SPEC},
        "artifacts": {"type": "NO_ARTIFACTS"},
        "environment": {
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        "serviceRole": role,
    }
    kwargs.update(extra)
    project: dict[str, Any] = clients.codebuild.create_project(**kwargs)["project"]
    return project


def _build(aws: Emulator, build_id: str) -> dict[str, Any]:
    found: dict[str, Any] = aws.clients().codebuild.batch_get_builds(ids=[build_id])["builds"][0]
    return found


def _settle(aws: Emulator, build_id: str) -> dict[str, Any]:
    for _ in range(100):
        build = _build(aws, build_id)
        if build["buildComplete"]:
            return build
        aws.sleep(30)
    raise AssertionError("the build never ended")


# --------------------------------------------------------------------------- projects


def test_a_project_has_codebuilds_defaults_and_can_be_updated_and_deleted(aws: Emulator) -> None:
    project = _project(aws)
    assert project["arn"] == "arn:aws:codebuild:ap-northeast-1:123456789012:project/p1"
    # API reference, CreateProject: timeoutInMinutes defaults to 60, queued 480.
    assert (project["timeoutInMinutes"], project["queuedTimeoutInMinutes"]) == (60, 480)
    codebuild = aws.clients().codebuild
    codebuild.update_project(name="p1", timeoutInMinutes=5)
    assert codebuild.batch_get_projects(names=["p1"])["projects"][0]["timeoutInMinutes"] == 5
    # The model's BuildTimeOut: 5 to 2160 minutes (botocore checks the minimum itself,
    # the service the maximum).
    with pytest.raises(ClientError) as caught:
        codebuild.update_project(name="p1", timeoutInMinutes=2161)
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"
    codebuild.update_project(name="p1", timeoutInMinutes=2160)
    codebuild.delete_project(name="p1")
    assert codebuild.batch_get_projects(names=["p1"])["projectsNotFound"] == ["p1"]


def test_create_project_refusals(aws: Emulator) -> None:
    _project(aws)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "p1"}, "ResourceAlreadyExistsException"),
        ({"name": "p2", "artifacts": {"type": "CODEPIPELINE"}}, "InvalidInputException"),
        ({"name": "p3", "source": {"type": "CODECOMMIT"}}, "InvalidInputException"),
        (
            {"name": "p4", "serviceRole": make_role(aws, "not-for-codebuild", "ec2.amazonaws.com")},
            "InvalidInputException",
        ),
        ({"name": "-bad"}, "InvalidInputException"),
    ]
    for extra, code in cases:
        with pytest.raises(ClientError) as caught:
            _project(aws, **extra)
        assert caught.value.response["Error"]["Code"] == code, extra
    # A CODEPIPELINE project (with the location CloudFormation handlers pass) is fine.
    _project(
        aws,
        name="p5",
        source={"type": "CODEPIPELINE", "location": "CODEPIPELINE", "buildspec": SPEC},
        artifacts={"type": "CODEPIPELINE", "location": "CODEPIPELINE"},
    )


def test_a_role_codebuild_cannot_assume_is_named(aws: Emulator) -> None:
    role = make_role(aws, "for-ec2", "ec2.amazonaws.com")
    with pytest.raises(ClientError) as caught:
        _project(aws, serviceRole=role)
    assert caught.value.response["Error"]["Message"] == (
        f"CodeBuild is not authorized to perform: sts:AssumeRole on {role}"
    )


# --------------------------------------------------------------------------- the quota


def test_a_second_concurrent_build_is_refused_at_quota_1(aws: Emulator) -> None:
    _project(aws)
    codebuild = aws.clients().codebuild
    first = codebuild.start_build(projectName="p1")["build"]
    assert first["buildStatus"] == "IN_PROGRESS"
    with pytest.raises(ClientError) as caught:
        codebuild.start_build(projectName="p1")
    error = caught.value.response["Error"]
    assert error["Code"] == "AccountLimitExceededException"
    assert error["Message"] == "Cannot have more than 1 builds in queue for the account"
    _settle(aws, first["id"])
    # Once the first build ends, the next one starts.
    codebuild.start_build(projectName="p1")


def test_two_concurrent_builds_are_allowed_at_quota_2() -> None:
    with Emulator(REGION, start=T0, build_quota=2) as aws:
        _project(aws)
        codebuild = aws.clients().codebuild
        codebuild.start_build(projectName="p1")
        codebuild.start_build(projectName="p1")
        with pytest.raises(ClientError) as caught:
            codebuild.start_build(projectName="p1")
        assert caught.value.response["Error"]["Message"] == (
            "Cannot have more than 2 builds in queue for the account"
        )


def test_quota_0_refuses_every_build() -> None:
    # A new, unverified account (aws-ia/terraform-aws-control_tower_account_factory#100).
    with Emulator(REGION, start=T0, build_quota=0) as aws:
        _project(aws)
        with pytest.raises(ClientError) as caught:
            aws.clients().codebuild.start_build(projectName="p1")
        assert "more than 0 builds" in caught.value.response["Error"]["Message"]


# --------------------------------------------------------------------------- phases


def test_a_build_moves_through_codebuilds_phases_on_the_clock(aws: Emulator) -> None:
    no_artifacts = SPEC.split("artifacts:")[0]
    _project(aws, source={"type": "NO_SOURCE", "buildspec": no_artifacts})
    build = aws.clients().codebuild.start_build(projectName="p1")["build"]
    assert build["currentPhase"] == "QUEUED"
    assert [p["phaseType"] for p in build["phases"]] == ["SUBMITTED", "QUEUED"]
    assert build["initiator"] == "bluegreen-operator"
    assert build["buildNumber"] == 1
    aws.sleep(timing.BUILD_PHASES["QUEUED"] + timing.BUILD_PHASES["PROVISIONING"] / 2)
    assert _build(aws, build["id"])["currentPhase"] == "PROVISIONING"
    done = _settle(aws, build["id"])
    phases = [
        (p["phaseType"], p.get("phaseStatus"), p.get("durationInSeconds")) for p in done["phases"]
    ]
    expected = ["SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD"]
    expected += ["BUILD", "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED"]
    assert [p[0] for p in phases] == expected
    durations = {name: seconds for name, _, seconds in phases}
    # `echo hello` builds and pushes no image: its BUILD phase takes BUILD_WITHOUT_IMAGE,
    # not the docker build and push of timing.BUILD_PHASES["BUILD"].
    expected_seconds = {**timing.BUILD_PHASES, "BUILD": BUILD_WITHOUT_IMAGE}
    for name, seconds in expected_seconds.items():
        assert durations[name] == round(seconds), name
    assert all(status == "SUCCEEDED" for name, status, _ in phases if name != "COMPLETED")
    assert done["buildStatus"] == "SUCCEEDED"
    elapsed = (done["endTime"] - done["startTime"]).total_seconds()
    assert elapsed == sum(expected_seconds.values())
    # The log lines reached CloudWatch Logs, in the default group, stream = build uuid.
    logs = done["logs"]
    assert logs["groupName"] == "/aws/codebuild/p1"
    assert logs["streamName"] == done["id"].split(":", 1)[1]
    lines = aws.clients().logs.get_log_events(
        logGroupName=logs["groupName"], logStreamName=logs["streamName"]
    )["events"]
    assert any("Running command echo hello" in line["message"] for line in lines)


def test_a_buildspec_codebuild_cannot_read_fails_download_source(aws: Emulator) -> None:
    _project(aws, source={"type": "NO_SOURCE", "buildspec": "version: 0.2\nphases: [\n"})
    build = _settle(aws, aws.clients().codebuild.start_build(projectName="p1")["build"]["id"])
    failed = [p for p in build["phases"] if p.get("phaseStatus") == "FAILED"]
    assert [p["phaseType"] for p in failed] == ["DOWNLOAD_SOURCE"]
    assert failed[0]["contexts"][0]["statusCode"] == "YAML_FILE_ERROR"
    assert build["buildStatus"] == "FAILED"


def test_a_listed_artifact_the_build_never_makes_fails_upload_artifacts(aws: Emulator) -> None:
    _project(aws)
    build = _settle(aws, aws.clients().codebuild.start_build(projectName="p1")["build"]["id"])
    (failed,) = [p for p in build["phases"] if p.get("phaseStatus") == "FAILED"]
    assert failed["phaseType"] == "UPLOAD_ARTIFACTS"
    assert failed["contexts"] == [
        {"statusCode": "CLIENT_ERROR", "message": "no matching artifact paths found"}
    ]


def test_stop_build(aws: Emulator) -> None:
    _project(aws)
    codebuild = aws.clients().codebuild
    build = codebuild.start_build(projectName="p1")["build"]
    aws.sleep(10)
    stopped = codebuild.stop_build(id=build["id"])["build"]
    assert stopped["buildStatus"] == "STOPPED"
    assert stopped["buildComplete"] is True
    assert stopped["phases"][-2]["phaseStatus"] == "STOPPED"
    # A stopped build no longer counts against the quota.
    codebuild.start_build(projectName="p1")
    assert codebuild.list_builds_for_project(projectName="p1")["ids"][1] == build["id"]


# --------------------------------------------------------------------------- what a build does


def test_the_scaffold_app_build_pushes_its_image_and_writes_its_artifacts(aws: Emulator) -> None:
    clients = aws.clients()
    clients.codecommit.create_repository(repositoryName="app")
    head = commit_files(aws, "app", "main", scaffold(), "Initial commit")
    repository = clients.ecr.create_repository(
        repositoryName="webapp", imageTagMutability="IMMUTABLE"
    )["repository"]
    variables = {
        "AWS_ACCOUNT_ID": "123456789012",
        "IMAGE_REPOSITORY_URI": repository["repositoryUri"],
        "IMAGE_REPOSITORY_NAME": "webapp",
        "CONTAINER_NAME": "webapp",
        "TASK_ROLE_ARN": "arn:aws:iam::123456789012:role/task",
        "EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/execution",
    }
    _project(
        aws,
        source={
            "type": "CODECOMMIT",
            "location": "https://git-codecommit.ap-northeast-1.amazonaws.com/v1/repos/app",
            "buildspec": "webapp/buildspec.yml",
        },
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "privilegedMode": True,
            "environmentVariables": [{"name": k, "value": v} for k, v in variables.items()],
        },
    )
    first = _settle(
        aws, clients.codebuild.start_build(projectName="p1", sourceVersion="main")["build"]["id"]
    )
    assert first["buildStatus"] == "SUCCEEDED", first["phases"]
    assert first["resolvedSourceVersion"] == head
    # The buildspec tags the image with the hash of its content (webapp/ and the build
    # settings) and exports the tag and whether it built it (env/exported-variables).
    exported = {v["name"]: v["value"] for v in first["exportedEnvironmentVariables"]}
    tag = exported["IMAGE_TAG"]
    assert tag.startswith("src-") and exported["IMAGE_BUILT"] == "yes"
    images = clients.ecr.list_images(repositoryName="webapp")["imageIds"]
    assert [i["imageTag"] for i in images] == [tag]
    uri = f"{repository['repositoryUri']}:{tag}"
    # The image remembers its build context (webapp/): what a task would run.
    assert "Dockerfile" in aws.images[uri] and "app/main.py" in aws.images[uri]
    # The same commit again: the buildspec reuses the immutable tag instead of pushing,
    # and the BUILD phase takes seconds, not a docker build and push.
    second = _settle(
        aws, clients.codebuild.start_build(projectName="p1", sourceVersion=head)["build"]["id"]
    )
    assert second["buildStatus"] == "SUCCEEDED"
    assert len(clients.ecr.list_images(repositoryName="webapp")["imageIds"]) == 1
    assert {v["name"]: v["value"] for v in second["exportedEnvironmentVariables"]} == {
        "IMAGE_TAG": tag,
        "IMAGE_BUILT": "no",
    }
    (build_phase,) = [p for p in second["phases"] if p["phaseType"] == "BUILD"]
    assert build_phase["durationInSeconds"] == BUILD_WITHOUT_IMAGE
    (full,) = [p for p in first["phases"] if p["phaseType"] == "BUILD"]
    assert full["durationInSeconds"] == timing.BUILD_PHASES["BUILD"]
    log = aws.service("codebuild").builds[second["id"]].log
    assert any(f"Skipping the build, {uri} is already in ECR" in text for _, text, _ in log)
    # A commit that changes only the other image's directory: same tag, reused.
    changed = {"firelens/extra.conf": scaffold()["firelens/extra.conf"] + b"# changed\n"}
    other = commit_files(aws, "app", "main", changed, "Change the router only", parent=head)
    third = _settle(
        aws, clients.codebuild.start_build(projectName="p1", sourceVersion=other)["build"]["id"]
    )
    third_vars = {v["name"]: v["value"] for v in third["exportedEnvironmentVariables"]}
    assert third["resolvedSourceVersion"] == other
    assert third_vars == {"IMAGE_TAG": tag, "IMAGE_BUILT": "no"}


def test_an_operation_codebuild_does_not_serve_is_refused(aws: Emulator) -> None:
    with pytest.raises(ClientError) as caught:
        aws.clients().codebuild.list_reports()
    assert caught.value.response["Error"]["Code"] == "UnknownOperationException"
    assert json.dumps("codebuild:ListReports")[1:-1] in caught.value.response["Error"]["Message"]
