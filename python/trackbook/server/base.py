"""The one base handler: authentication, JSON replies and error mapping.

Errors are mapped once, here, never with a try/except ladder per verb:
lookups 404, invalid input 400, conflicts 409, anything else 500 with the
traceback logged. Bodies are JSON; request input is never echoed as HTML.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin

from ..entities import to_json
from ..exceptions import (
    AmbiguousRunError,
    RunNotFoundError,
    SchemaMismatchError,
    StoreUnavailableError,
    TrackbookError,
    UsageError,
)

#: Most specific first: the first matching class decides the status.
ERROR_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (RunNotFoundError, HTTPStatus.NOT_FOUND),
    (AmbiguousRunError, HTTPStatus.CONFLICT),
    (UsageError, HTTPStatus.BAD_REQUEST),
    (SchemaMismatchError, HTTPStatus.CONFLICT),
    (StoreUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
)


def status_for(error: BaseException) -> int:
    """The HTTP status a trackbook error maps to (500 when unknown)."""
    for cls, status in ERROR_STATUS:
        if isinstance(error, cls):
            return int(status)
    return int(HTTPStatus.INTERNAL_SERVER_ERROR)


class TrackbookHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every trackbook handler; subclasses set ``auth_resource``."""

    auth_resource = "trackbook:runs"

    @property
    def service(self) -> Any:
        """The registry service the extension app created (see :mod:`.app`)."""
        return self.settings["trackbook_service"]

    def write_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(to_json(payload)))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # Expected errors are the client's or the store's state, not bugs: one
        # line without traceback (and never the request's headers or cookies).
        if isinstance(value, TrackbookError) and status_for(value) < 500:
            self.log.warning("trackbook %s %s: %s", self.request.method, self.request.path, value)
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if isinstance(error, tornado.web.HTTPError):
            message = error.log_message or HTTPStatus(status_code).phrase
        elif isinstance(error, TrackbookError):
            status_code = status_for(error)
            message = str(error)
        else:
            message = HTTPStatus(status_code).phrase
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"error": HTTPStatus(status_code).phrase, "message": message}))
