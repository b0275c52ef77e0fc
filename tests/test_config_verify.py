"""[verify]: every validator at both edges (the last valid value accepted, the first
invalid one refused naming the key), the engine-specific keys refused under the other
engine, and `bluegreen init`'s file round-tripping the section."""

from __future__ import annotations

from typing import Any

import pytest
from configs import accepted, config_error, refused

from bluegreen import config
from bluegreen.appkit import render_config


def one_check(**check: Any) -> dict[str, Any]:
    return {"verify": {"checks": [check]}}


def test_the_defaults_are_the_seeds_no_checks_and_no_alarms() -> None:
    verify = config.parse("").verify
    assert verify.checks == [] and not verify.alarms.enabled and verify.alarms.existing == []
    assert not verify.enabled


@pytest.mark.parametrize(
    ("key", "good", "bad", "words"),
    [
        ("status", (100, 599), (99, 600), "100 to 599"),
        ("count", (1, 100), (0, 101), "1 to 100"),
        ("max_latency_ms", (1, 30000), (0, 30001), "1 to 30000"),
    ],
)
def test_check_numbers_at_both_edges(
    key: str, good: tuple[int, int], bad: tuple[int, int], words: str
) -> None:
    for value in good:
        assert getattr(accepted(one_check(**{key: value})).verify.checks[0], key) == value
    for value in bad:
        assert words in refused(one_check(**{key: value}), f"verify.checks.0.{key}")


def test_check_path_edges() -> None:
    longest = "/" + "a" * 1023
    for path in ("/", "/api/items?limit=1&x=%20", longest):
        assert accepted(one_check(path=path)).verify.checks[0].path == path
    for path in ("", "api", "/a b", "/a#top", longest + "a"):
        assert "URL path" in refused(one_check(path=path), "verify.checks.0.path")


def test_check_method_and_body_tests() -> None:
    assert accepted(one_check(method="OPTIONS")).verify.checks[0].method == "OPTIONS"
    assert "GET" in refused(one_check(method="TRACE"), "verify.checks.0.method")
    assert accepted(one_check(body_pattern=r"^Hello, \w+$")).verify.checks[0].body_pattern
    assert "regular expression" in refused(
        one_check(body_pattern="(unclosed"), "verify.checks.0.body_pattern"
    )
    assert "keep one" in refused(one_check(body="a", body_pattern="a"), "verify.checks.0")


def test_at_most_ten_checks() -> None:
    assert len(accepted({"verify": {"checks": [{}] * 10}}).verify.checks) == 10
    assert "at most 10" in refused({"verify": {"checks": [{}] * 11}}, "verify.checks")


@pytest.mark.parametrize(
    ("key", "good", "bad"),
    [("interval_seconds", (0, 60), (-1, 61))],
)
def test_interval_edges(key: str, good: tuple[int, int], bad: tuple[int, int]) -> None:
    for value in good:
        assert getattr(accepted({"verify": {key: value}}).verify, key) == value
    for value in bad:
        assert "seconds" in refused({"verify": {key: value}}, f"verify.{key}")


def test_callback_seconds_edges_under_ecs_and_refused_under_codedeploy() -> None:
    ecs = {"deployment": {"engine": "ecs"}}
    for value in (1, 900):
        cfg = accepted({**ecs, "verify": {"callback_seconds": value}})
        assert cfg.verify.callback_seconds == value
    for value in (0, 901):
        assert "1 to 900" in refused(
            {**ecs, "verify": {"callback_seconds": value}}, "verify.callback_seconds"
        )
    message = refused({"verify": {"callback_seconds": 30}}, "verify.callback_seconds")
    assert 'engine = "ecs"' in message and "verify.interval_seconds" in message


def test_ignore_poll_failure_is_codedeploys_and_refused_under_ecs() -> None:
    cfg = accepted({"verify": {"alarms": {"ignore_poll_failure": True}}})
    assert cfg.verify.alarms.ignore_poll_failure
    message = refused(
        {"deployment": {"engine": "ecs"}, "verify": {"alarms": {"ignore_poll_failure": True}}},
        "verify.alarms.ignore_poll_failure",
    )
    assert "CodeDeploy" in message and "remove it" in message


