"""What decides an upload's fate without any cloud: names, real types from bytes, thumbnails, POST policies."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from infra.local.s3_post_policy import PolicyViolation, check, check_tagging
from shared.attachments import sniff, thumbnails
from shared.attachments.storage import PENDING_TAGGING
from shared.attachments.types import classify
from shared.errors import PayloadTooLarge, Unprocessable
from tests.samples import EICAR, PDF, WINDOWS_EXE, png


@pytest.mark.parametrize(
    ("head", "mime", "extension"),
    [
        (png(8, 8), "image/png", "png"),
        (png(8, 8, exif_orientation=1), "image/jpeg", "jpg"),
        (b"GIF89a\x01\x00", "image/gif", "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp", "webp"),
        (PDF, "application/pdf", "pdf"),
        (b"PK\x03\x04\x14\x00", "application/zip", "docx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage", "xls"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4", "mov"),
        (b"ID3\x04\x00", "audio/mpeg", "mp3"),
        (b"\x00" * 257 + b"ustar\x0000", "application/x-tar", "tar"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml", "svg"),
        (b'{"a": 1}', "application/json", "json"),
        (b"name,amount\nann,3\n", "text/plain", "csv"),
    ],
)
def test_the_real_type_is_read_from_the_bytes_and_fits_its_extensions(head, mime, extension):
    found = sniff.sniff(head)

    assert (found.mime_type, extension in found.extensions) == (mime, True)


@pytest.mark.parametrize("head", [WINDOWS_EXE, b"\x7fELF\x02\x01\x01", b"\xcf\xfa\xed\xfe"])
def test_executables_are_recognised_and_fit_no_extension(head):
    found = sniff.sniff(head)

    assert found in sniff.EXECUTABLES and not found.extensions


def test_eicar_is_plain_text_to_the_sniffer_so_only_the_engine_can_catch_it():
    assert sniff.sniff(EICAR) is sniff.TEXT


@pytest.mark.parametrize(
    "name", ["../x.txt", "a/b.txt", "a\\b.txt", ".env.txt", "x\x00.txt", "x\u202egpj.txt", " x.txt", "x.txt."]
)
def test_names_with_paths_hidden_files_or_invisible_characters_are_refused(name):
    with pytest.raises(Unprocessable):
        classify(name, "text/plain", 10, 100)


def test_a_plain_unicode_name_with_octet_stream_is_accepted():
    kind = classify("Résumé 2026 (final).PDF", "application/octet-stream", 10, 100)

    assert (kind.extension, kind.category) == ("pdf", "document")


def test_a_file_over_the_limit_is_413_with_the_limit():
    with pytest.raises(PayloadTooLarge) as refused:
        classify("a.txt", "text/plain", 101, 100)

    assert refused.value.extra["limit"] == 100


def test_a_thumbnail_respects_exif_orientation(tmp_path: Path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(png(600, 300, exif_orientation=6))  # stored landscape, to be shown rotated 90°

    with Image.open(io.BytesIO(thumbnails.make(photo))) as thumb:
        assert (thumb.format, thumb.size) == ("WEBP", (128, 256))


def test_a_corrupt_image_gets_no_thumbnail(tmp_path: Path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(png(64, 64)[:60])

    assert thumbnails.make(broken) is None


def test_a_decompression_bomb_gets_no_thumbnail(tmp_path: Path):
    # A PNG header claiming 20000 x 20000 pixels (400 MP), with a valid CRC, and no real data.
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk)

    assert thumbnails.make(bomb) is None


def _policy(*conditions, expires_in: timedelta = timedelta(minutes=5)) -> str:
    expiration = (datetime.now(UTC) + expires_in).strftime("%Y-%m-%dT%H:%M:%SZ")
    return base64.b64encode(json.dumps({"expiration": expiration, "conditions": list(conditions)}).encode()).decode()


def test_a_post_within_its_policy_passes():
    policy = _policy({"bucket": "b"}, {"key": "t/x"}, ["content-length-range", 1, 10])

    check(policy, "b", {"key": "t/x", "policy": policy}, 10, datetime.now(UTC))


@pytest.mark.parametrize(
    ("size", "fields", "expires_in", "code"),
    [
        (11, {"key": "t/x"}, timedelta(minutes=5), "EntityTooLarge"),
        (0, {"key": "t/x"}, timedelta(minutes=5), "EntityTooSmall"),
        (5, {"key": "t/y"}, timedelta(minutes=5), "AccessDenied"),
        (5, {"key": "t/x", "acl": "public-read"}, timedelta(minutes=5), "AccessDenied"),
        (5, {"key": "t/x"}, timedelta(minutes=-1), "AccessDenied"),
    ],
)
def test_a_post_outside_its_policy_is_refused_as_s3_refuses_it(size, fields, expires_in, code):
    policy = _policy({"bucket": "b"}, {"key": "t/x"}, ["content-length-range", 1, 10], expires_in=expires_in)

    with pytest.raises(PolicyViolation) as refused:
        check(policy, "b", {**fields, "policy": policy}, size, datetime.now(UTC))

    assert refused.value.code == code


def test_the_pending_tagging_of_uploads_is_a_tag_set_s3_accepts():
    check_tagging(PENDING_TAGGING)


@pytest.mark.parametrize(
    "tagging", ["<Tagging><TagSet>", "<Tags/>", "<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>"]
)
def test_a_post_whose_tagging_is_not_a_tag_set_is_refused_as_malformed(tagging):
    with pytest.raises(PolicyViolation) as refused:
        check_tagging(tagging)

    assert refused.value.code == "MalformedXML"
