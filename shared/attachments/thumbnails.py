"""Thumbnails of clean raster images with Pillow (imported by the scan function only).

256 px on the longest side, EXIF orientation applied, WebP. Pillow's decompression-bomb guard is on
and tighter than its default; an image that is too large, truncated or not decodable yields no
thumbnail (None), never an exception that would make the event retry forever."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

SIZE = 256
MAX_PIXELS = 50_000_000  # ~ 8000 x 6000; Image.open refuses twice this outright, we refuse it here
QUALITY = 80

logger = logging.getLogger(__name__)
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def make(path: Path) -> bytes | None:
    """WebP bytes of the thumbnail, or None if this image cannot (safely) have one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # over MAX_PIXELS: refuse, not warn
            with Image.open(path) as image:
                image.draft("RGB", (SIZE, SIZE))  # JPEG: decode at a reduced scale, far less memory
                upright = ImageOps.exif_transpose(image)
                upright.thumbnail((SIZE, SIZE), Image.Resampling.LANCZOS)
                mode = "RGBA" if upright.mode in ("RGBA", "LA", "P", "PA") else "RGB"
                out = io.BytesIO()
                upright.convert(mode).save(out, "WEBP", quality=QUALITY)
                return out.getvalue()
    except (
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        UnidentifiedImageError,
        OSError,  # truncated or corrupt data
        ValueError,
        SyntaxError,  # some plugins report malformed headers this way
        EOFError,
    ) as error:
        logger.warning("no thumbnail for %s: %s: %s", path.name, type(error).__name__, error)
        return None
