"""A knowledge body's Markdown as HTML safe to show: rendered with raw HTML off, then sanitised.

Two libraries, each doing what it is known for: markdown-it-py's ``js-default`` preset (CommonMark as
markdown-it does it, raw HTML escaped, ``javascript:``/``vbscript:``/``file:``/``data:`` links refused) and
nh3 (Rust's ammonia) with an allow-list of tags and attributes and http(s)/mailto URLs only: what the
renderer lets through, the sanitiser still checks. Both are imported on the first render, so only the
functions that answer a body pay for them (the cold-start budget)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "td": {"style"}, "th": {"style"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


@lru_cache(maxsize=1)
def _renderer() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("js-default").enable("table").enable("strikethrough")


def to_html(markdown: str) -> str:
    import nh3

    return nh3.clean(
        _renderer().render(markdown),
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
        strip_comments=True,
    )
