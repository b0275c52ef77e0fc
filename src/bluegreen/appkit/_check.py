"""Problems in an application repository, found offline (``bluegreen verify``).

Every check targets a failure that would otherwise surface late and far away: a build
that fails in CodeBuild, a deployment CodeDeploy rejects, a task that never gets
healthy, or a taskdef.json that only works in one account. Each problem names the file
and says how to fix it. The checks read the files; they never run them.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from bluegreen import names as names_mod
from bluegreen.appkit._render import FIRELENS_CONFIG_PATH, RepositoryPaths
from bluegreen.appkit._taskdef import SUBSTITUTIONS
from bluegreen.config import Config
from bluegreen.names import Names

_ACCOUNT_ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_ARN = re.compile(r"arn:aws[a-z-]*:[^\"\s]*")
_APP_IMAGE = f"<{names_mod.APP_IMAGE_PLACEHOLDER}>"
_ROUTER_IMAGE = f"<{names_mod.ROUTER_IMAGE_PLACEHOLDER}>"
_REFERENCE = (
    "(`bluegreen init . --restore` writes the missing files from bluegreen.toml, "
    "leaving every existing file as it is)"
)


def check(repo_dir: Path, config: Config) -> list[str]:
    """Every problem found in the application repository at ``repo_dir``; [] when none."""
    paths = RepositoryPaths(config)
    texts: dict[str, str] = {}
    problems: list[str] = []
    for rel in paths.required():
        file = repo_dir / rel
        if not file.is_file():
            problems.append(f"{rel}: missing; the pipeline needs it {_REFERENCE}")
            continue
        try:
            texts[rel] = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(f"{rel}: not UTF-8 text; save it as UTF-8")
    taskdef: dict[str, Any] | None = None
    if paths.taskdef in texts:
        taskdef, found = _check_taskdef(texts[paths.taskdef], config)
        problems += [f"{paths.taskdef}: {p}" for p in found]
    if paths.appspec in texts:
        problems += [f"{paths.appspec}: {p}" for p in _check_appspec(texts[paths.appspec], config)]
    if paths.app_buildspec in texts:
        found = _check_buildspec(texts[paths.app_buildspec], config.app.directory, app=True)
        problems += [f"{paths.app_buildspec}: {p}" for p in found]
    if paths.router_buildspec in texts:
        found = _check_buildspec(texts[paths.router_buildspec], config.router.directory, app=False)
        problems += [f"{paths.router_buildspec}: {p}" for p in found]
    if paths.app_dockerfile in texts:
        found = _check_app_dockerfile(texts[paths.app_dockerfile], config)
        problems += [f"{paths.app_dockerfile}: {p}" for p in found]
    if paths.router_dockerfile in texts:
        config_path = _firelens_config_path(taskdef, config) or FIRELENS_CONFIG_PATH
        found = _check_router_dockerfile(texts[paths.router_dockerfile], config_path)
        problems += [f"{paths.router_dockerfile}: {p}" for p in found]
    if paths.router_config in texts:
        found = _check_router_config(texts[paths.router_config], taskdef, config)
        problems += [f"{paths.router_config}: {p}" for p in found]
    return problems


# --- taskdef.json ---------------------------------------------------------------------


def _check_taskdef(text: str, config: Config) -> tuple[dict[str, Any] | None, list[str]]:
    problems: list[str] = []
    for account in sorted(set(_ACCOUNT_ID.findall(text))):
        problems.append(
            f"contains the 12-digit account ID {account}; write the placeholders "
            f"{names_mod.TASK_ROLE_PLACEHOLDER} and {names_mod.EXECUTION_ROLE_PLACEHOLDER} "
            "instead of role ARNs, so the file works in every account"
        )
    for arn in sorted(set(_ARN.findall(text))):
        problems.append(
            f"contains the environment-specific ARN {arn}; use a placeholder the build fills "
            f"in ({names_mod.TASK_ROLE_PLACEHOLDER}, {names_mod.EXECUTION_ROLE_PLACEHOLDER})"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; fix the syntax"
        )
        return None, problems
    if not isinstance(data, dict):
        problems.append("must be a JSON object (a task definition); it is not")
        return None, problems
    names = Names.of(config)
    expected: tuple[tuple[str, object, str], ...] = (
        ("family", names.task_family, "the service's task family"),
        ("networkMode", "awsvpc", "Fargate requires it"),
        ("cpu", str(config.task.cpu), "task.cpu in bluegreen.toml"),
        ("memory", str(config.task.memory), "task.memory in bluegreen.toml"),
        ("taskRoleArn", names_mod.TASK_ROLE_PLACEHOLDER, "the app build fills it in"),
        ("executionRoleArn", names_mod.EXECUTION_ROLE_PLACEHOLDER, "the app build fills it in"),
    )
    for key, want, why in expected:
        got = data.get(key)
        if key in ("cpu", "memory") and isinstance(got, int):
            got = str(got)
        if got != want:
            problems.append(f'"{key}" is {json.dumps(got)}; set it to {json.dumps(want)} ({why})')
    if "FARGATE" not in (data.get("requiresCompatibilities") or []):
        problems.append('"requiresCompatibilities" must include "FARGATE"; add it')
    containers = data.get("containerDefinitions")
    if not isinstance(containers, list) or not all(isinstance(c, dict) for c in containers):
        problems.append('"containerDefinitions" must be a list of container objects')
        return data, problems
    listed = [str(c.get("name")) for c in containers]
    for name in sorted({n for n in listed if listed.count(n) > 1}):
        problems.append(
            f"container name {name!r} appears {listed.count(name)} times; every container "
            "of a task needs its own name"
        )
    by_name = {str(c.get("name")): c for c in containers}
    wanted = {config.app.name: "app.name", config.router.name: "router.name"}
    for name in by_name:
        if name not in wanted:
            problems.append(
                f"container {name!r} is neither app.name ({config.app.name!r}) nor router.name "
                f"({config.router.name!r}) from bluegreen.toml; rename it or change the config"
            )
    for name, key in wanted.items():
        if name not in by_name:
            problems.append(
                f"no container named {name!r} ({key} in bluegreen.toml); the container "
                "names must match the config"
            )
    app = by_name.get(config.app.name)
    router = by_name.get(config.router.name)
    if app is not None:
        problems += _check_image(app, _APP_IMAGE, "app")
        ports = [
            m.get("containerPort") for m in app.get("portMappings") or [] if isinstance(m, dict)
        ]
        if config.app.port not in ports:
            problems.append(
                f"container {config.app.name!r} maps no containerPort {config.app.port} "
                "(app.port); add it to portMappings, the load balancer sends traffic there"
            )
        log = app.get("logConfiguration") or {}
        if log.get("logDriver") != "awsfirelens":
            problems.append(
                f"container {config.app.name!r} logs with {json.dumps(log.get('logDriver'))}; "
                'use "awsfirelens" so its logs go through the log router'
            )
        problems += _check_region(app, config.app.name, "region")
        problems += _check_forwarded(app, config)
    if router is not None:
        problems += _check_image(router, _ROUTER_IMAGE, "router")
        firelens = router.get("firelensConfiguration") or {}
        if firelens.get("type") != "fluentbit":
            problems.append(
                f'container {config.router.name!r} needs "firelensConfiguration" with '
                '"type": "fluentbit" to be the log router'
            )
        options = firelens.get("options") or {}
        if options.get("config-file-type") != "file" or not options.get("config-file-value"):
            problems.append(
                f"container {config.router.name!r}: firelensConfiguration options need "
                f'"config-file-type": "file" and "config-file-value": "{FIRELENS_CONFIG_PATH}" '
                "so FireLens reads the extra.conf baked into the image"
            )
        problems += _check_region(router, config.router.name, "awslogs-region")
    return data, problems


def _check_image(container: dict[str, Any], placeholder: str, which: str) -> list[str]:
    image = container.get("image")
    if image == placeholder:
        return []
    other = _ROUTER_IMAGE if placeholder == _APP_IMAGE else _APP_IMAGE
    if image == other:
        why = f"{other} is the other build's image; the placeholders are swapped"
    else:
        why = "CodeDeploy writes the image just built over the placeholder"
    return [
        f"container {container.get('name')!r} has image {json.dumps(image)}; the {which} "
        f'container\'s image must be "{placeholder}" ({why})'
    ]


def _check_forwarded(app: dict[str, Any], config: Config) -> list[str]:
    """FORWARDED_ALLOW_IPS, when set, is the VPC's range: the app trusts X-Forwarded-For
    only from there, where the load balancer is."""
    values = [
        e.get("value")
        for e in app.get("environment") or []
        if isinstance(e, dict) and e.get("name") == "FORWARDED_ALLOW_IPS"
    ]
    wanted = config.network.vpc_cidr
    return [
        f"container {config.app.name!r} sets FORWARDED_ALLOW_IPS to {json.dumps(value)}; set "
        f'it to "{wanted}" (network.vpc_cidr in bluegreen.toml): the app believes '
        "X-Forwarded-For only from the load balancer, which is in the VPC; any wider range "
        "lets a client choose the address written to the access log"
        for value in values
        if value != wanted
    ]


def _check_region(container: dict[str, Any], name: str, key: str) -> list[str]:
    options = (container.get("logConfiguration") or {}).get("options") or {}
    region = options.get(key)
    if region is None or region == names_mod.REGION_PLACEHOLDER:
        return []
    return [
        f"container {name!r} has the fixed {key} {json.dumps(region)}; write "
        f'"{names_mod.REGION_PLACEHOLDER}" (the app build fills in the region)'
    ]


def _firelens_config_path(taskdef: dict[str, Any] | None, config: Config) -> str | None:
    if taskdef is None:
        return None
    for container in taskdef.get("containerDefinitions") or []:
        if isinstance(container, dict) and container.get("name") == config.router.name:
            options = (container.get("firelensConfiguration") or {}).get("options") or {}
            value = options.get("config-file-value")
            return value if isinstance(value, str) and value else None
    return None


# --- appspec.yml ----------------------------------------------------------------------


def _load_spec(
    text: str, contents: str, version: str, fix: str
) -> tuple[dict[str, Any] | None, list[str]]:
    """An appspec or buildspec: a YAML mapping with ``contents``, of ``version`` (``fix``
    says how to set it). None when it is no mapping at all, with the problems either way."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return None, [f"not valid YAML ({_yaml_where(exc)}); fix the syntax"]
    if not isinstance(data, dict):
        return None, [f"must be a YAML mapping with {contents}"]
    if str(data.get("version")) != version:
        return data, [f"version is {data.get('version')!r}; {fix}"]
    return data, []


