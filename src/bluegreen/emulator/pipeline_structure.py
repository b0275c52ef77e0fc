"""What CodePipeline checks in a pipeline declaration (CreatePipeline, UpdatePipeline).

Sources: the CodePipeline user guide's "CodePipeline pipeline structure reference"
(pipeline, stage and action requirements) and the action references of the action types
the emulator runs ("CodeCommit source action reference", "AWS CodeBuild build and test
action reference", "Amazon Elastic Container Service and CodeDeploy blue-green deploy
action reference": required configuration, input and output artifact counts). Error
codes are the CreatePipeline errors of the API model; where a message is AWS's own it
names where it was seen, otherwise it is written to say exactly what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bluegreen.emulator.service import ServiceError

_NAME = re.compile(r"[A-Za-z0-9.@\-_]+")  # PipelineName, StageName, ActionName
_ARTIFACT = re.compile(r"[a-zA-Z0-9_\-]+")  # ArtifactName


@dataclass(frozen=True)
class ActionSpec:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    inputs: tuple[int, int]
    outputs: tuple[int, int]


CODECOMMIT = ("Source", "AWS", "CodeCommit", "1")
CONNECTION = ("Source", "AWS", "CodeStarSourceConnection", "1")
CODEBUILD = ("Build", "AWS", "CodeBuild", "1")
CODEBUILD_TEST = ("Test", "AWS", "CodeBuild", "1")
CODEDEPLOY_TO_ECS = ("Deploy", "AWS", "CodeDeployToECS", "1")

MAX_IMAGES = 4
"""CodeDeployToECS: "Available values for <Number> are 1 through 4" (action reference,
Image<Number>ArtifactName); aws-cdk refuses more ("Action cannot have more than 4
container image inputs", aws-codepipeline-actions ecs-deploy-action)."""

_CODEBUILD_SPEC = ActionSpec(
    required=("ProjectName",),
    optional=("PrimarySource", "BatchEnabled", "CombineArtifacts", "EnvironmentVariables"),
    inputs=(1, 5),
    outputs=(0, 5),
)

RUNNABLE: dict[tuple[str, str, str, str], ActionSpec] = {
    CODECOMMIT: ActionSpec(
        required=("RepositoryName", "BranchName"),
        optional=("PollForSourceChanges", "OutputArtifactFormat"),
        inputs=(0, 0),
        outputs=(1, 1),
    ),
    # CodePipeline user guide, "CodeStarSourceConnection for Bitbucket Cloud, GitHub,
    # GitHub Enterprise Server, GitLab.com, and GitLab self-managed actions": ConnectionArn,
    # FullRepositoryId, BranchName required; OutputArtifactFormat, DetectChanges
    # optional; no input artifact, one output artifact.
    CONNECTION: ActionSpec(
        required=("ConnectionArn", "FullRepositoryId", "BranchName"),
        optional=("OutputArtifactFormat", "DetectChanges"),
        inputs=(0, 0),
        outputs=(1, 1),
    ),
    CODEBUILD: _CODEBUILD_SPEC,
    CODEBUILD_TEST: _CODEBUILD_SPEC,
    CODEDEPLOY_TO_ECS: ActionSpec(
        required=(
            "ApplicationName",
            "DeploymentGroupName",
            "TaskDefinitionTemplateArtifact",
            "AppSpecTemplateArtifact",
        ),
        optional=(
            "TaskDefinitionTemplatePath",
            "AppSpecTemplatePath",
            *(f"Image{n}ArtifactName" for n in range(1, MAX_IMAGES + 1)),
            *(f"Image{n}ContainerName" for n in range(1, MAX_IMAGES + 1)),
        ),
        inputs=(1, 5),
        outputs=(0, 0),
    ),
}

# Action types AWS offers that the emulator does not run ("Valid action types and
# providers in CodePipeline"): accepted by AWS, so refused here with a message that
# says it is the emulator's limit, not AWS's.
KNOWN: frozenset[tuple[str, str]] = frozenset(
    {
        ("Source", "S3"),
        ("Source", "ECR"),
        ("Build", "ECRBuildAndPublish"),
        ("Build", "InspectorScan"),
        ("Build", "Commands"),
        ("Compute", "Commands"),
        ("Test", "DeviceFarm"),
        ("Deploy", "CodeDeploy"),
        ("Deploy", "ECS"),
        ("Deploy", "S3"),
        ("Deploy", "CloudFormation"),
        ("Deploy", "CloudFormationStackSet"),
        ("Deploy", "CloudFormationStackInstances"),
        ("Deploy", "ElasticBeanstalk"),
        ("Deploy", "AppConfig"),
        ("Deploy", "EC2"),
        ("Deploy", "EKS"),
        ("Deploy", "OpsWorks"),
        ("Deploy", "ServiceCatalog"),
        ("Deploy", "AlexaSkillsKit"),
        ("Approval", "Manual"),
        ("Invoke", "Lambda"),
        ("Invoke", "StepFunctions"),
        ("Invoke", "Snyk"),
        ("Invoke", "InspectorScan"),
    }
)


def validation_error(value: Any, where: str, constraint: str) -> ServiceError:
    """AWS's standard ValidationException text for a member that breaks its model."""
    return ServiceError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
        f"constraint: {constraint}",
    )


