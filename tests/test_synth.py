"""`bluegreen synth` and bluegreen.synth: the files written, their stability, the CLI."""

from __future__ import annotations

import json
import os
import shlex
import stat
from pathlib import Path

import pytest
import yaml

from bluegreen import config as config_mod
from bluegreen.cli.app import main
from bluegreen.lint import Finding
from bluegreen.names import Names
from bluegreen.synth import synthesize

FILES = ["1-source.yaml", "2-service.yaml", "3-pipeline.yaml", "deploy.json", "deploy.sh"]

OTHER = """
[project]
name = "shop"
environment = "prod"
region = "us-east-1"
[listeners]
production_port = 8000
"""


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_synthesize_writes_the_five_files(tmp_path: Path) -> None:
    config = config_mod.parse("")
    out = tmp_path / "a" / "b"
    result = synthesize(config, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert [p.name for p in result.files] == FILES
    assert result.linted is False and result.ok
    for stack in result.stacks:
        assert (out / stack.filename).read_text(encoding="utf-8") == stack.to_yaml()
        assert yaml.safe_load((out / stack.filename).read_text())["Resources"]
    assert os.stat(out / "deploy.sh").st_mode & stat.S_IXUSR
    assert not os.stat(out / "deploy.json").st_mode & stat.S_IXUSR


def test_deploy_plan_and_script(tmp_path: Path) -> None:
    config = config_mod.parse(OTHER)
    names = Names.of(config)
    synthesize(config, tmp_path)
    plan = json.loads((tmp_path / "deploy.json").read_text())
    assert plan["region"] == "us-east-1"
    assert [(s["name"], s["template"]) for s in plan["stacks"]] == [
        (names.source_stack, "1-source.yaml"),
        (names.service_stack, "2-service.yaml"),
        (names.pipeline_stack, "3-pipeline.yaml"),
    ]
    assert all(s["parameters"] == {} for s in plan["stacks"])
    assert [s["capabilities"] for s in plan["stacks"]] == [
        [],
        ["CAPABILITY_IAM"],
        ["CAPABILITY_IAM"],
    ]

    script = (tmp_path / "deploy.sh").read_text()
    assert script.startswith("#!/bin/sh\n")
    # The pain bluegreen deploy removes must not come back silently through the script.
    assert "makes no first commit" in script and "shop-prod-" in script
    commands = [shlex.split(line) for line in script.splitlines() if line.startswith("aws ")]
    assert len(commands) == 3
    for command, stack in zip(commands, plan["stacks"], strict=True):
        assert command[:3] == ["aws", "cloudformation", "deploy"]
        args = command[3:]
        assert args[args.index("--template-file") + 1] == stack["template"]
        assert args[args.index("--stack-name") + 1] == stack["name"]
        assert args[args.index("--region") + 1] == "us-east-1"
        assert ("--capabilities" in args) == bool(stack["capabilities"])
    for text in (script, json.dumps(plan)):
        assert not any(len(w) == 12 and w.isdigit() for w in text.replace(":", " ").split())


def test_synth_twice_is_byte_identical(tmp_path: Path) -> None:
    config = config_mod.parse(OTHER)
    synthesize(config, tmp_path / "one")
    synthesize(config_mod.parse(OTHER), tmp_path / "two")
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    before = snapshot(tmp_path / "one")
    synthesize(config, tmp_path / "one")
    assert snapshot(tmp_path / "one") == before


def test_synthesize_overwrites_only_its_own_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "2-service.yaml").write_text("stale")
    synthesize(config_mod.parse(""), tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "2-service.yaml").read_text() != "stale"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*FILES, "notes.txt"])


def test_synthesize_with_lint_reports_no_findings(tmp_path: Path) -> None:
    result = synthesize(config_mod.parse(OTHER), tmp_path, lint=True)
    assert result.linted and result.findings == [] and result.ok
    assert result.to_dict()["lint"] == {"enabled": True, "regions": ["us-east-1"], "findings": []}


# --- CLI ----------------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "bluegreen.toml").write_text(OTHER, encoding="utf-8")
    return root


