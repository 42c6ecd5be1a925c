"""Real-world shapes of inbound email (Outlook and Gmail replies, a forward, a calendar invitation, a PDF with an
image, Latin-1 and Shift-JIS bodies, HTML only, an auto-reply, a bounce, broken MIME), as .eml files with CRLF
line ends. ``$SENDER``, ``$SUPPORT``, ``$REPLY_TO`` and ``$REFERENCES`` are filled in per test; a message over
the size limit is made by ``oversize``."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from string import Template

HERE = Path(__file__).parent
NAMES = sorted(p.name for p in HERE.glob("*.eml"))


def load(name: str, *, sender: str, support: str, reply_to: str = "", references: str = "<none@example>") -> bytes:
    text = (HERE / name).read_bytes().decode("ascii")
    filled = Template(text).safe_substitute(SENDER=sender, SUPPORT=support, REPLY_TO=reply_to, REFERENCES=references)
    return filled.encode("ascii")


def oversize(*, sender: str, support: str, megabytes: int = 15) -> bytes:
    """A plausible message of ``megabytes`` MB: a text body and a large (random, so incompressible) attachment."""
    encoded = base64.b64encode(os.urandom(megabytes * 1024 * 768)).decode()
    blob = "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    return (
        f"MIME-Version: 1.0\r\nFrom: Casey Contact <{sender}>\r\nTo: {support}\r\n"
        f"Message-ID: <oversize-{os.urandom(6).hex()}@acme.example>\r\nSubject: The whole archive\r\n"
        'Content-Type: multipart/mixed; boundary="BIG"\r\n\r\n--BIG\r\nContent-Type: text/plain\r\n\r\n'
        "Here is everything.\r\n--BIG\r\nContent-Type: application/zip\r\n"
        'Content-Disposition: attachment; filename="archive.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        f"{blob}\r\n--BIG--\r\n"
    ).encode("ascii")
