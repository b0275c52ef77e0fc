"""A played build's ``sleep`` waits on the emulator's clock (emulator/standins/sleep.py).

A build that polls something AWS does by itself (the ECS engine's deploy step follows a
service deployment for simulated minutes) must see it move between two polls, and must
not hold the machine for the real minutes it sleeps. The arguments are GNU coreutils
sleep's ("sleep invocation", coreutils manual); CodeBuild stops a build at its timeout
with status TIMED_OUT (CodeBuild API reference, Build.buildStatus, BuildPhase.phaseStatus).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulated import REGION, T0
from test_builds_played import _context, _log, _output, _phases, _play

from bluegreen.emulator import Emulator
from bluegreen.emulator.standins.sleep import seconds


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as emulator:
        yield emulator


def test_sleep_lets_simulated_time_pass_and_the_rest_of_aws_move(aws: Emulator) -> None:
    build = _play(
        aws,
        {
            "version": 0.2,
            "env": {"shell": "bash"},
            "phases": {
                "build": {
                    "commands": [
                        # Polls as the deploy step does: 4 reads 10 min apart.
                        'for i in 1 2 3 4; do echo "tick $(date -u +%FT%TZ) '
                        '$(aws sts get-caller-identity --query Account --output text)"; '
                        "sleep 10m; done",
                        "sleep 1.5 0.5s && echo slept",
                    ]
                }
            },
        },
    )
    # 40 simulated minutes, not real ones: a command running 120 real seconds is stopped
    # (the emulator's bound), so a real sleep could not succeed.
    assert build["buildStatus"] == "SUCCEEDED"
    phase = next(p for p in build["phases"] if p["phaseType"] == "BUILD")
    # 40 min 2 s of sleeping plus the phase's own modelled seconds.
    assert phase["durationInSeconds"] >= 40 * 60 + 2
    output = _output(_log(aws, build))
    assert "slept" in output
    assert len([line for line in output if line.startswith("tick ")]) == 4


def test_sleep_refuses_what_coreutils_refuses(aws: Emulator) -> None:
    build = _play(aws, {"version": 0.2, "phases": {"build": {"commands": ["sleep 5x"]}}})
    assert build["buildStatus"] == "FAILED"
    assert _context(build, "BUILD")["message"].endswith("Reason: exit status 1")
    assert "sleep: invalid time interval '5x'" in _output(_log(aws, build))


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["15"], 15.0), (["1m", "30"], 90.0), ([".5"], 0.5), (["2h"], 7200.0), (["1d"], 86400.0)],
)
def test_sleep_arguments_are_coreutils(args: list[str], expected: float) -> None:
    assert seconds(args) == expected


@pytest.mark.parametrize(("args", "error"), [([], "missing operand"), (["1y"], "'1y'")])
def test_sleep_bad_arguments(args: list[str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        seconds(args)


def test_a_build_sleeping_past_its_timeout_times_out(aws: Emulator) -> None:
    # timeoutInMinutes 5 (CreateProject's minimum) and a command that sleeps 10 minutes.
    build = _play(
        aws,
        {"version": 0.2, "phases": {"build": {"commands": ["echo start", "sleep 600"]}}},
        timeout_minutes=5,
    )
    assert build["buildStatus"] == "TIMED_OUT"
    assert ("BUILD", "TIMED_OUT") in _phases(build)
    assert _context(build, "BUILD")["statusCode"] == "BUILD_TIMED_OUT"
    ended = build["endTime"] - build["startTime"]
    assert 5 * 60 <= ended.total_seconds() < 6 * 60
