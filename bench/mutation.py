"""Mutation score of the test suite over config, names, engine/ and aws/ (run outside CI).

mutmut (a maintained mutation tester) makes small changes to the code ("mutants": an
operator flipped, a constant changed, a call's argument dropped) and runs the tests that
cover each changed function; a mutant the tests do not notice "survived". The score is
the share of mutants killed: the issue's bar is 85 %.

These modules give several thousand mutants, and the suite's end-to-end tests take
seconds each, so testing every mutant on a 2-core machine takes most of a day. By
default the script tests a random sample of them (the same sample for the same seed),
drawn in proportion from each area, and reports the score with its 95 % confidence
interval (Wilson); ``--all`` tests every mutant.

It works on a copy of the tracked files (``--workdir``, kept between runs so mutmut's
cache is reused), never in the working tree. Needs mutmut: ``pip install -e '.[mutation]'``.

    .venv/bin/python bench/mutation.py [--sample 400] [--seed 7] [--all] [--jobs 2]
        [--area config names engine aws] [--survivors] [--rerun] [--tests FILE ...]
        [--only 'bluegreen.aws.status.*']

``--tests`` runs only the named test files against each mutant: much faster, and a lower
bound on the whole suite's score (a mutant these tests kill, the suite kills too); use its
own ``--workdir``. ``--only`` keeps the mutants whose name matches a pattern (one module or
function), to work on one part at a time.

A result is kept between runs (in the workdir): only sampled mutants without one are
tested, unless ``--rerun``. After the tests change, use a new ``--workdir`` (or
``--rerun``) so that no result predates them.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

AREAS = {
    "config": "src/bluegreen/config.py",
    "names": "src/bluegreen/names.py",
    "engine": "src/bluegreen/engine/*",
    "aws": "src/bluegreen/aws/*",
}

# Tests that never run bluegreen's code in this process (subprocesses, linters) cannot
# kill a mutant and would only cost time.
IGNORED_TESTS = ("tests/test_quality.py", "tests/test_sandbox.py")
DESELECTED_TESTS = (
    "tests/test_aws_network.py::test_a_real_ctrl_c_exits_130_and_says_what_was_left",
)

KILLED = {1, 3, 24, -24, 152, 255, 36, 37}  # mutmut: failed, errored, timed out, type check
SURVIVED = {0}
NO_TESTS = {5, 33}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sample", type=int, default=400, help="mutants to test (default 400)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--all", action="store_true", help="test every mutant (hours)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--area", nargs="+", choices=sorted(AREAS), default=sorted(AREAS))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bluegreen-mutation"))
    parser.add_argument("--survivors", action="store_true", help="print each survivor's diff")
    parser.add_argument(
        "--rerun", action="store_true", help="test again the sampled mutants that have a result"
    )
    parser.add_argument(
        "--tests",
        nargs="+",
        default=[],
        help="only these test files (a lower bound on the suite's score; fast)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        default=[],
        metavar="PATTERN",
        help="only mutants whose name matches one of these patterns (fnmatch)",
    )
    args = parser.parse_args()

    if shutil.which("git") is None:
        sys.exit("needs git (to list the tracked files)")
    try:
        import mutmut  # noqa: F401
    except ImportError:
        sys.exit("needs mutmut: pip install -e '.[mutation]'")

    work = _prepare(args.workdir, [AREAS[a] for a in args.area], args.tests)
    started = time.perf_counter()
    everything = _all_mutants(work, args.jobs)
    if args.only:
        everything = [n for n in everything if any(fnmatch(n, p) for p in args.only)]
    chosen = everything if args.all else _sample(everything, args.sample, args.seed)
    print(f"{len(everything)} mutants in {', '.join(args.area)}; testing {len(chosen)}", flush=True)
    known = _meta(work)
    pending = chosen if args.rerun else [n for n in chosen if known.get(n) is None]
    print(f"{len(chosen) - len(pending)} already have a result; running {len(pending)}", flush=True)
    if pending:
        _mutmut(work, ["run", "--max-children", str(args.jobs), *sorted(pending)])
    results = _meta(work)
    _report(chosen, results, time.perf_counter() - started)
    if args.survivors:
        for name in sorted(n for n in chosen if results.get(n) in SURVIVED):
            print(_mutmut(work, ["show", name], capture=True))


def _prepare(work: Path, only: list[str], tests: list[str]) -> Path:
    """A copy of the tracked files with mutmut's configuration (kept: mutmut caches)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        source, target = ROOT / rel, work / rel
        if source.is_file() and (not target.exists() or target.read_bytes() != source.read_bytes()):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    ignore = [arg for test in IGNORED_TESTS for arg in ("--ignore", test)]
    ignore += [arg for test in DESELECTED_TESTS for arg in ("--deselect", test)]
    config = (
        "\n[tool.mutmut]\n"
        'source_paths = ["src/"]\n'
        f"only_mutate = {json.dumps(only)}\n"
        f"pytest_add_cli_args = {json.dumps(['-p', 'no:xdist', *ignore])}\n"
    )
    if tests:
        config += f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
    # mutmut runs the tests in mutants/, a copy of src/ and tests/ it makes once and later
    # regenerates only the Python files it mutates: the data files (the config template,
    # the sample app) and the files tests read from the project root (README.md) are
    # synced here.
    copied = work / "mutants"
    copied.mkdir(exist_ok=True)
    for raw in filter(None, listed):
        rel = raw.decode()
        if rel.endswith(".py") or rel.startswith("tests/") or rel == "pyproject.toml":
            continue
        if (ROOT / rel).is_file():
            target = copied / rel
            if not target.exists() or target.read_bytes() != (ROOT / rel).read_bytes():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / rel, target)
    pyproject = work / "pyproject.toml"
    pyproject.write_text((ROOT / "pyproject.toml").read_text() + config)
    return work


