"""The audit report (``trackbook audit``, ``trackbook.report``) on a real SQLite store."""

from __future__ import annotations

import base64
import dataclasses
import functools
import datetime as dt
import io
import json
import os
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from trackbook.cli import main
from trackbook.entities import (
    Artifact,
    Dependency,
    Difference,
    Environment,
    HistoryEntry,
    InputRecord,
    Metric,
    Replay,
    ReplayFailure,
    Run,
    RunError,
    RunWarning,
    new_run_id,
)
from trackbook.exceptions import RunNotFoundError
from trackbook.report import audit_report, build_document, render_html
from trackbook.report.html import CONTENT_SECURITY_POLICY
from trackbook.store import LocalBlobStore, Store, open_store

T0 = dt.datetime(2024, 6, 3, 9, 30, 0, 250000, tzinfo=dt.timezone.utc)
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SCHEMA_PATH = Path(__file__).parents[1] / "python/trackbook/report/audit-report.schema.json"
SECTIONS = (
    "summary", "identity", "code", "history", "parameters", "seeds", "environment", "inputs",
    "metrics", "figures", "models", "warnings", "error", "replays", "lineage", "integrity",
    "audit-log",
)


# -- building runs ------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    with open_store(str(tmp_path / "store")) as opened:
        yield opened


@functools.lru_cache(maxsize=32)
def figure_png(seed: int, size: tuple[float, float] = (6.4, 4.8), dpi: int = 100) -> bytes:
    """A real matplotlib figure: a noisy scatter, different for every seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=size)
    ax.scatter(rng.normal(size=400), rng.normal(size=400), s=4, c=rng.random(400))
    ax.set_title(f"replay {seed}")
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi)
    plt.close(fig)
    return out.getvalue()


def recorded_run(store: Store, *, name: str = "baseline", hostile: bool = False) -> Run:
    """A finished run with params, stepped metrics, a real figure and a model, stored."""
    figure = store.blobs.put_bytes(figure_png(0))
    model = store.blobs.put_bytes(b"joblib model bytes " + name.encode())
    code = "lr = 0.1\nmodel.fit(X, y)\nacc = model.score(X, y)"
    if hostile:
        code += f"\n# {SCRIPT} {IMG}"
    run = Run(
        id=new_run_id(T0.timestamp()),
        name=f"{name} {SCRIPT}{IMG}" if hostile else name,
        status="failed",
        user="alice",
        host="gpu-box",
        pid=4242,
        notebook="work/train.ipynb",
        cell_id="cell-7",
        execution_count=7,
        started_at=T0,
        ended_at=T0 + dt.timedelta(seconds=12.5),
        duration_s=12.5,
        code=code,
        history=[
            HistoryEntry(1, "import numpy as np", "cell-1"),
            HistoryEntry(3, "X, y = load()", "cell-2"),
            HistoryEntry(7, code, "cell-7"),
        ],
        dependencies=[Dependency("X", 3, "cell-2"), Dependency("model", None, None)],
        params={"lr": 0.1, "depth": 6, "criterion": IMG if hostile else "gini"},
        metrics={"acc": 0.93, "loss": 0.2},
        metric_history=[
            Metric("loss", 0.9, 0, T0.timestamp() + 1),
            Metric("loss", 0.5, 1, T0.timestamp() + 2),
            Metric("loss", 0.2, 2, T0.timestamp() + 3),
            Metric("acc", 0.93, 0, T0.timestamp() + 4),
        ],
        seeds={"run": 1234, "PYTHONHASHSEED": "0"},
        environment_id="a" * 64,
        environment=Environment(
            id="a" * 64, python="3.12.1", platform="Linux-6.1-x86_64",
            packages={"numpy": "1.26.4", "scikit-learn": "1.4.0"}, modules={"numpy": "1.26.4"},
            git={"commit": "0123abc", "branch": "main", "dirty": True}, kernel="python3",
        ),
        inputs=[
            InputRecord("train", "dataframe", "xxh3_128:" + "f" * 32, [100, 2],
                        {"age": "int64", "income": "float64"}),
            InputRecord("data.csv", "file", "sha256:" + "c" * 64, path="data/data.csv", size=2048),
        ],
        artifacts=[
            Artifact(figure.id, "figure-1.png", "figure", "image/png", figure.size),
            Artifact(model.id, "model", "model", "application/octet-stream", model.size),
        ],
        warnings=[RunWarning("hidden_state", "model comes from outside the history")],
        error=RunError("ValueError", "bad shape", ["\x1b[0;31mValueError\x1b[0m: bad shape"]),
        stdout="fitting...\n",
        tags={"team": "vision"},
    )
    store.finish_run(run)
    return run


# -- reading the HTML back ----------------------------------------------------------------


class Page(HTMLParser):
    """Every tag with its attributes, the text, and ``<style>`` content, from the parser."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if a.get("id")}

    def all_text(self) -> str:
        return "".join(self.text)


