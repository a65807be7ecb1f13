"""Figure thumbnails for the audit report: small PNGs as ``data:`` URLs.

The report must open anywhere, offline, with a CSP that allows images only
from ``data:`` URLs, and stay small with many replays: a full-size figure is
often 100 KB-1 MB, a 400-pixel thumbnail of a plot 10-40 KB. Pillow (which
matplotlib installs) does the downscaling; without it, only an image that is
already small is embedded, after its format is checked from its own bytes
(never from the media type the store recorded).
"""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass
from typing import Any

#: Longest side of a thumbnail, in pixels: readable on screen and on paper.
MAX_SIDE = 400
#: A thumbnail larger than this is re-encoded smaller (noisy images, photos).
MAX_THUMBNAIL_BYTES = 120_000
#: Without Pillow, images up to this size are embedded as they are.
MAX_RAW_BYTES = 120_000

_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


@dataclass(frozen=True)
class Thumbnail:
    """A data URL to embed, or ``None`` with the reason why not."""

    data_url: str | None
    note: str | None = None


def thumbnail(data: bytes) -> Thumbnail:
    """A small PNG of the image in ``data`` as a ``data:`` URL (never raises)."""
    try:
        from PIL import Image  # noqa: F401  (Pillow is optional; matplotlib brings it)
    except ImportError:
        return _embed_raw(data)
    try:
        return Thumbnail(_data_url("image/png", _downscale(data)))
    except Exception as exc:  # noqa: BLE001  (a bad image must not stop the report)
        return Thumbnail(None, f"not an image Pillow can read ({type(exc).__name__})")


def _downscale(data: bytes) -> bytes:
    from PIL import Image

    with warnings.catch_warnings():
        # A huge image is refused (DecompressionBombError) rather than warned about.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at reduced size
            image.load()
            picture = image.copy()
    side = MAX_SIDE
    while True:
        small = picture.copy()
        small.thumbnail((side, side))  # shrink first: every later step is on the small image
        out = io.BytesIO()
        # A palette of 256 colours suits plots (few colours, flat areas): about a third
        # of the bytes of true colour, and far faster than ``optimize=True``.
        _palette(small).save(out, format="PNG", compress_level=6)
        if out.tell() <= MAX_THUMBNAIL_BYTES or side <= 100:
            return out.getvalue()
        side //= 2


def _palette(image: Any) -> Any:
    from PIL import Image

    if image.mode == "P":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Plots are drawn on an opaque background; keep transparency as white.
        rgba = image.convert("RGBA")
        backdrop = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(backdrop, rgba)
    return image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)


def _embed_raw(data: bytes) -> Thumbnail:
    media_type = next((t for sig, t in _SIGNATURES.items() if data.startswith(sig)), None)
    if media_type is None:
        return Thumbnail(None, "not a PNG, JPEG or GIF image")
    if len(data) > MAX_RAW_BYTES:
        return Thumbnail(
            None, 'too large to embed without Pillow (pip install pillow to get a thumbnail)'
        )
    return Thumbnail(_data_url(media_type, data))


def _data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
