"""Files the upload tests send: made here, byte by byte, so no binary fixture sits in the repository."""

from __future__ import annotations

import io

from infra.local import signatures

# The EICAR anti-virus test file (harmless; every engine reports it): the one DeskOS's test signatures detect.
EICAR = signatures.EICAR

# The start of a Windows PE executable: the MZ header pointing at a PE signature.
WINDOWS_EXE = b"MZ\x90\x00" + b"\x00" * 56 + (64).to_bytes(4, "little") + b"PE\x00\x00" + b"\x00" * 200

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png(width: int = 640, height: int = 480, *, exif_orientation: int | None = None) -> bytes:
    """A real PNG (or, with an EXIF orientation, a JPEG that carries it) of the given size."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (200, 30, 30))
    out = io.BytesIO()
    if exif_orientation is None:
        image.save(out, "PNG")
    else:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()
