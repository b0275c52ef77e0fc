"""The ``docker`` of a build: a daemon that checks builds and pushes to the emulated ECR.

There is no container engine: ``docker build`` builds no layer and runs no ``RUN``. What
it does is what decides whether a release can work:

- the daemon exists only in privileged mode, as on CodeBuild: the project's
  ``privilegedMode`` "enables running the Docker daemon inside a Docker container ...
  Otherwise, a build that attempts to interact with the Docker daemon fails" (CodeBuild
  API reference, ProjectEnvironment); every command then prints ``Cannot connect to the
  Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?`` and exits
  1 (the CodeBuild log in aws/aws-codebuild-docker-images#46);
- ``docker login`` accepts user ``AWS`` with a password the emulated ECR issued
  (GetAuthorizationToken, through ``aws ecr get-login-password``) for a registry of this
  account and region, and refuses anything else with ``Error response from daemon: login
  attempt to https://<registry>/v2/ failed with status: 401 Unauthorized``
  (whoan/docker-build-with-cache-action#30);
- ``docker build [-t tag]... [-f Dockerfile] [--build-arg k=v]... [--target s] CONTEXT``
  checks the context and the Dockerfile (:mod:`~bluegreen.emulator.standins.dockerfile`)
  and keeps the image locally under its tags; BuildKit's texts for what it refuses
  (``unable to prepare context: path "x" not found``, ``failed to read dockerfile: open
  Dockerfile: no such file or directory``, as in
  KeyValueSoftwareSystems/action-ecr-image-scan#1 on CodeBuild);
- ``docker tag``, ``docker images``, ``docker inspect``, ``docker rmi``;
- ``docker push`` pushes exactly the tag it is given to the emulated ECR, as the
  project's service role, with the calls a registry push makes (BatchCheckLayerAvailability,
  InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, PutImage: the permissions
  ECR's user guide lists for pushing an image); the manifest's blobs are the image's
  config and its files, so the digest is a hash of the content. Not logged in: ``no
  basic auth credentials`` (aws/aws-cli#3042); an immutable tag that exists: ``tag
  invalid: The image tag '<tag>' already exists in the '<repository>' repository and
  cannot be overwritten because the repository is immutable.``
  (aws/containers-roadmap#862);
- ``docker pull`` of this account's ECR images (BatchGetImage as the role).

Base images (``FROM python:3.12-slim``) are taken as available: the emulator has no
network to pull them. Each pushed image is recorded for the data plane
(:mod:`bluegreen.emulator.images`).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bluegreen.emulator import images as image_records
from bluegreen.emulator import internal
from bluegreen.emulator.standins import dockerfile as df
from bluegreen.emulator.standins.server import Request, Response

if TYPE_CHECKING:
    from collections.abc import Callable

    from bluegreen.emulator.core import Emulator

NO_DAEMON = (
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?"
)
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"
_ECR_HOST = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
)
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
MAX_CONTEXT_FILES = 20000
"""Files a build context may hold here (the emulator reads them into memory)."""

# docker build's options that take a value, and its flags (docker CLI reference,
# "docker buildx build"); anything else is an unknown flag.
_BUILD_VALUES = {
    "-t",
    "--tag",
    "-f",
    "--file",
    "--build-arg",
    "--target",
    "--platform",
    "--progress",
    "--label",
    "--network",
    "--iidfile",
    "--secret",
    "--ssh",
    "--cache-from",
    "--cache-to",
    "-o",
    "--output",
    "--provenance",
    "--sbom",
    "--add-host",
    "--shm-size",
    "--ulimit",
    "-m",
    "--memory",
    "--metadata-file",
    "--build-context",
    "--builder",
    "--annotation",
    "--attest",
    "--cgroup-parent",
    "--allow",
    "--call",
}
_BUILD_FLAGS = {
    "--pull",
    "--no-cache",
    "-q",
    "--quiet",
    "--push",
    "--load",
    "--rm",
    "--force-rm",
    "--compress",
    "--squash",
    "--check",
}

_ISSUED: weakref.WeakKeyDictionary[Emulator, dict[str, set[str]]]
_ISSUED = weakref.WeakKeyDictionary()


def note_token(emulator: Emulator, endpoint: str, password: str) -> None:
    """The emulated ECR issued ``password`` for the registry at ``endpoint``
    (``https://<registry>``): ``docker login`` to that registry accepts it."""
    host = endpoint.removeprefix("https://").removeprefix("http://").rstrip("/")
    _ISSUED.setdefault(emulator, {}).setdefault(host, set()).add(password)


@dataclass
class LocalImage:
    """An image the build's daemon holds."""

    context: dict[str, bytes]
    config: image_records.ImageConfig
    config_blob: bytes
    layer_blob: bytes

    @property
    def id(self) -> str:
        return "sha256:" + hashlib.sha256(self.config_blob).hexdigest()


@dataclass
class Docker:
    """The Docker daemon of one build."""

    emulator: Emulator
    role: str
    privileged: bool
    fault: Callable[[], str | None] = lambda: None
    """The rehearsal's injected failure: a message makes this ``docker build`` fail."""
    images: dict[str, LocalImage] = field(default_factory=dict)
    logins: dict[str, str] = field(default_factory=dict)
    pushed: list[str] = field(default_factory=list)
    """Every ``<repositoryUri>:<tag>`` pushed, in order."""
    fault_fired: str | None = None

    def __call__(self, request: Request) -> Response:
        response = Response()
        args = list(request.argv)
        while args and args[0] in ("--config", "-l", "--log-level", "-c", "--context"):
            args = args[2:]
        if not args or args[0] in ("-h", "--help", "help"):
            response.out("Usage:  docker [OPTIONS] COMMAND\n")
            return response
        if args[0] in ("-v", "--version"):
            response.out("Docker version 26.1.0, build emulated-by-bluegreen\n")
            return response
        if not self.privileged:
            return response.fail(NO_DAEMON)
        command, rest = args[0], args[1:]
        if command in ("image", "buildx", "builder") and rest:
            command, rest = rest[0], rest[1:]
        handler = {
            "login": self._login,
            "logout": self._logout,
            "build": self._build,
            "tag": self._tag,
            "push": self._push,
            "pull": self._pull,
            "images": self._images,
            "ls": self._images,
            "inspect": self._inspect,
            "rmi": self._rmi,
            "rm": self._rmi,
            "version": self._version,
            "info": self._info,
        }.get(command)
        if handler is None:
            return response.fail(
                f"docker: '{command}' is not supported by the emulated docker daemon (it "
                "builds and pushes images; it runs no containers).",
                125,
            )
        return handler(request, rest, response)

    # -- login ------------------------------------------------------------------------------
    def _login(self, request: Request, args: list[str], response: Response) -> Response:
        user = password = None
        from_stdin = False
        servers: list[str] = []
        i = 0
        while i < len(args):
            word = args[i]
            name, eq, value = word.partition("=")
            if name in ("-u", "--username", "-p", "--password"):
                if not eq:
                    i += 1
                    if i >= len(args):
                        return response.fail(f"flag needs an argument: {name}", 125)
                    value = args[i]
                if name in ("-u", "--username"):
                    user = value
                else:
                    password = value
            elif word == "--password-stdin":
                from_stdin = True
            elif word.startswith("-"):
                return response.fail(f"unknown flag: {word}\nSee 'docker login --help'.", 125)
            else:
                servers.append(word)
            i += 1
        if from_stdin:
            if password is not None:
                return response.fail("--password and --password-stdin are mutually exclusive", 1)
            password = request.stdin.decode("utf-8", "replace").rstrip("\r\n")
            if not user:
                return response.fail("Must provide --username with --password-stdin", 1)
        elif password is not None:
            response.err(
                "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n"
            )
        host = _host(servers[0]) if servers else "https://index.docker.io/v1/"
        registry = host.removeprefix("https://").rstrip("/")
        if not self._accepted(registry, user or "", password or ""):
            return response.fail(
                f"Error response from daemon: login attempt to https://{registry}/v2/ failed "
                "with status: 401 Unauthorized"
            )
        self.logins[registry] = user or ""
        home = request.env.get("HOME", "/root")
        response.err(
            f"WARNING! Your password will be stored unencrypted in {home}/.docker/config.json.\n"
            "Configure a credential helper to remove this warning. See\n"
            "https://docs.docker.com/engine/reference/commandline/login/#credential-stores\n\n"
        )
        response.out("Login Succeeded\n")
        return response

    def _accepted(self, registry: str, user: str, password: str) -> bool:
        found = _ECR_HOST.fullmatch(registry)
        if found is None or user != "AWS":
            return False
        if found["account"] != self.emulator.account_id or found["region"] != self.emulator.region:
            return False
        return password in _ISSUED.get(self.emulator, {}).get(registry, set())

    def _logout(self, request: Request, args: list[str], response: Response) -> Response:
        registry = _host(args[0]).removeprefix("https://") if args else "index.docker.io/v1/"
        self.logins.pop(registry.rstrip("/"), None)
        response.out(f"Removing login credentials for {registry}\n")
        return response

    # -- build ------------------------------------------------------------------------------
    def _build(self, request: Request, args: list[str], response: Response) -> Response:
        tags: list[str] = []
        build_args: dict[str, str] = {}
        dockerfile_arg: str | None = None
        target: str | None = None
        quiet = push = False
        iidfile: str | None = None
        positional: list[str] = []
        i = 0
        while i < len(args):
            word = args[i]
            name, eq, value = word.partition("=")
            if name in _BUILD_VALUES:
                if not eq:
                    i += 1
                    if i >= len(args):
                        return response.fail(f"flag needs an argument: {name}", 125)
                    value = args[i]
                if name in ("-t", "--tag"):
                    tags.append(value)
                elif name in ("-f", "--file"):
                    dockerfile_arg = value
                elif name == "--build-arg":
                    key, sep, arg_value = value.partition("=")
                    build_args[key] = arg_value if sep else request.env.get(key, "")
                elif name == "--target":
                    target = value.lower()
                elif name == "--iidfile":
                    iidfile = value
            elif word in _BUILD_FLAGS:
                quiet = quiet or word in ("-q", "--quiet")
                push = push or word == "--push"
            elif word.startswith("-") and word != "-":
                return response.fail(f"unknown flag: {word}\nSee 'docker build --help'.", 125)
            else:
                positional.append(word)
            i += 1
        if len(positional) != 1:
            return response.fail(
                'ERROR: "docker buildx build" requires exactly 1 argument.\n'
                "See 'docker buildx build --help'.",
                1,
            )
        references: list[str] = []
        for tag in tags:
            reference = _normalize(tag)
            if reference is None:
                return response.fail(f'ERROR: invalid tag "{tag}": invalid reference format', 1)
            references.append(reference)
        context_arg = positional[0]
        if context_arg == "-" or re.match(r"^(https?://|git@|git://)", context_arg):
            return response.fail(
                f"ERROR: the emulated docker builds from a local directory only, not {context_arg}"
            )
        cwd = Path(request.cwd)
        context_dir = (cwd / context_arg).resolve()
        if not context_dir.is_dir():
            return response.fail(
                f'ERROR: unable to prepare context: path "{context_arg}" not found'
            )
        if dockerfile_arg is None:
            dockerfile_path, shown = context_dir / "Dockerfile", "Dockerfile"
        else:
            dockerfile_path, shown = (cwd / dockerfile_arg).resolve(), dockerfile_arg
        if not dockerfile_path.is_file():
            return response.fail(
                f"ERROR: failed to solve: failed to read dockerfile: open {shown}: "
                "no such file or directory"
            )
        text = dockerfile_path.read_text(encoding="utf-8", errors="replace")
        try:
            context = _context_files(context_dir)
        except OSError as exc:
            return response.fail(f"ERROR: unable to prepare context: {exc}")
        response.err(
            '#0 building with "default" instance using docker driver\n\n'
            f"#1 [internal] load build definition from {dockerfile_path.name}\n"
            f"#1 transferring dockerfile: {len(text.encode())}B done\n#1 DONE 0.0s\n\n"
        )
        try:
            image, step = _image(text, context, build_args, target, response)
        except df.DockerfileError as exc:
            return response.fail(f"ERROR: {exc}")
        if dockerfile_arg is not None:
            image.context["Dockerfile"] = text.encode()
        fault = self.fault()
        if fault:
            self.fault_fired = fault
            return response.fail(f"ERROR: failed to solve: {fault}")
        for reference in references:
            self.images[reference] = image
        response.err(f"#{step} exporting to image\n#{step} writing image {image.id} done\n")
        for reference in references:
            response.err(f"#{step} naming to {_display(reference)} done\n")
        response.err(f"#{step} DONE 0.0s\n")
        if quiet:
            response.out(image.id + "\n")
        if iidfile:
            (cwd / iidfile).write_text(image.id, encoding="utf-8")
        if push:
            for reference in references:
                self._push(request, [reference], response)
                if response.status:
                    return response
        return response

    # -- tags -------------------------------------------------------------------------------
    def _find(self, name: str) -> LocalImage | None:
        reference = _normalize(name)
        if reference is not None and reference in self.images:
            return self.images[reference]
        bare = name.removeprefix("sha256:")
        if len(bare) >= 4:
            for image in self.images.values():
                if image.id.removeprefix("sha256:").startswith(bare):
                    return image
        return None

    def _tag(self, request: Request, args: list[str], response: Response) -> Response:
        if len(args) != 2:
            return response.fail('"docker tag" requires exactly 2 arguments.', 1)
        image = self._find(args[0])
        if image is None:
            return response.fail(f"Error response from daemon: No such image: {args[0]}")
        reference = _normalize(args[1])
        if reference is None:
            return response.fail(
                f'Error parsing reference: "{args[1]}" is not a valid repository/tag: '
                "invalid reference format"
            )
        self.images[reference] = image
        return response

    def _rmi(self, request: Request, args: list[str], response: Response) -> Response:
        for name in (a for a in args if not a.startswith("-")):
            reference = _normalize(name)
            if reference is None or reference not in self.images:
                return response.fail(f"Error response from daemon: No such image: {name}")
            del self.images[reference]
            response.out(f"Untagged: {_display(reference)}\n")
        return response

    def _images(self, request: Request, args: list[str], response: Response) -> Response:
        response.out(f"{'REPOSITORY':<60} {'TAG':<42} {'IMAGE ID':<14} SIZE\n")
        for reference, image in sorted(self.images.items()):
            repository, _, tag = reference.rpartition(":")
            size = len(image.layer_blob)
            response.out(f"{repository:<60} {tag:<42} {image.id[7:19]:<14} {size}B\n")
        return response

    def _inspect(self, request: Request, args: list[str], response: Response) -> Response:
        found: list[dict[str, Any]] = []
        for name in (a for a in args if not a.startswith("-")):
            image = self._find(name)
            if image is None:
                response.out(json.dumps(found, indent=4) + "\n")
                return response.fail(f"Error: No such object: {name}")
            config = image.config
            found.append(
                {
                    "Id": image.id,
                    "RepoTags": [_display(r) for r, i in self.images.items() if i is image],
                    "Config": {
                        "Env": [f"{k}={v}" for k, v in config.env.items()],
                        "Cmd": list(config.cmd) if config.cmd else None,
                        "Entrypoint": list(config.entrypoint) if config.entrypoint else None,
                        "WorkingDir": config.workdir,
                        "ExposedPorts": {p: {} for p in config.exposed_ports},
                        "User": config.user or "",
                    },
                }
            )
        response.out(json.dumps(found, indent=4) + "\n")
        return response

    def _version(self, request: Request, args: list[str], response: Response) -> Response:
        response.out("Client:\n Version:           26.1.0\n\nServer: (emulated by bluegreen)\n")
        return response

    def _info(self, request: Request, args: list[str], response: Response) -> Response:
        response.out(f"Server:\n Images: {len(self.images)}\n Server Version: 26.1.0 (emulated)\n")
        return response

    # -- registry ---------------------------------------------------------------------------
    def _push(self, request: Request, args: list[str], response: Response) -> Response:
        names = [a for a in args if not a.startswith("-")]
        if len(names) != 1:
            return response.fail('"docker push" requires exactly 1 argument.', 1)
        reference = _normalize(names[0])
        if reference is None:
            return response.fail("invalid reference format", 1)
        image = self.images.get(reference)
        if image is None:
            return response.fail(f"Error response from daemon: No such image: {names[0]}")
        repository_ref, _, tag = reference.rpartition(":")
        registry, _, repository = repository_ref.partition("/")
        response.out(f"The push refers to repository [{repository_ref}]\n")
        found = _ECR_HOST.fullmatch(registry)
        if found is None or found["region"] != self.emulator.region:
            return response.fail(
                f'Get "https://{registry}/v2/": dial tcp: lookup {registry}: no such host '
                "(the emulated docker reaches this account's ECR registry only)"
            )
        if found["account"] != self.emulator.account_id or registry not in self.logins:
            return response.fail("no basic auth credentials")
        ecr = internal.client(self.emulator, "ecr", self.role)
        try:
            digest, size = self._upload(ecr, repository, tag, image, response)
        except ClientError as exc:
            return response.fail(_registry_error(exc, repository, tag))
        uri = f"{repository_ref}:{tag}"
        self.emulator.images[uri] = dict(image.context)
        image_records.record(self.emulator, uri, replace(image.config, digest=digest))
        self.pushed.append(uri)
        response.out(f"{tag}: digest: {digest} size: {size}\n")
        return response

    def _upload(
        self, ecr: Any, repository: str, tag: str, image: LocalImage, response: Response
    ) -> tuple[str, int]:
        blobs = [image.layer_blob, image.config_blob]
        digests = ["sha256:" + hashlib.sha256(blob).hexdigest() for blob in blobs]
        known = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=digests)
        available = {
            layer["layerDigest"]
            for layer in known.get("layers", [])
            if layer.get("layerAvailability") == "AVAILABLE"
        }
        for blob, digest in zip(blobs, digests, strict=True):
            short = digest[7:19]
            if digest in available:
                response.out(f"{short}: Layer already exists\n")
                continue
            upload = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
            ecr.upload_layer_part(
                repositoryName=repository,
                uploadId=upload,
                partFirstByte=0,
                partLastByte=len(blob) - 1,
                layerPartBlob=blob,
            )
            ecr.complete_layer_upload(
                repositoryName=repository, uploadId=upload, layerDigests=[digest]
            )
            response.out(f"{short}: Pushed\n")
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_TYPE,
                "config": {"mediaType": CONFIG_TYPE, "size": len(blobs[1]), "digest": digests[1]},
                "layers": [{"mediaType": LAYER_TYPE, "size": len(blobs[0]), "digest": digests[0]}],
            },
            separators=(",", ":"),
        )
        digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        try:
            put = ecr.put_image(
                repositoryName=repository,
                imageManifest=manifest,
                imageManifestMediaType=MANIFEST_TYPE,
                imageTag=tag,
            )
            digest = str(put["image"]["imageId"].get("imageDigest") or digest)
        except ClientError as exc:
            # The same manifest under the same tag: the registry has it already (PutImage's
            # ImageAlreadyExistsException; a docker push of it succeeds).
            if exc.response.get("Error", {}).get("Code") != "ImageAlreadyExistsException":
                raise
        return digest, len(manifest)

    def _pull(self, request: Request, args: list[str], response: Response) -> Response:
        names = [a for a in args if not a.startswith("-")]
        if len(names) != 1:
            return response.fail('"docker pull" requires exactly 1 argument.', 1)
        reference = _normalize(names[0])
        if reference is None:
            return response.fail("invalid reference format", 1)
        repository_ref, _, tag = reference.rpartition(":")
        registry, _, repository = repository_ref.partition("/")
        found = _ECR_HOST.fullmatch(registry)
        if found is None or found["region"] != self.emulator.region:
            return response.fail(
                f'Error response from daemon: Get "https://{registry}/v2/": dial tcp: lookup '
                f"{registry}: no such host (the emulated docker has no network beyond this "
                "account's ECR registry)"
            )
        if found["account"] != self.emulator.account_id or registry not in self.logins:
            return response.fail(
                f'Error response from daemon: Head "https://{registry}/v2/{repository}/'
                f'manifests/{tag}": no basic auth credentials'
            )
        ecr = internal.client(self.emulator, "ecr", self.role)
        try:
            got = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}])
        except ClientError as exc:
            return response.fail(
                "Error response from daemon: " + _registry_error(exc, repository, tag)
            )
        if not got.get("images"):
            return response.fail(
                f"Error response from daemon: manifest for {repository_ref}:{tag} not found: "
                "manifest unknown: Requested image not found"
            )
        uri = f"{repository_ref}:{tag}"
        config = image_records.config(self.emulator, uri) or image_records.ImageConfig(base="")
        context = dict(self.emulator.images.get(uri, {}))
        self.images[reference] = _local(context, config)
        digest = got["images"][0]["imageId"].get("imageDigest", "")
        response.out(f"{tag}: Pulling from {repository}\nDigest: {digest}\n")
        response.out(f"Status: Downloaded newer image for {uri}\n{uri}\n")
        return response


