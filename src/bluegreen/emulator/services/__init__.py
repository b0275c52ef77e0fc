"""The services bluegreen adds to moto, one module each; :func:`install` makes them live.

Each module defines :class:`~bluegreen.emulator.service.Service` subclasses (the operations
it serves itself; everything else of that AWS service falls through to moto). A service
may also offer a Python API to the other services for what AWS does internally and no
public API shows (CodeDeploy managing an ECS service's task sets, ECS registering a
task's IP with a target group).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

# Modules whose Service subclasses are installed, in the order they are created (a
# service may look up the ones before it when it is created).
MODULES: tuple[str, ...] = (
    "iam",
    "logs",
    "cloudwatch",
    "elbv2",
    "ecs",
    "codedeploy",
    "codecommit",
    "codeconnections",
    "events",
    "ecr",
    "s3",
    "codebuild",
    "codepipeline",
    "cloudformation",
)


def install(emulator: Emulator) -> None:
    """Create every service of :data:`MODULES` for ``emulator``."""
    from bluegreen.emulator.service import Service

    for name in MODULES:
        module = importlib.import_module(f"bluegreen.emulator.services.{name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Service)
                and value is not Service
                and value.__module__ == module.__name__
                and value.name
            ):
                emulator.services[value.name] = value(emulator)
