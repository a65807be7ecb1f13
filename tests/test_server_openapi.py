"""``api/openapi.yaml`` against a live ``jupyter server`` process: schemathesis, and drift checks.

A real server is started in a subprocess with a token and a seeded store;
schemathesis generates requests from the spec (a bounded number per
operation) and checks that no response is a 5xx and every response matches
the spec (status codes, content types, headers, bodies).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from test_store_query_data import add_runs, make_runs

from trackbook.entities import Artifact, Run
from trackbook.server import schemas
from trackbook.store import open_store

SPEC = Path(__file__).resolve().parent.parent / "api" / "openapi.yaml"
EXAMPLE_RUN = "01HZY5Q3J9C8V1W2X3Y4Z5A6B7"
EXAMPLE_MODEL = b"trackbook example model\n"
MAX_EXAMPLES = 25


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(path: Path) -> None:
    """Runs of every shape, and the run, model and artifact the spec's examples name."""
    with open_store(str(path)) as store:
        add_runs(store, make_runs(80))
        model = store.blobs.put_bytes(EXAMPLE_MODEL)
        figure = store.blobs.put_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
        store.finish_run(
            Run(
                id=EXAMPLE_RUN,
                name="example",
                status="finished",
                notebook="example.ipynb",
                params={"lr": 0.1},
                metrics={"accuracy": 0.9},
                tags={"team": "vision"},
                artifacts=[
                    Artifact(model.id, "clf", "model", "application/octet-stream", model.size),
                    Artifact(figure.id, "figure-1.png", "figure", "image/png", figure.size),
                ],
            )
        )


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``jupyter server`` in a subprocess: (base URL, token)."""
    root = tmp_path_factory.mktemp("live")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(root / "config"),
        "JUPYTER_DATA_DIR": str(root / "data"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "TRACKBOOK_SPOOL_DIR": str(root / "spool"),
    }
    env.pop("TRACKBOOK_STORE", None)
    os.environ["TRACKBOOK_SPOOL_DIR"] = env["TRACKBOOK_SPOOL_DIR"]
    try:
        seed(root / "store")
    finally:
        del os.environ["TRACKBOOK_SPOOL_DIR"]
    token, port = secrets.token_hex(16), free_port()
    (root / "notebooks").mkdir()
    (root / "config").mkdir()
    (root / "config" / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"trackbook": True}}})
    )
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        f"--ServerApp.port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.open_browser=False",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root / 'notebooks'}",
        "--ServerApp.allow_unauthenticated_access=False",
        "--ServerApp.allow_root=True",
        f"--TrackbookApp.store={root / 'store'}",
    ]
    log = open(root / "server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = requests.get(
                    f"{url}/trackbook/info", headers={"Authorization": f"token {token}"}, timeout=2
                )
                if ready.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((root / "server.log").read_text()[-3000:])
            time.sleep(0.2)
        yield url, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        server_log = (root / "server.log").read_text()
        assert "Traceback" not in server_log, server_log[-3000:]


# Loaded from the file at collection; the live server's URL is given per call.
# (schemathesis.pytest.from_fixture would defer loading, but does not work with pytest 9.)
schema = schemathesis.openapi.from_path(SPEC)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_live_api_matches_its_spec(case: Any, live_server: tuple[str, str]) -> None:
    url, token = live_server
    case.call_and_validate(
        base_url=url,
        headers={"Authorization": f"token {token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
            negative_data_rejection,
        ],
    )


def test_spec_examples_name_the_seeded_artifact() -> None:
    spec = yaml.safe_load(SPEC.read_text())
    artifact = spec["paths"]["/trackbook/runs/{run_id}/artifacts/{artifact_id}"]["parameters"][1]
    assert artifact["example"] == hashlib.sha256(EXAMPLE_MODEL).hexdigest()
    assert spec["components"]["parameters"]["RunId"]["example"] == EXAMPLE_RUN


@pytest.mark.parametrize(
    ("model", "component"),
    [
        (schemas.ErrorResponse, "ErrorResponse"),
        (schemas.DescribeInfo, "DescribeInfo"),
        (schemas.DescribeRunSummary, "RunSummary"),
        (schemas.ListRunsResponse, "ListRunsResponse"),
        (schemas.DescribeRun, "DescribeRun"),
        (schemas.DescribeEnvironment, "Environment"),
        (schemas.DescribeInput, "Input"),
        (schemas.DescribeArtifact, "Artifact"),
        (schemas.LatestModelVersion, "ModelVersionRef"),
        (schemas.DescribeModelSummary, "ModelSummary"),
        (schemas.ListModelsResponse, "ListModelsResponse"),
        (schemas.DescribeModelVersion, "ModelVersion"),
        (schemas.DescribeModel, "DescribeModel"),
    ],
)
def test_response_models_and_the_spec_name_the_same_fields(model: Any, component: str) -> None:
    spec = yaml.safe_load(SPEC.read_text())["components"]["schemas"][component]
    fields = {f.alias or name for name, f in model.model_fields.items()}
    assert fields == set(spec["properties"])
    assert set(spec["required"]) == fields
