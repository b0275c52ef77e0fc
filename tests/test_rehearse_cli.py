"""``bluegreen rehearse`` as a user runs it: exit codes, the timeline, the JSON schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bluegreen.cli.app import main


def test_rehearse_exits_0_with_two_releases(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rehearse"]) == 0
    captured = capsys.readouterr()
    assert "Release 1" in captured.out and "Release 2" in captured.out
    assert "こんにちは、あばしり" in captured.out
    assert "Rehearsed 2 releases: all succeeded" in captured.out
    assert "AllowTestTraffic: Succeeded" in captured.out
    assert "$ bluegreen deploy" in captured.out and "$ git push" in captured.out
    assert "$ bluegreen promote" in captured.out
    assert "release 2: succeeded" in captured.err  # progress goes to stderr
    # Commands as typed (`$ bluegreen deploy`, never `$ deploy`), full change-set and
    # deployment-group names, each target group as `role (name)`.
    assert "$ deploy" not in captured.out and "$ promote" not in captured.out
    assert re.search(r"sample3-dev-service-\d{14} \(CREATE\)", captured.out)
    assert "Deployment d-" in captured.out and "sample3-dev-deployment-group" in captured.out
    assert "deployment  sample3-dev-deployment-group, CodeDeployDefault" in captured.out
    assert "PRIMARY  sample3-dev-task:1 on blue (sample3-dev-blue) (1 task)" in captured.out
    assert "green (sample3-dev-green)" in captured.out and "…" not in captured.out
    # The load run: a requests column, GET / after each release, the totals.
    assert "┃ requests" in captured.out
    assert "GET / on :80" in captured.out and "200 “こんにちは、あばしり” from" in captured.out
    assert re.search(r"requests: \d+ through production \(2 a simulated minute", captured.out)
    assert re.search(r"requests +\d+ served, 0 failed through production", captured.out)
    assert re.search(r"cloudwatch +AWS/ApplicationELB \(Sum\): sample3-dev-blue", captured.out)
    # Each release's lead time, under its table and in the summary.
    lead = r"push → production \d+ min( \d+ s)?, push → done \d+ min( \d+ s)?"
    # Release 1 (deploy's) says what its figure includes (review U7); release 2's is a push's.
    first = (
        rf"{lead} \(counted from deploy's first commit: includes creating the stacks, "
        r"\d+ min( \d+ s)?\)"
    )
    assert re.search(rf"^  lead time: {first}$", captured.out, re.M)
    assert re.search(rf"^  lead time: {lead}$", captured.out, re.M)
    assert re.search(rf"^  lead time   release 1: {first}$", captured.out, re.M)
    assert re.search(rf"^  lead time   release 2: {lead}$", captured.out, re.M)
    # init's check (GET / answers 200 with a page), run by the hook's own code against
    # the test listener: three requests, each release, in the timeline with what it expects.
    assert captured.out.count("  checks:  3 passed (GET /)") == 2
    for number in (1, 2, 3):
        assert captured.out.count(f"check {number}/3 GET /: pass 200 in ") == 2
    assert 'expected 200, body matches "\\S", within 2000 ms' in captured.out
    # once, above the first timeline: what blue and green mean (review U6)
    legend = (
        "  roles:   blue: the revision production serves (during a release: served when it "
        "began), green: the new one; the target groups keep their names\n"
    )
    assert captured.out.count(legend) == 1
    # a command's next steps sit under it without repeating it (review U16)
    assert "  ↳ sample3-dev-source: CREATE_COMPLETE (3 changes)" in captured.out


def test_rehearse_json_schema_and_fault_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rehearse", "--output", "json", "--fault", "test-traffic-fails"]) == 1
    captured = capsys.readouterr()
    data: dict[str, Any] = json.loads(captured.out)  # stdout holds the document only
    assert "release 2" in captured.err and "test-traffic-fails" in captured.err
    assert data["outcome"] == "failed"
    # The members of every failure document (cli/common.py json_with_error).
    assert data["ok"] is False and data["interrupted"] is False
    assert (data["kind"], data["exit_code"]) == ("operation", 1)
    assert data["error"].startswith("release 2 (") and "rolled back" in data["error"]
    assert "--fault" in data["hint"]
    assert set(data["summary"]) >= {"releases", "succeeded", "simulated_seconds", "wall_seconds"}
    assert data["summary"]["releases"] == 2 and data["summary"]["succeeded"] == 1
    first, second = data["releases"]
    assert first["outcome"] == "succeeded" and second["outcome"] == "rolled back"
    assert second["fault"] == "test-traffic-fails"
    # Each release's images are its own (review U11): the rolled-back release's are the
    # tags its builds made, not release 1's that production kept.
    assert first["images"]["webapp"] == first["builds"][0]["tag"]
    assert second["images"]["webapp"] == second["builds"][0]["tag"] != first["images"]["webapp"]
    # Release 1 passed init's check three times; release 2's app answers 500 on /: its
    # first request fails, named with what came back, and the hook stops there.
    assert [(c["request"], c["result"], c["status"]) for c in first["checks"]] == [
        ("GET /", "pass", 200)
    ] * 3
    for check in first["checks"]:
        assert check["expected"] == '200, body matches "\\S", within 2000 ms'
    # a check's row shows the task sets of the read that found it: green has its task
    # (review U4: every check passed next to a green "(0 tasks)")
    # lifecycle events at the time CodeDeploy ended them (review U4): Install before the
    # checks, and the hook's end after the checks that decided it
    said = [f"{s['event']}; {s['detail']}" for s in first["steps"]]
    install = next(i for i, e in enumerate(said) if "Install: Succeeded" in e.split("; "))
    check_1 = next(i for i, e in enumerate(said) if e.startswith("check 1/3 "))
    hook_end = next(i for i, e in enumerate(said) if "AfterAllowTestTraffic: Succeeded" in e)
    assert install < check_1 < hook_end
    checked = [s for s in first["steps"] if s["event"].startswith("check ")]
    assert len(checked) == 3
    for step in checked:
        green = [t for t in step["task_sets"] if t["role"] == "green"]
        assert green and all(t["running_tasks"] >= 1 for t in green), step
        assert isinstance(check["latency_ms"], int) and check["time"].startswith("T+")
    (failed,) = second["checks"]
    found = (failed["number"], failed["of"], failed["result"], failed["status"])
    assert found == (1, 3, "fail", 500)
    assert failed["reason"] == "status 500, expected 200"
    assert failed["body"] == "fault injected: test-traffic-fails"
    assert (
        "check GET / (request 1 of 3) failed: status 500, expected 200; got 500 in "
        in data["error"]
    )
    assert "'fault injected: test-traffic-fails'" in data["error"]
    for release in data["releases"]:
        assert len(release["commit"]) == 40
        for step in release["steps"]:
            assert set(step) >= {
                "time",
                "seconds",
                "kind",
                "event",
                "production",
                "test",
                "task_sets",
                "requests",
            }
            assert step["kind"] in ("operation", "status", "request")
            assert step["time"].startswith("T+")
            assert all(isinstance(w, int) for w in step["production"].values())
            for task_set in step["task_sets"]:
                assert task_set["status"] in ("PRIMARY", "ACTIVE", "DRAINING")
                assert set(task_set["images"]) == {"webapp", "log-router"}
                assert task_set["task_definition"].startswith("sample3-dev-task:")
        # The load run's requests: each row's add up to the release's, none failed (the
        # rolled-back revision never served production); GET / closes the release.
        load = release["load"]
        rows = [s["requests"] for s in release["steps"]]
        assert sum(sum(r["served"].values()) for r in rows) == load["requests"] > 0
        assert sum(r["failed"] for r in rows) == load["failed"] == 0
        assert release["steps"][-1]["kind"] == "request"
        assert load["greeting"] == {
            "status": 200,
            "body": "Hello, 網走",
            "target_group": "sample3-dev-green",
        }
    # The image tags are the ones the builds computed from the images' content.
    final = first["steps"][-1]["task_sets"][0]
    assert [b["result"] for b in first["builds"]] == ["built", "built"]
    assert final["images"]["webapp"] == first["builds"][0]["tag"]
    assert [b["result"] for b in second["builds"]] == ["built", "reused"]


def test_rehearse_refuses_an_unknown_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rehearse", "--fault", "meteor"]) == 2
    assert "green-unhealthy" in capsys.readouterr().err


def test_rehearse_refuses_an_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rehearse", "--scenario", "chaos"]) == 2
    assert "rollback-after-success" in capsys.readouterr().err


def test_no_promote_is_refused_with_automatic_reroute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bluegreen.toml").write_text('[deployment]\nreroute = "auto"\n', encoding="utf-8")
    assert main(["rehearse", "--config", str(tmp_path / "bluegreen.toml"), "--no-promote"]) == 2
    captured = capsys.readouterr()
    assert "--no-promote" in captured.err and 'reroute = "manual"' in captured.err
    assert captured.out == ""


def test_an_injected_build_failure_is_not_called_a_rollback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rehearse", "--output", "json", "--fault", "build-fails"]) == 1
    captured = capsys.readouterr()
    assert "build-fails" in captured.err and "rollback" not in captured.err
    assert json.loads(captured.out)["ok"] is False


def test_a_rollback_the_scenario_asks_for_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    # As rollback-after-success does: the story played as designed (issue: the rollback
    # in the termination wait exited 1 because the release it rolls back "failed").
    assert main(["rehearse", "-o", "json", "--scenario", "rollback-in-termination-wait"]) == 0
    captured = capsys.readouterr()
    data: dict[str, Any] = json.loads(captured.out)
    assert data["ok"] is True and data["outcome"] == "succeeded"
    second = data["releases"][1]
    assert (second["outcome"], second["expected"], second["as_designed"]) == (
        "rolled back",
        "rolled back",
        True,
    )
    events = [step["event"] for step in second["steps"]]
    assert "bluegreen rollback" in events
    assert any(e.startswith("Rollback deployment d-") for e in events)
    assert "error" not in captured.err


@pytest.mark.parametrize("scenario", ["rollback-in-termination-wait", "rollback-after-success"])
def test_a_rollback_scenario_needs_the_scaffolds_two_releases(
    scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bluegreen.appkit import init

    init(tmp_path)
    assert main(["rehearse", str(tmp_path), "--scenario", scenario]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"error: --scenario {scenario} needs two releases, but a repository given as PATH "
        f"{tmp_path} is rehearsed as one release (its files as they are)",
        "  hint: drop PATH to rehearse the scaffold's two releases: `bluegreen rehearse "
        f"--scenario {scenario}`",
    ]
    assert captured.out == ""
    config = str(tmp_path / "bluegreen.toml")
    assert main(["rehearse", "--config", config, "--no-promote", "-o", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert (data["ok"], data["kind"], data["exit_code"]) == (False, "usage", 2)
    assert data["error"].startswith("--no-promote needs two releases")
    assert data["hint"].startswith("drop --config ")


def test_a_directory_without_bluegreen_toml_names_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rehearse", str(tmp_path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {tmp_path} has no bluegreen.toml: it is not a bluegreen application repository",
        f"  hint: run `bluegreen init {tmp_path}` to write one there, or `bluegreen rehearse` "
        "(no PATH) to rehearse a fresh scaffold",
    ]


def test_a_repository_verify_would_reject_is_refused_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bluegreen.appkit import init

    init(tmp_path)
    taskdef = tmp_path / "taskdef.json"
    taskdef.write_text(taskdef.read_text().replace('"name": "webapp"', '"name": "web"'))
    assert main(["rehearse", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "problem" in captured.err and "taskdef.json" in captured.err
    assert "rehearsing" not in captured.err  # refused before the emulator started
    assert captured.out == ""


def test_path_and_config_together_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bluegreen.appkit import init

    init(tmp_path)
    assert main(["rehearse", str(tmp_path), "--config", str(tmp_path / "bluegreen.toml")]) == 2
    assert "not both" in capsys.readouterr().err


def test_sigterm_cleans_up_as_ctrl_c_does(tmp_path: Path) -> None:
    """`kill` (SIGTERM) while the rehearsal runs: its temporary directory goes, and the run
    ends as interrupted, exit 130, as after Ctrl-C (bluegreen.cli.app)."""
    import os
    import signal
    import subprocess
    import sys

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bluegreen", "rehearse"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        seen = []
        for line in process.stderr:  # wait until the emulated AWS runs in its temp dir
            seen.append(line)
            if "release 1:" in line:
                break
        assert [p.name for p in tmp.iterdir() if p.name.startswith("bluegreen-rehearse-")]
        process.send_signal(signal.SIGTERM)
        rest = process.stderr.read()
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 130, "".join(seen) + rest
    assert rest.splitlines()[-1] == "interrupted"
    assert [p.name for p in tmp.iterdir() if p.name.startswith("bluegreen-rehearse-")] == []


def test_the_failing_check_fault_needs_a_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--fault test-traffic-fails pushes an app answering 500 on /: without [verify]
    checks nothing would notice, and the release would reach production. Refused before
    anything starts."""
    from bluegreen.appkit import init
    from bluegreen.config import Config

    init(tmp_path / "app", Config())
    assert main(["rehearse", str(tmp_path / "app"), "--fault", "test-traffic-fails"]) == 2
    err = capsys.readouterr().err
    assert "only [verify] checks on the test listener notice, but this config has none" in err
    assert "emulated AWS started" not in err


