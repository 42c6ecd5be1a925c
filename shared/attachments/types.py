"""What may be uploaded: extensions by category, the declared types each accepts, name rules.

The extension picks the category; the scan checks that the bytes agree (``sniff``)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from shared.errors import PayloadTooLarge, Unprocessable

Category = Literal["image", "document", "video", "audio", "archive", "other"]

EXTENSIONS: dict[str, Category] = {
    **dict.fromkeys(("jpg", "jpeg", "png", "gif", "bmp", "svg", "webp"), "image"),
    **dict.fromkeys(("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "rtf", "odt"), "document"),
    **dict.fromkeys(("zip", "rar", "7z", "tar", "gz"), "archive"),
    **dict.fromkeys(("mp4", "avi", "mov", "wmv", "flv", "webm"), "video"),
    **dict.fromkeys(("mp3", "wav", "ogg", "flac", "m4a"), "audio"),
    **dict.fromkeys(("csv", "json", "xml", "log"), "other"),
}
# Images Pillow may rasterise into a thumbnail (SVG never is: it is markup, not pixels).
THUMBNAIL_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "gif", "bmp", "webp"})

# The declared (browser-sent) types each extension accepts; application/octet-stream is always accepted
# because browsers send it for anything they do not recognise. The bytes decide in the scan.
_DECLARED: dict[str, tuple[str, ...]] = {
    "jpg": ("image/jpeg", "image/pjpeg"),
    "jpeg": ("image/jpeg", "image/pjpeg"),
    "png": ("image/png",),
    "gif": ("image/gif",),
    "bmp": ("image/bmp", "image/x-ms-bmp"),
    "svg": ("image/svg+xml",),
    "webp": ("image/webp",),
    "pdf": ("application/pdf",),
    "doc": ("application/msword",),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    "xls": ("application/vnd.ms-excel",),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    "ppt": ("application/vnd.ms-powerpoint",),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation",),
    "txt": ("text/plain",),
    "rtf": ("application/rtf", "text/rtf"),
    "odt": ("application/vnd.oasis.opendocument.text",),
    "zip": ("application/zip", "application/x-zip-compressed"),
    "rar": ("application/vnd.rar", "application/x-rar-compressed"),
    "7z": ("application/x-7z-compressed",),
    "tar": ("application/x-tar",),
    "gz": ("application/gzip", "application/x-gzip"),
    "mp4": ("video/mp4",),
    "avi": ("video/x-msvideo", "video/avi"),
    "mov": ("video/quicktime",),
    "wmv": ("video/x-ms-wmv",),
    "flv": ("video/x-flv",),
    "webm": ("video/webm", "audio/webm"),
    "mp3": ("audio/mpeg", "audio/mp3"),
    "wav": ("audio/wav", "audio/x-wav", "audio/wave"),
    "ogg": ("audio/ogg", "application/ogg", "video/ogg"),
    "flac": ("audio/flac", "audio/x-flac"),
    "m4a": ("audio/mp4", "audio/x-m4a"),
    "csv": ("text/csv", "application/csv", "text/plain"),
    "json": ("application/json", "text/plain"),
    "xml": ("application/xml", "text/xml"),
    "log": ("text/plain",),
}
GENERIC_TYPE = "application/octet-stream"
MAX_NAME_LENGTH = 255
_UNSAFE = re.compile(r'[/\\<>:"|?*]')  # separators and what Windows forbids in names


@dataclass(frozen=True)
class UploadKind:
    extension: str
    category: Category


def extension_of(filename: str) -> str:
    return filename.rpartition(".")[2].lower() if "." in filename else ""


def check_name(filename: str) -> str:
    """The name as stored (NFC), or 422 saying what is wrong with it."""
    name = unicodedata.normalize("NFC", filename)

    def bad(reason: str) -> Unprocessable:
        return Unprocessable.field("original_filename", reason)

    if not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise bad(f"A file name of 1-{MAX_NAME_LENGTH} characters is required.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise bad("The file name contains control or invisible formatting characters.")
    if _UNSAFE.search(name) or name.startswith("."):
        raise bad("The file name must be a plain name: no path separators, no leading dot, no reserved characters.")
    if name != name.strip() or name.endswith("."):
        raise bad("The file name may not start or end with spaces, nor end with a dot.")
    return name


def classify(filename: str, declared_type: str, size: int, limit: int) -> UploadKind:
    """Validate what the client declares before any byte is sent: name, extension, type, size."""
    name = check_name(filename)
    extension = extension_of(name)
    if extension not in EXTENSIONS:
        allowed = ", ".join(sorted(EXTENSIONS))
        raise Unprocessable.field(
            "original_filename", f"Files of type .{extension or '(none)'} are not accepted; allowed: {allowed}."
        )
    declared = declared_type.split(";")[0].strip().lower()
    if declared != GENERIC_TYPE and declared not in _DECLARED[extension]:
        raise Unprocessable.field(
            "content_type", f"{declared_type} does not match .{extension} (expected {', '.join(_DECLARED[extension])})."
        )
    if size <= 0:
        raise Unprocessable.field("size", "An empty file cannot be uploaded.")
    if size > limit:
        raise PayloadTooLarge(f"The file is {size} bytes; the limit is {limit} bytes.", limit=limit)
    return UploadKind(extension, EXTENSIONS[extension])
