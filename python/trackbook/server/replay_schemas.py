"""Request and response models of the replay endpoints (``api/openapi.yaml`` mirrors them).

Kept beside :mod:`.schemas` (same base class, same conventions) so that each
file stays one concern: runs and models there, replays here.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from ..exceptions import UsageError
from .schemas import _Response

ReplayStatus = Literal["queued", "running", "done"]
ReplayMode = Literal["history", "notebook"]
Verdict = Literal["reproduced", "reproduced_within_tolerance", "differs", "failed"]
#: Longest replay a request may ask for (the server's default is ``TrackbookApp.replay_timeout``).
MAX_REPLAY_TIMEOUT_S = 24 * 3600.0
#: Largest request body a replay takes: overrides are parameters, not data.
MAX_REPLAY_BODY = 256 * 1024
_REPLAY_FIELDS = ("mode", "overrides", "rtol", "atol", "timeout")


def _number(name: str, value: Any) -> float:
    """A JSON number (not a boolean), as a float, or ``UsageError`` naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name}: must be a number, not {json.dumps(value)[:40]}")
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        number = math.inf
    if not math.isfinite(number):  # 1e999 is valid JSON, but no tolerance or timeout
        raise UsageError(f"{name}: must be a finite number, not {str(value)[:20]}")
    return number


class CreateReplay(BaseModel):
    """The body of ``POST /trackbook/runs/{run_id}/replays`` (every field optional).

    ``from_body`` raises :class:`UsageError` (HTTP 400) naming the field and
    what it accepts; it is as strict as the OpenAPI schema, so a body the
    document calls invalid never starts a replay.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: ReplayMode = "history"
    overrides: dict[str, Any] = Field(default_factory=dict)
    rtol: float = 0.0
    atol: float = 0.0
    #: Seconds the replay may run once its kernel started; ``None``: the server's default.
    timeout: float | None = None

    @classmethod
    def from_body(cls, body: bytes) -> CreateReplay:
        """Parse and check a request body (empty means every default)."""
        if len(body) > MAX_REPLAY_BODY:
            raise UsageError(f"body: at most {MAX_REPLAY_BODY // 1024} KiB")
        if not body.strip():
            return cls()
        try:
            data = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise UsageError('body: not JSON; send an object such as {"mode": "history"}') from None
        if not isinstance(data, dict):
            raise UsageError('body: must be a JSON object such as {"mode": "history"}')
        for key in sorted(data):
            if key not in _REPLAY_FIELDS:
                allowed = ", ".join(sorted(_REPLAY_FIELDS))
                raise UsageError(f"{key[:40]}: not a field of this request (allowed: {allowed})")
        fields: dict[str, Any] = {}
        if "mode" in data:
            if data["mode"] not in get_args(ReplayMode):
                given = json.dumps(data["mode"])[:40]
                raise UsageError(f"mode: must be history or notebook, not {given}")
            fields["mode"] = data["mode"]
        if "overrides" in data:
            fields["overrides"] = _overrides(data["overrides"])
        for name in ("rtol", "atol"):
            if name in data:
                value = _number(name, data[name])
                if not value >= 0:
                    given = json.dumps(data[name])[:40]
                    raise UsageError(f"{name}: must be a number >= 0, not {given}")
                fields[name] = value
        if "timeout" in data:
            timeout = _number("timeout", data["timeout"])
            if not 0 < timeout <= MAX_REPLAY_TIMEOUT_S:
                given = json.dumps(data["timeout"])[:40]
                most = f"{MAX_REPLAY_TIMEOUT_S:g}"
                raise UsageError(f"timeout: must be seconds > 0 and at most {most}, not {given}")
            fields["timeout"] = timeout
        return cls(**fields)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _overrides(value: Any) -> dict[str, Any]:
    from ..replaying.parameters import normalise_overrides

    if not isinstance(value, dict):
        raise UsageError("overrides: must be an object of variable name -> JSON value")
    try:
        return normalise_overrides(value)
    except UsageError as exc:
        raise UsageError(f"overrides: {exc}") from None


class StartedReplay(_Response):
    """``POST /trackbook/runs/{run_id}/replays`` (202): the replay is queued; poll its URL."""

    replay_id: str
    run_id: str
    status: ReplayStatus


class DescribeDifference(_Response):
    """One way the replay differs from the original, with its likely cause."""

    facet: str
    key: str
    original: Any
    replayed: Any
    cause: str
    explanation: str


class DescribeReplayFailure(_Response):
    """Where the replay stopped: the failing cell (0-based, executed notebook), its exception."""

    cell_index: int | None
    ename: str
    evalue: str


class DescribeReplay(_Response):
    """``GET /trackbook/replays/{replay_id}``: progress while it runs, then the verdict."""

    id: str
    run_id: str
    status: ReplayStatus
    mode: ReplayMode
    overrides: dict[str, Any]
    rtol: float
    atol: float
    requested_at: str
    started_at: str | None
    ended_at: str | None
    message: str | None
    verdict: Verdict | None
    differences: list[DescribeDifference]
    failure: DescribeReplayFailure | None
    replay_run_id: str | None
    notebook_artifact: str | None
    report_artifact: str | None
    user: str | None


class ListReplaysResponse(_Response):
    """``GET /trackbook/runs/{run_id}/replays``: the run's replays, newest request first."""

    replays: list[DescribeReplay]
