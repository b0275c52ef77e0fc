"""``bluegreen rehearse``: the whole system and real releases on an embedded AWS emulator.

    from bluegreen.rehearse import Options, run
    result = run(Options(config))          # a Rehearsal: releases, steps, summary
    result.to_dict()                       # what --output json prints

How it fits together (one module each, in the order a rehearsal uses them):

- :mod:`~bluegreen.emulator.cloudformation.template`: load the synthesized YAML, evaluate
  intrinsics;
- :mod:`~bluegreen.rehearse.provision` + :mod:`~bluegreen.emulator.cloudformation.resources`:
  create every resource through botocore-validated calls against moto (``bluegreen.aws.emulator``);
- :mod:`~bluegreen.rehearse.repository`: the application repository as git commits;
- :mod:`~bluegreen.rehearse.trigger`: does a push start the pipeline (EventBridge rule);
- :mod:`~bluegreen.rehearse.pipeline` + :mod:`~bluegreen.rehearse.build`: the pipeline read
  back, its CodeBuild actions played (images into ECR, imageDetail.json, taskdef.json);
- :mod:`~bluegreen.rehearse.codedeploy` + :mod:`~bluegreen.rehearse.fleet`: CodeDeploy's ECS
  blue/green lifecycle simulated on emulated ECS and ELBv2;
- :mod:`~bluegreen.rehearse.observe` + :mod:`~bluegreen.rehearse.model`: the state read back
  at every step, on the :mod:`~bluegreen.rehearse.clock`;
- :mod:`~bluegreen.rehearse.runner`: all of it, release by release.
"""

from __future__ import annotations

from bluegreen.rehearse.model import Rehearsal, Release, Step, TaskSetState
from bluegreen.rehearse.runner import FAULTS, Options, run

__all__ = ["FAULTS", "Options", "Rehearsal", "Release", "Step", "TaskSetState", "run"]
