"""appkit.render / render_config: the files init writes, as a pure function of the config."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from configs import CONFIGS
from pydantic import BaseModel

from bluegreen import appkit, config, names
from bluegreen.config import Config

DEFAULT = Config()

# A config far from the defaults: every name, port and directory differs.
CUSTOM = config.parse(
    """
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
port = 8000
greeting = 'Say "hi" \\ {{braces}} ${HOME} 網走'
[router]
name = "logs"
directory = "router"
[task]
cpu = 1024
memory = 4096
desired_count = 3
[listeners]
production_port = 443
test_port = 9443
test_cidrs = ["203.0.113.0/24", "198.51.100.0/24"]
[health_check]
path = "/status.json"
interval_seconds = 30
timeout_seconds = 10
healthy_threshold = 3
unhealthy_threshold = 4
[deployment]
config = "CodeDeployDefault.ECSCanary10Percent5Minutes"
reroute = "manual"
wait_minutes = 60
termination_wait_minutes = 5
auto_rollback = false
[network]
vpc_cidr = "10.20.0.0/16"
[logs]
retention_days = 90
"""
)


def _fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += _fields(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


@pytest.mark.parametrize("cfg", [DEFAULT, CUSTOM], ids=["default", "custom"])
def test_render_config_round_trips(cfg: Config) -> None:
    assert config.parse(render := appkit.render_config(cfg)) == cfg
    # and it is the file init writes
    assert appkit.render(cfg)["bluegreen.toml"] == render


def test_render_config_round_trips_awkward_strings() -> None:
    # Everything but control characters (config refuses those): quotes, backslashes,
    # braces, shell and TOML syntax, non-ASCII and astral characters, a zero-width joiner.
    greeting = """it's "quoted" \\ {{x}} ${y} $(z) `w` # [t] = 網走 é 👩\u200d💻 \u00a0"""
    cfg = config.parse("[app]\ngreeting = " + json.dumps(greeting, ensure_ascii=False))
    assert cfg.app.greeting == greeting
    assert config.parse(appkit.render_config(cfg)) == cfg


def _written(data: dict[str, object], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict) and f"{prefix}{key}" not in _fields(Config):  # a section
            keys += _written(value, f"{prefix}{key}.")
        else:
            keys.append(f"{prefix}{key}")
    return keys


# The keys of the engine (and strategy) a config does not use: config refuses them, so
# render_config leaves them out.
# verify.alarms.ignore_poll_failure: CodeDeploy's too, and written commented while no alarm
# is watched (as in these configs)
_CODEDEPLOY_ONLY = {
    "deployment.config",
    "deployment.termination_wait_minutes",
    "verify.alarms.ignore_poll_failure",
}
_LINEAR_ONLY = {"deployment.ecs.step_percent", "deployment.ecs.step_bake_minutes"}
_CANARY_ONLY = {"deployment.ecs.canary_percent", "deployment.ecs.canary_bake_minutes"}
_ECS = {key for key in _fields(Config) if key.startswith("deployment.ecs.")} | {
    "verify.callback_seconds"
}


@pytest.mark.parametrize(
    ("toml", "left_out"),
    [
        ("", _ECS | {"verify.alarms.ignore_poll_failure"}),
        ('[deployment]\nengine = "ecs"', _CODEDEPLOY_ONLY | _LINEAR_ONLY | _CANARY_ONLY),
        (
            '[deployment]\nengine = "ecs"\n[deployment.ecs]\nstrategy = "LINEAR"',
            _CODEDEPLOY_ONLY | _CANARY_ONLY,
        ),
        (
            '[deployment]\nengine = "ecs"\n[deployment.ecs]\nstrategy = "CANARY"',
            _CODEDEPLOY_ONLY | _LINEAR_ONLY,
        ),
    ],
    ids=["codedeploy", "ecs-blue-green", "ecs-linear", "ecs-canary"],
)
def test_render_config_writes_and_documents_every_key(toml: str, left_out: set[str]) -> None:
    cfg = config.parse(toml)
    text = appkit.render_config(cfg)
    assert config.parse(text) == cfg
    data = tomllib.loads(text)
    assert sorted(_written(data)) == sorted(set(_fields(Config)) - left_out)
    lines = text.splitlines()
    section = ""
    for number, line in enumerate(lines):
        if line.startswith("["):
            section = line.strip("[]")
            assert lines[number - 1] == "", f"[{section}] should follow a blank line"
            continue
        match = re.match(r"^([a-z_]+) = ", line)
        if match:
            comment = lines[number - 1]
            assert comment.startswith("# ") and len(comment) > 10, (
                f"{section}.{match.group(1)} has no comment above it"
            )


