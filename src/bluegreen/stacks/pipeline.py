"""Stack 3, pipeline: artifact bucket, two builds, the deploy step, the pipeline.

The seed's first pipeline run always failed because its CodeDeploy deployment group
had to be clicked together in the console; here the application *and* the deployment
group are resources of this stack, wired to the service stack's listeners, target
groups, cluster and service through Fn::ImportValue, so the first run can succeed.

Flow: Source (CodeCommit, started by an EventBridge rule on the configured branch) ->
Build (the app image, then the log-router image; each writes imageDetail.json, the app
build also renders taskdef.json and hands on appspec.yml) -> Deploy (CodeDeployToECS,
blue/green through the test listener, then the production listener; it reads only the
builds' small outputs, never the repository zip).

With ``deployment.engine = "ecs"`` there is no CodeDeploy: the Deploy stage is a
CodeBuild build of bluegreen's own (:data:`DEPLOY_BUILDSPEC`, inline in the template)
that fills the images into taskdef.json, registers it, calls ecs:UpdateService and waits
for the service deployment ECS starts. Why not CodePipeline's "Amazon ECS" deploy
action (provider ECS)? Three findings decided it:

- Its time limit. "The Amazon ECS deployment action timeout is configurable up to one
  hour (the default timeout)" (Quotas in AWS CodePipeline,
  https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html; the CDK's
  EcsDeployActionProps: "deploymentTimeout ... Value must be between 1-60"). The manual
  wait alone (a PAUSE hook, up to 14 days) and a linear or canary shift can outlast it,
  and a timed-out action fails the execution while the deployment goes on.
- Nothing documents how the action treats an ECS blue/green, linear or canary
  deployment: whether it waits through PAUSE hooks and the bake, or reports a rollback
  (the action reference, action-reference-ECS, describes imagedefinitions.json and
  DeploymentTimeout only). Even for rolling updates it is known not to fail fast when
  ECS gives up (aws/containers-roadmap#1399: the circuit breaker stopped the deployment
  and the action stayed in progress until its one-hour timeout).
- A CodeBuild action may run 8 hours ("CodeBuild build action and test action: 8
  hours", same quotas page), and a build can read the deployment's status and stage from
  DescribeServiceDeployments and decide: SUCCESSFUL succeeds; ROLLBACK_* and STOPPED fail
  the build, so a rollback fails the pipeline execution; BAKE_TIME (production has moved
  to green) succeeds unless deployment.ecs.pipeline_waits_for_bake, so the bake does not
  hold the pipeline. The same design is used by a 2026 reference build
  (choisungwook/portfolio#1261: "CodeBuild waits for SUCCESSFUL or ROLLBACK so that the
  pipeline result equals the deployment result"). config.py refuses a wait that would
  not fit in the 8 hours, and the build's timeout is the waits plus a margin
  (:func:`bluegreen.config.deploy_step_minutes`).

ExecutionMode is SUPERSEDED: a blue/green deployment can sit in the Deploy stage for
the whole reroute wait; pushes arriving meanwhile collapse into one next run of the
newest commit instead of queueing a full release (and a promote) per stale commit.
A running deployment is never interrupted: CodePipeline only supersedes an execution
waiting at a stage boundary.
"""

from __future__ import annotations

from collections.abc import Callable

from awacs.aws import (
    ArnLike,
    Bool,
    Condition,
    Deny,
    Policy,
    Principal,
    Statement,
    StringEquals,
    StringLike,
)
from troposphere import (
    GetAtt,
    Ref,
    Sub,
    Template,
    codebuild,
    codedeploy,
    codepipeline,
    events,
    iam,
    s3,
)

