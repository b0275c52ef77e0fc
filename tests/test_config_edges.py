"""Every config validator at both edges: the last valid value is accepted, the first
invalid one refused (exit 2, naming the key). The limits come from AWS's documentation
and API models, cited at each table, not from bluegreen's own constants."""

from __future__ import annotations

import json
from typing import Any

import pytest
from configs import accepted, config_error, ecs, refused

from bluegreen import config
from bluegreen.errors import ConfigError
from bluegreen.names import naming_problems

# --- ports ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key", "other"),
    [
        ("app", "port", {}),
        ("listeners", "production_port", {"test_port": 8080}),
        ("listeners", "test_port", {"production_port": 80}),
    ],
)
def test_ports_from_1_to_65535(section: str, key: str, other: dict[str, int]) -> None:
    for port in (1, 65535):
        cfg = accepted({section: {key: port, **other}})
        assert getattr(getattr(cfg, section), key) == port
    for port in (0, 65536):
        assert "1 to 65535" in refused({section: {key: port, **other}}, f"{section}.{key}")


def test_the_log_routers_ports_are_refused_for_the_app_and_their_neighbours_are_not() -> None:
    # Fluent Bit in the same task listens on 24224 (forward input) and 2020 (HTTP server).
    for port in (2020, 24224):
        assert "log router" in refused({"app": {"port": port}}, "app.port")
    for port in (2019, 2021, 24223, 24225):
        assert accepted({"app": {"port": port}}).app.port == port


# --- Fargate task size --------------------------------------------------------------------

# cpu units -> the memory sizes (MiB) AWS lists for it: "Task CPU and memory" in
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html
# (the same table is in the ECS API reference, RegisterTaskDefinition "memory").
AWS_FARGATE_MEMORY: dict[int, list[int]] = {
    256: [512, 1024, 2048],
    512: [1024, 2048, 3072, 4096],
    1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
    2048: list(range(4096, 16384 + 1, 1024)),  # 4 GB to 16 GB in 1 GB increments
    4096: list(range(8192, 30720 + 1, 1024)),  # 8 GB to 30 GB in 1 GB increments
    8192: list(range(16384, 61440 + 1, 4096)),  # 16 GB to 60 GB in 4 GB increments
    16384: list(range(32768, 122880 + 1, 8192)),  # 32 GB to 120 GB in 8 GB increments
}


