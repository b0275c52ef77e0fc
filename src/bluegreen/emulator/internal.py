"""The calls AWS services make on the system's behalf, as the role they act as.

:meth:`bluegreen.emulator.core.Emulator.client` builds a botocore client acting as a
principal, marked internal (issue 9 evaluates the role's IAM policies on exactly these
calls). Building a botocore client costs ~70 ms, so the emulated services share one per
(service, principal) for the emulator's lifetime.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], Any]] = weakref.WeakKeyDictionary()


def client(emulator: Emulator, service: str, principal: str) -> Any:
    """An internal client of ``service`` acting as ``principal`` (cached)."""
    clients = _CACHE.setdefault(emulator, {})
    key = (service, principal)
    if key not in clients:
        clients[key] = emulator.client(service, principal=principal, internal=True)
    return clients[key]
