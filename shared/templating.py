"""Email templates that managers write, rendered safely: one renderer for preview and send.

Jinja2's immutable sandbox keeps templates away from Python internals; on top of it a template gets
- only a fixed set of filters and one global (``range``), no ``include``/``extends``/``import``;
- no string method that builds text out of proportion to its input (``format``, ``center``, ``replace``…),
  and ``*``/``**`` bounded;
- a budget of loop iterations per render, shared by every ``for`` (nested loops multiply, so each
  loop's iterable is wrapped at compile time) and a bound on the rendered size.
A template that breaks a rule is refused when saved (``check``, 422 naming the line) or, if only its data
triggers it, when rendered (``RenderRefused``). Unknown variables render empty, so
``{{ contact.first_name | default("there") }}`` works.

Jinja2 is imported only by the functions that render: a cold start pays for it only there."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from shared.errors import Unprocessable

MAX_SOURCE = 100_000  # characters of one template body
MAX_OUTPUT = 512_000  # characters of one rendered body
MAX_ITERATIONS = 10_000  # loop iterations of one render, all loops together
MAX_SEQUENCE = 10_000  # longest string or list that ``*`` may build, largest ``range``
MAX_BITS = 4096  # largest number that ``*`` or ``**`` may build
FILTERS = (
    "abs",
    "capitalize",
    "count",
    "default",
    "d",
    "e",
    "escape",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "max",
    "min",
    "round",
    "sort",
    "striptags",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
)
# str methods that build output out of proportion to their input, or reach formatting machinery
_REFUSED_METHODS = frozenset(
    ("format", "format_map", "center", "ljust", "rjust", "zfill", "expandtabs", "replace", "translate", "encode")
)
_budget: ContextVar[list[int]] = ContextVar("template_budget")


class RenderRefused(Exception):
    """A template exceeded a bound while rendering (with this data); nothing of it is sent."""


def _spend(items: Iterable[Any]) -> Iterator[Any]:
    budget = _budget.get()
    for item in items:
        budget[0] -= 1
        if budget[0] < 0:
            raise SecurityError(f"the template loops more than {MAX_ITERATIONS} times")
        yield item


def _range(*args: int) -> range:
    span = range(*args)
    if len(span) > MAX_SEQUENCE:
        raise SecurityError(f"range is limited to {MAX_SEQUENCE} items")
    return span


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if isinstance(left, int) and isinstance(right, int):
            bits = left.bit_length() * abs(right) if operator_name == "**" else left.bit_length() + right.bit_length()
            if bits > MAX_BITS:
                raise SecurityError(f"numbers are limited to {MAX_BITS} bits")
        for sequence, times in ((left, right), (right, left)):
            if (
                isinstance(sequence, str | list | tuple)
                and isinstance(times, int)
                and len(sequence) * max(times, 0) > MAX_SEQUENCE
            ):
                raise SecurityError(f"repetition is limited to {MAX_SEQUENCE} items")
        return (operator.pow if operator_name == "**" else operator.mul)(left, right)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in _REFUSED_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)


@lru_cache(maxsize=2)
def _environment(html: bool) -> _Sandbox:
    env = _Sandbox(autoescape=html, keep_trailing_newline=True, undefined=ChainableUndefined)
    env.filters = {name: env.filters[name] for name in FILTERS}
    env.tests = {name: env.tests[name] for name in ("defined", "undefined", "none", "number", "string", "odd", "even")}
    env.globals = {"range": _range, "_spend": _spend}
    return env


def _refuse_nodes(tree: nodes.Template) -> None:
    for node in tree.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)):
        raise TemplateSyntaxError("templates cannot include, extend or import other templates", node.lineno)
    for node in tree.find_all(nodes.Name):
        if node.name.startswith("_"):
            raise TemplateSyntaxError("names starting with an underscore are reserved", node.lineno)


@lru_cache(maxsize=256)
def _compile(source: str, html: bool) -> Any:
    """Parse, refuse what the sandbox does not allow, and wrap every loop's iterable in the budget."""
    env = _environment(html)
    tree = env.parse(source)
    _refuse_nodes(tree)
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Call(nodes.Name("_spend", "load"), [loop.iter], [], None, None, lineno=loop.lineno)
    return env.from_string(tree)


def check(source: str, *, field: str, html: bool = False) -> None:
    """Refuse (422 on ``field``, naming the line) a template that does not parse or breaks the sandbox's rules."""
    if len(source) > MAX_SOURCE:
        raise Unprocessable.field(field, f"A template is at most {MAX_SOURCE} characters.")
    try:
        _compile(source, html)
    except TemplateSyntaxError as error:
        message = f"Line {error.lineno}: {error.message}"
        raise Unprocessable(message, errors=[{"field": field, "message": message, "line": error.lineno}]) from None


def render(source: str, variables: Mapping[str, Any], *, html: bool = False) -> str:
    """Render with ``variables`` (plain data: dicts, lists, strings, numbers); ``RenderRefused`` past a bound.
    ``html`` escapes every variable; subjects and text bodies are rendered with it off."""
    try:
        template = _compile(source, html)
    except TemplateSyntaxError as error:
        raise RenderRefused(f"line {error.lineno}: {error.message}") from None
    token = _budget.set([MAX_ITERATIONS])
    try:
        parts, size = [], 0
        for part in template.generate(**variables):
            size += len(part)
            if size > MAX_OUTPUT:
                raise RenderRefused(f"the rendered text is longer than {MAX_OUTPUT} characters")
            parts.append(part)
        return "".join(parts)
    except (TemplateError, RecursionError, TypeError, ValueError, ArithmeticError, OverflowError) as error:
        raise RenderRefused(str(error) or type(error).__name__) from None
    finally:
        _budget.reset(token)