def test_render_config_lists_the_allowed_values() -> None:
    text = appkit.render_config(DEFAULT)
    for name in config.DEPLOYMENT_CONFIGS:
        assert name in text
    for cpu in config.FARGATE_SIZES:
        assert f"cpu {cpu:>5}:" in text
    assert "3653" in text  # the last retention period
    assert '"auto"' in text and '"manual"' in text


def test_defaults_reproduce_the_seed() -> None:
    text = appkit.render_config(DEFAULT)
    for line in (
        'name = "sample3"',
        'environment = "dev"',
        'region = "ap-northeast-1"',
        'greeting = "Hello, 網走"',
        "production_port = 80",
        "test_port = 8080",
        'branch = "main"',
    ):
        assert line in text.splitlines()


def test_health_check_defaults_are_the_fastest_aws_recommends_and_say_why() -> None:
    # Amazon ECS best practices, "Optimize load balancer health check parameters for
    # Amazon ECS": interval 5 and healthy threshold 2 for a service that "starts up and
    # stabilizes in under 10 seconds"; the timeout below the interval (ELBv2
    # ValidationError "Health check interval must be greater than the timeout."); the ALB
    # default unhealthy threshold, 2.
    lines = appkit.render_config(DEFAULT).splitlines()
    section = lines[lines.index("[health_check]") :]
    section = section[: next(i for i, line in enumerate(section[1:], 1) if line.startswith("["))]
    for line in (
        "interval_seconds = 5",
        "timeout_seconds = 4",
        "healthy_threshold = 2",
        "unhealthy_threshold = 2",
    ):
        assert line in section
    comments = " ".join(line.lstrip("# ") for line in section if line.startswith("#"))
    assert '"Optimize load balancer health check parameters for Amazon ECS"' in comments
    assert "interval 5 and healthy threshold 2" in comments
    assert '"the health-check process takes 10 seconds compared to the default' in comments
    assert "part of its lead time" in comments


def test_render_is_sorted_deterministic_and_complete() -> None:
    files = appkit.render(DEFAULT)
    assert list(files) == sorted(files)
    assert appkit.render(Config()) == files
    assert set(files) == {
        ".gitignore",
        "README.md",
        "appspec.yml",
        "bluegreen.toml",
        "buildspec-branch.yml",
        "taskdef.json",
        "webapp/.dockerignore",
        "webapp/Dockerfile",
        "webapp/buildspec.yml",
        "webapp/requirements.txt",
        "webapp/requirements-dev.txt",
        "webapp/pytest.ini",
        "webapp/app/__init__.py",
        "webapp/app/__main__.py",
        "webapp/app/main.py",
        "webapp/app/healthcheck.py",
        "webapp/tests/__init__.py",
        "webapp/tests/test_main.py",
        "firelens/Dockerfile",
        "firelens/extra.conf",
        "firelens/buildspec.yml",
    }
    for path, text in files.items():
        assert "{{" not in text and "}}" not in text, path
        assert text.endswith("\n"), path


