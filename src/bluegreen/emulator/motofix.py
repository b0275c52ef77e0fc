"""Where moto's behaviour differs from AWS's in a way the system depends on, corrected
while an emulator runs (and restored when it stops). moto is pinned to its tested minor
(pyproject) because these reach into its models; tests/test_emulator_motofix.py holds
each correction to AWS's documented behaviour.

- S3 bucket policies: moto evaluates them without the request's context, so a Deny
  conditioned on ``aws:SecureTransport = false`` (AWS's recommended TLS-only policy,
  S3 User Guide, "Bucket policy examples") denies every request. Evaluated here with
  the context of a request AWS would receive over TLS.

And one that only costs time: moto asks a fresh ``boto3.Session`` for the regions of a
service each time it builds a backend (and three times when its EC2 models are
imported); every fresh session parses botocore's endpoints and EC2 API model again
(~1 s per rehearsal). The answers are static data of the installed botocore, so they are
kept for the process, read through the one loader (:func:`shared_loader`) the emulator's
clients and moto's serializers read their models through as well: each botocore data
file (endpoints.json, ec2's 2 MB API model) is parsed once per process, not once per
loader (~0.4 s per rehearsal).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bluegreen.emulator.policy import Decision, evaluate

Restore = Callable[[], None]

# What every request to the emulated AWS carries as global condition keys: SDK and CLI
# requests reach AWS over TLS (the sandbox's loopback HTTP is the emulator's own link).
REQUEST_CONTEXT = {"aws:SecureTransport": "true"}


_SHARED: list[Any] = []
_LOADER: list[Any] = []


def shared_loader() -> Any:
    """The process's one botocore data loader (it caches what it parsed)."""
    if not _LOADER:
        from botocore.loaders import create_loader

        _LOADER.append(create_loader())
    return _LOADER[0]


def _remember_regions() -> Restore:
    """Answer every session's region questions from one session, whose loader parses
    botocore's data files once."""
    from boto3.session import Session

    regions, partitions = Session.get_available_regions, Session.get_available_partitions

    def shared() -> Any:
        if not _SHARED:
            session = Session()
            session._session.register_component("data_loader", shared_loader())
            _SHARED.append(session)
        return _SHARED[0]

    def get_available_regions(self: Any, *args: Any, **kwargs: Any) -> Any:
        return regions(shared(), *args, **kwargs)

    def get_available_partitions(self: Any) -> Any:
        return partitions(shared())

    Session.get_available_regions = get_available_regions
    Session.get_available_partitions = get_available_partitions

    def restore() -> None:
        Session.get_available_regions = regions
        Session.get_available_partitions = partitions

    return restore


def install() -> list[Restore]:
    from moto.iam.access_control import PermissionResult
    from moto.s3 import models

    original = models.FakeBucket.get_permission

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        text = self.policy.decode() if isinstance(self.policy, bytes) else self.policy
        decision = evaluate([text], action, resource, REQUEST_CONTEXT, principal="*")
        return {
            Decision.ALLOW: PermissionResult.PERMITTED,
            Decision.DENY: PermissionResult.DENIED,
            Decision.NEUTRAL: PermissionResult.NEUTRAL,
        }[decision]

    models.FakeBucket.get_permission = get_permission  # type: ignore[method-assign]

    def restore() -> None:
        models.FakeBucket.get_permission = original  # type: ignore[method-assign]

    return [restore, _remember_regions()]