def check_name(value: Any, where: str) -> str:
    name = str(value or "")
    if len(name) > 100:
        raise validation_error(name, where, "Member must have length less than or equal to 100")
    if not _NAME.fullmatch(name):
        raise validation_error(
            name, where, "Member must satisfy regular expression pattern: [A-Za-z0-9.@\\-_]+"
        )
    return name


def check(declaration: dict[str, Any], region: str) -> None:
    """Refuse a declaration CodePipeline refuses (raises ServiceError)."""
    check_name(declaration.get("name"), "pipeline.name")
    stores = [key for key in ("artifactStore", "artifactStores") if declaration.get(key)]
    if len(stores) != 1:
        raise ServiceError(
            "InvalidStructureException",
            "A pipeline must have either artifactStore (actions in one Region) or "
            "artifactStores (one per Region), not both and not neither",
        )
    store = declaration.get("artifactStore") or (declaration.get("artifactStores") or {}).get(
        region
    )
    if not store or store.get("type") != "S3" or not store.get("location"):
        raise ServiceError(
            "InvalidStructureException",
            f"the artifact store for {region} must be an S3 bucket (type S3, location)",
        )
    mode = declaration.get("executionMode") or "SUPERSEDED"
    kind = declaration.get("pipelineType") or "V1"
    if mode in ("QUEUED", "PARALLEL") and kind != "V2":
        # "QUEUED mode ... This requires pipeline type V2" (CodePipeline user guide,
        # "How pipeline executions work"); the same for PARALLEL.
        raise ServiceError(
            "ValidationException", f"Execution mode {mode} requires pipeline type V2, not {kind}"
        )
    stages = declaration.get("stages") or []
    _check_triggers(declaration, kind, stages)
    if len(stages) < 2:
        # AWS's text (moto reproduces it): "A pipeline must contain at least two stages"
        # (pipeline structure reference).
        raise ServiceError(
            "InvalidStructureException",
            f"Pipeline has only {len(stages)} stage(s). There should be a minimum of 2 stages "
            "in a pipeline",
        )
    produced: set[str] = set()
    stage_names: set[str] = set()
    for index, stage in enumerate(stages):
        name = check_name(stage.get("name"), f"pipeline.stages.{index + 1}.member.name")
        if name in stage_names:
            raise ServiceError(
                "InvalidStageDeclarationException", f"Stage name {name} is used more than once"
            )
        stage_names.add(name)
        actions = stage.get("actions") or []
        if not actions:
            raise ServiceError(
                "InvalidStageDeclarationException", f"Stage {name} must contain at least one action"
            )
        sources = [a for a in actions if (a.get("actionTypeId") or {}).get("category") == "Source"]
        # "The first stage of a pipeline must contain at least one source action. It can
        # contain source actions only. Only the first stage of a pipeline can contain
        # source actions." (pipeline structure reference)
        if index == 0 and len(sources) != len(actions):
            raise ServiceError(
                "InvalidStructureException",
                f"Stage {name} is the first stage: it must contain source actions only",
            )
        if index > 0 and sources:
            raise ServiceError(
                "InvalidStructureException",
                f"Stage {name} contains a source action; only the first stage can",
            )
        _check_stage(name, actions, produced, region)


