"""``GET /trackbook/info``: the version handshake the frontend does on activation."""

from __future__ import annotations

import tornado.web
from jupyter_server.auth.decorator import authorized

from .._version import __version__
from .base import TrackbookHandler


class InfoHandler(TrackbookHandler):
    """Which trackbook serves this registry, and which kind of store it uses."""

    auth_resource = "trackbook:info"

    @tornado.web.authenticated
    @authorized
    def get(self) -> None:
        location = self.service.location
        self.write_json({
            "version": __version__,
            "store": {"kind": location.kind, "url": location.display_url},
            "schema_revision": self.service.schema_revision(),
        })
