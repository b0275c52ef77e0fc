"""GitHub, GitLab or Bitbucket through AWS CodeConnections: the pipeline stack's source
when ``source.provider`` is not ``codecommit``.

:func:`apply_connection_source` turns the CodeCommit pipeline that
:func:`bluegreen.stacks.pipeline.build_pipeline` builds into its CodeConnections form, so
the CodeCommit shape stays the one place the pipeline is described:

- the Source action becomes ``CodeStarSourceConnection`` (ConnectionArn,
  FullRepositoryId, BranchName, OutputArtifactFormat CODE_ZIP: CodePipeline user guide,
  "CodeStarSourceConnection for Bitbucket Cloud, GitHub, GitHub Enterprise Server,
  GitLab.com, and GitLab self-managed actions");
- the connection ARN is the stack's ``ConnectionArn`` parameter, given at deploy time
  (never in bluegreen.toml or any repository file);
- change detection is a V2 pipeline trigger (``Triggers``: push to ``source.branch``,
  file paths excluded by ``source.ignored_paths``), which CodePipeline offers for
  CodeConnections sources only (CodePipeline user guide, "Add trigger with code push or
  pull request event types"), so the CodeCommit EventBridge rule and its role go;
- the pipeline role may use the connection (``codestar-connections:UseConnection``, and
  ``codeconnections:UseConnection`` for connections made under the new service prefix:
  CodePipeline user guide, "Add permissions to the CodePipeline service role", and the
  CodeConnections user guide, "codestar-connections to codeconnections" rename) and no
  longer reads CodeCommit;
- with ``builds.branches``: a second V2 pipeline, ``<prefix>-branch-checks``, in
  PARALLEL execution mode (each push runs on its own), triggered by pushes to the
  patterns, each ``*`` written as CodePipeline's ``**``, which matches across ``/`` as
  EventBridge's ``*`` does, while ``*`` stops at a ``/`` (CodePipeline user guide,
  "Working with glob patterns in syntax",
  https://docs.aws.amazon.com/codepipeline/latest/userguide/syntax-glob.html). Its only
  action runs the branch-check project (now a CODEPIPELINE project) with BRANCH from
  the source action's ``BranchName`` output variable (CodePipeline "Variables
  reference": CodeStarSourceConnection emits BranchName). It has no Deploy stage.
  Its Check stage's inbound transition is created disabled: "When a pipeline is created,
  a pipeline execution starts automatically" (CodePipeline user guide, "Start a pipeline
  in CodePipeline"), and that first run would check the release branch while the
  release pipeline's own first run builds it, two builds at once against a new account's
  concurrent-build quota of 1. ``bluegreen deploy`` stops that held first run and
  enables the transition (:func:`bluegreen.aws.deploy.open_branch_checks`).

Emulated (:mod:`bluegreen.emulator.services.codeconnections`, the CodeStarSourceConnection
source and V2 triggers of :mod:`bluegreen.emulator.services.codepipeline`) and rehearsed.
"""

from __future__ import annotations

from awacs.aws import Statement
from troposphere import GetAtt, Parameter, Ref, Sub, Template, codebuild, codepipeline, iam

from bluegreen.config import Config, trigger_glob
from bluegreen.names import Names
from bluegreen.stacks.branches import branch_check_project
from bluegreen.stacks.iam import allow, service_role

CONNECTION_PARAMETER = "ConnectionArn"
CONNECTION_ARN_PATTERN = (
    r"arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:[0-9]{12}:"
    r"connection/[0-9a-f-]+"
)
"""The ARN of a connection (CodeConnections API reference, Connection: ConnectionArn);
both service prefixes name the same connections."""

USE_CONNECTION = ["codeconnections:UseConnection", "codestar-connections:UseConnection"]

CHECK_STAGE = "Check"
HELD_REASON = "Opened by bluegreen deploy once the release pipeline has started"
"""The reason of the disabled transition (API: DisableStageTransition reason, at most
300 characters of [a-zA-Z0-9!@ ().*?-])."""


def branch_pipeline_name(names: Names) -> str:
    return f"{names.prefix}-branch-checks"


_CODECOMMIT_RESOURCES = ("SourceChangeRule", "SourceEventRole")
_BRANCH_CODECOMMIT_RESOURCES = ("BranchCheckRule", "BranchCheckEventRole")


def _source_action(config: Config, namespace: str | None = None) -> codepipeline.Actions:
    action = codepipeline.Actions(
        Name="Source",
        ActionTypeId=codepipeline.ActionTypeId(
            Category="Source", Owner="AWS", Provider="CodeStarSourceConnection", Version="1"
        ),
        Configuration={
            "ConnectionArn": Ref(CONNECTION_PARAMETER),
            "FullRepositoryId": config.source.full_repository_id,
            "BranchName": config.source.branch,
            "OutputArtifactFormat": "CODE_ZIP",
        },
        OutputArtifacts=[codepipeline.OutputArtifacts(Name="SourceOutput")],
        RunOrder=1,
    )
    if namespace:
        action.Namespace = namespace
    return action