def _check_stage(
    stage: str, actions: list[dict[str, Any]], produced: set[str], region: str
) -> None:
    names: set[str] = set()
    by_order: dict[int, list[dict[str, Any]]] = {}
    for action in actions:
        name = check_name(action.get("name"), "pipeline.stages.member.actions.member.name")
        if name in names:
            raise ServiceError(
                "InvalidActionDeclarationException",
                f"Action name {name} is used more than once in stage {stage}",
            )
        names.add(name)
        order = int(action.get("runOrder") or 1)
        if not 1 <= order <= 999:
            raise validation_error(order, "runOrder", "Member must have value between 1 and 999")
        by_order.setdefault(order, []).append(action)
    for order in sorted(by_order):
        made: list[str] = []
        for action in by_order[order]:
            made += _check_action(stage, action, produced, region)
        for artifact in made:
            if artifact in produced:
                raise ServiceError(
                    "InvalidActionDeclarationException",
                    f"Output artifact name {artifact} is used more than once; output artifact "
                    "names must be unique in a pipeline",
                )
            produced.add(artifact)


def _check_action(stage: str, action: dict[str, Any], produced: set[str], region: str) -> list[str]:
    name = str(action["name"])
    type_id = action.get("actionTypeId") or {}
    key = (
        str(type_id.get("category")),
        str(type_id.get("owner")),
        str(type_id.get("provider")),
        str(type_id.get("version")),
    )
    spec = RUNNABLE.get(key)
    if spec is None:
        if key[1] == "AWS" and key[3] == "1" and (key[0], key[2]) in KNOWN:
            raise ServiceError(
                "InvalidActionDeclarationException",
                f"the emulated AWS does not run {key[0]} actions of provider {key[2]} "
                f"(action {name}); it runs CodeCommit and CodeStarSourceConnection sources, "
                "CodeBuild builds and tests, and CodeDeployToECS deployments",
            )
        # AWS's text for an action type it does not know (seen in
        # aws-samples/aws-codepipeline-third-party-git-repositories#3).
        raise ServiceError(
            "InvalidActionDeclarationException",
            f"ActionType (Category: '{key[0]}', Provider: '{key[2]}', Owner: '{key[1]}', "
            f"Version: '{key[3]}') in action '{name}' is not available in region "
            f"'{region.upper().replace('-', '_')}'",
        )
    configuration = action.get("configuration") or {}
    for required in spec.required:
        if not configuration.get(required):
            raise ServiceError(
                "InvalidActionDeclarationException",
                f"Action configuration for action '{name}' is missing required configuration "
                f"'{required}'",
            )
    allowed = set(spec.required) | set(spec.optional)
    for given in configuration:
        if given not in allowed:
            raise ServiceError(
                "InvalidActionDeclarationException",
                f"Action configuration for action '{name}' contains unknown configuration "
                f"'{given}'",
            )
    inputs = [str(a.get("name")) for a in action.get("inputArtifacts") or []]
    outputs = [str(a.get("name")) for a in action.get("outputArtifacts") or []]
    for kind, found, (low, high) in (
        ("input", inputs, spec.inputs),
        ("output", outputs, spec.outputs),
    ):
        # AWS's text for the minimum (awsdocs/aws-cloudformation-user-guide#941):
        # "Action X declares 0 input artifacts which is less than the minimum count (1)".
        if len(found) < low:
            raise ServiceError(
                "InvalidActionDeclarationException",
                f"Action {name} declares {len(found)} {kind} artifacts which is less than the "
                f"minimum count ({low})",
            )
        if len(found) > high:
            raise ServiceError(
                "InvalidActionDeclarationException",
                f"Action {name} declares {len(found)} {kind} artifacts which is more than the "
                f"maximum count ({high})",
            )
    for artifact in inputs + outputs:
        if not _ARTIFACT.fullmatch(artifact) or len(artifact) > 100:
            raise validation_error(
                artifact,
                "artifact name",
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_\\-]+",
            )
    for artifact in inputs:
        # "The input artifact of an action must exactly match the output artifact
        # declared in a preceding action" (pipeline structure reference).
        if artifact not in produced:
            raise ServiceError(
                "InvalidActionDeclarationException",
                f"Input artifact {artifact} of action {name} in stage {stage} is not the output "
                "artifact of a preceding action",
            )
    if key == CODEDEPLOY_TO_ECS:
        refs = ["TaskDefinitionTemplateArtifact", "AppSpecTemplateArtifact"]
        refs += [f"Image{n}ArtifactName" for n in range(1, MAX_IMAGES + 1)]
        for ref in refs:
            value = configuration.get(ref)
            if value and value not in inputs:
                raise ServiceError(
                    "InvalidActionDeclarationException",
                    f"Action {name}: {ref} {value} is not one of the action's input artifacts "
                    f"({', '.join(inputs)})",
                )
    primary = configuration.get("PrimarySource")
    if key in (CODEBUILD, CODEBUILD_TEST) and primary and primary not in inputs:
        raise ServiceError(
            "InvalidActionDeclarationException",
            f"Action {name}: PrimarySource {primary} is not one of the action's input artifacts",
        )
    return outputs


