"""Unit tests of the config model and the derived names (pure, no I/O)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bluegreen import config
from bluegreen.errors import ConfigError
from bluegreen.names import Names, naming_problems


def problems_of(text: str) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        config.parse(text)
    assert info.value.exit_code == 2
    return info.value.problems


def test_defaults_reproduce_the_seed() -> None:
    c = config.parse("")
    assert (c.project.name, c.project.environment, c.project.region) == (
        "sample3",
        "dev",
        "ap-northeast-1",
    )
    assert (c.app.name, c.app.port, c.app.greeting) == ("webapp", 80, "Hello, 網走")
    assert (c.listeners.production_port, c.listeners.test_port) == (80, 8080)
    assert c.source.branch == "main"
    assert (c.deployment.reroute, c.deployment.wait_minutes) == ("manual", 10)
    assert c.deployment.termination_wait_minutes > 0
    assert c.deployment.config == "CodeDeployDefault.ECSAllAtOnce"


def test_names_are_derived_from_project_and_environment() -> None:
    names = Names.of(config.parse('[project]\nname = "shop"\nenvironment = "prod"'))
    assert names.stacks == ("shop-prod-source", "shop-prod-service", "shop-prod-pipeline")
    assert names.load_balancer == "shop-prod-alb"
    assert {names.blue_target_group, names.green_target_group} == {
        "shop-prod-blue",
        "shop-prod-green",
    }
    assert names.app_image_repository == "shop-prod-webapp"
    assert names.export("shop-prod-service", "ClusterName") == "shop-prod-service-ClusterName"


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("[app]\nprot = 80", "app.prot", "unknown key"),
        ("[listeners]\ntest_port = 80", "listeners.test_port", "production_port"),
        ("[app]\nport = 0", "app.port", "1 to 65535"),
        ("[task]\ncpu = 256\nmemory = 4096", "task.memory", "512, 1024, 2048"),
        ("[task]\ncpu = 300", "task.cpu", "Fargate cpu"),
        ("[task]\ndesired_count = 0", "task.desired_count", "at least 1"),
        ('[health_check]\npath = "health"', "health_check.path", "starting with '/'"),
        ('[project]\nname = "Sample"', "project.name", "lowercase"),
        ('[project]\nregion = "tokyo"', "project.region", "region code"),
        ('[listeners]\ntest_cidrs = ["10.0.0.0/33"]', "listeners.test_cidrs", "CIDR"),
        ('[deployment]\nconfig = "Fast"', "deployment.config", "CodeDeployDefault.ECSAllAtOnce"),
        ('[deployment]\nreroute = "later"', "deployment.reroute", "'auto'"),
        (
            '[deployment]\nreroute = "manual"\nwait_minutes = 0',
            "deployment.wait_minutes",
            "promote",
        ),
        (
            '[deployment]\nreroute = "auto"\nwait_minutes = 10',
            "deployment.wait_minutes",
            "does not apply",
        ),
        ('[router]\nname = "webapp"', "router.name", "distinct"),
        ("[logs]\nretention_days = 10", "logs.retention_days", "14"),
        ('[app]\nport = "80"', "app.port", "whole number"),
        ('[listeners]\ntest_cidrs = "0.0.0.0/0"', "listeners.test_cidrs", "list in brackets"),
        ('[source]\nbranch = "-main"', "source.branch", "git branch name"),
        ('[source]\nbranch = "release/.x"', "source.branch", "git branch name"),
        ('[source]\nbranch = "main."', "source.branch", "git branch name"),
        ('[source]\nbranch = "HEAD"', "source.branch", "git branch name"),
    ],
)
def test_each_bad_value_names_its_key(text: str, key: str, fragment: str) -> None:
    found = problems_of(text)
    assert any(k == key and fragment in message for k, message in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems_of("[app]\nport = 0\n[task]\ndesired_count = 0")
    assert {k for k, _ in found} == {"app.port", "task.desired_count"}


def test_malformed_toml_says_where() -> None:
    with pytest.raises(ConfigError) as info:
        config.parse("[project\nname = 1")
    assert "not valid TOML" in str(info.value)
    assert re.search(r"line \d+", str(info.value))


def test_name_lengths_are_checked_against_aws_limits() -> None:
    c = config.parse('[project]\nname = "abcdefghijabcdefghij"\nenvironment = "dev"')
    assert naming_problems(c) == []
    found = problems_of('[project]\nname = "abcdefghijabcdefghij"\nenvironment = "production"')
    assert any("at most 32" in message for _, message in found)
    assert all(k == "project.name + project.environment" for k, _ in found)


def test_load_reports_a_missing_file(tmp_path: pytest.TempPathFactory) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        config.load(f"{tmp_path}/bluegreen.toml")


def test_a_directory_named_bluegreen_toml_is_reported_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bluegreen.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot read it"):
        config.load(tmp_path / "bluegreen.toml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="is not a file"):
        config.find()
