"""aws/codedeploy.py: finding deployments without relying on ListDeployments' order.

AWS documents no order and no page size for ListDeployments, so these tests arrange the
answers adversarially (the newest deployment on a later page, ids repeated across pages,
26 or more deployments, a history older than the recent window): the emulated CodeDeploy
answers in one fixed order, 100 ids a page, and a test cannot afford that many
deployments or weeks of simulated time, so botocore Stubber answers here. Finding the
active deployment, and a group with none, run end to end in test_e2e_operations.py.

Stubbed behaviour and its source:

- ListDeployments returns ids in no documented order and pages with ``nextToken``
  (CodeDeploy API reference, ListDeployments; botocore's paginator for it:
  input_token/output_token ``nextToken``, result_key ``deployments``). It filters by
  ``includeOnlyStatuses`` and ``createTimeRange`` (ListDeploymentsInput, botocore model).
- BatchGetDeployments takes at most 25 ids ("The maximum number of deployment IDs you can
  specify is 25", BatchGetDeploymentsInput in the model and the API reference) and
  answers with ``deploymentsInfo`` in any order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_aws_support import ACTIVE, APP, DG, Stubs

from bluegreen.aws import codedeploy

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
GROUP = {"applicationName": APP, "deploymentGroupName": DG}


def ident(n: int) -> str:
    return f"d-{n:09d}"


def info(n: int, status: str = "Succeeded", age_hours: float = 0) -> dict[str, Any]:
    return {
        "deploymentId": ident(n),
        "status": status,
        "createTime": NOW - timedelta(hours=age_hours),
    }


def listing(s: Stubs, pages: list[list[str]], **params: Any) -> None:
    """ListDeployments answering ``pages`` one after the other, linked by nextToken."""
    for i, ids in enumerate(pages):
        answer: dict[str, Any] = {"deployments": ids}
        if i + 1 < len(pages):
            answer["nextToken"] = f"token-{i + 1}"
        expected = dict(GROUP, **params)
        if i:
            expected["nextToken"] = f"token-{i}"
        s.add("codedeploy", "list_deployments", answer, expected)


def batches(s: Stubs, infos: list[dict[str, Any]]) -> int:
    """BatchGetDeployments in chunks of 25 ids, each answered in reverse order; returns
    how many calls were stubbed."""
    calls = 0
    for start in range(0, len(infos), 25):
        calls += 1
        chunk = infos[start : start + 25]
        s.add(
            "codedeploy",
            "batch_get_deployments",
            {"deploymentsInfo": list(reversed(chunk))},
            {"deploymentIds": [i["deploymentId"] for i in chunk]},
        )
    return calls


def test_the_newest_finished_deployment_is_found_on_a_later_page() -> None:
    # 26 recent deployments over two pages; the newest is the last id of the second page,
    # so a first-page-only or first-25-ids lookup would pick an older one.
    s = Stubs()
    history = [info(n, age_hours=30 - n) for n in range(26)]
    listing(s, [[]], includeOnlyStatuses=ACTIVE)
    listing(
        s,
        [[i["deploymentId"] for i in history[:20]], [i["deploymentId"] for i in history[20:]]],
        createTimeRange={"start": NOW - codedeploy.RECENT},
    )
    batches(s, history)
    found = codedeploy.latest_deployment(s.client("codedeploy"), APP, DG, now=lambda: NOW)
    s.done()
    assert found is not None and found["deploymentId"] == ident(25)


def test_the_whole_history_is_read_only_when_the_recent_window_is_empty() -> None:
    s = Stubs()
    listing(s, [[]], includeOnlyStatuses=ACTIVE)
    listing(s, [[]], createTimeRange={"start": NOW - codedeploy.RECENT})
    old = [info(1, age_hours=24 * 90), info(2, age_hours=24 * 60)]
    listing(s, [[ident(2)], [ident(1)]])
    batches(s, [old[1], old[0]])
    found = codedeploy.latest_deployment(s.client("codedeploy"), APP, DG, now=lambda: NOW)
    s.done()
    assert found is not None and found["deploymentId"] == ident(2)


@pytest.mark.parametrize(("count", "calls"), [(25, 1), (26, 2), (51, 3)])
def test_batch_get_deployments_takes_at_most_25_ids(count: int, calls: int) -> None:
    s = Stubs()
    infos = [info(n, age_hours=n) for n in range(count)]
    assert batches(s, infos) == calls
    found = codedeploy.deployments(s.client("codedeploy"), [i["deploymentId"] for i in infos])
    s.done()  # exactly `calls` BatchGetDeployments, each with at most 25 ids
    assert sorted(d["deploymentId"] for d in found) == sorted(i["deploymentId"] for i in infos)


def test_succeeded_before_pages_and_sorts_newest_first() -> None:
    s = Stubs()
    before = NOW - timedelta(hours=1)
    listing(
        s,
        [[ident(1), ident(3)], [ident(2)]],
        includeOnlyStatuses=["Succeeded"],
        createTimeRange={"end": before},
    )
    batches(s, [info(1, age_hours=5), info(3, age_hours=2), info(2, age_hours=3)])
    found = codedeploy.succeeded_before(s.client("codedeploy"), APP, DG, before)
    s.done()
    assert [d["deploymentId"] for d in found] == [ident(3), ident(2), ident(1)]


def test_duplicate_ids_across_pages_are_fetched_once() -> None:
    # Nothing promises that a deployment appears on one page only; fetch each id once.
    s = Stubs()
    listing(s, [[ident(1), ident(2)], [ident(2)]], includeOnlyStatuses=ACTIVE)
    batches(s, [info(1, "InProgress", 1), info(2, "Queued")])
    found = codedeploy.latest_deployment(s.client("codedeploy"), APP, DG, now=lambda: NOW)
    s.done()
    assert found is not None and found["deploymentId"] == ident(2)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"}}, True),
        (
            {
                "deploymentReadyOption": {
                    "actionOnTimeout": "STOP_DEPLOYMENT",
                    "waitTimeInMinutes": 10,
                }
            },
            False,
        ),
        ({"terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE"}}, None),
        (None, None),
    ],
)
def test_reroutes_automatically(options: dict[str, Any] | None, expected: bool | None) -> None:
    # DeploymentReadyOption.actionOnTimeout (botocore model): CONTINUE_DEPLOYMENT reroutes
    # at once; STOP_DEPLOYMENT waits for ContinueDeployment.
    assert codedeploy.reroutes_automatically(options) is expected
