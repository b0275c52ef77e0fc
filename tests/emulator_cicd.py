"""Shared pieces of the CodeCommit / EventBridge / CodeBuild / CodePipeline emulator tests.

Everything is built through the real APIs of the emulated account, as bluegreen's
pipeline stack builds it (tests/../3-pipeline.yaml): roles that trust their service,
the artifact bucket, the two ECR repositories, the two CodeBuild projects with the
environment variables the stack sets, the source repository holding the scaffold, and
the pipeline declaration (Source -> Build x2 -> CodeDeployToECS). CodeDeploy is another
helper's service: a minimal fake serves CreateDeployment and GetDeployment here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bluegreen.appkit import render
from bluegreen.config import Config
from bluegreen.emulator import Call, Emulator, Service, ServiceError, operation
from bluegreen.names import Names

T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)
REGION = "ap-northeast-1"
ACCOUNT = "123456789012"


def make_role(aws: Emulator, name: str, service: str) -> str:
    """An IAM role that ``service`` may assume (written as a list, as the stacks do)."""
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": [service]}, "Action": ["sts:AssumeRole"]}
        ],
    }
    iam = aws.clients().iam
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(document))
    # These fixtures test the services, not IAM: the role may do anything (IAM's
    # evaluation of the stacks' own roles: tests/test_iam_enforced.py).
    iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=ALLOW_ALL)
    return str(role["Role"]["Arn"])


ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def scaffold(config: Config | None = None) -> dict[str, bytes]:
    """The repository ``bluegreen init`` writes (non-empty files: see B1)."""
    files = render(config or Config())
    return {path: text.encode() for path, text in files.items() if text}


def commit_files(
    aws: Emulator,
    repository: str,
    branch: str,
    files: dict[str, bytes],
    message: str,
    parent: str | None = None,
) -> str:
    """Commit ``files`` with CreateCommit (in chunks of 100 files), the new head."""
    codecommit = aws.clients().codecommit
    paths = sorted(files)
    for start in range(0, len(paths), 100):
        chunk = paths[start : start + 100]
        kwargs: dict[str, Any] = {
            "repositoryName": repository,
            "branchName": branch,
            "commitMessage": message,
            "putFiles": [{"filePath": p, "fileContent": files[p]} for p in chunk],
        }
        if parent:
            kwargs["parentCommitId"] = parent
        parent = str(codecommit.create_commit(**kwargs)["commitId"])
    assert parent is not None
    return parent


class FakeCodeDeploy(Service):
    """CodeDeploy as the Deploy action sees it: CreateDeployment and GetDeployment.

    A deployment is InProgress for ``seconds`` of simulated time, then ends with
    ``outcome`` (Succeeded, Failed or Stopped; DeploymentStatus in the CodeDeploy API).
    """

    name = "codedeploy"

    def __init__(self, emulator: Emulator, seconds: float = 60, outcome: str = "Succeeded") -> None:
        super().__init__(emulator)
        self.seconds = seconds
        self.outcome = outcome
        self.deployments: dict[str, dict[str, Any]] = {}

    @operation("CreateDeployment")
    def create_deployment(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        revision = params.get("revision") or {}
        if revision.get("revisionType") != "AppSpecContent":
            raise ServiceError("InvalidRevisionException", "an ECS deployment needs AppSpecContent")
        deployment_id = f"d-{len(self.deployments) + 1:09d}".replace("0", "A")
        self.deployments[deployment_id] = {
            "params": params,
            "principal": call.principal,
            "created": self.emulator.now(),
            "appspec": revision["appSpecContent"]["content"],
        }
        return {"deploymentId": deployment_id}

    # The other calls the Deploy action makes (CodePipeline's action reference, service
    # role permissions); the fake answers them as a CodeDeploy with the application would.
    @operation("GetApplication")
    def get_application(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        return {"application": {"applicationName": params["applicationName"]}}

    @operation("RegisterApplicationRevision")
    def register_application_revision(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        return {}

    @operation("GetApplicationRevision")
    def get_application_revision(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        return {"applicationName": params["applicationName"], "revision": params["revision"]}

    @operation("GetDeploymentConfig")
    def get_deployment_config(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        return {"deploymentConfigInfo": {"deploymentConfigName": params["deploymentConfigName"]}}

    @operation("GetDeployment")
    def get_deployment(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        found = self.deployments.get(params["deploymentId"])
        if found is None:
            raise ServiceError("DeploymentDoesNotExistException", "no such deployment")
        done = self.emulator.now() >= found["created"] + timedelta(seconds=self.seconds)
        status = self.outcome if done else "InProgress"
        info: dict[str, Any] = {
            "deploymentId": params["deploymentId"],
            "applicationName": found["params"]["applicationName"],
            "deploymentGroupName": found["params"]["deploymentGroupName"],
            "deploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
            "status": status,
            "createTime": found["created"],
        }
        if status == "Failed":
            info["errorInformation"] = {
                "code": "HEALTH_CONSTRAINTS",
                "message": "The deployment failed because the replacement task set is unhealthy",
            }
        return {"deploymentInfo": info}


@dataclass
class System:
    """bluegreen's delivery side in the emulated account."""

    aws: Emulator
    names: Names
    bucket: str
    pipeline_role: str
    build_role: str
    events_role: str
    repository: str
    branch: str
    head: str
    app_repository: dict[str, Any]
    router_repository: dict[str, Any]
    codedeploy: FakeCodeDeploy
    extra: dict[str, Any] = field(default_factory=dict)

    def declaration(
        self,
        *,
        name: str | None = None,
        run_orders: tuple[int, int] = (1, 2),
        appspec_artifact: str = "AppBuildOutput",
        mode: str | None = None,
        poll: str = "false",
    ) -> dict[str, Any]:
        """The pipeline as the pipeline stack declares it (3-pipeline.yaml)."""
        n = self.names
        deploy_inputs = ["AppBuildOutput", "RouterBuildOutput"]
        if appspec_artifact == "SourceOutput":
            deploy_inputs = ["SourceOutput", *deploy_inputs]
        declaration: dict[str, Any] = {
            "name": name or n.pipeline,
            "roleArn": self.pipeline_role,
            "artifactStore": {"type": "S3", "location": self.bucket},
            "pipelineType": "V2",
            "stages": [
                {
                    "name": "Source",
                    "actions": [
                        {
                            "name": "Source",
                            "actionTypeId": _type("Source", "CodeCommit"),
                            "configuration": {
                                "RepositoryName": self.repository,
                                "BranchName": self.branch,
                                "OutputArtifactFormat": "CODE_ZIP",
                                "PollForSourceChanges": poll,
                            },
                            "outputArtifacts": [{"name": "SourceOutput"}],
                            "runOrder": 1,
                        }
                    ],
                },
                {
                    "name": "Build",
                    "actions": [
                        {
                            "name": "BuildApp",
                            "actionTypeId": _type("Build", "CodeBuild"),
                            "configuration": {"ProjectName": n.app_build_project},
                            "inputArtifacts": [{"name": "SourceOutput"}],
                            "outputArtifacts": [{"name": "AppBuildOutput"}],
                            "runOrder": run_orders[0],
                        },
                        {
                            "name": "BuildRouter",
                            "actionTypeId": _type("Build", "CodeBuild"),
                            "configuration": {"ProjectName": n.router_build_project},
                            "inputArtifacts": [{"name": "SourceOutput"}],
                            "outputArtifacts": [{"name": "RouterBuildOutput"}],
                            "runOrder": run_orders[1],
                        },
                    ],
                },
                {
                    "name": "Deploy",
                    "actions": [
                        {
                            "name": "Deploy",
                            "actionTypeId": _type("Deploy", "CodeDeployToECS"),
                            "configuration": {
                                "ApplicationName": n.codedeploy_application,
                                "DeploymentGroupName": n.deployment_group,
                                "TaskDefinitionTemplateArtifact": "AppBuildOutput",
                                "TaskDefinitionTemplatePath": "taskdef.json",
                                "AppSpecTemplateArtifact": appspec_artifact,
                                "AppSpecTemplatePath": "appspec.yml",
                                "Image1ArtifactName": "AppBuildOutput",
                                "Image1ContainerName": "IMAGE1_NAME",
                                "Image2ArtifactName": "RouterBuildOutput",
                                "Image2ContainerName": "IMAGE2_NAME",
                            },
                            "inputArtifacts": [{"name": a} for a in deploy_inputs],
                            "runOrder": 1,
                        }
                    ],
                },
            ],
        }
        if mode:
            declaration["executionMode"] = mode
        return declaration


