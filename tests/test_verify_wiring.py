"""`bluegreen verify`'s wiring rule: the deploy action reads only the builds' outputs.

CodeDeployToECS accepts input artifacts of at most 3 MB ("If you are using the
CodeDeployToECS action to deploy applications, the maximum artifact size is always 3 MB",
CodePipeline quotas, https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html).
The source artifact is the whole repository zipped, so a deploy action that reads it
breaks as soon as the repository outgrows 3 MB. The rule is checked on the synthesized
pipeline, through the same `verify` a user runs, with the template changed the way a
regression would change it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from troposphere import codepipeline

from bluegreen import appkit, config, stacks, verify
from bluegreen.stacks.pipeline import APP_BUILD_OUTPUT, ROUTER_BUILD_OUTPUT, SOURCE_OUTPUT


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    appkit.init(tmp_path / "repo")
    return tmp_path / "repo"


def _deploy_action(built: list[stacks.Stack]) -> Any:
    """The CodeDeployToECS action of the pipeline template (a troposphere object)."""
    pipeline = next(s for s in built if s.key == "pipeline").template.resources["Pipeline"]
    (action,) = [
        action
        for stage in pipeline.Stages
        for action in stage.Actions
        if action.ActionTypeId.Provider == "CodeDeployToECS"
    ]
    return action


def _wiring_problems(
    repo: Path, monkeypatch: pytest.MonkeyPatch, change: Any = None
) -> tuple[int, list[str]]:
    """Run `verify` on ``repo`` with the pipeline template changed by ``change``."""
    cfg = config.load(repo / "bluegreen.toml")
    built = stacks.build(cfg)
    if change is not None:
        change(_deploy_action(built))
    monkeypatch.setattr(verify.stacks, "build", lambda _: built)
    report = verify.verify(cfg, repo)
    (wiring,) = [c for c in report.checks if c.name == "wiring"]
    return report.exit_code, wiring.problems


def _inputs(*names: str) -> list[codepipeline.InputArtifacts]:
    return [codepipeline.InputArtifacts(Name=name) for name in names]


def test_the_synthesized_deploy_action_reads_only_build_outputs(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    action = _deploy_action(stacks.build(config.load(repo / "bluegreen.toml")))
    assert {a.Name for a in action.InputArtifacts} == {APP_BUILD_OUTPUT, ROUTER_BUILD_OUTPUT}
    assert action.Configuration["AppSpecTemplateArtifact"] == APP_BUILD_OUTPUT
    assert _wiring_problems(repo, monkeypatch) == (0, [])


def test_a_deploy_input_that_is_the_source_artifact_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_the_source(action: Any) -> None:
        action.InputArtifacts = _inputs(SOURCE_OUTPUT, APP_BUILD_OUTPUT, ROUTER_BUILD_OUTPUT)

    code, problems = _wiring_problems(repo, monkeypatch, read_the_source)
    assert problems == [
        "3-pipeline.yaml: the deploy action Deploy/Deploy reads artifact SourceOutput, which "
        "no build action produces; CodeDeployToECS reads at most 3 MB per input artifact, "
        "so it must read only the builds' outputs"
    ]
    assert code == 2


def test_an_appspec_read_from_the_source_is_named_even_if_not_an_input(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The configuration keys that name artifacts count, not only InputArtifacts."""

    def appspec_from_source(action: Any) -> None:
        action.Configuration["AppSpecTemplateArtifact"] = SOURCE_OUTPUT

    _, problems = _wiring_problems(repo, monkeypatch, appspec_from_source)
    assert len(problems) == 1
    assert "Deploy/Deploy reads artifact SourceOutput" in problems[0]


def test_one_problem_per_artifact_read_twice(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def source_everywhere(action: Any) -> None:
        action.InputArtifacts = _inputs(SOURCE_OUTPUT, APP_BUILD_OUTPUT, ROUTER_BUILD_OUTPUT)
        action.Configuration["AppSpecTemplateArtifact"] = SOURCE_OUTPUT
        action.Configuration["TaskDefinitionTemplateArtifact"] = SOURCE_OUTPUT

    _, problems = _wiring_problems(repo, monkeypatch, source_everywhere)
    assert [p.split(" reads artifact ")[1].split(",")[0] for p in problems] == [SOURCE_OUTPUT]


def test_an_artifact_no_action_produces_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def typo(action: Any) -> None:
        action.Configuration["Image2ArtifactName"] = "RouterBuildOutptu"

    _, problems = _wiring_problems(repo, monkeypatch, typo)
    assert len(problems) == 1
    assert "Deploy/Deploy reads artifact RouterBuildOutptu" in problems[0]
