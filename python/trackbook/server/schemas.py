"""Request and response models of the REST API (the boundary; ``api/openapi.yaml`` mirrors them).

Responses are built from entities through :func:`trackbook.entities.to_json`
(ISO 8601 UTC times ending in ``Z``, non-finite numbers as ``"nan"``,
``"inf"``, ``"-inf"``) and validated here, so a response that drifts from the
documented shape fails loudly in tests rather than in the sidebar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from ..exceptions import UsageError
from ..store.run_sort import DEFAULT_SORT, parse_sort
from ..store.runs_page import MAX_LIMIT

RunStatus = Literal["running", "finished", "failed", "interrupted"]
#: A metric value: a number, or "nan" / "inf" / "-inf" (JSON has no such numbers).
MetricValue = float | str


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> dict[str, Any]:
        """The JSON body, every field under its documented name."""
        return self.model_dump(by_alias=True)


class ErrorResponse(_Response):
    """Every 4xx/5xx body: the HTTP reason phrase and a sentence saying what to do."""

    error: str
    message: str


class StoreInfo(_Response):
    kind: Literal["sqlite", "postgresql"]
    url: str


class DescribeInfo(_Response):
    """``GET /trackbook/info``: the version handshake."""

    version: str
    store: StoreInfo
    schema_revision: str | None


# -- runs ------------------------------------------------------------------------------

DEFAULT_LIMIT = 50
MAX_TEXT = 500
_STATUSES = get_args(RunStatus)


class ListRunsQuery(BaseModel):
    """The query string of ``GET /trackbook/runs``, checked.

    ``from_arguments`` raises :class:`UsageError` (HTTP 400) naming the
    parameter and what it accepts; unknown parameters are ignored.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    q: str | None = Field(default=None, max_length=MAX_TEXT)
    status: tuple[RunStatus, ...] = ()
    notebook: str | None = Field(default=None, max_length=4 * MAX_TEXT)
    tag: tuple[tuple[str, str], ...] = ()
    sort: str = DEFAULT_SORT
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = None

    @classmethod
    def from_arguments(cls, arguments: Mapping[str, Sequence[str]]) -> ListRunsQuery:
        """Parse decoded query arguments (every value of every parameter)."""

        def last(name: str) -> str | None:
            values = arguments.get(name) or []
            return values[-1] if values else None

        q = (last("q") or "").strip() or None
        if q is not None and len(q) > MAX_TEXT:
            raise UsageError(f"q: at most {MAX_TEXT} characters")
        statuses: list[str] = []
        for value in arguments.get("status") or []:
            statuses += [part.strip() for part in value.split(",")]
        for status in statuses:
            if status not in _STATUSES:
                raise UsageError(f"status: {status[:40]!r} is not one of {', '.join(_STATUSES)}")
        notebook = last("notebook") or None
        if notebook is not None and len(notebook) > 4 * MAX_TEXT:
            raise UsageError(f"notebook: at most {4 * MAX_TEXT} characters")
        tags = []
        for value in arguments.get("tag") or []:
            key, sep, tag_value = value.partition("=")
            if not sep or not key or len(value) > MAX_TEXT:
                raise UsageError(f"tag: expected key=value, not {value[:40]!r}")
            tags.append((key, tag_value))
        sort = last("sort")
        sort = DEFAULT_SORT if sort is None else sort
        parse_sort(sort)  # raises UsageError("sort: ...")
        limit_text = last("limit")
        try:
            # Digits only: int() would also take " 5", "+5", "5_0" and other spellings.
            limit = (
                DEFAULT_LIMIT
                if limit_text is None
                else int(str(limit_text))
                if str(limit_text).isdigit()
                else -1
            )
        except ValueError:
            limit = -1
        if not 1 <= limit <= MAX_LIMIT:
            raise UsageError(
                f"limit: must be a whole number from 1 to {MAX_LIMIT}, not {str(limit_text)[:20]!r}"
            )
        cursor = last("cursor") or None
        return cls(
            q=q,
            status=tuple(dict.fromkeys(statuses)),  # type: ignore[arg-type]
            notebook=notebook,
            tag=tuple(tags),
            sort=sort,
            limit=limit,
            cursor=cursor,
        )


