"""CloudFormation resource types the rehearsal can provision, one provisioner each.

Importing this package registers every provisioner in :data:`REGISTRY`.
"""

from __future__ import annotations

from bluegreen.emulator.cloudformation.resources import cicd, compute, monitoring, network
from bluegreen.emulator.cloudformation.resources.registry import (
    REGISTRY,
    Context,
    Provisioned,
    Resource,
    spec_for,
)

__all__ = [
    "REGISTRY",
    "Context",
    "Provisioned",
    "Resource",
    "cicd",
    "compute",
    "monitoring",
    "network",
    "spec_for",
]