from bluegreen.config import Config, deploy_step_minutes
from bluegreen.names import (
    APP_IMAGE_PLACEHOLDER,
    ROUTER_IMAGE_PLACEHOLDER,
    Names,
    Outputs,
)
from bluegreen.stacks import verification as verify_stacks
from bluegreen.stacks.branches import add_branch_checks
from bluegreen.stacks.common import add_output, arn, aws_managed_policy, import_value, log_group
from bluegreen.stacks.connections import apply_connection_source
from bluegreen.stacks.iam import (
    POLICY_VERSION,
    actions,
    allow,
    assumed_for,
    passed_to,
    service_role,
)

EXECUTION_MODE = "SUPERSEDED"
BUILD_IMAGE = "aws/codebuild/standard:7.0"
BUILD_COMPUTE = "BUILD_GENERAL1_SMALL"

SOURCE_OUTPUT = "SourceOutput"
APP_BUILD_OUTPUT = "AppBuildOutput"
ROUTER_BUILD_OUTPUT = "RouterBuildOutput"
TASKDEF_FILE = "taskdef.json"
APPSPEC_FILE = "appspec.yml"

STAGES = ("Source", "Build", "Deploy")

# Build actions run one after the other: app (RunOrder 1), then log router (RunOrder 2).
# A new account's CodeBuild concurrent-build quota can be 1 ("Internal metrics will
# determine the default quotas for concurrent running builds", Quotas for AWS CodeBuild,
# https://docs.aws.amazon.com/codebuild/latest/userguide/limits.html); two builds at the
# same RunOrder then fail the first release with AccountLimitExceededException "Cannot
# have more than 1 builds in queue for the account"
# (aws-samples/aws-gateway-load-balancer-suricata-ids-ips-nsm#12; landing-zone-accelerator
# PR #335 serialises its stages for the same reason). The app goes first: it is what
# changes in nearly every commit and the build most likely to fail (pip wheels, the
# Dockerfile, taskdef.json rendering), so a broken release fails after one build, not two.
# The cost is the router build's duration on every release (its queue, provisioning and
# docker build/push: about 1.5-3 minutes; see the README).
BUILD_RUN_ORDER = {"App": 1, "Router": 2}

ARTIFACT_EXPIRATION_DAYS = 30
"""Pipeline artifacts (source zips, build outputs) are deleted this long after they are
written. A pipeline execution reads its artifacts only while it runs (at most the reroute
wait plus the termination wait, two days each), and a retry of an old execution's stage
is the only later reader; a release of an old commit is a new execution that re-reads
CodeCommit. 30 days keeps a month of retries possible."""

NONCURRENT_EXPIRATION_DAYS = 7
"""The bucket is versioned: an expired or overwritten artifact stays as a noncurrent
version this long, then it is deleted for good."""

ABORT_MULTIPART_DAYS = 1
"""Parts of a multipart upload that never completed (an interrupted artifact upload) are
removed after this many days."""

# The CodeDeploy service role's AWS managed policy (see build_pipeline for the choice).
CODEDEPLOY_MANAGED_POLICY = "AWSCodeDeployRoleForECSLimited"

# CodeDeploy's deployment events that trigger a rollback (a stop requested by
# `bluegreen rollback` included).
ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"]


DEPLOY_POLL_SECONDS = 15
"""How often the deploy step reads the deployment (DescribeServiceDeployments)."""

DEPLOYMENT_FOUND_ATTEMPTS = 24
"""How many times (5 s apart) the deploy step looks for the service deployment its
UpdateService started before it gives up: ListServiceDeployments may list it a moment
after the call. The new deployment is the one listed that was not listed before the
call (no clock comparison: the build's clock and ECS's createdAt need not agree). Every
page is read (``--next-token``): ListServiceDeployments "returns up to 20 results and a
nextToken" by default, documents no order, and botocore has no paginator for it, so the
AWS CLI reads one page (ListServiceDeployments request, maxResults, botocore's ECS
model); with one page, a new deployment beyond it would never be seen."""

