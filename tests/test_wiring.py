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


def _allowed_by_project(template: dict[str, Any]) -> dict[str, set[str]]:
    """BuildSpec path -> the actions its project's own service role allows."""
    resources = template["Resources"]
    allowed: dict[str, set[str]] = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::CodeBuild::Project":
            continue
        project = resource["Properties"]
        role = resources[project["ServiceRole"]["Fn::GetAtt"][0]]["Properties"]
        actions: set[str] = set()
        for policy in role.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Allow":
                    actions |= set(statement["Action"])
        allowed[project["Source"]["BuildSpec"]] = actions
    return allowed


@pytest.mark.parametrize("text", ["", '[project]\nname = "shop"\nregion = "us-east-1"'])
def test_buildspec_aws_calls_are_allowed_by_their_projects_own_role(text: str) -> None:
    """Each project has its own service role (scoped to its own image repository), so
    each buildspec is checked against the role of the project that runs it."""
    cfg = config.parse(text)
    files = appkit.render(cfg)
    pipeline = next(s for s in stacks.build(cfg) if s.key == "pipeline")
    allowed = _allowed_by_project(pipeline.template.to_dict())
    buildspecs = [f"{d}/buildspec.yml" for d in (cfg.app.directory, cfg.router.directory)]
    buildspecs.append(config.BRANCH_BUILDSPEC)  # the branch checks' project (builds.branches)
    assert sorted(allowed) == sorted(buildspecs)
    for path in buildspecs:
        spec = yaml.safe_load(files[path])
        called: set[str] = set()
        for phase in spec["phases"].values():
            for command in phase.get("commands", []):
                called |= {_action(s, c) for s, c in _AWS_CLI.findall(command)}
        assert called, f"{path} calls no AWS API: the parser is broken"
        missing = sorted(called - allowed[path])
        assert not missing, f"{path}: not allowed by its project's role: {missing}"
