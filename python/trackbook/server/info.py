"""``GET /trackbook/info``: the version handshake the frontend does on activation."""

from __future__ import annotations

import tornado.web
from jupyter_server.auth.decorator import authorized

from .base import TrackbookHandler


class InfoHandler(TrackbookHandler):
    """Which trackbook serves this registry, and which kind of store it uses."""

    auth_resource = "trackbook:info"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        self.check_query_arguments()
        self.write_json(await self.blocking(self.service.info))
