"""Plain values that cross every layer of trackbook.

Rows never leave the store and IPython objects never reach it: the store
returns these dataclasses, capture functions build them, and the surfaces
(magic, CLI, REST) serialise them with :func:`to_json`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

RunStatus = Literal["running", "finished", "failed", "interrupted"]
RUN_STATUSES: tuple[str, ...] = ("running", "finished", "failed", "interrupted")

#: A parameter value as it is stored: JSON scalars (and short lists of them).
ParamValue = Any

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_run_id(now: float | None = None) -> str:
    """Return a new ULID: 26 characters, sortable by creation time.

    Sortable ids keep "newest first" an index scan and make ids from many
    kernels merge into one ordered history without coordination.
    """
    millis = int((time.time() if now is None else now) * 1000)
    value = (millis << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC (every stored time is UTC)."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class HistoryEntry:
    """One executed input of the kernel session, in execution order."""

    execution_count: int
    source: str
    cell_id: str | None = None


@dataclass(frozen=True)
class Dependency:
    """Where a name the tracked cell reads was last defined."""

    name: str
    execution_count: int | None  # None: defined outside the recorded history
    cell_id: str | None = None


@dataclass(frozen=True)
class RunWarning:
    """Something an auditor should know about a run.

    ``kind`` is one of ``hidden_state``, ``capture_error``, ``redacted``,
    ``spooled``, ``nondeterminism``.
    """

    kind: str
    message: str


@dataclass(frozen=True)
class Metric:
    """One logged value of a metric; ``step`` orders a series."""

    key: str
    value: float
    step: int = 0
    timestamp: float = field(default_factory=time.time)


@dataclass(frozen=True)
class InputRecord:
    """A data input the cell read: a DataFrame, Series, ndarray or file.

    ``fingerprint`` is a content hash (``xxh3_128:<hex>`` for in-memory data,
    ``sha256:<hex>`` for files) that changes whenever the content changes.
    """

    name: str
    kind: Literal["dataframe", "series", "ndarray", "file"]
    fingerprint: str
    shape: list[int] | None = None
    schema: dict[str, str] | None = None
    profile: dict[str, Any] | None = None
    path: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class Artifact:
    """A blob a run produced; ``id`` is the blob's sha256 hex digest."""

    id: str
    name: str
    kind: Literal["model", "figure", "file", "notebook", "report"]
    media_type: str
    size: int


@dataclass(frozen=True)
class RunError:
    """The exception a failed cell raised (it still reached the user)."""

    ename: str
    evalue: str
    traceback: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Environment:
    """The software and hardware a run executed on.

    Stored once per distinct content: ``id`` is the sha256 of the canonical
    JSON of every other field.
    """

    id: str
    python: str
    platform: str
    packages: dict[str, str]
    modules: dict[str, str] = field(default_factory=dict)
    git: dict[str, Any] = field(default_factory=dict)
    env_vars: dict[str, str] = field(default_factory=dict)
    kernel: str | None = None
    cpu: dict[str, Any] = field(default_factory=dict)
    gpu: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Run:
    """One tracked cell run, every facet DESIGN lists."""

    id: str
    name: str | None = None
    status: RunStatus = "running"
    user: str | None = None
    host: str | None = None
    pid: int | None = None
    notebook: str | None = None
    cell_id: str | None = None
    execution_count: int | None = None
    started_at: dt.datetime = field(default_factory=utcnow)
    ended_at: dt.datetime | None = None
    duration_s: float | None = None
    code: str = ""
    history: list[HistoryEntry] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    params: dict[str, ParamValue] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    metric_history: list[Metric] = field(default_factory=list)
    seeds: dict[str, Any] = field(default_factory=dict)
    environment_id: str | None = None
    environment: Environment | None = None
    inputs: list[InputRecord] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    warnings: list[RunWarning] = field(default_factory=list)
    error: RunError | None = None
    stdout: str = ""
    stderr: str = ""
    replay_of: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSummary:
    """The columns of a run listing (no code, history or environment)."""

    id: str
    name: str | None
    status: RunStatus
    notebook: str | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    duration_s: float | None
    params: dict[str, ParamValue]
    metrics: dict[str, float]
    tags: dict[str, str]
    warnings_count: int = 0
    replay_of: str | None = None


