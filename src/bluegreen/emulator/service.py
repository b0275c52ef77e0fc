"""What every emulated service is made of: operations, AWS-shaped errors, the caller.

A service is a class whose methods are AWS operations::

    class CodeCommit(Service):
        name = "codecommit"

        @operation("GetBranch")
        def get_branch(self, params: Params, call: Call) -> Result:
            ...
            raise ServiceError("BranchDoesNotExistException", f"Branch {name} does not exist")

The dispatcher parses the request against the real API model (botocore's), so ``params``
hold exactly what a client sent, typed as the model says (datetimes, bytes, ints), and
serializes the returned dict back against the model, so a result that breaks the API's
output shape never reaches a client. Errors are raised as :class:`ServiceError` with the
error code AWS documents for the operation; they reach clients exactly as AWS's do.

An operation the service does not define falls through to moto. An operation may also
inspect a request and then let moto serve it (refusals that moto does not make): it
returns :data:`PASS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from moto.core.exceptions import ServiceException

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

Params = dict[str, Any]
Result = dict[str, Any]


class ServiceError(ServiceException):
    """An AWS error: its code (an error shape of the service's API model) and message."""

    def __init__(self, code: str, message: str, **fields: Any) -> None:
        super().__init__(code, message)
        for key, value in fields.items():
            setattr(self, key, value)


class _Pass:
    def __repr__(self) -> str:
        return "PASS"


PASS: Any = _Pass()
"""Returned by an operation that has checked a request and lets moto serve it."""


@dataclass(frozen=True)
class Call:
    """Who calls, and how: the caller's identity and the request's region."""

    service: str
    operation: str
    region: str
    principal: str  # the caller's ARN: a user, or a role a service assumed
    internal: bool = False  # made by the emulator itself on a service's behalf
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def action(self) -> str:
        return f"{self.service}:{self.operation}"


Handler = Callable[[Any, Params, Call], Result]


def operation(name: str) -> Callable[[Handler], Handler]:
    """Mark a method as the handler of AWS operation ``name``."""

    def mark(method: Handler) -> Handler:
        method.__dict__["_aws_operation"] = name
        return method

    return mark


class Service:
    """Base class: the operations of one AWS service that the emulator serves itself."""

    name: ClassVar[str] = ""
    """botocore's service name (``codecommit``, ``elbv2``, ``cloudformation``...)."""

    _operations: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for attribute, value in vars(klass).items():
                name = getattr(value, "_aws_operation", None)
                if name:
                    found[name] = attribute
        cls._operations = found

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    @classmethod
    def operations(cls) -> frozenset[str]:
        return frozenset(cls._operations)

    def serves(self, operation_name: str) -> bool:
        return operation_name in self._operations

    def handle(self, operation_name: str, params: Params, call: Call) -> Result:
        method = getattr(self, self._operations[operation_name])
        result: Result = method(params, call)
        return result

    # -- helpers every service uses ------------------------------------------------------
    @property
    def account_id(self) -> str:
        return self.emulator.account_id

    @property
    def region(self) -> str:
        return self.emulator.region

    def arn(self, resource: str, *, service: str | None = None, region: bool = True) -> str:
        where = self.region if region else ""
        return f"arn:aws:{service or self.name}:{where}:{self.account_id}:{resource}"
