"""Every trackbook route needs a valid token, and the authorizer's consent."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from trackbook.entities import Artifact, Run, new_run_id
from trackbook.store import open_store

RUN_ID = "01HZY5Q3J9C8V1W2X3Y4Z5A6B7"
BLOB_ID = "ab" * 32


def routes(run_id: str = RUN_ID, blob_id: str = BLOB_ID) -> list[str]:
    """One path per GET route (and the catch-all); POST is in test_server_replays.py."""
    return [
        "trackbook/info",
        "trackbook/runs",
        "trackbook/runs?q=x&sort=-metrics.acc&limit=5",
        f"trackbook/runs/{run_id}",
        f"trackbook/runs/{run_id}/artifacts/{blob_id}",
        f"trackbook/runs/{run_id}/replays",
        f"trackbook/replays/{RUN_ID}",
        f"trackbook/replays/{RUN_ID}/report",
        "trackbook/models",
        "trackbook/models/clf",
        "trackbook/anything/else",
    ]


def seed_store(tmp_path: Path) -> tuple[Run, Path]:
    """A store with one run and one model artifact, in the place the server will open."""
    with open_store(str(tmp_path / "server-store")) as store:
        ref = store.blobs.put_bytes(b"model")
        run = Run(
            id=new_run_id(),
            name="secret-run-name",
            status="finished",
            artifacts=[Artifact(ref.id, "clf", "model", "application/octet-stream", ref.size)],
        )
        store.finish_run(run)
    return run, tmp_path / "server-store"


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Run, Path]:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    return seed_store(tmp_path)


def tree_digest(root: Path) -> str:
    """A hash over every file name and content under ``root``."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


async def fetch_raw(client: Any, base_url: str, path: str, headers: dict[str, str]) -> Any:
    return await client.fetch(base_url + path, headers=headers, raise_error=False)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "token wrong"}, {"Authorization": "Bearer nope"}],
    ids=["no token", "wrong token", "bearer"],
)
async def test_every_route_refuses_a_missing_or_wrong_token(
    http_server_client: Any, jp_base_url: str, seeded: tuple[Run, Path], headers: dict[str, str]
) -> None:
    run, _ = seeded
    blob = run.artifacts[0].id
    for path in routes(run.id, blob) + ["trackbook/runs?token=wrong"]:
        response = await fetch_raw(http_server_client, jp_base_url, path, headers)
        assert response.code == 403, path
        assert b"secret-run-name" not in response.body and run.id.encode() not in response.body


async def test_the_token_opens_every_route(
    http_server_client: Any,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    seeded: tuple[Run, Path],
) -> None:
    run, _ = seeded
    codes = {}
    for path in routes(run.id, run.artifacts[0].id):
        response = await fetch_raw(http_server_client, jp_base_url, path, jp_auth_header)
        codes[path.split("?")[0]] = response.code
    assert set(codes.values()) == {200, 404}
    assert codes["trackbook/anything/else"] == 404
