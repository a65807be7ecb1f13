"""Replays over REST on a real server: real runners, kernels and papermill, a real store.

One kernel session records a tiny tracked run (module fixture); each test
copies that store to where the server opens it. The server is configured
to run one replay at a time and let one wait, so the limits show with two
or three requests.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jupyter_server.auth.authorizer import Authorizer
from test_kernel import execute
from tornado.httpclient import HTTPClientError

from trackbook.entities import Difference, Replay, ReplayFailure, new_run_id, utcnow
from trackbook.server import replay_schemas
from trackbook.store import open_store

pytestmark = pytest.mark.kernel

SPEC = Path(__file__).resolve().parent.parent / "api" / "openapi.yaml"
TRACKED = (
    "%%track tiny\nimport random\nn_draws = 3\n"
    "total = sum(random.random() for _ in range(n_draws))"
)
NASTY = "<img src=x onerror=alert(1)>"
REPLAY_DEADLINE_S = 120.0


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A closed store holding one tracked run from a real kernel: (store dir, run id)."""
    from jupyter_client.manager import KernelManager

    root = tmp_path_factory.mktemp("recorded")
    store = root / ".trackbook"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRACKBOOK_SPOOL_DIR", str(root / "spool"))
        km = KernelManager(kernel_name="python3")
        km.start_kernel(cwd=str(root), env={**os.environ, "TRACKBOOK_STORE": str(store),
                                             "JPY_SESSION_NAME": str(root / "tiny.ipynb")})
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            assert execute(kc, "%load_ext trackbook", "load")[0]["status"] == "ok"
            assert execute(kc, TRACKED, "tiny")[0]["status"] == "ok"
        finally:
            kc.stop_channels()
            # Graceful, as JupyterLab shuts kernels down: the kernel records its last run first.
            km.shutdown_kernel()
        with open_store(str(store)) as opened:
            (run,) = opened.list_runs()
        yield store, run.id


