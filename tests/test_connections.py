"""source.provider github / gitlab / bitbucket: the pipeline stack through CodeConnections
with CodePipeline V2 triggers (branch and file-path filters), cfn-lint clean; the config
keys at both edges. Played against the emulated AWS: tests/test_emulator_connections.py
(the services), tests/test_e2e_connections.py (deploy), tests/test_rehearse_connections.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from configs import refused

from bluegreen import config as config_mod
from bluegreen import lint, stacks
from bluegreen.config import trigger_glob
from bluegreen.stacks.connections import CONNECTION_PARAMETER

GITHUB = {"source": {"provider": "github", "full_repository_id": "acme/webapp"}}


def _config(extra: dict[str, Any] | None = None) -> config_mod.Config:
    data = json.loads(json.dumps(GITHUB))
    for section, values in (extra or {}).items():
        data.setdefault(section, {}).update(values)
    return config_mod.from_dict(data)


def _pipeline(cfg: config_mod.Config) -> dict[str, Any]:
    stack = next(s for s in stacks.build(cfg) if s.key == "pipeline")
    found: dict[str, Any] = stack.template.to_dict()
    return found


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"source": {"provider": "gitlab", "full_repository_id": "group/sub/app"}},
        {"source": {"provider": "bitbucket", "ignored_paths": ["docs/**", "*.md"]}},
        {"builds": {"branches": []}},
    ],
)
def test_every_stack_is_cfn_lint_clean(extra: dict[str, Any]) -> None:
    cfg = _config(extra)
    for stack in stacks.build(cfg):
        findings = lint.lint_template(
            stack.template.to_yaml(),
            f"{stack.key}.yaml",
            [cfg.project.region],
            include_informational=True,
        )
        assert findings == [], [str(f) for f in findings]


def test_the_source_is_the_connection_given_at_deploy_time() -> None:
    template = _pipeline(_config())
    parameter = template["Parameters"][CONNECTION_PARAMETER]
    assert parameter["Type"] == "String"
    pipeline = template["Resources"]["Pipeline"]["Properties"]
    (action,) = pipeline["Stages"][0]["Actions"]
    assert action["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert action["Configuration"] == {
        "ConnectionArn": {"Ref": CONNECTION_PARAMETER},
        "FullRepositoryId": "acme/webapp",
        "BranchName": "main",
        "OutputArtifactFormat": "CODE_ZIP",
    }
    # No connection ARN anywhere but the parameter's reference.
    assert "arn:aws:codeconnections" not in json.dumps(template)
    assert "arn:aws:codestar-connections" not in json.dumps(template)


def test_the_source_stack_holds_no_codecommit_repository() -> None:
    source = next(s for s in stacks.build(_config()) if s.key == "source").template.to_dict()
    assert sorted(source["Resources"]) == ["AppImageRepository", "RouterImageRepository"]
    assert not [k for k in source["Outputs"] if k.startswith("Repository")]


def test_a_v2_trigger_replaces_the_codecommit_rule() -> None:
    cfg = _config({"source": {"ignored_paths": ["docs/**"]}, "builds": {"branches": []}})
    template = _pipeline(cfg)
    resources = template["Resources"]
    assert not [k for k, v in resources.items() if v["Type"] == "AWS::Events::Rule"]
    assert "SourceEventRole" not in resources
    pipeline = resources["Pipeline"]["Properties"]
    assert pipeline["PipelineType"] == "V2"
    assert pipeline["Triggers"] == [
        {
            "ProviderType": "CodeStarSourceConnection",
            "GitConfiguration": {
                "SourceActionName": "Source",
                "Push": [
                    {
                        "Branches": {"Includes": ["main"]},
                        "FilePaths": {"Excludes": ["docs/**"]},
                    }
                ],
            },
        }
    ]
    statements = resources["PipelineRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    granted = {a for s in statements for a in s["Action"]}
    assert not any(a.startswith("codecommit:") for a in granted)
    (use,) = [s for s in statements if "codestar-connections:UseConnection" in s["Action"]]
    assert use["Resource"] == [{"Ref": CONNECTION_PARAMETER}]


def test_branches_get_a_pipeline_of_their_own_without_a_deploy_stage() -> None:
    template = _pipeline(_config({"builds": {"branches": ["feature/*", "fix-*"]}}))
    resources = template["Resources"]
    assert "BranchCheckRule" not in resources and "BranchCheckEventRole" not in resources
    branch = resources["BranchCheckPipeline"]["Properties"]
    assert branch["ExecutionMode"] == "PARALLEL" and branch["PipelineType"] == "V2"
    assert [s["Name"] for s in branch["Stages"]] == ["Source", "Check"]
    # Created held: its creation run must not build beside the release pipeline's.
    assert branch["DisableInboundStageTransitions"] == [
        {
            "StageName": "Check",
            "Reason": "Opened by bluegreen deploy once the release pipeline has started",
        }
    ]
    (trigger,) = branch["Triggers"]
    assert trigger["GitConfiguration"]["Push"] == [
        {"Branches": {"Includes": ["feature/**", "fix-**"]}}
    ]
    (check,) = branch["Stages"][1]["Actions"]
    assert check["ActionTypeId"]["Provider"] == "CodeBuild"
    assert "#{SourceVariables.BranchName}" in check["Configuration"]["EnvironmentVariables"]
    project = resources["BranchCheckProject"]["Properties"]
    assert project["Source"]["Type"] == "CODEPIPELINE"
    assert project["Artifacts"] == {"Type": "CODEPIPELINE"}


def test_trigger_globs_span_slashes_like_the_eventbridge_wildcard() -> None:
    assert trigger_glob("feature/*") == "feature/**"
    assert trigger_glob("release/1.x") == "release/1.x"


# --------------------------------------------------------------------------- config edges


def test_a_connection_provider_needs_owner_and_name() -> None:
    assert "required" in refused({"source": {"provider": "github"}}, "source.full_repository_id")
    assert "owner/name" in refused(
        {"source": {"provider": "github", "full_repository_id": "webapp"}},
        "source.full_repository_id",
    )
    assert "CodeConnections" in refused(
        {"source": {"full_repository_id": "a/b"}}, "source.provider"
    )
    assert "'github'" in refused({"source": {"provider": "svn"}}, "source.provider")


def test_ignored_paths_hold_one_to_eight_patterns_of_up_to_255_characters() -> None:
    eight = [f"d{i}/**" for i in range(8)]
    assert _config({"source": {"ignored_paths": eight}}).source.ignored_paths == eight
    assert "at most 8" in refused(
        {"source": {**GITHUB["source"], "ignored_paths": [*eight, "x"]}}, "source.ignored_paths"
    )
    longest = "a" * 255
    assert _config({"source": {"ignored_paths": [longest]}}).source.ignored_paths == [longest]
    assert "255" in refused(
        {"source": {**GITHUB["source"], "ignored_paths": ["a" * 256]}}, "source.ignored_paths"
    )
    assert "relative" in refused(
        {"source": {**GITHUB["source"], "ignored_paths": ["/abs"]}}, "source.ignored_paths"
    )


def test_a_connection_provider_takes_at_most_eight_branch_patterns() -> None:
    eight = [f"f{i}/*" for i in range(8)]
    assert _config({"builds": {"branches": eight}}).builds.branches == eight
    assert "at most 8" in refused(
        {**GITHUB, "builds": {"branches": [*eight, "x/*"]}}, "builds.branches"
    )
    # CodeCommit's EventBridge rule takes builds.branches' own limit (10).
    ten = [f"f{i}/*" for i in range(10)]
    assert config_mod.from_dict({"builds": {"branches": ten}}).builds.branches == ten


def test_a_branch_pattern_whose_trigger_glob_is_over_255_characters_is_refused() -> None:
    # GitBranchNamePattern: at most 255 characters (botocore's codepipeline model); each *
    # is written ** in the trigger, so "a" * 253 + "*" is the longest with one star.
    longest = "a" * 253 + "*"
    cfg = _config({"builds": {"branches": [longest]}})
    (trigger,) = _pipeline(cfg)["Resources"]["BranchCheckPipeline"]["Properties"]["Triggers"]
    (push,) = trigger["GitConfiguration"]["Push"]
    assert [len(i) for i in push["Branches"]["Includes"]] == [255]
    message = refused({**GITHUB, "builds": {"branches": ["a" * 254 + "*"]}}, "builds.branches")
    assert "trigger pattern of 256 characters (each * is written **)" in message
    assert "at most 255: shorten it" in message
    # CodeCommit's branch checks go through an EventBridge rule, not a trigger.
    codecommit = config_mod.from_dict({"builds": {"branches": ["a" * 254 + "*"]}})
    assert codecommit.builds.branches == ["a" * 254 + "*"]
