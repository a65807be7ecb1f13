"""Sidebar budgets: the trackbook sidebar in a real JupyterLab, in Chromium, over 100,000 runs.

A real ``jupyter lab`` (token, its own root, settings and workspaces
directories) serves the store of the server benchmark (100,000 finished
runs, 5 params and 5 metrics each; built once, cached under
``benchmarks/.cache/`` and only read here). The runs table shows the five
metric columns, set in the user settings as a user would. A Node script
(``sidebar/measure.js``) drives ``/usr/bin/chromium`` with Playwright:

1. First paint: in a page where JupyterLab has loaded and gone quiet, the
   trackbook icon in the left bar is clicked; the figure is the time from
   the pointer going down to the first animation frame whose DOM holds a
   run row (that frame is the first painted with it). Median over fresh page
   loads, each in a new workspace (the sidebar closed): <= 1 s. The page
   is then reloaded with the sidebar open (the layout restorer opens it):
   navigation to first row is an info row, as it includes JupyterLab's load.
2. Smooth scrolling: the runs table is scrolled at a fixed speed for a few
   seconds (the position set at every frame from the time elapsed; the
   table loads the next page by cursor when its last row shows), while the
   page records the interval between animation frames. p95 <= 50 ms: 50 ms
   is 20 frames per second, the rate under which motion stops looking
   continuous, and the length at which Chrome calls a task long (RAIL's
   limit for a response to feel immediate).
3. Never all runs in the browser: runs fetched to paint the first page <=
   one page (50, the default page size); after scrolling, the runs held are
   only those scrolled past, in view and in the overscan, plus one page; the
   row elements in the DOM stay the rows in view plus overscan (<= 100).
4. The JavaScript heap (after a forced GC) before opening the sidebar, with
   its first page, and after scrolling: info.

No peer: MLflow's UI is not run here; the notes give the share of each
budget used.

What is measured is this checkout's labextension build
(``python/trackbook/labextension``, written by ``jlpm build``), put ahead
of any copy an earlier install left in the environment; a note says when a
frontend source is newer than that build. When the browser part fails, a
screenshot of the page is saved as ``benchmarks/.cache/sidebar-failure.png``.

Needs Node, Chromium (``CHROMIUM_PATH``, else ``/usr/bin/chromium``) and the
integration tests' Node packages (``cd ui-tests && jlpm install --immutable``).
Usage: ``python benchmarks/bench_sidebar.py [--quick]`` (10,000 runs).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_server import METRIC_KEYS, cached_store  # noqa: E402
from common import CACHE_DIR, HERE, MB, Result, log, render_table  # noqa: E402

NAME = "sidebar"
FIRST_PAINT_BUDGET_MS = 1000.0
FRAME_BUDGET_MS = 50.0
PAGE_SIZE = 50  # the `pageSize` setting's default (schema/plugin.json)
DOM_ROWS_BUDGET = 100
#: Rows the table renders beyond each edge of the view (src/components/VirtualList.tsx).
OVERSCAN = 5
MEASURE_SCRIPT = HERE / "sidebar" / "measure.js"
REPO = HERE.parent
UI_TESTS = REPO / "ui-tests"
#: Where `jlpm build` writes the labextension (what the wheel ships).
LABEXTENSION_BUILD = REPO / "python" / "trackbook" / "labextension"
#: The frontend's sources: a build older than any of them is not what is measured.
FRONTEND_SOURCES = ("src", "style", "schema")
VIEWPORT = {"width": 1440, "height": 900}


# -- JupyterLab ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def jupyter_lab(root: Path, store: Path) -> Iterator[tuple[str, str]]:
    """A ``jupyter lab`` process serving ``store``; yields its URL and token."""
    import requests

    token, port = secrets.token_hex(16), _free_port()
    for name in ("config", "data", "runtime", "notebooks", "workspaces", "spool"):
        (root / name).mkdir(parents=True, exist_ok=True)
    # This checkout's build, linked as `jupyter labextension develop` does, on
    # the path JupyterLab searches first: a copy an earlier install left in
    # the environment (`pip install -e .` copies it) cannot be served instead.
    (root / "labextensions").mkdir()
    (root / "labextensions" / "trackbook").symlink_to(LABEXTENSION_BUILD, target_is_directory=True)
    # What a user would pick: the five metrics as columns of the runs table.
    settings = root / "settings" / "trackbook" / "plugin.jupyterlab-settings"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"metricColumns": METRIC_KEYS}))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / "config"),
           "JUPYTER_DATA_DIR": str(root / "data"), "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(root / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"),
           "TRACKBOOK_STORE": str(store), "TRACKBOOK_SPOOL_DIR": str(root / "spool")}
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.port={port}",
               "--ServerApp.ip=127.0.0.1", "--ServerApp.open_browser=False",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root / 'notebooks'}",
               f"--LabApp.extra_labextensions_path={root / 'labextensions'}",
               "--ServerApp.allow_root=True", "--ServerApp.log_level=WARN"]
    with open(root / "lab.log", "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if requests.get(f"{url}/api/status", params={"token": token}, timeout=2).ok:
                        break
                except requests.ConnectionError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("jupyter lab did not start:\n"
                                       + (root / "lab.log").read_text()[-2000:])
                time.sleep(0.2)
            _check_trackbook(url, token)
            yield url, token
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _check_trackbook(url: str, token: str) -> None:
    """Fail early, with the fix, when JupyterLab runs without trackbook's two halves."""
    import requests

    info = requests.get(f"{url}/trackbook/info", params={"token": token}, timeout=30)
    if not info.ok:
        raise RuntimeError(f"GET /trackbook/info answered {info.status_code}: the trackbook server "
                           "extension is not enabled (`jupyter server extension list`)")
    page = requests.get(f"{url}/lab", params={"token": token}, timeout=30).text
    build = json.loads((LABEXTENSION_BUILD / "package.json").read_text())
    entry = build["jupyterlab"]["_build"]["load"]
    if entry not in page:
        raise RuntimeError(f"JupyterLab does not load this checkout's labextension ({entry}): "
                           "see the page config at /lab and `jupyter labextension list`")


