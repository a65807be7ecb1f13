"""``python -m trackbook.server.replay_runner REPLAY_ID --timeout S``: run one stored replay.

The server starts one of these per replay (:mod:`.replay_launcher`) rather
than replaying in its own process: papermill, the kernel client and the
comparison live and die here, so the server never blocks on a replay and
does not grow with the number of replays it has run.

The store comes from ``TRACKBOOK_STORE`` (the server sets it; an argument
would show a PostgreSQL password in ``ps``). The replay must be ``queued``;
:func:`~trackbook.replaying.engine.run_replay` then owns it from
``start_replay`` to its verdict, whatever happens in between.

SIGTERM (the server stopping) becomes :class:`ReplayStopped` in the main
thread: the engine stops the kernel, records the replay as ``failed`` with
that reason, and this process exits. A runner killed outright leaves a
``running`` replay whose process is gone, which the server (or
``store.mark_abandoned_replays``) closes as failed.

Exit status: 0 when a verdict was recorded, 2 for bad arguments, 3 when
the replay cannot be run (unknown, or no longer queued), 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

#: Exit statuses (see the module docstring).
EXIT_RECORDED, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_RUNNABLE = 0, 1, 2, 3


class ReplayStopped(Exception):
    """The server asked this replay to stop (it is shutting down)."""


def _stop_on_sigterm() -> None:
    """Turn the first SIGTERM into :class:`ReplayStopped`; later ones wait for the record."""

    def handler(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the verdict is being written: let it finish
        raise ReplayStopped("the Jupyter server stopped while the replay ran; start it again")

    signal.signal(signal.SIGTERM, handler)


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m trackbook.server.replay_runner",
        description="Run a queued replay of the store named by TRACKBOOK_STORE.",
    )
    parser.add_argument("replay_id")
    parser.add_argument(
        "--timeout", type=float, required=True, help="seconds, once the kernel started"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the replay; the exit status says whether a verdict was recorded."""
    _stop_on_sigterm()
    try:
        args = _arguments(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_RECORDED
    store_url = os.environ.get("TRACKBOOK_STORE")
    if not store_url:
        print("replay_runner: TRACKBOOK_STORE is not set", file=sys.stderr)
        return EXIT_USAGE

    try:
        return _run(store_url, args.replay_id, args.timeout)
    except ReplayStopped as exc:  # stopped before the engine owned the replay: the server closes it
        print(f"replay_runner: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _run(store_url: str, replay_id: str, timeout: float) -> int:
    from ..exceptions import ReplayNotFoundError
    from ..replaying.engine import run_replay
    from ..store import open_store

    with open_store(store_url, create=False) as store:
        try:
            replay = store.get_replay(replay_id)
        except ReplayNotFoundError:
            print(f"replay_runner: no replay {replay_id} in the store", file=sys.stderr)
            return EXIT_NOT_RUNNABLE
        if replay.status != "queued":
            print(f"replay_runner: {replay.id} is {replay.status}, not queued", file=sys.stderr)
            return EXIT_NOT_RUNNABLE
        run_replay(store, replay, timeout=timeout)
    return EXIT_RECORDED


if __name__ == "__main__":  # pragma: no cover - run as a process
    sys.exit(main())
