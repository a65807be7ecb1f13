"""``/trackbook/models`` and ``/trackbook/models/{name}``: model files recorded by runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from test_store_query_data import T0, with_model
from tornado.httpclient import HTTPClientError

from trackbook.entities import Run, new_run_id
from trackbook.store import open_store


def finished(name: str, minutes: int, status: str = "finished") -> Run:
    started = T0 + dt.timedelta(minutes=minutes)
    return Run(
        id=new_run_id(started.timestamp()),
        name=name,
        status=status,  # type: ignore[arg-type]
        started_at=started,
        ended_at=started + dt.timedelta(seconds=2),
    )


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Run]:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    with open_store(str(tmp_path / "server-store")) as store:
        made = [
            with_model(store, finished("first", 1), "clf", b"v1"),
            with_model(store, finished("second", 2, "failed"), "clf", b"v2"),
            with_model(store, finished("other", 3), "a/b <model>", b"x"),
            finished("no model", 4),
        ]
        store.finish_runs(made)
    return made


async def test_models_list_names_counts_and_the_newest_version(
    jp_fetch: Any, runs: list[Run]
) -> None:
    body = json.loads((await jp_fetch("trackbook", "models")).body)
    assert body == {
        "models": [
            {
                "name": "a/b <model>",
                "versions": 1,
                "latest": {
                    "run_id": runs[2].id,
                    "run_name": "other",
                    "artifact_id": runs[2].artifacts[0].id,
                    "size": 1,
                    "recorded_at": "2024-01-01T00:03:02Z",
                },
            },
            {
                "name": "clf",
                "versions": 2,
                "latest": {
                    "run_id": runs[1].id,
                    "run_name": "second",
                    "artifact_id": runs[1].artifacts[0].id,
                    "size": 2,
                    "recorded_at": "2024-01-01T00:02:02Z",
                },
            },
        ]
    }


async def test_a_model_lists_its_versions_newest_first(jp_fetch: Any, runs: list[Run]) -> None:
    body = json.loads((await jp_fetch("trackbook", "models", "clf")).body)
    assert body["name"] == "clf"
    assert [(v["version"], v["run_name"], v["run_status"]) for v in body["versions"]] == [
        (2, "second", "failed"),
        (1, "first", "finished"),
    ]
    assert set(body["versions"][0]) == {
        "version",
        "run_id",
        "run_name",
        "artifact_id",
        "size",
        "recorded_at",
        "run_status",
    }


async def test_a_name_with_a_slash_is_reached_encoded(
    http_server_client: Any, jp_base_url: str, jp_auth_header: dict[str, str], runs: list[Run]
) -> None:
    path = jp_base_url + "trackbook/models/" + quote("a/b <model>", safe="")
    response = await http_server_client.fetch(path, headers=jp_auth_header)
    assert json.loads(response.body)["versions"][0]["run_id"] == runs[2].id


async def test_an_unknown_model_is_a_404(jp_fetch: Any, runs: list[Run]) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("trackbook", "models", "nope")
    assert caught.value.code == 404
    body = json.loads(caught.value.response.body)  # type: ignore[union-attr]
    assert body["error"] == "Not Found" and "nope" in body["message"]
