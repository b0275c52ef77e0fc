"""``bluegreen rehearse``: the whole system and its releases on the emulated AWS.

    from bluegreen.rehearse import Options, run
    result = run(Options(config))          # a Rehearsal: releases, steps, summary
    result.to_dict()                       # what --output json prints

- :mod:`~bluegreen.rehearse.story`: the story, played through the operating code (deploy,
  git push, the release follower, promote, rollback) against :mod:`bluegreen.emulator`;
- :mod:`~bluegreen.rehearse.recorder`: the timeline: a row per operation, and a row
  whenever what ``bluegreen status`` reads changes;
- :mod:`~bluegreen.rehearse.repository`: the application repository as a git repository;
- :mod:`~bluegreen.rehearse.model`: the result (releases and their steps);
- :mod:`~bluegreen.rehearse.clock`: where simulated time starts, and how it is written.
"""

from __future__ import annotations

from bluegreen.rehearse.model import Rehearsal, Release, Step, TaskSetState
from bluegreen.rehearse.story import FAULTS, SCENARIOS, Options, run

__all__ = [
    "FAULTS",
    "SCENARIOS",
    "Options",
    "Rehearsal",
    "Release",
    "Step",
    "TaskSetState",
    "run",
]
