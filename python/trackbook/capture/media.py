"""Media types of artifacts, decided by name only (content is never sniffed)."""

from __future__ import annotations

import mimetypes

#: Types a browser may show inline; anything else is served as an attachment.
INLINE_MEDIA_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def guess_media_type(name: str) -> str:
    """The media type for a file name, ``application/octet-stream`` when unknown."""
    media_type, _ = mimetypes.guess_type(name, strict=False)
    return media_type or "application/octet-stream"