@pytest.mark.parametrize("text", CONFIGS.values(), ids=CONFIGS.keys())
def test_no_rendered_file_is_empty(text: str) -> None:
    """CodeCommit's file APIs refuse empty files (botocore codecommit model,
    FileContentRequiredException: "Empty files cannot be added to the repository with this
    API"; aws/aws-cdk#19012), and deploy sends the whole scaffold in the first commit."""
    for path, content in appkit.render(config.parse(text)).items():
        assert content.strip(), f"{path} is empty"


def test_directories_follow_the_config() -> None:
    files = appkit.render(CUSTOM)
    assert "service/Dockerfile" in files and "router/extra.conf" in files
    assert not any(p.startswith(("webapp/", "firelens/")) for p in files)


@pytest.mark.parametrize("cfg", [DEFAULT, CUSTOM], ids=["default", "custom"])
def test_no_account_id_or_arn_anywhere(cfg: Config) -> None:
    for path, text in appkit.render(cfg).items():
        # A 12-digit number on its own, as an account id stands in an ARN or a registry
        # host; the sha256 hashes in requirements.txt hold digit runs inside hex words.
        assert not re.search(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])", text), path
        assert "arn:aws" not in text, path


def _taskdef(cfg: Config) -> dict[str, Any]:
    data = json.loads(appkit.render(cfg)["taskdef.json"])
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("cfg", [DEFAULT, CUSTOM], ids=["default", "custom"])
def test_taskdef_holds_placeholders_and_config_values(cfg: Config) -> None:
    n = names.Names.of(cfg)
    data = _taskdef(cfg)
    assert data["family"] == n.task_family
    assert (data["cpu"], data["memory"]) == (str(cfg.task.cpu), str(cfg.task.memory))
    assert data["networkMode"] == "awsvpc" and data["requiresCompatibilities"] == ["FARGATE"]
    assert data["taskRoleArn"] == names.TASK_ROLE_PLACEHOLDER
    assert data["executionRoleArn"] == names.EXECUTION_ROLE_PLACEHOLDER
    app, router = data["containerDefinitions"]
    assert (app["name"], app["image"]) == (cfg.app.name, "<IMAGE1_NAME>")
    assert (router["name"], router["image"]) == (cfg.router.name, "<IMAGE2_NAME>")
    assert app["portMappings"] == [{"containerPort": cfg.app.port, "protocol": "tcp"}]
    assert app["memoryReservation"] + router["memoryReservation"] == cfg.task.memory
    # The app trusts X-Forwarded-For from the VPC only (where the load balancer is).
    assert app["environment"] == [{"name": "FORWARDED_ALLOW_IPS", "value": cfg.network.vpc_cidr}]
    # Hardening: the app writes nothing; the router stays writable (FireLens, see README).
    assert app["readonlyRootFilesystem"] is True
    assert "readonlyRootFilesystem" not in router and "linuxParameters" not in router
    assert set(app["linuxParameters"]) == {"capabilities"}
    assert set(app["linuxParameters"]["capabilities"]) == {"drop"}  # Fargate adds none

    options = app["logConfiguration"]["options"]
    assert app["logConfiguration"]["logDriver"] == "awsfirelens"
    assert options == {
        "Name": "cloudwatch_logs",
        "region": "<AWS_REGION>",
        "log_group_name": n.app_log_group,
        "log_stream_prefix": f"{cfg.app.name}/",
        "auto_create_group": "false",
    }
    assert router["firelensConfiguration"]["type"] == "fluentbit"
    assert router["firelensConfiguration"]["options"]["config-file-type"] == "file"
    assert router["firelensConfiguration"]["options"]["config-file-value"] == (
        "/fluent-bit/etc/extra.conf"
    )
    assert router["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": n.router_log_group,
            "awslogs-region": "<AWS_REGION>",
            "awslogs-stream-prefix": cfg.router.name,
        },
    }


# Docker's default capabilities (github.com/moby/moby oci/caps/defaults.go).
DOCKER_DEFAULT_CAPABILITIES = {
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
}