@pytest.mark.parametrize("cpu", AWS_FARGATE_MEMORY)
def test_every_fargate_size_and_its_edges(cpu: int) -> None:
    sizes = AWS_FARGATE_MEMORY[cpu]
    for memory in sizes:
        assert accepted({"task": {"cpu": cpu, "memory": memory}}).task.memory == memory
    for memory in (sizes[0] - 1, sizes[-1] + 1, (sizes[0] + sizes[1]) // 2):
        assert memory not in sizes
        message = refused({"task": {"cpu": cpu, "memory": memory}}, "task.memory")
        assert f"not a Fargate memory size for cpu {cpu}" in message


@pytest.mark.parametrize("cpu", [0, 128, 255, 257, 768, 32768])
def test_cpu_sizes_fargate_does_not_have(cpu: int) -> None:
    assert "Fargate cpu" in refused({"task": {"cpu": cpu}}, "task.cpu")


def test_desired_count_from_1_to_100() -> None:
    for count in (1, 100):
        assert accepted({"task": {"desired_count": count}}).task.desired_count == count
    assert "at least 1" in refused({"task": {"desired_count": 0}}, "task.desired_count")
    assert "at most 100" in refused({"task": {"desired_count": 101}}, "task.desired_count")


# --- health check ---------------------------------------------------------------------------

# The ELBv2 API model (botocore elbv2 2015-12-01): HealthCheckIntervalSeconds 5-300,
# HealthCheckTimeoutSeconds 2-120, HealthCheckThresholdCount 2-10.
HEALTH_RANGES = [
    ("interval_seconds", 5, 300, {"timeout_seconds": 2}),
    ("timeout_seconds", 2, 120, {"interval_seconds": 300}),
    ("healthy_threshold", 2, 10, {}),
    ("unhealthy_threshold", 2, 10, {}),
]


@pytest.mark.parametrize(("key", "low", "high", "other"), HEALTH_RANGES)
def test_health_check_ranges(key: str, low: int, high: int, other: dict[str, int]) -> None:
    for value in (low, high):
        cfg = accepted({"health_check": {key: value, **other}})
        assert getattr(cfg.health_check, key) == value
    for value in (low - 1, high + 1):
        message = refused({"health_check": {key: value, **other}}, f"health_check.{key}")
        assert f"from {low} to {high}" in message


def test_the_health_check_defaults_sit_at_the_fastest_edges_the_validators_accept() -> None:
    # ECS guide "Optimize load balancer health check parameters": interval 5, healthy
    # threshold 2 (both the API's minimums); the timeout the longest below the interval.
    hc = accepted({}).health_check
    assert (hc.interval_seconds, hc.timeout_seconds) == (5, 4)
    assert (hc.healthy_threshold, hc.unhealthy_threshold) == (2, 2)
    assert "from 5 to 300" in refused(
        {"health_check": {"interval_seconds": 4, "timeout_seconds": 2}},
        "health_check.interval_seconds",
    )
    assert "less than health_check.interval_seconds" in refused(
        {"health_check": {"timeout_seconds": 5}}, "health_check.timeout_seconds"
    )


def test_the_timeout_is_shorter_than_the_interval() -> None:
    accepted({"health_check": {"interval_seconds": 10, "timeout_seconds": 9}})
    message = refused(
        {"health_check": {"interval_seconds": 10, "timeout_seconds": 10}},
        "health_check.timeout_seconds",
    )
    assert "less than health_check.interval_seconds" in message


@pytest.mark.parametrize(
    "path",
    [
        "/h",
        "/health",
        "/a/b.json",
        "/-._~!$&'()*+,;=:@/",
        "/" + "a" * 1023,  # 1024 characters: the most HealthCheckPath takes (ELBv2 model Path)
    ],
)
def test_health_check_paths_accepted(path: str) -> None:
    assert accepted({"health_check": {"path": path}}).health_check.path == path


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("", "starting with '/'"),
        ("health", "starting with '/'"),
        ("/" + "a" * 1024, "at most 1024"),
        ("/a b", "no spaces"),
        ("/a%41", "'%' escapes"),
        ("/a?b=1", "'?'"),
        ("/a#b", "'#'"),
        ('/a"b', "starting with '/'"),
        ("/a\\b", "starting with '/'"),
        ("/網走", "starting with '/'"),
        ("/", "not be '/' alone"),
        ("/health\n[OUTPUT]", "U+000A (line feed)"),
    ],
)
def test_health_check_paths_refused(path: str, fragment: str) -> None:
    assert fragment in refused({"health_check": {"path": path}}, "health_check.path")


# --- deployment -----------------------------------------------------------------------------


def test_wait_minutes_with_manual_reroute_from_1_to_2880() -> None:
    # bluegreen's bound is CodeDeploy's documented maximum for the termination wait (the
    # codedeploy API model, BlueInstanceTerminationOption: "The maximum setting is 2880
    # minutes (2 days)"); 0 would stop every deployment before anyone could promote it.
    for minutes in (1, 2880):
        cfg = accepted({"deployment": {"reroute": "manual", "wait_minutes": minutes}})
        assert cfg.deployment.wait_minutes == minutes
    # Both edges' messages name the whole allowed range (a new user's report: 0 was told
    # "at least 1", 2881 "from 0 to 2880").
    for minutes in (0, 2881):
        message = refused(
            {"deployment": {"reroute": "manual", "wait_minutes": minutes}},
            "deployment.wait_minutes",
        )
        assert message.startswith(f"{minutes} must be from 1 to 2880 minutes")
        assert "promote" in message


def test_termination_wait_from_0_to_2880() -> None:
    for minutes in (0, 2880):
        cfg = accepted({"deployment": {"termination_wait_minutes": minutes}})
        assert cfg.deployment.termination_wait_minutes == minutes
    for minutes in (-1, 2881):
        message = refused(
            {"deployment": {"termination_wait_minutes": minutes}},
            "deployment.termination_wait_minutes",
        )
        assert "0 to 2880" in message


# --- logs and network -------------------------------------------------------------------------

# "Possible values are: 1, 3, 5, ..., 3653": the botocore logs model, shape Days (the
# retentionInDays of PutRetentionPolicy), copied here rather than from bluegreen.
AWS_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096]
AWS_RETENTION_DAYS += [1827, 2192, 2557, 2922, 3288, 3653]