@pytest.fixture
def server_store(
    recorded: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The recorded store, copied to where the test server opens it."""
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    shutil.copytree(recorded[0], tmp_path / "server-store")
    return tmp_path / "server-store"


@pytest.fixture
def run_id(recorded: tuple[Path, str]) -> str:
    return recorded[1]


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], server_store: Path) -> dict[str, Any]:
    """One replay at a time, one waiting (the store is in place before the server starts)."""
    config = json.loads(json.dumps(jp_server_config))
    config["TrackbookApp"].update({"max_concurrent_replays": 1, "max_queued_replays": 1})
    return config


@pytest.fixture
def launcher(jp_serverapp: Any) -> Any:
    return jp_serverapp.web_app.settings["trackbook_replays"]


# -- helpers ------------------------------------------------------------------------------


async def get_json(jp_fetch: Any, *parts: str) -> dict[str, Any]:
    response = await jp_fetch("trackbook", *parts)
    assert response.code == 200 and response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)  # type: ignore[no-any-return]


async def start(jp_fetch: Any, run_id: str, body: Any = None) -> Any:
    text = body if isinstance(body, (str, bytes)) else json.dumps({} if body is None else body)
    return await jp_fetch("trackbook", "runs", run_id, "replays", method="POST", body=text)


async def error_of(call: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HTTPClientError) as caught:
        await call
    response = caught.value.response
    assert response is not None and response.headers["Content-Type"].startswith("application/json")
    return caught.value.code, json.loads(response.body)


async def wait_done(jp_fetch: Any, replay_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Poll the replay until it is done: its last state, and every state seen."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + REPLAY_DEADLINE_S
    while True:
        body = await get_json(jp_fetch, "replays", replay_id)
        seen.append(body)
        if body["status"] == "done":
            return body, seen
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


async def wait_status(jp_fetch: Any, replay_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + REPLAY_DEADLINE_S
    while True:
        body = await get_json(jp_fetch, "replays", replay_id)
        if body["status"] == status:
            return body
        assert body["status"] != "done" and time.monotonic() < deadline, body
        await asyncio.sleep(0.05)


async def wait_reaped(launcher: Any) -> None:
    deadline = time.monotonic() + 30
    while launcher.running or launcher.waiting:
        assert time.monotonic() < deadline, "a replay process was never reaped"
        await asyncio.sleep(0.05)


def replays_in(store_dir: Path) -> list[Replay]:
    with open_store(str(store_dir), create=False) as store:
        return store.list_replays(limit=1000)


def process_is_gone(pid: int) -> bool:
    """True once the process is reaped (a zombie still answers signal 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# -- replays that run ---------------------------------------------------------------------


async def test_replays_run_in_the_background_one_at_a_time_and_reproduce(
    jp_fetch: Any, jp_base_url: str, run_id: str, server_store: Path, launcher: Any
) -> None:
    response = await start(jp_fetch, run_id)
    second = json.loads((await start(jp_fetch, run_id, {"rtol": 0.01})).body)["replay_id"]

    assert response.code == 202
    started = json.loads(response.body)
    replay_id = started["replay_id"]
    assert started == {"replay_id": replay_id, "run_id": run_id, "status": "queued"}
    assert response.headers["Location"] == f"{jp_base_url}trackbook/replays/{replay_id}"
    # One replay at a time: the second waits for the first.
    assert (launcher.running, launcher.waiting) == (1, 1)
    assert (await get_json(jp_fetch, "replays", second))["status"] == "queued"
    final, seen = await wait_done(jp_fetch, replay_id)
    # The POST answered before the replay ran: its progress was seen over GET.
    assert seen[0]["status"] in ("queued", "running")
    assert any(s["status"] == "running" and s["message"] for s in seen), seen
    assert final["verdict"] == "reproduced", final
    assert final["differences"] == [] and final["failure"] is None
    assert final["mode"] == "history" and final["started_at"] and final["ended_at"]
    assert len(final["notebook_artifact"]) == 64
    replayed = await get_json(jp_fetch, "runs", final["replay_run_id"])
    assert replayed["replay_of"] == run_id and replayed["name"] == "tiny"

    done_second, _ = await wait_done(jp_fetch, second)
    assert done_second["verdict"] == "reproduced" and done_second["rtol"] == 0.01
    assert done_second["started_at"] >= final["ended_at"]  # one after the other
    listed = await get_json(jp_fetch, "runs", run_id, "replays")
    assert listed == {"replays": [done_second, final]}  # newest first
    runner_pids = [r.pid for r in replays_in(server_store)]
    assert None not in runner_pids and os.getpid() not in runner_pids
    await wait_reaped(launcher)
    assert all(process_is_gone(pid) for pid in runner_pids if pid is not None)

    report = await jp_fetch("trackbook", "replays", replay_id, "report")
    assert report.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert report.headers["Content-Security-Policy"] == (
        "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "frame-ancestors 'self'"
    )
    assert report.headers["X-Content-Type-Options"] == "nosniff"
    assert report.headers["Content-Disposition"].startswith("inline; ")
    page = report.body.decode()
    assert run_id in page and replay_id in page and "<script" not in page.lower()


async def test_a_killed_replay_process_leaves_a_failed_replay_not_an_open_one(
    jp_fetch: Any, run_id: str, server_store: Path, launcher: Any
) -> None:
    replay_id = json.loads((await start(jp_fetch, run_id)).body)["replay_id"]
    await wait_status(jp_fetch, replay_id, "running")
    runner_pid = replays_in(server_store)[0].pid
    assert runner_pid is not None

    os.killpg(runner_pid, signal.SIGKILL)

    final, _ = await wait_done(jp_fetch, replay_id)
    assert final["verdict"] == "failed"
    assert final["failure"]["ename"] == "ReplayProcessDied"
    assert "SIGKILL" in final["failure"]["evalue"]
    await wait_reaped(launcher)
    assert process_is_gone(runner_pid)


async def test_a_full_queue_is_429_and_stopping_closes_waiting_and_running_replays(
    jp_fetch: Any, run_id: str, server_store: Path, launcher: Any
) -> None:
    running = json.loads((await start(jp_fetch, run_id)).body)["replay_id"]
    waiting = json.loads((await start(jp_fetch, run_id)).body)["replay_id"]
    # One runs, one waits: a third has no place and is not stored.
    code, body = await error_of(start(jp_fetch, run_id))
    assert code == 429 and "try again" in body["message"], body
    assert {r.id for r in replays_in(server_store)} == {running, waiting}
    await wait_status(jp_fetch, running, "running")

    await launcher.stop()

    by_id = {r.id: r for r in replays_in(server_store)}
    for replay_id in (running, waiting):
        replay = by_id[replay_id]
        assert replay.status == "done" and replay.verdict == "failed", replay
        assert replay.failure is not None and replay.failure.ename == "ReplayStopped"
    assert "before the replay started" in (by_id[waiting].message or "")
    assert (launcher.running, launcher.waiting) == (0, 0)
    code, body = await error_of(start(jp_fetch, run_id))
    assert code == 429 and "stopping" in body["message"]


# -- requests that start nothing ----------------------------------------------------------

BAD_BODIES = [
    ("{not json", "body:"),
    ("[]", "body:"),
    ('{"rtol": NaN}', "body:"),
    ('{"mode": "both"}', "mode:"),
    ('{"mode": null}', "mode:"),
    ('{"rtol": -1}', "rtol:"),
    ('{"rtol": "0.1"}', "rtol:"),
    ('{"atol": true}', "atol:"),
    ('{"atol": null}', "atol:"),
    ('{"timeout": 0}', "timeout:"),
    ('{"timeout": 1e9}', "timeout:"),
    ('{"timeout": 1e999999}', "timeout:"),
    ('{"rtol": 1e999}', "rtol:"),
    ('{"atol": 1' + "0" * 400 + "}", "atol:"),
    ('{"overrides": [1]}', "overrides:"),
    ('{"overrides": {"not a name": 1}}', "overrides:"),
    ('{"overrides": {"x": {"a": [1, 2, null]}}, "seed": 1}', "seed:"),
]


async def test_bad_requests_are_400_and_start_nothing(
    jp_fetch: Any, run_id: str, server_store: Path, launcher: Any
) -> None:
    for body, field in BAD_BODIES:
        code, error = await error_of(start(jp_fetch, run_id, body))
        assert (code, error["error"]) == (400, "Bad Request"), body
        assert error["message"].startswith(field), (body, error)
    # The run has no saved notebook: notebook mode is refused now, not failed later.
    code, error = await error_of(start(jp_fetch, run_id, {"mode": "notebook"}))
    assert code == 400 and "use --mode history" in error["message"]
    code, error = await error_of(start(jp_fetch, "not-a-run", {}))
    assert code == 400 and error["message"].startswith("run_id:")
    for limit in ("0", "501", "x"):
        listing = jp_fetch("trackbook", "runs", run_id, "replays", params={"limit": limit})
        code, error = await error_of(listing)
        assert code == 400 and error["message"].startswith("limit:")
    code, error = await error_of(jp_fetch("trackbook", "replays", "nope"))
    assert code == 400 and error["message"].startswith("replay_id:")
    assert replays_in(server_store) == [] and (launcher.running, launcher.waiting) == (0, 0)


async def test_unknown_runs_and_replays_are_404(jp_fetch: Any, server_store: Path) -> None:
    unknown = new_run_id()
    for call in (
        start(jp_fetch, unknown),
        jp_fetch("trackbook", "runs", unknown, "replays"),
        jp_fetch("trackbook", "replays", unknown),
        jp_fetch("trackbook", "replays", unknown, "report"),
    ):
        code, error = await error_of(call)
        assert (code, error["error"]) == (404, "Not Found")
    assert replays_in(server_store) == []


async def test_stored_replays_are_described_as_data_and_their_report_served(
    jp_fetch: Any, run_id: str, server_store: Path
) -> None:
    """Replays written straight into the store: what GET shows, and the stored report as is."""
    with open_store(str(server_store), create=False) as store:
        report = store.blobs.put_bytes(b"<!doctype html><title>stored report</title>")
        replay = Replay(
            id=new_run_id(), run_id=run_id, status="done", verdict="differs",
            requested_at=utcnow(), ended_at=utcnow(), report_artifact=report.id,
            differences=[Difference("metric", NASTY, 1.5, NASTY, "unseeded_randomness", NASTY)],
            failure=ReplayFailure(2, "ValueError", NASTY),
        )
        store.create_replay(replay)
        pending = Replay(id=new_run_id(), run_id=run_id)
        store.create_replay(pending)

    described = await get_json(jp_fetch, "replays", replay.id.lower())
    assert described["differences"] == [
        {"facet": "metric", "key": NASTY, "original": 1.5, "replayed": NASTY,
         "cause": "unseeded_randomness", "explanation": NASTY}
    ]
    assert described["failure"] == {"cell_index": 2, "ename": "ValueError", "evalue": NASTY}
    assert "host" not in described and "pid" not in described
    stored = await jp_fetch("trackbook", "replays", replay.id, "report")
    assert stored.body == b"<!doctype html><title>stored report</title>"
    # Without a stored report, one is built now, with every string escaped.
    built = await jp_fetch("trackbook", "replays", pending.id, "report")
    page = built.body.decode()
    assert pending.id in page and NASTY not in page and "&lt;img src=x" in page
    assert built.headers["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    listed = await get_json(jp_fetch, "runs", run_id, "replays")
    assert [r["id"] for r in listed["replays"]] == [pending.id, replay.id]
    limited = await jp_fetch("trackbook", "runs", run_id, "replays", params={"limit": "1"})
    assert [r["id"] for r in json.loads(limited.body)["replays"]] == [pending.id]


# -- authentication and authorization -----------------------------------------------------


def new_routes(run_id: str, replay_id: str) -> list[tuple[str, str]]:
    return [
        ("POST", f"trackbook/runs/{run_id}/replays"),
        ("GET", f"trackbook/runs/{run_id}/replays"),
        ("GET", f"trackbook/replays/{replay_id}"),
        ("GET", f"trackbook/replays/{replay_id}/report"),
    ]


async def fetch_raw(client: Any, url: str, method: str, headers: dict[str, str]) -> Any:
    body = "{}" if method == "POST" else None
    return await client.fetch(url, method=method, body=body, headers=headers, raise_error=False)


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "token wrong"}], ids=["no token", "wrong token"]
)
async def test_every_replay_route_refuses_a_missing_or_wrong_token(
    http_server_client: Any,
    jp_base_url: str,
    run_id: str,
    server_store: Path,
    headers: dict[str, str],
) -> None:
    for method, path in new_routes(run_id, new_run_id()):
        response = await fetch_raw(http_server_client, jp_base_url + path, method, headers)
        assert response.code == 403, (method, path)
    assert replays_in(server_store) == []


