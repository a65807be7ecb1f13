"""``GET /trackbook/models`` and ``GET /trackbook/models/{name}``: model files runs recorded."""

from __future__ import annotations

import tornado.web
from jupyter_server.auth.decorator import authorized

from .base import TrackbookHandler


class ModelsHandler(TrackbookHandler):
    """Every recorded model name with its version count and newest version."""

    auth_resource = "trackbook:models"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        self.check_query_arguments()
        self.write_json(await self.blocking(self.service.list_models))


class ModelHandler(TrackbookHandler):
    """Every version of one recorded model, newest first."""

    auth_resource = "trackbook:models"

    @tornado.web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.check_query_arguments()
        self.write_json(await self.blocking(self.service.describe_model, name))
