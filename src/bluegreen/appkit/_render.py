"""The application repository's files as a pure function of the config.

``render(config)`` is exactly what ``bluegreen init`` writes and what ``bluegreen synth``
compares against; ``render_config(config)`` is the commented ``bluegreen.toml``. Every
value that differs between two systems (names, ports, log groups, the greeting) comes
from the config through :class:`~bluegreen.names.Names`; nothing account- or
region-specific is written, so the files can be committed once and deployed anywhere.
"""

from __future__ import annotations

import json
import re
import textwrap
import urllib.parse
from typing import Any

from pydantic import BaseModel

from bluegreen import names as names_mod
from bluegreen.appkit import _templates
from bluegreen.config import (
    BRANCH_BUILDSPEC,
    CONFIG_FILE,
    DEPLOYMENT_CONFIGS,
    FARGATE_SIZES,
    RETENTION_DAYS,
    Config,
)
from bluegreen.names import Names

# Base images, pinned to exact versions: the same commit must build the same image. Both
# come from ECR Public (the Python one is Docker's official image mirrored there), so
# CodeBuild's pulls are not throttled by Docker Hub's anonymous pull limits. The Fluent
# Bit version is the one the service stack's bootstrap task definition runs.
PYTHON_IMAGE = "public.ecr.aws/docker/library/python:3.12.11-slim-bookworm"
FLUENT_BIT_VERSION = "3.2.1"
FLUENT_BIT_IMAGE = f"public.ecr.aws/aws-observability/aws-for-fluent-bit:{FLUENT_BIT_VERSION}"

# Where the router image keeps extra.conf; the task definition's firelensConfiguration
# (config-file-type "file") points FireLens at it.
FIRELENS_CONFIG_PATH = "/fluent-bit/etc/extra.conf"

# Linux capabilities Docker (and so Fargate) gives a container by default: moby's
# oci/caps/defaults.go (github.com/moby/moby/blob/master/oci/caps/defaults.go).
DEFAULT_CAPABILITIES = (
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
)


def app_dropped_capabilities(config: Config) -> list[str]:
    """linuxParameters.capabilities.drop of the app container.

    The app needs no capability, except NET_BIND_SERVICE to listen on a port below 1024
    (the image gives it to python3 as a file capability, which works only while the
    capability stays in the container's bounding set). Fargate lets a task definition
    drop any capability but add only SYS_PTRACE (ECS API reference, KernelCapabilities:
    "Tasks launched on Fargate only support adding the SYS_PTRACE kernel capability"), so
    "drop ALL, add NET_BIND_SERVICE" is not possible: for a low port every other default
    capability is dropped by name; for a high port, all of them.
    """
    if config.app.port < 1024:
        return [cap for cap in DEFAULT_CAPABILITIES if cap != "NET_BIND_SERVICE"]
    return ["ALL"]


def health_log_regex(config: Config) -> str:
    """Fluent Bit (Onigmo) regex matching uvicorn's access-log line of a successful health
    check, and nothing else.

    uvicorn logs ``INFO:     <client> - "GET <path>[?<query>] HTTP/1.1" 200 OK``
    (uvicorn/logging.py AccessFormatter; uvicorn/protocols/utils.py writes the path
    percent-encoded with urllib.parse.quote). The pattern is anchored at the start of the
    line and requires exactly the health path, so no other request can match it: the
    logged path cannot hold a space, '?' or '"', and h11 refuses spaces in the request
    target.
    """
    logged_path = urllib.parse.quote(config.health_check.path)
    return r'^INFO:\s+\S+ - "GET ' + _regex(logged_path) + r'(\?[^ ]*)? HTTP/1\.[01]" 200 OK$'


# Memory (MiB) the log router reserves (AWS suggests at least 50 for FireLens); the app
# reserves the rest of the task's memory. Same split as the bootstrap task definition.
ROUTER_MEMORY_RESERVATION = 64