def _push_trigger(
    branches: list[str], ignored: list[str]
) -> codepipeline.PipelineTriggerDeclaration:
    push = codepipeline.GitPushFilter(
        Branches=codepipeline.GitBranchFilterCriteria(Includes=branches)
    )
    if ignored:
        push.FilePaths = codepipeline.GitFilePathFilterCriteria(Excludes=ignored)
    return codepipeline.PipelineTriggerDeclaration(
        ProviderType="CodeStarSourceConnection",
        GitConfiguration=codepipeline.GitConfiguration(SourceActionName="Source", Push=[push]),
    )


def _without_codecommit(role: iam.Role) -> None:
    """Drop the role's CodeCommit statement (the repository is not read any more)."""
    for policy in role.properties.get("Policies", []):
        document = policy.properties["PolicyDocument"]
        document.Statement = [
            s
            for s in document.Statement
            if not any(getattr(a, "prefix", "") == "codecommit" for a in s.Action)
        ]


def _add_statement(role: iam.Role, statement: Statement) -> None:
    policy = role.properties["Policies"][0]
    policy.properties["PolicyDocument"].Statement.append(statement)


def apply_connection_source(t: Template, config: Config) -> None:
    """Rewrite ``t`` (build_pipeline's template) for a CodeConnections source; nothing
    for CodeCommit."""
    if config.source.provider == "codecommit":
        return
    names = Names.of(config)
    t.add_parameter(
        Parameter(
            CONNECTION_PARAMETER,
            Type="String",
            AllowedPattern=CONNECTION_ARN_PATTERN,
            Description=(
                f"AWS CodeConnections connection to {config.source.provider} "
                f"({config.source.full_repository_id}), created and authorized in the console"
            ),
        )
    )
    connection = Ref(CONNECTION_PARAMETER)
    pipeline = t.resources["Pipeline"]
    stages = pipeline.properties["Stages"]
    stages[0].properties["Actions"] = [_source_action(config)]
    pipeline.properties["Triggers"] = [
        _push_trigger([config.source.branch], list(config.source.ignored_paths))
    ]
    for title in _CODECOMMIT_RESOURCES:
        t.resources.pop(title, None)
    role = t.resources["PipelineRole"]
    _without_codecommit(role)
    _add_statement(role, allow(USE_CONNECTION, [connection]))
    if config.builds.branches and "BranchCheckProject" in t.resources:
        _branch_pipeline(t, config, names, connection)


def _branch_pipeline(t: Template, config: Config, names: Names, connection: Ref) -> None:
    for title in _BRANCH_CODECOMMIT_RESOURCES:
        t.resources.pop(title, None)
    objects = Sub("${ArtifactBucket.Arn}/*")
    project = t.resources["BranchCheckProject"]
    spec = project.properties["Source"].properties["BuildSpec"]
    project.properties["Source"] = codebuild.Source(Type="CODEPIPELINE", BuildSpec=spec)
    project.properties["Artifacts"] = codebuild.Artifacts(Type="CODEPIPELINE")
    build_role = t.resources["BranchCheckRole"]
    _without_codecommit(build_role)
    _add_statement(build_role, allow(["s3:GetObject", "s3:GetObjectVersion"], [objects]))
    pipeline_name = branch_pipeline_name(names)
    role = t.add_resource(
        service_role(
            "BranchCheckPipelineRole",
            "codepipeline.amazonaws.com",
            "CodePipeline: check pushed branches (tests and builds), never deploy",
            statements=[
                allow(["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], [objects]),
                allow(
                    ["s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketVersioning"],
                    [GetAtt("ArtifactBucket", "Arn")],
                ),
                allow(USE_CONNECTION, [connection]),
                allow(
                    ["codebuild:BatchGetBuilds", "codebuild:StartBuild"],
                    [GetAtt(project, "Arn")],
                ),
            ],
        )
    )
    check = codepipeline.Actions(
        Name="Check",
        ActionTypeId=codepipeline.ActionTypeId(
            Category="Build", Owner="AWS", Provider="CodeBuild", Version="1"
        ),
        Configuration={
            "ProjectName": branch_check_project(names),
            "EnvironmentVariables": (
                '[{"name":"BRANCH","value":"#{SourceVariables.BranchName}","type":"PLAINTEXT"}]'
            ),
        },
        InputArtifacts=[codepipeline.InputArtifacts(Name="SourceOutput")],
        RunOrder=1,
    )
    t.add_resource(
        codepipeline.Pipeline(
            "BranchCheckPipeline",
            Name=pipeline_name,
            PipelineType="V2",
            ExecutionMode="PARALLEL",
            RoleArn=GetAtt(role, "Arn"),
            ArtifactStore=codepipeline.ArtifactStore(Type="S3", Location=Ref("ArtifactBucket")),
            Stages=[
                codepipeline.Stages(
                    Name="Source", Actions=[_source_action(config, namespace="SourceVariables")]
                ),
                codepipeline.Stages(Name=CHECK_STAGE, Actions=[check]),
            ],
            DisableInboundStageTransitions=[
                codepipeline.DisableInboundStageTransitions(
                    StageName=CHECK_STAGE, Reason=HELD_REASON
                )
            ],
            Triggers=[_push_trigger([trigger_glob(p) for p in config.builds.branches], [])],
            DependsOn=[project.title],
        )
    )
