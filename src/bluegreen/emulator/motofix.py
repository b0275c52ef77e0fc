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

And one more: moto's EC2 models read every region's instance type offerings (90 JSON
files, ~0.4 s) when they are imported; a Fargate system never asks for them (no
RunInstances, DescribeInstanceTypeOfferings or spot prices). They are read when first
asked for instead (:func:`defer_instance_type_offerings`), the same data.
"""

from __future__ import annotations

import os
import sys
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


_OFFERINGS_MODULE = "moto.ec2.models.instance_types"


class _Offerings(dict[str, Any]):
    """One location type's offerings by region (moto's ``INSTANCE_TYPE_OFFERINGS[type]``),
    read from moto's files the first time anything looks: what moto's import would have
    read (each offering with its ``LocationType``)."""

    def __init__(self, directory: str, location_type: str) -> None:
        super().__init__()
        self._directory = directory
        self._location_type = location_type
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        from moto.utilities.utils import load_resource

        base = os.path.join(self._directory, self._location_type)
        for data_file in os.listdir(base):
            offerings = load_resource(
                os.path.join(
                    "ec2", "resources", "instance_type_offerings", self._location_type, data_file
                )
            )
            for offering in offerings:
                offering["LocationType"] = self._location_type
            dict.__setitem__(self, data_file.split(".")[0], offerings)

    def __getitem__(self, key: str) -> Any:
        self._load()
        return dict.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        self._load()
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        self._load()
        return dict.__contains__(self, key)

    def __iter__(self) -> Any:
        self._load()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._load()
        return dict.__len__(self)

    def keys(self) -> Any:
        self._load()
        return dict.keys(self)

    def values(self) -> Any:
        self._load()
        return dict.values(self)

    def items(self) -> Any:
        self._load()
        return dict.items(self)


def defer_instance_type_offerings() -> None:
    """Import moto's EC2 models without reading the instance type offerings; each location
    type's are read on first use (:class:`_Offerings`). Once per process, before anything
    imports moto's EC2 models (a later call, or an earlier import, changes nothing)."""
    if _OFFERINGS_MODULE in sys.modules:
        return
    import moto

    directory = os.path.join(
        os.path.dirname(moto.__file__), "ec2", "resources", "instance_type_offerings"
    )
    listdir = os.listdir

    def no_files(path: Any = ".") -> list[str]:
        # moto lists the location types, then each one's files: the files are for later.
        if os.path.dirname(os.fspath(path)) == directory:
            return []
        return listdir(path)

    os.listdir = no_files  # type: ignore[assignment]
    try:
        import moto.ec2.models.instance_types as module
    finally:
        os.listdir = listdir
    setattr(module, "listdir", listdir)  # noqa: B010 - its own name for os.listdir
    for location_type in list(module.INSTANCE_TYPE_OFFERINGS):
        module.INSTANCE_TYPE_OFFERINGS[location_type] = _Offerings(directory, location_type)


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