def test_codedeploy_checks_must_fit_one_invocation_and_ecs_ones_need_not() -> None:
    """840 s (900, Lambda's longest invocation, less a minute to report) is the budget of
    the warm-up (the health check's interval x (healthy threshold + 1): 5 x 3 = 15 s here)
    and the checks at their limits: 27 requests at 30 s and one at 15 s make 840; one
    millisecond more is refused under CodeDeploy, accepted under ECS."""
    health = {"interval_seconds": 5, "timeout_seconds": 2, "healthy_threshold": 2}

    def data(last_ms: int, engine: str = "codedeploy") -> dict[str, Any]:
        checks = [{"count": 27, "max_latency_ms": 30000}, {"count": 1, "max_latency_ms": last_ms}]
        return {
            "deployment": {"engine": engine},
            "health_check": health,
            "verify": {"checks": checks, "interval_seconds": 0},
        }

    fits = accepted(data(15000))
    assert config.warmup_seconds(fits) == 15 and config.verify_seconds(fits) == 840
    message = refused(data(15001), "verify.checks")
    assert "841 seconds" in message and "840" in message and "15 s" in message
    assert config.verify_seconds(accepted(data(15001, "ecs"))) == 841


@pytest.mark.parametrize(
    ("key", "good", "bad"),
    [
        ("http_5xx_per_minute", (1, 100000), (0, 100001)),
        ("unhealthy_hosts", (1, 100), (0, 101)),
        ("p95_latency_ms", (10, 60000), (9, 60001)),
    ],
)
def test_alarm_thresholds_at_both_edges(
    key: str, good: tuple[int, int], bad: tuple[int, int]
) -> None:
    for value in good:
        cfg = accepted({"verify": {"alarms": {key: value}}})
        assert getattr(cfg.verify.alarms, key) == value
    for value in bad:
        refused({"verify": {"alarms": {key: value}}}, f"verify.alarms.{key}")


def test_existing_alarms_names_and_the_limit_of_ten() -> None:
    assert accepted({"verify": {"alarms": {"existing": ["a" * 255]}}}).verify.alarms.existing
    assert "1 to 255" in refused(
        {"verify": {"alarms": {"existing": ["a" * 256]}}}, "verify.alarms.existing"
    )
    assert "1 to 255" in refused(
        {"verify": {"alarms": {"existing": [""]}}}, "verify.alarms.existing"
    )
    assert "twice" in refused(
        {"verify": {"alarms": {"existing": ["a", "a"]}}}, "verify.alarms.existing"
    )
    # The stack's 7 (3 on each target group, 1 on the load balancer) leave room for 3.
    three = [f"mine-{n}" for n in range(3)]
    cfg = accepted({"verify": {"alarms": {"enabled": True, "existing": three}}})
    assert cfg.verify.alarms.count() == 10
    message = refused(
        {"verify": {"alarms": {"enabled": True, "existing": [*three, "mine-3"]}}},
        "verify.alarms.existing",
    )
    assert "at most 10" in message
    assert accepted({"verify": {"alarms": {"existing": [f"m{n}" for n in range(10)]}}})
    refused(
        {"verify": {"alarms": {"existing": [f"m{n}" for n in range(11)]}}}, "verify.alarms.existing"
    )


def test_alarms_need_a_window_of_production_traffic_they_can_act_in() -> None:
    """The stack's alarms judge the new revision once production is on it, during the
    termination wait (CodeDeploy) or the bake (ECS). p95 needs 3 one-minute periods, and
    ALB sends its metrics every 60 seconds (ALB user guide, "CloudWatch metrics for your
    Application Load Balancer"): 3 + 2 = 5 minutes at least; below that, refused (exit 2),
    naming the alarm and the setting."""
    assert config.alarm_minutes_needed() == 5
    on = {"enabled": True}
    cd = "deployment.termination_wait_minutes"
    message = refused({"deployment": {"termination_wait_minutes": 4}, "verify": {"alarms": on}}, cd)
    assert "sample3-dev-blue-p95/green-p95" in message
    assert "at least 5" in message and "termination wait" in message
    assert "verify.alarms.enabled = false" in message
    accepted({"deployment": {"termination_wait_minutes": 5}, "verify": {"alarms": on}})
    # 3 minutes: p95 and unhealthy (2 periods + 2) could never act; the 5xx ones (1 + 2) could.
    message = refused({"deployment": {"termination_wait_minutes": 3}, "verify": {"alarms": on}}, cd)
    assert "; sample3-dev-blue-unhealthy/green-unhealthy could not act either;" in message
    assert "5xx" not in message
    # 0 minutes: every one, the load balancer's 5xx too.
    message = refused({"deployment": {"termination_wait_minutes": 0}, "verify": {"alarms": on}}, cd)
    assert "sample3-dev-elb-5xx" in message
    # ECS: the bake.
    ecs = {"engine": "ecs", "reroute": "auto"}
    message = refused(
        {"deployment": {**ecs, "ecs": {"bake_minutes": 4}}, "verify": {"alarms": on}},
        "deployment.ecs.bake_minutes",
    )
    assert "sample3-dev-blue-p95/green-p95" in message and "during the bake" in message
    accepted({"deployment": {**ecs, "ecs": {"bake_minutes": 5}}, "verify": {"alarms": on}})
    # Without the stack's alarms nothing needs the window (existing alarms are the user's).
    accepted({"deployment": {"termination_wait_minutes": 0}})
    accepted(
        {"deployment": {"termination_wait_minutes": 0}, "verify": {"alarms": {"existing": ["x"]}}}
    )
    # The defaults (what init writes: 15 minutes either way) leave room.
    accepted({"verify": {"alarms": on}})
    accepted({"deployment": ecs, "verify": {"alarms": on}})