# The deploy step (engine "ecs"). Inputs: the app build's output as the primary source
# (taskdef.json rendered with the stack's roles and region, imageDetail.json of the app
# image) and the router build's output in CODEBUILD_SRC_DIR_<artifact name> (CodeBuild
# user guide, "CodePipeline integration with CodeBuild and multiple input sources").
# Statuses and stages: ServiceDeployment.status and .lifecycleStage (botocore ECS model;
# ECS API reference, ServiceDeployment). The AWS CLI's describe and list calls are
# documented in the ECS developer guide, "View service history using Amazon ECS service
# deployments". The script never calls `exit`: CodeBuild runs a phase's commands in one
# shell, and the last command's status (the final test) decides the build.
DEPLOY_BUILDSPEC = """version: 0.2
env:
  shell: bash
phases:
  build:
    on-failure: ABORT
    commands:
      - ': "${CLUSTER:?set by the CodeBuild project}" "${SERVICE:?set by the CodeBuild project}" "${WAIT_FOR_BAKE:?set by the CodeBuild project}" "${POLL_SECONDS:?set by the CodeBuild project}"'
      - APP_IMAGE="$(jq -er .ImageURI imageDetail.json)"
      - ROUTER_IMAGE="$(jq -er .ImageURI "${CODEBUILD_SRC_DIR_%(router)s}/imageDetail.json")"
      - sed -e "s|<%(image1)s>|${APP_IMAGE}|g" -e "s|<%(image2)s>|${ROUTER_IMAGE}|g" taskdef.json > taskdef.deploy.json
      - TASK_DEFINITION="$(aws ecs register-task-definition --cli-input-json file://taskdef.deploy.json --query taskDefinition.taskDefinitionArn --output text)"
      - echo "registered ${TASK_DEFINITION}"
      - |
        deployments() {
          local token="" page
          while :; do
            page="$(aws ecs list-service-deployments --cluster "${CLUSTER}" --service "${SERVICE}" --max-results 100 ${token:+--next-token "${token}"} --output json)"
            jq -r '.serviceDeployments[].serviceDeploymentArn' <<< "${page}"
            token="$(jq -r '.nextToken // empty' <<< "${page}")"
            [ -n "${token}" ] || break
          done
        }
      - BEFORE="$(deployments)"
      - aws ecs update-service --cluster "${CLUSTER}" --service "${SERVICE}" --task-definition "${TASK_DEFINITION}" --query service.serviceArn --output text
      - |
        DEPLOYMENT=""
        for attempt in $(seq 1 %(attempts)d); do
          DEPLOYMENT="$(deployments | grep -vxF -e "${BEFORE:-none}" | head -n 1 || true)"
          if [ -n "${DEPLOYMENT}" ]; then break; fi
          sleep 5
        done
        echo "service deployment: ${DEPLOYMENT:-none found}"
        RESULT=failed
        while [ -n "${DEPLOYMENT}" ]; do
          read -r STATUS STAGE < <(aws ecs describe-service-deployments --service-deployment-arns "${DEPLOYMENT}" --query 'serviceDeployments[0].[status,lifecycleStage]' --output text)
          echo "${STATUS} ${STAGE}"
          case "${STATUS}" in
            SUCCESSFUL) RESULT=succeeded; break ;;
            STOPPED|STOP_REQUESTED|ROLLBACK_REQUESTED|ROLLBACK_IN_PROGRESS|ROLLBACK_SUCCESSFUL|ROLLBACK_FAILED)
              aws ecs describe-service-deployments --service-deployment-arns "${DEPLOYMENT}" --query 'serviceDeployments[0].[statusReason,rollback.reason]' --output text
              echo "the deployment did not succeed (${STATUS}); production stays on the previous release"
              break ;;
          esac
          if [ "${WAIT_FOR_BAKE}" = false ] && { [ "${STAGE}" = BAKE_TIME ] || [ "${STAGE}" = CLEAN_UP ]; }; then
            echo "production serves ${TASK_DEFINITION}; the bake goes on without the pipeline"
            RESULT=succeeded
            break
          fi
          sleep "${POLL_SECONDS}"
        done
        [ "${RESULT}" = succeeded ]
"""  # noqa: E501 (shell lines read better unbroken)


