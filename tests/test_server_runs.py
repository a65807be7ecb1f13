"""``/trackbook/runs`` and ``/trackbook/runs/{id}`` on a real server over a real store."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_store_query_data import add_runs, expected_order, make_runs, matches
from tornado.httpclient import HTTPClientError, HTTPResponse

from trackbook.entities import Metric, Run, new_run_id
from trackbook.store import Store, open_store

COUNT = 2500


@pytest.fixture
def server_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[list[Run]], Store]:
    """Writes runs into the store the server will open (it opens it on first request)."""
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    stores: list[Store] = []

    def seed(runs: list[Run]) -> Store:
        if not stores:
            stores.append(open_store(str(tmp_path / "server-store")))
        add_runs(stores[0], runs)
        return stores[0]

    yield seed  # type: ignore[misc]
    for store in stores:
        store.close()


async def get_json(jp_fetch: Any, *parts: str, **params: Any) -> dict[str, Any]:
    pairs = [
        (k, v)
        for k, values in params.items()
        for v in (values if isinstance(values, list) else [values])
    ]
    response = await jp_fetch("trackbook", *parts, params=pairs)
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)  # type: ignore[no-any-return]


async def error_of(jp_fetch: Any, *parts: str, **params: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HTTPClientError) as caught:
        await get_json(jp_fetch, *parts, **params)
    response = caught.value.response
    assert response is not None
    assert response.headers["Content-Type"].startswith("application/json")
    return caught.value.code, json.loads(response.body)


@pytest.fixture(scope="module")
def thousands(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Run]]:
    """A closed store of ``COUNT`` runs, built once and copied into each test."""
    path = tmp_path_factory.mktemp("thousands") / "store"
    runs = make_runs(COUNT)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRACKBOOK_SPOOL_DIR", str(path.parent / "spool"))
        with open_store(str(path)) as store:
            add_runs(store, runs)
    return path, runs


@pytest.mark.parametrize(
    "sort", ["-started_at", "name", "-metrics.acc", "params.mixed", "duration_s"]
)
async def test_pages_cover_thousands_of_runs_exactly_once(
    jp_fetch: Any,
    thousands: tuple[Path, list[Run]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sort: str,
) -> None:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    template, runs = thousands
    shutil.copytree(template, tmp_path / "server-store")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = await get_json(jp_fetch, "runs", **params)
        assert page["total"] == COUNT
        seen += [r["id"] for r in page["runs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected_order(runs, sort)


async def test_a_summary_is_plain_json(
    jp_fetch: Any, server_store: Callable[[list[Run]], Store]
) -> None:
    run = Run(
        id=new_run_id(),
        name="<img src=x onerror=alert(1)>",
        status="finished",
        notebook="work/a.ipynb",
        params={"lr": 0.1, "opt": "<b>"},
        tags={"t": "<script>"},
        metrics={"nan": math.nan, "inf": math.inf, "ok": 0.5},
        metric_history=[Metric("steps", 1.0, 0, 0.0), Metric("steps", 0.5, 1, 1.0)],
    )
    server_store([run])
    page = await get_json(jp_fetch, "runs")
    assert page["metric_keys"] == ["inf", "nan", "ok", "steps"]
    assert page["param_keys"] == ["lr", "opt"] and page["tag_keys"] == ["t"]
    assert page["total"] == 1 and page["next_cursor"] is None
    (summary,) = page["runs"]
    assert set(summary) == {
        "id",
        "name",
        "status",
        "notebook",
        "started_at",
        "ended_at",
        "duration_s",
        "params",
        "metrics",
        "tags",
        "warnings_count",
        "replay_of",
    }
    assert summary["name"] == "<img src=x onerror=alert(1)>"
    assert summary["metrics"] == {"inf": "inf", "nan": "nan", "ok": 0.5, "steps": 0.5}
    assert summary["started_at"].endswith("Z") and summary["ended_at"].endswith("Z")
    assert summary["params"] == {"lr": 0.1, "opt": "<b>"}


FILTERS: list[dict[str, Any]] = [
    {"q": "XGB"},
    {"q": "tabular", "status": "finished,failed"},
    {"status": ["failed", "interrupted"]},
    {"notebook": "exp/alpha.ipynb", "sort": "-metrics.acc"},
    {"tag": "team=nlp"},
    {"tag": ["team=nlp", "stage=prod"], "sort": "params.lr"},
    {"q": "gamma", "tag": "team=vision", "status": "finished"},
]


@pytest.mark.parametrize("params", FILTERS, ids=[str(f) for f in FILTERS])
async def test_filters_and_sorts(
    jp_fetch: Any, server_store: Callable[[list[Run]], Store], params: dict[str, Any]
) -> None:
    runs = make_runs(400)
    server_store(runs)

    def as_list(value: Any) -> list[str]:
        return value if isinstance(value, list) else [value]

    statuses = [s for v in as_list(params.get("status", [])) for s in v.split(",")]
    tags = [tuple(t.split("=", 1)) for t in as_list(params.get("tag", []))]
    wanted = [
        r
        for r in runs
        if matches(r, params.get("q"), statuses, params.get("notebook"), tags)  # type: ignore[arg-type]
    ]
    page = await get_json(jp_fetch, "runs", limit=500, **params)
    assert page["total"] == len(wanted) > 0
    assert [r["id"] for r in page["runs"]] == expected_order(
        wanted, params.get("sort", "-started_at")
    )


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"sort": "size"}, "sort"),
        ({"sort": "-metrics."}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "done"}, "status"),
        ({"status": "finished,nope"}, "status"),
        ({"tag": "novalue"}, "tag"),
        ({"q": "x" * 501}, "q"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
async def test_invalid_parameters_are_named_in_a_400(
    jp_fetch: Any, server_store: Callable[[list[Run]], Store], params: dict[str, Any], names: str
) -> None:
    server_store(make_runs(3))
    code, body = await error_of(jp_fetch, "runs", **params)
    assert code == 400
    assert body["error"] == "Bad Request"
    assert body["message"].startswith(names + ":")


async def test_a_tampered_or_foreign_cursor_is_a_400(
    jp_fetch: Any, server_store: Callable[[list[Run]], Store]
) -> None:
    server_store(make_runs(30))
    page = await get_json(jp_fetch, "runs", limit=5, sort="-metrics.acc")
    cursor = page["next_cursor"]
    body, signature = cursor.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    for bad in (f"{flipped}.{signature}", f"{body}.{signature[::-1]}", cursor + "x", cursor[:-1]):
        code, error = await error_of(jp_fetch, "runs", limit=5, sort="-metrics.acc", cursor=bad)
        assert code == 400 and error["message"].startswith("cursor:")
    code, error = await error_of(jp_fetch, "runs", limit=5, sort="name", cursor=cursor)
    assert code == 400 and "made for sort" in error["message"]
    following = await get_json(jp_fetch, "runs", limit=5, sort="-metrics.acc", cursor=cursor)
    assert following["runs"][0]["id"] not in {r["id"] for r in page["runs"]}


async def test_polling_with_the_etag_costs_a_304_until_something_changes(
    jp_fetch: Any, server_store: Callable[[list[Run]], Store]
) -> None:
    store = server_store(make_runs(20))
    first: HTTPResponse = await jp_fetch("trackbook", "runs", params={"limit": 10})
    etag = first.headers["ETag"]
    with pytest.raises(HTTPClientError) as unchanged:
        await jp_fetch("trackbook", "runs", params={"limit": 10}, headers={"If-None-Match": etag})
    assert unchanged.value.code == 304
    assert not unchanged.value.response.body  # type: ignore[union-attr]
    other = await jp_fetch(
        "trackbook", "runs", params={"limit": 11}, headers={"If-None-Match": etag}
    )
    assert other.code == 200 and other.headers["ETag"] != etag

    new = Run(id=new_run_id(), name="just finished", status="finished")
    store.finish_run(new)
    fresh = await jp_fetch(
        "trackbook", "runs", params={"limit": 10}, headers={"If-None-Match": etag}
    )
    assert fresh.code == 200 and fresh.headers["ETag"] != etag
    assert json.loads(fresh.body)["runs"][0]["id"] == new.id


async def test_a_run_has_every_facet(
    jp_fetch: Any, server_store: Callable[[list[Run]], Store]
) -> None:
    from test_store_runs import full_run

    store = server_store([])
    run = full_run(store)
    store.finish_run(run)
    body = await get_json(jp_fetch, "runs", run.id)
    expected_keys = {
        "id",
        "name",
        "status",
        "notebook",
        "cell_id",
        "execution_count",
        "started_at",
        "ended_at",
        "duration_s",
        "code",
        "params",
        "metrics",
        "seeds",
        "environment",
        "inputs",
        "artifacts",
        "warnings",
        "error",
        "replay_of",
        "tags",
        "metric_history",
        "history",
        "dependencies",
        "stdout",
        "stderr",
        "user",
        "host",
        "pid",
        "environment_id",
    }
    assert set(body) == expected_keys
    assert body["environment"]["packages"] == {"numpy": "1.26.4", "pandas": "2.2.0"}
    assert body["environment"]["git"]["commit"] == "abc123"
    assert body["inputs"][0]["schema"] == {"a": "int64", "b": "float64"}
    assert body["artifacts"][1] == {
        "id": run.artifacts[1].id,
        "name": "figure-1.png",
        "kind": "figure",
        "media_type": "image/png",
        "size": run.artifacts[1].size,
    }
    assert body["metric_history"][0] == {
        "key": "loss",
        "value": 0.5,
        "step": 0,
        "timestamp": 1714564800.25,
    }
    assert body["history"][0] == {
        "execution_count": 1,
        "source": "import numpy as np",
        "cell_id": "cell-1",
    }
    assert body["error"]["ename"] == "ValueError"
    assert body["started_at"] == "2024-05-01T12:00:00.123456Z"
    lower = await get_json(jp_fetch, "runs", run.id.lower())
    assert lower["id"] == run.id


@pytest.mark.parametrize(
    "bad",
    ["123", "01HZZZZZZZZZZZZZZZZZZZZZZZZ", "01HZZZZZZZZZZZZZZZZZZZZZZU", "o" * 26, "..%2f" * 5],
)
async def test_a_malformed_run_id_is_a_400(
    jp_fetch: Any, server_store: Callable[[list[Run]], Store], bad: str
) -> None:
    server_store([])
    code, body = await error_of(jp_fetch, "runs", bad)
    assert code == 400 and body["message"].startswith("run_id:")


async def test_an_unknown_run_is_a_404(
    jp_fetch: Any, server_store: Callable[[list[Run]], Store]
) -> None:
    named = dataclasses.replace(make_runs(1)[0], name=new_run_id())
    server_store([named])
    # Only exact ids: not a prefix, not a run *named* like the id.
    for ref in (named.name, named.id[:-1] + ("0" if named.id[-1] != "0" else "1")):
        code, body = await error_of(jp_fetch, "runs", str(ref))
        assert code == 404 and body["error"] == "Not Found"


async def test_unknown_paths_under_trackbook_are_json_404s(
    jp_fetch: Any, server_store: Callable[[list[Run]], Store]
) -> None:
    server_store([])
    for parts in (("nothing",), ("runs", new_run_id(), "nothing"), ("models", "a", "b")):
        code, body = await error_of(jp_fetch, *parts)
        assert code == 404 and set(body) == {"error", "message"}


async def test_a_run_with_odd_recorded_content_is_still_served(
    jp_fetch: Any, server_store: Callable[[list[Run]], Store]
) -> None:
    from trackbook.entities import Environment

    odd = Environment(
        id="f" * 64, python="3.11", platform="x", packages={}, modules={"weird": 1.5}  # type: ignore[dict-item]
    )
    run = Run(id=new_run_id(), status="finished", environment=odd)
    server_store([run])
    body = await get_json(jp_fetch, "runs", run.id)
    assert body["environment"]["modules"] == {"weird": 1.5}