def _check_appspec(text: str, config: Config) -> list[str]:
    data, problems = _load_spec(
        text, "version and Resources", "0.0", "CodeDeploy requires version: 0.0"
    )
    if data is None:
        return problems
    resources = data.get("Resources")
    targets = (
        [
            r["TargetService"]
            for r in resources or []
            if isinstance(r, dict) and isinstance(r.get("TargetService"), dict)
        ]
        if isinstance(resources, list)
        else []
    )
    if not targets:
        return [*problems, "has no Resources entry with a TargetService; add one"]
    target = targets[0]
    if target.get("Type") != "AWS::ECS::Service":
        problems.append(f"TargetService Type is {target.get('Type')!r}; set AWS::ECS::Service")
    props = _mapping(target.get("Properties"))
    if props.get("TaskDefinition") != names_mod.TASK_DEFINITION_PLACEHOLDER:
        problems.append(
            f"TaskDefinition is {props.get('TaskDefinition')!r}; write "
            f'"{names_mod.TASK_DEFINITION_PLACEHOLDER}" (the Deploy action fills in the new '
            "revision)"
        )
    lb = _mapping(props.get("LoadBalancerInfo"))
    if lb.get("ContainerName") != config.app.name:
        problems.append(
            f"LoadBalancerInfo ContainerName is {lb.get('ContainerName')!r}; set "
            f'"{config.app.name}" (app.name in bluegreen.toml)'
        )
    port = lb.get("ContainerPort")
    if str(port) != str(config.app.port):
        problems.append(
            f"LoadBalancerInfo ContainerPort is {port!r}; set {config.app.port} "
            "(app.port in bluegreen.toml)"
        )
    return problems + _hook_problems(data, config)