def assert_inert(html: str) -> Page:
    """No script, no event handler, no request the browser would make: the report's promise."""
    page = Page(html)
    names = {tag for tag, _ in page.tags}
    assert not names & {"script", "iframe", "object", "embed", "link", "base", "form", "frame"}, names
    for tag, attrs in page.tags:
        for key, value in attrs.items():
            assert not key.startswith("on"), (tag, key, value)
            text = (value or "").strip().lower()
            assert "http://" not in text and "https://" not in text and "javascript:" not in text, (tag, key)
            if key in ("src", "srcset", "poster", "background"):
                assert text.startswith("data:image/"), (tag, key, text[:40])
            if key == "href":
                assert text.startswith("#"), (tag, text)
    metas = [a for tag, a in page.tags if tag == "meta" and a.get("http-equiv")]
    assert metas == [{"http-equiv": "Content-Security-Policy", "content": CONTENT_SECURITY_POLICY}]
    style = "".join(page.styles)
    assert "url(" not in style and "@import" not in style
    return page


def schema_validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# -- the document -----------------------------------------------------------------------


def test_document_holds_every_facet_of_the_run(store: Store) -> None:
    run = recorded_run(store)
    doc = build_document(store, run.id[:10])  # a prefix works, as for `trackbook show`

    assert doc["schema_version"] == 1 and doc["generated_at"].endswith("Z")
    ident = doc["run"]
    assert (ident["id"], ident["user"], ident["host"], ident["notebook"], ident["cell_id"]) == (
        run.id, "alice", "gpu-box", "work/train.ipynb", "cell-7")
    assert (ident["execution_count"], ident["kernel"], ident["duration_s"]) == (7, "python3", 12.5)
    assert [h["execution_count"] for h in doc["history"]] == [1, 3, 7]
    assert [h["tracked"] for h in doc["history"]] == [False, False, True]
    assert doc["params"] == {"criterion": "gini", "depth": 6, "lr": 0.1}
    assert doc["seeds"]["run"] == 1234
    assert doc["environment"]["packages"]["scikit-learn"] == "1.4.0"
    assert doc["environment"]["git"]["commit"] == "0123abc"
    assert doc["inputs"][0]["schema"] == {"age": "int64", "income": "float64"}
    assert doc["inputs"][1]["fingerprint"] == "sha256:" + "c" * 64
    loss = next(m for m in doc["metrics"] if m["key"] == "loss")
    assert loss["value"] == 0.2 and [s["value"] for s in loss["steps"]] == [0.9, 0.5, 0.2]
    model = run.artifacts[1]
    assert doc["models"] == [{**dataclasses.asdict(model), "sha256": model.id}]
    [figure] = doc["figures"]
    assert figure["id"] == run.artifacts[0].id
    assert figure["thumbnail"].startswith("data:image/png;base64,")
    assert doc["warnings"][0]["kind"] == "hidden_state"
    assert doc["error"]["ename"] == "ValueError"
    assert doc["replays"] == [] and doc["verdicts"]["reproduced"] == 0
    assert doc["lineage"]["replay_of"] is None
    assert doc["integrity"]["ok"], doc["integrity"]["problems"]
    assert doc["integrity"]["mode"] == "full"  # a small store is verified in full
    assert run.id in {e["subject"] for e in doc["audit_log"]}  # run_finalised
    json.dumps(doc, allow_nan=False)  # strict JSON as it is


def test_json_form_validates_against_its_schema(store: Store, tmp_path: Path) -> None:
    run = recorded_run(store)
    written = audit_report(run.id, tmp_path / "report.json", store=store, format="json")
    doc = json.loads(written.read_text(encoding="utf-8"))
    schema_validator().validate(doc)
    assert doc["figures"][0]["thumbnail"] is None  # machines get the blob id, not pixels
    assert doc["figures"][0]["id"] == run.artifacts[0].id
    # The schema is a real check: a document missing a section does not pass.
    import jsonschema

    del doc["integrity"]
    with pytest.raises(jsonschema.ValidationError):
        schema_validator().validate(doc)


def test_unknown_run_raises(store: Store) -> None:
    with pytest.raises(RunNotFoundError):
        build_document(store, "01HZZZZZZZZZZZZZZZZZZZZZZZ")