def _build_note() -> str:
    """Which labextension build is measured; a warning when sources changed after it."""
    package = LABEXTENSION_BUILD / "package.json"
    if not package.exists():
        raise RuntimeError(f"no labextension build in {LABEXTENSION_BUILD.relative_to(REPO)}: "
                           "run `jlpm build`")
    built = package.stat().st_mtime
    newer = sorted(
        str(path.relative_to(REPO))
        for folder in FRONTEND_SOURCES
        for path in (REPO / folder).rglob("*")
        if path.is_file() and "__tests__" not in path.parts and path.stat().st_mtime > built
    )
    if newer:
        log(f"WARNING: the labextension build is older than {', '.join(newer[:3])}: "
            "run `jlpm build`")
        return (f"STALE BUILD: {len(newer)} frontend source(s) changed after the labextension was "
                f"built ({', '.join(newer[:3])}); run `jlpm build` and measure again")
    return f"labextension as built by `jlpm build` ({LABEXTENSION_BUILD.relative_to(REPO)})"


# -- the browser --------------------------------------------------------------------------


def _chromium() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(path).exists():
        raise RuntimeError(f"no Chromium at {path}: install it or set CHROMIUM_PATH")
    return path


def _run_browser(url: str, token: str, quick: bool) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the sidebar benchmark needs Node.js (`node` on PATH)")
    if not (UI_TESTS / "node_modules" / "playwright-core").is_dir():
        raise RuntimeError("Playwright is missing: run `cd ui-tests && jlpm install --immutable`")
    options = {"url": url, "token": token, "chromium": _chromium(), "viewport": VIEWPORT,
               "loads": 3 if quick else 7, "scrollSeconds": 2 if quick else 5,
               "rowsPerSecond": 600, "failureScreenshot": str(CACHE_DIR / "sidebar-failure.png")}
    proc = subprocess.run([node, str(MEASURE_SCRIPT), json.dumps(options)], check=False,
                          stdout=subprocess.PIPE, text=True, timeout=1200)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{MEASURE_SCRIPT.name} exited {proc.returncode} (its stderr is above)")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# -- figures -------------------------------------------------------------------------------


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _used(value: float, budget: float) -> str:
    return f"{value / budget * 100:.0f} % of the budget"


def _opening_results(openings: list[dict[str, Any]], count: int,
                     notes: list[str]) -> list[Result]:
    clicks = [o["click"]["ms"] for o in openings]
    click = statistics.median(clicks)

    def median_of(part: str, key: str) -> str:
        values = [o[part][key] for o in openings if o[part].get(key) is not None]
        return f"{statistics.median(values):.0f} ms" if values else "(not seen)"

    restored = statistics.median(o["restored"]["navigation"] for o in openings)
    all_clicks = ", ".join(f"{c:.0f}" for c in clicks)
    return [
        Result("sidebar first page painted, from the click on its icon", click, "ms",
               budget=FIRST_PAINT_BUDGET_MS,
               notes=[f"{count:,} runs; median of {len(clicks)} page loads, each a fresh "
                      f"workspace; {_used(click, FIRST_PAINT_BUDGET_MS)}; all: {all_clicks} ms "
                      "(the first in a new browser profile, whose cache lacks the views' code)",
                      f"medians from the click: views mounted {median_of('click', 'content')}, "
                      f"GET /trackbook/runs sent {median_of('click', 'request')}, answered "
                      f"{median_of('click', 'response')}", *notes]),
        Result("sidebar first page painted, page loaded with it open", restored, "ms",
               notes=[f"from navigation start, so JupyterLab's own load is in it: trackbook's "
                      f"icon in the left bar at {median_of('restored', 'tab')} (plugins "
                      f"activated), first page answered {median_of('restored', 'response')}, "
                      f"sidebar views mounted {median_of('restored', 'content')}; median of "
                      f"{len(openings)} reloads"]),
    ]


