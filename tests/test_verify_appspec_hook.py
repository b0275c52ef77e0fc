"""F1 of issue 11: [verify] checks whose appspec.yml Hooks do not run the verify function.

CodeDeploy runs only the Lambda functions the revision's AppSpec names under Hooks
(CodeDeploy User Guide, "AppSpec 'hooks' section for an Amazon ECS deployment"), and only
``bluegreen init`` writes bluegreen's entry. Checks added to an existing repository would
never run, and the releases would go on unchecked: ``verify``, ``rehearse PATH`` and
``deploy`` refuse that config (exit 2, nothing changed) naming the file and the lines to
add. The ECS engine reads no AppSpec (its hook is in the service): nothing to add there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_support import e2e_fixture  # noqa: F401 (fixture)
from emulated import Emulated, emulated  # noqa: F401 (the fixture e2e builds on)

from bluegreen import appkit
from bluegreen import config as config_mod
from bluegreen.cli.app import main

HOOK = '  - AfterAllowTestTraffic: "CodeDeployHook_sample3-dev-verify"'
CHECKS = '\n[verify]\nchecks = [{ path = "/", status = 200 }]\n'


def _repository(tmp_path: Path, engine: str = "codedeploy") -> Path:
    """A repository made before it had checks (init of a config without any), then
    [verify] checks added to its bluegreen.toml, as a user adds them later."""
    root = tmp_path / "app"
    appkit.init(root, config_mod.from_dict({"deployment": {"engine": engine}}))
    toml = root / "bluegreen.toml"
    text = toml.read_text(encoding="utf-8")
    start = text.index("checks = []")
    toml.write_text(
        text[:start] + 'checks = [{ path = "/", status = 200 }]' + text[start + 11 :],
        encoding="utf-8",
    )
    return root


def test_verify_names_the_file_and_the_lines_to_add_then_passes_with_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repository(tmp_path)
    assert main(["verify", "--config", str(root / "bluegreen.toml")]) == 2
    out = capsys.readouterr().out
    assert "appspec.yml: bluegreen.toml has 1 [verify] check, but its Hooks do not name" in out
    assert "add at the end of appspec.yml the lines\n      Hooks:\n      " + HOOK in out
    appspec = root / "appspec.yml"
    appspec.write_text(
        appspec.read_text(encoding="utf-8") + "Hooks:\n" + HOOK + "\n", encoding="utf-8"
    )
    assert main(["verify", "--config", str(root / "bluegreen.toml")]) == 0


def test_the_function_arn_counts_and_another_function_is_named_to_replace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repository(tmp_path)
    config = config_mod.load(root / "bluegreen.toml")
    appspec = root / "appspec.yml"
    base = appspec.read_text(encoding="utf-8")
    arn = "arn:aws:lambda:ap-northeast-1:{account}:function:CodeDeployHook_sample3-dev-verify"
    appspec.write_text(base + f'Hooks:\n  - AfterAllowTestTraffic: "{arn}"\n', encoding="utf-8")
    assert appkit.hook_problems(root, config) == []
    appspec.write_text(
        base + 'Hooks:\n  - AfterAllowTestTraffic: "CodeDeployHook_mine"\n', encoding="utf-8"
    )
    (problem,) = appkit.hook_problems(root, config)
    assert "(AfterAllowTestTraffic names CodeDeployHook_mine); replace that entry" in problem
    appspec.write_text(
        base + 'Hooks:\n  - BeforeInstall: "CodeDeployHook_mine"\n', encoding="utf-8"
    )
    (problem,) = appkit.hook_problems(root, config)
    assert "add under Hooks: the line\n      " + HOOK in problem


def test_the_ecs_engine_needs_no_appspec_entry(tmp_path: Path) -> None:
    root = _repository(tmp_path, engine="ecs")
    config = config_mod.load(root / "bluegreen.toml")
    assert config.verify.checks and not (root / "appspec.yml").exists()
    assert appkit.check(root, config) == []


def test_rehearse_refuses_it_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repository(tmp_path)
    assert main(["rehearse", str(root), "--output", "json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["exit_code"] == 2
    assert "appspec.yml: bluegreen.toml has 1 [verify] check" in document["error"]
    # The problem is listed for scripts too (review U14: "problems" was []).
    ((key, message),) = [(p["key"], p["message"]) for p in document["problems"]]
    assert key == "appspec.yml" and message.startswith("bluegreen.toml has 1 [verify] check")


def test_deploy_refuses_it_on_every_run_and_changes_nothing(e2e: Emulated) -> None:
    # A system deployed without checks; then checks added to bluegreen.toml only. deploy
    # checks appspec.yml on every run, not only the first commit's files.
    assert e2e.cli("deploy", "--yes").code == 0
    before = _stacks(e2e)
    toml = e2e.root / "bluegreen.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace("checks = []", 'checks = [{ path = "/", status = 200 }]'), encoding="utf-8"
    )
    assert e2e.config.verify.checks
    for args in (["--dry-run"], ["--yes"]):
        done = e2e.cli("deploy", *args)
        assert done.code == 2, done.err
        assert "appspec.yml: bluegreen.toml has 1 [verify] check" in done.err
        assert HOOK in done.err
        assert "nothing was changed" in done.err
    assert _stacks(e2e) == before


def _stacks(e2e: Emulated) -> list[tuple[str, str, str]]:
    """Each stack's name, status and last change (nothing changed: all the same)."""
    cloudformation = e2e.aws.client("cloudformation")
    return sorted(
        (s["StackName"], s["StackStatus"], str(s.get("LastUpdatedTime", s["CreationTime"])))
        for s in cloudformation.describe_stacks()["Stacks"]
    )


