"""Lead time per release: the seed's flow, bluegreen's defaults, and reroute "auto" with checks.

Each column is a real rehearsal (the story `bluegreen rehearse` plays: deploy, then the
seed's greeting change pushed; each run in a fresh process) under a config (what
`bluegreen init` writes, config.scaffold, with the column's settings), and its
figures are the rehearsal's own JSON (`releases[].lead_time`, the document `bluegreen
rehearse --output json` prints): push to production and push to done, each the sum of
parts read back from the emulated AWS, each part naming its sourced durations
(bluegreen.emulator.timing) and settings.

- **seed**: the seed post's settings played by bluegreen's pipeline: reroute "manual"
  with its 10-minute wait, its termination wait (the post's deployment group kept the
  old tasks 1 h 15 min, seed line 172), the load balancer's default health check (the
  post sets none: interval 30 s, healthy threshold 5, CreateTargetGroup defaults). Two
  differences from bluegreen's pipeline are applied to the parts, and printed: the seed
  builds both images in parallel on every push, so its Build stage takes the app build
  alone (both builds are full builds of the same modelled length) and the router build's
  parts are dropped; and a person presses "Reroute traffic", which the issue counts at
  the end of the 10-minute wait, so the reroute-wait part becomes 600 s.
- **defaults**: what `bluegreen init` writes (reroute "manual" and its GET / check;
  promoted at the rehearsal's first status read that sees the deployment Ready: a
  person's own reaction is not counted).
- **auto+checks**: the same with reroute "auto": init's GET / check (three requests
  through the test listener, run by the hook) replaces the manual wait, and production
  moves when it passes; the default health settings.

    .venv/bin/python bench/leadtime.py [--json]

No wall-clock figure here: lead times are simulated seconds (the model), measured the
same on any machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SEED = {
    "deployment": {"reroute": "manual", "wait_minutes": 10, "termination_wait_minutes": 75},
    "verify": {"checks": []},  # a person looks at :8080 instead
    "health_check": {
        "interval_seconds": 30,
        "timeout_seconds": 5,
        "healthy_threshold": 5,
        "unhealthy_threshold": 2,
    },
}
DEFAULTS: dict[str, Any] = {}
AUTO_WITH_CHECKS = {"deployment": {"reroute": "auto"}}  # with init's GET / check
COLUMNS = (("seed", SEED), ("defaults", DEFAULTS), ("auto+checks", AUTO_WITH_CHECKS))
BAR_SECONDS = 330  # issue 11: push to production at most 5.5 minutes

_RUN = """
import json, sys
from bluegreen import config
from bluegreen.rehearse.story import Options, run
result = run(Options(config.scaffold(json.loads(sys.argv[1]))))
json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, default=str)
"""


def rehearse(data: dict[str, Any]) -> dict[str, Any]:
    """One rehearsal of the scaffold's two releases under ``data``, in a fresh process."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps(data)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def _seed_parts(
    parts: list[dict[str, Any]], wait_seconds: float
) -> tuple[list[dict[str, Any]], list[str]]:
    """The seed's flow from bluegreen's parts: parallel builds (the router build's parts
    dropped), and the person's reroute at the end of the wait."""
    out, changes = [], []
    for part in parts:
        what = str(part["what"])
        if what.startswith("Build/BuildRouter"):
            changes.append(f"dropped (parallel builds): {what} {part['seconds']} s")
            continue
        if what.startswith("the reroute wait"):
            changes.append(
                f"a person reroutes at the end of the wait: {part['seconds']} s -> {wait_seconds} s"
            )
            part = {**part, "seconds": wait_seconds}
        out.append(part)
    return out, changes


def figures(name: str, document: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    wait = float(SEED["deployment"]["wait_minutes"]) * 60  # type: ignore[index]
    for release in document["releases"]:
        lead = release.get("lead_time")
        if not lead:
            rows.append(
                {"column": name, "release": release["number"], "outcome": release["outcome"]}
            )
            continue
        row: dict[str, Any] = {"column": name, "release": release["number"], "changes": []}
        for key in ("push_to_production", "push_to_done"):
            parts = list(lead[key]["parts"])
            if name == "seed":
                parts, changes = _seed_parts(parts, wait)
                if key == "push_to_done":
                    row["changes"] = changes
            seconds = round(sum(float(p["seconds"]) for p in parts), 1)
            if name != "seed":
                assert seconds == lead[key]["seconds"], (name, key)  # the JSON adds up
            row[key] = seconds
            row[f"{key}_parts"] = parts
        rows.append(row)
    return rows


def _span(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes:>3} min {rest:02d} s"


def _group(parts: list[dict[str, Any]]) -> dict[str, float]:
    """Release 2's push to production by kind: trigger and source, builds, Install,
    verification or the reroute wait, the rest (CodeDeploy's events, polling)."""
    kinds = {"trigger+source": 0.0, "builds": 0.0, "install": 0.0, "checks/wait": 0.0, "other": 0.0}
    for part in parts:
        what = str(part["what"])
        if what.startswith(("the push", "deploy creates", "Source/")):
            kind = "trigger+source"
        elif what.startswith("Build/"):
            kind = "builds"
        elif what.startswith("Install:"):
            kind = "install"
        elif what.startswith(("the reroute wait", "AfterAllowTestTraffic")):
            kind = "checks/wait"
        else:
            kind = "other"
        kinds[kind] += float(part["seconds"])
    return {k: round(v, 1) for k, v in kinds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for name, data in COLUMNS:
        print(f"rehearsing {name} ...", file=sys.stderr)
        rows.extend(figures(name, rehearse(data)))
    if args.json:
        json.dump(rows, sys.stdout, indent=1, ensure_ascii=False)
        print()
        return
    print(f"{'flow':<12} {'release':>7}  {'push -> production':>18}  {'push -> done':>16}")
    for row in rows:
        if "push_to_production" not in row:
            print(f"{row['column']:<12} {row['release']:>7}  {row['outcome']}")
            continue
        print(
            f"{row['column']:<12} {row['release']:>7}  {_span(row['push_to_production']):>18}  "
            f"{_span(row['push_to_done']):>16}"
        )
    print()
    print("release 2 (a pushed change), push -> production by kind (seconds):")
    for row in rows:
        if row["release"] == 2 and "push_to_production_parts" in row:
            print(f"  {row['column']:<12} {_group(row['push_to_production_parts'])}")
    for row in rows:
        for change in row.get("changes", []):
            print(f"  seed release {row['release']}: {change}")
    auto = next(r for r in rows if r["column"] == "auto+checks" and r["release"] == 2)
    verdict = "met" if auto["push_to_production"] <= BAR_SECONDS else "NOT met"
    print(
        f"bar (issue 11): auto+checks release 2 push -> production "
        f"{auto['push_to_production']} s <= {BAR_SECONDS} s: {verdict}"
    )


if __name__ == "__main__":
    main()
