"""How long AWS takes for what it does by itself: the durations the emulator's clock uses.

Each duration names its source. Where AWS documents a number (a default, a quota, a
timeout) it is that number; where AWS documents none, the figure is a typical value
reported publicly, marked ``observed`` with where it was reported, so a reader can tell
a documented duration from a modelled one. The rehearsal lists them in its JSON output.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Duration:
    """A duration of the emulated AWS: seconds, what it is, and where the number is from."""

    seconds: float
    what: str
    source: str
    documented: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "seconds": self.seconds,
            "what": self.what,
            "source": self.source,
            "documented": self.documented,
        }


DURATIONS: dict[str, Duration] = {}


def duration(key: str, seconds: float, what: str, source: str, documented: bool = False) -> float:
    """Register a duration under ``key`` and return its seconds (module-level constants)."""
    DURATIONS[key] = Duration(seconds, what, source, documented)
    return seconds