@dataclass(frozen=True)
class CellRun:
    """Which cell of which kernel a run recorded, and its seeds (a replay matches history against these)."""

    id: str
    started_at: dt.datetime
    host: str | None
    pid: int | None
    execution_count: int | None
    cell_id: str | None
    code: str
    seeds: dict[str, Any]


def current_user() -> str | None:
    """The login name, without failing in containers that have none."""
    for name in ("USER", "LOGNAME", "USERNAME"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):
        return None


def to_json(value: Any) -> Any:
    """Convert entities (recursively) to JSON-ready values; times in ISO 8601 UTC."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no NaN or infinity (browsers reject them): spell them out.
        return str(value)
    return value


# -- replay and audit ------------------------------------------------------------------

Verdict = Literal["reproduced", "reproduced_within_tolerance", "differs", "failed"]
VERDICTS: tuple[str, ...] = ("reproduced", "reproduced_within_tolerance", "differs", "failed")
ReplayStatus = Literal["queued", "running", "done"]
ReplayMode = Literal["history", "notebook"]

#: Why a replay differs from its original, most specific first. ``facet`` says
#: what differed; ``cause`` is the likely reason an auditor should look at.
CAUSES: tuple[str, ...] = (
    "input_data_changed",
    "package_changed",
    "unseeded_randomness",
    "code_differs",
    "cell_order",
    "parameter_override",
    "replay_failed",
    "unknown",
)


@dataclass(frozen=True)
class Difference:
    """One way a replay's result differs from the original run's.

    ``facet`` is one of ``param``, ``metric``, ``input``, ``artifact``,
    ``stdout``, ``environment``, ``code``, ``error``; ``key`` names the
    param, metric, input, artifact or package; ``cause`` is one of
    :data:`CAUSES`; ``explanation`` is a sentence for a human.
    """

    facet: str
    key: str
    original: Any
    replayed: Any
    cause: str
    explanation: str


@dataclass(frozen=True)
class ReplayFailure:
    """Where a replay stopped: the failing cell (0-based, in the executed notebook) and its exception."""

    cell_index: int | None
    ename: str
    evalue: str


@dataclass
class Replay:
    """One re-execution of a recorded run and what it found.

    ``status`` is ``queued`` → ``running`` → ``done``; a ``done`` replay always
    has a ``verdict``. A replay whose process died is ``done`` with verdict
    ``failed`` (never left half-written). ``replay_run_id`` is the run the
    replayed ``%%track`` cell recorded (its ``replay_of`` is ``run_id``).
    """

    id: str
    run_id: str
    status: ReplayStatus = "queued"
    mode: ReplayMode = "history"
    overrides: dict[str, Any] = field(default_factory=dict)
    rtol: float = 0.0
    atol: float = 0.0
    requested_at: dt.datetime = field(default_factory=utcnow)
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    replay_run_id: str | None = None
    verdict: Verdict | None = None
    differences: list[Difference] = field(default_factory=list)
    failure: ReplayFailure | None = None
    notebook_artifact: str | None = None  # blob id of the executed notebook
    report_artifact: str | None = None  # blob id of the HTML audit report
    message: str | None = None  # progress while running; why, when failed
    user: str | None = None
    host: str | None = None
    pid: int | None = None

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """In IPython, ``trackbook.replay(...)`` shows its verdict and reasons, as the CLI prints them."""
        from .replaying.text import replay_text

        printer.text("Replay(...)" if cycle else replay_text(self))


@dataclass(frozen=True)
class AuditEntry:
    """One link of the append-only, hash-chained audit log.

    ``kind`` is ``run_finalised``, ``replay_verdict``, ``model_recorded``, or
    ``audit_started`` (the first entry, subject ``store``, written when the
    log was created); ``subject`` is the run or replay id; ``digest`` is the
    sha256 of the subject's canonical content at that moment (so editing a
    recorded value later is detectable); ``hash`` = sha256 of the canonical
    JSON of ``[prev_hash, seq, at, kind, subject, digest]``.
    """

    seq: int
    at: dt.datetime
    kind: str
    subject: str
    digest: str
    prev_hash: str
    hash: str