def test_the_timeline_names_the_failed_check_and_what_came_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rehearse", "--fault", "test-traffic-fails"]) == 1
    captured = capsys.readouterr()
    assert "  checks:  0 passed, 1 failed: GET / (request 1 of 3) failed: status 500" in (
        captured.out
    )
    assert "check 1/3 GET /: FAIL 500 in " in captured.out
    # the fault edits the file the greeting change edited: listed once (review U16)
    assert "  changed: webapp/app/main.py, webapp/tests/test_main.py\n" in captured.out
    assert "'fault injected: test-traffic-fails'" in captured.out
    # the cause (stderr's error line) names the check after CodeDeploy's reason
    assert re.search(
        r"error: release 2 \([0-9a-f]{8}\) rolled back: The AfterAllowTestTraffic hook "
        r"CodeDeployHook_sample3-dev-verify reported Failed: check GET / \(request 1 of 3\) "
        r"failed: status 500, expected 200; got 500 in \d+ ms: 'fault injected: "
        r"test-traffic-fails'",
        " ".join(captured.err.split()),
    )


def test_reroute_is_for_the_scaffold_only_and_auto_or_manual(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--reroute auto` rehearses the scaffold as the README's auto lead time (played in
    tests/test_rehearse_leadtime.py); a repository's own bluegreen.toml says it instead."""
    from bluegreen.appkit import init
    from bluegreen.config import Config

    init(tmp_path, Config())
    assert main(["rehearse", str(tmp_path), "--reroute", "auto"]) == 2
    assert "deployment.reroute" in capsys.readouterr().err
    assert main(["rehearse", "--reroute", "sometimes"]) == 2
    assert "choose auto or manual" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("fault", "outcome", "said"),
    [
        (
            "test-traffic-fails",
            "rolled back",
            "release 2 rolled back as --fault test-traffic-fails intended; production stayed "
            "on release 1",
        ),
        (
            "build-fails",
            "failed",
            "release 2 failed as --fault build-fails intended; nothing deployed, production "
            "stayed on release 1",
        ),
        # A fault's release ending otherwise is no designed outcome.
        ("build-fails", "rolled back", "1 of 2 played as designed"),
    ],
)
def test_the_summary_says_a_fault_played_as_it_intended(
    fault: str, outcome: str, said: str
) -> None:
    """Review U17: under --fault the summary read "1 of 2 played as designed", as if the
    rehearsal itself went wrong; it says what the fault did (the exit code stays 1)."""
    import io

    from rich.console import Console

    from bluegreen.cli.rehearse import _summary
    from bluegreen.rehearse.model import Rehearsal, Release

    result = Rehearsal(
        region="ap-northeast-1",
        account_id="",
        stacks=[],
        production_port=80,
        test_port=8080,
        deployment_config="CodeDeployDefault.ECSAllAtOnce",
        releases=[
            Release(1, "a" * 40, "first", (), outcome="succeeded"),
            Release(2, "b" * 40, "second", (), fault=fault, outcome=outcome),
        ],
    )
    console = Console(file=io.StringIO(), width=200)
    _summary(console, result)
    first = console.file.getvalue().splitlines()[0]  # type: ignore[attr-defined]
    assert first == f"Rehearsed 2 releases: {said}"
    assert result.failed_release is not None  # still exit 1