def hook_problems(repo_dir: Path, config: Config) -> list[str]:
    """The repository's appspec.yml and [verify] checks it would never run (see
    :func:`_hook_problems`), each naming the file; [] when it runs them, when there is no
    appspec.yml to read (its absence is :func:`check`'s problem) or no checks."""
    paths = RepositoryPaths(config)
    file = repo_dir / paths.appspec
    if not paths.uses_appspec or not file.is_file():
        return []
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return []  # check() names it
    if not isinstance(data, dict):
        return []
    return [f"{paths.appspec}: {p}" for p in _hook_problems(data, config)]


def _hook_problems(data: dict[str, Any], config: Config) -> list[str]:
    """[verify] checks that would never run: CodeDeploy invokes only the Lambda functions
    the revision's AppSpec names under Hooks ("AfterAllowTestTraffic - Use to run tasks
    after the test listener serves traffic to the replacement task set": CodeDeploy User
    Guide, "AppSpec 'hooks' section for an Amazon ECS deployment"), and only ``init``
    writes that entry. Problems naming the lines to add; [] when the checks run (or there
    are none). "An AWS Lambda hook is one Lambda function" per lifecycle event (same
    page), so a function of the user's own there is replaced, not joined. The ECS engine
    reads no AppSpec: its hook is in the service. The opposite too: Hooks naming the
    verify function while there are no checks (so no function) fail every release."""
    from bluegreen.stacks.verification import (
        CODEDEPLOY_HOOK_EVENT,
        has_hook,
        hook_function_name,
    )

    if config.deployment.engine != "codedeploy":
        return []
    name = hook_function_name(Names.of(config))
    hooks = data.get("Hooks")
    entries = hooks if isinstance(hooks, list) else []

    # The value is the function's name or its ARN (the CodeDeploy tutorial "Step 4: Update
    # your AppSpec file" writes arn:aws:lambda:...:function:<name>).
    def is_ours(value: object) -> bool:
        return str(value) == name or str(value).endswith(f":function:{name}")

    ours = [
        str(event)
        for entry in entries
        if isinstance(entry, dict)
        for event, value in entry.items()
        if is_ours(value)
    ]
    entry = f'  - {CODEDEPLOY_HOOK_EVENT}: "{name}"'
    if not has_hook(config):
        if not ours:
            return []
        # The stacks create the function only with checks (stacks/verification.py); a
        # hook naming a missing function fails every deployment: Invoke answers
        # ResourceNotFoundException "Function not found" (Lambda API reference, Invoke).
        lines = "\n".join(f'      - {event}: "{name}"' for event in ours)
        return [
            f"its Hooks name bluegreen's verify function {name}, but bluegreen.toml has no "
            "[verify] checks, so the stacks do not create that function and CodeDeploy would "
            "fail every release (Function not found); remove from Hooks the "
            + ("lines" if len(ours) > 1 else "line")
            + f"\n{lines}\n    (and the Hooks: line if nothing is left under it), or add "
            '[verify] checks, such as checks = [{ path = "/", status = 200 }]'
        ]
    named = [
        str(entry.get(CODEDEPLOY_HOOK_EVENT))
        for entry in entries
        if isinstance(entry, dict) and CODEDEPLOY_HOOK_EVENT in entry
    ]
    if any(is_ours(value) for value in named):
        return []
    count = len(config.verify.checks)
    them = "them" if count != 1 else "it"
    checks = f"bluegreen.toml has {count} [verify] check{'s' if count != 1 else ''}"
    if ours:
        # Named, but under another event: CodeDeploy would run it before the test
        # listener serves the replacement task set (same page: the events' order).
        return [
            f"{checks}, but its Hooks name the verify function {name} under "
            f"{', '.join(ours)}, where the test listener does not serve the new release yet; "
            f"move it to {CODEDEPLOY_HOOK_EVENT} with the line\n      {entry}\n"
            "    (or remove [verify] checks)"
        ]
    why = (
        f"{checks}, but its Hooks do not name the verify function {name}, so CodeDeploy "
        f"never runs {them}"
    )
    if named:
        return [
            f"{why} ({CODEDEPLOY_HOOK_EVENT} names {', '.join(named)}); replace that entry "
            f"with the line\n      {entry}\n    (or remove [verify] checks)"
        ]
    if entries:
        return [f"{why}; add under Hooks: the line\n      {entry}\n    (or remove [verify] checks)"]
    return [
        f"{why}; add at the end of appspec.yml the lines\n      Hooks:\n      {entry}\n"
        "    (or remove [verify] checks)"
    ]