def test_thumbnails_are_small_pngs(store: Store) -> None:
    from PIL import Image

    run = recorded_run(store)
    big = store.blobs.put_bytes(figure_png(1, size=(16, 12), dpi=200))  # 3200 x 2400
    store.finish_run(dataclasses.replace(
        run, id=new_run_id(), artifacts=[Artifact(big.id, "big.png", "figure", "image/png", big.size)]))
    doc = build_document(store, store.list_runs(limit=1)[0].id)
    data = base64.b64decode(doc["figures"][0]["thumbnail"].split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and max(image.size) <= 400
    assert len(data) < big.size / 4


def test_unreadable_figure_is_named_not_fatal(store: Store) -> None:
    bogus = store.blobs.put_bytes(b"not a picture")
    run = dataclasses.replace(recorded_run(store), id=new_run_id(),
                              artifacts=[Artifact(bogus.id, "x.png", "figure", "image/png", 13)])
    store.finish_run(run)
    [figure] = build_document(store, run.id)["figures"]
    assert figure["thumbnail"] is None and "Pillow" in figure["note"]


# -- the HTML page ----------------------------------------------------------------------


def test_html_is_self_contained_with_every_section(store: Store) -> None:
    run = recorded_run(store)
    html = audit_report(run.id, store=store)
    page = assert_inert(html)
    assert set(SECTIONS) <= page.ids()
    text = page.all_text()
    for expected in (run.id, "alice", "gpu-box", "work/train.ipynb", "cell-7", "python3",
                     "scikit-learn", "0123abc", "xxh3_128:" + "f" * 32, "income", "hidden_state",
                     run.artifacts[1].id, "In [7]", "ValueError: bad shape"):
        assert expected in text, expected
    assert "\x1b" not in html  # terminal colours are stripped from tracebacks
    images = [a["src"] for tag, a in page.tags if tag == "img"]
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,")
    assert any(tag == "polyline" for tag, _ in page.tags)  # the loss series has 3 steps


def test_html_escapes_everything_from_the_store(store: Store) -> None:
    run = recorded_run(store, hostile=True)
    html = render_html(build_document(store, run.id))
    page = assert_inert(html.decode("utf-8"))
    text = page.all_text()
    assert f"baseline {SCRIPT}{IMG}" in text  # the name, shown as text
    assert json.dumps(IMG) in text  # the parameter value
    assert f"# {SCRIPT} {IMG}" in text  # the code
    assert [tag for tag, _ in page.tags].count("img") == 1  # only the figure


def test_integrity_problems_are_reported(store: Store) -> None:
    run = recorded_run(store)
    assert isinstance(store.blobs, LocalBlobStore)
    path = store.blobs.path(run.artifacts[1].id)
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered model")
    for mode in ("full", "targeted", "auto"):
        integrity = build_document(store, run.id, integrity=mode)["integrity"]  # type: ignore[arg-type]
        assert not integrity["ok"], mode
        assert any(run.artifacts[1].id in p for p in integrity["problems"]), mode
    targeted = build_document(store, run.id, integrity="targeted")["integrity"]
    assert targeted["mode"] == "targeted" and "audit_chain" in targeted["checks"]
    page = Page(audit_report(run.id, store=store))
    assert "FAILED" in page.all_text() and run.artifacts[1].id in page.all_text()


# -- the command line ---------------------------------------------------------------------


def test_cli_writes_the_report(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    run = recorded_run(store)
    where = str(tmp_path / "store")
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    assert main(["audit", run.id, "-o", str(target), "--store", where]) == 0
    assert "wrote" in capsys.readouterr().out
    assert_inert(target.read_text(encoding="utf-8"))
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]  # no temp file left

    monkeypatch.chdir(tmp_path)  # default: audit-<run id>.html here
    assert main(["audit", "baseline", "--store", where]) == 0
    assert (tmp_path / f"audit-{run.id}.html").is_file()
    capsys.readouterr()

    assert main(["audit", run.id, "--json", "--store", where]) == 0  # JSON form on stdout
    schema_validator().validate(json.loads(capsys.readouterr().out))

    assert main(["audit", run.id, "-o", "-", "--store", where]) == 0  # the HTML on stdout
    assert "audit-log" in assert_inert(capsys.readouterr().out).ids()

    assert main(["audit", run.id, "-o", "r.json", "--json", "--store", where]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["format"] == "json" and status["integrity_ok"] is True
    schema_validator().validate(json.loads((tmp_path / "r.json").read_text()))


def test_cli_unknown_run_and_missing_store(store: Store, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    recorded_run(store)
    assert main(["audit", "nosuchrun", "--store", str(tmp_path / "store")]) == 2
    err = capsys.readouterr().err
    assert "no run matches 'nosuchrun'" in err and "trackbook runs" in err
    assert main(["audit", "x", "--store", str(tmp_path / "absent")]) == 3
    assert "no trackbook store" in capsys.readouterr().err
    assert not (tmp_path / "absent").exists()


def test_cli_exit_1_when_the_store_fails_verification(store: Store, tmp_path: Path) -> None:
    run = recorded_run(store)
    assert isinstance(store.blobs, LocalBlobStore)
    path = store.blobs.path(run.artifacts[0].id)
    os.chmod(path, 0o644)
    path.write_bytes(b"changed")
    target = tmp_path / "r.html"
    assert main(["audit", run.id, "-o", str(target), "--store", str(tmp_path / "store")]) == 1
    assert "FAILED" in Page(target.read_text()).all_text()  # written all the same


# -- replays ------------------------------------------------------------------------------


def record_replays(store: Store, original: Run, count: int) -> list[Replay]:
    """``count`` done replays of ``original``, each with the run its replayed cell recorded.

    Verdicts cycle through reproduced (same figure as the original), differs
    (its own figure, differences whose text is hostile) and failed.
    """
    replays = []
    for index in range(count):
        kind = ("reproduced", "differs", "failed")[index % 3]
        requested = T0 + dt.timedelta(hours=index + 1)
        figure = (original.artifacts[0] if kind == "reproduced" else
                  _stored_figure(store, seed=100 + index))
        replay_run = Run(
            id=new_run_id(requested.timestamp() + 5), name=original.name, status="finished",
            started_at=requested + dt.timedelta(seconds=5), ended_at=requested + dt.timedelta(seconds=9),
            duration_s=4.0, code=original.code, metrics={"acc": 0.93 if kind == "reproduced" else 0.91},
            artifacts=[figure], replay_of=original.id,
        )
        store.finish_run(replay_run)
        differences = [] if kind != "differs" else [
            Difference("metric", "acc", 0.93, 0.91, "unseeded_randomness",
                       f"acc changed {SCRIPT}; the cell draws from an unseeded generator"),
            Difference("input", "data.csv", "sha256:" + "c" * 64, "sha256:" + "d" * 64,
                       "input_data_changed", f"the file data/data.csv changed {IMG}"),
        ]
        replay = Replay(
            id=new_run_id(requested.timestamp()), run_id=original.id, status="done",
            requested_at=requested, started_at=requested + dt.timedelta(seconds=1),
            ended_at=requested + dt.timedelta(seconds=10), replay_run_id=replay_run.id,
            verdict=kind,  # type: ignore[arg-type]
            differences=differences,
            failure=ReplayFailure(3, "KeyError", f"'lr' {SCRIPT}") if kind == "failed" else None,
            overrides={"lr": 0.2} if index == 1 else {}, user="bob", host="ci",
            message="replay finished",
        )
        store.create_replay(replay)
        replays.append(replay)
    return replays


def _stored_figure(store: Store, seed: int) -> Artifact:
    ref = store.blobs.put_bytes(figure_png(seed))
    return Artifact(ref.id, f"figure-{seed}.png", "figure", "image/png", ref.size)


def test_replays_with_verdicts_differences_and_failures(store: Store) -> None:
    original = recorded_run(store)
    replays = record_replays(store, original, 4)
    doc = build_document(store, original.id)
    schema_validator().validate(doc)

    assert [r["id"] for r in doc["replays"]] == [r.id for r in replays]  # oldest first
    assert doc["verdicts"] == {"reproduced": 2, "reproduced_within_tolerance": 0, "differs": 1,
                               "failed": 1}
    differs = doc["replays"][1]
    assert [(d["facet"], d["key"], d["cause"]) for d in differs["differences"]] == [
        ("metric", "acc", "unseeded_randomness"), ("input", "data.csv", "input_data_changed")]
    assert differs["overrides"] == {"lr": 0.2}
    assert differs["replay_run"]["metrics"] == {"acc": 0.91}
    [own] = differs["replay_run"]["figures"]
    assert not own["same_as_original"] and own["thumbnail"].startswith("data:image/png;base64,")
    [same] = doc["replays"][0]["replay_run"]["figures"]
    assert same["same_as_original"] and same["thumbnail"] is None  # not embedded twice
    assert doc["replays"][2]["failure"] == {"cell_index": 3, "ename": "KeyError",
                                            "evalue": f"'lr' {SCRIPT}"}
    assert doc["lineage"]["replayed_by"] == [r.replay_run_id for r in replays]
    kinds = {(e["kind"], e["subject"]) for e in doc["audit_log"]}
    assert ("run_finalised", original.id) in kinds
    assert {("replay_verdict", r.id) for r in replays} <= kinds
    assert {("run_finalised", r.replay_run_id) for r in replays} <= kinds
    assert doc["integrity"]["ok"], doc["integrity"]["problems"]

    page = assert_inert(render_html(doc).decode("utf-8"))
    badges = [a["class"] for tag, a in page.tags if tag == "span" and "badge" in (a.get("class") or "")]
    assert {"badge reproduced", "badge differs", "badge failed"} <= set(badges)
    assert {f"replay-{r.id}" for r in replays} <= page.ids()
    text = page.all_text()
    assert f"acc changed {SCRIPT}" in text and f"'lr' {SCRIPT}" in text
    assert "unseeded randomness" in text and "input data changed" in text
    rows = [a for tag, a in page.tags if tag == "table" and a.get("class") == "differences"]
    assert len(rows) == 1  # one differences table: the replay that differs


def test_report_of_a_replay_run_names_its_original(store: Store) -> None:
    original = recorded_run(store)
    [replay] = record_replays(store, original, 1)
    assert replay.replay_run_id is not None
    doc = build_document(store, replay.replay_run_id)
    assert doc["lineage"]["replay_of"] == {
        "id": original.id, "name": original.name, "status": original.status,
        "started_at": "2024-06-03T09:30:00.250000Z", "found": True}
    assert doc["lineage"]["produced_by"] == {"id": replay.id, "verdict": "reproduced", "mode": "history"}
    assert original.id in Page(render_html(doc).decode()).all_text()


def test_ten_replays_with_figures_stay_under_2_mb(store: Store, tmp_path: Path) -> None:
    original = recorded_run(store)
    for index in range(10):  # the worst case: every replay drew a figure of its own
        requested = T0 + dt.timedelta(hours=index + 1)
        run = Run(id=new_run_id(requested.timestamp() + 1), name="r", status="finished",
                  started_at=requested, replay_of=original.id,
                  artifacts=[_stored_figure(store, seed=200 + index)])
        store.finish_run(run)
        store.create_replay(Replay(
            id=new_run_id(requested.timestamp()), run_id=original.id, status="done",
            requested_at=requested, replay_run_id=run.id, verdict="differs"))
    target = audit_report(original.id, tmp_path / "r.html", store=store)
    size = target.stat().st_size
    page = assert_inert(target.read_text(encoding="utf-8"))
    assert [tag for tag, _ in page.tags].count("img") == 11
    assert size < 2 * 1024 * 1024, size


def test_a_changed_metric_fails_the_integrity_check(store: Store) -> None:
    import sqlite3

    original = recorded_run(store)
    record_replays(store, original, 1)
    db = sqlite3.connect(str(Path(store.location.db_path or "")))
    with db:
        db.execute("UPDATE metrics SET value = 0.99 WHERE run_id = ? AND key = 'acc'", (original.id,))
    db.close()
    integrity = build_document(store, original.id, integrity="full")["integrity"]
    assert not integrity["ok"]
    assert any(original.id in p and "metrics" in p for p in integrity["problems"]), integrity


def test_targeted_check_finds_a_changed_or_removed_audit_entry(store: Store) -> None:
    import sqlite3

    original = recorded_run(store)
    record_replays(store, original, 2)
    assert build_document(store, original.id, integrity="targeted")["integrity"]["ok"]
    db = sqlite3.connect(str(Path(store.location.db_path or "")))
    with db:  # what someone rewriting history with the database open would do
        db.execute("DROP TRIGGER audit_log_no_update")
        db.execute("DROP TRIGGER audit_log_no_delete")
        seq = db.execute("SELECT seq FROM audit_log WHERE subject = ?", (original.id,)).fetchone()[0]
        db.execute("UPDATE audit_log SET digest = ? WHERE seq = ?", ("0" * 64, seq))
        last = db.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
        db.execute("DELETE FROM audit_log WHERE seq = ?", (last - 1,))
    db.close()
    integrity = build_document(store, original.id, integrity="targeted")["integrity"]
    assert not integrity["ok"] and integrity["mode"] == "targeted"
    assert f"audit log: entry {seq} (run_finalised {original.id}) was changed: its hash does not match" in (
        integrity["problems"])
    assert f"audit log: entry {last - 1} is missing" in integrity["problems"]