def _frame_results(scroll: dict[str, Any]) -> list[Result]:
    intervals: list[float] = scroll["intervals"]
    p95 = _percentile(intervals, 0.95)
    slow = sum(1 for i in intervals if i > FRAME_BUDGET_MS) / len(intervals) * 100
    seconds = scroll["elapsedMs"] / 1000
    long_tasks: list[float] = scroll["longTasks"]
    listing: list[float] = scroll["listingMs"]
    gaps: list[float] = scroll["listingGapsMs"]
    pages = "no listing asked while scrolling"
    if listing:
        pages = (f"{len(listing)} listings asked while scrolling, median "
                 f"{statistics.median(listing):.0f} ms each (max {max(listing):.0f} ms), the "
                 f"next asked a median {statistics.median(gaps) if gaps else 0:.0f} ms after "
                 "the previous answer")
    return [
        Result("scrolling the runs table: p95 frame interval", p95, "ms",
               budget=FRAME_BUDGET_MS,
               notes=[f"{len(intervals)} frames in {seconds:.1f} s "
                      f"({len(intervals) / seconds:.0f} fps) scrolling at "
                      f"{scroll['rowsPerSecond']} rows/s to row {scroll['rowsScrolled']:,}; "
                      f"median {statistics.median(intervals):.1f} ms, max "
                      f"{max(intervals):.0f} ms; {_used(p95, FRAME_BUDGET_MS)}",
                      f"{scroll['waitingFrames']} frames at the end of the loaded rows, waiting "
                      f"for the next page; {len(long_tasks)} long tasks (> 50 ms) totalling "
                      f"{sum(long_tasks):.0f} ms", pages]),
        Result("scrolling: frames over 50 ms", slow, "%",
               notes=["share of the frame intervals above; 50 ms = 20 fps"]),
    ]


def _memory_results(scroll: dict[str, Any], at_first_paint: list[int],
                    count: int) -> list[Result]:
    scrolled, held, in_dom = scroll["rowsScrolled"], scroll["rowsLoaded"], scroll["rowsInDom"]
    # The next page is asked for when the last rendered row (the rows in view
    # plus the overscan) is the last loaded one: the rows held never pass those
    # scrolled past, in view and in the overscan, plus the page that answered.
    held_budget = scrolled + scroll["viewRows"] + OVERSCAN + PAGE_SIZE
    first, fetched, heap = scroll["fetchedFirstPage"], scroll["fetched"], scroll["heap"]
    per_run = (heap["afterScroll"] - heap["firstPage"]) / max(1, held - first["runs"])
    return [
        Result("runs fetched to paint the first page", max(at_first_paint), "runs",
               budget=PAGE_SIZE,
               notes=[f"the most over {len(at_first_paint)} page loads (bodies of GET "
                      f"/trackbook/runs answered when the first row showed); {first['runs']} "
                      f"in {first['pages']} answer(s) a second later; {count:,} runs in the "
                      "store"]),
        Result("runs held in the browser after scrolling", held, "runs", budget=held_budget,
               notes=[f"{held / count * 100:.1f} % of the {count:,} runs; budget = rows "
                      f"scrolled past ({scrolled:,}) + rows in view ({scroll['viewRows']}, "
                      f"header included) + overscan ({OVERSCAN}) + one page ({PAGE_SIZE}); "
                      f"{fetched['pages']} answers with a body brought "
                      f"{fetched['runs']:,} runs (polls included; {fetched['unreadable']} "
                      f"bodies unreadable), {fetched['notModified']} polls answered 304"]),
        Result("run row elements in the DOM after scrolling", in_dom, "rows",
               budget=DOM_ROWS_BUDGET,
               notes=[f"{scroll['rowsAtStart']} with the first page; {scroll['domNodes']:,} "
                      f"elements in the whole sidebar; {scroll['viewRows']} rows fit in view"]),
        Result("browser JS heap after scrolling", heap["afterScroll"] / MB, "MB",
               notes=[f"after a forced GC: JupyterLab alone {heap['lab'] / MB:.1f} MB, with "
                      f"the sidebar's first page {heap['firstPage'] / MB:.1f} MB; about "
                      f"{per_run / 1024:.1f} KiB per loaded run, so all {count:,} runs would "
                      f"be about {per_run * count / MB:.0f} MB more"]),
    ]


def measure(quick: bool) -> list[Result]:
    count = 10_000 if quick else 100_000
    store_path, store_note = cached_store(count)
    build_note = _build_note()
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="tb-sidebar-") as tmp:
        with jupyter_lab(Path(tmp), store_path) as (url, token):
            log(f"jupyter lab up on {count:,} runs; driving Chromium")
            measured = _run_browser(url, token, quick)
    log(f"browser: {measured['browser']}")
    notes = [f"load average before the run {load_before}", store_note, build_note]
    scroll = measured["scrolling"]
    return (_opening_results(measured["openings"], count, notes)
            + _frame_results(scroll)
            + _memory_results(scroll, [o["runsAtFirstPaint"] for o in measured["openings"]], count))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 runs instead of 100,000")
    args = parser.parse_args()
    results = measure(args.quick)
    print(render_table(results))
    return 0 if all(r.verdict in ("PASS", "info") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
