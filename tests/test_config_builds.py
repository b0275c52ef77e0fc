"""[builds]: builds.shared and builds.branches at both edges (exit 2 naming the key), and
the CLI refusing a bad value before anything is done."""

from __future__ import annotations

from pathlib import Path

import pytest
from configs import refused

from bluegreen import config
from bluegreen.appkit import render_config
from bluegreen.cli.app import main


def test_defaults_build_feature_branches_and_share_nothing() -> None:
    builds = config.Config().builds
    assert builds.shared == [] and builds.branches == ["feature/*"]


def test_shared_holds_up_to_ten_directories() -> None:
    ten = [f"d{i}" for i in range(config.MAX_SHARED_DIRECTORIES)]
    assert config.from_dict({"builds": {"shared": ten}}).builds.shared == ten
    assert "at most 10" in refused({"builds": {"shared": [*ten, "d10"]}}, "builds.shared")
    assert config.from_dict({"builds": {"shared": []}}).builds.shared == []


@pytest.mark.parametrize("bad", ["a/b", "../x", ".hidden", "", "a b"])
def test_shared_names_single_directories(bad: str) -> None:
    assert "single directory name" in refused({"builds": {"shared": [bad]}}, "builds.shared")


def test_shared_refuses_an_image_directory_and_duplicates() -> None:
    assert "app.directory" in refused({"builds": {"shared": ["webapp"]}}, "builds.shared")
    assert "router.directory" in refused({"builds": {"shared": ["firelens"]}}, "builds.shared")
    assert "twice" in refused({"builds": {"shared": ["lib", "lib"]}}, "builds.shared")
    assert config.from_dict({"builds": {"shared": ["lib", "lib2"]}}).builds.shared == [
        "lib",
        "lib2",
    ]


def test_branches_hold_up_to_ten_patterns() -> None:
    ten = [f"f{i}/*" for i in range(config.MAX_BRANCH_PATTERNS)]
    assert config.from_dict({"builds": {"branches": ten}}).builds.branches == ten
    assert "at most 10" in refused({"builds": {"branches": [*ten, "x/*"]}}, "builds.branches")
    assert config.from_dict({"builds": {"branches": []}}).builds.branches == []


@pytest.mark.parametrize("good", ["feature/*", "fix-*", "*-wip", "release/1.x", "a*b*c"])
def test_branch_patterns_are_branch_names_with_stars(good: str) -> None:
    assert config.from_dict({"builds": {"branches": [good]}}).builds.branches == [good]


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("feature/**", "'**'"),  # EventBridge: consecutive wildcard characters are invalid
        ("feature//x", "git branch name"),
        ("-x*", "git branch name"),
        ("x*.lock", "git branch name"),
        ("a b*", "git branch name"),
        ("x" * 257, "git branch name"),
    ],
)
def test_branch_patterns_refused(bad: str, why: str) -> None:
    assert why in refused({"builds": {"branches": [bad]}}, "builds.branches")


def test_a_pattern_may_not_match_the_release_branch() -> None:
    assert "matches source.branch" in refused({"builds": {"branches": ["*"]}}, "builds.branches")
    assert "matches source.branch" in refused(
        {"source": {"branch": "release/1.x"}, "builds": {"branches": ["release/*"]}},
        "builds.branches",
    )
    # A pattern that stops one character short of the branch does not match it.
    assert config.from_dict({"builds": {"branches": ["mai"]}}).builds.branches == ["mai"]
    assert config.from_dict({"builds": {"branches": ["main-*"]}}).builds.branches == ["main-*"]


@pytest.mark.parametrize(
    ("pattern", "branch", "matches"),
    [
        ("feature/*", "feature/x", True),
        ("feature/*", "feature/a/b", True),  # '*' spans '/': EventBridge's wildcard
        ("feature/*", "feature/", True),  # '*' is zero or more characters
        ("feature/*", "feature", False),
        ("feature/*", "x/feature/y", False),
        ("*-wip", "a-wip", True),
        ("a?c", "abc", False),  # '?' is an ordinary character
        ("a?c", "a?c", True),
    ],
)
def test_branch_patterns_match_as_eventbridge_wildcards(
    pattern: str, branch: str, matches: bool
) -> None:
    assert config.branch_pattern_matches(pattern, branch) is matches


def test_the_commented_config_round_trips_the_builds_section() -> None:
    cfg = config.from_dict({"builds": {"shared": ["common"], "branches": ["fix-*", "feature/*"]}})
    assert config.parse(render_config(cfg)) == cfg


def test_synth_refuses_a_bad_pattern_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bluegreen.toml").write_text('[builds]\nbranches = ["feature/**"]\n')
    out = tmp_path / "out"
    assert main(["synth", "--config", str(tmp_path / "bluegreen.toml"), "--out", str(out)]) == 2
    assert not out.exists()
