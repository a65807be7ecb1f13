"""The server extension: handshake, authentication, store export."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from trackbook import __version__


async def test_info_handshake(jp_fetch: Any) -> None:
    response = await jp_fetch("trackbook", "info")
    assert response.code == 200
    payload = json.loads(response.body)
    assert payload["version"] == __version__
    assert payload["store"]["kind"] == "sqlite"
    assert payload["schema_revision"]


async def test_info_requires_a_token(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("trackbook", "info", headers={"Authorization": "token wrong"})
    assert caught.value.code == 403


async def test_server_exports_its_store_to_kernels(jp_fetch: Any, tmp_path: Any) -> None:
    await jp_fetch("trackbook", "info")
    assert os.environ["TRACKBOOK_STORE"].startswith(str(tmp_path / "server-store"))
