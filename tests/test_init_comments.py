"""Review U10: the edits init's bluegreen.toml comments suggest pass `bluegreen verify`.

Switching to reroute = "auto" (the comment says to remove wait_minutes with it, which
config refuses under "auto") and adding a check of the greeting's text (init's check
writes no empty ``body`` next to its ``body_pattern``, so adding one sets no pair that
config refuses) are each followed literally, then verified end to end with the CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bluegreen.cli.app import main


def _init(tmp_path: Path, engine: str) -> Path:
    root = tmp_path / "app"
    args = ["init", str(root)] + (["--engine", "ecs"] if engine == "ecs" else [])
    assert main(args) == 0
    return root


@pytest.mark.parametrize("engine", ["codedeploy", "ecs"])
def test_switching_to_auto_as_the_comments_say_verifies(
    tmp_path: Path, engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _init(tmp_path, engine)
    toml = root / "bluegreen.toml"
    text = toml.read_text(encoding="utf-8")
    assert "delete or\n# comment out the wait_minutes line below" in text
    auto = text.replace('reroute = "manual"', 'reroute = "auto"')
    # Only the reroute edit: refused, naming the key (the comment says why).
    toml.write_text(auto, encoding="utf-8")
    assert main(["verify", "--config", str(toml)]) == 2
    assert "deployment.wait_minutes" in "".join(capsys.readouterr())
    # Then the line deleted, as the comment says.
    lines = [line for line in auto.splitlines() if not line.startswith("wait_minutes = ")]
    assert len(lines) == len(auto.splitlines()) - 1
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["verify", "--config", str(toml)]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("engine", ["codedeploy", "ecs"])
def test_adding_a_body_check_as_the_comment_says_verifies(
    tmp_path: Path, engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _init(tmp_path, engine)
    toml = root / "bluegreen.toml"
    text = toml.read_text(encoding="utf-8")
    suggested = '{ path = "/", body = "your greeting" }'
    assert f"add a second check, such as\n# {suggested}" in text
    assert "body = " not in text.split("\nchecks = [", 1)[1].split("\n]", 1)[0]
    added = text.replace(
        "\nchecks = [\n", "\nchecks = [\n  " + suggested.replace("your greeting", "Hello") + ",\n"
    )
    assert added != text
    toml.write_text(added, encoding="utf-8")
    assert main(["verify", "--config", str(toml)]) == 0, capsys.readouterr().out
    # The other reading of the comment, body set on init's own check, is refused by name.
    both = text.replace('body_pattern = "\\\\S"', 'body = "Hello", body_pattern = "\\\\S"')
    assert both != text
    toml.write_text(both, encoding="utf-8")
    assert main(["verify", "--config", str(toml)]) == 2
    assert "sets both body and body_pattern; keep one" in "".join(capsys.readouterr())


def test_the_readme_sections_init_points_to_exist(tmp_path: Path) -> None:
    """Review U15: init's bluegreen.toml named a README section that did not exist."""
    import re

    root = _init(tmp_path, "codedeploy")
    text = " ".join(
        line.lstrip("# ") for line in (root / "bluegreen.toml").read_text().splitlines()
    )
    named = re.findall(r'README, "([^"]+)"', text)
    assert named
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    headings = {line.lstrip("#").strip() for line in readme.splitlines() if line.startswith("#")}
    for section in named:
        assert section in headings, section