def deploy_buildspec() -> str:
    """The deploy step's buildspec (see DEPLOY_BUILDSPEC)."""
    return DEPLOY_BUILDSPEC % {
        "router": ROUTER_BUILD_OUTPUT,
        "image1": APP_IMAGE_PLACEHOLDER,
        "image2": ROUTER_IMAGE_PLACEHOLDER,
        "attempts": DEPLOYMENT_FOUND_ATTEMPTS,
    }


def _ecs_deploy_step(
    t: Template,
    config: Config,
    names: Names,
    bucket: s3.Bucket,
    objects: Sub,
    service: Callable[[str], object],
) -> codebuild.Project:
    """The deploy step's CodeBuild project, its role and its log group (engine "ecs")."""
    logs = t.add_resource(
        log_group("DeployLogGroup", names.deploy_log_group, config.logs.retention_days)
    )
    service_arn = service(Outputs.SERVICE_ARN)
    role = t.add_resource(
        service_role(
            "DeployRole",
            "codebuild.amazonaws.com",
            f"CodeBuild {names.deploy_project}: register the task definition, update the "
            "ECS service and follow its deployment",
            statements=[
                allow(["logs:CreateLogStream", "logs:PutLogEvents"], [GetAtt(logs, "Arn")]),
                # Reads the builds' outputs; writes nothing (the action has no output).
                allow(["s3:GetObject", "s3:GetObjectVersion"], [objects]),
                allow(["s3:GetBucketAcl", "s3:GetBucketLocation"], [GetAtt(bucket, "Arn")]),
                allow(["ecs:RegisterTaskDefinition"], ["*"]),
                # RegisterTaskDefinition with a task role and an execution role needs
                # iam:PassRole on both ("Amazon ECS task execution IAM role", "Amazon ECS
                # task IAM role", ECS developer guide).
                allow(
                    ["iam:PassRole"],
                    [service(Outputs.TASK_ROLE_ARN), service(Outputs.EXECUTION_ROLE_ARN)],
                    condition=passed_to("ecs-tasks.amazonaws.com"),
                ),
                allow(
                    ["ecs:UpdateService", "ecs:DescribeServices", "ecs:ListServiceDeployments"],
                    [service_arn],
                ),
                # Service deployment ARNs: arn:...:service-deployment/<cluster>/<service>/<id>
                # (ECS developer guide, "Continuing service deployments", CLI example).
                allow(
                    ["ecs:DescribeServiceDeployments"],
                    [arn("ecs", f"service-deployment/{names.cluster}/{names.service}/*")],
                ),
            ],
            # As for the build roles: aws:SourceAccount and the project's ARN (CodeBuild
            # User Guide, "Allow CodeBuild to interact with other AWS services").
            trust_condition=assumed_for(
                arn("codebuild", f"project/{names.deploy_project}"), StringEquals
            ),
        )
    )
    waits = config.deployment.ecs.pipeline_waits_for_bake
    variables = {
        "CLUSTER": service(Outputs.CLUSTER_NAME),
        "SERVICE": service(Outputs.SERVICE_NAME),
        "WAIT_FOR_BAKE": "true" if waits else "false",
        "POLL_SECONDS": str(DEPLOY_POLL_SECONDS),
    }
    return t.add_resource(
        codebuild.Project(
            "DeployProject",
            Name=names.deploy_project,
            Description=f"Deploy a release to {names.service} with ECS built-in blue/green "
            "and wait for its outcome",
            ServiceRole=GetAtt(role, "Arn"),
            Source=codebuild.Source(Type="CODEPIPELINE", BuildSpec=deploy_buildspec()),
            Artifacts=codebuild.Artifacts(Type="CODEPIPELINE"),
            Environment=codebuild.Environment(
                Type="LINUX_CONTAINER",
                ComputeType=BUILD_COMPUTE,
                Image=BUILD_IMAGE,
                EnvironmentVariables=[
                    codebuild.EnvironmentVariable(Name=name, Type="PLAINTEXT", Value=value)
                    for name, value in variables.items()
                ],
            ),
            LogsConfig=codebuild.LogsConfig(
                CloudWatchLogs=codebuild.CloudWatchLogs(Status="ENABLED", GroupName=Ref(logs))
            ),
            # The waits plus a margin, within CodePipeline's 8 hours (config.py refuses
            # more): the manual wait is never cut off by the build's own timeout.
            TimeoutInMinutes=deploy_step_minutes(config.deployment),
        )
    )


