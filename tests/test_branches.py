"""Branch flows (builds.branches): the synthesized resources, the emulated EventBridge
delivering to a CodeBuild target through an input transformer, and the real commands:
`bluegreen deploy`, a git push to feature/x, `bluegreen builds`.

Sources: EventBridge user guide, "Content filtering in Amazon EventBridge event
patterns" (wildcard) and API reference, InputTransformer (placeholders in and out of
quotes); aws-cdk aws_events_targets.CodeBuildProject (the target's input is the
StartBuild request); CodeCommit user guide, "Monitoring CodeCommit events in Amazon
EventBridge" (referenceName, commitId)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from emulated import Emulated, emulated  # noqa: F401 (the fixture ops builds on)
from operations import ops_fixture  # noqa: F401 (the ops fixture)

from bluegreen import config as config_mod
from bluegreen import stacks
from bluegreen.config import Config
from bluegreen.emulator import eventpattern
from bluegreen.emulator.services.events import target_input
from bluegreen.emulator.standins import pip as pip_standin
from bluegreen.stacks.branches import (
    BRANCH_CHECK_PROJECT_OUTPUT,
    INPUT_PATHS,
    INPUT_TEMPLATE,
    input_for,
    reference_filters,
)


def _pipeline(cfg: Config) -> dict[str, Any]:
    stack = next(s for s in stacks.build(cfg) if s.key == "pipeline")
    found: dict[str, Any] = stack.template.to_dict()
    return found


def _branch_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if k.startswith("BranchCheck")}


# --------------------------------------------------------------------------- the stack


def test_the_branch_checks_are_a_rule_a_project_and_two_narrow_roles() -> None:
    template = _pipeline(Config())
    found = _branch_resources(template)
    assert {k: v["Type"] for k, v in found.items()} == {
        "BranchCheckLogGroup": "AWS::Logs::LogGroup",
        "BranchCheckRole": "AWS::IAM::Role",
        "BranchCheckProject": "AWS::CodeBuild::Project",
        "BranchCheckEventRole": "AWS::IAM::Role",
        "BranchCheckRule": "AWS::Events::Rule",
    }
    project = found["BranchCheckProject"]["Properties"]
    assert project["Source"]["Type"] == "CODECOMMIT"
    assert project["Source"]["BuildSpec"] == config_mod.BRANCH_BUILDSPEC
    assert project["Artifacts"] == {"Type": "NO_ARTIFACTS"}
    # The build role reads the repository and asks ECR about tags: no push, no deploy.
    (policy,) = found["BranchCheckRole"]["Properties"]["Policies"]
    granted = sorted(a for s in policy["PolicyDocument"]["Statement"] for a in s["Action"])
    assert granted == [
        "codecommit:GitPull",
        "ecr:DescribeImages",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]
    trust = found["BranchCheckRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": ["codebuild.amazonaws.com"]}
    assert "aws:SourceArn" in json.dumps(trust["Condition"])
    (events_policy,) = found["BranchCheckEventRole"]["Properties"]["Policies"]
    (statement,) = events_policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["codebuild:StartBuild"]
    assert statement["Resource"] == [{"Fn::GetAtt": ["BranchCheckProject", "Arn"]}]
    assert BRANCH_CHECK_PROJECT_OUTPUT in template["Outputs"]


def test_the_rule_matches_the_patterns_and_never_the_release_branch() -> None:
    cfg = config_mod.from_dict({"builds": {"branches": ["feature/*", "hotfix"]}})
    rule = _branch_resources(_pipeline(cfg))["BranchCheckRule"]["Properties"]
    pattern = dict(rule["EventPattern"])
    pattern["resources"] = ["arn:aws:codecommit:ap-northeast-1:123456789012:repo"]
    assert pattern["detail"]["referenceName"] == [{"wildcard": "feature/*"}, "hotfix"]
    checked = eventpattern.parse(json.dumps(pattern))

    def event(name: str, kind: str = "referenceUpdated", ref_type: str = "branch") -> Any:
        return {
            "source": "aws.codecommit",
            "detail-type": "CodeCommit Repository State Change",
            "resources": pattern["resources"],
            "detail": {"event": kind, "referenceType": ref_type, "referenceName": name},
        }

    assert eventpattern.matches(checked, event("feature/x"))
    assert eventpattern.matches(checked, event("feature/a/b", "referenceCreated"))
    assert eventpattern.matches(checked, event("hotfix"))
    assert not eventpattern.matches(checked, event("main"))
    assert not eventpattern.matches(checked, event("hotfix2"))
    assert not eventpattern.matches(checked, event("feature/x", "referenceDeleted"))
    assert not eventpattern.matches(checked, event("feature/x", ref_type="tag"))


def test_no_patterns_no_branch_resources() -> None:
    cfg = config_mod.from_dict({"builds": {"branches": []}})
    assert _branch_resources(_pipeline(cfg)) == {}


def test_reference_filters_use_wildcard_only_for_patterns_with_a_star() -> None:
    assert reference_filters(["a/*", "b"]) == [{"wildcard": "a/*"}, "b"]


# --------------------------------------------------------------------------- EventBridge


EVENT = {
    "source": "aws.codecommit",
    "detail": {"commitId": "0123456789abcdef0123456789abcdef01234567", "referenceName": "f/x"},
}


def test_the_input_transformer_makes_the_start_build_request() -> None:
    target = {"InputTransformer": {"InputPathsMap": INPUT_PATHS, "InputTemplate": INPUT_TEMPLATE}}
    request = target_input(EVENT, target)
    assert request == {
        "sourceVersion": "0123456789abcdef0123456789abcdef01234567",
        "environmentVariablesOverride": [{"name": "BRANCH", "type": "PLAINTEXT", "value": "f/x"}],
    }
    assert request == input_for("0123456789abcdef0123456789abcdef01234567", "f/x")


def test_placeholders_in_quotes_are_raw_text_and_out_of_quotes_json_values() -> None:
    # EventBridge API reference, InputTransformer: '{"myInstance": <instance>,"myStatus":
    # "<instance> is in state \"<status>\""}'.
    target = {
        "InputTransformer": {
            "InputPathsMap": {"ref": "$.detail.referenceName", "nothing": "$.detail.none"},
            "InputTemplate": '{"a": <ref>, "b": "on <ref> now", "c": <nothing>, '
            '"d": "<aws.events.rule-name>"}',
        }
    }
    assert target_input(EVENT, target, rule_name="r1") == {
        "a": "f/x",
        "b": "on f/x now",
        "c": None,
        "d": "r1",
    }


def test_input_and_input_path_and_the_whole_event() -> None:
    assert target_input(EVENT, {"Input": '{"sourceVersion": "main"}'}) == {"sourceVersion": "main"}
    assert target_input(EVENT, {"InputPath": "$.detail"}) == EVENT["detail"]
    assert target_input(EVENT, {}) == EVENT
    with pytest.raises(ValueError):
        target_input(EVENT, {"InputPath": "detail"})


# --------------------------------------------------------------------------- pip played


def test_pip_reports_pinned_requirements_through_nested_files(tmp_path: Any) -> None:
    (tmp_path / "base.txt").write_text("pyyaml==0.0.1 \\\n    --hash=sha256:00\n")
    (tmp_path / "dev.txt").write_text(
        "-r base.txt\ncolorama==0.4.6 ; sys_platform == 'win32' \\\n    --hash=sha256:11\n"
    )
    assert pip_standin.requirements(tmp_path / "dev.txt") == [("pyyaml", "0.0.1")]
    assert pip_standin.main(["install", "-r", str(tmp_path / "dev.txt")]) == 0
    (tmp_path / "missing.txt").write_text("no-such-distribution-here==1.0\n")
    assert pip_standin.main(["install", "-r", str(tmp_path / "missing.txt")]) == 1
    assert pip_standin.main(["install", "somepackage"]) == 1
    assert pip_standin.main(["install", "-r", str(tmp_path / "absent.txt")]) == 1


# --------------------------------------------------------------------------- the commands


def _push_branch(ops: Emulated, branch: str, path: str, text: str) -> str:
    ops.adopt_first_commit()
    ops.git("checkout", "-q", "-b", branch)
    (ops.root / path).write_text(text, encoding="utf-8")
    ops.git("add", "-A")
    ops.git("commit", "-q", "-m", f"work on {branch}")
    ops.git("push", "-q", str(ops.remote()), f"HEAD:refs/heads/{branch}")
    ops.git("checkout", "-q", ops.config.source.branch)
    ops.aws.service("codecommit").check_pushes()
    return ops.git("rev-parse", branch).strip()


def test_a_feature_push_is_tested_and_built_and_listed_never_deployed(ops: Emulated) -> None:
    deployed = ops.cli("deploy", "--yes")
    assert deployed.code == 0, deployed.err
    codepipeline = ops.aws.client("codepipeline")
    name = "sample3-dev-pipeline"
    executions = codepipeline.list_pipeline_executions(pipelineName=name)
    before = len(executions["pipelineExecutionSummaries"])
    main_py = (ops.root / "webapp/app/main.py").read_text(encoding="utf-8")
    commit = _push_branch(ops, "feature/x", "webapp/app/main.py", main_py + "\n# x\n")
    codebuild = ops.aws.client("codebuild")
    project = "sample3-dev-branch-checks"

    def done() -> bool:
        ids = codebuild.list_builds_for_project(projectName=project)["ids"]
        return bool(ids) and codebuild.batch_get_builds(ids=ids)["builds"][0]["buildComplete"]

    ops.until(done, limit=900)
    (build,) = codebuild.batch_get_builds(
        ids=codebuild.list_builds_for_project(projectName=project)["ids"]
    )["builds"]
    assert build["buildStatus"] == "SUCCEEDED", build["phases"]
    assert build["resolvedSourceVersion"] == commit
    exported = {v["name"]: v["value"] for v in build["exportedEnvironmentVariables"]}
    assert exported["BRANCH"] == "feature/x"
    assert (exported["APP_TESTS"], exported["CHECKS"]) == ("passed", "passed")
    assert (exported["APP_IMAGE"], exported["ROUTER_IMAGE"]) == ("built", "in-ecr")
    # Not pushed: the app repository holds only the first release's image.
    ecr = ops.aws.client("ecr")
    tags = [i["imageTag"] for i in ecr.list_images(repositoryName="sample3-dev-webapp")["imageIds"]]
    assert exported["APP_TAG"] not in tags and len(tags) == 1
    # Not deployed: the pipeline did not start.
    after = codepipeline.list_pipeline_executions(pipelineName=name)
    assert len(after["pipelineExecutionSummaries"]) == before

    listed = ops.cli("builds")
    assert listed.code == 0, listed.err
    assert listed.out.splitlines() == [
        f"#1  feature/x  {commit[:8]}  SUCCEEDED  {_seconds(build)} s  tests passed, "
        "checks passed, app image built, router image in-ecr"
    ]
    as_json = ops.cli("builds", "--branch", "feature/x", "-o", "json")
    (item,) = json.loads(as_json.out)
    # the document: BatchGetBuilds' fields and the variables the buildspec exported
    assert item == {
        "build_id": build["id"],
        "number": 1,
        "branch": "feature/x",
        "commit": commit,
        "status": "SUCCEEDED",
        "phase": "COMPLETED",
        "started": build["startTime"].isoformat(),
        "seconds": _seconds(build),
        "variables": exported,
    }
    other = ops.cli("builds", "--branch", "feature/y")
    assert other.code == 0 and other.out == "" and "no branch checks of feature/y" in other.err


def _seconds(build: dict[str, Any]) -> int:
    return int(round((build["endTime"] - build["startTime"]).total_seconds()))


def test_a_push_to_the_release_branch_starts_no_branch_check(ops: Emulated) -> None:
    deployed = ops.cli("deploy", "--yes")
    assert deployed.code == 0, deployed.err
    ops.sleep(600)
    codebuild = ops.aws.client("codebuild")
    assert codebuild.list_builds_for_project(projectName="sample3-dev-branch-checks")["ids"] == []


@pytest.mark.parametrize(("limit", "ok"), [(1, True), (100, True), (0, False), (101, False)])
def test_builds_limit_edges(ops: Emulated, limit: int, ok: bool) -> None:
    result = ops.cli("builds", "--limit", str(limit))
    if ok:
        # Nothing deployed: the project does not exist yet (a failed operation, exit 1).
        assert result.code == 1, result.err
    else:
        assert result.code == 2 and "--limit" in result.err


def test_builds_without_branch_flows_is_bad_input(ops: Emulated) -> None:
    text = (ops.root / "bluegreen.toml").read_text(encoding="utf-8")
    assert 'branches = ["feature/*"]' in text
    (ops.root / "bluegreen.toml").write_text(
        text.replace('branches = ["feature/*"]', "branches = []"), encoding="utf-8"
    )
    result = ops.cli("builds")
    assert result.code == 2 and "builds.branches" in result.err


def test_the_branch_buildspec_is_valid_yaml_with_its_exports() -> None:
    from bluegreen import appkit

    data = yaml.safe_load(appkit.render(Config())[config_mod.BRANCH_BUILDSPEC])
    assert data["env"]["exported-variables"] == [
        "BRANCH",
        "APP_TAG",
        "APP_IMAGE",
        "ROUTER_TAG",
        "ROUTER_IMAGE",
        "APP_TESTS",
        "CHECKS",
    ]
    commands = [c for phase in data["phases"].values() for c in phase["commands"]]
    assert not any("docker push" in c or "docker login" in c for c in commands)
