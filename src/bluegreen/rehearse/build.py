"""A CodeBuild action of the pipeline, played: its buildspec checked, its effects made.

Nothing is compiled and no container runs; what a build *leaves behind* is made real in
the emulator and the artifacts, from the settings read back from it:

- the buildspec (the project's ``source.buildspec``: a path in the commit, or inline) is
  checked the way CodeBuild reads it: YAML, ``version: 0.2``, phases with commands,
  ``imageDetail.json`` written and every ``artifacts.files`` entry available;
- the image is put into the emulated ECR repository the build pushes to (the one its
  environment names) under the whole commit id, as the buildspec tags it.
  ECR's immutable tags apply; a re-run of the same commit reuses the image, as the
  buildspec does. The manifest's digests are derived from git's content hash of the
  build directory, so the same sources give the same image;
- ``imageDetail.json`` is ``{"ImageURI": "<repository uri>:<tag>"}``; a ``taskdef.json``
  listed as an artifact is filled in with :func:`bluegreen.appkit.render_taskdef` from
  the project's environment variables, exactly what the app buildspec's ``sed`` does;
  other listed files are copied from the commit.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass, field
from typing import Any

import yaml

from bluegreen import names
from bluegreen.aws.session import Clients
from bluegreen.errors import BluegreenError
from bluegreen.rehearse.pipeline import Action
from bluegreen.rehearse.repository import Commit, Repository

IMAGE_DETAIL = "imageDetail.json"
_MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


@dataclass
class BuildResult:
    """What one build action did; ``failure`` says why it failed (None: succeeded)."""

    action: str
    project: str
    output: str | None
    repository: str | None = None
    image_uri: str | None = None
    reused: bool = False
    failure: str | None = None
    files: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.failure is None


class BuildFailed(Exception):
    """The build stops: the message is what CodeBuild's log would end with."""


def play(
    clients: Clients,
    repo: Repository,
    commit: Commit,
    action: Action,
    region: str,
    fault: str | None = None,
) -> BuildResult:
    """Play one CodeBuild action on ``commit``; never raises for a failing build."""
    project_name = action.setting("ProjectName")
    result = BuildResult(action.name, project_name, action.outputs[0] if action.outputs else None)
    try:
        _play(clients, repo, commit, action, region, fault, result)
    except BuildFailed as exc:
        result.failure = str(exc)
    except BluegreenError as exc:
        result.failure = exc.message
    return result


def _play(
    clients: Clients,
    repo: Repository,
    commit: Commit,
    action: Action,
    region: str,
    fault: str | None,
    result: BuildResult,
) -> None:
    projects = clients.codebuild.batch_get_projects(names=[result.project])["projects"]
    if not projects:
        raise BuildFailed(f"CodeBuild project {result.project} does not exist")
    project = projects[0]
    env = {
        str(v["name"]): str(v["value"])
        for v in project.get("environment", {}).get("environmentVariables", [])
    }
    env.update(action.environment())
    # What CodeBuild sets itself.
    env.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "CODEBUILD_RESOLVED_SOURCE_VERSION": commit.sha,
            "CODEBUILD_BUILD_ID": f"{result.project}:rehearsal-{commit.short}",
        }
    )
    spec_ref = str(project.get("source", {}).get("buildspec") or "buildspec.yml")
    spec, context = _buildspec(repo, commit, spec_ref)
    commands = "\n".join(
        str(command)
        for phase in (spec.get("phases") or {}).values()
        for command in ((phase or {}).get("commands") or [])
    )
    listed = _artifact_files(spec, spec_ref)
    if IMAGE_DETAIL not in listed or IMAGE_DETAIL not in commands:
        raise BuildFailed(
            f"{spec_ref}: never writes {IMAGE_DETAIL} as an artifact; the deploy action "
            "reads the image URI from it"
        )
    repository = _target_repository(clients, env, result.project)
    result.repository = repository["repositoryName"]
    if fault == "build-fails":
        raise BuildFailed(
            f"docker build of {context or '.'}/ exited with status 1 (fault injected: build-fails)"
        )
    tag = commit.sha
    result.image_uri = f"{repository['repositoryUri']}:{tag}"
    result.reused = _push(clients, repo, commit, repository["repositoryName"], tag, context)
    for path in listed:
        if path == IMAGE_DETAIL:
            result.files[path] = json.dumps({"ImageURI": result.image_uri})
            continue
        text = repo.show(commit, path)
        if text is None:
            raise BuildFailed(f"{spec_ref}: artifact file {path} does not exist in the commit")
        if posixpath.basename(path) == "taskdef.json" and names.TASK_ROLE_PLACEHOLDER in text:
            from bluegreen.appkit import render_taskdef

            text = render_taskdef(text, env)
        result.files[path] = text


