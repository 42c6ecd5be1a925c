"""The real type of a file, from its first bytes (magic numbers), and whether its extension may carry it.

A small table of our own instead of libmagic or a PyPI package: the allowed list is short, the
table is read in one screen, and the extensions each real type may legitimately wear (an .xlsx is a
zip; an .m4a is an MP4 container) are part of the same table. Executables are recognised so that
they can be named as what they are when they arrive dressed as something else."""

from __future__ import annotations

import re
from dataclasses import dataclass

HEAD_BYTES = 8192  # enough for every signature below, and for telling text from binary


@dataclass(frozen=True)
class Sniffed:
    mime_type: str
    extensions: frozenset[str]  # the extensions this content may carry; empty: never accepted
    label: str


def _kind(mime: str, label: str, *extensions: str) -> Sniffed:
    return Sniffed(mime, frozenset(extensions), label)


PNG = _kind("image/png", "PNG image", "png")
JPEG = _kind("image/jpeg", "JPEG image", "jpg", "jpeg")
GIF = _kind("image/gif", "GIF image", "gif")
BMP = _kind("image/bmp", "BMP image", "bmp")
WEBP = _kind("image/webp", "WebP image", "webp")
PDF = _kind("application/pdf", "PDF document", "pdf")
ZIP = _kind("application/zip", "ZIP container", "zip", "docx", "xlsx", "pptx", "odt")
OLE2 = _kind("application/x-ole-storage", "OLE2 compound document", "doc", "xls", "ppt")
RTF = _kind("application/rtf", "RTF document", "rtf")
SEVEN_Z = _kind("application/x-7z-compressed", "7-Zip archive", "7z")
RAR = _kind("application/vnd.rar", "RAR archive", "rar")
GZIP = _kind("application/gzip", "gzip stream", "gz")
TAR = _kind("application/x-tar", "tar archive", "tar")
ISO_MEDIA = _kind("video/mp4", "MP4/QuickTime (ISO media)", "mp4", "mov", "m4a")
AVI = _kind("video/x-msvideo", "AVI video", "avi")
WAV = _kind("audio/wav", "WAV audio", "wav")
ASF = _kind("video/x-ms-asf", "ASF (WMV) video", "wmv")
FLV = _kind("video/x-flv", "Flash video", "flv")
WEBM = _kind("video/webm", "WebM/Matroska", "webm")
OGG = _kind("audio/ogg", "Ogg", "ogg")
FLAC = _kind("audio/flac", "FLAC audio", "flac")
MP3 = _kind("audio/mpeg", "MP3 audio", "mp3")
PE = _kind("application/x-dosexec", "Windows executable (PE/MZ)")
ELF = _kind("application/x-executable", "ELF executable")
MACHO = _kind("application/x-mach-binary", "Mach-O executable")
SVG = _kind("image/svg+xml", "SVG image", "svg", "xml")
XML = _kind("application/xml", "XML", "xml", "txt", "log")
JSON = _kind("application/json", "JSON", "json", "txt", "log")
TEXT = _kind("text/plain", "plain text", "txt", "csv", "log")
UNKNOWN = _kind("application/octet-stream", "unrecognised binary data")
EXECUTABLES = frozenset({PE, ELF, MACHO})

# (offset, magic, kind), checked in order.
_MAGIC: tuple[tuple[int, bytes, Sniffed], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", PNG),
    (0, b"\xff\xd8\xff", JPEG),
    (0, b"GIF87a", GIF),
    (0, b"GIF89a", GIF),
    (0, b"%PDF-", PDF),
    (0, b"PK\x03\x04", ZIP),
    (0, b"PK\x05\x06", ZIP),  # an empty zip
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE2),
    (0, b"{\\rtf", RTF),
    (0, b"7z\xbc\xaf\x27\x1c", SEVEN_Z),
    (0, b"Rar!\x1a\x07", RAR),
    (0, b"\x1f\x8b", GZIP),
    (257, b"ustar", TAR),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", ASF),
    (0, b"FLV\x01", FLV),
    (0, b"\x1a\x45\xdf\xa3", WEBM),
    (0, b"OggS", OGG),
    (0, b"fLaC", FLAC),
    (0, b"ID3", MP3),
    (0, b"MZ", PE),
    (0, b"\x7fELF", ELF),
    (0, b"\xfe\xed\xfa\xce", MACHO),
    (0, b"\xfe\xed\xfa\xcf", MACHO),
    (0, b"\xce\xfa\xed\xfe", MACHO),
    (0, b"\xcf\xfa\xed\xfe", MACHO),
    (0, b"BM", BMP),  # short: after everything longer
)
_RIFF = {b"WEBP": WEBP, b"AVI ": AVI, b"WAVE": WAV}
_SVG = re.compile(rb"<svg[\s>]", re.IGNORECASE)


def sniff(head: bytes) -> Sniffed:
    """What the bytes are, whatever the file is called."""
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        return ISO_MEDIA
    for offset, magic, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return MP3  # an MPEG audio frame header without an ID3 tag
    return _text_kind(head)


def _text_kind(head: bytes) -> Sniffed:
    body = head.removeprefix(b"\xef\xbb\xbf")
    if b"\x00" in body:
        return UNKNOWN
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(body) - 4:  # not just a character cut in half at the end of the head
            return UNKNOWN
    stripped = body.lstrip()
    if _SVG.search(body):
        return SVG
    if stripped.startswith(b"<"):
        return XML
    if stripped[:1] in (b"{", b"["):
        return JSON
    return TEXT
