"""Replays over REST: start one, follow it, list a run's, read its audit report.

::

    POST /trackbook/runs/{run_id}/replays        202 {replay_id, run_id, status} + Location
    GET  /trackbook/runs/{run_id}/replays        the run's replays, newest first
    GET  /trackbook/replays/{replay_id}          status, progress, verdict, differences, failure
    GET  /trackbook/replays/{replay_id}/report   the run's HTML audit report, sandboxed

A POST checks the request and the run, stores a ``queued`` replay and
returns at once; the replay runs in a child process
(:mod:`.replay_launcher`). Starting a replay starts a kernel that executes
the run's recorded code, so besides ``write`` on ``trackbook:replays`` the
user needs the authorizer's consent to start kernels (``write`` on
``kernels``), as for ``POST /api/kernels``.
"""

from __future__ import annotations

import re

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import ensure_async, url_path_join

from ..exceptions import UsageError
from ..report.html import CONTENT_SECURITY_POLICY
from .artifacts import safe_filename
from .base import TrackbookHandler
from .replay_launcher import ReplayLauncher, ReplayQueueFull
from .replay_schemas import CreateReplay, StartedReplay
from .runs import RUN_ID, checked_run_id
from .schemas import ErrorResponse

#: The report is our own escaped HTML without scripts; the browser is told
#: to treat it as hostile anyway (opaque origin, no scripts, nothing loaded),
#: and only JupyterLab's own pages may frame it (as Jupyter's default CSP says).
REPORT_CSP = f"sandbox; {CONTENT_SECURITY_POLICY}; frame-ancestors 'self'"
#: Default and largest page of ``GET /trackbook/runs/{run_id}/replays``.
DEFAULT_REPLAYS, MAX_REPLAYS = 50, 500
#: Seconds a client should wait before asking again when the queue is full.
RETRY_AFTER_S = 10


def checked_replay_id(replay_id: str) -> str:
    """``replay_id`` upper-cased if it is a ULID, else ``UsageError`` (400)."""
    if RUN_ID.fullmatch(replay_id) is None:
        raise UsageError("replay_id: not a replay id (26 characters, Crockford base 32)")
    return replay_id.upper()


class _ReplayHandler(TrackbookHandler):
    auth_resource = "trackbook:replays"

    @property
    def launcher(self) -> ReplayLauncher:
        """The launcher the extension app created (see :mod:`.app`)."""
        launcher: ReplayLauncher = self.settings["trackbook_replays"]
        return launcher


class RunReplaysHandler(_ReplayHandler):
    """Start a replay of a run; list the run's replays."""

    accepted_arguments = frozenset({"limit"})

    @tornado.web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        self.check_query_arguments()
        run_id = checked_run_id(run_id)
        request = CreateReplay.from_body(self.request.body)
        allowed = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "write", "kernels")
        )
        if not allowed:
            raise tornado.web.HTTPError(
                403, "a replay starts a kernel, and you may not start kernels on this server"
            )
        try:
            self.launcher.reserve()
        except ReplayQueueFull as exc:
            self.set_header("Retry-After", str(RETRY_AFTER_S))
            self.write_json(ErrorResponse(error="Too Many Requests", message=str(exc)), status=429)
            return
        try:
            replay = await self.blocking(self.service.create_replay, run_id, request)
        except BaseException:
            self.launcher.release()
            raise
        self.launcher.submit(replay.id, request.timeout)
        self.set_header("Location", url_path_join(self.base_url, "trackbook", "replays", replay.id))
        started = StartedReplay(replay_id=replay.id, run_id=replay.run_id, status=replay.status)
        self.write_json(started, status=202)

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.check_query_arguments()
        run_id = checked_run_id(run_id)
        limit = _limit(self.get_query_argument("limit", None))
        response = await self.blocking(self.service.list_replays, run_id, limit)
        self.set_header("Cache-Control", "no-cache")
        self.write_json(response)


class ReplayHandler(_ReplayHandler):
    """One replay: its progress while it runs, then its verdict."""

    @tornado.web.authenticated
    @authorized
    async def get(self, replay_id: str) -> None:
        self.check_query_arguments()
        response = await self.blocking(self.service.describe_replay, checked_replay_id(replay_id))
        self.set_header("Cache-Control", "no-cache")
        self.write_json(response)


class ReplayReportHandler(_ReplayHandler):
    """The HTML audit report of the replayed run, to show in a sandboxed frame."""

    @tornado.web.authenticated
    @authorized
    async def get(self, replay_id: str) -> None:
        self.check_query_arguments()
        replay, html = await self.blocking(self.service.replay_report, checked_replay_id(replay_id))
        self.set_header("Content-Security-Policy", REPORT_CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.set_header(
            "Content-Disposition",
            f'inline; filename="{safe_filename(f"trackbook-audit-{replay.run_id}.html")}"',
        )
        self.finish(html, set_content_type="text/html; charset=UTF-8")


_DIGITS = re.compile(r"[0-9]{1,4}")


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_REPLAYS
    value = int(text) if _DIGITS.fullmatch(text) else -1
    if not 1 <= value <= MAX_REPLAYS:
        raise UsageError(
            f"limit: must be a whole number from 1 to {MAX_REPLAYS}, not {text[:20]!r}"
        )
    return value