def _ecs_deploy_action(project: codebuild.Project) -> codepipeline.Actions:
    return codepipeline.Actions(
        Name="Deploy",
        ActionTypeId=aws_action("Build", "CodeBuild"),
        Configuration={
            "ProjectName": Ref(project),
            # taskdef.json and the app's imageDetail.json in CODEBUILD_SRC_DIR; the router
            # build's output beside it (CodeBuild action reference, PrimarySource).
            "PrimarySource": APP_BUILD_OUTPUT,
        },
        # Only the builds' outputs, as with CodeDeployToECS (bluegreen verify checks it).
        InputArtifacts=artifacts(APP_BUILD_OUTPUT, ROUTER_BUILD_OUTPUT),
        RunOrder=1,
    )


def aws_action(category: str, provider: str) -> codepipeline.ActionTypeId:
    return codepipeline.ActionTypeId(Category=category, Owner="AWS", Provider=provider, Version="1")


def artifacts(*names_: str) -> list[codepipeline.InputArtifacts]:
    return [codepipeline.InputArtifacts(Name=n) for n in names_]


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
            # S3 lifecycle configuration elements:
            # https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html
            # ExpiredObjectDeleteMarker "cannot be specified with Days or Date in a
            # Lifecycle Expiration Policy" (S3 API LifecycleExpiration), hence the second
            # rule: it removes the delete markers that expiration leaves behind once
            # their noncurrent versions are gone.
            LifecycleConfiguration=s3.LifecycleConfiguration(
                Rules=[
                    s3.LifecycleRule(
                        Id="ExpireArtifacts",
                        Status="Enabled",
                        ExpirationInDays=ARTIFACT_EXPIRATION_DAYS,
                        NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                            NoncurrentDays=NONCURRENT_EXPIRATION_DAYS
                        ),
                        AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                            DaysAfterInitiation=ABORT_MULTIPART_DAYS
                        ),
                    ),
                    s3.LifecycleRule(
                        Id="RemoveExpiredDeleteMarkers",
                        Status="Enabled",
                        ExpiredObjectDeleteMarker=True,
                    ),
                ]
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


def _alarm_configuration(config: Config, alarms: list[str]) -> dict[str, object]:
    """The deployment group's alarms (issue 11): CodeDeploy stops a deployment when one of
    them is in ALARM ("you can set up a CloudWatch alarm so that CodeDeploy stops a
    deployment when the alarm is activated", AlarmConfiguration, CodeDeploy API
    reference; CodeDeploy User Guide, "Monitoring deployments with CloudWatch alarms in
    CodeDeploy"), and rolls it back with the DEPLOYMENT_STOP_ON_ALARM event. A deployment
    is in progress until the original task set is gone, the termination wait included
    (aws/containers-roadmap#269, AWS's answer), so the alarms cover that wait too."""
    if not alarms:
        return {}
    return {
        "AlarmConfiguration": codedeploy.AlarmConfiguration(
            Enabled=True,
            Alarms=[codedeploy.Alarm(Name=name) for name in alarms],
            IgnorePollAlarmFailure=config.verify.alarms.ignore_poll_failure,
        )
    }


