"""``bluegreen rollback``: put production back on the original (blue) tasks."""

from __future__ import annotations

from bluegreen import engine
from bluegreen.cli import common
from bluegreen.cli.app import app
from bluegreen.cli.common import ConfigOpt, ProfileOpt, RegionOpt, out


@app.command()
def rollback(
    config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None
) -> None:
    """Stop the deployment in progress and roll back to the original task set.

    Works until the original tasks are gone: before reroute, while traffic shifts, and
    during the termination wait (CodeDeploy's stop-and-roll-back). If the deployment has
    just succeeded while the original task set still runs healthy, both listeners are
    pointed back at it. Refuses (exit 1) once the original tasks are gone.
    """
    cfg, _ = common.load_config(config)
    result = engine.select(common.make_clients(cfg, profile, region), cfg).rollback()
    out.print(result.message, markup=False)
