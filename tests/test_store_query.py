"""Paged, sorted, filtered run listings from a real SQLite store (``Store.query_runs``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_store_query_data import SORTS, T0, add_runs, expected_order, make_runs, matches

from trackbook.entities import Metric, Run, new_run_id
from trackbook.exceptions import UsageError
from trackbook.store import Store, open_store, runs_page
from trackbook.store.run_sort import SortPosition, parse_sort
from trackbook.store.runs_page import RunPage, RunQuery

COUNT = 1200


@pytest.fixture(scope="module")
def listing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, list[Run]]]:
    path = tmp_path_factory.mktemp("listing")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRACKBOOK_SPOOL_DIR", str(path / "spool"))
        with open_store(str(path / "store")) as store:
            runs = make_runs(COUNT)
            add_runs(store, runs)
            yield store, runs


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    with open_store(str(tmp_path / "store")) as opened:
        yield opened


def walk(store: Store, sort: str, limit: int, **filters: object) -> tuple[list[str], list[RunPage]]:
    """Every page of a listing, following ``next_after``; the ids in order and the pages."""
    ids: list[str] = []
    pages = []
    after = None
    while True:
        page = store.query_runs(
            RunQuery(sort=parse_sort(sort), limit=limit, after=after, **filters)  # type: ignore[arg-type]
        )
        pages.append(page)
        ids += [r.id for r in page.runs]
        assert len(pages) <= COUNT, "the walk does not end"
        if page.next_after is None:
            return ids, pages
        assert len(page.runs) == limit
        after = page.next_after


@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_pages_through_every_run_once_in_order(
    listing: tuple[Store, list[Run]], sort: str
) -> None:
    store, runs = listing
    ids, pages = walk(store, sort, limit=97)
    assert len(ids) == len(set(ids)) == COUNT
    assert ids == expected_order(runs, sort)
    assert {p.total for p in pages} == {COUNT}


FILTERS: list[dict[str, object]] = [
    {"q": "xgb"},  # names are "train-XGB-..": case-insensitive
    {"q": "  TABULAR "},  # a tag value, padded
    {"q": "gamma.ipynb"},  # a notebook
    {"q": "train-rf-3"},  # also matches train-rf-30..39
    {"q": "no such text"},
    {"statuses": ("failed", "interrupted")},
    {"statuses": ("running",)},
    {"notebook": "exp/beta.ipynb"},
    {"notebook": "exp/beta"},  # exact paths only
    {"tags": (("team", "nlp"),)},
    {"tags": (("team", "nlp"), ("stage", "prod"))},
    {"q": "mlp", "statuses": ("finished",), "notebook": "exp/alpha.ipynb"},
    {"q": "vision", "tags": (("stage", "prod"),)},
]


@pytest.mark.parametrize("filters", FILTERS, ids=[str(f) for f in FILTERS])
@pytest.mark.parametrize("sort", ["-started_at", "-metrics.acc", "params.mixed", "name"])
@pytest.mark.parametrize("small_set", [runs_page.SMALL_SET, 5])
def test_filters_select_exactly_the_matching_runs(
    listing: tuple[Store, list[Run]],
    filters: dict[str, object],
    sort: str,
    small_set: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # small_set=5 sends every non-trivial filter down the chunked (dense) walk.
    monkeypatch.setattr(runs_page, "SMALL_SET", small_set)
    store, runs = listing
    wanted = [r for r in runs if matches(r, **filters)]  # type: ignore[arg-type]
    ids, pages = walk(store, sort, limit=41, **filters)
    assert ids == expected_order(wanted, sort)
    assert {p.total for p in pages} == {len(wanted)}


def test_a_run_id_prefix_finds_the_run(listing: tuple[Store, list[Run]]) -> None:
    store, runs = listing
    target = runs[500]
    page = store.query_runs(RunQuery(parse_sort(None), q=target.id[:14].lower()))
    assert [r.id for r in page.runs] == [target.id]
    short = store.query_runs(RunQuery(parse_sort(None), q=target.id[:5]))
    assert target.id not in {r.id for r in short.runs}, "prefixes under 6 characters are text"
    other = "failed" if target.status != "failed" else "finished"
    none = store.query_runs(RunQuery(parse_sort(None), q=target.id, statuses=(other,)))
    assert none.runs == [] and none.total == 0


def test_summaries_hold_what_the_sidebar_shows(listing: tuple[Store, list[Run]]) -> None:
    store, runs = listing
    by_id = {r.id: r for r in runs}
    page = store.query_runs(RunQuery(parse_sort("started_at"), limit=60))
    assert page.metric_keys == ["acc", "loss", "rare"]
    assert page.param_keys == ["lr", "mixed"]
    assert page.tag_keys == ["stage", "team"]
    for summary in page.runs:
        run = by_id[summary.id]
        assert (summary.name, summary.status, summary.notebook) == (
            run.name,
            run.status,
            run.notebook,
        )
        assert summary.started_at == run.started_at
        assert summary.params == run.params
        assert summary.tags == run.tags
        assert summary.warnings_count == len(run.warnings)
        expected = {k: v for k, v in sorted(_latest(run).items())}
        assert summary.metrics.keys() == expected.keys()
        for key, value in expected.items():
            assert summary.metrics[key] == value or (
                math.isnan(value) and math.isnan(summary.metrics[key])
            )


def _latest(run: Run) -> dict[str, float]:
    from test_store_query_data import latest_metrics

    return latest_metrics(run)


def test_pages_follow_the_store_as_it_changes(store: Store) -> None:
    older = make_runs(30, seed=1)
    add_runs(store, older)
    first = store.query_runs(RunQuery(parse_sort(None), limit=10, q="team-x"))
    assert first.total == 0
    token = store.change_token()
    assert store.change_token() == token, "reading changes nothing"

    # A run starts, then finishes with a tag set in the cell: both are seen.
    late = T0 + dt.timedelta(days=30)
    run = Run(id=new_run_id(late.timestamp()), name="fresh", started_at=late, notebook="n.ipynb")
    store.create_run(run)
    assert store.change_token() != token
    running = store.query_runs(RunQuery(parse_sort(None), limit=5, statuses=("running",)))
    assert run.id in [r.id for r in running.runs]
    token = store.change_token()
    store.finish_run(
        dataclasses.replace(
            run,
            status="finished",
            tags={"team": "team-x"},
            metrics={"acc": 0.5},
            metric_history=[Metric("acc", 0.5, 0, 0.0)],
        )
    )
    assert store.change_token() != token
    found = store.query_runs(RunQuery(parse_sort("-metrics.acc"), q="TEAM-X"))
    assert [r.id for r in found.runs] == [run.id]
    assert found.runs[0].status == "finished" and found.runs[0].tags == {"team": "team-x"}
    still_running = store.query_runs(RunQuery(parse_sort(None), statuses=("running",)))
    assert run.id not in [r.id for r in still_running.runs]
    assert still_running.total == sum(r.status == "running" for r in older)

    # A run delivered late (an older id, e.g. from the spool) is seen too.
    spooled = make_runs(1, seed=99)[0]
    spooled = dataclasses.replace(spooled, name="from-the-spool", status="finished")
    store.finish_run(spooled)
    assert store.query_runs(RunQuery(parse_sort(None), q="from-the-spool")).total == 1
    assert store.query_runs(RunQuery(parse_sort(None))).total == 32


def test_a_position_past_the_end_gives_an_empty_last_page(store: Store) -> None:
    add_runs(store, make_runs(5))
    end = SortPosition(1, (), "0" * 26)
    page = store.query_runs(RunQuery(parse_sort("metrics.acc"), after=end))
    assert page.runs == [] and page.next_after is None and page.total == 5


@pytest.mark.parametrize(
    ("sort", "after"),
    [
        ("-started_at", SortPosition(3, ("x",), "A")),  # no such segment
        ("-started_at", SortPosition(0, (1.5,), "A")),  # a number where a time goes
        ("metrics.acc", SortPosition(0, ("x",), "A")),  # text where a number goes
        ("metrics.acc", SortPosition(0, (True,), "A")),  # a bool is not a number here
        ("params.lr", SortPosition(0, (1.0,), "A")),  # numbers hold (num, text)
    ],
)
def test_a_position_that_does_not_fit_the_sort_is_refused(
    store: Store, sort: str, after: SortPosition
) -> None:
    with pytest.raises(UsageError, match="cursor"):
        store.query_runs(RunQuery(parse_sort(sort), after=after))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (RunQuery(parse_sort(None), limit=0), "limit"),
        (RunQuery(parse_sort(None), limit=501), "limit"),
        (RunQuery(parse_sort(None), statuses=("done",)), "status"),
    ],
)
def test_invalid_queries_name_what_is_wrong(store: Store, query: RunQuery, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        store.query_runs(query)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "started",
        "+name",
        "--name",
        "metrics.",
        "params",
        "sort.x",
        "-",
        "name ",
        "metrics.a\nb",
    ],
)
def test_unknown_sorts_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match="sort"):
        parse_sort(text)
    assert parse_sort(None).text == "-started_at"


def test_metric_and_param_keys_may_hold_any_text(store: Store) -> None:
    key = "val/acc@1 (top-1) -x"
    run = Run(id=new_run_id(), status="finished", metrics={key: 0.5}, params={key: "é"})
    store.finish_run(run)
    assert parse_sort(f"-metrics.{key}").key == key
    page = store.query_runs(RunQuery(parse_sort(f"-metrics.{key}")))
    assert [r.id for r in page.runs] == [run.id]
    assert page.metric_keys == [key] and page.param_keys == [key]