class DenyAll(Authorizer):
    """Authenticated users may do nothing."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return False


class NoKernels(Authorizer):
    """Everything but starting kernels."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != "kernels"


class TestAuthorizer:
    """Servers whose authorizer refuses (the class is given per test)."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any], request: Any) -> dict[str, Any]:
        config = json.loads(json.dumps(jp_server_config))
        config["ServerApp"]["authorizer_class"] = request.param
        return config

    @pytest.mark.parametrize("jp_server_config", [DenyAll], indirect=True)
    async def test_a_deny_all_authorizer_gets_403_and_no_replay(
        self, http_server_client: Any, jp_base_url: str, jp_auth_header: dict[str, str],
        run_id: str, server_store: Path, jp_serverapp: Any,
    ) -> None:
        for method, path in new_routes(run_id, new_run_id()):
            url = jp_base_url + path
            response = await fetch_raw(http_server_client, url, method, jp_auth_header)
            assert response.code == 403, (method, path)
            assert json.loads(response.body)["error"] == "Forbidden"
        assert replays_in(server_store) == []
        assert not jp_serverapp.web_app.settings["trackbook_service"].store_open

    @pytest.mark.parametrize("jp_server_config", [NoKernels], indirect=True)
    async def test_starting_a_replay_needs_the_right_to_start_kernels(
        self, http_server_client: Any, jp_base_url: str, jp_auth_header: dict[str, str],
        run_id: str, server_store: Path,
    ) -> None:
        url = f"{jp_base_url}trackbook/runs/{run_id}/replays"
        response = await fetch_raw(http_server_client, url, "POST", jp_auth_header)
        assert response.code == 403 and "start kernels" in json.loads(response.body)["message"]
        listed = await fetch_raw(http_server_client, url, "GET", jp_auth_header)
        assert listed.code == 200 and json.loads(listed.body) == {"replays": []}
        assert replays_in(server_store) == []


# -- the OpenAPI document ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "component"),
    [
        (replay_schemas.StartedReplay, "StartedReplay"),
        (replay_schemas.DescribeReplay, "Replay"),
        (replay_schemas.DescribeDifference, "Difference"),
        (replay_schemas.DescribeReplayFailure, "ReplayFailure"),
        (replay_schemas.ListReplaysResponse, "ListReplaysResponse"),
    ],
)
def test_replay_models_and_the_spec_name_the_same_fields(model: Any, component: str) -> None:
    spec = yaml.safe_load(SPEC.read_text())["components"]["schemas"][component]
    fields = {f.alias or name for name, f in model.model_fields.items()}
    assert fields == set(spec["properties"]) == set(spec["required"])


def test_the_request_body_and_the_spec_name_the_same_fields() -> None:
    spec = yaml.safe_load(SPEC.read_text())["components"]["schemas"]["CreateReplay"]
    assert set(replay_schemas.CreateReplay.model_fields) == set(spec["properties"])
    assert spec["properties"]["timeout"]["maximum"] == replay_schemas.MAX_REPLAY_TIMEOUT_S
    assert spec["additionalProperties"] is False and "required" not in spec
