"""Time `bluegreen synth` as a fresh process (the way a user or CI runs it).

Prints the median and the fastest of N runs for the default system (`bluegreen init`
scaffold), and with --lint. Target: well under one second (an AWS CDK app synthesizing the same
architecture takes about 5 s on a 2-core machine). Figures only, no assertion.

    .venv/bin/python bench/synth.py [--runs 9] [--lint]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--lint", action="store_true", help="time synth --lint (cfn-lint too)")
    args = parser.parse_args()
    exe = shutil.which("bluegreen", path=str(Path(sys.executable).parent)) or "bluegreen"
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "demo"
        subprocess.run([exe, "init", str(repo)], check=True, capture_output=True)
        command = [exe, "synth", "--out", str(Path(tmp) / "out")]
        if args.lint:
            command.append("--lint")
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(command, cwd=repo, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
    label = "synth --lint (with cfn-lint)" if args.lint else "synth"
    print(f"bluegreen {label}, fresh process, {args.runs} runs:")
    print(f"  median {statistics.median(times) * 1000:.0f} ms   fastest {min(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
