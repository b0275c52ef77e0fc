"""taskdef.json agrees with the service stack's bootstrap task definition.

CodeDeploy replaces the bootstrap revision with taskdef.json on the first release, so
everything but the images (and what only the custom router image can use: its
extra.conf) must be the same: a mismatch would change container names, ports or log
routing silently on the first pipeline run.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bluegreen import appkit, config, names, stacks
from bluegreen.config import Config
from bluegreen.stacks import bootstrap as bootstrap_mod

CONFIGS = {
    "default": Config(),
    "custom": config.parse(
        '[project]\nname = "shop"\nenvironment = "prod"\n'
        '[app]\nname = "api"\ndirectory = "svc"\nport = 8000\n'
        '[router]\nname = "logs"\n[task]\ncpu = 1024\nmemory = 3072\n'
    ),
}


def _camel(node: Any, inside_options: bool = False) -> Any:
    """CloudFormation's PascalCase keys as the ECS API's camelCase (options stay as is)."""
    if isinstance(node, dict):
        return {
            (key if inside_options else key[0].lower() + key[1:]): _camel(
                value, inside_options=key in ("Options", "options")
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_camel(item) for item in node]
    return node


def _resolve(node: Any, template: dict[str, Any], cfg: Config) -> Any:
    """Stack-only values as the placeholders/names taskdef.json holds for them."""
    if isinstance(node, dict):
        if node == {"Ref": "AWS::Region"}:
            return names.REGION_PLACEHOLDER
        if set(node) == {"Ref"}:
            resource = template["Resources"][node["Ref"]]
            assert resource["Type"] == "AWS::Logs::LogGroup"
            return resource["Properties"]["LogGroupName"]
        if set(node) == {"Fn::GetAtt"}:
            roles = {
                "TaskRole": names.TASK_ROLE_PLACEHOLDER,
                "ExecutionRole": names.EXECUTION_ROLE_PLACEHOLDER,
            }
            return roles[node["Fn::GetAtt"][0]]
        return {key: _resolve(value, template, cfg) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, template, cfg) for item in node]
    return node


APP_ONLY = ("environment", "readonlyRootFilesystem", "linuxParameters")


@pytest.mark.parametrize("cfg", CONFIGS.values(), ids=CONFIGS.keys())
def test_taskdef_matches_the_bootstrap_task_definition(cfg: Config) -> None:
    service = next(s for s in stacks.build(cfg) if s.key == "service")
    template = service.template.to_dict()
    (task,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ECS::TaskDefinition"
    ]
    bootstrap = _camel(_resolve(task, template, cfg))
    mine = json.loads(appkit.render(cfg)["taskdef.json"])

    keys = ("family", "cpu", "memory", "networkMode", "requiresCompatibilities")
    for key in (*keys, "taskRoleArn", "executionRoleArn"):
        assert mine[key] == bootstrap[key], key
    assert mine["runtimePlatform"] == bootstrap["runtimePlatform"]

    theirs = {c["name"]: c for c in bootstrap["containerDefinitions"]}
    ours = {c["name"]: c for c in mine["containerDefinitions"]}
    assert list(ours) == list(theirs) == [cfg.app.name, cfg.router.name]
    for name in ours:
        a, b = dict(ours[name]), dict(theirs[name])
        # Differences by design: the bootstrap runs stock images (the app with an inline
        # server command); the built router image carries extra.conf for FireLens.
        a.pop("image"), b.pop("image"), b.pop("command", None)
        # The stock image runs as root unless told otherwise (the bootstrap names nobody
        # for a high port); the built image's user is its Dockerfile's USER.
        assert b.pop("user", None) in (None, bootstrap_mod.NOBODY) and "user" not in a
        # What only the built app reads or needs: FORWARDED_ALLOW_IPS, and the hardening
        # of the built image (read-only root, capabilities). Where the bootstrap sets the
        # same key, it must agree.
        for key in APP_ONLY if name == cfg.app.name else ():
            if key not in b:
                a.pop(key)
        a_firelens, b_firelens = (
            a.pop("firelensConfiguration", None),
            b.pop("firelensConfiguration", None),
        )
        assert a == b, name
        if a_firelens is not None:
            assert b_firelens is not None
            extra = {k: v for k, v in a_firelens["options"].items() if k.startswith("config-file")}
            assert extra == {
                "config-file-type": "file",
                "config-file-value": appkit.FIRELENS_CONFIG_PATH,
            }
            a_firelens["options"] = {
                k: v for k, v in a_firelens["options"].items() if k not in extra
            }
            assert a_firelens == b_firelens


def test_the_router_image_is_the_bootstrap_version() -> None:
    from bluegreen.stacks import bootstrap

    assert bootstrap.BOOTSTRAP_ROUTER_IMAGE == appkit.FLUENT_BIT_IMAGE
    assert bootstrap.ROUTER_MEMORY_RESERVATION == appkit.ROUTER_MEMORY_RESERVATION
