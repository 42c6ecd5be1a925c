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

    assert packaging.PipInstall(packaging.DEPS / "requirements.txt").try_bundle(str(tmp_path), None) is True

    [command] = calls
    option = {flag: command[i + 1] for i, flag in enumerate(command[:-1]) if flag.startswith("--")}
    assert option["--target"] == str(tmp_path / "python")  # where a layer's Python packages must sit
    assert packaging.RUNTIME.name == f"python{option['--python-version']}"
    assert option["--platform"].endswith({"arm64": "aarch64", "x86_64": "x86_64"}[packaging.ARCHITECTURE.name])
    assert "--only-binary=:all:" in command


def test_time_zones_load_without_the_systems_zone_files() -> None:
    # Lambda's runtime image has no /usr/share/zoneinfo: zoneinfo must find the zones in the tzdata dependency
    zoneinfo.reset_tzpath(to=[])
    try:
        zone = zoneinfo.ZoneInfo.no_cache("America/Sao_Paulo")
        assert zone.utcoffset(datetime(2026, 1, 1)) == timedelta(hours=-3)
    finally:
        zoneinfo.reset_tzpath()
