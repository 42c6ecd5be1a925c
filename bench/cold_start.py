"""Cold start: the median import time of each API function module against the stack's floor.

Target (docs/architecture.md, "Performance targets"): importing an API function module costs at most 1.2x
importing ``bench.floor`` (a bare Powertools resolver with ``enable_validation=True``, one pydantic
model and route, a boto3 DynamoDB client), median of >= 10 fresh interpreters, same environment.
Runs are interleaved so that machine load affects every module alike; the CPU time of the import
is printed beside the wall time as a second opinion on a busy machine. Prints figures; exits 0.

    .venv/bin/python -m bench.cold_start [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from functions.api import catalog

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "bench.floor"
TARGET = 1.2
PROFILE_RUNS = 3
TOP = 8
TIMER = (
    "import time\nwall, cpu = time.perf_counter(), time.process_time()\nimport {module}\n"
    "print((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000)"
)

Profile = dict[str, tuple[float, float]]  # module -> (self ms, cumulative ms)


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True)


def time_import(module: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU milliseconds to import ``module`` in a fresh interpreter."""
    wall, cpu = _run(["-c", TIMER.format(module=module)], env).stdout.split()[-2:]
    return float(wall), float(cpu)


def import_profile(module: str, env: dict[str, str]) -> Profile:
    """Per imported module, the median self and cumulative time over a few ``-X importtime`` runs."""
    samples: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for _ in range(PROFILE_RUNS):
        for line in _run(["-X", "importtime", "-c", f"import {module}"], env).stderr.splitlines():
            fields = line.removeprefix("import time:").split("|")
            if len(fields) == 3 and fields[0].strip().isdigit():
                samples[fields[2].strip()].append((int(fields[0]), int(fields[1])))
    return {
        name: (statistics.median(s for s, _ in pairs) / 1000, statistics.median(c for _, c in pairs) / 1000)
        for name, pairs in samples.items()
    }


def print_contributors(module: str, profile: Profile, floor: Profile) -> None:
    extra = sorted(((t[0], name) for name, t in profile.items() if name not in floor), reverse=True)
    print(f"\n{module}: imports the floor does not make, by self time")
    for ms, name in extra[:TOP]:
        print(f"  {ms:8.1f} ms  {name}")
    print(f"  {sum(ms for ms, _ in extra):8.1f} ms  in all ({len(extra)} modules)")
    ours = sorted(
        ((t[1], name) for name, t in profile.items() if name.startswith(("functions.", "shared.")) and name != module),
        reverse=True,
    )
    print(f"{module}: first-party imports, by cumulative time (includes what they pull in)")
    for ms, name in ours[:TOP]:
        print(f"  {ms:8.1f} ms  {name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Median import time of each API function module vs the floor.")
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per module (default 15, target >= 10)")
    runs = parser.parse_args(argv).runs
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPROFILEIMPORTTIME"}
    env.setdefault("AWS_REGION", "eu-west-1")
    modules = [FLOOR, *catalog.module_names()]

    for module in modules:  # warm-up: bytecode compiled, files in the page cache
        time_import(module, env)
    samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for _ in range(runs):
        for module in modules:
            samples[module].append(time_import(module, env))

    wall = {m: statistics.median(w for w, _ in samples[m]) for m in modules}
    cpu = {m: statistics.median(c for _, c in samples[m]) for m in modules}
    print(f"Cold start: median import time over {runs} fresh interpreters (python {sys.version.split()[0]})")
    print(
        f"{'module':<24} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'ratio':>6}  "
        f"{'cpu ms':>7} {'cpu ratio':>9}  target {TARGET}x (wall)"
    )
    over = []
    for module in modules:
        ratio = wall[module] / wall[FLOOR]
        verdict = "floor" if module == FLOOR else ("PASS" if ratio <= TARGET else "FAIL")
        if verdict == "FAIL":
            over.append(module)
        low, high = min(w for w, _ in samples[module]), max(w for w, _ in samples[module])
        print(
            f"{module:<24} {wall[module]:>10.1f} {low:>8.1f} {high:>8.1f} {ratio:>6.2f}  "
            f"{cpu[module]:>7.1f} {cpu[module] / cpu[FLOOR]:>9.2f}  {verdict}"
        )
    print(f"{len(modules) - 1 - len(over)}/{len(modules) - 1} API function modules within {TARGET}x of the floor")

    if over:
        floor_profile = import_profile(FLOOR, env)
        for module in over:
            print_contributors(module, import_profile(module, env), floor_profile)


if __name__ == "__main__":
    main()
