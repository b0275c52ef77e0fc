"""render_taskdef and the buildspecs, played in bash: the build and the rehearsal agree.

The buildspec's commands run in one bash process, command after command, stopping at
the first failure (as CodeBuild runs a phase with on-failure ABORT), with ``aws`` and
``docker`` replaced by small fakes that record their calls.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from bluegreen import appkit
from bluegreen.config import Config
from bluegreen.errors import RepositoryError

ENV = {
    "TASK_ROLE_ARN": "arn:aws:iam::123456789012:role/sample3-dev-service-TaskRole-AbC123",
    "EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/path/to/sample3-dev-Exec+role=x,y.z@w",
    "AWS_REGION": "ap-northeast-1",
}
BUILD_ENV = {
    **ENV,
    "AWS_ACCOUNT_ID": "123456789012",
    "IMAGE_REPOSITORY_NAME": "sample3-dev-webapp",
    "IMAGE_REPOSITORY_URI": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/sample3-dev-webapp",
    "CONTAINER_NAME": "webapp",
    "CODEBUILD_RESOLVED_SOURCE_VERSION": "0123456789abcdef0123456789abcdef01234567",
}

# The AWS CLI as the buildspecs meet it. DescribeImages of a tag that is not there fails
# with ImageNotFoundException (botocore ecr model, DescribeImages errors), which the CLI
# prints as "An error occurred (<code>) when calling the <operation> operation: <message>"
# on stderr and exits 254, as for every error the service returns
# (https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-returncodes.html).
FAKE_AWS = """#!/usr/bin/env bash
echo "aws $*" >> "$CALLS"
failed="An error occurred (%s) when calling the DescribeImages operation: %s\\n"
case "$*" in
  "ecr get-login-password"*) echo fake-password ;;
  "ecr describe-images"*)
    if [ -n "$FAKE_ECR_ERROR" ]; then
      printf "$failed" AccessDeniedException "not authorized to perform ecr:DescribeImages" >&2
      exit 254
    fi
    if [ -z "$FAKE_EXISTING" ]; then
      printf "$failed" ImageNotFoundException "The image with imageId does not exist" >&2
      exit 254
    fi
    echo '{"imageDetails": [{"imageTags": ["x"]}]}' ;;
  *) echo "unexpected aws call: $*" >&2; exit 2 ;;
esac
"""
FAKE_DOCKER = """#!/usr/bin/env bash
if [ "$1" = login ]; then read -r password; echo "docker $* password=$password" >> "$CALLS";
else echo "docker $*" >> "$CALLS"; fi
if [ "$1" = build ] && [ -n "$FAKE_BUILD_FAILS" ]; then exit 1; fi
exit 0
"""


def test_render_taskdef_fills_the_stack_placeholders_only() -> None:
    text = appkit.render(Config())["taskdef.json"]
    rendered = appkit.render_taskdef(text, ENV)
    data = json.loads(rendered)
    assert data["taskRoleArn"] == ENV["TASK_ROLE_ARN"]
    assert data["executionRoleArn"] == ENV["EXECUTION_ROLE_ARN"]
    app, router = data["containerDefinitions"]
    assert app["logConfiguration"]["options"]["region"] == "ap-northeast-1"
    assert router["logConfiguration"]["options"]["awslogs-region"] == "ap-northeast-1"
    # CodeDeploy's placeholders stay for the Deploy action.
    assert (app["image"], router["image"]) == ("<IMAGE1_NAME>", "<IMAGE2_NAME>")
    assert "<TASK_ROLE_ARN>" not in rendered and "<AWS_REGION>" not in rendered


@pytest.mark.parametrize("missing", ["TASK_ROLE_ARN", "EXECUTION_ROLE_ARN", "AWS_REGION"])
def test_render_taskdef_names_a_missing_key(missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(RepositoryError) as info:
        appkit.render_taskdef("{}", env)
    assert missing in str(info.value) and info.value.exit_code == 2
    with pytest.raises(RepositoryError, match=missing):
        appkit.render_taskdef("{}", {**ENV, missing: ""})


@pytest.mark.parametrize("value", ["a&b", "a|b", "a\\b", 'a"b', "a\nb"])
def test_render_taskdef_refuses_what_sed_would_not_copy(value: str) -> None:
    with pytest.raises(RepositoryError, match="TASK_ROLE_ARN"):
        appkit.render_taskdef("{}", {**ENV, "TASK_ROLE_ARN": value})


def _buildspec(cfg: Config, directory: str) -> dict[str, dict[str, list[str]]]:
    data = yaml.safe_load(appkit.render(cfg)[f"{directory}/buildspec.yml"])
    assert isinstance(data, dict)
    return data["phases"]


def _variables(cfg: Config, directory: str) -> dict[str, str]:
    data = yaml.safe_load(appkit.render(cfg)[f"{directory}/buildspec.yml"])
    return {str(k): str(v) for k, v in data["env"]["variables"].items()}


def content_tag(repo: Path, directory: str, shared: tuple[str, ...] = ()) -> str:
    """The image tag the buildspec must compute, computed here in Python: "src-" and the
    SHA-256 of the settings lines and of sha256sum's lines ("<hex>  <path>") for every
    file of the image's directories, sorted by path bytes."""
    options = " ".join(
        [f"--file {directory}/Dockerfile", *(f"--build-context {d}={d}" for d in shared)]
    )
    lines = [f"bluegreen image tag v1\noptions {options}\ncontext {directory}\n".encode()]
    files = sorted(
        str(path.relative_to(repo)).encode()
        for top in (directory, *shared)
        for path in (repo / top).rglob("*")
        if path.is_file()
    )
    for name in files:
        digest = hashlib.sha256((repo / name.decode()).read_bytes()).hexdigest()
        lines.append(digest.encode() + b"  " + name + b"\n")
    return "src-" + hashlib.sha256(b"".join(lines)).hexdigest()