def test_every_cloudwatch_retention_is_accepted_and_nothing_else() -> None:
    for days in AWS_RETENTION_DAYS:
        assert accepted({"logs": {"retention_days": days}}).logs.retention_days == days
    for days in (0, 2, 4, 6, 8, 13, 15, 364, 366, 3652, 3654):
        assert days not in AWS_RETENTION_DAYS
        refused({"logs": {"retention_days": days}}, "logs.retention_days")


def test_vpc_from_16_to_24_bits() -> None:
    # Amazon VPC: "The allowed block size is between a /16 netmask (65,536 IP addresses)
    # and /28"; bluegreen needs two subnets with room for the load balancer and tasks, so
    # it stops at /24.
    for cidr in ("10.0.0.0/16", "10.20.30.0/24"):
        assert accepted({"network": {"vpc_cidr": cidr}}).network.vpc_cidr == cidr
    for cidr in ("10.0.0.0/15", "10.20.30.0/25"):
        assert "/16 to /24" in refused({"network": {"vpc_cidr": cidr}}, "network.vpc_cidr")
    assert "IPv4 CIDR" in refused({"network": {"vpc_cidr": "10.0.0.1/16"}}, "network.vpc_cidr")


# --- control characters -------------------------------------------------------------------------

# Every string setting and an innocent value for it.
STRING_KEYS = [
    ("project", "name", "sample3"),
    ("project", "environment", "dev"),
    ("project", "region", "ap-northeast-1"),
    ("source", "repository", "webappservice"),
    ("source", "branch", "main"),
    ("app", "name", "webapp"),
    ("app", "directory", "webapp"),
    ("app", "greeting", "Hello, 網走"),
    ("router", "name", "log-router"),
    ("router", "directory", "firelens"),
    ("health_check", "path", "/health"),
    ("deployment", "config", "CodeDeployDefault.ECSAllAtOnce"),
    ("network", "vpc_cidr", "10.0.0.0/16"),
    ("source", "full_repository_id", "acme/webapp"),
]
# Settings that apply only next to another one (the rest of their section).
CONTEXT = {("source", "full_repository_id"): {"provider": "github"}}


def test_every_string_setting_is_listed() -> None:
    strings = {
        f"{section}.{key}"
        for section, model in config.Config.model_fields.items()
        for key, field in (model.annotation.model_fields.items() if model.annotation else [])
        if field.annotation is str
    }
    assert strings == {f"{section}.{key}" for section, key, _ in STRING_KEYS}


@pytest.mark.parametrize(("section", "key", "value"), STRING_KEYS)
@pytest.mark.parametrize(
    "control", ["\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u202e"]
)
def test_no_string_setting_takes_a_control_character(
    section: str, key: str, value: str, control: str
) -> None:
    context = CONTEXT.get((section, key), {})
    accepted({section: {**context, key: value}})
    for bad in (value + control, control + value):
        message = refused({section: {**context, key: bad}}, f"{section}.{key}")
        assert f"U+{ord(control):04X}" in message and "control characters" in message


def test_a_control_character_in_a_list_setting_is_refused() -> None:
    message = refused({"listeners": {"test_cidrs": ["10.0.0.0/8\n"]}}, "listeners.test_cidrs")
    assert "U+000A (line feed)" in message


def test_what_is_not_a_control_character_passes() -> None:
    greeting = 'tab-less "quoted" \\ {{x}} ${y} 網走 é 👩\u200d💻 \u00a0end'
    assert accepted({"app": {"greeting": greeting}}).app.greeting == greeting
    # through the TOML file too
    assert config.parse("[app]\ngreeting = " + json.dumps(greeting, ensure_ascii=False))


# --- derived names (bluegreen.names) ----------------------------------------------------------


def _prefix(length: int) -> dict[str, Any]:
    """project.name and environment making a "<name>-<environment>" prefix of ``length``."""
    return {"project": {"name": "a" * (length - len("-dev")), "environment": "dev"}}


def _prefixed(suffix: str, length: int) -> dict[str, Any]:
    return _prefix(length - len(suffix))


def _container(section: str, suffix: str, length: int) -> dict[str, Any]:
    """A container name making "sample3-dev-<name><suffix>" ``length`` characters long."""
    return {section: {"name": "w" * (length - len("sample3-dev-") - len(suffix))}}


