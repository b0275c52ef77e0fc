"""What an image pushed to the emulated ECR holds, for whoever runs it.

A build's ``docker push`` (the stand-in of :mod:`bluegreen.emulator.standins.docker`)
records two things per pushed ``<repositoryUri>:<tag>``:

- ``emulator.images[uri]``: the files of the image's build context after
  ``.dockerignore`` (context-relative path -> bytes), as before: ``Dockerfile``,
  ``app/main.py``, ``extra.conf``... (when the build named another Dockerfile with ``-f``,
  its text is under ``Dockerfile``);
- :func:`config` ``(emulator, uri)``: an :class:`ImageConfig`, what the Dockerfile's final
  stage says about running the image, the way ``docker inspect`` shows an image's
  ``Config`` (WorkingDir, Env, Entrypoint, Cmd, ExposedPorts, User, Healthcheck), plus
  the context files the final stage copies into the image at their image paths.

A data plane that starts a container from an image reads both: the command is
``entrypoint + cmd`` (a task definition's ``entryPoint``/``command`` replace them, as on
ECS), run in ``workdir`` with ``env`` (then the task definition's environment), with
``files`` laid out under a root directory. What the image's ``RUN`` steps and base image
would have added (installed packages, ``COPY --from`` another stage or image) is not
there: no layer is built.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator


@dataclass(frozen=True)
class ImageConfig:
    """The runnable side of an image (docker image ``Config``) and the files copied into it."""

    base: str
    """The final stage's ``FROM`` (``python:3.12.11-slim-bookworm``)."""
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    """``ENV`` of the final stage, in order (the base image's own variables are unknown)."""
    entrypoint: tuple[str, ...] | None = None
    """Exec form; a shell-form ``ENTRYPOINT x`` is ``("/bin/sh", "-c", "x")``."""
    cmd: tuple[str, ...] | None = None
    """Exec form, likewise."""
    exposed_ports: tuple[str, ...] = ()
    """``("8080/tcp",)``."""
    user: str | None = None
    healthcheck: tuple[str, ...] | None = None
    """``HEALTHCHECK CMD``'s command in exec form (None: no health check, or NONE)."""
    files: dict[str, bytes] = field(default_factory=dict)
    """Absolute image path -> bytes: the context files the final stage's ``COPY``/``ADD``
    put into the image (``/srv/app/main.py``)."""
    digest: str = ""
    """The image's manifest digest in ECR (``sha256:...``)."""

    def command(self) -> tuple[str, ...]:
        """What a container of the image runs with no override: entrypoint + cmd."""
        return (self.entrypoint or ()) + (self.cmd or ())


_CONFIGS: weakref.WeakKeyDictionary[Emulator, dict[str, ImageConfig]]
_CONFIGS = weakref.WeakKeyDictionary()


def record(emulator: Emulator, uri: str, image: ImageConfig) -> None:
    """Remember what the image pushed as ``uri`` (``<repositoryUri>:<tag>``) holds."""
    _CONFIGS.setdefault(emulator, {})[uri] = image


def config(emulator: Emulator, uri: str) -> ImageConfig | None:
    """The :class:`ImageConfig` of the image pushed as ``uri``, if a build pushed it. An
    image referenced by digest (``<repositoryUri>@sha256:...``) is found by its digest."""
    known = _CONFIGS.get(emulator, {})
    found = known.get(uri)
    if found is None and "@" in uri:
        repository, _, digest = uri.partition("@")
        found = next(
            (
                c
                for u, c in known.items()
                if c.digest == digest and u.rsplit(":", 1)[0] == repository
            ),
            None,
        )
    return found
