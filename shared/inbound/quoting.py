"""What a reply says, without what it quotes: the text above the quoted message and above the signature.

A reply is cut at the first of: DeskOS's own "reply above this line" marker; an attribution line ("On … wrote:",
as Gmail, Apple Mail and Thunderbird write it, possibly wrapped over two lines; "Le … a écrit :", "Am …
schrieb …:"); Outlook's "-----Original Message-----" or its header block ("From: …" followed by "Sent: …" or
"Date: …"); a block of ">"-quoted lines. Then the signature goes: from a "-- " line (RFC 3676), or a trailing
"Sent from my …" / "Get Outlook for …". A forwarded message ("---------- Forwarded message ---------") is
content, not a quote: it is kept."""

from __future__ import annotations

import re

_CUTS = (
    re.compile(r"^##- .* -##\s*$", re.M),
    re.compile(r"^[ \t]*On\b[^\n]{0,300}(?:\n[^\n]{0,300})?\bwrote:[ \t]*$", re.M),
    re.compile(r"^[ \t]*Le\b[^\n]{0,300}(?:\n[^\n]{0,300})?a écrit ?:[ \t]*$", re.M),
    re.compile(r"^[ \t]*Am\b[^\n]{0,300}(?:\n[^\n]{0,300})?schrieb[^\n]{0,200}:[ \t]*$", re.M),
    re.compile(r"^[ \t]*-{2,}[ \t]*Original Message[ \t]*-{2,}[ \t]*$", re.M | re.I),
    re.compile(r"^[ \t]*_{20,}[ \t]*\n[ \t]*From:", re.M),
    re.compile(r"^[ \t]*\*?From:\*?[ \t][^\n]*\n[ \t]*\*?(?:Sent|Date):\*?[ \t]", re.M),
    re.compile(r"^(?:>[^\n]*(?:\n|$)){2,}", re.M),
)
_SIGNATURE = re.compile(r"^-- ?$", re.M)
_SENT_FROM = re.compile(r"\n\s*(?:Sent from my [^\n]+|Get Outlook for [^\n]+|Sent from Mail for [^\n]+)\s*$", re.I)


def reply_text(text: str) -> str:
    """The new text of a reply: quoted message and signature cut off."""
    text = text.replace("\r\n", "\n")
    cut = min((m.start() for pattern in _CUTS if (m := pattern.search(text))), default=len(text))
    return without_signature(text[:cut])


def without_signature(text: str) -> str:
    text = text.replace("\r\n", "\n")
    signature = _SIGNATURE.search(text)
    if signature:
        text = text[: signature.start()]
    return _SENT_FROM.sub("", text.rstrip()).strip()