# (what AWS names, the derived name's suffix, AWS's length limit, the config at a length)
# Limits: ELBv2 load balancer and target group names at most 32 characters (the ELBv2
# API reference, CreateLoadBalancer/CreateTargetGroup Name); the botocore models: ECR
# RepositoryName max 256, CodeBuild ProjectName max 150, CodeCommit RepositoryName max
# 100, CodePipeline PipelineName max 100, CodeDeploy DeploymentGroupName max 100; a
# CloudFormation stack name at most 128 (CreateStack StackName); an ECS cluster name and
# a task definition family at most 255 (CreateCluster, RegisterTaskDefinition); an
# EventBridge rule name at most 64 (PutRule Name).
NAME_RULES = [
    ("load balancer", "-alb", 32, lambda n: _prefixed("-alb", n)),
    ("target group", "-green", 32, lambda n: _prefixed("-green", n)),
    ("target group", "-blue", 32, lambda n: _prefixed("-blue", n)),
    ("deployment group", "-deployment-group", 100, lambda n: _prefixed("-deployment-group", n)),
    ("pipeline", "-pipeline", 100, lambda n: _prefixed("-pipeline", n)),
    ("EventBridge rule", "-source-push", 64, lambda n: _prefixed("-source-push", n)),
    ("stack", "-pipeline", 128, lambda n: _prefixed("-pipeline", n)),
    ("ECS cluster", "-cluster", 255, lambda n: _prefixed("-cluster", n)),
    ("task definition family", "-task", 255, lambda n: _prefixed("-task", n)),
    (
        "CodeCommit repository",
        "",
        100,
        lambda n: {"source": {"repository": "r" * (n - len("sample3-dev-"))}},
    ),
    ("ECR repository", "", 256, lambda n: _container("app", "", n)),
    ("ECR repository", "", 256, lambda n: _container("router", "", n)),
    ("CodeBuild project", "-build", 150, lambda n: _container("app", "-build", n)),
    ("CodeBuild project", "-build", 150, lambda n: _container("router", "-build", n)),
]


@pytest.mark.parametrize(
    ("what", "suffix", "limit", "make"),
    NAME_RULES,
    ids=[f"{what}{suffix}-{limit}" for what, suffix, limit, _ in NAME_RULES],
)
def test_derived_name_lengths_at_the_limit(what: str, suffix: str, limit: int, make: Any) -> None:
    def problems_of(length: int) -> list[str]:
        cfg = config.Config.model_validate(make(length))
        return [
            message
            for _, message in naming_problems(cfg)
            if f"the {what} name" in message and f"{suffix}' is" in message
        ]

    assert problems_of(limit) == []
    (message,) = problems_of(limit + 1)
    assert f"is {limit + 1} characters; AWS allows at most {limit}" in message
    config_error(make(limit + 1))  # refused, exit 2


def test_derived_names_that_break_the_ecr_and_load_balancer_patterns() -> None:
    # ECR RepositoryName pattern (botocore ecr model): lowercase alphanumerics joined by
    # single separators, so no trailing "_"; ELBv2 names: alphanumerics and hyphens, not
    # beginning or ending with a hyphen.
    assert accepted({"app": {"name": "web_app"}})
    message = refused({"app": {"name": "webapp_"}}, "project.name + project.environment + app.name")
    assert "ECR repository name 'sample3-dev-webapp_' breaks AWS naming rules" in message


# --- [rehearse.hooks] ---------------------------------------------------------------------
# A Lambda function name is 1 to 64 letters, digits, hyphens or underscores (Lambda API
# reference, CreateFunction: FunctionName); a play is succeed, fail or timeout.


def test_rehearse_hooks_names_from_1_to_64_characters_and_the_three_plays() -> None:
    for name in ("a", "CodeDeployHook_" + "x" * 49, "with-hyphen_and_9"):
        for play in ("succeed", "fail", "timeout"):
            cfg = accepted({"rehearse": {"hooks": {name: play}}})
            assert cfg.rehearse.hooks == {name: play}
    for name in ("", "CodeDeployHook_" + "x" * 50, "arn:aws:lambda:x", "a.b"):
        message = refused({"rehearse": {"hooks": {name: "succeed"}}}, "rehearse.hooks")
        assert "not a Lambda function name" in message
    message = refused({"rehearse": {"hooks": {"CodeDeployHook_x": "pass"}}}, "rehearse.hooks")
    assert "'succeed', 'fail', 'timeout'" in message


def test_the_config_and_the_emulator_know_the_same_plays() -> None:
    from bluegreen.emulator import hooks

    assert hooks.PLAYS == config.HOOK_PLAYS


# --- where a problem is and what it says -------------------------------------------------