@pytest.mark.parametrize(
    ("port", "kept"),
    [(80, {"NET_BIND_SERVICE"}), (1023, {"NET_BIND_SERVICE"}), (1024, set()), (8000, set())],
)
def test_the_app_keeps_only_the_capability_to_bind_a_low_port(port: int, kept: set[str]) -> None:
    """A port below 1024 needs NET_BIND_SERVICE (the image grants it to python3 as a file
    capability, which needs it in the bounding set); Fargate cannot add a capability back
    after "drop ALL" (only SYS_PTRACE may be added: ECS API reference, KernelCapabilities),
    so the others are dropped by name."""
    cfg = config.parse(f"[app]\nport = {port}")
    (app, _) = _taskdef(cfg)["containerDefinitions"]
    drop = app["linuxParameters"]["capabilities"]["drop"]
    if drop == ["ALL"]:
        assert kept == set()
    else:
        assert DOCKER_DEFAULT_CAPABILITIES - set(drop) == kept
        assert set(drop) < DOCKER_DEFAULT_CAPABILITIES
    assert ("setcap" in appkit.render(cfg)[f"{cfg.app.directory}/Dockerfile"]) is bool(kept)


@pytest.mark.parametrize("cfg", [DEFAULT, CUSTOM], ids=["default", "custom"])
def test_appspec_targets_the_app_container(cfg: Config) -> None:
    data = yaml.safe_load(appkit.render(cfg)["appspec.yml"])
    assert data["version"] == 0.0
    target = data["Resources"][0]["TargetService"]
    assert target["Type"] == "AWS::ECS::Service"
    props = target["Properties"]
    assert props["TaskDefinition"] == "<TASK_DEFINITION>"
    assert props["LoadBalancerInfo"] == {
        "ContainerName": cfg.app.name,
        "ContainerPort": cfg.app.port,
    }
    assert props["PlatformVersion"] == "LATEST"


@pytest.mark.parametrize(("which", "outputs"), [("app", 3), ("router", 1)])
def test_buildspecs_are_valid_and_run_from_the_repository_root(which: str, outputs: int) -> None:
    directory = CUSTOM.app.directory if which == "app" else CUSTOM.router.directory
    data = yaml.safe_load(appkit.render(CUSTOM)[f"{directory}/buildspec.yml"])
    assert data["version"] == 0.2
    assert data["env"]["shell"] == "bash"
    assert set(data["phases"]) == {"pre_build", "build", "post_build"}
    for phase in data["phases"].values():
        assert phase["on-failure"] == "ABORT"
    commands = [c for phase in data["phases"].values() for c in phase["commands"]]
    assert any(
        f'docker build --tag "${{IMAGE_REPOSITORY_URI}}:${{IMAGE_TAG}}" ${{DOCKER_BUILD_OPTIONS}} '
        f'"{directory}"' in c
        for c in commands
    )
    assert data["env"]["variables"]["DOCKER_BUILD_OPTIONS"] == f"--file {directory}/Dockerfile"
    assert data["env"]["exported-variables"] == ["IMAGE_TAG", "IMAGE_BUILT"]
    # The registry host comes from the repository URI: nothing assumes the aws partition
    # (ECR in the China regions is <account>.dkr.ecr.<region>.amazonaws.com.cn).
    (login,) = [c for c in commands if "get-login-password" in c]
    assert login.endswith(
        'docker login --username AWS --password-stdin "${IMAGE_REPOSITORY_URI%%/*}"'
    )
    assert not any("amazonaws.com" in c or "AWS_ACCOUNT_ID" in c for c in commands)
    # The tag is the content's hash (tests/test_appkit_taskdef.py plays it), not the
    # commit id: an unchanged image keeps its tag across commits.
    assert not any("CODEBUILD_RESOLVED_SOURCE_VERSION" in c for c in commands)
    (tag_line,) = [c for c in commands if c.startswith("IMAGE_TAG=")]
    assert f"find {directory} -type f -print0 | LC_ALL=C sort -z" in tag_line
    # Whether the tag exists is asked for that one tag (no paged listing).
    assert not any("list-images" in c for c in commands)
    assert any(
        'aws ecr describe-images --repository-name "${IMAGE_REPOSITORY_NAME}" '
        '--image-ids imageTag="${IMAGE_TAG}"'
        in c
        and "ImageNotFoundException" in c
        for c in commands
    )
    assert len(data["artifacts"]["files"]) == outputs
    assert data["artifacts"]["files"][0] == "imageDetail.json"


