"""The config's arithmetic at its edges: ECS's linear steps and percents, the 33-hour
and 8-hour budgets built from them, Fargate's memory ranges as the message spells them,
the verify checks' worst case, the alarm window's message, and the branch patterns'
git and CodeCommit rules. Each figure comes from the AWS page cited where it is used."""

from __future__ import annotations

from typing import Any

import pytest
from configs import accepted, ecs, refused

from bluegreen import config, stacks

# --- linear steps (AWS::ECS::Service LinearConfiguration: "(100 / StepPercent) - 1 when
# it divides 100 evenly, else floor(100 / StepPercent)") ---------------------------------


@pytest.mark.parametrize(
    ("step", "steps"),
    [
        (100.0, 0),
        (50.0, 1),
        (25.0, 3),
        (10.0, 9),
        (3.0, 33),
        (30.0, 3),
        (12.5, 7),
        (3.2, 31),
        # 100 / 7.7 = 12.99 and 100 / 14.3 = 6.99: the floor, not the nearest
        (7.7, 12),
        (14.3, 6),
    ],
)
def test_linear_steps_as_cloudformation_counts_them(step: float, steps: int) -> None:
    assert config.linear_steps(step) == steps
    cfg = accepted(ecs(strategy="LINEAR", step_percent=step, step_bake_minutes=2))
    assert cfg.deployment.ecs.shift_minutes() == 2 * steps
    assert cfg.deployment.ecs.deployment_minutes() == 15 + 2 * steps


def test_a_linear_service_over_33_hours_is_refused_with_the_sum() -> None:
    # 15 + 218 x 9 = 1977 minutes fits CloudFormation's 1980; 15 + 219 x 9 = 1986 does not.
    # (A whole config that long is refused anyway, by the pipeline's 8 hours below; this
    # limit speaks first and names the bakes.)
    fits = config.EcsDeploymentConfig.model_validate(
        {"strategy": "LINEAR", "step_percent": 10.0, "step_bake_minutes": 218}
    )
    assert fits.deployment_minutes() == 1977
    message = refused(
        ecs(strategy="LINEAR", step_percent=10.0, step_bake_minutes=219),
        "deployment.ecs.step_bake_minutes",
    )
    assert message == (
        "bake_minutes + step_bake_minutes x 9 steps = 15 + 219 x 9 = 1986 minutes, more than "
        "CloudFormation's 33 hours (1980 minutes) for a linear service: CloudFormation "
        "refuses the template (its operations time out after 36 hours); shorten the bakes"
    )


def test_a_canary_service_over_33_hours_is_refused_with_the_sum() -> None:
    fits = config.EcsDeploymentConfig.model_validate(
        {"strategy": "CANARY", "bake_minutes": 1000, "canary_bake_minutes": 980}
    )
    assert fits.shift_minutes() == 980
    assert fits.deployment_minutes() == 1980
    message = refused(
        ecs(strategy="CANARY", bake_minutes=1000, canary_bake_minutes=981),
        "deployment.ecs.canary_bake_minutes",
    )
    assert message.startswith(
        "bake_minutes + canary_bake_minutes = 1000 + 981 = 1981 minutes, more than "
        "CloudFormation's 33 hours (1980 minutes) for a canary service:"
    )


def test_blue_green_shifts_at_once() -> None:
    cfg = accepted(ecs(strategy="BLUE_GREEN", bake_minutes=1440))
    assert cfg.deployment.ecs.shift_minutes() == 0
    assert cfg.deployment.ecs.deployment_minutes() == 1440


def test_the_deploy_step_waits_for_the_linear_shift_and_the_manual_wait() -> None:
    # CodePipeline lets a CodeBuild action run 8 hours = 480 minutes (Quotas in AWS
    # CodePipeline): wait 15 + 45 x 9 steps + the 60-minute margin = 480 fits, 16 not.
    linear = {"strategy": "LINEAR", "step_percent": 10.0, "step_bake_minutes": 45}
    cfg = accepted(ecs(reroute="manual", wait=15, **linear))
    assert config.deploy_step_minutes(cfg.deployment) == 480
    message = refused(ecs(reroute="manual", wait=16, **linear), "deployment.wait_minutes")
    assert message == (
        "the pipeline's Deploy step waits for the deployment: wait_minutes 16 + the shift's "
        "bakes 405 + 60 for the rest = 481 minutes, more than the 480 minutes CodePipeline "
        "lets a CodeBuild action run (Quotas in AWS CodePipeline), so the wait would be cut "
        "off; shorten deployment.wait_minutes or the shift's bakes"
    )