MAX_TRIGGERS = 50
"""PipelineDeclaration triggers: at most 50 (API model, PipelineTriggerDeclarationList)."""
MAX_PUSH_FILTERS = 3
"""GitConfiguration push: at most 3 filters (API model, GitPushFilterList)."""
MAX_FILTER_PATTERNS = 8
"""Branch, file-path and tag includes/excludes: 1 to 8 patterns of 1 to 255 characters
(API reference, GitBranchFilterCriteria, GitFilePathFilterCriteria)."""


def _check_triggers(declaration: dict[str, Any], kind: str, stages: list[dict[str, Any]]) -> None:
    """Triggers (API reference, PipelineTriggerDeclaration, GitConfiguration): V2
    pipelines only ("Triggers ... are available for V2 type pipelines": CodePipeline user
    guide, "Automate starting pipelines using triggers and filtering"), provider type
    CodeStarSourceConnection (the only ProviderType of the model), naming a source action
    of that provider."""
    triggers = declaration.get("triggers") or []
    if not triggers:
        return
    if kind != "V2":
        raise ServiceError("ValidationException", f"Triggers require pipeline type V2, not {kind}")
    if len(triggers) > MAX_TRIGGERS:
        raise validation_error(
            len(triggers), "pipeline.triggers", "Member must have length less than or equal to 50"
        )
    first = stages[0].get("actions") or [] if stages else []
    sources = {
        str(a.get("name")): str((a.get("actionTypeId") or {}).get("provider")) for a in first
    }
    seen: set[str] = set()
    for trigger in triggers:
        if trigger.get("providerType") != "CodeStarSourceConnection":
            raise validation_error(
                trigger.get("providerType"),
                "pipeline.triggers.member.providerType",
                "Member must satisfy enum value set: [CodeStarSourceConnection]",
            )
        git = trigger.get("gitConfiguration") or {}
        action = str(git.get("sourceActionName") or "")
        if sources.get(action) != "CodeStarSourceConnection":
            raise ServiceError(
                "InvalidStructureException",
                f"The trigger's sourceActionName {action!r} is not a CodeStarSourceConnection "
                "source action of the pipeline's first stage",
            )
        if action in seen:
            # "You can only specify one trigger configuration per source action" (API
            # reference, GitConfiguration sourceActionName).
            raise ServiceError(
                "InvalidStructureException",
                f"Source action {action} has more than one trigger configuration",
            )
        seen.add(action)
        pushes = git.get("push") or []
        if len(pushes) > MAX_PUSH_FILTERS:
            raise validation_error(
                len(pushes),
                "pipeline.triggers.member.gitConfiguration.push",
                "Member must have length less than or equal to 3",
            )
        for push in pushes:
            for criterion in ("branches", "filePaths", "tags"):
                for side in ("includes", "excludes"):
                    patterns = (push.get(criterion) or {}).get(side)
                    if patterns is None:
                        continue
                    where = (
                        f"pipeline.triggers.member.gitConfiguration.push.member.{criterion}.{side}"
                    )
                    if not 1 <= len(patterns) <= MAX_FILTER_PATTERNS:
                        raise validation_error(
                            len(patterns), where, "Member must have length between 1 and 8"
                        )
                    for pattern in patterns:
                        if not 1 <= len(pattern) <= 255:
                            raise validation_error(
                                pattern, where, "Member must have length between 1 and 255"
                            )
