"""Shared helpers for the benchmarks: results, the table, workers, memory probes.

Every benchmark group is a script (``bench_*.py``) with a ``measure(quick)``
function that ``run.py`` calls and a set of *workers*: functions that do one
measurement inside a fresh Python process, so import caches, warm SQLite
pages and the memory high-water mark of one measurement never leak into
another. ``run_worker`` starts a worker and returns the dict it wrote.

This module imports only the standard library: a worker that measures the
memory of ``import trackbook`` must not have paid for pandas already.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: Populated peer databases that are slow to build (gitignored).
CACHE_DIR = HERE / ".cache"

#: Ten statements: five literal assignments (parameters) and five computed
#: floats (metrics), the cell the record and startup budgets are about.
CELL_5P_5M = (
    "lr = 0.05\n"
    "depth = 6\n"
    "n_estimators = 200\n"
    "criterion = 'gini'\n"
    "subsample = 0.8\n"
    "accuracy = 1.0 - lr * 0.5\n"
    "precision = accuracy * 0.98\n"
    "recall = accuracy * 0.97\n"
    "f1 = 2 * precision * recall / (precision + recall)\n"
    "loss = lr * depth / 100.0\n"
)
PARAMS_5 = {"lr": 0.05, "depth": 6, "n_estimators": 200, "criterion": "gini", "subsample": 0.8}
METRICS_5 = {"accuracy": 0.975, "precision": 0.9555, "recall": 0.94575, "f1": 0.9506, "loss": 0.003}

MB = 1024 * 1024

#: No telemetry thread in the peer (this machine has no network anyway).
QUIET_PEERS = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


# -- results and the table -----------------------------------------------------------


@dataclass
class Result:
    """One line of the table.

    ``kind`` says how to compare: ``"max"`` (trackbook must stay at or below
    ``budget``: times, memory) or ``"min"`` (at or above: throughput), and
    therefore which way the ratio points. ``budget=None`` is an informative row.
    """

    name: str
    value: float | None
    unit: str
    peer: float | None = None
    peer_label: str = ""
    budget: float | None = None
    kind: str = "max"
    notes: list[str] = field(default_factory=list)
    invalid: str | None = None  # why the trackbook figure cannot be trusted

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "ERROR"
        if self.invalid:
            return "INVALID"
        if self.budget is None:
            return "info"
        ok = self.value <= self.budget if self.kind == "max" else self.value >= self.budget
        return "PASS" if ok else "FAIL"

    @property
    def ratio(self) -> float | None:
        """How many times better trackbook is than the peer (> 1: better)."""
        if self.value is None or self.peer is None or self.value <= 0 or self.peer <= 0:
            return None
        return self.peer / self.value if self.kind == "max" else self.value / self.peer


def fmt(value: float | None, unit: str) -> str:
    """A figure with its unit, with precision that suits its size."""
    if value is None:
        return "-"
    if unit == "ms" and value >= 1000:
        return f"{value / 1000:.2f} s"
    if abs(value) >= 100:
        return f"{value:.0f} {unit}"
    if abs(value) >= 10:
        return f"{value:.1f} {unit}"
    return f"{value:.2f} {unit}"


def budget_text(result: Result) -> str:
    if result.budget is None:
        return "-"
    sign = "<=" if result.kind == "max" else ">="
    return f"{sign} {fmt(result.budget, result.unit)}"


def render_table(results: Iterable[Result]) -> str:
    """The results as a fixed-width text table, then numbered notes."""
    results = list(results)
    header = ["measurement", "trackbook", "MLflow/peer", "ratio", "budget", "result"]
    rows = []
    notes: list[str] = []
    for result in results:
        name = result.name
        extra = list(result.notes)
        if result.peer_label:
            extra.insert(0, f"peer: {result.peer_label}")
        if result.invalid:
            extra.insert(0, f"INVALID: {result.invalid}")
        if extra:
            notes.append(f"[{len(notes) + 1}] {result.name}: " + "; ".join(extra))
            name = f"{name} [{len(notes)}]"
        ratio = result.ratio
        rows.append([
            name,
            fmt(result.value, result.unit),
            fmt(result.peer, result.unit),
            f"{ratio:.1f}x" if ratio is not None else "-",
            budget_text(result),
            result.verdict,
        ])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:])]
        return "  ".join([first, *rest])

    out = [line(header), line(["-" * w for w in widths])]
    out += [line(row) for row in rows]
    if notes:
        out += ["", *notes]
    return "\n".join(out)


# -- timing --------------------------------------------------------------------------


def now() -> float:
    """Seconds from a monotonic high-resolution clock."""
    return time.perf_counter()


def median_ms(samples_s: Iterable[float]) -> float:
    return statistics.median(samples_s) * 1000.0


def spread_ms(samples_s: list[float]) -> str:
    """``p25-p75`` in milliseconds, to show how noisy a median is."""
    if len(samples_s) < 4:
        return f"n={len(samples_s)}"
    q = statistics.quantiles(samples_s, n=4)
    return f"IQR {q[0] * 1000:.2f}-{q[2] * 1000:.2f} ms, n={len(samples_s)}"


# -- memory (Linux /proc) --------------------------------------------------------------


def _status_kb(field_name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        match = re.search(rf"^{field_name}:\s+(\d+) kB", status.read(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"/proc/self/status has no {field_name}")
    return int(match.group(1))


def rss_mb() -> float:
    """Resident set size now."""
    return _status_kb("VmRSS") / 1024


def hwm_mb() -> float:
    """Resident set size high-water mark since start or the last reset."""
    return _status_kb("VmHWM") / 1024


def reset_hwm() -> bool:
    """Reset the high-water mark to the current RSS (Linux >= 4.0); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return abs(hwm_mb() - rss_mb()) < 1.0