def build_pipeline(config: Config) -> Template:
    """The pipeline stack's template."""
    names = Names.of(config)
    stack = names.pipeline_stack
    deployment = config.deployment
    native = deployment.engine == "ecs"
    t = Template(
        Description=(
            f"bluegreen {names.prefix}: CodePipeline {config.source.branch} -> CodeBuild x2 -> "
            + (
                "a CodeBuild deploy step (ECS built-in blue/green)"
                if native
                else "CodeDeploy blue/green (deployment group included)"
            )
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
    project_names = {"App": names.app_build_project, "Router": names.router_build_project}
    repository_arns = {
        "App": source(Outputs.APP_IMAGE_REPOSITORY_ARN),
        "Router": source(Outputs.ROUTER_IMAGE_REPOSITORY_ARN),
    }

    def build_role(kind: str, container: str) -> iam.Role:
        """One CodeBuild service role per project: its own log group and image repository
        only (a router build cannot push to the app's repository), plus the artifact
        bucket it reads the source from and writes its output to."""
        return t.add_resource(
            service_role(
                f"{kind}BuildRole",
                "codebuild.amazonaws.com",
                f"CodeBuild {project_names[kind]}: build and push the {container} image",
                statements=[
                    allow(
                        ["logs:CreateLogStream", "logs:PutLogEvents"],
                        [GetAtt(build_logs[kind], "Arn")],
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
                            "ecr:InitiateLayerUpload",
                            "ecr:PutImage",
                            "ecr:UploadLayerPart",
                        ],
                        [repository_arns[kind]],
                    ),
                ],
                # CodeBuild documents aws:SourceAccount (the project's owner) and
                # aws:SourceArn (the project's ARN) for its service role's trust, both with
                # StringEquals: AWS CodeBuild User Guide, "Allow CodeBuild to interact with
                # other AWS services",
                # https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html
                # The ARN is spelled out (not GetAtt) because the project refers to the role.
                trust_condition=assumed_for(
                    arn("codebuild", f"project/{project_names[kind]}"), StringEquals
                ),
            )
        )

    build_roles = {
        "App": build_role("App", config.app.name),
        "Router": build_role("Router", config.router.name),
    }

    def project(
        kind: str,
        name: str,
        directory: str,
        container: str,
        repository_name: str,
        repository_uri: str,
        extra: list[codebuild.EnvironmentVariable],
    ) -> codebuild.Project:
        # No AWS_ACCOUNT_ID: the buildspecs log in to the registry host of
        # IMAGE_REPOSITORY_URI, which also holds in the aws-cn partition.
        variables = [
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
                ServiceRole=GetAtt(build_roles[kind], "Arn"),
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

    # --- the Deploy step ----------------------------------------------------------------
    deploy_statements: list[Statement]
    outputs: list[tuple[str, object, str]] = []
    if native:
        deploy_project = _ecs_deploy_step(t, config, names, bucket, objects, service)
        deploy_statements = [
            allow(
                ["codebuild:BatchGetBuilds", "codebuild:StartBuild"],
                [GetAtt(deploy_project, "Arn")],
            )
        ]
        deploy_action = _ecs_deploy_action(deploy_project)
        outputs.append((Outputs.DEPLOY_PROJECT, Ref(deploy_project), "the Deploy step"))
    else:
        # --- CodeDeploy --------------------------------------------------------------------
        deployment_group_arn = arn(
            "codedeploy",
            f"deploymentgroup:{names.codedeploy_application}/{names.deployment_group}",
        )
        application = t.add_resource(
            codedeploy.Application(
                "CodeDeployApplication",
                ApplicationName=names.codedeploy_application,
                ComputePlatform="ECS",
            )
        )
        # AWSCodeDeployRoleForECSLimited, not AWSCodeDeployRoleForECS (which allows
        # lambda:InvokeFunction, sns:Publish and s3:GetObject on "*"): the Limited policy keeps
        # the ECS task-set and ELB listener/rule actions a blue/green deployment needs and
        # narrows the rest to lambda:InvokeFunction on CodeDeployHook_* functions (the naming
        # lifecycle-hook functions follow), sns:Publish on CodeDeployTopic_* topics and
        # s3:GetObject on objects tagged UseWithCodeDeploy=true (AWS managed policy reference,
        # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCodeDeployRoleForECSLimited.html;
        # CDK review: aws/aws-cdk#22081, "Should be AWSCodeDeployRoleForECSLimited").
        # A hand-scoped inline policy would be tighter still, but AWS does not document every
        # call CodeDeploy makes, and a missing action fails only on AWS, mid-deployment; the
        # AWS-maintained policy follows the service. Its iam:PassRole covers only roles named
        # ecsTaskExecutionRole or ECSTaskExecution*, so the stacks' own task and execution roles
        # are passed through the inline statement below, as the ECS guide asks ("you must add
        # the iam:PassRole permission for each task execution role or task role override to
        # the CodeDeploy role": Amazon ECS CodeDeploy IAM role,
        # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/codedeploy_IAM_role.html).
        deploy_role = t.add_resource(
            service_role(
                "CodeDeployRole",
                "codedeploy.amazonaws.com",
                "CodeDeploy: blue/green deployments of the ECS service",
                statements=[
                    allow(
                        ["iam:PassRole"],
                        [service(Outputs.TASK_ROLE_ARN), service(Outputs.EXECUTION_ROLE_ARN)],
                        condition=passed_to("ecs-tasks.amazonaws.com"),
                    )
                ],
                managed_policy_arns=[aws_managed_policy(CODEDEPLOY_MANAGED_POLICY)],
                # CodeDeploy documents aws:SourceAccount and aws:SourceArn (the deployment
                # group's ARN, compared with StringLike): AWS CodeDeploy User Guide,
                # "Cross-service confused deputy prevention",
                # https://docs.aws.amazon.com/codedeploy/latest/userguide/security_confused_deputy.html
                # (The page's other case, the CloudFormation stack ARN, is for ECS blue/green
                # deployments CloudFormation itself creates through the AWS::CodeDeploy::BlueGreen
                # hook, which this design does not use; here CodePipeline creates them on the
                # deployment group.)
                trust_condition=assumed_for(deployment_group_arn, StringLike),
            )
        )
        # auto: CONTINUE_DEPLOYMENT, production traffic moves as soon as the green tasks are
        # ready; manual: STOP_DEPLOYMENT, reroute only on promote, stop the deployment if nobody
        # does within WaitTimeInMinutes. The wait applies to STOP_DEPLOYMENT only, and CodeDeploy
        # refuses a deployment group with CONTINUE_DEPLOYMENT and a wait ("Deployment ready
        # action cannot be set to 'CONTINUE_DEPLOYMENT' when timeout is specified"), so auto
        # sends none.
        alarms = verify_stacks.alarm_names(config)
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
                    Enabled=deployment.auto_rollback,
                    Events=ROLLBACK_EVENTS + (["DEPLOYMENT_STOP_ON_ALARM"] if alarms else []),
                ),
                **_alarm_configuration(config, alarms),
            )
        )

        codedeploy_resources = [
            arn("codedeploy", f"application:{names.codedeploy_application}"),
            deployment_group_arn,
            arn("codedeploy", f"deploymentconfig:{deployment.config}"),
        ]
        deploy_statements = [
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
        ]
        deploy_action = codepipeline.Actions(
            Name="Deploy",
            ActionTypeId=aws_action("Deploy", "CodeDeployToECS"),
            Configuration={
                "ApplicationName": Ref(application),
                "DeploymentGroupName": Ref(deployment_group),
                "TaskDefinitionTemplateArtifact": APP_BUILD_OUTPUT,
                "TaskDefinitionTemplatePath": TASKDEF_FILE,
                # appspec.yml from the app build's output, not the repository zip:
                # "If you are using the CodeDeployToECS action ..., the maximum
                # artifact size is always 3 MB" (CodePipeline quotas,
                # https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html),
                # and a repository grows past that; the app buildspec lists
                # appspec.yml among its artifacts.
                "AppSpecTemplateArtifact": APP_BUILD_OUTPUT,
                "AppSpecTemplatePath": APPSPEC_FILE,
                "Image1ArtifactName": APP_BUILD_OUTPUT,
                "Image1ContainerName": APP_IMAGE_PLACEHOLDER,
                "Image2ArtifactName": ROUTER_BUILD_OUTPUT,
                "Image2ContainerName": ROUTER_IMAGE_PLACEHOLDER,
            },
            # Only the builds' outputs (bluegreen verify's wiring check holds this).
            InputArtifacts=artifacts(APP_BUILD_OUTPUT, ROUTER_BUILD_OUTPUT),
            RunOrder=1,
        )
        outputs += [
            (Outputs.CODEDEPLOY_APPLICATION, Ref(application), "CodeDeploy application"),
            (Outputs.DEPLOYMENT_GROUP, Ref(deployment_group), "CodeDeploy deployment group"),
        ]

    # --- pipeline ------------------------------------------------------------------------
    # No confused-deputy condition on the pipeline role's trust: the CodePipeline User
    # Guide documents none for its service role ("Manage the CodePipeline service role",
    # https://docs.aws.amazon.com/codepipeline/latest/userguide/how-to-custom-role.html
    # conditions only its S3 statements, on aws:ResourceAccount), and a key CodePipeline
    # does not send would stop every execution.
    pipeline_role = t.add_resource(
        service_role(
            "PipelineRole",
            "codepipeline.amazonaws.com",
            "CodePipeline: source from CodeCommit, run the builds, start the deployment",
            statements=[
                # No s3:PutObjectAcl: the bucket is BucketOwnerEnforced, ACLs are disabled
                # and "requests to set ACLs or update ACLs fail" (S3 User Guide, Object
                # Ownership troubleshooting,
                # https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html).
                # CDK's pipelines run without it too (aws/aws-cdk#12391).
                allow(
                    ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
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
                *deploy_statements,
            ],
        )
    )

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
                # Sequential, app first (BUILD_RUN_ORDER: the concurrent-build quota).
                RunOrder=BUILD_RUN_ORDER[kind],
            )
            for kind, build_project, output in (
                ("App", app_project, APP_BUILD_OUTPUT),
                ("Router", router_project, ROUTER_BUILD_OUTPUT),
            )
        ],
    )
    deploy_stage = codepipeline.Stages(Name=STAGES[2], Actions=[deploy_action])
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
            # EventBridge documents aws:SourceArn = the rule's ARN for event bus rule
            # targets, with aws:SourceAccount the rule's account: Amazon EventBridge User
            # Guide, "Cross-service confused deputy prevention in Amazon EventBridge",
            # https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html
            # and "Using IAM policy conditions in Amazon EventBridge",
            # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html
            # The rule is named so its ARN (default event bus: rule/<name>) is known here.
            trust_condition=assumed_for(arn("events", f"rule/{names.source_rule}"), ArnLike),
        )
    )
    t.add_resource(
        events.Rule(
            "SourceChangeRule",
            Name=names.source_rule,
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

    # --- branch flows (builds.branches): checked, never deployed ---------------------------
    add_branch_checks(t, config)
    # --- GitHub, GitLab or Bitbucket (source.provider): CodeConnections, V2 triggers --------
    apply_connection_source(t, config)

    # --- outputs ----------------------------------------------------------------------------
    def out(key: str, value: object, description: str) -> None:
        add_output(t, names, stack, key, value, description)

    out(Outputs.PIPELINE_NAME, Ref(pipeline), "CodePipeline")
    out(Outputs.ARTIFACT_BUCKET, Ref(bucket), "artifact bucket (emptied by destroy on request)")
    for key, value, description in outputs:
        out(key, value, description)
    out(Outputs.APP_BUILD_PROJECT, Ref(app_project), "app image build")
    out(Outputs.ROUTER_BUILD_PROJECT, Ref(router_project), "log-router image build")
    return t