# ---- the opposite (review U1): Hooks name the verify function, but there are no checks ----


def _without_checks(tmp_path: Path) -> Path:
    """init's repository (its appspec.yml names the verify function), then ``checks =
    []`` set in bluegreen.toml, as init's comment says ("[] runs none")."""
    root = tmp_path / "app"
    assert main(["init", str(root)]) == 0
    assert HOOK in (root / "appspec.yml").read_text(encoding="utf-8")
    toml = root / "bluegreen.toml"
    text = toml.read_text(encoding="utf-8")
    start = text.index("checks = [")
    end = text.index("\n]", start) + 2 if "checks = [\n" in text else text.index("\n", start)
    toml.write_text(text[:start] + "checks = []" + text[end:], encoding="utf-8")
    assert not config_mod.load(toml).verify.checks
    return root


def test_verify_refuses_the_hook_without_checks_naming_the_lines_to_remove(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without checks the stacks create no verify function (2-service.yaml), and
    # CodeDeploy would fail every release: Function not found.
    root = _without_checks(tmp_path)
    assert main(["verify", "--config", str(root / "bluegreen.toml")]) == 2
    out = capsys.readouterr().out
    assert "appspec.yml: its Hooks name bluegreen's verify function" in out
    assert "but bluegreen.toml has no [verify] checks" in out
    assert "remove from Hooks the line\n      " + HOOK.strip() in out
    assert "or add [verify] checks" in out
    appspec = root / "appspec.yml"
    text = appspec.read_text(encoding="utf-8")
    appspec.write_text(text.replace("Hooks:\n" + HOOK, ""), encoding="utf-8")
    assert "Hooks" not in appspec.read_text(encoding="utf-8")
    assert main(["verify", "--config", str(root / "bluegreen.toml")]) == 0


def test_the_hook_under_another_event_is_named_as_misplaced(tmp_path: Path) -> None:
    root = _repository(tmp_path)
    config = config_mod.load(root / "bluegreen.toml")
    appspec = root / "appspec.yml"
    appspec.write_text(
        appspec.read_text(encoding="utf-8")
        + 'Hooks:\n  - BeforeInstall: "CodeDeployHook_sample3-dev-verify"\n',
        encoding="utf-8",
    )
    (problem,) = appkit.hook_problems(root, config)
    assert "name the verify function CodeDeployHook_sample3-dev-verify under BeforeInstall" in (
        problem
    )
    assert "move it to AfterAllowTestTraffic with the line\n      " + HOOK in problem


def test_rehearse_refuses_the_hook_without_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _without_checks(tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    capsys.readouterr()  # init's lines
    assert main(["rehearse", str(root), "--output", "json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert "its Hooks name bluegreen's verify function" in document["error"]
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_deploy_refuses_the_hook_without_checks_and_changes_nothing(e2e: Emulated) -> None:
    assert not e2e.config.verify.checks
    appspec = e2e.root / "appspec.yml"
    text = appspec.read_text(encoding="utf-8")
    if "Hooks:" not in text:
        appspec.write_text(text + "Hooks:\n" + HOOK + "\n", encoding="utf-8")
    for args in (["--dry-run"], ["--yes"]):
        done = e2e.cli("deploy", *args)
        assert done.code == 2, done.err
        assert "its Hooks name bluegreen's verify function" in done.err
        assert "nothing was changed" in done.err
    assert _stacks(e2e) == []


def test_the_rehearsals_hint_never_declares_bluegreens_own_function() -> None:
    from bluegreen.rehearse.story import _hook_hint

    config = config_mod.Config()
    reason = (
        "The Lambda function {f} named in the AppSpec file's AfterAllowTestTraffic hook "
        "could not be invoked: Function not found: arn:aws:lambda:r:1:function:{f}"
    )
    own = _hook_hint(reason.format(f="CodeDeployHook_sample3-dev-verify"), config)
    assert "[rehearse] hooks" not in own and "succeed" not in own
    assert "is bluegreen's verify function" in own and "add [verify] checks" in own
    other = _hook_hint(reason.format(f="CodeDeployHook_smoke"), config)
    assert other.endswith(
        '[rehearse] hooks = { CodeDeployHook_smoke = "succeed" } (or "fail", "timeout")'
    )