def app_log_stream_prefix(config: Config) -> str:
    """Prefix of the app's log streams; Fluent Bit appends the tag, giving
    "<app>/<app>-firelens-<task id>" (as in the bootstrap task definition)."""
    return f"{config.app.name}/"


def router_log_stream_prefix(config: Config) -> str:
    """awslogs prefix of the router's own streams: "<router>/<router>/<task id>"."""
    return config.router.name


# (template under files/, path in the repository); "{app}" and "{router}" stand for
# app.directory and router.directory. bluegreen.toml comes from render_config().
_MANIFEST: tuple[tuple[str, str], ...] = (
    ("README.md", "README.md"),
    ("gitignore", ".gitignore"),
    ("appspec.yml", "appspec.yml"),
    ("buildspec-branch.yml", BRANCH_BUILDSPEC),
    ("taskdef.json", "taskdef.json"),
    ("webapp/Dockerfile", "{app}/Dockerfile"),
    ("webapp/dockerignore", "{app}/.dockerignore"),
    ("webapp/buildspec.yml", "{app}/buildspec.yml"),
    ("webapp/requirements.txt", "{app}/requirements.txt"),
    ("webapp/requirements-dev.txt", "{app}/requirements-dev.txt"),
    ("webapp/pytest.ini", "{app}/pytest.ini"),
    ("webapp/app/__init__.py", "{app}/app/__init__.py"),
    ("webapp/app/__main__.py", "{app}/app/__main__.py"),
    ("webapp/app/main.py", "{app}/app/main.py"),
    ("webapp/app/healthcheck.py", "{app}/app/healthcheck.py"),
    ("webapp/tests/__init__.py", "{app}/tests/__init__.py"),
    ("webapp/tests/test_main.py", "{app}/tests/test_main.py"),
    ("firelens/Dockerfile", "{router}/Dockerfile"),
    ("firelens/extra.conf", "{router}/extra.conf"),
    ("firelens/buildspec.yml", "{router}/buildspec.yml"),
)


class RepositoryPaths:
    """Repository-relative paths of the files the pipeline reads, for one config."""

    def __init__(self, config: Config) -> None:
        app, router = config.app.directory, config.router.directory
        self.config = CONFIG_FILE
        self.appspec = "appspec.yml"
        self.taskdef = "taskdef.json"
        self.app_dockerfile = f"{app}/Dockerfile"
        self.app_buildspec = f"{app}/buildspec.yml"
        self.router_dockerfile = f"{router}/Dockerfile"
        self.router_buildspec = f"{router}/buildspec.yml"
        self.router_config = f"{router}/extra.conf"
        # CodeDeploy reads an AppSpec; ECS built-in blue/green has none (the deploy step
        # registers taskdef.json and updates the service).
        self.uses_appspec = uses_appspec(config)

    def required(self) -> tuple[str, ...]:
        """Files without which a release cannot build or deploy."""
        return (
            *((self.appspec,) if self.uses_appspec else ()),
            self.taskdef,
            self.app_dockerfile,
            self.app_buildspec,
            self.router_dockerfile,
            self.router_config,
            self.router_buildspec,
        )


def memory_reservations(config: Config) -> tuple[int, int]:
    """(app, router) memoryReservation in MiB: the router a fixed slice, the app the rest."""
    return config.task.memory - ROUTER_MEMORY_RESERVATION, ROUTER_MEMORY_RESERVATION


def uses_appspec(config: Config) -> bool:
    """Whether the repository holds appspec.yml: only the CodeDeploy engine reads one."""
    return config.deployment.engine == "codedeploy"


def render(config: Config) -> dict[str, str]:
    """Repository-relative path -> file text, sorted by path: exactly what init writes."""
    values = _values(config)
    files = {CONFIG_FILE: render_config(config)}
    for template, target in _MANIFEST:
        if target == "appspec.yml" and not uses_appspec(config):
            continue
        path = target.format(app=config.app.directory, router=config.router.directory)
        files[path] = _templates.fill(_templates.load(template), values, template)
    return dict(sorted(files.items()))


