"""The life of one tracked cell run: begin before the body, finish after it.

This is the service behind ``%%track``. It takes plain values (the cell
source, the namespace, the ``In`` list) so it runs without IPython; the magic
only gathers those values and executes the body.

Two rules shape every line here:

* Tracking never breaks the cell. Each facet is captured in its own guard; a
  failure becomes a ``capture_error`` warning on the run, never an exception
  into the user's cell.
* Tracking is cheap. The store is opened once per kernel, the environment is
  stored once per distinct content, and nothing heavy is imported unless the
  cell already uses it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .entities import (
    Artifact,
    RunStatus,
    Metric,
    Run,
    RunError,
    RunWarning,
    current_user,
    new_run_id,
    utcnow,
)
from .exceptions import TrackbookError, UsageError
from .keeper import RunKeeper
from .options import TrackOptions
from .replaying.environment import IN_REPLAY_ENV, OUTBOX_ENV
from .replaying.plan import REPLAY_TAG, REPLAY_VARIABLE, ReplayPlan

SPOOLED_MESSAGE = "the store could not be written; the run is spooled and will be delivered on the next write"


@dataclass
class CellContext:
    """What the kernel knows about the cell about to run."""

    source: str
    namespace: MutableMapping[str, Any]
    history_inputs: Sequence[str] = ()
    cell_ids: Mapping[int, str] = field(default_factory=dict)
    execution_count: int | None = None
    cell_id: str | None = None
    notebook: str | None = None
    kernel_name: str | None = None
    cwd: str | None = None
    transform: Callable[[str], str] | None = None
    #: The run this execution re-executes (set by a replay's plan).
    replay_of: str | None = None


@dataclass
class ActiveRun:
    """A run between begin and finish, with the contexts it holds open."""

    run: Run
    options: TrackOptions
    context: CellContext
    started: float
    created: bool = False
    #: Set by finish: the keeper thread must not write the running row any more.
    settled: bool = False
    create_tried: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    seeds: Any = None
    files: Any = None
    streams: Any = None
    figures_before: set[int] = field(default_factory=set)
    logged_params: dict[str, Any] = field(default_factory=dict)
    logged_metrics: list[Metric] = field(default_factory=list)
    logged_artifacts: list[Artifact] = field(default_factory=list)

    def warn(self, kind: str, message: str) -> None:
        self.run.warnings.append(RunWarning(kind, message))

    @property
    def run_id(self) -> str:
        return self.run.id


class Tracker:
    """Records tracked cells of one kernel into one store.

    Parameters
    ----------
    store:
        Store location (path or URL); ``None`` follows DESIGN's discovery
        (``TRACKBOOK_STORE``, a ``.trackbook/`` above the working directory, ...).
    """

    def __init__(self, store: str | None = None, cwd: str | None = None) -> None:
        self._store_ref = store
        self._cwd = cwd
        self._store: Any = None
        self._stored_environments: set[str] = set()
        self._active: list[ActiveRun] = []
        self._store_lock = threading.Lock()  # the keeper thread may open the store too
        self._keeper = RunKeeper(self._create_late, self._beat)
        #: False after a write failed: record in the foreground until one succeeds.
        #: A replay's kernel is stopped outright once its notebook ran, and
        #: nobody waits on its cells: it records in the foreground.
        self._in_replay = bool(os.environ.get(IN_REPLAY_ENV))
        self._write_behind = not self._in_replay
        #: In a replay's kernel: the directory the replaying process collects runs from.
        self._outbox = os.environ.get(OUTBOX_ENV) or None
        self._outbox_blobs: Any = None
        self._spooled_unseen: list[str] = []
        self.last_run: Run | None = None
        self.host = socket.gethostname()
        self.user = current_user()

    # -- store -------------------------------------------------------------

    @property
    def store(self) -> Any:
        """The store, opened on first use (so loading the extension stays cheap)."""
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    from .store import open_store

                    store = open_store(self._store_ref, cwd=self._cwd)
                    with contextlib.suppress(TrackbookError):
                        store.mark_interrupted()
                    self._store = store
        return self._store

    @property
    def blobs(self) -> Any:
        """Where artifacts, models and figures go (a replay's kernel does not open the database)."""
        if self._store is None and self._outbox is not None:
            if self._outbox_blobs is None:
                from .store.blobs import open_blob_store
                from .store.discovery import resolve_store_url

                self._outbox_blobs = open_blob_store(resolve_store_url(self._store_ref, cwd=self._cwd).blobs_url)
            return self._outbox_blobs
        return self.store.blobs

    def store_display_url(self) -> str:
        """Where runs go, for humans (passwords masked); does not open the store."""
        if self._store is not None:
            return str(self._store.location.display_url)
        from .store import resolve_store_url

        return str(resolve_store_url(self._store_ref, cwd=self._cwd).display_url)

    def close(self) -> None:
        """Record the runs still queued, stop the keeper thread and close the store."""
        self._keeper.close()
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- logging API (inside a tracked cell) --------------------------------

    @property
    def active(self) -> ActiveRun:
        """The innermost run being recorded; a clear error outside ``%%track``."""
        if not self._active:
            raise UsageError("no tracked run is active: call this inside a %%track cell")
        return self._active[-1]

    def log_param(self, key: str, value: Any) -> None:
        from .capture.params import param_value

        self.active.logged_params[str(key)] = param_value(value)

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        active = self.active
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UsageError(f"metric {key!r} needs a number, got {type(value).__name__}") from None
        if step is None:
            step = sum(1 for m in active.logged_metrics if m.key == key)
        active.logged_metrics.append(Metric(str(key), number, int(step)))

    def set_tag(self, key: str, value: Any) -> None:
        self.active.run.tags[str(key)] = str(value)

    def log_artifact(self, path_or_bytes: str | os.PathLike[str] | bytes, name: str | None = None) -> Artifact:
        from .capture.media import guess_media_type

        active = self.active
        if isinstance(path_or_bytes, bytes):
            ref = self.blobs.put_bytes(path_or_bytes)
            label = name or "artifact"
        else:
            path = Path(path_or_bytes)
            ref = self.blobs.put_file(path)
            label = name or path.name
        artifact = Artifact(ref.id, label, "file", guess_media_type(label), ref.size)
        active.logged_artifacts.append(artifact)
        return artifact

    # -- lifecycle -----------------------------------------------------------

    def begin(self, context: CellContext, options: TrackOptions) -> ActiveRun:
        """Start the run and arm seeds and recorders (its running row is written late, see keeper)."""
        run = Run(
            id=new_run_id(),
            name=options.name,
            user=self.user,
            host=self.host,
            pid=os.getpid(),
            notebook=context.notebook,
            cell_id=context.cell_id,
            execution_count=context.execution_count,
            code=context.source,
            tags=dict(options.tags),
            replay_of=context.replay_of,
        )
        active = ActiveRun(run, options, context, started=time.perf_counter())
        self._guard(active, "seeds", self._arm_seeds, active)
        if options.data:
            self._guard(active, "files", self._arm_file_recorder, active)
        self._guard(active, "streams", self._arm_streams, active)
        self._guard(active, "figures", self._note_figures, active)
        self._active.append(active)
        self._keeper.add(active)
        return active

    def finish(self, active: ActiveRun, error: BaseException | None = None) -> Run:
        """Capture the run's facets, have it recorded, and return it (never raises).

        What the cell can still change (values in the namespace, seeds,
        streams, figures, models) is captured now. The environment and the
        store transaction are a job for the keeper thread, done while the user
        reads the output (see ``keeper.py``); :meth:`flush` waits for it. After
        a background write failed, runs are recorded before this returns, so
        the summary under the cell says that the run was spooled.
        """
        from .finalise import capture_facets

        elapsed = time.perf_counter() - active.started
        self._keeper.settle(active)
        with contextlib.suppress(ValueError):
            self._active.remove(active)
        try:
            active.stack.close()
        except Exception as exc:  # a recorder failed to restore: still record the run
            active.warn("capture_error", f"restoring recorders: {exc!r}")
        run = active.run
        run.ended_at = utcnow()
        run.duration_s = round(elapsed, 6)
        run.status = _status_for(error)
        if error is not None:
            run.error = _run_error(error)
        capture_facets(self, active, guard=self._guard)
        # The replay plan is bound in the injected parameters cell, which
        # capture reads papermill parameters from; it is not a parameter.
        run.params.pop(REPLAY_VARIABLE, None)
        # The next cell may change the process environment before the job runs.
        process_env = dict(os.environ)
        if self._write_behind:
            self._keeper.submit(functools.partial(self._record, active, process_env, background=True))
        else:
            self.flush()
            self._warn_spooled_earlier(active)
            self._record(active, process_env, background=False)
        self.last_run = run
        return run

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every finished run is recorded (or spooled); False on timeout."""
        return self._keeper.flush(timeout)

    # -- steps ---------------------------------------------------------------

    def _create_late(self, active: Any) -> None:
        """The keeper thread's call: the cell has run a while, write its running row."""
        if self._outbox is None:  # a replay's process watches its kernel itself
            self._guard(active, "store", self._create, active)

    def _create(self, active: ActiveRun) -> None:
        from .capture.secrets import redactor_for

        # The row written now must already be clean: redaction at finish would
        # come too late for a kernel that dies mid-cell.
        run = active.run
        redactor = redactor_for(os.environ)
        self.store.create_run(replace(
            run,
            code=redactor.redact(run.code),
            name=redactor.redact(run.name) if run.name else run.name,
            tags={key: str(redactor.redact_value(key, value)) for key, value in run.tags.items()},
        ))
        active.created = True

    def _arm_seeds(self, active: ActiveRun) -> None:
        from .capture.seeds import SeedContext

        active.seeds = active.stack.enter_context(
            SeedContext(active.options.seed, namespace=active.context.namespace)
        )

    def _arm_file_recorder(self, active: ActiveRun) -> None:
        from .capture.inputs import FileReadRecorder

        ignore = [str(self.store.location.root)] if self._store is not None and self._store.location.root else []
        active.files = active.stack.enter_context(FileReadRecorder(ignore=ignore))

    def _arm_streams(self, active: ActiveRun) -> None:
        from .capture.streams import capture_streams

        active.streams = active.stack.enter_context(capture_streams())

    def _note_figures(self, active: ActiveRun) -> None:
        from .capture.outputs import open_figures

        active.figures_before = {id(fig) for fig in open_figures()}

    def _record(self, active: ActiveRun, process_env: Mapping[str, str], *, background: bool) -> None:
        """The part of finishing a run that the kernel's state cannot change."""
        from .finalise import capture_environment_facet

        capture_environment_facet(active, process_env, guard=self._guard)
        self._guard(active, "store", self._write, active, background)

    def _write(self, active: ActiveRun, background: bool) -> None:
        if self._outbox is not None:
            from .store.spool import Spool

            Spool(self._outbox).put(active.run)  # whole: the environment goes with it
            return
        run = active.run
        env = run.environment
        if env is not None and env.id in self._stored_environments:
            # Stored already by this kernel: reference it by id only.
            run = replace(run, environment=None)
        written = self.store.finish_or_spool(run)
        self._write_behind = written and not self._in_replay
        if env is not None and written:
            self._stored_environments.add(env.id)
        if written:
            return
        if background:
            self._spooled_unseen.append(run.id)  # the next summary tells the user
        elif not any(w.kind == "spooled" for w in active.run.warnings):
            active.warn("spooled", SPOOLED_MESSAGE)

    def _warn_spooled_earlier(self, active: ActiveRun) -> None:
        if self._spooled_unseen:
            ids = ", ".join(self._spooled_unseen)
            self._spooled_unseen.clear()
            active.warn("spooled", f"earlier runs ({ids}) could not be written either; they are spooled")

    def _guard(self, active: ActiveRun, facet: str, step: Callable[..., Any], *args: Any) -> Any:
        """Run one capture step; a failure becomes a warning on the run."""
        try:
            return step(*args)
        except Exception as exc:
            active.warn("capture_error", f"{facet}: {type(exc).__name__}: {exc}")
            return None

    # -- heartbeat -------------------------------------------------------------

    def _beat(self, run_id: str) -> None:
        # Proves to other hosts' readers that long cells are still running; a
        # run whose heartbeat stops is later marked interrupted.
        self.store.heartbeat(run_id)


@dataclass(frozen=True)
class ReplayedExecution:
    """How ``%%track`` runs one execution inside a replay (see :func:`apply_replay_plan`)."""

    options: TrackOptions
    context: CellContext
    #: Only the replayed run is recorded; other tracked cells run seeded, unrecorded.
    record: bool


def apply_replay_plan(plan: Any, options: TrackOptions, context: CellContext) -> ReplayedExecution:
    """Options and context of a ``%%track`` execution inside a replay.

    ``plan`` is what the replay's parameters cell bound to
    :data:`~trackbook.replaying.plan.REPLAY_VARIABLE`. The execution the plan
    targets is recorded with the original run's seed, cell id and
    ``replay_of``, tagged with the replay id, and gets the overrides bound
    right before its body (so they win over values earlier cells computed).
    Earlier tracked cells of the replayed session run with their own
    original seeds but record nothing: a replay adds one run, not one per
    tracked cell it re-executes.

    Raises
    ------
    UsageError
        ``plan`` is not a replay plan.
    """
    parsed = ReplayPlan.from_json(plan)
    directive = parsed.directive(context.execution_count)
    seed = directive.seed if directive is not None and directive.seed is not None else options.seed
    if directive is None or not directive.target:
        return ReplayedExecution(replace(options, seed=seed), context, record=False)
    context = replace(context, replay_of=directive.replay_of, cell_id=directive.cell_id or context.cell_id)
    context.namespace.update(copy.deepcopy(parsed.overrides))
    tags = {**options.tags, REPLAY_TAG: parsed.replay_id}
    return ReplayedExecution(replace(options, tags=tags, seed=seed), context, record=True)


@contextlib.contextmanager
def tracked(tracker: Tracker, context: CellContext, options: TrackOptions) -> Iterator[ActiveRun]:
    """Begin a run, yield it while the body executes, finish it whatever happens."""
    active = tracker.begin(context, options)
    try:
        yield active
    except BaseException as exc:
        tracker.finish(active, exc)
        raise
    tracker.finish(active)


def _status_for(error: BaseException | None) -> RunStatus:
    if error is None:
        return "finished"
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    return "failed"


def _run_error(error: BaseException) -> RunError:
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    # Drop trackbook's own frames: the auditor wants the user's code.
    kept = [line for line in lines if f"{os.sep}trackbook{os.sep}" not in line]
    return RunError(type(error).__name__, str(error), kept[-50:])


def kernel_name_from_environment() -> str | None:
    """The kernel spec name when the server or replay told us; else a guess from the runtime."""
    name = os.environ.get("TRACKBOOK_KERNEL_NAME")
    if name:
        return name
    return "python3" if "ipykernel" in sys.modules else None
