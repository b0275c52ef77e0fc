"""appkit.check: a fresh scaffold is clean; each typical mistake is reported, by file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bluegreen import appkit, config
from bluegreen.config import Config

CFG = Config()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    appkit.init(tmp_path, CFG)
    return tmp_path


def test_a_fresh_scaffold_has_no_problems(repo: Path) -> None:
    assert appkit.check(repo, CFG) == []


def test_a_custom_scaffold_has_no_problems(tmp_path: Path) -> None:
    cfg = config.parse(
        '[app]\nname = "api"\ndirectory = "svc"\nport = 8000\n'
        '[router]\nname = "logs"\ndirectory = "fb"\n[task]\ncpu = 512\nmemory = 2048\n'
    )
    appkit.init(tmp_path, cfg)
    assert appkit.check(tmp_path, cfg) == []
    # ... but the default config disagrees with it everywhere it matters
    problems = appkit.check(tmp_path, CFG)
    assert any(p.startswith("webapp/Dockerfile: missing") for p in problems)


def _edit(repo: Path, rel: str, change: Callable[[str], str]) -> None:
    path = repo / rel
    text = path.read_text(encoding="utf-8")
    changed = change(text)
    assert changed != text, f"the mutation did not change {rel}"
    path.write_text(changed, encoding="utf-8")


MUTATIONS: list[tuple[str, str, Callable[[str], str], str]] = [
    (
        "account id in taskdef",
        "taskdef.json",
        lambda t: t.replace("<TASK_ROLE_ARN>", "arn:aws:iam::012345678901:role/sample3-dev-task"),
        "12-digit account ID 012345678901",
    ),
    (
        "ARN without an account",
        "taskdef.json",
        lambda t: t.replace("<EXECUTION_ROLE_ARN>", "arn:aws:iam::aws:policy/x"),
        "environment-specific ARN",
    ),
    (
        "wrong container name",
        "taskdef.json",
        lambda t: t.replace('"name": "webapp"', '"name": "web"'),
        "no container named 'webapp'",
    ),
    (
        "missing image placeholder",
        "taskdef.json",
        lambda t: t.replace('"<IMAGE2_NAME>"', '"fluent/fluent-bit:3.2"'),
        'image must be "<IMAGE2_NAME>"',
    ),
    (
        "swapped image placeholders",
        "taskdef.json",
        lambda t: t.replace("<IMAGE1_NAME>", "X").replace("<IMAGE2_NAME>", "<IMAGE1_NAME>"),
        "placeholders are swapped",
    ),
    (
        "fixed region",
        "taskdef.json",
        lambda t: t.replace('"awslogs-region": "<AWS_REGION>"', '"awslogs-region": "us-east-1"'),
        'fixed awslogs-region "us-east-1"',
    ),
    (
        "wrong port mapping",
        "taskdef.json",
        lambda t: t.replace('"containerPort": 80', '"containerPort": 8080'),
        "maps no containerPort 80",
    ),
    (
        "wrong task size",
        "taskdef.json",
        lambda t: t.replace('"memory": "512"', '"memory": "1024"'),
        '"memory" is "1024"',
    ),
    (
        "taskdef not JSON",
        "taskdef.json",
        lambda t: t.replace('"family":', '"family"'),
        "not valid JSON",
    ),
    (
        "appspec without TASK_DEFINITION",
        "appspec.yml",
        lambda t: t.replace('"<TASK_DEFINITION>"', "sample3-dev-task:3"),
        "TaskDefinition is 'sample3-dev-task:3'",
    ),
    (
        "appspec wrong container",
        "appspec.yml",
        lambda t: t.replace('ContainerName: "webapp"', 'ContainerName: "log-router"'),
        "ContainerName is 'log-router'",
    ),
    (
        "appspec wrong port",
        "appspec.yml",
        lambda t: t.replace("ContainerPort: 80", "ContainerPort: 8080"),
        "ContainerPort is 8080",
    ),
    (
        "appspec not YAML",
        "appspec.yml",
        lambda t: t.replace("version: 0.0", "version: [0.0"),
        "not valid YAML",
    ),
    (
        "buildspec not YAML",
        "webapp/buildspec.yml",
        lambda t: t.replace("version: 0.2", "version: {0.2"),
        "not valid YAML",
    ),
    (
        "buildspec old version",
        "firelens/buildspec.yml",
        lambda t: t.replace("version: 0.2", "version: 0.1"),
        "write version: 0.2",
    ),
    (
        "buildspec without imageDetail.json",
        "firelens/buildspec.yml",
        lambda t: t.replace("> imageDetail.json", "> image.json"),
        "no command writes imageDetail.json",
    ),
    (
        "buildspec not rendering the region",
        "webapp/buildspec.yml",
        lambda t: t.replace('-e "s|<AWS_REGION>|${AWS_REGION}|g" ', ""),
        "no command replaces <AWS_REGION>",
    ),
    (
        "buildspec building the wrong directory",
        "webapp/buildspec.yml",
        lambda t: t.replace('"webapp"; fi', ".; fi"),
        "does not build webapp/",
    ),
    (
        "unpinned app base image",
        "webapp/Dockerfile",
        lambda t: t.replace(appkit.PYTHON_IMAGE + " AS builder", "python:latest AS builder"),
        "'python:latest' is not pinned",
    ),
    (
        "untagged router base image",
        "firelens/Dockerfile",
        lambda t: t.replace(":" + appkit.FLUENT_BIT_VERSION, ""),
        "has no tag, which means :latest",
    ),
    (
        "app as root",
        "webapp/Dockerfile",
        lambda t: t.replace("USER 10001:10001\n", ""),
        "the app runs as root",
    ),
    (
        "app as uid 0",
        "webapp/Dockerfile",
        lambda t: t.replace("USER 10001:10001\n", "USER 0:0\n"),
        "the app runs as root",
    ),
    (
        "client address trusted from anywhere",
        "taskdef.json",
        lambda t: t.replace('"value": "10.0.0.0/16"', '"value": "*"'),
        'sets FORWARDED_ALLOW_IPS to "*"; set it to "10.0.0.0/16" (network.vpc_cidr',
    ),
    (
        "duplicate container name",
        "taskdef.json",
        lambda t: t.replace('"name": "log-router"', '"name": "webapp"', 1),
        "container name 'webapp' appears 2 times",
    ),
    (
        "wrong EXPOSE",
        "webapp/Dockerfile",
        lambda t: t.replace("EXPOSE 80", "EXPOSE 8080"),
        "EXPOSE lists 8080 but not 80",
    ),
    (
        "router image without extra.conf",
        "firelens/Dockerfile",
        lambda t: t.replace("COPY extra.conf /fluent-bit/etc/extra.conf", "COPY extra.conf /etc/"),
        "does not copy extra.conf to /fluent-bit/etc/extra.conf",
    ),
    (
        "duplicate output",
        "firelens/extra.conf",
        lambda t: t + "\n[OUTPUT]\n    Name  cloudwatch_logs\n    Match *\n",
        "delivered twice",
    ),
]


@pytest.mark.parametrize(
    ("rel", "change", "expected"),
    [(rel, change, expected) for _, rel, change, expected in MUTATIONS],
    ids=[name for name, *_ in MUTATIONS],
)
def test_each_mistake_is_reported_naming_the_file(
    repo: Path, rel: str, change: Callable[[str], str], expected: str
) -> None:
    _edit(repo, rel, change)
    problems = appkit.check(repo, CFG)
    matching = [p for p in problems if expected in p]
    assert matching, problems
    assert all(p.startswith(f"{rel}: ") for p in matching)


@pytest.mark.parametrize(
    "rel", ["taskdef.json", "appspec.yml", "webapp/buildspec.yml", "firelens/extra.conf"]
)
def test_missing_files_are_reported(repo: Path, rel: str) -> None:
    (repo / rel).unlink()
    assert appkit.check(repo, CFG) == [
        f"{rel}: missing; the pipeline needs it (`bluegreen init . --restore` writes the "
        "missing files from bluegreen.toml, leaving every existing file as it is)"
    ]


def test_extra_containers_and_non_utf8_files_are_reported(repo: Path) -> None:
    data = json.loads((repo / "taskdef.json").read_text())
    data["containerDefinitions"].append({"name": "xray", "image": "amazon/aws-xray-daemon"})
    (repo / "taskdef.json").write_text(json.dumps(data))
    (repo / "appspec.yml").write_bytes(b"\xff\xfe")
    problems = appkit.check(repo, CFG)
    assert any("container 'xray' is neither app.name" in p for p in problems)
    assert "appspec.yml: not UTF-8 text; save it as UTF-8" in problems


def test_a_digest_pinned_base_image_is_fine(repo: Path) -> None:
    _edit(
        repo,
        "firelens/Dockerfile",
        lambda t: t.replace(":" + appkit.FLUENT_BIT_VERSION, "@sha256:" + "a" * 64),
    )
    assert appkit.check(repo, CFG) == []
