"""What a replay kernel needs to know, handed over by the injected parameters cell.

A replayed notebook starts with a papermill-style parameters cell that binds
the overrides (``lr = 0.5``) and one more name, :data:`REPLAY_VARIABLE`, holding
this plan as a JSON-ready dict. ``%%track`` looks the name up in the user
namespace (one dictionary miss when not replaying). Under a plan, only the
*target* execution records a run: with the recorded seed, linked to the run
it re-executes (``replay_of``) and tagged with the replay's id. Every other
``%%track`` execution runs its body with its original run's seed (when the
plan names one) and records nothing, so a replay adds exactly one run.

Executions are named by their execution count *in the replay kernel*:
papermill runs every non-empty code cell once, top to bottom, so the notebook
builder knows each cell's count in advance. (nbclient does not send cell ids
with its execute requests, so ids cannot be used.)

This module is imported inside kernels: standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import UsageError

#: The name the parameters cell binds to the plan.
REPLAY_VARIABLE = "__trackbook_replay__"
#: Tag set on every run a replay records; its value is the replay id.
REPLAY_TAG = "trackbook.replay"


@dataclass(frozen=True)
class CellDirective:
    """How ``%%track`` records one execution of a replayed notebook.

    Attributes
    ----------
    seed:
        The seed the original run recorded (``None``: draw a fresh one, as
        for a tracked cell whose original run is not known).
    replay_of:
        The run this execution re-executes, if known.
    cell_id:
        The original notebook cell id, recorded on the new run.
    target:
        True for the run being replayed: the only execution recorded, and
        the one the overrides are bound before.
    """

    seed: int | None = None
    replay_of: str | None = None
    cell_id: str | None = None
    target: bool = False


@dataclass(frozen=True)
class ReplayPlan:
    """Everything the replay kernel applies, keyed by replay execution count."""

    replay_id: str
    replay_of: str
    cells: dict[int, CellDirective] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON-ready values (what the parameters cell binds)."""
        return {
            "replay_id": self.replay_id,
            "replay_of": self.replay_of,
            "cells": {
                str(count): {
                    "seed": d.seed, "replay_of": d.replay_of, "cell_id": d.cell_id, "target": d.target,
                }
                for count, d in sorted(self.cells.items())
            },
            "overrides": dict(self.overrides),
        }

    @classmethod
    def from_json(cls, data: Any) -> ReplayPlan:
        """Parse what :meth:`to_json` produced; a clear error for anything else."""
        if not isinstance(data, Mapping):
            raise UsageError(f"{REPLAY_VARIABLE} must be a dict written by trackbook replay")
        try:
            cells = {
                int(count): CellDirective(
                    seed=None if d.get("seed") is None else int(d["seed"]),
                    replay_of=d.get("replay_of"),
                    cell_id=d.get("cell_id"),
                    target=bool(d.get("target")),
                )
                for count, d in dict(data.get("cells") or {}).items()
            }
            return cls(
                replay_id=str(data["replay_id"]),
                replay_of=str(data["replay_of"]),
                cells=cells,
                overrides=dict(data.get("overrides") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsageError(f"{REPLAY_VARIABLE} is not a replay plan ({exc!r})") from None

    def directive(self, execution_count: int | None) -> CellDirective | None:
        """The directive for this execution count, or ``None`` (record as usual)."""
        if execution_count is None:
            return None
        return self.cells.get(execution_count)