# ------------------------------------------------------------------------------ the image


@dataclass
class _StageState:
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    exposed: list[str] = field(default_factory=list)
    user: str | None = None
    healthcheck: tuple[str, ...] | None = None
    files: dict[str, bytes] = field(default_factory=dict)


def _image(
    text: str,
    context: dict[str, bytes],
    build_args: dict[str, str],
    target: str | None,
    response: Response,
) -> tuple[LocalImage, int]:
    """The image the Dockerfile describes, and the next BuildKit step number."""
    instructions = df.parse(text)
    global_args, all_stages = df.stages(instructions)
    names = {s.name: s for s in all_stages if s.name}
    if target is not None and target not in names:
        raise df.DockerfileError(f'failed to solve: target stage "{target}" could not be found')
    final = names[target] if target else all_stages[-1]
    rules = df.ignore_rules(context.get(".dockerignore", b"").decode("utf-8", "replace"))
    visible = {p: d for p, d in context.items() if not df.ignored(p, rules)}
    needed = _needed(final, all_stages, names)
    states: dict[int, _StageState] = {}
    step = 2
    for stage in all_stages:
        if stage.index not in needed:
            continue
        scope = {**global_args, **{k: v for k, v in build_args.items() if k in global_args}}
        base = df.substitute(stage.base, scope)
        parent = names.get(base.lower())
        state = _copy_state(states[parent.index]) if parent is not None else _StageState()
        label = stage.name or f"stage-{stage.index}"
        count = len(stage.instructions) + 1
        response.err(f"#{step} [{label} 1/{count}] FROM {base}\n#{step} DONE 0.0s\n\n")
        step += 1
        variables = dict(state.env)
        for position, instruction in enumerate(stage.instructions, start=2):
            keyword, body = instruction.keyword, instruction.text
            if keyword == "ARG":
                for name, default in df._arg_pairs(body):
                    value = build_args.get(
                        name, default if default is not None else global_args.get(name, "")
                    )
                    variables[name] = df.substitute(value, variables)
                continue
            expanded = df.substitute(body, variables)
            shown = f"#{step} [{label} {position}/{count}] {keyword} {body}"
            if keyword == "ENV":
                for name, value in df.env_pairs(expanded):
                    state.env[name] = value
                    variables[name] = value
            elif keyword == "WORKDIR":
                state.workdir = posixpath.normpath(posixpath.join(state.workdir, expanded))
            elif keyword in ("COPY", "ADD"):
                _copy(keyword, expanded, instruction, state, visible, names, stage, context)
                response.err(f"{shown}\n#{step} DONE 0.0s\n\n")
                step += 1
            elif keyword == "RUN":
                response.err(
                    f"{shown}\n#{step} (not run: the emulated docker builds no layers)\n\n"
                )
                step += 1
            elif keyword == "CMD":
                state.cmd = df.exec_form(body)
            elif keyword == "ENTRYPOINT":
                state.entrypoint = df.exec_form(body)
            elif keyword == "EXPOSE":
                for port in df.words(expanded):
                    state.exposed.append(port if "/" in port else f"{port}/tcp")
            elif keyword == "USER":
                state.user = expanded.strip()
            elif keyword == "HEALTHCHECK":
                state.healthcheck = _healthcheck(body)
        states[stage.index] = state
    result = states[final.index]
    config = image_records.ImageConfig(
        base=final.base,
        workdir=result.workdir,
        env=dict(result.env),
        entrypoint=result.entrypoint,
        cmd=result.cmd,
        exposed_ports=tuple(dict.fromkeys(result.exposed)),
        user=result.user,
        healthcheck=result.healthcheck,
        files=dict(sorted(result.files.items())),
    )
    return _local(visible, config), step


