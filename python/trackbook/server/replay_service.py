"""The replay half of :class:`~trackbook.server.service.RegistryService`.

A mixin, as the store's replay methods are (``store/store_replays.py``):
blocking store calls the replay handlers run on the service's threads. The
replay itself never runs here; :mod:`.replay_launcher` starts it in a
child process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..entities import Replay, ReplayFailure, to_json, utcnow
from ..exceptions import ReplayNotFoundError
from .replay_schemas import CreateReplay, DescribeReplay, ListReplaysResponse

if TYPE_CHECKING:
    from ..store import Store

#: Process bookkeeping the store keeps on a replay; not part of its description.
_INTERNAL_FIELDS = ("host", "pid")


class ReplayServiceMethods:
    """Create, describe and list replays; serve their audit report."""

    if TYPE_CHECKING:

        @property
        def store(self) -> Store: ...

    def create_replay(self, run_id: str, request: CreateReplay) -> Replay:
        """Check the request against the run and store the ``queued`` replay.

        The check is the engine's own (:func:`~trackbook.replaying.engine.prepare_replay`),
        so a run that cannot be replayed in this mode is a 400 now, not a
        failed replay later. The record's owner is this (the server's)
        process until its runner starts it.

        Raises
        ------
        RunNotFoundError
            No run has exactly this id.
        UsageError
            Bad tolerances or overrides, or a run this mode cannot replay.
        """
        from ..replaying.engine import prepare_replay

        run = self.store.get_run_by_id(run_id)  # exactly this id: no prefix or name lookup
        replay = prepare_replay(
            self.store, run.id, mode=request.mode, overrides=request.overrides,
            rtol=request.rtol, atol=request.atol,
        )
        self.store.create_replay(replay)
        return replay

    def describe_replay(self, replay_id: str) -> DescribeReplay:
        """Status, progress message, verdict, differences and failure (``NotFound``: 404)."""
        return _describe(self._replay(replay_id))

    def list_replays(self, run_id: str, limit: int) -> ListReplaysResponse:
        """The run's replays, newest request first (``RunNotFoundError`` for an unknown run)."""
        replays = self.store.list_replays(run_id, limit)
        if not replays:
            self.store.get_run_by_id(run_id)  # only an empty list needs to tell "no run" apart
        return ListReplaysResponse(replays=[_describe(r) for r in replays])

    def replay_report(self, replay_id: str) -> tuple[Replay, bytes]:
        """The replay and the HTML audit report of its run.

        The report the replay stored with its verdict when there is one (a
        record of that moment, verified against its hash); otherwise one
        built now, which shows the replay as it stands.
        """
        replay = self._replay(replay_id)
        if replay.report_artifact is not None:
            with self.store.blobs.open_verified(replay.report_artifact) as stream:
                return replay, stream.read()
        from ..report import build_document, render_html

        return replay, render_html(build_document(self.store, replay.run_id))

    def close_open_replay(self, replay_id: str, ename: str, evalue: str) -> bool:
        """Record the replay as ``failed`` with this reason unless it is done; True if it was open.

        For replays whose runner ended without a verdict, or never started
        (the server stopped). The last finish wins in the store, so a runner
        that finishes after all still records its real verdict.
        """
        try:
            replay = self.store.get_replay(replay_id)
        except ReplayNotFoundError:
            return False
        if replay.status == "done":
            return False
        replay.status, replay.verdict = "done", "failed"
        replay.failure = ReplayFailure(None, ename, evalue)
        replay.message = evalue
        replay.ended_at = utcnow()
        self.store.finish_replay(replay)
        return True

    def _replay(self, replay_id: str) -> Replay:
        from .service import NotFound

        try:
            return self.store.get_replay(replay_id)
        except ReplayNotFoundError:
            raise NotFound(f"no replay has the id {replay_id}") from None


def _describe(replay: Replay) -> DescribeReplay:
    body: dict[str, Any] = to_json(replay)
    for name in _INTERNAL_FIELDS:
        body.pop(name, None)
    return DescribeReplay.model_validate(body)
