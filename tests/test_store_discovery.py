"""Which store a process opens: argument, TRACKBOOK_STORE, .trackbook/ upwards, default."""

from __future__ import annotations

from pathlib import Path

import pytest

import trackbook.store as store_pkg
from trackbook.exceptions import OptionalDependencyError, StoreNotFoundError, UsageError
from trackbook.store import open_store, resolve_store_url


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRACKBOOK_STORE", raising=False)
    monkeypatch.delenv("TRACKBOOK_BLOBS", raising=False)
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))


def test_explicit_argument_wins_over_env_and_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".trackbook").mkdir()
    monkeypatch.setenv("TRACKBOOK_STORE", str(tmp_path / "from-env"))
    location = resolve_store_url(str(tmp_path / "explicit"), cwd=tmp_path)
    assert location.db_url == f"sqlite:///{tmp_path / 'explicit' / 'trackbook.db'}"
    assert location.blobs_url == str(tmp_path / "explicit" / "blobs")
    assert location.root == tmp_path / "explicit"
    assert location.kind == "sqlite"
    assert location.source == "argument"


def test_env_wins_over_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".trackbook").mkdir()
    monkeypatch.setenv("TRACKBOOK_STORE", "relative-store")
    location = resolve_store_url(cwd=tmp_path)
    assert location.root == tmp_path / "relative-store"
    assert location.source == "env"
    assert location.export_value == str(tmp_path / "relative-store")


def test_trackbook_dir_is_found_walking_up(tmp_path: Path) -> None:
    (tmp_path / ".trackbook").mkdir()
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    location = resolve_store_url(cwd=deep)
    assert location.root == tmp_path / ".trackbook"
    assert location.source == "found"


def test_default_is_created_in_cwd_on_open(tmp_path: Path) -> None:
    location = resolve_store_url(cwd=tmp_path)
    assert location.root == tmp_path / ".trackbook"
    assert location.source == "default"
    assert not (tmp_path / ".trackbook").exists()  # resolving creates nothing
    with open_store(cwd=tmp_path) as store:
        assert store.list_runs() == []
    assert (tmp_path / ".trackbook" / "trackbook.db").is_file()
    assert (tmp_path / ".trackbook" / "blobs").is_dir()


def test_missing_store_without_create_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match="no trackbook store"):
        open_store(str(tmp_path / "nothing-here"), create=False)
    assert not (tmp_path / "nothing-here").exists()


def test_sqlite_url_keeps_blobs_beside_the_database(tmp_path: Path) -> None:
    location = resolve_store_url(f"sqlite:///{tmp_path}/data/runs.db")
    assert location.db_path == tmp_path / "data" / "runs.db"
    assert location.blobs_url == str(tmp_path / "data" / "blobs")
    assert location.root is None


def test_relative_sqlite_url_resolves_against_cwd(tmp_path: Path) -> None:
    location = resolve_store_url("sqlite:///sub/x.db", cwd=tmp_path)
    assert location.db_path == tmp_path / "sub" / "x.db"


def test_trackbook_blobs_overrides_blob_location_of_url_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKBOOK_BLOBS", "memory://team-blobs")
    location = resolve_store_url(f"sqlite:///{tmp_path}/x.db")
    assert location.blobs_url == "memory://team-blobs"
    assert not location.blobs_are_local
    # A directory store is self-contained: its blobs stay inside it.
    assert resolve_store_url(str(tmp_path / "dir")).blobs_url == str(tmp_path / "dir" / "blobs")


def test_path_to_an_sqlite_file_is_a_file_store(tmp_path: Path) -> None:
    location = resolve_store_url(str(tmp_path / "runs.sqlite"))
    assert location.db_path == tmp_path / "runs.sqlite"
    assert location.blobs_url == str(tmp_path / "blobs")


def test_postgresql_requires_a_blob_location(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="TRACKBOOK_BLOBS") as caught:
        resolve_store_url("postgresql://alice:s3cret@db.example:5432/runs")
    assert "s3cret" not in str(caught.value)
    monkeypatch.setenv("TRACKBOOK_BLOBS", "s3://bucket/blobs")
    location = resolve_store_url("postgresql://alice:s3cret@db.example:5432/runs")
    assert location.kind == "postgresql"
    assert location.db_url == "postgresql+psycopg://alice:s3cret@db.example:5432/runs"
    assert location.display_url == "postgresql+psycopg://alice:***@db.example:5432/runs"
    assert location.export_value == "postgresql://alice:s3cret@db.example:5432/runs"


def test_postgresql_without_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setenv("TRACKBOOK_BLOBS", "memory://pg-blobs")
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "psycopg" else real_find_spec(name, *a),
    )
    with pytest.raises(OptionalDependencyError, match=r"trackbook\[postgres\]"):
        open_store("postgresql://u:p@127.0.0.1:1/x")


def test_unsupported_scheme_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unsupported store URL"):
        resolve_store_url("mysql://host/db")


def test_public_names_are_exported() -> None:
    for name in store_pkg.__all__:
        assert hasattr(store_pkg, name), name
    assert {
        "open_store",
        "Store",
        "StoreLocation",
        "resolve_store_url",
        "BlobStore",
        "VerifyReport",
    } <= set(store_pkg.__all__)
