"""Powertools' packages that import every sibling are registered lazily, and every name they bind still works."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _fresh(code: str, *path: str) -> str:
    """``code``'s output in a fresh interpreter (this one imported those packages long ago)."""
    setup = f"import sys; sys.path[:0] = {list(path)!r}\n"
    done = subprocess.run([sys.executable, "-c", setup + textwrap.dedent(code)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_an_api_module_loads_only_the_rest_resolver() -> None:
    loaded = _fresh("""
        import sys
        import functions.api.tickets
        print(sorted(m for m in ("asyncio", "aws_lambda_powertools.event_handler.appsync",
                                 "aws_lambda_powertools.event_handler.bedrock_agent",
                                 "aws_lambda_powertools.utilities.data_classes.sqs_event") if m in sys.modules))
    """)
    assert loaded == "[]"


def test_every_name_the_packages_bind_is_the_same_object() -> None:
    code = """
        import importlib, sys
        from functions import lazy_packages
        lazy_packages.install()
        names = {}
        for package in lazy_packages.POWERTOOLS:
            module = sys.modules[package]
            names[package] = {name: getattr(module, name) for name in module.__all__}
        for package in lazy_packages.POWERTOOLS:  # now the real __init__, in the same process
            del sys.modules[package]
            real = importlib.import_module(package)
            assert all(getattr(real, n) is v for n, v in names[package].items()), package
            assert sorted(real.__all__) == sorted(names[package]), package
        print(sum(map(len, names.values())))
    """
    assert int(_fresh(code)) > 60  # the resolvers and the event classes


def test_star_import_submodules_and_unknown_names() -> None:
    out = _fresh("""
        from functions import lazy_packages
        lazy_packages.install()
        from aws_lambda_powertools.event_handler import *
        import aws_lambda_powertools.event_handler as handler
        assert AppSyncResolver.__module__ == "aws_lambda_powertools.event_handler.appsync"
        assert handler.content_types.APPLICATION_JSON == "application/json"
        try:
            handler.NoSuchResolver
        except AttributeError as error:
            print(error)
    """)
    assert "has no attribute 'NoSuchResolver'" in out


def test_a_package_whose_init_does_more_than_import_imports_as_it_always_did(tmp_path) -> None:
    package = tmp_path / "busy"
    package.mkdir()
    (package / "__init__.py").write_text('"""doc"""\nfrom .part import x\nSETTING = x + 1\n')
    (package / "part.py").write_text("x = 1\n")
    out = _fresh(
        """
        import sys
        from functions import lazy_packages
        print(lazy_packages.install(("busy", "aws_lambda_powertools.event_handler")))
        import busy
        print(busy.SETTING, "__getattr__" in vars(busy))
        """,
        str(tmp_path),
    )
    assert out.splitlines() == ["['aws_lambda_powertools.event_handler']", "2 False"]
