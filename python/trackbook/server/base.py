"""The one base handler: authentication, JSON replies, store calls off the event loop, errors.

Errors are mapped once, here, never with a try/except ladder per verb:
lookups 404, invalid input 400, conflicts 409, anything else 500 with the
traceback logged. Bodies are JSON ``{"error", "message"}``; request input is
never echoed as HTML, and a 5xx never shows internals (paths, SQL): the log
has them. Log lines name the method and path only (no query string, no
headers), so tokens and cookies never reach the log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from pydantic import BaseModel

from ..entities import to_json
from ..exceptions import (
    AmbiguousRunError,
    IntegrityError,
    ReplayNotFoundError,
    RunNotFoundError,
    SchemaMismatchError,
    StoreUnavailableError,
    TrackbookError,
    UsageError,
)
from .service import NotFound, RegistryService

T = TypeVar("T")

#: Most specific first: the first matching class decides the status.
ERROR_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (RunNotFoundError, HTTPStatus.NOT_FOUND),
    (ReplayNotFoundError, HTTPStatus.NOT_FOUND),
    (NotFound, HTTPStatus.NOT_FOUND),
    (AmbiguousRunError, HTTPStatus.CONFLICT),
    (UsageError, HTTPStatus.BAD_REQUEST),
    (SchemaMismatchError, HTTPStatus.CONFLICT),
    (StoreUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
)

#: What a client may read in a 5xx body (the log has the details).
SERVER_ERROR_MESSAGES: tuple[tuple[type[BaseException], str], ...] = (
    (
        IntegrityError,
        (
            "the stored content failed verification (missing or changed since it was "
            "recorded); nothing was served. Run `trackbook store verify`"
        ),
    ),
    (StoreUnavailableError, "the store is busy or unreachable; try again"),
)

#: Expected errors: logged as one line, without a traceback.
_CLIENT_ERRORS = (TrackbookError, NotFound)


def status_for(error: BaseException) -> int:
    """The HTTP status an error maps to (500 when unknown)."""
    for cls, status in ERROR_STATUS:
        if isinstance(error, cls):
            return int(status)
    return int(HTTPStatus.INTERNAL_SERVER_ERROR)


def _message(error: BaseException | None, status: int) -> str:
    if isinstance(error, tornado.web.HTTPError):
        if error.log_message:
            return error.log_message % error.args if error.args else error.log_message
        return HTTPStatus(status).phrase
    if error is not None and status < 500:
        return str(error)
    for cls, text in SERVER_ERROR_MESSAGES:
        if isinstance(error, cls):
            return text
    return "the server failed to answer this request; its log has the details"


#: Query parameters Jupyter Server itself reads on any request.
SERVER_ARGUMENTS = frozenset({"token", "_xsrf", "no_track_activity"})


class TrackbookHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every trackbook handler; subclasses set ``auth_resource``.

    ``accepted_arguments`` names the query parameters a handler reads; any other
    one is a 400, so a misspelt filter (``tags=`` for ``tag=``) is not
    silently ignored.
    """

    auth_resource = "trackbook:runs"
    accepted_arguments: frozenset[str] = frozenset()

    def check_query_arguments(self) -> None:
        """Raise ``UsageError`` (400) for a query parameter this endpoint does not take."""
        unknown = set(self.request.query_arguments) - self.accepted_arguments - SERVER_ARGUMENTS
        if unknown:
            allowed = ", ".join(sorted(self.accepted_arguments)) or "none"
            name = min(unknown)
            raise UsageError(f"{name[:40]}: not a parameter of this endpoint (allowed: {allowed})")

    @property
    def service(self) -> RegistryService:
        """The registry service the extension app created (see :mod:`.app`)."""
        service: RegistryService = self.settings["trackbook_service"]
        return service

    async def blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking store call on the service's threads, off the event loop."""
        return await self.service.call(fn, *args)

    def write_json(self, payload: Any, status: int = 200) -> None:
        """Finish with ``payload`` (a response model, entity or plain value) as JSON."""
        body = payload.to_json() if isinstance(payload, BaseModel) else to_json(payload)  # type: ignore[attr-defined]
        self.set_status(status)
        self.finish(
            json.dumps(body, allow_nan=False), set_content_type="application/json; charset=UTF-8"
        )

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # Expected errors are the client's or the store's state, not bugs: one
        # line without traceback (and never the request's query, headers or cookies).
        if isinstance(value, _CLIENT_ERRORS) and status_for(value) < 500:
            self.log.warning("trackbook %s %s: %s", self.request.method, self.request.path, value)
            return
        if isinstance(value, tornado.web.HTTPError):
            super().log_exception(typ, value, tb)
            return
        self.log.error(
            "trackbook %s %s failed",
            self.request.method,
            self.request.path,
            exc_info=(typ, value, tb),
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if not isinstance(error, tornado.web.HTTPError) and error is not None:
            status_code = status_for(error)
        self.set_status(status_code)
        self.clear_header("Content-Disposition")
        body = {"error": HTTPStatus(status_code).phrase, "message": _message(error, status_code)}
        self.finish(json.dumps(body), set_content_type="application/json; charset=UTF-8")


class NotFoundHandler(TrackbookHandler):
    """Any other path under ``/trackbook/``: a JSON 404 (after authentication)."""

    auth_resource = "trackbook:runs"

    @tornado.web.authenticated
    @authorized
    def get(self, rest: str = "") -> None:
        raise tornado.web.HTTPError(404, "no such trackbook endpoint; see api/openapi.yaml")
