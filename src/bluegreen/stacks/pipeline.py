"""Stack 3, pipeline: artifact bucket, two builds, CodeDeploy as code, the pipeline.

The seed's first pipeline run always failed because its CodeDeploy deployment group
had to be clicked together in the console; here the application *and* the deployment
group are resources of this stack, wired to the service stack's listeners, target
groups, cluster and service through Fn::ImportValue, so the first run can succeed.

Flow: Source (CodeCommit, started by an EventBridge rule on the configured branch) ->
Build (app and log-router images in parallel; each writes imageDetail.json, the app
build also renders taskdef.json) -> Deploy (CodeDeployToECS, blue/green through the
test listener, then the production listener).

ExecutionMode is SUPERSEDED: a blue/green deployment can sit in the Deploy stage for
the whole reroute wait; pushes arriving meanwhile collapse into one next run of the
newest commit instead of queueing a full release (and a promote) per stale commit.
A running deployment is never interrupted: CodePipeline only supersedes an execution
waiting at a stage boundary.
"""

from __future__ import annotations

from awacs.aws import Bool, Condition, Deny, Policy, Principal, Statement
from troposphere import GetAtt, Ref, Sub, Template, codebuild, codedeploy, codepipeline, events, s3

from bluegreen.config import Config
from bluegreen.names import (
    APP_IMAGE_PLACEHOLDER,
    ROUTER_IMAGE_PLACEHOLDER,
    Names,
    Outputs,
)
from bluegreen.stacks.common import add_output, arn, aws_managed_policy, import_value, log_group
from bluegreen.stacks.iam import POLICY_VERSION, actions, allow, passed_to, service_role

EXECUTION_MODE = "SUPERSEDED"
BUILD_IMAGE = "aws/codebuild/standard:7.0"
BUILD_COMPUTE = "BUILD_GENERAL1_SMALL"

SOURCE_OUTPUT = "SourceOutput"
APP_BUILD_OUTPUT = "AppBuildOutput"
ROUTER_BUILD_OUTPUT = "RouterBuildOutput"
TASKDEF_FILE = "taskdef.json"
APPSPEC_FILE = "appspec.yml"

STAGES = ("Source", "Build", "Deploy")

# CodeDeploy's deployment events that trigger a rollback (a stop requested by
# `bluegreen rollback` included).
ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"]


def _artifact_bucket(t: Template) -> tuple[s3.Bucket, Sub]:
    bucket = t.add_resource(
        s3.Bucket(
            "ArtifactBucket",
            BucketEncryption=s3.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    s3.ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                            SSEAlgorithm="AES256"
                        )
                    )
                ]
            ),
            VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
            PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
                BlockPublicAcls=True,
                BlockPublicPolicy=True,
                IgnorePublicAcls=True,
                RestrictPublicBuckets=True,
            ),
            OwnershipControls=s3.OwnershipControls(
                Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
        )
    )
    objects = Sub("${" + bucket.title + ".Arn}/*")
    t.add_resource(
        s3.BucketPolicy(
            "ArtifactBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=Policy(
                Version=POLICY_VERSION,
                Statement=[
                    Statement(
                        Sid="DenyInsecureTransport",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=actions("s3:*"),
                        Resource=[GetAtt(bucket, "Arn"), objects],
                        Condition=Condition(Bool("aws:SecureTransport", "false")),
                    )
                ],
            ),
        )
    )
    return bucket, objects


