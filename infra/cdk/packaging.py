"""What the functions run: the application code asset and the third-party dependencies layer.

Both are bundled on the synthesizing machine (no Docker): the layer by pip, for the functions' runtime and
architecture rather than the build machine's. Both ship bytecode compiled by a Python of the runtime's version:
``/var/task`` and ``/opt`` are read-only, so a package without it is compiled from source on every cold start
(importing an API module took 1.59 s of CPU from source against 0.37 s from bytecode, issue 13). The bytecode is
``unchecked-hash`` (PEP 552): the asset's zip does not keep source modification times, which the default
timestamp check would compare against, and a deployed package never changes under its bytecode.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

ROOT = Path(__file__).resolve().parents[2]
DEPS = ROOT / "layers" / "deps"

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"  # must match ARCHITECTURE
PYTHON_VERSION = "3.12"  # must match RUNTIME
PIP_OPTIONS = (
    *("--platform", PIP_PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION),
    "--only-binary=:all:",  # a source build would target the build machine, not Lambda
    "--no-compile",  # .pyc files of the build machine's Python would be useless on 3.12: compiled after, by one
)
COMPILE_OPTIONS = ("-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash")

# Only the product's packages ship; everything else at the top level stays out (glob "*" skips dotfiles: .venv, .git).
APP_PACKAGES = ("shared", "functions")
APP_EXCLUDE = ["*", ".*", *(p for pkg in APP_PACKAGES for p in (f"!{pkg}", f"!{pkg}/**")), "__pycache__", "*.pyc"]


@cache
def runtime_python() -> str:
    """A Python of the runtime's version on this machine (on PATH, or one pyenv installed), to compile with."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = [
        shutil.which(f"python{PYTHON_VERSION}"),
        *sorted(glob.glob(f"{root}/versions/{PYTHON_VERSION}.*/bin/python3")),
    ]
    for python in filter(None, found):
        probe = [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        if subprocess.run(probe, capture_output=True, text=True, check=False).stdout.strip() == PYTHON_VERSION:
            return python
    raise RuntimeError(
        f"Bundling needs Python {PYTHON_VERSION} (the functions' runtime) to compile their bytecode: "
        f"put python{PYTHON_VERSION} on PATH or install it with pyenv."
    )


def compile_for_runtime(folder: str | Path) -> None:
    """Compile every module under ``folder`` for the functions' runtime."""
    subprocess.run([runtime_python(), *COMPILE_OPTIONS, str(folder)], check=True)


@jsii.implements(ILocalBundling)
class PipInstall:
    """Installs requirements.txt into ``<output>/python`` (the layer layout) with the host's pip, then compiles it."""

    def __init__(self, requirements: Path) -> None:
        self.requirements = requirements

    def try_bundle(self, output_dir: str, _options: BundlingOptions) -> bool:
        target = str(Path(output_dir) / "python")
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*command, "-r", str(self.requirements), "--target", target, *PIP_OPTIONS], check=True)
        compile_for_runtime(target)
        return True


@jsii.implements(ILocalBundling)
class CompiledApp:
    """The product's packages with their bytecode for the runtime (none of the build machine's)."""

    def try_bundle(self, output_dir: str, _options: BundlingOptions) -> bool:
        for package in APP_PACKAGES:
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(ROOT / package, Path(output_dir) / package, ignore=ignore)
        compile_for_runtime(output_dir)
        return True


def app_code() -> lambda_.Code:
    # Required by the API; never pulled, because local bundling either succeeds or raises.
    bundling = BundlingOptions(image=RUNTIME.bundling_image, local=CompiledApp())
    # The asset's hash stays that of its sources (and of the bundling), whether or not a synthesis bundles it.
    return lambda_.Code.from_asset(
        str(ROOT), exclude=APP_EXCLUDE, bundling=bundling, asset_hash_type=AssetHashType.SOURCE
    )


def deps_layer(scope: Construct) -> lambda_.LayerVersion:
    bundling = BundlingOptions(
        # Required by the API; never pulled, because local bundling either succeeds or raises.
        image=RUNTIME.bundling_image,
        local=PipInstall(DEPS / "requirements.txt"),
    )
    return lambda_.LayerVersion(
        scope,
        "Dependencies",
        code=lambda_.Code.from_asset(
            str(DEPS),
            bundling=bundling,
            # The layer changes when the requirements or the way pip installs and compiles them change, and only then.
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=_fingerprint(DEPS / "requirements.txt"),
        ),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="DeskOS third-party dependencies (layers/deps/requirements.txt)",
    )


def _fingerprint(requirements: Path) -> str:
    return hashlib.sha256("\n".join((requirements.read_text(), *PIP_OPTIONS, *COMPILE_OPTIONS)).encode()).hexdigest()