def test_dockerfiles_pin_their_base_images() -> None:
    files = appkit.render(DEFAULT)
    app = files["webapp/Dockerfile"]
    froms = re.findall(r"^FROM (\S+)", app, flags=re.M)
    assert froms == [appkit.PYTHON_IMAGE, appkit.PYTHON_IMAGE]
    assert re.search(r":3\.12\.\d+-slim", appkit.PYTHON_IMAGE)
    assert "\nUSER 10001:10001\n" in app and "EXPOSE 80" in app and "AS builder" in app
    assert "--uid 10001 --gid 10001" in app and "--gid 10001 app" in app
    assert "pip wheel --no-cache-dir --require-hashes --only-binary=:all:" in app
    assert "COPY --from=builder /wheels /wheels" in app
    assert "setcap 'cap_net_bind_service=+ep'" in app  # port 80 as a non-root user
    router = files["firelens/Dockerfile"]
    assert re.findall(r"^FROM (\S+)", router, flags=re.M) == [
        "public.ecr.aws/aws-observability/aws-for-fluent-bit:3.2.1"
    ]
    assert "COPY extra.conf /fluent-bit/etc/extra.conf" in router


def test_high_port_needs_no_capability() -> None:
    app = appkit.render(CUSTOM)["service/Dockerfile"]
    assert "setcap" not in app and "apt-get" not in app
    assert "EXPOSE 8000" in app and "PORT=8000" in app


def test_extra_conf_filters_health_checks_and_tags_records() -> None:
    conf = appkit.render(CUSTOM)["router/extra.conf"]
    sections = [s.strip() for s in conf.split("[FILTER]")[1:]]
    grep, modifier = ({line.split()[0]: line for line in s.splitlines() if line} for s in sections)
    assert grep["Name"].split() == ["Name", "grep"]
    assert grep["Match"].split() == ["Match", "api-firelens-*"]
    # One rule: Fluent Bit splits "Exclude <field> <regex>" at the first space only
    # (src/flb_grep.c, flb_grep_set_rule_str: flb_utils_split(rule_str, ' ', 1)), so the
    # regex keeps its spaces.
    assert [line for line in conf.splitlines() if line.strip().startswith("Exclude")] == [
        "    Exclude log " + appkit.health_log_regex(CUSTOM)
    ]
    assert "ELB-HealthChecker" not in conf
    assert modifier["Name"].split() == ["Name", "record_modifier"]
    assert "Record  project shop" in conf
    assert "Record  environment prod" in conf
    assert "Record  container api" in conf
    assert "[OUTPUT]" not in conf.replace("[OUTPUT] that", "").replace("no [OUTPUT]", "")


# uvicorn's access-log lines as it prints them (AccessFormatter, no colours when not on a
# terminal); tests/test_webapp.py checks the same regex against a running uvicorn.
def _line(request_line: str, status: str = "200 OK", client: str = "10.20.1.5:41234") -> str:
    return f'INFO:     {client} - "{request_line}" {status}'