def _local(context: dict[str, bytes], config: image_records.ImageConfig) -> LocalImage:
    layer = bytearray()
    for path, data in sorted(config.files.items()):
        layer += path.encode() + b"\0" + str(len(data)).encode() + b"\0" + data
    config_blob = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Env": [f"{k}={v}" for k, v in config.env.items()],
                "Entrypoint": list(config.entrypoint) if config.entrypoint else None,
                "Cmd": list(config.cmd) if config.cmd else None,
                "WorkingDir": config.workdir,
                "ExposedPorts": {p: {} for p in config.exposed_ports},
                "User": config.user or "",
            },
            "base": config.base,
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + hashlib.sha256(bytes(layer)).hexdigest()],
            },
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    return LocalImage(dict(context), config, config_blob, bytes(layer))


def _needed(final: df.Stage, stages: list[df.Stage], names: dict[str, df.Stage]) -> set[int]:
    """The stages the target depends on (FROM <stage>, COPY --from=<stage>)."""
    needed: set[int] = set()
    todo = [final]
    while todo:
        stage = todo.pop()
        if stage.index in needed:
            continue
        needed.add(stage.index)
        references = [stage.base.lower()]
        for instruction in stage.instructions:
            if instruction.keyword in ("COPY", "ADD"):
                for word in df.words(instruction.text):
                    if word.startswith("--from="):
                        references.append(word.split("=", 1)[1].lower())
        for reference in references:
            if reference in names:
                todo.append(names[reference])
            elif reference.isdigit() and int(reference) < len(stages):
                todo.append(stages[int(reference)])
    return needed


