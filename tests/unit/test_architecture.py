"""Rules of the layout that docs/architecture.md fixes, checked on the source itself."""

import ast
import logging
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", python_files("shared"), ids=lambda p: str(p.relative_to(ROOT)))
def test_shared_never_imports_functions_infra_or_lambda_event_types(path):
    forbidden = [
        m
        for m in imported_modules(path)
        if m.split(".")[0] in ("functions", "infra") or "data_classes" in m or "event_handler" in m
    ]
    assert forbidden == []


@pytest.mark.parametrize("path", python_files("shared", "functions"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_scan_in_request_paths_or_jobs(path):
    calls = [
        node
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("scan", "Scan")
    ]
    assert calls == []


def test_importing_every_function_module_creates_no_aws_client():
    # botocore's client factory is made to fail: any client created at import time breaks the import
    probe = (
        "import botocore.session, importlib, pkgutil, functions.api, functions.events\n"
        "botocore.session.Session.create_client = lambda *a, **k: (_ for _ in ()).throw(RuntimeError('client'))\n"
        "for pkg in (functions.api, functions.events):\n"
        "    for m in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(f'{pkg.__name__}.{m.name}')\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# What a log record holds already: a log call whose ``extra`` names one of these raises KeyError in logging's
# makeRecord, and only when the level is on (INFO, as deployed and under `deskos up`; the tests log WARNING).
RESERVED_LOG_KEYS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def extra_keys(path: Path) -> list[str]:
    """The literal keys of every ``extra={...}`` given to a call in ``path``."""
    return [
        key.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "extra" and isinstance(keyword.value, ast.Dict)
        for key in keyword.value.keys
        if isinstance(key, ast.Constant) and isinstance(key.value, str)
    ]


@pytest.mark.parametrize("path", python_files("shared", "functions", "infra"), ids=lambda p: str(p.relative_to(ROOT)))
def test_log_extras_never_overwrite_what_a_log_record_holds(path):
    assert [k for k in extra_keys(path) if k in RESERVED_LOG_KEYS] == []