# --- buildspec.yml --------------------------------------------------------------------


def _check_buildspec(text: str, directory: str, app: bool) -> list[str]:
    data, problems = _load_spec(text, "version, phases and artifacts", "0.2", "write version: 0.2")
    if data is None:
        return problems
    commands = list(_commands(data.get("phases")))
    artifacts = _mapping(data.get("artifacts"))
    files = artifacts.get("files")
    outputs = [files] if isinstance(files, str) else [str(f) for f in files or []]
    if not any("imageDetail.json" in c and ">" in c for c in commands):
        problems.append(
            "no command writes imageDetail.json; the Deploy action reads the image URI from it "
            '(printf \'{"ImageURI":"%s"}\' "$IMAGE_REPOSITORY_URI:$IMAGE_TAG" > '
            "imageDetail.json)"
        )
    if "imageDetail.json" not in outputs:
        problems.append("artifacts files must list imageDetail.json; add it")
    builds = [c for c in commands if "docker build" in c]
    if not builds:
        problems.append(f"no `docker build` command; build the image from {directory}/")
    elif not any(_builds_directory(c, directory) for c in builds):
        problems.append(
            f"`docker build` does not build {directory}/ (the directory in bluegreen.toml); "
            f"the build runs from the repository root, so pass {directory} as the context"
        )
    if app:
        for _, placeholder in SUBSTITUTIONS:
            if not any(placeholder in c for c in commands):
                problems.append(
                    f"no command replaces {placeholder} in taskdef.json; the deployed task "
                    "definition would keep the placeholder (see bluegreen.appkit.render_taskdef)"
                )
        if "taskdef.json" not in outputs:
            problems.append("artifacts files must list taskdef.json (the rendered one); add it")
    return problems


