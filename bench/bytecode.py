"""Bytecode in the Lambda package: importing an API function module from source only against from bytecode.

Lambda's ``/var/task`` (the code) and ``/opt`` (the layer) are read-only, so a package without ``.pyc`` files has
every module compiled from source on every cold start, and the compiled code is thrown away with the process.
``infra/cdk/packaging.py`` ships bytecode compiled for the runtime in both. This bench shows what that is worth:
fresh interpreters, alternating, importing ``functions.api.tickets`` (its libraries included)

- from source only: no bytecode can be read or written (an empty ``pycache_prefix``, writing disabled), as the
  package was deployed before;
- from bytecode: the sources compiled first, as the package is deployed now.

Started as the functions start (packages on ``sys.path``, no ``.pth`` hooks). Prints median / min wall and CPU
milliseconds of each and the ratio; exits 0.

    .venv/bin/python -m bench.bytecode [--runs N]     # default 10 fresh interpreters each
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench.side_by_side import PACKAGES, ROOT, launch

MODULE = "functions.api.tickets"
CHILD = f"import time\nimport {MODULE}\nprint(time.process_time() * 1000)"


def one(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return (time.perf_counter() - started) * 1000, float(done.stdout.split()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Importing an API module from source only vs from bytecode.")
    parser.add_argument("--runs", type=int, default=10, help="fresh interpreters each (default 10)")
    runs = parser.parse_args(argv).runs
    for package in PACKAGES:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / package)], check=True)
    command = launch(sys.executable, CHILD)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory() as empty:
        modes = {
            "from source only": [command[0], "-X", f"pycache_prefix={empty}", *command[1:]],
            "from bytecode": command,
        }
        samples: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
        for args in modes.values():  # warm-up
            one(args, env)
        for _ in range(runs):
            for mode, args in modes.items():
                samples[mode].append(one(args, env))
    print(f"import {MODULE} in a fresh interpreter, {runs} each, alternating (python {sys.version.split()[0]})")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    print(f"{'':<18} {'wall med / min ms':>18} {'cpu med / min ms':>18}")
    for mode, pairs in samples.items():
        wall, cpu = [p[0] for p in pairs], [p[1] for p in pairs]
        wall_text = f"{statistics.median(wall):>9.0f} / {min(wall):<6.0f}"
        print(f"{mode:<18} {wall_text} {statistics.median(cpu):>9.0f} / {min(cpu):<6.0f}")
    source, compiled = (statistics.median(p[1] for p in samples[mode]) for mode in modes)
    print(f"CPU from source only / from bytecode: {source / compiled:.1f}x")


if __name__ == "__main__":
    main()
