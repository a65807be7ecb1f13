"""The integrity status an audit report states, and which checks it rests on.

``trackbook store verify`` re-hashes every blob and walks every record,
which takes seconds to minutes on a store with many models; a report must
stay fast. So ``auto`` runs the full verification only on a store small
enough to verify quickly, and otherwise a *targeted* check: every audit
entry's hash and link, the blobs of this run and its replays (re-hashed),
and the run's environment. Whether each record still matches the digest of
its latest audit entry is part of the full verification only. The report
always lists the checks that ran, so nobody mistakes a targeted pass for a
full one.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from ..entities import Run
from ..exceptions import IntegrityError, UsageError

if TYPE_CHECKING:
    from ..store import Store

#: ``auto`` verifies everything when the blobs add up to at most this many bytes
#: (re-hashed at several hundred MB/s)...
FULL_VERIFY_MAX_BLOB_BYTES = 32 * 1024 * 1024
#: ...and the store holds at most this many runs (each re-digested: ~0.1-0.2 ms a run).
FULL_VERIFY_MAX_RUNS = 1_000

Mode = Literal["auto", "full", "targeted"]


def check_integrity(
    store: Store, run: Run, extra_blob_ids: list[str], *, mode: Mode = "auto"
) -> dict[str, Any]:
    """Verify the store (fully or targeted) and describe the result for the report.

    Returns ``{"mode", "ok", "checks", "problems", "checked", "seconds"}``:
    ``checks`` names what ran, ``checked`` holds the counts, ``problems``
    one sentence each.
    """
    if mode not in ("auto", "full", "targeted"):
        raise UsageError(f"integrity: must be auto, full or targeted, not {mode!r}")
    started = time.perf_counter()
    chosen = _choose(store) if mode == "auto" else mode
    if chosen == "full":
        report = store.verify()
        result: dict[str, Any] = {
            "mode": "full",
            "ok": report.ok,
            "checks": sorted(report.checked),
            "problems": list(report.problems),
            "checked": dict(report.checked),
        }
    else:
        result = _targeted(store, run, extra_blob_ids)
    result["seconds"] = round(time.perf_counter() - started, 4)
    return result


def _choose(store: Store) -> Mode:
    info = store.info()
    small = (
        info["blob_bytes"] <= FULL_VERIFY_MAX_BLOB_BYTES
        and info["runs_total"] <= FULL_VERIFY_MAX_RUNS
    )
    return "full" if small else "targeted"


def _targeted(store: Store, run: Run, extra_blob_ids: list[str]) -> dict[str, Any]:
    problems: list[str] = []
    checked: dict[str, Any] = {}

    chain = _audit_chain(store, problems)
    checked["audit_entries"] = chain

    if run.environment_id and run.environment is None:
        problems.append(f"run {run.id}: its environment {run.environment_id} is missing")
    checked["run_environment"] = "ok" if run.environment or not run.environment_id else "missing"

    blob_ids = list(dict.fromkeys([a.id for a in run.artifacts] + extra_blob_ids))
    for blob_id in blob_ids:
        try:
            store.blobs.verify(blob_id)
        except (IntegrityError, UsageError) as exc:
            problems.append(str(exc))
    checked["run_blobs"] = len(blob_ids)
    return {
        "mode": "targeted",
        "ok": not problems,
        "checks": ["audit_chain", "run_blobs", "run_environment"],
        "problems": problems,
        "checked": checked,
    }


def _audit_chain(store: Store, problems: list[str]) -> int:
    """Recompute every audit entry's hash and link (as ``store verify`` does); returns the count.

    This catches a changed, removed or reordered entry. Whether a record
    still matches its latest entry's digest is part of the full verification.
    """
    # Imported here: ``import trackbook`` (which exports the report API) must not load SQLAlchemy.
    from ..store.audit_log import GENESIS_HASH, entry_hash
    from ..store.values import format_time

    entries = store.audit_log()
    expected, prev = 1, GENESIS_HASH
    for entry in entries:
        if entry.seq != expected:
            gap = f"entry {expected} is" if entry.seq == expected + 1 else (
                f"entries {expected} to {entry.seq - 1} are")
            problems.append(f"audit log: {gap} missing")
        elif entry.prev_hash != prev:
            problems.append(f"audit log: entry {entry.seq} does not link to entry {entry.seq - 1}")
        at = format_time(entry.at)
        link = entry_hash(entry.prev_hash, entry.seq, at, entry.kind, entry.subject, entry.digest)
        if link != entry.hash:
            problems.append(
                f"audit log: entry {entry.seq} ({entry.kind} {entry.subject}) was changed: "
                "its hash does not match"
            )
        expected, prev = entry.seq + 1, entry.hash
    if not entries:
        problems.append("audit log: it is empty, but its first entry is written when it is created")
    return len(entries)
