"""``GET /trackbook/runs/{run_id}/artifacts/{artifact_id}``: an artifact's bytes, served safely.

Nothing from the request ever becomes a path: the artifact id must be a
sha256 hex digest *and* an artifact the run recorded (else 404), and the
blob store builds the path from the validated id, refuses symlinks and
verifies the content hash through the very file it then streams (a changed
blob is a 500 and nothing is sent). Bytes are never unpickled.

Browsers get no chance to run anything: ``X-Content-Type-Options: nosniff``,
a ``sandbox`` Content-Security-Policy, the stored media type only for the
raster image types below (shown inline), everything else as an
``application/octet-stream`` attachment with an ASCII file name.
"""

from __future__ import annotations

import os
import re

import tornado.iostream
import tornado.web
from jupyter_server.auth.decorator import authorized

from .base import TrackbookHandler
from .runs import checked_run_id
from .service import NotFound

#: Media types a browser may render inline (raster images cannot carry script).
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
ARTIFACT_CSP = "sandbox; default-src 'none'"
#: Content-addressed: the bytes behind an id never change.
ARTIFACT_CACHE = "private, max-age=31536000, immutable"
_BLOB_ID = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


def safe_filename(name: str, fallback: str = "artifact") -> str:
    """An ASCII file name for ``Content-Disposition``: no path, quotes or control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")[:120]
    return cleaned or fallback


class ArtifactHandler(TrackbookHandler):
    """The verified bytes of one artifact of one run."""

    auth_resource = "trackbook:artifacts"

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str, artifact_id: str) -> None:
        self.check_query_arguments()
        run_id = checked_run_id(run_id)
        if _BLOB_ID.fullmatch(artifact_id) is None:
            raise NotFound("not an artifact id (64 lowercase hex digits)")
        artifact = await self.blocking(self.service.find_artifact, run_id, artifact_id)
        etag = f'"{artifact.id}"'
        self.set_header("ETag", etag)
        self.set_header("Cache-Control", ARTIFACT_CACHE)
        if etag in {t.strip() for t in self.request.headers.get("If-None-Match", "").split(",")}:
            self.set_status(304)
            self.finish()
            return
        stream = await self.blocking(self.service.open_blob, artifact.id)
        try:
            size = stream.seek(0, os.SEEK_END)
            stream.seek(0)
            media_type = artifact.media_type if artifact.media_type in INLINE_TYPES else None
            disposition = "inline" if media_type else "attachment"
            self.set_header("Content-Type", media_type or "application/octet-stream")
            self.set_header(
                "Content-Disposition", f'{disposition}; filename="{safe_filename(artifact.name)}"'
            )
            self.set_header("X-Content-Type-Options", "nosniff")
            self.set_header("Content-Security-Policy", ARTIFACT_CSP)
            self.set_header("Content-Length", str(size))
            while chunk := await self.blocking(stream.read, _CHUNK):
                self.write(chunk)
                try:
                    await self.flush()
                except tornado.iostream.StreamClosedError:
                    return  # the client went away
        finally:
            stream.close()
        self.finish(set_content_type=media_type or "application/octet-stream")
