"""Content-addressed blobs: streaming writes, verified reads, tampering, symlinks, fsspec."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pytest

from trackbook.entities import Artifact, Run, new_run_id
from trackbook.exceptions import IntegrityError, UsageError
from trackbook.store import BlobStore, LocalBlobStore, Store, open_blob_store, open_store
from trackbook.store.blobs_fsspec import FsspecBlobStore


@pytest.fixture(params=["local", "memory"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        yield open_blob_store(str(tmp_path / "blobs"))
    else:
        root = f"memory://trackbook-test-{uuid.uuid4().hex}/blobs"
        store = open_blob_store(root)
        yield store
        assert isinstance(store, FsspecBlobStore)
        top = root.removeprefix("memory://").rsplit("/", 1)[0]
        if store.fs.exists(top):
            store.fs.rm(top, recursive=True)


def test_put_and_get_by_content_hash(blobs: BlobStore) -> None:
    data = b"some figure bytes"
    ref = blobs.put_bytes(data)
    assert ref.id == hashlib.sha256(data).hexdigest()
    assert ref.size == len(data)
    assert blobs.get_bytes(ref.id) == data
    assert blobs.exists(ref.id)
    assert blobs.put_bytes(data) == ref  # stored once
    assert list(blobs.iter_ids()) == [ref.id]
    assert blobs.verify(ref.id) == ref


def test_writer_streams_a_joblib_model(blobs: BlobStore) -> None:
    model = {"weights": np.arange(200_000, dtype=np.float64), "name": "m"}
    with blobs.writer() as out:
        joblib.dump(model, out)
    ref = out.ref
    loaded = joblib.load(io.BytesIO(blobs.get_bytes(ref.id)))
    assert np.array_equal(loaded["weights"], model["weights"])
    assert ref.size > 200_000 * 8


def test_writer_discards_everything_on_error(blobs: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), blobs.writer() as out:
        out.write(b"half a model")
        raise RuntimeError("pickling failed")
    assert list(blobs.iter_ids()) == []
    with pytest.raises(UsageError):
        _ = out.ref
    if isinstance(blobs, LocalBlobStore):
        assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


def test_put_file(blobs: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "data.bin"
    source.write_bytes(os.urandom(3 * (1 << 20) + 7))
    ref = blobs.put_file(source)
    assert ref.id == hashlib.sha256(source.read_bytes()).hexdigest()
    assert blobs.get_bytes(ref.id) == source.read_bytes()


@pytest.mark.parametrize(
    "bad", ["../../etc/passwd", "A" * 64, "a" * 63, "a" * 64 + "/x", "", "g" * 64]
)
def test_ids_are_validated_before_any_path_is_built(blobs: BlobStore, bad: str) -> None:
    with pytest.raises(UsageError, match="not a blob id"):
        blobs.get_bytes(bad)
    with pytest.raises(UsageError):
        blobs.exists(bad)


def test_missing_blob_is_named(blobs: BlobStore) -> None:
    missing = "0" * 64
    with pytest.raises(IntegrityError, match=missing):
        blobs.get_bytes(missing)
    assert not blobs.exists(missing)


def _rewrite(blobs: BlobStore, blob_id: str, data: bytes) -> None:
    if isinstance(blobs, LocalBlobStore):
        path = blobs.path(blob_id)
        os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
        path.write_bytes(data)
    else:
        assert isinstance(blobs, FsspecBlobStore)
        blobs.fs.pipe_file(blobs.path(blob_id), data)


@pytest.mark.parametrize("damage", ["tampered", "truncated"])
def test_damaged_blob_fails_every_read(blobs: BlobStore, damage: str) -> None:
    data = b"model weights " * 100
    ref = blobs.put_bytes(data)
    damaged = data.replace(b"weights", b"WEIGHTS", 1) if damage == "tampered" else data[:-10]
    _rewrite(blobs, ref.id, damaged)
    with pytest.raises(IntegrityError, match=ref.id) as caught:
        blobs.get_bytes(ref.id)
    assert caught.value.subject == ref.id
    with pytest.raises(IntegrityError, match=ref.id):
        blobs.verify(ref.id)


def test_local_blobs_are_read_only_files_in_fan_out_dirs(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    ref = blobs.put_bytes(b"x")
    path = tmp_path / "blobs" / "sha256" / ref.id[:2] / ref.id
    assert path.is_file()
    assert not os.access(path, os.W_OK) or os.geteuid() == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_truncated_local_blob_is_healed_by_writing_it_again(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    data = b"0123456789" * 10
    ref = blobs.put_bytes(data)
    _rewrite(blobs, ref.id, data[:5])
    assert blobs.put_bytes(data) == ref
    assert blobs.get_bytes(ref.id) == data


def test_symlink_planted_in_the_blob_dir_is_not_followed(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    blobs.put_bytes(b"something real")  # the store exists and has content
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"private key material")
    forged_id = hashlib.sha256(secret.read_bytes()).hexdigest()  # would even verify if followed
    link = blobs.path(forged_id)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(secret)
    with pytest.raises(IntegrityError, match="symbolic link"):
        blobs.get_bytes(forged_id)
    with pytest.raises(IntegrityError, match="symbolic link"):
        blobs.verify(forged_id)
    assert not blobs.exists(forged_id)


def test_symlinked_fan_out_directory_is_not_followed(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    outside = tmp_path / "outside"
    outside.mkdir()
    content = b"outside content"
    forged_id = hashlib.sha256(content).hexdigest()
    (outside / forged_id).write_bytes(content)
    (tmp_path / "blobs" / "sha256").mkdir(parents=True)
    (tmp_path / "blobs" / "sha256" / forged_id[:2]).symlink_to(outside, target_is_directory=True)
    with pytest.raises(IntegrityError, match="symbolic link"):
        blobs.get_bytes(forged_id)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    with open_store(str(tmp_path / "store")) as opened:
        yield opened


def _run_with_artifact(store: Store, data: bytes) -> str:
    ref = store.blobs.put_bytes(data)
    store.finish_run(
        Run(
            id=new_run_id(),
            status="finished",
            artifacts=[Artifact(ref.id, "m", "model", "application/octet-stream", ref.size)],
        )
    )
    return ref.id


def test_verify_is_ok_on_an_intact_store(store: Store) -> None:
    _run_with_artifact(store, b"a model")
    report = store.verify()
    assert report.ok, report.problems
    assert report.checked["blobs"] == 1
    assert report.checked["database"] == "ok"
    assert report.checked["runs"] == 1


@pytest.mark.parametrize("damage", ["tampered", "truncated", "deleted", "symlink"])
def test_verify_reports_damaged_blobs(store: Store, tmp_path: Path, damage: str) -> None:
    blob_id = _run_with_artifact(store, b"a model that matters")
    assert isinstance(store.blobs, LocalBlobStore)
    path = store.blobs.path(blob_id)
    os.chmod(path, 0o644)
    if damage == "tampered":
        path.write_bytes(b"a model that MATTERS")
    elif damage == "truncated":
        path.write_bytes(b"a model")
    elif damage == "deleted":
        path.unlink()
    else:
        target = tmp_path / "elsewhere"
        target.write_bytes(b"a model that matters")
        path.unlink()
        path.symlink_to(target)
    report = store.verify()
    assert not report.ok
    assert any(blob_id in problem for problem in report.problems), report.problems