# --- percents: multiples of 0.1 within ECS's ranges (ECS API reference: StepPercent 3.0
# to 100.0, CanaryPercent 0.1 to 100.0) ---------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "key", "low", "high", "below", "above"),
    [
        ("LINEAR", "step_percent", 3.0, 100.0, 2.9, 100.1),
        ("CANARY", "canary_percent", 0.1, 100.0, 0.0, 100.1),
    ],
)
def test_percents_at_both_edges(
    strategy: str, key: str, low: float, high: float, below: float, above: float
) -> None:
    for value in (low, high):
        cfg = accepted(ecs(strategy=strategy, **{key: value}))
        assert getattr(cfg.deployment.ecs, key) == value
    for value in (below, above, 10.05):
        message = refused(ecs(strategy=strategy, **{key: value}), f"deployment.ecs.{key}")
        assert message == (
            f"{value!r} must be a multiple of 0.1 from {low:g} to {high:g} (percent)"
        )


def test_a_percent_cfn_lint_refuses_is_offered_neighbours_inside_the_range_only() -> None:
    # 0.3 / 0.1 is 2.9999999999999996 in floating point (cfn-lint refuses it); 0.2 and
    # 0.4 are not. Only the neighbours the key's range holds are offered; none, a whole
    # percent. (ECS's own ranges always leave a neighbour; these bounds show the rule.)
    def advice(bounds: tuple[float, float]) -> str:
        with pytest.raises(ValueError, match="E3002") as info:
            config._percent(0.3, bounds)
        return str(info.value).rsplit("; use ", 1)[1]

    assert advice((0.1, 100.0)) == "0.2 or 0.4"
    assert advice((0.3, 0.4)) == "0.4"
    assert advice((0.2, 0.3)) == "0.2"
    assert advice((0.3, 0.3)) == "a whole percent"


# --- Fargate memory: every cpu row of AWS's table, both ends accepted, one step beyond
# each end and one size between steps refused, with the message spelling the row (ECS
# developer guide, "Troubleshoot Amazon ECS task definition invalid CPU or memory
# errors", the Fargate task CPU and memory table:
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html;
# the same table is in the RegisterTaskDefinition API reference, parameter memory) --------


@pytest.mark.parametrize(
    ("cpu", "low", "high", "refused_sizes", "allowed"),
    [
        # 512 MiB, 1 GB, 2 GB: listed, not a range
        (256, 512, 2048, (256, 1536, 3072), "512, 1024, 2048"),
        (512, 1024, 4096, (0, 1536, 5120), "1024, 2048, 3072, 4096"),
        (1024, 2048, 8192, (1024, 2560, 9216), "2048 to 8192 in steps of 1024"),
        (2048, 4096, 16384, (3072, 4608, 17408), "4096 to 16384 in steps of 1024"),
        (4096, 8192, 30720, (7168, 8704, 31744), "8192 to 30720 in steps of 1024"),
        # 16 GB to 60 GB in 4 GB steps: 17 GB is between two steps
        (8192, 16384, 61440, (12288, 17408, 65536), "16384 to 61440 in steps of 4096"),
        # 32 GB to 120 GB in 8 GB steps
        (16384, 32768, 122880, (24576, 33792, 131072), "32768 to 122880 in steps of 8192"),
    ],
)
def test_each_cpu_takes_its_memory_range_and_nothing_beyond(
    cpu: int, low: int, high: int, refused_sizes: tuple[int, ...], allowed: str
) -> None:
    for memory in (low, high):
        task = accepted({"task": {"cpu": cpu, "memory": memory}}).task
        assert (task.cpu, task.memory) == (cpu, memory)
    for memory in refused_sizes:
        message = refused({"task": {"cpu": cpu, "memory": memory}}, "task.memory")
        assert message == (
            f"{memory} is not a Fargate memory size for cpu {cpu}; allowed: {allowed} (MiB)"
        )


# --- the checks' worst case ---------------------------------------------------------------


def test_the_checks_worst_case_is_every_request_at_its_limit_and_the_pauses_between() -> None:
    def worst(checks: list[dict[str, Any]], interval: int) -> int:
        data = {"checks": checks, "interval_seconds": interval}
        return accepted({"verify": data}).verify.worst_case_seconds()

    assert worst([], 5) == 0
    # 3 requests of 2 s each, two pauses of 5 s between them
    assert worst([{"count": 3, "max_latency_ms": 2000}], 5) == 6 + 2 * 5
    # one request: no pause; milliseconds round up to whole seconds
    assert worst([{"count": 1, "max_latency_ms": 1001}], 5) == 2
    # 4 requests over two checks: 1.5 s + 0.9 s rounds up to 3 s, and three pauses
    two = [{"count": 3, "max_latency_ms": 500}, {"count": 1, "max_latency_ms": 900}]
    assert worst(two, 2) == 3 + 3 * 2


# --- the alarm window's message -----------------------------------------------------------

# A one-minute datapoint exists once its minute has ended and ALB sends its metrics every
# 60 seconds (ALB user guide, "CloudWatch metrics for your Application Load Balancer"):
# an alarm needs its evaluation periods plus these minutes of production traffic.
PUBLISH_MARGIN = 2