class PeakSampler:
    """Fallback when the high-water mark cannot be reset: sample RSS every 2 ms.

    May miss a peak shorter than the interval, so it under-reports; the
    table says which method measured a figure.
    """

    def __init__(self) -> None:
        import threading

        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> PeakSampler:  # noqa: PYI034
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def trim_allocators() -> None:
    """Hand freed memory back to the OS, so reusing it shows up in the RSS peak.

    Without this, an action that allocates into memory a previous step freed
    (glibc's heap, arrow's pool) raises no high-water mark and looks free.
    """
    import ctypes
    import gc

    gc.collect()
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        pyarrow.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def peak_extra_mb(action: Callable[[], Any]) -> tuple[float, str]:
    """Run ``action`` and return (peak RSS above the RSS before it, method used)."""
    trim_allocators()
    if reset_hwm():
        before = rss_mb()
        action()
        return hwm_mb() - before, "VmHWM after clear_refs"
    before = rss_mb()
    with PeakSampler() as sampler:
        action()
    return sampler.peak - before, "RSS sampled every 2 ms"


# -- workers in fresh processes ---------------------------------------------------------


class WorkerError(RuntimeError):
    """A worker process failed; the message holds the end of its stderr."""


def run_worker(
    script: str | Path,
    name: str,
    params: dict[str, Any] | None = None,
    *,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 1800,
) -> dict[str, Any]:
    """Run worker ``name`` of ``script`` in a fresh interpreter; return its result dict.

    The worker's stdout is discarded (tracked cells print their summaries
    there); its result travels through a temporary JSON file.
    """
    with tempfile.TemporaryDirectory(prefix="tb-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, str(script), "--worker", name,
               "--params", json.dumps(params or {}), "--out", str(out)]
        full_env = worker_environment(env)
        proc = subprocess.run(cmd, env=full_env, cwd=cwd or tmp, timeout=timeout, check=False,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0 or not out.exists():
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            raise WorkerError(f"{Path(script).name} {name} exited {proc.returncode}:\n{tail}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def worker_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment workers run with: compiled bytecode cached, peers quiet.

    Bytecode matters for startup figures: with ``PYTHONDONTWRITEBYTECODE``
    (set in some CI and container images) a package without ``__pycache__``
    is compiled from source at every import, which a user's installed
    package never is. So workers cache bytecode under ``.cache/pycache``
    (kept out of the source tree); ``warm_bytecode`` fills it before timing.
    """
    env = {**os.environ, **QUIET_PEERS, "PYTHONPYCACHEPREFIX": str(CACHE_DIR / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra or {})
    return env


#: Everything a worker may import, compiled once before any timing.
WARM_IMPORTS = (
    "IPython, ipykernel.kernelapp, jupyter_client, numpy, pandas, pyarrow, pyarrow.compute, sklearn.ensemble, "
    "sklearn.neighbors, sklearn.linear_model, sklearn.datasets, joblib, xxhash, sqlalchemy, alembic, "
    "mlflow, mlflow.sklearn, mlflow.tracking, trackbook, trackbook.magics, trackbook.tracking, "
    "trackbook.finalise, trackbook.store, trackbook.capture.environment, trackbook.capture.fingerprint, "
    "trackbook.capture.outputs, trackbook.capture.inputs"
)


def warm_bytecode() -> None:
    """Compile every module the workers import into the bytecode cache (once per change)."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", f"import {WARM_IMPORTS}"], env=worker_environment(),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Modules imported lazily inside trackbook (capture steps, migrations...).
    import trackbook

    package = Path(trackbook.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], env=worker_environment(),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def worker_main(workers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]]) -> None:
    """``python bench_x.py --worker NAME --params JSON --out FILE``: run one worker."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", required=True, choices=sorted(workers))
    parser.add_argument("--params", default="{}")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = workers[args.worker](json.loads(args.params))
    Path(args.out).write_text(json.dumps(result))


def log(message: str) -> None:
    """Progress to stderr, so the table on stdout stays clean."""
    print(f"  {message}", file=sys.stderr, flush=True)


def last_run() -> Any:
    """The run the kernel tracked last (fails loudly if there is none)."""
    import trackbook

    run = trackbook.last_run()
    if run is None:
        raise RuntimeError("no run was recorded")
    return run


def run_capture_problems(run: Any) -> list[str]:
    """Capture errors on a recorded run: a figure measured on such a run is not valid."""
    return [w.message for w in getattr(run, "warnings", []) if w.kind == "capture_error"]


# -- an IPython shell like a kernel's ----------------------------------------------------


def make_shell(prior_history: int = 20) -> Any:
    """A real ``InteractiveShell`` with ``prior_history`` executed cells behind it.

    The prior cells are small assignments, like the setup cells of a
    notebook, so the tracked cell has a history to record.
    """
    from IPython.core.interactiveshell import InteractiveShell

    shell: Any = InteractiveShell.instance()
    for index in range(prior_history):
        shell.run_cell(f"setup_{index} = {index} * 2", store_history=True)
    return shell


#: Idle time after each timed cell. A kernel waits for the next request between
#: cells; IPython's history thread writes the cell to its database then. Without
#: the gap, that write lands in whichever cell first releases the GIL.
CELL_GAP_S = 0.01


def run_cell_s(shell: Any, source: str, gap: float = CELL_GAP_S) -> float:
    """Seconds ``shell.run_cell(source)`` takes, then ``gap`` idle; raises if the cell failed."""
    start = now()
    result = shell.run_cell(source, store_history=True)
    elapsed = now() - start
    time.sleep(gap)
    if not result.success:
        raise RuntimeError(f"cell failed: {result.error_in_exec or result.error_before_exec!r}")
    return elapsed


def isolated_env(tmp: str | Path) -> dict[str, str]:
    """Environment for a worker: its own IPython profile, its own trackbook store."""
    tmp = Path(tmp)
    return {
        "IPYTHONDIR": str(tmp / "ipython"),
        "TRACKBOOK_STORE": str(tmp / "store"),
        "MLFLOW_TRACKING_URI": "sqlite:///" + str(tmp / "mlflow.db"),
        "PYTHONHASHSEED": "0",
    }