def _copy_state(state: _StageState) -> _StageState:
    return _StageState(
        state.workdir,
        dict(state.env),
        state.entrypoint,
        state.cmd,
        list(state.exposed),
        state.user,
        state.healthcheck,
        dict(state.files),
    )


def _copy(
    keyword: str,
    expanded: str,
    instruction: df.Instruction,
    state: _StageState,
    visible: dict[str, bytes],
    names: dict[str, df.Stage],
    stage: df.Stage,
    context: dict[str, bytes],
) -> None:
    parts = df.words(expanded)
    flags = [p for p in parts if p.startswith("--")]
    args = [p for p in parts if not p.startswith("--")]
    if len(args) < 2:
        raise df.DockerfileError(
            f"failed to solve: dockerfile parse error on line {instruction.line}: "
            f"{keyword} requires at least two arguments, but only one was provided. "
            "Destination could not be determined"
        )
    *sources, dest = args
    source_stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
    if source_stage is not None:
        if source_stage.lower() in names and names[source_stage.lower()].index >= stage.index:
            raise df.DockerfileError(
                f"failed to solve: circular dependency detected on stage: {source_stage}"
            )
        return  # another stage's or image's files: not built here
    target = dest if dest.startswith("/") else posixpath.join(state.workdir, dest)
    into_directory = dest.endswith("/") or len(sources) > 1
    for source in sources:
        if keyword == "ADD" and re.match(r"^(https?://|git@)", source):
            continue  # fetched from the network by BuildKit: not checked here
        found = df.entries(source, visible)
        if not found:
            ref = df.checksum_ref(context)
            shown = "/" + posixpath.normpath(source.lstrip("/")).lstrip("./")
            raise df.DockerfileError(
                "failed to solve: failed to compute cache key: failed to calculate checksum of "
                f'ref {ref}: "{shown}": not found'
            )
        wildcard = any(c in source for c in "*?[")
        for entry, is_directory in found:
            if is_directory:
                # A directory's contents are copied, not the directory itself.
                for path in sorted(visible):
                    if entry and not path.startswith(entry + "/"):
                        continue
                    relative = path[len(entry) + 1 :] if entry else path
                    state.files[posixpath.normpath(posixpath.join(target, relative))] = visible[
                        path
                    ]
            elif into_directory or wildcard:
                state.files[posixpath.join(target, posixpath.basename(entry))] = visible[entry]
            else:
                state.files[posixpath.normpath(target)] = visible[entry]