def render_config(config: Config) -> str:
    """A bluegreen.toml documenting every key, holding ``config``'s values.

    ``config.parse(render_config(c)) == c`` for every valid ``c``: each key is written
    explicitly (never left to its default), so the file also shows what is in force.
    """
    values = {key: _toml(value) for key, value in _flat(config).items()}
    values.update(
        fargate_cpus=", ".join(str(cpu) for cpu in FARGATE_SIZES),
        fargate_memory_table="\n".join(
            f"#   cpu {cpu:>5}: {_sizes(memory)}" for cpu, memory in FARGATE_SIZES.items()
        ),
        deployment_configs="\n".join(f"#   {name}" for name in DEPLOYMENT_CONFIGS),
        # With reroute = "auto" the wait does not apply (config rejects it): show it unset.
        deployment_wait_minutes_comment="# " if config.deployment.reroute == "auto" else "",
    )
    # Only the chosen engine's settings are written: the other engine's are refused
    # (config: "settings that belong to one engine are refused under the other"), and so
    # are the other strategies' keys.
    strategy = {"LINEAR": "deployment/linear.toml", "CANARY": "deployment/canary.toml"}.get(
        config.deployment.ecs.strategy
    )
    values["deployment_ecs_strategy_keys"] = (
        _templates.fill(_templates.load(strategy), values, strategy) if strategy else ""
    )
    ecs = config.deployment.engine == "ecs"
    values.update(
        verify_keep_window="bake (deployment.ecs.bake_minutes)"
        if ecs
        else "termination wait (deployment.termination_wait_minutes)",
        verify_engine_keys=(
            "# When the checks outlast one run of the hook, ECS runs it again after this many\n"
            "# seconds (its callBackDelay, 1 to 900).\n"
            f"callback_seconds = {values['verify_callback_seconds']}\n"
        )
        if ecs
        else "",
        verify_alarms_engine_keys=""
        if ecs
        else (
            "# true: a release goes on when CloudWatch cannot be asked for the alarms' state\n"
            "# (CodeDeploy's IgnorePollAlarmFailure); false: it stops. A CodeDeploy setting,\n"
            '# written commented while no alarm is watched (deployment.engine = "ecs"\n'
            "# refuses it).\n"
            + ("# " if _unwatched(config) else "")
            + f"ignore_poll_failure = {values['verify_alarms_ignore_poll_failure']}\n"
        ),
    )
    section = f"deployment/{config.deployment.engine}.toml"
    values.update(
        deployment_section=_templates.fill(_templates.load(section), values, section),
        retention_days="\n".join(
            textwrap.wrap(
                ", ".join(map(str, RETENTION_DAYS)),
                width=88,
                initial_indent="#   ",
                subsequent_indent="#   ",
            )
        ),
    )
    return _templates.fill(_templates.load(CONFIG_FILE), values, CONFIG_FILE)


def _unwatched(config: Config) -> bool:
    """Whether verify.alarms.ignore_poll_failure is left at its default with no alarm to
    watch: then it is meaningless, and written commented so that switching the engine to
    "ecs" (which refuses it) needs no edit of it."""
    alarms = config.verify.alarms
    return alarms.count() == 0 and not alarms.ignore_poll_failure