def _buildspec(repo: Repository, commit: Commit, ref: str) -> tuple[dict[str, Any], str]:
    """The parsed buildspec and the directory it builds (for the image's content hash)."""
    if "\n" in ref:
        text, context = ref, ""
    else:
        found = repo.show(commit, ref)
        if found is None:
            raise BuildFailed(f"YAML_FILE_ERROR: buildspec {ref} is not in commit {commit.short}")
        text, context = found, posixpath.dirname(ref)
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BuildFailed(f"YAML_FILE_ERROR: {ref} is not valid YAML: {exc}") from None
    if not isinstance(spec, dict):
        raise BuildFailed(f"YAML_FILE_ERROR: {ref} is not a buildspec (not a mapping)")
    if str(spec.get("version")) != "0.2":
        raise BuildFailed(f"YAML_FILE_ERROR: {ref}: version must be 0.2, not {spec.get('version')}")
    if not isinstance(spec.get("phases"), dict) or not spec["phases"]:
        raise BuildFailed(f"YAML_FILE_ERROR: {ref} has no phases")
    return spec, context


def _artifact_files(spec: dict[str, Any], ref: str) -> list[str]:
    artifacts = spec.get("artifacts") or {}
    files = artifacts.get("files")
    files = [files] if isinstance(files, str) else files
    if not files:
        raise BuildFailed(f"{ref}: artifacts.files is empty; the pipeline needs the build output")
    base = str(artifacts.get("base-directory") or "")
    return [posixpath.normpath(posixpath.join(base, str(path))) for path in files]


def _target_repository(clients: Clients, env: dict[str, str], project: str) -> dict[str, Any]:
    """The ECR repository the build pushes to: the one its environment names."""
    repositories = clients.ecr.describe_repositories()["repositories"]
    values = set(env.values())
    named = [
        r for r in repositories if r["repositoryUri"] in values or r["repositoryName"] in values
    ]
    if len(named) != 1:
        raise BuildFailed(
            f"cannot tell which ECR repository project {project} pushes to: its environment "
            f"names {len(named)} of them ({', '.join(r['repositoryName'] for r in named)})"
        )
    return dict(named[0])


def _push(
    clients: Clients, repo: Repository, commit: Commit, repository: str, tag: str, context: str
) -> bool:
    """Put the image under ``tag`` unless that tag exists; True when it was reused."""
    existing = clients.ecr.list_images(repositoryName=repository, filter={"tagStatus": "TAGGED"})
    if any(image.get("imageTag") == tag for image in existing["imageIds"]):
        return True
    content = repo.tree_id(commit, context or ".")
    config_digest = "sha256:" + hashlib.sha256(f"config {content}".encode()).hexdigest()
    layer_digest = "sha256:" + hashlib.sha256(f"layer {content}".encode()).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": _MANIFEST_TYPE,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1024,
            "digest": config_digest,
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 4096,
                "digest": layer_digest,
            }
        ],
    }
    clients.ecr.put_image(
        repositoryName=repository,
        imageManifest=json.dumps(manifest),
        imageManifestMediaType=_MANIFEST_TYPE,
        imageTag=tag,
    )
    return False
