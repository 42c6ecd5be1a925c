"""The sandboxed template engine: what a manager's template may do, and every way out of the sandbox refused."""

from __future__ import annotations

import pytest

from shared import templating
from shared.errors import Unprocessable
from shared.html_text import html_to_text

CONTACT = {"contact": {"first_name": "Ada", "email": "ada@example.com"}, "firm": {"name": "Acme"}}

INJECTIONS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ contact.__class__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ request.application.__globals__ }}",
    "{{ config.items() }}",
    "{{ contact.update({'email': 'x'}) }}",
    "{{ [].append(1) }}",
    "{{ range.__self__ }}",
    "{% for x in range(10000) %}{% for y in range(10000) %}{% endfor %}{% endfor %}",
    "{% for x in range(100) %}{% for y in range(100) %}{% for z in range(100) %}{% endfor %}{% endfor %}{% endfor %}",
    "{{ range(10**9) }}",
    "{{ range(999999999) | list }}",
    "{{ 'x' * 10**9 }}",
    "{{ ['x'] * 10**9 }}",
    "{{ 2**64**64**64 }}",
    "{{ (10**1000) * (10**1000) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '%s'.format_map(contact) }}",
    "{{ 'a'.center(999999999) }}",
    "{{ 'a'.ljust(999999999) }}",
    "{{ 'ab'.replace('', 'x' * 9999) }}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% for i in range(9999) %}{{ 'x' * 9999 }}{% endfor %}",
]

REFUSED_AT_SAVE = [
    ("hello\n{{ foo(", 2),
    ("{% include 'other.html' %}", 1),
    ("{% extends 'base.html' %}", 1),
    ("{% import 'macros' as m %}", 1),
    ("\n\n{{ _spend }}", 3),
    ("{{ x | replace('a', 'b') }}", 1),
    ("{{ x | format('%999999999d') }}", 1),
    ("{{ x | indent(999999999) }}", 1),
    ("{% for %}", 1),
]


def test_variables_render_and_unknown_ones_fall_back_to_their_default():
    source = 'Hello {{ contact.first_name | default("there") }} from {{ firm.name }}{{ missing.deep }}!'
    assert templating.render(source, CONTACT) == "Hello Ada from Acme!"
    assert templating.render(source, {}) == "Hello there from !"


def test_html_bodies_escape_every_variable_and_text_bodies_do_not():
    data = {"contact": {"first_name": "<script>alert(1)</script>"}}
    assert templating.render("<p>{{ contact.first_name }}</p>", data, html=True) == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )
    assert templating.render("{{ contact.first_name }}", data) == "<script>alert(1)</script>"


def test_loops_conditions_and_filters_within_the_budget_work():
    source = "{% for i in range(3) %}{{ i }}{% if not loop.last %},{% endif %}{% endfor %} {{ 'abc' | upper }}"
    assert templating.render(source, {}) == "0,1,2 ABC"


@pytest.mark.parametrize("source", INJECTIONS)
def test_injections_are_refused_or_inert(source):
    try:
        templating.check(source, field="html_body")
        output = templating.render(source, CONTACT, html=True)
    except (templating.RenderRefused, Unprocessable):
        return
    assert "class" not in output and "globals" not in output and "uid=" not in output
    assert len(output) <= templating.MAX_OUTPUT


@pytest.mark.parametrize(("source", "line"), REFUSED_AT_SAVE)
def test_a_template_the_sandbox_cannot_run_is_refused_when_saved_with_its_line(source, line):
    with pytest.raises(Unprocessable) as refused:
        templating.check(source, field="html_body")
    [error] = refused.value.errors
    assert error["field"] == "html_body" and error["line"] == line
    assert refused.value.detail.startswith(f"Line {line}:")


def test_an_oversized_template_is_refused_when_saved():
    with pytest.raises(Unprocessable, match="at most"):
        templating.check("x" * (templating.MAX_SOURCE + 1), field="subject")


def test_the_text_body_derived_from_html_keeps_paragraphs_and_spells_out_links():
    html = (
        "<html><head><style>p { color: red }</style></head><body><h1>Hi Ada</h1>"
        '<p>Read <a href="https://example.com/a">the guide</a> now.</p><ul><li>one</li><li>two</li></ul>'
        "<script>x()</script></body></html>"
    )
    assert html_to_text(html) == "Hi Ada\n\nRead the guide (https://example.com/a) now.\n\n- one\n- two\n"
