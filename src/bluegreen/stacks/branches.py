"""Branch flows for the CodeCommit source: pushes to ``builds.branches`` are checked,
never deployed.

CodeCommit's source action takes a single branch (CodePipeline action reference,
"CodeCommit source action reference": BranchName), and CodePipeline V2 triggers with
branch globs exist only for CodeConnections sources (CodePipeline user guide, "Add
trigger with code push or pull request event types"). So the CodeCommit side is an
EventBridge rule of its own next to the pipeline's:

- the rule matches CodeCommit's "CodeCommit Repository State Change" events of this
  repository whose ``referenceName`` matches one of the patterns, written as EventBridge
  ``wildcard`` filters (``*`` matches zero or more characters, ``/`` included; two
  consecutive ``*`` are refused): Amazon EventBridge user guide, "Content filtering in
  Amazon EventBridge event patterns", wildcard matching,
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
  and "Comparison operators for use in event patterns",
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
  (``prefix`` would serve ``feature/*`` too, but not ``*-wip``; ``wildcard`` serves both,
  and a pattern without ``*`` is an exact value);
- its target is a CodeBuild project with a CODECOMMIT source: EventBridge calls
  StartBuild with the target's input as the request ("The event to send to CodeBuild.
  This will be the payload for the StartBuild API", aws-cdk aws_events_targets
  CodeBuildProject, which wires the same target), made by an input transformer: the
  pushed commit as ``sourceVersion`` and the branch as the BRANCH variable (EventBridge
  API reference, InputTransformer: placeholders outside quotes in a JSON template are
  inserted as JSON values);
- the build (``buildspec-branch.yml`` at the repository root) runs the app's tests,
  bluegreen's repository checks and both image builds without pushing; its role can read
  the repository (codecommit:GitPull, what a CODECOMMIT source needs: CodeBuild user
  guide, "Allow CodeBuild to interact with other AWS services") and ask ECR whether an
  image exists, and nothing else: a branch cannot push an image or deploy.

The resources live here, apart from :func:`bluegreen.stacks.pipeline.build_pipeline`,
which calls :func:`add_branch_checks` once.
"""

from __future__ import annotations

import json

from awacs.aws import ArnLike, StringEquals
from troposphere import GetAtt, Ref, Template, codebuild, events

from bluegreen.config import BRANCH_BUILDSPEC, Config
from bluegreen.names import Names, Outputs
from bluegreen.stacks.common import add_output, arn, import_value, log_group
from bluegreen.stacks.iam import allow, assumed_for, service_role

BRANCH_CHECK_PROJECT_OUTPUT = "BranchCheckProjectName"
BUILD_IMAGE = "aws/codebuild/standard:7.0"
BUILD_COMPUTE = "BUILD_GENERAL1_SMALL"
TIMEOUT_MINUTES = 20


def branch_check_project(names: Names) -> str:
    """The branch-check CodeBuild project's name."""
    return f"{names.prefix}-branch-checks"


def branch_check_log_group(names: Names) -> str:
    return f"/bluegreen/{names.prefix}/branch-checks"


def branch_rule(names: Names) -> str:
    """The EventBridge rule starting the branch checks (named, so its role's trust
    policy can name the rule's ARN, as for the pipeline's source rule)."""
    return f"{names.prefix}-branch-push"


def reference_filters(patterns: list[str]) -> list[object]:
    """The ``referenceName`` filters of the rule: a ``wildcard`` for a pattern with
    ``*``, the exact name otherwise."""
    return [{"wildcard": p} if "*" in p else p for p in patterns]


# The StartBuild request the rule's target sends (EventBridge input transformer).
INPUT_PATHS = {"commit": "$.detail.commitId", "branch": "$.detail.referenceName"}
INPUT_TEMPLATE = (
    '{"sourceVersion": <commit>, "environmentVariablesOverride": '
    '[{"name": "BRANCH", "type": "PLAINTEXT", "value": <branch>}]}'
)