def test_unknown_key_names_the_allowed_ones() -> None:
    message = refused({"verify": {"chekcs": []}}, "verify.chekcs")
    assert "checks" in message and "alarms" in message


@pytest.mark.parametrize("engine", ["codedeploy", "ecs"])
def test_init_writes_the_section_and_it_round_trips(engine: str) -> None:
    text = f"""
[deployment]
engine = "{engine}"
[verify]
checks = [{{ path = "/", body = "Hello" }}, {{ path = "/health", method = "HEAD", count = 1 }}]
[verify.alarms]
enabled = true
existing = ["mine"]
"""
    cfg = config.parse(text)
    written = render_config(cfg)
    assert config.parse(written) == cfg
    assert ("callback_seconds = 30" in written) == (engine == "ecs")
    # with alarms watched, CodeDeploy's switch is written; ECS has none
    assert ("\nignore_poll_failure = false" in written) == (engine == "codedeploy")
    if engine == "codedeploy":  # no alarm watched: written commented, so "ecs" takes the file
        quiet = render_config(config.parse(""))
        assert "\n# ignore_poll_failure = false" in quiet
        switched = "\n".join(
            line  # the user's switch: the engine, and deployment's CodeDeploy-only keys out
            for line in quiet.replace('engine = "codedeploy"', 'engine = "ecs"').splitlines()
            if not line.startswith(("config = ", "termination_wait_minutes = "))
        )
        assert "ignore_poll_failure" not in config.parse(switched).verify.alarms.model_fields_set
    assert '{ path = "/health", method = "HEAD"' in written


def test_the_messages_of_a_badly_shaped_checks_list_read_for_checks() -> None:
    """Review U14: no CIDR example for checks, an inline table named as such, a long
    value cut, and the first check counted as 1 beside its 0-based key."""
    assert '[{ path = "/", status = 200 }]' in refused({"verify": {"checks": 5}}, "verify.checks")
    assert "203.0.113.0/24" not in refused({"verify": {"checks": 5}}, "verify.checks")
    assert "must be an inline table in braces" in refused(
        {"verify": {"checks": ["/health"]}}, "verify.checks.0"
    )
    eleven = refused({"verify": {"checks": [{"path": "/"}] * 11}}, "verify.checks")
    assert eleven.count("path") < 11 and "at most 10" in eleven
    error = config_error({"verify": {"checks": [{"path": "/"}, {"path": "/", "count": 0}]}})
    assert "verify.checks.1.count (check 2): 0 must be" in error.message


def test_the_checks_size_limit_at_both_edges() -> None:
    """The checks travel inline in the service template (51,200 bytes in all): their JSON
    may take MAX_CHECKS_SIZE characters and not one more."""
    empty = config.checks_size([config.CheckConfig(path="/", body="")])
    body = "b" * (config.MAX_CHECKS_SIZE - empty)
    last = one_check(path="/", body=body)
    assert config.checks_size(accepted(last).verify.checks) == config.MAX_CHECKS_SIZE
    message = refused(one_check(path="/", body=body + "b"), "verify.checks")
    assert f"more than {config.MAX_CHECKS_SIZE}" in message
