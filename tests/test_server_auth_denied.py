"""A deny-all authorizer: every trackbook route answers 403 and the store is untouched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from test_server_auth import fetch_raw, routes, seed_store, tree_digest

from trackbook.entities import Run


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Run, Path]:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    return seed_store(tmp_path)


class DenyAll(Authorizer):
    """Authenticated users may do nothing."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return False


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    config = json.loads(json.dumps(jp_server_config))  # no shared nested dicts
    config["ServerApp"]["authorizer_class"] = DenyAll
    return config


async def test_a_deny_all_authorizer_gets_403_and_changes_nothing(
    http_server_client: Any,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    seeded: tuple[Run, Path],
    jp_serverapp: Any,
) -> None:
    assert jp_serverapp.authorizer.__class__ is DenyAll
    run, store_dir = seeded
    before = tree_digest(store_dir)
    for path in routes(run.id, run.artifacts[0].id):
        response = await fetch_raw(http_server_client, jp_base_url, path, jp_auth_header)
        assert response.code == 403, path
        body = json.loads(response.body)
        assert body["error"] == "Forbidden" and run.id not in response.body.decode()
    assert tree_digest(store_dir) == before
    assert not jp_serverapp.web_app.settings["trackbook_service"].store_open