class DescribeRunSummary(_Response):
    """One row of a run listing."""

    id: str
    name: str | None
    status: RunStatus
    notebook: str | None
    started_at: str
    ended_at: str | None
    duration_s: float | None
    params: dict[str, Any]
    metrics: dict[str, MetricValue]
    tags: dict[str, str]
    warnings_count: int
    replay_of: str | None


class ListRunsResponse(_Response):
    """``GET /trackbook/runs``: one page, the next page's cursor, the store's keys, the match count."""

    runs: list[DescribeRunSummary]
    next_cursor: str | None
    metric_keys: list[str]
    param_keys: list[str]
    tag_keys: list[str]
    total: int


class DescribeHistoryEntry(_Response):
    execution_count: int
    source: str
    cell_id: str | None


class DescribeDependency(_Response):
    name: str
    execution_count: int | None
    cell_id: str | None


class DescribeMetric(_Response):
    """One logged value; ``timestamp`` is seconds since the epoch (UTC)."""

    key: str
    value: MetricValue
    step: int
    timestamp: float


class DescribeEnvironment(_Response):
    id: str
    python: str
    platform: str
    packages: dict[str, str]
    modules: dict[str, str]
    git: dict[str, Any]
    env_vars: dict[str, str]
    kernel: str | None
    cpu: dict[str, Any]
    gpu: list[dict[str, Any]]


class DescribeInput(_Response):
    name: str
    kind: Literal["dataframe", "series", "ndarray", "file"]
    fingerprint: str
    shape: list[int] | None
    # "schema" would shadow a BaseModel attribute: the field is renamed, the JSON name kept.
    schema_: dict[str, str] | None = Field(alias="schema")
    profile: dict[str, Any] | None
    path: str | None
    size: int | None


class DescribeArtifact(_Response):
    """A blob the run produced; ``id`` (sha256 hex) addresses it under ``artifacts/``."""

    id: str
    name: str
    kind: Literal["model", "figure", "file", "notebook", "report"]
    media_type: str
    size: int


class DescribeWarning(_Response):
    kind: str
    message: str


class DescribeError(_Response):
    ename: str
    evalue: str
    traceback: list[str]


class DescribeRun(_Response):
    """``GET /trackbook/runs/{run_id}``: every facet of one run."""

    id: str
    name: str | None
    status: RunStatus
    user: str | None
    host: str | None
    pid: int | None
    notebook: str | None
    cell_id: str | None
    execution_count: int | None
    started_at: str
    ended_at: str | None
    duration_s: float | None
    code: str
    history: list[DescribeHistoryEntry]
    dependencies: list[DescribeDependency]
    params: dict[str, Any]
    metrics: dict[str, MetricValue]
    metric_history: list[DescribeMetric]
    seeds: dict[str, Any]
    environment_id: str | None
    environment: DescribeEnvironment | None
    inputs: list[DescribeInput]
    artifacts: list[DescribeArtifact]
    warnings: list[DescribeWarning]
    error: DescribeError | None
    stdout: str
    stderr: str
    replay_of: str | None
    tags: dict[str, str]


# -- models --------------------------------------------------------------------------------


class DescribeModelVersion(_Response):
    """One recorded model file; versions count from 1 in the order they were recorded."""

    version: int
    run_id: str
    run_name: str | None
    artifact_id: str
    size: int
    recorded_at: str
    run_status: RunStatus


class LatestModelVersion(_Response):
    run_id: str
    run_name: str | None
    artifact_id: str
    size: int
    recorded_at: str


class DescribeModelSummary(_Response):
    name: str
    versions: int
    latest: LatestModelVersion


class ListModelsResponse(_Response):
    """``GET /trackbook/models``: every recorded model name, sorted."""

    models: list[DescribeModelSummary]


class DescribeModel(_Response):
    """``GET /trackbook/models/{name}``: every version, newest first."""

    name: str
    versions: list[DescribeModelVersion]
