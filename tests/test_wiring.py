"""What the repository's buildspecs do on AWS is allowed by the roles the stacks create.

A buildspec calling an AWS API its CodeBuild role does not allow fails only on AWS, at
the first release; this catches that drift offline.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from bluegreen import appkit, config, stacks

# `aws <service> <command>` in a buildspec -> the IAM action it needs.
_AWS_CLI = re.compile(r"\baws\s+([a-z0-9-]+)\s+([a-z0-9-]+)")
_SPECIAL = {("ecr", "get-login-password"): "ecr:GetAuthorizationToken"}


def _action(service: str, command: str) -> str:
    special = _SPECIAL.get((service, command))
    if special:
        return special
    return f"{service}:" + "".join(part.capitalize() for part in command.split("-"))


def _codebuild_actions(template: dict[str, Any]) -> set[str]:
    resources = template["Resources"]
    role_ids = {
        r["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
        for r in resources.values()
        if r["Type"] == "AWS::CodeBuild::Project"
    }
    actions: set[str] = set()
    for role_id in role_ids:
        for policy in resources[role_id]["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Allow":
                    actions |= set(statement["Action"])
    return actions


@pytest.mark.parametrize("text", ["", '[project]\nname = "shop"\nregion = "us-east-1"'])
def test_buildspec_aws_calls_are_allowed_by_the_codebuild_role(text: str) -> None:
    cfg = config.parse(text)
    files = appkit.render(cfg)
    pipeline = next(s for s in stacks.build(cfg) if s.key == "pipeline")
    allowed = _codebuild_actions(pipeline.template.to_dict())
    called: set[str] = set()
    for directory in (cfg.app.directory, cfg.router.directory):
        spec = yaml.safe_load(files[f"{directory}/buildspec.yml"])
        for phase in spec["phases"].values():
            for command in phase.get("commands", []):
                called |= {_action(s, c) for s, c in _AWS_CLI.findall(command)}
    assert called, "the buildspecs call no AWS API: the parser is broken"
    assert called <= allowed, f"not allowed by the CodeBuild role: {sorted(called - allowed)}"