def test_a_bad_list_item_is_shown_by_its_index_and_value() -> None:
    # The last item of a list (index len-1) is found and shown; one past it is not there.
    message = refused({"listeners": {"test_cidrs": ["0.0.0.0/0", 5]}}, "listeners.test_cidrs.1")
    assert message == "5 must be a string in quotes"
    data = {"a": [1, 2]}
    assert config._lookup(data, ["a", "1"]) == 2
    assert config._lookup(data, ["a", "2"]) is config._MISSING
    assert config._lookup(data, ["a", "x"]) is config._MISSING


def test_a_config_file_that_is_not_utf8_is_refused_with_the_fix(tmp_path: Any) -> None:
    path = tmp_path / "bluegreen.toml"
    path.write_bytes('[project]\nname = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert str(info.value) == f"{path}: not UTF-8 text\n  hint: save the file as UTF-8"
    assert info.value.exit_code == 2


def test_each_control_character_is_named_in_the_message() -> None:
    # The names a person knows for the common ones, Unicode's name where it has one, and
    # "control" for the C0/C1 controls Unicode gives no name (unicodedata.name of U+0001
    # raises ValueError).
    named = {"\t": "tab", "\n": "line feed", "\x01": "control", "\u2028": "line separator"}
    for char, name in named.items():
        message = refused({"project": {"name": f"a{char}b"}}, "project.name")
        assert message.startswith(f"{f'a{char}b'!r} contains U+{ord(char):04X} ({name}): "), message


def test_a_string_for_a_switch_says_true_or_false() -> None:
    assert accepted({"deployment": {"auto_rollback": False}}).deployment.auto_rollback is False
    message = refused({"deployment": {"auto_rollback": "yes"}}, "deployment.auto_rollback")
    assert message == "'yes' must be true or false"


def test_a_percent_cfn_lint_rejects_names_its_float_quotient_and_the_neighbours() -> None:
    # 0.3 / 0.1 is 2.9999999999999996 in IEEE 754 doubles, which cfn-lint's multipleOf
    # refuses (cfnlint.jsonschema._keywords.multipleOf); 0.2 and 0.4 divide evenly.
    canary = {"engine": "ecs", "ecs": {"strategy": "CANARY"}}
    for fine in (0.2, 0.4):
        assert (
            accepted(
                {"deployment": {**canary, "ecs": {"strategy": "CANARY", "canary_percent": fine}}}
            ).deployment.ecs.canary_percent
            == fine
        )
    message = refused(
        {"deployment": {**canary, "ecs": {"strategy": "CANARY", "canary_percent": 0.3}}},
        "deployment.ecs.canary_percent",
    )
    assert message == (
        "0.3 is a multiple of 0.1 for ECS, but cfn-lint (which `bluegreen verify` and "
        "`synth --lint` run on the templates) computes 0.3 / 0.1 in floating point as "
        "2.9999999999999996 and rejects it (E3002 'not a multiple of 0.1'); use 0.2 or 0.4"
    )


def test_the_deploy_steps_budget_counts_the_bake_when_the_pipeline_waits_for_it() -> None:
    # 480 minutes: CodePipeline's limit for a CodeBuild action (Quotas in AWS
    # CodePipeline); wait 390 + bake 30 + the 60-minute margin is the last that fits.
    baked = {"pipeline_waits_for_bake": True, "bake_minutes": 30}
    assert accepted(ecs(reroute="manual", wait=390, **baked)).deployment.wait_minutes == 390
    message = refused(ecs(reroute="manual", wait=391, **baked), "deployment.wait_minutes")
    assert message == (
        "the pipeline's Deploy step waits for the deployment: wait_minutes 391 + "
        "bake_minutes 30 + 60 for the rest = 481 minutes, more than the 480 minutes "
        "CodePipeline lets a CodeBuild action run (Quotas in AWS CodePipeline), so the wait "
        "would be cut off; shorten deployment.wait_minutes or the shift's bakes, or set "
        "deployment.ecs.pipeline_waits_for_bake = false"
    )


def test_an_unknown_key_in_a_list_item_is_refused_by_its_path() -> None:
    message = refused({"verify": {"checks": [{"path": "/", "bogus": 1}]}}, "verify.checks.0.bogus")
    # The keys of a check, not of the [verify] section around the list.
    assert message == (
        "unknown key (a typo?); allowed here: path, method, status, body, body_pattern, "
        "count, max_latency_ms"
    )
