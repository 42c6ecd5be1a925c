"""ULIDs: 48-bit millisecond time + 80 random bits, Crockford base32, lexicographically time-ordered."""

from __future__ import annotations

import os
import re
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def new_id(now_ms: int | None = None, *, random_bits: bytes | None = None) -> str:
    """A ULID; ``random_bits`` (10 bytes, e.g. from a digest) makes it the same every time it is derived."""
    value = ((now_ms if now_ms is not None else time.time_ns() // 1_000_000) << 80) | int.from_bytes(
        (random_bits or os.urandom(10))[:10], "big"
    )
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_ulid(value: str) -> bool:
    return bool(ULID_PATTERN.match(value))