def _values(config: Config) -> dict[str, str]:
    """Every placeholder value of the repository templates, already escaped for its use."""
    names = Names.of(config)
    app_memory, router_memory = memory_reservations(config)
    ecs = config.deployment.engine == "ecs"
    keep_minutes = (
        config.deployment.ecs.bake_minutes if ecs else config.deployment.termination_wait_minutes
    )
    port_block = ""
    if config.app.port < 1024:
        port_block = _templates.fill(
            _templates.load("webapp/low_port"), {"app_port": str(config.app.port)}
        )
    return {
        **build_values(config),
        # plain text (Markdown, Dockerfile, YAML scalars that need no quoting)
        "project_name": config.project.name,
        "project_environment": config.project.environment,
        "app_name": config.app.name,
        "app_directory": config.app.directory,
        "app_port": str(config.app.port),
        "router_name": config.router.name,
        "router_directory": config.router.directory,
        "health_path": config.health_check.path,
        "source_branch": config.source.branch,
        "codecommit_repository": names.codecommit_repository,
        "production_port": str(config.listeners.production_port),
        "test_port": str(config.listeners.test_port),
        "wait_minutes": str(config.deployment.wait_minutes),
        "termination_wait_minutes": str(keep_minutes),
        "reroute_text": (
            "Production traffic moves as soon as the green tasks are ready (reroute = auto)"
            if config.deployment.reroute == "auto"
            else "Production traffic moves on `bluegreen promote`; if nobody promotes within "
            f"{config.deployment.wait_minutes} minutes the release is "
            + ("rolled back" if ecs else "stopped")
            + " and blue keeps serving"
        ),
        "engine_text": "Amazon ECS (built-in blue/green)" if ecs else "CodeDeploy",
        "deployer": "The pipeline's Deploy step" if ecs else "CodeDeploy",
        "appspec_row": (
            ""
            if ecs
            else "\n| `appspec.yml` | CodeDeploy's AppSpec: which container and port the load "
            "balancer sends traffic to. |"
        ),
        "appspec_artifact": "" if ecs else "\n    - appspec.yml",
        "appspec_hooks": _appspec_hooks(config),
        "placeholder_owner": "the Deploy step" if ecs else "CodeDeploy",
        "app_log_group": names.app_log_group,
        "python_image": PYTHON_IMAGE,
        "fluent_bit_image": FLUENT_BIT_IMAGE,
        "firelens_config_path": FIRELENS_CONFIG_PATH,
        "low_port_block": port_block,
        "task_definition_placeholder": names_mod.TASK_DEFINITION_PLACEHOLDER,
        "task_role_placeholder": names_mod.TASK_ROLE_PLACEHOLDER,
        "execution_role_placeholder": names_mod.EXECUTION_ROLE_PLACEHOLDER,
        "region_placeholder": names_mod.REGION_PLACEHOLDER,
        # Python string literals (JSON strings are valid Python literals)
        "greeting_literal": _json(config.app.greeting),
        "health_path_literal": _json(config.health_check.path),
        "app_name_literal": _json(config.app.name),
        # a regular expression (Fluent Bit's grep filter): a successful health check's
        # access-log line
        "health_log_regex": health_log_regex(config),
        # JSON values for taskdef.json
        "task_family_json": _json(names.task_family),
        "task_cpu_json": _json(str(config.task.cpu)),
        "task_memory_json": _json(str(config.task.memory)),
        "task_role_placeholder_json": _json(names_mod.TASK_ROLE_PLACEHOLDER),
        "execution_role_placeholder_json": _json(names_mod.EXECUTION_ROLE_PLACEHOLDER),
        "region_placeholder_json": _json(names_mod.REGION_PLACEHOLDER),
        "app_name_json": _json(config.app.name),
        "router_name_json": _json(config.router.name),
        "app_image_placeholder_json": _json(f"<{names_mod.APP_IMAGE_PLACEHOLDER}>"),
        "router_image_placeholder_json": _json(f"<{names_mod.ROUTER_IMAGE_PLACEHOLDER}>"),
        "app_memory_reservation": str(app_memory),
        "app_capabilities_drop_json": json.dumps(app_dropped_capabilities(config)),
        "vpc_cidr_json": _json(config.network.vpc_cidr),
        "router_memory_reservation": str(router_memory),
        "app_log_group_json": _json(names.app_log_group),
        "router_log_group_json": _json(names.router_log_group),
        "app_log_stream_prefix_json": _json(app_log_stream_prefix(config)),
        "router_log_stream_prefix_json": _json(router_log_stream_prefix(config)),
        "firelens_config_path_json": _json(FIRELENS_CONFIG_PATH),
    }


