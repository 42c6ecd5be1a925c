"""What the functions run: the application code asset and the third-party dependencies layer.

The layer is bundled on the synthesizing machine by pip (no Docker), for the functions' runtime and
architecture rather than the build machine's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

ROOT = Path(__file__).resolve().parents[2]
DEPS = ROOT / "layers" / "deps"

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"  # must match ARCHITECTURE
PYTHON_VERSION = "3.12"  # must match RUNTIME

# Only the product's packages ship; everything else at the top level stays out (glob "*" skips dotfiles: .venv, .git).
APP_PACKAGES = ("shared", "functions")
APP_EXCLUDE = ["*", ".*", *(p for pkg in APP_PACKAGES for p in (f"!{pkg}", f"!{pkg}/**")), "__pycache__", "*.pyc"]


@jsii.implements(ILocalBundling)
class PipInstall:
    """Installs requirements.txt into ``<output>/python`` (the layer layout) with the host's pip."""

    def __init__(self, requirements: Path) -> None:
        self.requirements = requirements

    def try_bundle(self, output_dir: str, _options: BundlingOptions) -> bool:
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "-r", str(self.requirements), "--target", str(Path(output_dir) / "python"),
                "--platform", PIP_PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION,
                "--only-binary=:all:", "--no-compile",  # host-version .pyc files would be useless on 3.12
            ],
            check=True,
        )  # fmt: skip
        return True


def app_code() -> lambda_.Code:
    return lambda_.Code.from_asset(str(ROOT), exclude=APP_EXCLUDE)


def deps_layer(scope: Construct) -> lambda_.LayerVersion:
    bundling = BundlingOptions(
        # Required by the API; never pulled, because local bundling either succeeds or raises.
        image=RUNTIME.bundling_image,
        local=PipInstall(DEPS / "requirements.txt"),
    )
    return lambda_.LayerVersion(
        scope,
        "Dependencies",
        code=lambda_.Code.from_asset(str(DEPS), bundling=bundling, exclude=["README.md"]),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="DeskOS third-party dependencies (layers/deps/requirements.txt)",
    )
