"""The simulated clock: every wait of a release, measured, never slept.

Durations come from the system itself (health-check interval × healthy threshold read
from the target group, the deployment group's wait and termination times, the deployment
config's canary or linear intervals). Time starts at T+00:00:00 at the first release;
commits are dated from the same clock (from the seed post's date), so the rehearsal's
git history is deterministic.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

EPOCH = datetime(2021, 9, 19, 10, 0, 0, tzinfo=timezone(timedelta(hours=9)))
"""T+0: the morning the seed post was published (JST)."""


class Clock:
    """Seconds since T+0, advanced explicitly."""

    def __init__(self) -> None:
        self.seconds = 0

    def advance(self, seconds: int) -> None:
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        self.seconds += int(seconds)

    @property
    def stamp(self) -> str:
        return stamp(self.seconds)

    @property
    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.seconds)


def stamp(seconds: int) -> str:
    """``T+hh:mm:ss`` (hours grow past 24 rather than wrapping)."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"T+{hours:02d}:{minutes:02d}:{secs:02d}"


def span(seconds: int) -> str:
    """A duration for people: ``30 s``, ``5 min``, ``1 h 15 min``."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes:
        parts.append(f"{minutes} min")
    if secs:
        parts.append(f"{secs} s")
    return " ".join(parts)
