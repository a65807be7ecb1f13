"""``GET /trackbook/runs`` (a page of summaries) and ``GET /trackbook/runs/{run_id}`` (one run).

The listing carries an ``ETag`` computed from the store's change token
before any query runs: a client polling with ``If-None-Match`` gets ``304``
for the price of three index lookups while nothing changes.
"""

from __future__ import annotations

import re

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..exceptions import UsageError
from .base import TrackbookHandler
from .schemas import ListRunsQuery

#: A ULID: 26 Crockford base-32 characters (case-insensitive, as Crockford allows).
RUN_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}", re.IGNORECASE)


def checked_run_id(run_id: str) -> str:
    """``run_id`` upper-cased if it is a ULID, else ``UsageError`` (400)."""
    if RUN_ID.fullmatch(run_id) is None:
        raise UsageError("run_id: not a run id (26 characters, Crockford base 32)")
    return run_id.upper()


class RunsHandler(TrackbookHandler):
    """A filtered, sorted page of run summaries."""

    auth_resource = "trackbook:runs"
    accepted_arguments = frozenset(ListRunsQuery.model_fields)

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        self.check_query_arguments()
        arguments = {
            name: [self.decode_argument(v, name) for v in values]
            for name, values in self.request.query_arguments.items()
        }
        query = ListRunsQuery.from_arguments(arguments)
        if self.request.headers.get("If-None-Match"):
            etag = await self.blocking(self.service.list_etag, query)
            if self.etag_matches(etag):
                self.set_header("ETag", etag)
                self.set_status(304)
                self.finish()
                return
        response, etag = await self.blocking(self.service.list_runs, query)
        self.set_header("ETag", etag)
        self.set_header("Cache-Control", "no-cache")
        self.write_json(response)

    def etag_matches(self, etag: str) -> bool:
        """True when the request's ``If-None-Match`` names ``etag`` (weak or strong)."""
        given = self.request.headers.get("If-None-Match", "")
        tags = {t.strip().removeprefix("W/") for t in given.split(",")}
        return etag in tags or "*" in tags


class RunHandler(TrackbookHandler):
    """Every facet of one run."""

    auth_resource = "trackbook:runs"

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.check_query_arguments()
        response = await self.blocking(self.service.describe_run, checked_run_id(run_id))
        self.write_json(response)