def _mutmut(work: Path, args: list[str], capture: bool = False) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=work,
        capture_output=capture,
        text=True,
        check=False,
    )
    return done.stdout if capture else ""


def _meta(work: Path) -> dict[str, int | None]:
    codes: dict[str, int | None] = {}
    for meta in (work / "mutants" / "src").rglob("*.meta"):
        codes.update(json.loads(meta.read_text())["exit_code_by_key"])
    return codes


def _all_mutants(work: Path, jobs: int) -> list[str]:
    """Every mutant's name: mutmut generates them on its first run. It has no command that
    only generates, so that run asks for a mutant no area has: mutmut writes every mutant,
    then stops because nothing matches (the tests are mapped to functions on the next run)."""
    if not _meta(work):
        # Its output (a traceback of "nothing matches") is expected, so it is not shown.
        _mutmut(
            work, ["run", "--max-children", str(jobs), "bluegreen.no-such-module.*"], capture=True
        )
    names = sorted(_meta(work))
    if not names:
        sys.exit(f"mutmut generated no mutants in {work}; run it there to see why")
    return names


def _area(name: str) -> str:
    """bluegreen.aws.deploy.x_f__mutmut_3 -> aws"""
    return name.split(".")[1]


def _sample(names: list[str], size: int, seed: int) -> list[str]:
    """A random sample with each area's share of the mutants (at least one each)."""
    if size >= len(names):
        return names
    by_area: dict[str, list[str]] = {}
    for name in names:
        by_area.setdefault(_area(name), []).append(name)
    rng = random.Random(seed)
    chosen: list[str] = []
    for _area_name, members in sorted(by_area.items()):
        share = max(1, round(size * len(members) / len(names)))
        chosen += rng.sample(members, min(share, len(members)))
    return chosen


def _wilson(killed: int, total: int) -> tuple[float, float]:
    if total == 0:
        return (0.0, 0.0)
    z = 1.96
    p = killed / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (centre - margin, centre + margin)


def _report(chosen: list[str], results: dict[str, int | None], seconds: float) -> None:
    rows: dict[str, Counter[str]] = {}
    for name in chosen:
        code = results.get(name)
        kind = (
            "killed"
            if code in KILLED
            else "survived"
            if code in SURVIVED
            else "no tests"
            if code in NO_TESTS
            else "not run"
        )
        rows.setdefault(_area(name), Counter())[kind] += 1
    total = Counter[str]()
    print(f"\n{'area':<8} {'tested':>6} {'killed':>6} {'survived':>8} {'no tests':>8}  score")
    for area, counts in sorted(rows.items()):
        total.update(counts)
        print(_line(area, counts))
    print(_line("all", total))
    tested = total["killed"] + total["survived"] + total["no tests"]
    low, high = _wilson(total["killed"], tested)
    print(
        f"\nscore {total['killed'] / max(tested, 1):.1%} (95 % interval {low:.1%} to "
        f"{high:.1%}); a mutant no test reaches counts as survived; {seconds / 60:.0f} min"
    )
    if total["not run"]:
        print(f"{total['not run']} sampled mutants were not run (interrupted?)")


def _line(area: str, counts: Counter[str]) -> str:
    tested = counts["killed"] + counts["survived"] + counts["no tests"]
    score = f"{counts['killed'] / tested:.1%}" if tested else "-"
    return (
        f"{area:<8} {tested:>6} {counts['killed']:>6} {counts['survived']:>8} "
        f"{counts['no tests']:>8}  {score}"
    )


if __name__ == "__main__":
    main()