def _type(category: str, provider: str) -> dict[str, str]:
    return {"category": category, "owner": "AWS", "provider": provider, "version": "1"}


def build_system(
    aws: Emulator,
    *,
    files: dict[str, bytes] | None = None,
    deploy_seconds: float = 60,
    deploy_outcome: str = "Succeeded",
) -> System:
    config = Config()
    n = Names.of(config)
    clients = aws.clients()
    pipeline_role = make_role(aws, "pipeline-role", "codepipeline.amazonaws.com")
    build_role = make_role(aws, "build-role", "codebuild.amazonaws.com")
    events_role = make_role(aws, "events-role", "events.amazonaws.com")
    bucket = "artifact-bucket"
    clients.s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    app = clients.ecr.create_repository(
        repositoryName=n.app_image_repository, imageTagMutability="IMMUTABLE"
    )
    router = clients.ecr.create_repository(
        repositoryName=n.router_image_repository, imageTagMutability="IMMUTABLE"
    )
    repository = n.source_repository
    branch = config.source.branch
    clients.codecommit.create_repository(repositoryName=repository)
    head = commit_files(
        aws, repository, branch, files if files is not None else scaffold(config), "Initial commit"
    )
    task_role = f"arn:aws:iam::{ACCOUNT}:role/task-role"
    execution_role = f"arn:aws:iam::{ACCOUNT}:role/execution-role"
    for project, repo, extra in (
        (
            n.app_build_project,
            app["repository"],
            {
                "CONTAINER_NAME": "webapp",
                "TASK_ROLE_ARN": task_role,
                "EXECUTION_ROLE_ARN": execution_role,
            },
        ),
        (n.router_build_project, router["repository"], {"CONTAINER_NAME": "log-router"}),
    ):
        variables = {
            "AWS_ACCOUNT_ID": ACCOUNT,
            "IMAGE_REPOSITORY_URI": repo["repositoryUri"],
            "IMAGE_REPOSITORY_NAME": repo["repositoryName"],
            **extra,
        }
        spec = (
            "webapp/buildspec.yml" if project == n.app_build_project else "firelens/buildspec.yml"
        )
        clients.codebuild.create_project(
            name=project,
            source={"type": "CODEPIPELINE", "buildspec": spec},
            artifacts={"type": "CODEPIPELINE"},
            environment={
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/standard:7.0",
                "computeType": "BUILD_GENERAL1_SMALL",
                "privilegedMode": True,
                "environmentVariables": [
                    {"name": k, "value": v, "type": "PLAINTEXT"} for k, v in variables.items()
                ],
            },
            serviceRole=build_role,
            timeoutInMinutes=30,
        )
    fake = FakeCodeDeploy(aws, seconds=deploy_seconds, outcome=deploy_outcome)
    aws.services["codedeploy"] = fake
    return System(
        aws=aws,
        names=n,
        bucket=bucket,
        pipeline_role=pipeline_role,
        build_role=build_role,
        events_role=events_role,
        repository=repository,
        branch=branch,
        head=head,
        app_repository=app["repository"],
        router_repository=router["repository"],
        codedeploy=fake,
    )


def settle(
    aws: Emulator, pipeline: str, execution_id: str, limit: float = 7200, step: float = 30
) -> str:
    """Let simulated time pass until the execution ends; its final status."""
    codepipeline = aws.clients().codepipeline
    waited = 0.0
    while True:
        status = str(
            codepipeline.get_pipeline_execution(
                pipelineName=pipeline, pipelineExecutionId=execution_id
            )["pipelineExecution"]["status"]
        )
        if status not in ("InProgress", "Stopping") or waited >= limit:
            return status
        aws.sleep(step)
        waited += step