@pytest.mark.parametrize(
    ("path", "dropped", "kept"),
    [
        (
            "/status.json",
            ["GET /status.json HTTP/1.1", "GET /status.json?probe=1 HTTP/1.1"],
            ["GET /status.jsonx HTTP/1.1", "GET /statusXjson HTTP/1.1", "GET / HTTP/1.1"],
        ),
        (
            "/health",
            ["GET /health HTTP/1.1", "GET /health HTTP/1.0", "GET /health?a=1&b=%22 HTTP/1.1"],
            [
                "GET /healthz HTTP/1.1",
                "GET /admin?probe=ELB-HealthChecker HTTP/1.1",
                "GET /admin?x=/health HTTP/1.1",
                "GET /health/../admin HTTP/1.1",
                "POST /health HTTP/1.1",
                "HEAD /health HTTP/1.1",
                "GET /Health HTTP/1.1",
            ],
        ),
        # Characters uvicorn percent-encodes in the logged path (urllib.parse.quote).
        (
            "/ping;v=1:a@b",
            ["GET /ping%3Bv%3D1%3Aa%40b HTTP/1.1"],
            ["GET /ping HTTP/1.1", "GET /ping;v=1:a@b HTTP/1.1"],
        ),
    ],
)
def test_health_log_regex_drops_only_successful_health_checks(
    path: str, dropped: list[str], kept: list[str]
) -> None:
    regex = re.compile(appkit.health_log_regex(config.parse(f'[health_check]\npath = "{path}"')))
    for request_line in dropped:
        assert regex.search(_line(request_line)), request_line
        # ... but only when it succeeded: a failing health check stays in the log.
        assert not regex.search(_line(request_line, "503 Service Unavailable")), request_line
    for request_line in kept:
        assert not regex.search(_line(request_line)), request_line
    # Anchored at the start of the line: another line that merely contains one is kept.
    assert not regex.search("x " + _line(dropped[0]))


def test_generated_python_compiles_with_awkward_greetings() -> None:
    files = appkit.render(CUSTOM)
    for path, text in files.items():
        if path.endswith(".py"):
            compile(text, path, "exec")
    assert json.dumps(CUSTOM.app.greeting, ensure_ascii=False) in files["service/app/main.py"]


def _requirements(text: str) -> list[str]:
    """The requirement lines of a requirements file, continuation lines joined."""
    joined = text.replace("\\\n", " ")
    return [line for line in joined.splitlines() if line and not line.startswith(("#", "-r "))]


def test_requirements_are_pinned_with_hashes() -> None:
    """Every requirement is pinned and carries the sha256 of its files, so pip runs in
    hash-checking mode (the Dockerfile also passes --require-hashes), and in it every
    requirement needs a hash, those of requirements-dev.txt too."""
    files = appkit.render(DEFAULT)
    for name in ("webapp/requirements.txt", "webapp/requirements-dev.txt"):
        lines = _requirements(files[name])
        assert lines, name
        for line in lines:
            assert re.fullmatch(
                r"[a-z0-9-]+==[0-9][0-9a-z.]*( ; [^\\]+?)?( +--hash=sha256:[0-9a-f]{64})+", line
            ), line
    runtime = {line.split("==")[0] for line in _requirements(files["webapp/requirements.txt"])}
    assert {"fastapi", "uvicorn", "pydantic-core"} <= runtime
    dev = {line.split("==")[0] for line in _requirements(files["webapp/requirements-dev.txt"])}
    assert {"pytest", "httpx"} <= dev and not runtime & dev
    assert files["webapp/requirements-dev.txt"].count("-r requirements.txt\n") == 1


def test_readme_describes_the_release_flow() -> None:
    readme = appkit.render(CUSTOM)["README.md"]
    assert "shop-prod" in readme and "release/1.x" in readme and "port 9443" in readme
    assert "`bluegreen promote`" in readme
    # In the repository, `bluegreen rehearse` without a path plays a fresh scaffold.
    assert "bluegreen rehearse . " in readme


def test_templates_are_package_data() -> None:
    root = Path(appkit.__file__).parent / "files"
    templates = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert templates and all(t.endswith(".tmpl") for t in templates)
