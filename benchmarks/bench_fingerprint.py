"""Budgets: fingerprinting a 1 GiB DataFrame at >= 5 GB/s numeric, >= 1 GB/s with strings.

trackbook: ``trackbook.capture.fingerprint.fingerprint(df)``, median of a few
calls on a frame already in memory (after one call on a small frame, so the
imports are not timed). Throughput = buffer bytes / seconds, in GB/s
(10^9 bytes); frames and their byte counts are described in ``frames.py``.

Peer: ``pandas.util.hash_pandas_object(df, index=False)`` on the same frame
(the usual way to hash a frame; ``index=False`` spares it the index, which
only helps it).

Each frame kind is built and hashed in its own interpreter.
"""

from __future__ import annotations

import statistics
from typing import Any

from common import Result, log, now, run_worker, worker_main

NAME = "fingerprint"
BUDGETS_GBPS = {"numeric": 5.0, "numeric_2d": 5.0, "strings": 1.0, "strings_compute": 1.0}
LABELS = {
    "numeric": "fingerprint 1 GiB numeric frame",
    "numeric_2d": "fingerprint 1 GiB numeric frame, 2-D block",
    "strings": "fingerprint 1 GiB str (pyarrow) frame",
    "strings_compute": "fingerprint 1 GiB str frame, bytes under nulls",
}


def _worker(params: dict[str, Any]) -> dict[str, Any]:
    import frames
    import pandas as pd

    from trackbook.capture.fingerprint import fingerprint

    frame = frames.build(params["kind"], params["bytes"])
    size = frames.buffer_bytes(frame)
    fingerprint(frame.head(1000))
    pd.util.hash_pandas_object(frame.head(1000), index=False)
    ours, digests = [], set()
    for _ in range(params["repeat"]):
        start = now()
        digests.add(fingerprint(frame))
        ours.append(now() - start)
    theirs = []
    for _ in range(params["peer_repeat"]):
        start = now()
        pd.util.hash_pandas_object(frame, index=False)
        theirs.append(now() - start)
    return {"bytes": size, "ours": ours, "theirs": theirs, "stable": len(digests) == 1,
            "describe": frames.describe(frame)}


def measure(quick: bool) -> list[Result]:
    size = (64 << 20) if quick else (1 << 30)
    rows = []
    for kind, budget in BUDGETS_GBPS.items():
        log(f"fingerprint: {kind}, {size >> 20} MiB")
        peer_repeat = 1 if kind.startswith("strings") else 3
        out = run_worker(__file__, "hash", {"kind": kind, "bytes": size, "repeat": 5,
                                            "peer_repeat": peer_repeat})
        gb = out["bytes"] / 1e9
        ours, theirs = statistics.median(out["ours"]), statistics.median(out["theirs"])
        label = LABELS[kind] if size == 1 << 30 else LABELS[kind].replace("1 GiB", f"{size >> 20} MiB")
        result = Result(
            label,
            gb / ours,
            "GB/s",
            peer=gb / theirs,
            peer_label=f"pandas.util.hash_pandas_object(df, index=False), median of {len(out['theirs'])}",
            budget=budget,
            kind="min",
            notes=[(f"{out['describe']}, {out['bytes']:,} buffer bytes; median {ours * 1000:.0f} ms of "
                    f"{len(out['ours'])} (pandas {theirs * 1000:.0f} ms)")],
        )
        if not out["stable"]:
            result.invalid = "the fingerprint changed between calls on the same frame"
        rows.append(result)
    return rows


if __name__ == "__main__":
    worker_main({"hash": _worker})
