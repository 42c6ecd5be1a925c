"""What the functions run: the application code asset and the third-party dependencies layer.

The layer is bundled on the synthesizing machine by pip (no Docker), for the functions' runtime and
architecture rather than the build machine's.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
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
    "--no-compile",  # .pyc files of the build machine's Python would be useless on 3.12
)

# Only the product's packages ship; everything else at the top level stays out (glob "*" skips dotfiles: .venv, .git).
APP_PACKAGES = ("shared", "functions")
APP_EXCLUDE = ["*", ".*", *(p for pkg in APP_PACKAGES for p in (f"!{pkg}", f"!{pkg}/**")), "__pycache__", "*.pyc"]


@jsii.implements(ILocalBundling)
class PipInstall:
    """Installs requirements.txt into ``<output>/python`` (the layer layout) with the host's pip."""

    def __init__(self, requirements: Path) -> None:
        self.requirements = requirements

    def try_bundle(self, output_dir: str, _options: BundlingOptions) -> bool:
        target = str(Path(output_dir) / "python")
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*command, "-r", str(self.requirements), "--target", target, *PIP_OPTIONS], check=True)
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
        code=lambda_.Code.from_asset(
            str(DEPS),
            bundling=bundling,
            # The layer changes when the requirements or the way pip installs them change, and only then.
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=_fingerprint(DEPS / "requirements.txt"),
        ),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="DeskOS third-party dependencies (layers/deps/requirements.txt)",
    )


def _fingerprint(requirements: Path) -> str:
    return hashlib.sha256("\n".join((requirements.read_text(), *PIP_OPTIONS)).encode()).hexdigest()
