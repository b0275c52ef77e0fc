"""aws/status.collect against a system deployed in the emulated AWS: what ``status``
reads after deploy's first release (promoted, in its termination wait), read through
the function itself rather than the printed table (test_e2e_operations.py checks the
table).

What the emulated account holds is read through its own API (tests/operations.py), so
the expected values do not come from bluegreen's code.
"""

from __future__ import annotations

from e2e_support import e2e_fixture  # noqa: F401 (fixture)
from emulated import Emulated, emulated  # noqa: F401 (the fixture e2e builds on)
from operations import PIPELINE, execution, latest

from bluegreen.aws import status
from bluegreen.engine import Phase


def test_status_reads_the_first_release_in_its_termination_wait(e2e: Emulated) -> None:
    assert e2e.cli("deploy", "--yes").code == 0
    deployment_id = latest(e2e)["deploymentId"]
    run = execution(e2e)
    found = status.collect(e2e.aws.clients(), e2e.config)

    assert found.pipeline is not None
    assert (found.pipeline.name, found.pipeline.execution_id) == (
        PIPELINE,
        run["pipelineExecutionId"],
    )
    deploy = [s for s in found.pipeline.stages if s.name == "Deploy"]
    assert deploy and deploy[0].actions[0].external_id == deployment_id

    assert found.deployment is not None
    assert (found.deployment.id, found.deployment.phase) == (
        deployment_id,
        Phase.TERMINATION_WAIT,
    )
    assert found.deployment_note == ""
    # During the deployment the engine labels the groups: CodeDeploy's GREEN task set
    # (the replacement) is on sample3-dev-green, which production now serves.
    assert [(g.name, g.label) for g in found.target_groups] == [
        ("sample3-dev-blue", "blue"),
        ("sample3-dev-green", "green"),
    ]
    assert [(t.label, t.target_group) for t in found.task_sets] == [
        ("green", "sample3-dev-green"),
        ("blue", "sample3-dev-blue"),
    ]
    assert found.listeners[0].forwards == [("sample3-dev-green", 100), ("sample3-dev-blue", 0)]
    assert found.verification is None  # the default scaffold has no [verify]
