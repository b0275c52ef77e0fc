"""The ``sleep`` a build finds on its PATH: it waits on the emulator's clock.

A played build runs its commands for real, but at simulated moments: a deploy step that
polls a deployment (``while ...; do aws ...; sleep 15; done``) must see the deployment
move between two polls, which happens only when simulated time passes. So ``sleep`` is a
stand-in like ``aws``: its request is parked (:class:`~.server.Parked`) until the build's
process has let that many simulated seconds pass, meanwhile the rest of the emulated AWS
(the deployment the build follows) moves on.

The arguments are GNU coreutils sleep's (the build images' sleep, Amazon Linux and
Ubuntu): one or more ``NUMBER[SUFFIX]``, summed, NUMBER an integer or a decimal, SUFFIX
``s`` (seconds, the default), ``m``, ``h`` or ``d``; ``infinity`` waits until the build
ends (coreutils manual, "sleep invocation":
https://www.gnu.org/software/coreutils/manual/html_node/sleep-invocation.html).
"""

from __future__ import annotations

import math
import re

from bluegreen.emulator.standins.server import Parked, Request, Response

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_INTERVAL = re.compile(r"^(?:(\d+(?:\.\d*)?|\.\d+)|(inf|infinity))([smhd]?)$", re.IGNORECASE)


def seconds(args: list[str]) -> float:
    """The total of ``args`` in seconds; ValueError (naming the bad operand, as coreutils
    words it) when an operand is not an interval or there is none."""
    operands = [a for a in args if a != "--"]
    if not operands:
        raise ValueError("missing operand")
    total = 0.0
    for operand in operands:
        found = _INTERVAL.match(operand)
        if found is None:
            raise ValueError(f"invalid time interval '{operand}'")
        number, infinite, unit = found.groups()
        total += math.inf if infinite else float(number) * _UNITS[unit.lower()]
    return total


def sleep(request: Request) -> Response:
    """Park the ``sleep`` (the build's process answers it once the time has passed), or
    fail as coreutils does (status 1, the reason on standard error)."""
    try:
        wanted = seconds(request.argv)
    except ValueError as exc:
        return Response().fail(f"sleep: {exc}\nTry 'sleep --help' for more information.", 1)
    return Parked(seconds=wanted)