def synthesized_alarm_periods(project: str) -> dict[str, int]:
    """EvaluationPeriods of each alarm the service stack creates (one-minute periods)."""
    cfg = accepted({"project": {"name": project}, "verify": {"alarms": {"enabled": True}}})
    resources = [
        resource
        for stack in stacks.build(cfg)
        for resource in stack.template.to_dict()["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]
    for resource in resources:
        assert resource["Properties"]["Period"] == 60
    return {r["Properties"]["AlarmName"]: r["Properties"]["EvaluationPeriods"] for r in resources}


def blind_window(termination_wait: int, project: str = "sample3") -> str:
    return refused(
        {
            "project": {"name": project},
            "deployment": {"termination_wait_minutes": termination_wait},
            "verify": {"alarms": {"enabled": True}},
        },
        "deployment.termination_wait_minutes",
    )


def test_the_alarm_window_message_names_the_slowest_alarm_first_then_the_others() -> None:
    periods = synthesized_alarm_periods("sample3")
    kinds = ["p95", "unhealthy", "5xx"]
    for kind in kinds:
        assert periods[f"sample3-dev-blue-{kind}"] == periods[f"sample3-dev-green-{kind}"]
    # the message's order: slowest first, the load balancer's own 5xx last among equals
    order = [periods[f"sample3-dev-blue-{kind}"] for kind in kinds]
    order.append(periods["sample3-dev-elb-5xx"])
    assert order == sorted(order, reverse=True) and order[0] > order[1] > order[2]
    slowest, quickest = max(periods.values()), min(periods.values())
    # the longest termination wait in which no alarm can act
    window = quickest + PUBLISH_MARGIN - 1
    assert blind_window(window) == (
        f"is {window} minutes, too short for verify.alarms: the alarms "
        f"sample3-dev-blue-p95/green-p95 need {slowest} one-minute periods of production "
        f"traffic on the new revision plus {PUBLISH_MARGIN} minutes (the load balancer sends "
        "its metrics every 60 seconds, and a minute counts once it has ended), and the "
        "alarms judge the new revision during the termination wait; "
        "sample3-dev-blue-unhealthy/green-unhealthy, sample3-dev-blue-5xx/green-5xx, "
        "sample3-dev-elb-5xx could not act either; set deployment.termination_wait_minutes "
        f"to at least {slowest + PUBLISH_MARGIN}, or verify.alarms.enabled = false"
    )


def test_when_only_p95_is_blind_no_other_alarm_is_named() -> None:
    periods = synthesized_alarm_periods("shop")
    slowest = periods["shop-dev-blue-p95"]
    assert all(p < slowest for name, p in periods.items() if not name.endswith("-p95"))
    needed = slowest + PUBLISH_MARGIN
    message = blind_window(needed - 1, project="shop")
    assert f"the alarms shop-dev-blue-p95/green-p95 need {slowest} one-minute" in message
    assert message.endswith(
        f"during the termination wait; set deployment.termination_wait_minutes to at least "
        f"{needed}, or verify.alarms.enabled = false"
    )
    cfg = accepted(
        {
            "project": {"name": "shop"},
            "deployment": {"termination_wait_minutes": needed},
            "verify": {"alarms": {"enabled": True}},
        }
    )
    assert cfg.deployment.termination_wait_minutes == needed


# --- branch patterns follow git's branch-name rules (git check-ref-format) and, with '*'
# as one character, fit a CodeCommit branch name: at most 256 characters (botocore's
# codecommit 2015-04-13 model, shape BranchName: min 1, max 256) ---------------------------


@pytest.mark.parametrize(
    "pattern",
    ["HEAD", "-fix*", ".hidden/*", "feature/.x*", "fix./*", "feature/x.", "fix.lock/*"]
    + ["feature/*.lock"],
)
def test_branch_patterns_git_refuses(pattern: str) -> None:
    assert_pattern_refused(pattern)


@pytest.mark.parametrize("pattern", ["head*", "fix.x/*", "feature/a.b*", "x.locked/*"])
def test_branch_patterns_git_takes(pattern: str) -> None:
    assert accepted({"builds": {"branches": [pattern]}}).builds.branches == [pattern]


def test_a_branch_pattern_longer_than_a_codecommit_branch_name_is_refused() -> None:
    assert accepted({"builds": {"branches": ["a" * 255 + "*"]}}).builds.branches
    assert_pattern_refused("a" * 256 + "*")


def assert_pattern_refused(pattern: str) -> None:
    message = refused({"builds": {"branches": [pattern]}}, "builds.branches")
    assert message.endswith(
        f" {pattern!r} must be a git branch name in which '*' stands for any characters, "
        "such as feature/* or fix-*"
    )