def add_branch_checks(t: Template, config: Config) -> None:
    """The branch-check project, its role, log group and EventBridge rule (nothing when
    ``builds.branches`` is empty)."""
    patterns = list(config.builds.branches)
    if not patterns:
        return
    names = Names.of(config)
    stack = names.pipeline_stack
    project_name = branch_check_project(names)

    def source(key: str) -> object:
        return import_value(names, names.source_stack, key)

    logs = t.add_resource(
        log_group("BranchCheckLogGroup", branch_check_log_group(names), config.logs.retention_days)
    )
    role = t.add_resource(
        service_role(
            "BranchCheckRole",
            "codebuild.amazonaws.com",
            f"CodeBuild {project_name}: test and build pushed branches, never push or deploy",
            statements=[
                allow(["logs:CreateLogStream", "logs:PutLogEvents"], [GetAtt(logs, "Arn")]),
                allow(["codecommit:GitPull"], [source(Outputs.REPOSITORY_ARN)]),
                allow(
                    ["ecr:DescribeImages"],
                    [
                        source(Outputs.APP_IMAGE_REPOSITORY_ARN),
                        source(Outputs.ROUTER_IMAGE_REPOSITORY_ARN),
                    ],
                ),
            ],
            trust_condition=assumed_for(arn("codebuild", f"project/{project_name}"), StringEquals),
        )
    )
    variables = [
        codebuild.EnvironmentVariable(
            Name="APP_REPOSITORY_NAME",
            Type="PLAINTEXT",
            Value=source(Outputs.APP_IMAGE_REPOSITORY_NAME),
        ),
        codebuild.EnvironmentVariable(
            Name="ROUTER_REPOSITORY_NAME",
            Type="PLAINTEXT",
            Value=source(Outputs.ROUTER_IMAGE_REPOSITORY_NAME),
        ),
    ]
    project = t.add_resource(
        codebuild.Project(
            "BranchCheckProject",
            Name=project_name,
            Description=(
                f"Test and build pushes to {', '.join(patterns)} (not deployed; "
                f"{config.source.branch} deploys through the pipeline)"
            ),
            ServiceRole=GetAtt(role, "Arn"),
            Source=codebuild.Source(
                Type="CODECOMMIT",
                Location=source(Outputs.REPOSITORY_CLONE_URL),
                BuildSpec=BRANCH_BUILDSPEC,
                GitCloneDepth=1,
            ),
            Artifacts=codebuild.Artifacts(Type="NO_ARTIFACTS"),
            Environment=codebuild.Environment(
                Type="LINUX_CONTAINER",
                ComputeType=BUILD_COMPUTE,
                Image=BUILD_IMAGE,
                PrivilegedMode=True,
                EnvironmentVariables=variables,
            ),
            LogsConfig=codebuild.LogsConfig(
                CloudWatchLogs=codebuild.CloudWatchLogs(Status="ENABLED", GroupName=Ref(logs))
            ),
            TimeoutInMinutes=TIMEOUT_MINUTES,
        )
    )
    rule_name = branch_rule(names)
    events_role = t.add_resource(
        service_role(
            "BranchCheckEventRole",
            "events.amazonaws.com",
            "EventBridge: start the branch checks on a push to a matching branch",
            statements=[allow(["codebuild:StartBuild"], [GetAtt(project, "Arn")])],
            # As for the pipeline's source rule: aws:SourceArn is the rule's ARN.
            trust_condition=assumed_for(arn("events", f"rule/{rule_name}"), ArnLike),
        )
    )
    t.add_resource(
        events.Rule(
            "BranchCheckRule",
            Name=rule_name,
            Description=f"Test and build pushes to {', '.join(patterns)} without deploying",
            State="ENABLED",
            EventPattern={
                "source": ["aws.codecommit"],
                "detail-type": ["CodeCommit Repository State Change"],
                "resources": [source(Outputs.REPOSITORY_ARN)],
                "detail": {
                    "event": ["referenceCreated", "referenceUpdated"],
                    "referenceType": ["branch"],
                    "referenceName": reference_filters(patterns),
                },
            },
            Targets=[
                events.Target(
                    Id="BranchChecks",
                    Arn=GetAtt(project, "Arn"),
                    RoleArn=GetAtt(events_role, "Arn"),
                    InputTransformer=events.InputTransformer(
                        InputPathsMap=dict(INPUT_PATHS), InputTemplate=INPUT_TEMPLATE
                    ),
                )
            ],
        )
    )
    add_output(
        t,
        names,
        stack,
        BRANCH_CHECK_PROJECT_OUTPUT,
        Ref(project),
        "branch checks (builds.branches): tests and image builds, never deployed",
    )


def input_for(commit: str, branch: str) -> dict[str, object]:
    """What the input transformer sends for a push (for tests and the emulator's
    check): INPUT_TEMPLATE with the values inserted as JSON strings."""
    text = INPUT_TEMPLATE.replace("<commit>", json.dumps(commit)).replace(
        "<branch>", json.dumps(branch)
    )
    found: dict[str, object] = json.loads(text)
    return found
