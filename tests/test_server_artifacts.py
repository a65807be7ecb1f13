"""``/trackbook/runs/{id}/artifacts/{id}``: safe headers, verified bytes, and a traversal corpus."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from trackbook.entities import Artifact, Run, new_run_id
from trackbook.store import Store, open_store

CANARY = b"CANARY-7f3a9c: a file outside the store that must never be served"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """The store the server opens (on its first request)."""
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    with open_store(str(tmp_path / "server-store")) as opened:
        yield opened


def artifact(store: Store, data: bytes, name: str, kind: str, media_type: str) -> Artifact:
    ref = store.blobs.put_bytes(data)
    return Artifact(ref.id, name, kind, media_type, ref.size)  # type: ignore[arg-type]


def blob_path(tmp_path: Path, blob_id: str) -> Path:
    return tmp_path / "server-store" / "blobs" / "sha256" / blob_id[:2] / blob_id


@pytest.fixture
def raw_get(
    http_server_client: Any, jp_auth_header: dict[str, str], jp_base_url: str
) -> Callable[..., Any]:
    """GET a path under the base URL exactly as written (no client-side escaping)."""

    async def get(path: str, headers: dict[str, str] | None = None) -> HTTPResponse:
        response: HTTPResponse = await http_server_client.fetch(
            jp_base_url + path, headers={**jp_auth_header, **(headers or {})}, raise_error=False
        )
        return response

    return get


async def test_images_are_inline_and_everything_else_an_attachment(
    store: Store, raw_get: Callable[..., Any]
) -> None:
    png = artifact(store, PNG, "figure-1.png", "figure", "image/png")
    svg = artifact(store, b"<svg onload=alert(1)>", "plot.svg", "figure", "image/svg+xml")
    html = artifact(store, b"<script>alert(1)</script>", "report.html", "report", "text/html")
    model = artifact(
        store,
        b"\x80\x04pickle",
        'evil"\r\nX-Injected: 1;/../m\u00e9.pkl',
        "model",
        "application/octet-stream",
    )
    run = Run(id=new_run_id(), status="finished", artifacts=[png, svg, html, model])
    store.finish_run(run)

    response = await raw_get(f"trackbook/runs/{run.id}/artifacts/{png.id}")
    assert response.code == 200 and response.body == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == 'inline; filename="figure-1.png"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"

    for item, name in ((svg, "plot.svg"), (html, "report.html"), (model, "m_.pkl")):
        response = await raw_get(f"trackbook/runs/{run.id}/artifacts/{item.id}")
        assert response.code == 200
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
        assert "X-Injected" not in response.headers
        assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"

    again = await raw_get(
        f"trackbook/runs/{run.id}/artifacts/{png.id}", {"If-None-Match": f'"{png.id}"'}
    )
    assert again.code == 304 and not again.body


async def test_an_artifact_is_served_only_under_its_own_run(
    store: Store, raw_get: Callable[..., Any]
) -> None:
    png = artifact(store, PNG, "figure.png", "figure", "image/png")
    mine = Run(id=new_run_id(), status="finished", artifacts=[png])
    other = Run(id=new_run_id(), status="finished")
    store.finish_runs([mine, other])
    response = await raw_get(f"trackbook/runs/{other.id}/artifacts/{png.id}")
    assert response.code == 404
    assert json.loads(response.body)["error"] == "Not Found"


async def test_a_tampered_blob_is_a_500_and_nothing_is_served(
    store: Store, raw_get: Callable[..., Any], tmp_path: Path
) -> None:
    secret = b"original model bytes"
    model = artifact(store, secret, "model", "model", "application/octet-stream")
    run = Run(id=new_run_id(), status="finished", artifacts=[model])
    store.finish_run(run)
    path = blob_path(tmp_path, model.id)
    os.chmod(path, 0o644)
    path.write_bytes(b"swapped model bytes!")  # same size, other content
    response = await raw_get(f"trackbook/runs/{run.id}/artifacts/{model.id}")
    assert response.code == 500
    body = json.loads(response.body)
    assert body["error"] == "Internal Server Error"
    assert "failed verification" in body["message"]
    assert b"swapped" not in response.body and str(tmp_path) not in body["message"]


@pytest.fixture
def planted(store: Store, tmp_path: Path) -> tuple[Run, Path, list[str]]:
    """A run, a canary outside the store, and symlinks to it planted in the blob directory.

    One link sits where a recorded artifact's blob was; one has the canary's own
    hash as its id, recorded as an artifact (it would verify if followed); one
    is not recorded at all.
    """
    canary = tmp_path / "canary.txt"
    canary.write_bytes(CANARY)
    decoy = artifact(store, b"decoy bytes", "decoy.png", "figure", "image/png")
    canary_id = hashlib.sha256(CANARY).hexdigest()
    store.blobs.put_bytes(b"placeholder")  # make the blobs row below satisfiable
    as_canary = Artifact(canary_id, "canary.png", "figure", "image/png", len(CANARY))
    run = Run(id=new_run_id(), status="finished", artifacts=[decoy])
    store.finish_run(run)
    with store._write() as conn:  # record the canary's id as if it had been stored
        conn.exec_driver_sql(
            "INSERT INTO blobs (id, size, created_at) VALUES (?, ?, '2024-01-01T00:00:00.000000Z')",
            (canary_id, len(CANARY)),
        )
        conn.exec_driver_sql(
            "INSERT INTO artifacts (run_id, position, blob_id, name, kind, media_type, size) "
            "VALUES (?, 1, ?, 'canary.png', 'figure', 'image/png', ?)",
            (run.id, canary_id, len(CANARY)),
        )
    run.artifacts.append(as_canary)
    unrecorded = "ab" + "c" * 62
    for blob_id in (decoy.id, canary_id, unrecorded):
        link = blob_path(tmp_path, blob_id)
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.exists():
            link.unlink()
        link.symlink_to(canary)
    return run, canary, [decoy.id, canary_id, unrecorded]


TRAVERSALS = [
    "../x",
    "../../../../../../etc/passwd",
    "..%2fx",
    "..%2F..%2F..%2Fcanary.txt",
    "%2e%2e%2fcanary.txt",
    "%252e%252e%252fcanary.txt",
    "..%5cx",
    "..%5c..%5ccanary.txt",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "C:%5cWindows%5cwin.ini",
    "C:/Windows/win.ini",
    "c:..%5c..%5ccanary.txt",
    "file:%2f%2f%2fetc%2fpasswd",
    "file:///etc/passwd",
    "file:..%2f..%2fcanary.txt",
    "//proc/self/root/etc/passwd",
    "%2f%2fproc%2fself%2froot%2fetc%2fpasswd",
    "..%00.png",
    "%00",
    "x%00..%2f..%2fcanary.txt",
    "%23..%2f..%2fcanary.txt",
    "%3f..%2f..%2fcanary.txt",
    "?../../canary.txt",
    "#../../canary.txt",
    ".",
    "..",
    "%2e%2e",
    "~",
    "%7e%2fcanary.txt",
]


async def test_the_traversal_corpus_is_rejected_and_the_canary_never_read(
    planted: tuple[Run, Path, list[str]], raw_get: Callable[..., Any]
) -> None:
    run, canary, links = planted
    decoy_id, canary_id, unrecorded = links
    base = f"trackbook/runs/{run.id}/artifacts/"
    attempts = [base + t for t in TRAVERSALS]
    attempts += [base + f"{decoy_id}{suffix}" for suffix in ("%2f..%2f..%2fcanary.txt", "%00")]
    attempts += [base + canary_id.upper(), base + canary_id[:-1], base + canary_id + "0"]
    attempts += [base + unrecorded]  # a planted link that no run recorded
    attempts += [f"trackbook/runs/{t}/artifacts/{decoy_id}" for t in ("..", "..%2f..%2f", "%2e%2e")]
    attempts += [f"trackbook/runs/{run.id}/..%2f..%2f/artifacts/{decoy_id}"]
    attempts += [f"trackbook/runs/{run.id}/artifacts/{decoy_id}/{t}" for t in ("..", "x")]
    for path in attempts:
        response = await raw_get(path)
        assert CANARY not in (response.body or b""), path
        assert response.code in (400, 404), (path, response.code)
        if response.body:
            assert response.headers["Content-Type"].startswith("application/json"), path

    # Recorded artifacts whose blob was replaced by a link: refused as tampering.
    for blob_id in (decoy_id, canary_id):
        response = await raw_get(base + blob_id)
        assert response.code == 500, blob_id
        assert CANARY not in response.body
        assert "failed verification" in json.loads(response.body)["message"]
    assert canary.read_bytes() == CANARY
