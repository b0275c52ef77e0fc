"""deploy's first release: what is left when the pipeline never lists its first run, and
the summary line.

The first release itself (followed until production serves it, promoted once CodeDeploy
reports it Ready, never promoted when the group reroutes by itself, a "not Ready" answer
retried on the next poll, a first run listed late, a failed build named) runs end to end
against the emulated AWS in test_e2e_operations.py and test_e2e_story.py.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from test_aws_support import Stubs

from bluegreen import config as config_mod
from bluegreen.aws import release as release_mod
from bluegreen.errors import StateError

PIPELINE = "sample3-dev-pipeline"


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)


def test_no_first_run_says_the_stacks_are_fine_and_how_to_start_one() -> None:
    # Creating a pipeline starts a run (CodePipeline user guide, "Start a pipeline in
    # CodePipeline", trigger CreatePipeline); ListPipelineExecutions(maxResults=1) gives
    # the most recent one. A pipeline that lists none for the whole wait is something the
    # emulated CodePipeline never does (it lists its first run at once): Stubber answers.
    s = Stubs()
    for _ in range(release_mod.FIRST_EXECUTION_POLLS):
        s.add(
            "codepipeline",
            "list_pipeline_executions",
            {"pipelineExecutionSummaries": []},
            {"pipelineName": PIPELINE, "maxResults": 1},
        )
    ui = Lines()
    naps: list[float] = []
    with pytest.raises(StateError) as info:
        release_mod.first_release(
            s.clients,
            config_mod.Config(),
            ui,
            sleep=naps.append,
            engine=cast(Any, None),  # never reached: there is no run to follow
        )
    s.done()
    assert naps == [10.0] * (release_mod.FIRST_EXECUTION_POLLS - 1)
    assert ui.lines == [
        f"waiting for the pipeline's first run ({PIPELINE}, started when the pipeline was "
        "created) to be listed; checking every 10 s ..."
    ]
    assert info.value.message == (
        "the stacks are deployed, but pipeline sample3-dev-pipeline has not listed a first run "
        "after 50 s, so there is no release to follow"
    )
    assert info.value.hint == (
        "start the first release with `bluegreen release` (or push to main), then follow it "
        "with `bluegreen status --watch`"
    )


def test_the_deploy_summary_line_of_the_first_release() -> None:
    from bluegreen.cli.deploy import _first_release_line

    done = release_mod.ReleaseResult(PIPELINE, "3f2a9c1e-0000", "InProgress", "", promoted=True)
    assert _first_release_line(done) == "first release 3f2a9c1e: promoted"
    moved = release_mod.ReleaseResult(
        PIPELINE, "3f2a9c1e-0000", "InProgress", "", deployment_phase="termination-wait"
    )
    assert _first_release_line(moved) == "first release 3f2a9c1e: termination-wait"
    failed = release_mod.ReleaseResult(
        PIPELINE, "x", "Failed", "", failed_action="Build/BuildApp", error="exit 1"
    )
    assert _first_release_line(failed) == "first release Failed: Build/BuildApp exit 1"