def test_cli_synth_default_out_and_text_output(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    assert main(["synth", "--lint"]) == 0
    out_dir = repo / ".bluegreen" / "synth"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(FILES)
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == f"wrote 5 files to {out_dir}"
    # Each stack's line counts the resources of the YAML file written for it.
    for stack in ("source", "service", "pipeline"):
        written = next(out_dir.glob(f"*-{stack}.yaml")).read_text(encoding="utf-8")
        count = len(yaml.safe_load(written)["Resources"])
        assert f"shop-prod-{stack} ({count} resources)" in captured.out
    assert lines[-1].startswith("cfn-lint ") and lines[-1].endswith(
        "(us-east-1): no errors or warnings"
    )
    assert "synthesizing into" in captured.err and "synthesizing" not in captured.out


def test_cli_synth_json_no_lint(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = repo / "out"
    code = main(
        ["synth", "--config", str(repo / "bluegreen.toml"), "--out", str(out_dir), "-o", "json"]
        + ["--no-lint"]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["out_dir"] == str(out_dir)
    assert [s["key"] for s in data["stacks"]] == ["source", "service", "pipeline"]
    assert all(s["resources"] > 0 for s in data["stacks"])
    assert data["lint"] == {"enabled": False, "regions": [], "findings": []}
    assert [Path(p).name for p in data["files"]] == FILES


def test_cli_bad_config_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "bluegreen.toml"
    config_file.write_text("[app]\nport = 0\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    assert main(["synth", "--config", str(config_file), "--out", str(out_dir)]) == 2
    assert not out_dir.exists()
    assert not (tmp_path / ".bluegreen").exists()
    assert "app.port" in capsys.readouterr().err


def test_cli_missing_config_exits_2(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    assert main(["synth", "--config", str(tmp_path / "nope.toml"), "--out", str(out_dir)]) == 2
    assert not out_dir.exists()


def test_cli_fails_when_cfn_lint_finds_something(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A finding fails the command (exit 1) and is listed; the files stay for inspection."""

    def fake_lint(text: str, filename: str, regions: list[str]) -> list[Finding]:
        if filename != "2-service.yaml":
            return []
        return [Finding(filename, 7, 3, "warning", "W9999", "something AWS dislikes")]

    monkeypatch.setattr("bluegreen.lint.lint_template", fake_lint)
    out_dir = repo / "out"
    argv = ["synth", "--config", str(repo / "bluegreen.toml"), "--out", str(out_dir), "--lint"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "2-service.yaml:7:3: warning W9999 something AWS dislikes" in captured.out
    assert "cfn-lint reported 1 finding" in captured.err
    assert (out_dir / "2-service.yaml").is_file()


def test_cli_region_unknown_to_cfn_lint_exits_2_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "bluegreen.toml"
    config_file.write_text('[project]\nregion = "xx-nowhere-1"\n', encoding="utf-8")
    out_dir = tmp_path / "out"
    argv = ["synth", "--config", str(config_file), "--out", str(out_dir), "--lint"]
    assert main(argv) == 2
    assert not out_dir.exists()
    assert "xx-nowhere-1" in capsys.readouterr().err
    assert main(["synth", "-c", str(config_file), "--out", str(out_dir), "--no-lint"]) == 0
    assert (out_dir / "deploy.sh").is_file()


def test_cli_an_out_path_that_cannot_be_a_directory_exits_2(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new user's report: `synth --out <a file>` failed as an operation (exit 1)."""
    a_file = repo / "notes.txt"
    a_file.write_text("mine\n", encoding="utf-8")
    config = str(repo / "bluegreen.toml")
    # The file itself: click's own check of the option (file_okay=False).
    assert main(["synth", "--config", config, "--out", str(a_file)]) == 2
    assert "Invalid value for '--out'" in capsys.readouterr().err
    # A path through the file: was exit 1 ("could not write ... Not a directory").
    out = a_file / "out"
    assert main(["synth", "--config", config, "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"error: --out {out}: {a_file} is a file, not a directory"
    assert err[1].startswith("  hint: pass --out with a directory you can write to")
    assert a_file.read_text(encoding="utf-8") == "mine\n"
    # The edge that works: a path whose parent directories do not exist yet.
    assert main(["synth", "--config", config, "--out", str(repo / "new" / "deeper")]) == 0
    assert (repo / "new" / "deeper" / "1-source.yaml").is_file()
