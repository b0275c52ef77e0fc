"""Config shapes every template test runs on: the seed's defaults and two far from them,
and the config tests' ways of reading a refusal.

Shared by the cfn-lint tests and the semantic stack tests so both judge the same systems.
"""

from __future__ import annotations

from typing import Any

import pytest

from bluegreen import config
from bluegreen.errors import ConfigError


def accepted(data: dict[str, Any]) -> config.Config:
    return config.from_dict(data)


def config_error(data: dict[str, Any], source: str = config.CONFIG_FILE) -> ConfigError:
    """The error ``data`` is refused with (it must be): a config error, exit 2."""
    with pytest.raises(ConfigError) as info:
        config.from_dict(data, source)
    assert info.value.exit_code == 2
    return info.value


def ecs(*, reroute: str = "auto", wait: int | None = None, **settings: Any) -> dict[str, Any]:
    """A config of the ECS engine: deployment.ecs = ``settings``, with deployment.reroute
    and (where given) deployment.wait_minutes = ``wait``."""
    deployment: dict[str, Any] = {"engine": "ecs", "reroute": reroute, "ecs": settings}
    if wait is not None:
        deployment["wait_minutes"] = wait
    return {"deployment": deployment}


def refused(data: dict[str, Any], key: str) -> str:
    """The message for ``key`` when ``data`` is refused (and it must be)."""
    problems = config_error(data).problems
    messages = [message for k, message in problems if k == key]
    assert messages, problems
    return messages[0]


CONFIGS = {
    "default": "",
    "shop-prod": """
[project]
name = "shop"
environment = "prod"
region = "us-east-1"
[source]
repository = "storefront"
branch = "release/1.x"
[app]
name = "api"
directory = "service"
port = 8080
[router]
name = "fluentbit"
directory = "logrouter"
[task]
cpu = 1024
memory = 3072
desired_count = 2
[listeners]
production_port = 8000
test_port = 9000
test_cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
[health_check]
path = "/healthz"
interval_seconds = 30
timeout_seconds = 10
healthy_threshold = 3
unhealthy_threshold = 5
[deployment]
config = "CodeDeployDefault.ECSCanary10Percent5Minutes"
reroute = "manual"
wait_minutes = 60
termination_wait_minutes = 5
auto_rollback = false
[network]
vpc_cidr = "10.20.0.0/24"
[logs]
retention_days = 30
""",
    "eu-linear": """
[project]
name = "blog"
environment = "stg"
region = "eu-west-1"
[task]
cpu = 512
memory = 1024
[listeners]
test_port = 8443
[deployment]
config = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"
reroute = "auto"
termination_wait_minutes = 0
""",
    # issue 11: checks through the open test listener, the stack's alarms and one of the
    # user's, every alarm threshold at a non-default value
    "verify-direct": """
[[verify.checks]]
path = "/"
body = "Hello"
count = 5
[[verify.checks]]
path = "/api/items?limit=1"
method = "HEAD"
status = 204
max_latency_ms = 500
[verify]
interval_seconds = 2
[verify.alarms]
enabled = true
http_5xx_per_minute = 10
unhealthy_hosts = 2
p95_latency_ms = 750
existing = ["shop-latency-slo"]
ignore_poll_failure = true
""",
    # issue 11: the test listener narrowed, so the checks go through the in-VPC prober
    "verify-prober": """
[project]
name = "shop"
environment = "prod"
region = "us-east-1"
[app]
port = 8080
[listeners]
test_cidrs = ["203.0.113.0/24"]
[deployment]
reroute = "auto"
[[verify.checks]]
path = "/"
body_pattern = "^Hello"
""",
}

ECS_CONFIGS = {
    # engine "ecs" (ECS built-in blue/green) in each strategy, both reroutes, the bake held
    "ecs-default": """
[deployment]
engine = "ecs"
""",
    "ecs-linear-auto": """
[project]
name = "blog"
environment = "stg"
region = "eu-west-1"
[deployment]
engine = "ecs"
reroute = "auto"
auto_rollback = false
[deployment.ecs]
strategy = "LINEAR"
bake_minutes = 0
step_percent = 3.0
step_bake_minutes = 1
""",
    "ecs-canary-prod": """
[project]
name = "shop"
environment = "prod"
region = "us-east-1"
[app]
name = "api"
port = 8080
[listeners]
production_port = 8000
test_port = 9000
[task]
desired_count = 2
[deployment]
engine = "ecs"
wait_minutes = 60
[deployment.ecs]
strategy = "CANARY"
bake_minutes = 1440
canary_percent = 0.1
canary_bake_minutes = 30
pipeline_waits_for_bake = false
""",
    # issue 11 under ECS: the Lambda hook next to the PAUSE, the deployment alarms, the
    # prober (test listener narrowed), checks long enough to need a callback
    "ecs-verify-prober": """
[project]
name = "shop"
environment = "prod"
region = "us-east-1"
[listeners]
test_cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
[deployment]
engine = "ecs"
[verify]
callback_seconds = 20
[[verify.checks]]
path = "/"
count = 100
max_latency_ms = 30000
[verify.alarms]
enabled = true
existing = ["a", "b", "c"]
""",
    "ecs-verify-direct-auto": """
[deployment]
engine = "ecs"
reroute = "auto"
[[verify.checks]]
path = "/health"
""",
}
"""Configs with deployment.engine = "ecs"; the lint tests run on these too (the semantic
stack tests of tests/test_stacks.py describe the CodeDeploy engine's templates, those of
tests/test_stacks_ecs.py these)."""