def _sed_lines(cfg: Config) -> list[str]:
    post = _buildspec(cfg, cfg.app.directory)["post_build"]["commands"]
    return [c for c in post if "taskdef" in c and "cat " not in c]


def test_the_buildspec_sed_agrees_with_render_taskdef(tmp_path: Path) -> None:
    cfg = Config()
    text = appkit.render(cfg)["taskdef.json"]
    (tmp_path / "taskdef.json").write_text(text, encoding="utf-8")
    lines = _sed_lines(cfg)
    assert len(lines) == 2 and lines[0].startswith("sed ")
    subprocess.run(
        ["bash", "-c", " && ".join(lines)],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], **ENV},
        check=True,
    )
    assert (tmp_path / "taskdef.json").read_text(encoding="utf-8") == appkit.render_taskdef(
        text, ENV
    )


def _play(
    tmp_path: Path, cfg: Config, directory: str, extra_env: dict[str, str] | None = None
) -> tuple[int, list[str], str]:
    """Run a buildspec's phases in one bash; (exit code, recorded calls, stderr)."""
    repo = tmp_path / "repo"
    appkit.init(repo, cfg)
    fakes = tmp_path / "bin"
    fakes.mkdir()
    for name, script in (("aws", FAKE_AWS), ("docker", FAKE_DOCKER)):
        (fakes / name).write_text(script)
        (fakes / name).chmod(0o755)
    lines = []
    for phase in ("pre_build", "build", "post_build"):
        for command in _buildspec(cfg, directory)[phase]["commands"]:
            lines.append(command)
            failed = f"echo FAILED: {shlex.quote(command)} >&2"
            lines.append(f"rc=$?; if [ $rc -ne 0 ]; then {failed}; exit $rc; fi")
    calls = tmp_path / "calls.txt"
    calls.touch()
    env = {
        "PATH": f"{fakes}:{os.environ['PATH']}",
        "CALLS": str(calls),
        **_variables(cfg, directory),  # the buildspec's env/variables, under the project's
        **BUILD_ENV,
        **(extra_env or {}),
    }
    result = subprocess.run(
        ["bash", "-c", "\n".join(lines)], cwd=repo, env=env, capture_output=True, text=True
    )
    return result.returncode, calls.read_text().splitlines(), result.stderr


def test_app_build_pushes_a_new_commit_and_renders_the_deploy_inputs(tmp_path: Path) -> None:
    cfg = Config()
    code, calls, stderr = _play(tmp_path, cfg, "webapp")
    assert code == 0, stderr
    # The tag is the hash of the image's content, not the commit id.
    tag = content_tag(tmp_path / "repo", "webapp")
    uri = f"{BUILD_ENV['IMAGE_REPOSITORY_URI']}:{tag}"
    assert calls[0].startswith("aws ecr get-login-password --region ap-northeast-1")
    assert calls[1] == (
        "docker login --username AWS --password-stdin "
        "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com password=fake-password"
    )
    assert calls[2] == (
        f"aws ecr describe-images --repository-name sample3-dev-webapp --image-ids imageTag={tag}"
    )
    assert calls[3:] == [
        f"docker build --tag {uri} --file webapp/Dockerfile webapp",
        f"docker push {uri}",
    ]
    repo = tmp_path / "repo"
    assert json.loads((repo / "imageDetail.json").read_text()) == {"ImageURI": uri}
    template = appkit.render(cfg)["taskdef.json"]
    assert (repo / "taskdef.json").read_text() == appkit.render_taskdef(template, ENV)


