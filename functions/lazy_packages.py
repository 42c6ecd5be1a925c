"""Library packages whose ``__init__`` imports every sibling, made to import each only when one of its names is used.

Powertools' ``event_handler/__init__.py`` imports every resolver it has (AppSync with ``asyncio``, Bedrock agents,
VPC Lattice, Lambda function URLs, ...) and ``utilities/data_classes/__init__.py`` every event class, while an API
function uses one REST resolver and one event class: about 25 ms of a cold start's CPU (issue 13), on every import
of any of their submodules. ``install`` registers such a package without running its ``__init__``; a name the
``__init__`` would have bound is imported from the module that ``__init__`` names, on first use, so
``from aws_lambda_powertools.event_handler import Response`` and every other name still works, and the package's
submodules import as usual. A package whose ``__init__`` does anything else (or ships without its source) is left
to import as it always did: a library upgrade can cost the gain, never a behaviour.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from typing import Any

POWERTOOLS = ("aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")


def install(names: tuple[str, ...] = POWERTOOLS) -> list[str]:
    """Register each package lazily, unless it was imported already or cannot be; the names of those registered."""
    return [name for name in names if name not in sys.modules and _register(name)]


def _register(name: str) -> bool:
    spec = importlib.util.find_spec(name)
    text = spec.loader.get_source(name) if spec and spec.loader and hasattr(spec.loader, "get_source") else None
    if spec is None or text is None:
        return False
    source = ast.parse(text)
    sources = _bound_names(source, name)
    if sources is None:
        return False
    module = importlib.util.module_from_spec(spec)
    module.__all__ = [*sources] if (listed := _listed(source)) is None else listed

    def lazy(attribute: str) -> Any:
        if attribute in sources:
            value = getattr(importlib.import_module(sources[attribute]), attribute)
        elif importlib.util.find_spec(f"{name}.{attribute}") is not None:
            value = importlib.import_module(f"{name}.{attribute}")
        else:
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}")
        setattr(module, attribute, value)
        return value

    module.__getattr__ = lazy  # type: ignore[method-assign]
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(importlib.import_module(parent), child, module)
    return True


def _bound_names(tree: ast.Module, package: str) -> dict[str, str] | None:
    """Each name the package's ``__init__`` binds with ``from X import name``, and the module X it comes from;
    None if the ``__init__`` does anything else (a function, a statement with effects), which laziness would skip."""
    for node in tree.body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not (isinstance(node, ast.ImportFrom) or docstring or _listed(ast.Module([node], [])) is not None):
            return None
    return {
        alias.asname or alias.name: importlib.util.resolve_name("." * node.level + (node.module or ""), package)
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for alias in node.names
    }


def _listed(tree: ast.Module) -> list[str] | None:
    """The ``__all__ = [...]`` of a module, if it has one."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
            return list(ast.literal_eval(node.value))
    return None