def _appspec_hooks(config: Config) -> str:
    """appspec.yml's Hooks: bluegreen's verify hook after test traffic, when [verify] has
    checks (AppSpec 'hooks' section for an Amazon ECS deployment: "AfterAllowTestTraffic
    - Use to run tasks after the test listener serves traffic to the replacement task
    set"; the value is the Lambda function's name)."""
    from bluegreen.stacks.verification import (
        CODEDEPLOY_HOOK_EVENT,
        has_hook,
        hook_function_name,
    )

    if not has_hook(config):
        return ""
    name = hook_function_name(Names.of(config))
    return (
        "# bluegreen's checks of [verify] in bluegreen.toml, run once the test listener\n"
        "# serves the new revision; a failure rolls the release back.\n"
        f'Hooks:\n  - {CODEDEPLOY_HOOK_EVENT}: "{name}"\n'
    )


def _flat(section: BaseModel, prefix: str = "") -> dict[str, Any]:
    """``config.deployment.ecs.strategy`` -> ``{"deployment_ecs_strategy": ...}``: one
    entry per setting; a sub-section is walked, a setting whose value is a table (such as
    ``rehearse.hooks``) is one entry."""
    flat: dict[str, Any] = {}
    for name in type(section).model_fields:
        value = getattr(section, name)
        if isinstance(value, BaseModel):
            flat.update(_flat(value, f"{prefix}{name}_"))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def docker_build_options(config: Config, directory: str) -> str:
    """docker build's options for the image of ``directory`` besides its tag and context:
    its Dockerfile, and each ``builds.shared`` directory as a named build context
    (``COPY --from=<name>``; Docker CLI reference, "docker buildx build",
    --build-context). Directory names are shell words (config._DIRECTORY)."""
    options = [f"--file {directory}/Dockerfile"]
    options += [f"--build-context {shared}={shared}" for shared in config.builds.shared]
    return " ".join(options)


def build_values(config: Config) -> dict[str, str]:
    """The buildspecs' placeholders for selective builds (the image tag's inputs)."""
    shared = config.builds.shared

    def inputs(directory: str) -> str:
        return ", ".join(f"{d}/" for d in (directory, *shared))

    return {
        "app_docker_build_options": docker_build_options(config, config.app.directory),
        "router_docker_build_options": docker_build_options(config, config.router.directory),
        "app_build_inputs": inputs(config.app.directory),
        "router_build_inputs": inputs(config.router.directory),
        "shared_words": "".join(f"{d} " for d in shared),
        "branch_patterns": ", ".join(config.builds.branches) or "none: builds.branches is []",
    }


def _json(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _toml(value: Any) -> str:
    """A TOML literal for a config value (JSON strings are valid TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # 10.0, 0.1: TOML floats
    if isinstance(value, str):
        # JSON leaves DEL (U+007F) raw, which TOML forbids in strings; escape it.
        return _json(value).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        if value and all(isinstance(item, BaseModel) for item in value):
            # one table a line (a TOML array may span lines; an inline table may not)
            return "[\n" + "".join(f"  {_toml(item)},\n" for item in value) + "]"
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, BaseModel):  # a table in a list, such as one of verify.checks
        # A check's empty body or body_pattern ("" checks nothing) is left out: a check
        # sets one of them, and writing the other as "" would make a user who fills it in
        # (init's comment: "add ... body") set both, which config refuses.
        fields = {
            key: item
            for key, item in value.model_dump().items()
            if not (key in ("body", "body_pattern") and item == "")
        }
        return "{ " + ", ".join(f"{key} = {_toml(item)}" for key, item in fields.items()) + " }"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_toml(str(k))} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


_REGEX_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")


def _regex(text: str) -> str:
    """``text`` as a regular expression that matches it literally (Onigmo syntax)."""
    return _REGEX_SPECIAL.sub(r"\\\1", text)


def _sizes(values: tuple[int, ...]) -> str:
    if len(values) <= 4:
        return ", ".join(map(str, values))
    return f"{values[0]} to {values[-1]} in steps of {values[1] - values[0]}"
