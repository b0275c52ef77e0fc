"""`bluegreen sandbox` runs the data plane as the rehearsal does: each task's app as a
local process when bluegreen can run it, its health checked for real; otherwise derived
statically, which the sandbox's log says once.

The whole system deployed and released against a sandbox (with the data plane on, so
deploy promotes the first release only once its tasks pass the load balancer's health
check) is tests/test_sandbox.py's test_the_unchanged_commands_run_against_a_sandbox_...
"""

from __future__ import annotations

import os

from bluegreen.emulator.dataplane import ProcessRunner
from bluegreen.emulator.sandbox import Sandbox, Settings

REGION = "ap-northeast-1"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) is gone as far as the sandbox is concerned.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def test_the_sandbox_runs_the_data_plane_and_stops_its_processes_on_close() -> None:
    sandbox = Sandbox(Settings(port=0, speed=60.0, default_region=REGION))
    sandbox.open()
    try:
        assert sandbox.emulator.data_plane is True
        runner = sandbox.emulator.service("ecs").runner
        assert isinstance(runner, ProcessRunner)
        pids = runner.pids()
        if hasattr(os, "fork"):
            assert pids and all(_alive(pid) for pid in pids)  # the process starter
        # A container the data plane cannot run is said once, as the rehearsal's note.
        runner.derived.append(
            "webapp (sample3-dev-task:2): packages its image installs are not installed here"
        )
        first = [line.split("  ", 1)[1] for line in sandbox.observe()]
        assert first == [
            "health derived statically, not checked for real: webapp (sample3-dev-task:2): "
            "packages its image installs are not installed here"
        ]
        assert sandbox.observe() == []
    finally:
        sandbox.close()
    assert not [pid for pid in pids if _alive(pid)]