def _commands(phases: Any) -> Iterator[str]:
    if not isinstance(phases, dict):
        return
    for phase in phases.values():
        if isinstance(phase, dict):
            for key in ("commands", "finally"):
                for command in phase.get(key) or []:
                    if isinstance(command, str):
                        yield command


def _builds_directory(command: str, directory: str) -> bool:
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    cleaned = {w.rstrip("/;").removeprefix("./") for w in words}
    return directory in cleaned


def _mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping, else an empty one: a malformed file reads as empty."""
    return value if isinstance(value, dict) else {}


def _yaml_where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "syntax error"
    if mark is None:
        return str(problem)
    return f"{problem} at line {mark.line + 1} column {mark.column + 1}"


# --- Dockerfiles ----------------------------------------------------------------------


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line:
            head, _, rest = line.partition(" ")
            result.append((head.upper(), rest.strip()))
    if pending.strip():
        head, _, rest = pending.strip().partition(" ")
        result.append((head.upper(), rest.strip()))
    return result


def _check_base_images(instructions: list[tuple[str, str]]) -> list[str]:
    stages: set[str] = set()
    problems: list[str] = []
    froms = [args for op, args in instructions if op == "FROM"]
    if not froms:
        return ["has no FROM instruction; start from a pinned base image"]
    for args in froms:
        words = [w for w in args.split() if not w.startswith("--")]
        if not words:
            problems.append("has an empty FROM instruction")
            continue
        image = words[0]
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())
        if image.lower() in stages or image == "scratch" or "$" in image:
            continue
        if "@sha256:" in image:
            continue
        name = image.rsplit("/", 1)[-1]
        tag = name.split(":", 1)[1] if ":" in name else None
        if tag is None:
            problems.append(
                f"base image {image!r} has no tag, which means :latest; pin an exact version "
                "(such as python:3.12.11-slim-bookworm) so every build uses the same base"
            )
        elif tag == "latest":
            problems.append(
                f"base image {image!r} is not pinned; replace :latest with an exact version "
                "so every build uses the same base"
            )
    return problems


def _check_app_dockerfile(text: str, config: Config) -> list[str]:
    instructions = _instructions(text)
    problems = _check_base_images(instructions)
    final = _final_stage(instructions)
    exposed = {word.split("/")[0] for op, args in final if op == "EXPOSE" for word in args.split()}
    if exposed and str(config.app.port) not in exposed:
        problems.append(
            f"EXPOSE lists {', '.join(sorted(exposed))} but not {config.app.port} (app.port "
            "in bluegreen.toml); the app must listen where the load balancer sends traffic"
        )
    users = [args.split(":")[0] for op, args in final if op == "USER"]
    if not users or users[-1] in ("root", "0"):
        problems.append(
            "the app runs as root; add a USER instruction with an unprivileged user to the "
            "final stage"
        )
    return problems


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (op, _) in enumerate(instructions) if op == "FROM"]
    return instructions[starts[-1] :] if starts else instructions


def _check_router_dockerfile(text: str, config_path: str) -> list[str]:
    instructions = _instructions(text)
    problems = _check_base_images(instructions)
    for op, args in _final_stage(instructions):
        if op not in ("COPY", "ADD"):
            continue
        words = [w for w in args.split() if not w.startswith("--")]
        if len(words) < 2:
            continue
        *sources, dest = words
        for source in sources:
            target = (
                str(PurePosixPath(dest) / PurePosixPath(source).name)
                if dest.endswith("/")
                else dest
            )
            if PurePosixPath(source).name == "extra.conf" and target == config_path:
                return problems
    problems.append(
        f"does not copy extra.conf to {config_path}, where taskdef.json's firelensConfiguration "
        f"makes FireLens read it; add `COPY extra.conf {config_path}`"
    )
    return problems


# --- extra.conf -----------------------------------------------------------------------


def _check_router_config(text: str, taskdef: dict[str, Any] | None, config: Config) -> list[str]:
    """FireLens already generates an [OUTPUT] from the app's logConfiguration options; a
    second output for the same records in extra.conf would deliver every line twice."""
    if taskdef is None:
        return []
    generated = False
    for container in taskdef.get("containerDefinitions") or []:
        if isinstance(container, dict) and container.get("name") == config.app.name:
            log = container.get("logConfiguration") or {}
            generated = log.get("logDriver") == "awsfirelens" and bool(
                (log.get("options") or {}).get("Name")
            )
    if not generated:
        return []
    tag = f"{config.app.name}-firelens-0123456789abcdef"
    problems: list[str] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().upper()
            continue
        key, _, value = line.partition(" ")
        if (
            section == "OUTPUT"
            and key.lower() == "match"
            and fnmatch.fnmatchcase(tag, value.strip())
        ):
            problems.append(
                f"an [OUTPUT] matches the app's records ({value.strip()!r}), and FireLens "
                "already sends them where taskdef.json's logConfiguration says; every line "
                "would be delivered twice. Remove the [OUTPUT] or the logConfiguration options"
            )
    return problems