def test_an_image_of_the_same_content_is_reused_not_built(tmp_path: Path) -> None:
    code, calls, stderr = _play(tmp_path, Config(), "webapp", {"FAKE_EXISTING": "1"})
    assert code == 0, stderr
    assert not any(c.startswith(("docker build", "docker push")) for c in calls)
    detail = json.loads((tmp_path / "repo" / "imageDetail.json").read_text())
    assert detail["ImageURI"].endswith(":" + content_tag(tmp_path / "repo", "webapp"))


def _tag_after(tmp_path: Path, cfg: Config, directory: str, writes: dict[str, str]) -> str:
    """The tag the buildspec of ``directory`` computes in a scaffold with ``writes``
    (path -> text) written over it; checked against :func:`content_tag`."""
    repo = tmp_path / "repo"
    appkit.init(repo, cfg)
    for path, text in writes.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    (tag_line,) = [
        c for c in _buildspec(cfg, directory)["pre_build"]["commands"] if "IMAGE_TAG=" in c
    ]
    result = subprocess.run(
        ["bash", "-c", f'{tag_line}\necho "$IMAGE_TAG"'],
        cwd=repo,
        env={"PATH": os.environ["PATH"], **_variables(cfg, directory)},
        capture_output=True,
        text=True,
        check=True,
    )
    tag = result.stdout.strip()
    assert tag == content_tag(repo, directory, tuple(cfg.builds.shared))
    return tag


@pytest.mark.parametrize(
    ("change", "app_changes", "router_changes"),
    [
        (None, False, False),
        ("webapp/app/main.py", True, False),
        ("webapp/.dockerignore", True, False),
        ("firelens/extra.conf", False, True),
        ("common/lib.py", True, True),  # builds.shared = ["common"]
        ("README.md", False, False),
        ("taskdef.json", False, False),
        ("other/notes.txt", False, False),
    ],
)
def test_only_the_images_whose_content_changed_get_a_new_tag(
    tmp_path: Path, change: str | None, app_changes: bool, router_changes: bool
) -> None:
    cfg = Config.model_validate({"builds": {"shared": ["common"]}})
    base = {"common/lib.py": "v1\n"}
    changed = {**base, **({change: "changed\n"} if change else {})}
    new_tag = {}
    for directory in ("webapp", "firelens"):
        before = _tag_after(tmp_path / directory / "before", cfg, directory, base)
        after = _tag_after(tmp_path / directory / "after", cfg, directory, changed)
        new_tag[directory] = before != after
    assert new_tag == {"webapp": app_changes, "firelens": router_changes}


def test_the_build_settings_are_part_of_the_tag(tmp_path: Path) -> None:
    plain = _tag_after(tmp_path / "a", Config(), "webapp", {})
    shared = _tag_after(
        tmp_path / "b", Config.model_validate({"builds": {"shared": ["common"]}}), "webapp", {}
    )
    assert plain != shared  # --build-context common=common is a build setting
    assert plain.startswith("src-") and len(plain) == 4 + 64


def test_router_build_writes_only_image_detail(tmp_path: Path) -> None:
    env = {"IMAGE_REPOSITORY_NAME": "sample3-dev-log-router", "CONTAINER_NAME": "log-router"}
    code, calls, stderr = _play(tmp_path, Config(), "firelens", env)
    assert code == 0, stderr
    assert any(c.startswith("docker build --tag") and c.endswith(" firelens") for c in calls)
    assert "<TASK_ROLE_ARN>" in (tmp_path / "repo" / "taskdef.json").read_text()


@pytest.mark.parametrize(
    ("extra", "failed"),
    [
        ({"FAKE_BUILD_FAILS": "1"}, "docker build"),
        ({"FAKE_ECR_ERROR": "1"}, "AccessDeniedException"),
        ({"TASK_ROLE_ARN": ""}, "TASK_ROLE_ARN"),
        ({"IMAGE_REPOSITORY_NAME": ""}, "IMAGE_REPOSITORY_NAME"),
    ],
)
def test_a_failing_command_fails_the_build_before_image_detail(
    tmp_path: Path, extra: dict[str, str], failed: str
) -> None:
    code, calls, stderr = _play(tmp_path, Config(), "webapp", extra)
    assert code != 0
    assert failed in stderr
    assert not (tmp_path / "repo" / "imageDetail.json").exists()
    assert not any(c.startswith("docker push") for c in calls)


def test_ecr_login_uses_the_registry_of_the_repository_uri(tmp_path: Path) -> None:
    """In the China regions ECR registries end in .amazonaws.com.cn (aws/aws-cdk#28460);
    the login host is the repository URI's host, whatever the partition."""
    registry = "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
    env = {"AWS_REGION": "cn-north-1", "IMAGE_REPOSITORY_URI": f"{registry}/sample3-dev-webapp"}
    code, calls, stderr = _play(tmp_path, Config(), "webapp", env)
    assert code == 0, stderr
    assert calls[1] == (
        f"docker login --username AWS --password-stdin {registry} password=fake-password"
    )
