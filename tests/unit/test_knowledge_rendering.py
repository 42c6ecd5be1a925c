"""body_html: Markdown rendered with raw HTML off, then sanitised; the payloads are the known XSS corpus the API
tests run too (tests/integration/api/test_knowledge_api.py XSS)."""

from __future__ import annotations

import pytest

from shared.knowledge.rendering import to_html
from tests.integration.api.test_knowledge_api import XSS, markup

DANGEROUS = ("script", "iframe", "svg", "math", "style", "object", "embed", "form", "input", "details", "base")


@pytest.mark.parametrize("payload", XSS)
def test_known_xss_payloads_leave_no_active_markup(payload: str):
    for tag, attrs in markup(to_html(payload)):
        assert tag not in DANGEROUS
        assert not any(name.startswith("on") for name in attrs)
        for link in (attrs.get("href"), attrs.get("src")):
            assert link is None or not link.strip().lower().startswith(("javascript", "vbscript", "data"))


def test_plain_markdown_survives():
    assert to_html("**a** _b_ `c`") == "<p><strong>a</strong> <em>b</em> <code>c</code></p>\n"
    assert 'href="mailto:help@example.test"' in to_html("[mail](mailto:help@example.test)")