def _healthcheck(body: str) -> tuple[str, ...] | None:
    words = body.split()
    if words and words[0].upper() == "NONE":
        return None
    while words and words[0].startswith("--"):
        words = words[1:]
    if words and words[0].upper() == "CMD":
        rest = body[body.upper().index("CMD") + 3 :]
        return df.exec_form(rest)
    return None


def _context_files(directory: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            if not path.is_file():
                continue
            files[path.relative_to(directory).as_posix()] = path.read_bytes()
            if len(files) > MAX_CONTEXT_FILES:
                raise OSError(f"the build context holds more than {MAX_CONTEXT_FILES} files")
    return files


# ------------------------------------------------------------------------------ references


def _host(server: str) -> str:
    server = server.removeprefix("https://").removeprefix("http://").rstrip("/")
    return "https://" + server.split("/", 1)[0]


def _normalize(name: str) -> str | None:
    """``name`` as ``<registry>/<path>:<tag>`` (docker.io/library/ for short names), or
    None when it is not a valid reference (docker's "invalid reference format")."""
    if "@" in name:
        return None  # digests are not tags; nothing here builds by digest
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "docker.io", name
    last = path.rsplit("/", 1)[-1]
    tag = "latest"
    if ":" in last:
        path, _, tag = path.rpartition(":")
    if registry == "docker.io" and "/" not in path:
        path = f"library/{path}"
    if not path or not all(_COMPONENT.fullmatch(c) for c in path.split("/")):
        return None
    if not _TAG.fullmatch(tag):
        return None
    return f"{registry}/{path}:{tag}"


def _display(reference: str) -> str:
    return reference


def _registry_error(exc: ClientError, repository: str, tag: str) -> str:
    """What docker prints for an ECR API refusal during a push or pull."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "")
    if code == "ImageTagAlreadyExistsException":
        return f"tag invalid: {message}"
    if code == "RepositoryNotFoundException":
        return f"name unknown: {message}"
    if code in ("AccessDeniedException", "AccessDenied"):
        return f"denied: {message}"
    return f"{code}: {message}"
