"""The dependencies layer is built for the functions' runtime, from the project's own dependency ranges."""

from __future__ import annotations

import subprocess
import tomllib
import zoneinfo
from datetime import datetime, timedelta

import pytest

from infra.cdk import packaging

pytestmark = pytest.mark.infra


def test_the_layer_lists_exactly_the_project_runtime_dependencies() -> None:
    project = tomllib.loads((packaging.ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (packaging.DEPS / "requirements.txt").read_text().splitlines()
    assert [line for line in lines if line and not line.startswith("#")] == project


def test_pip_targets_the_function_runtime_and_architecture(monkeypatch, tmp_path) -> None:
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: calls.append(command))
    monkeypatch.setattr(packaging, "runtime_python", lambda: "/opt/python3.12")

    assert packaging.PipInstall(packaging.DEPS / "requirements.txt").try_bundle(str(tmp_path), None) is True

    command, compiling = calls
    assert compiling == ["/opt/python3.12", *packaging.COMPILE_OPTIONS, str(tmp_path / "python")]
    option = {flag: command[i + 1] for i, flag in enumerate(command[:-1]) if flag.startswith("--")}
    assert option["--target"] == str(tmp_path / "python")  # where a layer's Python packages must sit
    assert packaging.RUNTIME.name == f"python{option['--python-version']}"
    assert option["--platform"].endswith({"arm64": "aarch64", "x86_64": "x86_64"}[packaging.ARCHITECTURE.name])
    assert "--only-binary=:all:" in command


def test_the_code_asset_holds_the_product_packages_with_bytecode_no_source_time_invalidates(tmp_path) -> None:
    # Lambda's /var/task is read-only: without bytecode every cold start compiles every module from source
    try:
        python = packaging.runtime_python()
    except RuntimeError as missing:  # a deploy prerequisite (README), like AWS credentials: not the suite's
        pytest.skip(str(missing))
    assert packaging.CompiledApp().try_bundle(str(tmp_path), None) is True
    assert {p.name for p in tmp_path.iterdir()} == {"shared", "functions"}

    magic = subprocess.run(
        [python, "-c", "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sources = sorted(tmp_path.rglob("*.py"))
    assert {p.relative_to(tmp_path).parts[0] for p in sources} == set(packaging.APP_PACKAGES)
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        header = compiled.read_bytes()[:8]
        assert header[:4].hex() == magic, compiled
        assert int.from_bytes(header[4:8], "little") == 0b01, compiled  # hash-based, source never checked
    assert not [p for p in tmp_path.rglob("*.pyc") if ".cpython-312." not in p.name]  # none of this machine's


def test_time_zones_load_without_the_systems_zone_files() -> None:
    # Lambda's runtime image has no /usr/share/zoneinfo: zoneinfo must find the zones in the tzdata dependency
    zoneinfo.reset_tzpath(to=[])
    try:
        zone = zoneinfo.ZoneInfo.no_cache("America/Sao_Paulo")
        assert zone.utcoffset(datetime(2026, 1, 1)) == timedelta(hours=-3)
    finally:
        zoneinfo.reset_tzpath()
