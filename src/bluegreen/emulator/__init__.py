"""The emulated AWS of a bluegreen system: moto, extended where moto lacks something.

    from bluegreen.emulator import Emulator
    with Emulator("ap-northeast-1") as aws:
        clients = aws.clients()            # what the operating commands take
        ...                                # deploy, push, status, promote ...
        aws.sleep(60)                      # a minute of simulated time passes

See :mod:`bluegreen.emulator.core` for how requests are served, and
:mod:`bluegreen.emulator.clock` for simulated time.
"""

from __future__ import annotations

from bluegreen.emulator.clock import Clock, Until, Wait
from bluegreen.emulator.core import ACCOUNT_ID, USER_ARN, Emulator
from bluegreen.emulator.service import PASS, Call, Service, ServiceError, operation

__all__ = [
    "ACCOUNT_ID",
    "PASS",
    "USER_ARN",
    "Call",
    "Clock",
    "Emulator",
    "Service",
    "ServiceError",
    "Until",
    "Wait",
    "operation",
]
