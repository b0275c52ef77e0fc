"""cfn-lint (the AWS resource schemas) on every synthesized template, and lint.py itself.

Every template of several configs must lint with zero errors and zero warnings in the
regions the config names (what `bluegreen verify` and `synth --lint` enforce, which
leave informational rules out). The linter is also shown to catch real mistakes, and
the informational switch to work both ways, so a silent linter cannot pass these tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from configs import CONFIGS, ECS_CONFIGS

from bluegreen import config as config_mod
from bluegreen.errors import UsageError
from bluegreen.lint import Finding, lint_template
from bluegreen.stacks import build

ALL_CONFIGS = {**CONFIGS, **ECS_CONFIGS}


@pytest.fixture(scope="module", params=sorted(ALL_CONFIGS))
def findings(request: pytest.FixtureRequest) -> dict[str, list[Finding]]:
    """Template file -> findings for one config, as verify lints (no informational)."""
    config = config_mod.parse(ALL_CONFIGS[request.param])
    return {
        stack.filename: lint_template(stack.to_yaml(), stack.filename, [config.project.region])
        for stack in build(config)
    }


def test_no_errors_or_warnings(findings: dict[str, list[Finding]]) -> None:
    assert sorted(findings) == ["1-source.yaml", "2-service.yaml", "3-pipeline.yaml"]
    assert [str(f) for found in findings.values() for f in found] == []


def test_informational_findings_only_when_asked_for() -> None:
    """A log group without deletion policies is I3011 (informational), reported only
    with include_informational: the switch works at both edges."""
    text = "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n"
    assert lint_template(text, "i.yaml", ["us-east-1"]) == []
    found = lint_template(text, "i.yaml", ["us-east-1"], include_informational=True)
    assert {(f.level, f.rule, f.line) for f in found} == {("informational", "I3011", 2)}


def _default_service_template() -> dict[str, object]:
    service = build(config_mod.parse(""))[1]
    template: dict[str, object] = yaml.safe_load(service.to_yaml())
    return template


def test_lint_catches_an_invalid_property() -> None:
    template = _default_service_template()
    resources = template["Resources"]
    assert isinstance(resources, dict)
    resources["Service"]["Properties"]["DeploymentController"] = {"Type": "BLUE_GREEN_NOW"}
    text = yaml.safe_dump(template, sort_keys=False)
    found = lint_template(text, "broken.yaml", ["ap-northeast-1"])
    errors = [f for f in found if f.level == "error"]
    assert errors, found
    # The error points at the bad value itself: the one line that holds it.
    (bad_line,) = [n for n, line in enumerate(text.splitlines(), 1) if "BLUE_GREEN_NOW" in line]
    assert [(f.rule[0], f.line) for f in errors] == [("E", bad_line)]  # E3030 in cfn-lint 1.x
    assert "BLUE_GREEN_NOW" in errors[0].message
    assert all(f.filename == "broken.yaml" for f in errors)


def test_lint_catches_a_dangling_reference() -> None:
    template = _default_service_template()
    resources = template["Resources"]
    assert isinstance(resources, dict)
    del resources["GreenTargetGroup"]
    found = lint_template(yaml.safe_dump(template), "dangling.yaml", ["eu-west-1"])
    assert any(f.level == "error" and "GreenTargetGroup" in f.message for f in found), found


def test_lint_reports_warnings_as_warnings() -> None:
    text = """
Parameters:
  Unused:
    Type: String
Resources:
  Topic:
    Type: AWS::SNS::Topic
"""
    found = lint_template(text, "w.yaml")
    assert [(f.level, f.rule) for f in found] == [("warning", "W2001")]
    assert found[0].line == 3


def test_unparsable_template_is_one_error() -> None:
    (finding,) = lint_template("Resources: [unclosed", "bad.yaml", ["us-east-1"])
    assert finding.level == "error" and finding.rule == "E0000"
    assert finding.to_dict()["filename"] == "bad.yaml"


def test_unknown_region_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="xx-nowhere-1") as info:
        lint_template("Resources: {}", "t.yaml", ["xx-nowhere-1"])
    assert info.value.exit_code == 2


def test_a_cfnlintrc_in_the_working_directory_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same template, same verdict, wherever bluegreen runs."""
    (tmp_path / ".cfnlintrc").write_text("ignore_checks:\n  - W2001\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    text = "Parameters:\n  Unused:\n    Type: String\nResources:\n  T:\n    Type: AWS::SNS::Topic\n"
    assert [f.rule for f in lint_template(text, "t.yaml")] == ["W2001"]