def build_pipeline(config: Config) -> Template:
    """The pipeline stack's template."""
    names = Names.of(config)
    stack = names.pipeline_stack
    deployment = config.deployment
    t = Template(
        Description=(
            f"bluegreen {names.prefix}: CodePipeline {config.source.branch} -> CodeBuild x2 -> "
            "CodeDeploy blue/green (deployment group included)"
        )
    )

    def source(key: str) -> object:
        return import_value(names, names.source_stack, key)

    def service(key: str) -> object:
        return import_value(names, names.service_stack, key)

    bucket, objects = _artifact_bucket(t)

    # --- builds ------------------------------------------------------------------------
    build_logs = {
        "App": t.add_resource(
            log_group("AppBuildLogGroup", names.app_build_log_group, config.logs.retention_days)
        ),
        "Router": t.add_resource(
            log_group(
                "RouterBuildLogGroup", names.router_build_log_group, config.logs.retention_days
            )
        ),
    }
    image_repository_arns = [
        source(Outputs.APP_IMAGE_REPOSITORY_ARN),
        source(Outputs.ROUTER_IMAGE_REPOSITORY_ARN),
    ]
    build_role = t.add_resource(
        service_role(
            "BuildRole",
            "codebuild.amazonaws.com",
            "CodeBuild: build and push the app and log-router images",
            statements=[
                allow(
                    ["logs:CreateLogStream", "logs:PutLogEvents"],
                    [GetAtt(group, "Arn") for group in build_logs.values()],
                ),
                allow(
                    ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                    [objects],
                ),
                allow(["s3:GetBucketAcl", "s3:GetBucketLocation"], [GetAtt(bucket, "Arn")]),
                allow(["ecr:GetAuthorizationToken"], ["*"]),
                allow(
                    [
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:CompleteLayerUpload",
                        "ecr:DescribeImages",
                        "ecr:GetDownloadUrlForLayer",
                        "ecr:ListImages",
                        "ecr:InitiateLayerUpload",
                        "ecr:PutImage",
                        "ecr:UploadLayerPart",
                    ],
                    image_repository_arns,
                ),
            ],
        )
    )

    def project(
        kind: str,
        name: str,
        directory: str,
        container: str,
        repository_name: str,
        repository_uri: str,
        extra: list[codebuild.EnvironmentVariable],
    ) -> codebuild.Project:
        variables = [
            codebuild.EnvironmentVariable(
                Name="AWS_ACCOUNT_ID", Type="PLAINTEXT", Value=Ref("AWS::AccountId")
            ),
            codebuild.EnvironmentVariable(
                Name="IMAGE_REPOSITORY_URI", Type="PLAINTEXT", Value=source(repository_uri)
            ),
            codebuild.EnvironmentVariable(
                Name="IMAGE_REPOSITORY_NAME", Type="PLAINTEXT", Value=source(repository_name)
            ),
            codebuild.EnvironmentVariable(Name="CONTAINER_NAME", Type="PLAINTEXT", Value=container),
            *extra,
        ]
        return t.add_resource(
            codebuild.Project(
                f"{kind}BuildProject",
                Name=name,
                Description=f"Build the {container} image from {directory}/ and push it to ECR",
                ServiceRole=GetAtt(build_role, "Arn"),
                Source=codebuild.Source(
                    Type="CODEPIPELINE", BuildSpec=f"{directory}/buildspec.yml"
                ),
                Artifacts=codebuild.Artifacts(Type="CODEPIPELINE"),
                Environment=codebuild.Environment(
                    Type="LINUX_CONTAINER",
                    ComputeType=BUILD_COMPUTE,
                    Image=BUILD_IMAGE,
                    PrivilegedMode=True,
                    EnvironmentVariables=variables,
                ),
                LogsConfig=codebuild.LogsConfig(
                    CloudWatchLogs=codebuild.CloudWatchLogs(
                        Status="ENABLED", GroupName=Ref(build_logs[kind])
                    )
                ),
                TimeoutInMinutes=30,
            )
        )

    app_project = project(
        "App",
        names.app_build_project,
        config.app.directory,
        config.app.name,
        Outputs.APP_IMAGE_REPOSITORY_NAME,
        Outputs.APP_IMAGE_REPOSITORY_URI,
        [
            codebuild.EnvironmentVariable(
                Name="TASK_ROLE_ARN", Type="PLAINTEXT", Value=service(Outputs.TASK_ROLE_ARN)
            ),
            codebuild.EnvironmentVariable(
                Name="EXECUTION_ROLE_ARN",
                Type="PLAINTEXT",
                Value=service(Outputs.EXECUTION_ROLE_ARN),
            ),
        ],
    )
    router_project = project(
        "Router",
        names.router_build_project,
        config.router.directory,
        config.router.name,
        Outputs.ROUTER_IMAGE_REPOSITORY_NAME,
        Outputs.ROUTER_IMAGE_REPOSITORY_URI,
        [],
    )

    # --- CodeDeploy --------------------------------------------------------------------
    application = t.add_resource(
        codedeploy.Application(
            "CodeDeployApplication",
            ApplicationName=names.codedeploy_application,
            ComputePlatform="ECS",
        )
    )
    deploy_role = t.add_resource(
        service_role(
            "CodeDeployRole",
            "codedeploy.amazonaws.com",
            "CodeDeploy: blue/green deployments of the ECS service",
            managed_policy_arns=[aws_managed_policy("AWSCodeDeployRoleForECS")],
        )
    )
    # auto: CONTINUE_DEPLOYMENT, production traffic moves as soon as the green tasks are
    # ready; manual: STOP_DEPLOYMENT, reroute only on promote, stop the deployment if nobody
    # does within WaitTimeInMinutes. The wait applies to STOP_DEPLOYMENT only, and CodeDeploy
    # refuses a deployment group with CONTINUE_DEPLOYMENT and a wait ("Deployment ready
    # action cannot be set to 'CONTINUE_DEPLOYMENT' when timeout is specified"), so auto
    # sends none.
    auto_reroute = deployment.reroute == "auto"
    ready_option = (
        codedeploy.DeploymentReadyOption(ActionOnTimeout="CONTINUE_DEPLOYMENT")
        if auto_reroute
        else codedeploy.DeploymentReadyOption(
            ActionOnTimeout="STOP_DEPLOYMENT", WaitTimeInMinutes=deployment.wait_minutes
        )
    )
    deployment_group = t.add_resource(
        codedeploy.DeploymentGroup(
            "DeploymentGroup",
            ApplicationName=Ref(application),
            DeploymentGroupName=names.deployment_group,
            ServiceRoleArn=GetAtt(deploy_role, "Arn"),
            DeploymentConfigName=deployment.config,
            DeploymentStyle=codedeploy.DeploymentStyle(
                DeploymentType="BLUE_GREEN", DeploymentOption="WITH_TRAFFIC_CONTROL"
            ),
            ECSServices=[
                codedeploy.ECSService(
                    ClusterName=service(Outputs.CLUSTER_NAME),
                    ServiceName=service(Outputs.SERVICE_NAME),
                )
            ],
            LoadBalancerInfo=codedeploy.LoadBalancerInfo(
                TargetGroupPairInfoList=[
                    codedeploy.TargetGroupPairInfo(
                        TargetGroups=[
                            codedeploy.TargetGroupInfo(
                                Name=service(Outputs.BLUE_TARGET_GROUP_NAME)
                            ),
                            codedeploy.TargetGroupInfo(
                                Name=service(Outputs.GREEN_TARGET_GROUP_NAME)
                            ),
                        ],
                        ProdTrafficRoute=codedeploy.TrafficRoute(
                            ListenerArns=[service(Outputs.PRODUCTION_LISTENER_ARN)]
                        ),
                        TestTrafficRoute=codedeploy.TrafficRoute(
                            ListenerArns=[service(Outputs.TEST_LISTENER_ARN)]
                        ),
                    )
                ]
            ),
            BlueGreenDeploymentConfiguration=codedeploy.BlueGreenDeploymentConfiguration(
                DeploymentReadyOption=ready_option,
                TerminateBlueInstancesOnDeploymentSuccess=codedeploy.BlueInstanceTerminationOption(
                    Action="TERMINATE",
                    TerminationWaitTimeInMinutes=deployment.termination_wait_minutes,
                ),
            ),
            AutoRollbackConfiguration=codedeploy.AutoRollbackConfiguration(
                Enabled=deployment.auto_rollback, Events=ROLLBACK_EVENTS
            ),
        )
    )

    # --- pipeline ------------------------------------------------------------------------
    codedeploy_resources = [
        arn("codedeploy", f"application:{names.codedeploy_application}"),
        arn(
            "codedeploy",
            f"deploymentgroup:{names.codedeploy_application}/{names.deployment_group}",
        ),
        arn("codedeploy", f"deploymentconfig:{deployment.config}"),
    ]
    pipeline_role = t.add_resource(
        service_role(
            "PipelineRole",
            "codepipeline.amazonaws.com",
            "CodePipeline: source from CodeCommit, run the builds, start the deployment",
            statements=[
                allow(
                    ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"],
                    [objects],
                ),
                allow(
                    ["s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketVersioning"],
                    [GetAtt(bucket, "Arn")],
                ),
                allow(
                    [
                        "codecommit:CancelUploadArchive",
                        "codecommit:GetBranch",
                        "codecommit:GetCommit",
                        "codecommit:GetRepository",
                        "codecommit:GetUploadArchiveStatus",
                        "codecommit:UploadArchive",
                    ],
                    [source(Outputs.REPOSITORY_ARN)],
                ),
                allow(
                    ["codebuild:BatchGetBuilds", "codebuild:StartBuild"],
                    [GetAtt(app_project, "Arn"), GetAtt(router_project, "Arn")],
                ),
                allow(
                    [
                        "codedeploy:CreateDeployment",
                        "codedeploy:GetApplication",
                        "codedeploy:GetApplicationRevision",
                        "codedeploy:GetDeployment",
                        "codedeploy:GetDeploymentConfig",
                        "codedeploy:RegisterApplicationRevision",
                    ],
                    codedeploy_resources,
                ),
                allow(["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"], ["*"]),
                allow(["ecs:DescribeServices"], [service(Outputs.SERVICE_ARN)]),
                allow(
                    ["iam:PassRole"],
                    [service(Outputs.TASK_ROLE_ARN), service(Outputs.EXECUTION_ROLE_ARN)],
                    condition=passed_to("ecs-tasks.amazonaws.com"),
                ),
            ],
        )
    )

    def aws_action(category: str, provider: str) -> codepipeline.ActionTypeId:
        return codepipeline.ActionTypeId(
            Category=category, Owner="AWS", Provider=provider, Version="1"
        )

    def artifacts(*names_: str) -> list[codepipeline.InputArtifacts]:
        return [codepipeline.InputArtifacts(Name=n) for n in names_]

    source_stage = codepipeline.Stages(
        Name=STAGES[0],
        Actions=[
            codepipeline.Actions(
                Name="Source",
                ActionTypeId=aws_action("Source", "CodeCommit"),
                Configuration={
                    "RepositoryName": source(Outputs.REPOSITORY_NAME),
                    "BranchName": config.source.branch,
                    # The EventBridge rule below starts the pipeline; no polling.
                    "PollForSourceChanges": "false",
                    "OutputArtifactFormat": "CODE_ZIP",
                },
                OutputArtifacts=[codepipeline.OutputArtifacts(Name=SOURCE_OUTPUT)],
                RunOrder=1,
            )
        ],
    )
    build_stage = codepipeline.Stages(
        Name=STAGES[1],
        Actions=[
            codepipeline.Actions(
                Name=f"Build{kind}",
                ActionTypeId=aws_action("Build", "CodeBuild"),
                Configuration={"ProjectName": Ref(build_project)},
                InputArtifacts=artifacts(SOURCE_OUTPUT),
                OutputArtifacts=[codepipeline.OutputArtifacts(Name=output)],
                # Same RunOrder: the two images build in parallel.
                RunOrder=1,
            )
            for kind, build_project, output in (
                ("App", app_project, APP_BUILD_OUTPUT),
                ("Router", router_project, ROUTER_BUILD_OUTPUT),
            )
        ],
    )
    deploy_stage = codepipeline.Stages(
        Name=STAGES[2],
        Actions=[
            codepipeline.Actions(
                Name="Deploy",
                ActionTypeId=aws_action("Deploy", "CodeDeployToECS"),
                Configuration={
                    "ApplicationName": Ref(application),
                    "DeploymentGroupName": Ref(deployment_group),
                    "TaskDefinitionTemplateArtifact": APP_BUILD_OUTPUT,
                    "TaskDefinitionTemplatePath": TASKDEF_FILE,
                    "AppSpecTemplateArtifact": SOURCE_OUTPUT,
                    "AppSpecTemplatePath": APPSPEC_FILE,
                    "Image1ArtifactName": APP_BUILD_OUTPUT,
                    "Image1ContainerName": APP_IMAGE_PLACEHOLDER,
                    "Image2ArtifactName": ROUTER_BUILD_OUTPUT,
                    "Image2ContainerName": ROUTER_IMAGE_PLACEHOLDER,
                },
                InputArtifacts=artifacts(SOURCE_OUTPUT, APP_BUILD_OUTPUT, ROUTER_BUILD_OUTPUT),
                RunOrder=1,
            )
        ],
    )
    pipeline = t.add_resource(
        codepipeline.Pipeline(
            "Pipeline",
            Name=names.pipeline,
            PipelineType="V2",
            ExecutionMode=EXECUTION_MODE,
            RoleArn=GetAtt(pipeline_role, "Arn"),
            ArtifactStore=codepipeline.ArtifactStore(Type="S3", Location=Ref(bucket)),
            Stages=[source_stage, build_stage, deploy_stage],
        )
    )

    # --- change detection -----------------------------------------------------------------
    pipeline_arn = arn("codepipeline", names.pipeline)
    events_role = t.add_resource(
        service_role(
            "SourceEventRole",
            "events.amazonaws.com",
            "EventBridge: start the pipeline on a push to the release branch",
            statements=[allow(["codepipeline:StartPipelineExecution"], [pipeline_arn])],
        )
    )
    t.add_resource(
        events.Rule(
            "SourceChangeRule",
            Description=f"Start {names.pipeline} on a push to {config.source.branch}",
            State="ENABLED",
            EventPattern={
                "source": ["aws.codecommit"],
                "detail-type": ["CodeCommit Repository State Change"],
                "resources": [source(Outputs.REPOSITORY_ARN)],
                "detail": {
                    "event": ["referenceCreated", "referenceUpdated"],
                    "referenceType": ["branch"],
                    "referenceName": [config.source.branch],
                },
            },
            Targets=[
                events.Target(
                    Id="Pipeline",
                    Arn=pipeline_arn,
                    RoleArn=GetAtt(events_role, "Arn"),
                )
            ],
        )
    )

    # --- outputs ----------------------------------------------------------------------------
    def out(key: str, value: object, description: str) -> None:
        add_output(t, names, stack, key, value, description)

    out(Outputs.PIPELINE_NAME, Ref(pipeline), "CodePipeline")
    out(Outputs.ARTIFACT_BUCKET, Ref(bucket), "artifact bucket (emptied by destroy on request)")
    out(Outputs.CODEDEPLOY_APPLICATION, Ref(application), "CodeDeploy application")
    out(Outputs.DEPLOYMENT_GROUP, Ref(deployment_group), "CodeDeploy deployment group")
    out(Outputs.APP_BUILD_PROJECT, Ref(app_project), "app image build")
    out(Outputs.ROUTER_BUILD_PROJECT, Ref(router_project), "log-router image build")
    return t
