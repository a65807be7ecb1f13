"""Data fingerprints, profiles and input records (capture/fingerprint, profile, inputs)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import tracemalloc

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from trackbook.capture.fingerprint import fingerprint, fingerprint_file
from trackbook.capture.inputs import FileReadRecorder, describe_file, describe_input
from trackbook.capture.profile import SAMPLE_ROWS, profile


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 2_000
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.integers(0, 100, size=n),
            "city": pd.array(rng.choice(["Oslo", "Lima", "Pune", None], size=n), dtype="str"),
            "when": pd.date_range("2024-01-01", periods=n, freq="min", tz="UTC"),
            "grade": pd.Categorical(rng.choice(["a", "b", "c"], size=n)),
            "count": pd.array(
                np.where(rng.random(n) < 0.1, None, rng.integers(0, 9, n)), dtype="Int64"
            ),
            "misc": np.array([("t", i) if i % 3 else i for i in range(n)], dtype=object),
        }
    )


def _arrow_series(*chunks: pa.Array) -> pd.Series:
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array(list(chunks))))


# --- fingerprint ----------------------------------------------------------------


def test_fingerprint_format_and_stability(frame: pd.DataFrame) -> None:
    digest = fingerprint(frame)
    assert digest is not None and digest.startswith("xxh3_128:")
    assert len(digest) == len("xxh3_128:") + 32
    assert fingerprint(frame) == digest
    assert fingerprint(frame.copy(deep=True)) == digest


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.assign(x=f["x"].where(f.index != 17, f["x"] + 1e-12)),
        lambda f: f.rename(columns={"x": "y"}),
        lambda f: f.assign(k=f["k"].astype("int32")),
        lambda f: f[["k", "x", "city", "when", "grade", "count", "misc"]],
        lambda f: f.set_axis(f.index + 1, axis=0),
        lambda f: f.iloc[:-1],
        lambda f: f.assign(city=f["city"].str.replace("Oslo", "Osl0")),
        lambda f: f.assign(grade=f["grade"].cat.rename_categories({"a": "A"})),
        lambda f: f.assign(count=f["count"].fillna(0)),
        lambda f: f.assign(misc=f["misc"].where(f.index != 5, "other")),
        lambda f: f.assign(when=f["when"].dt.tz_convert("Europe/Oslo")),
    ],
    ids=[
        "value",
        "column-name",
        "dtype",
        "column-order",
        "index",
        "shape",
        "string",
        "categories",
        "nulls",
        "object",
        "timezone",
    ],
)
def test_any_change_changes_the_fingerprint(frame: pd.DataFrame, change) -> None:
    assert fingerprint(change(frame)) != fingerprint(frame)


def test_strided_and_contiguous_layouts_hash_alike() -> None:
    values = np.random.default_rng(1).random((5_000, 6))
    strided = pd.DataFrame(values, copy=False)  # columns are views with a row stride
    contiguous = pd.DataFrame(values)
    assert not strided[0].to_numpy().flags.c_contiguous
    assert contiguous[0].to_numpy().flags.c_contiguous
    assert fingerprint(strided) == fingerprint(contiguous)
    assert fingerprint(pd.DataFrame(values.T.copy()).T) == fingerprint(contiguous)
    changed = values.copy()
    changed[4_321, 4] += 1
    assert fingerprint(pd.DataFrame(changed, copy=False)) != fingerprint(contiguous)


def test_range_index_hashes_like_its_values() -> None:
    data = {"a": [1.0, 2.0, 3.0]}
    assert fingerprint(pd.DataFrame(data)) == fingerprint(
        pd.DataFrame(data, index=pd.Index([0, 1, 2], dtype="int64"))
    )
    assert fingerprint(pd.DataFrame(data)) != fingerprint(
        pd.DataFrame(data, index=pd.Index([0, 1, 3], dtype="int64"))
    )


def test_arrow_strings_ignore_chunking_and_slicing() -> None:
    values = ["a", "bb", None, "dddd", "", "ééé"] * 300
    whole = _arrow_series(pa.array(values, pa.large_string()))
    halves = _arrow_series(
        pa.array(values[:700], pa.large_string()), pa.array(values[700:], pa.large_string())
    )
    padded = pa.array(["junk"] * 13 + values + ["tail"], pa.large_string())
    sliced = _arrow_series(padded.slice(13, len(values)))
    assert fingerprint(whole) == fingerprint(halves) == fingerprint(sliced)


def test_arrow_strings_value_boundaries_and_nulls_matter() -> None:
    base = fingerprint(_arrow_series(pa.array(["ab", "c"])))
    assert fingerprint(_arrow_series(pa.array(["a", "bc"]))) != base
    assert fingerprint(_arrow_series(pa.array(["", None]))) != fingerprint(
        _arrow_series(pa.array(["", ""]))
    )


def test_arrow_bytes_under_null_slots_do_not_count() -> None:
    clean = pa.array(["x", None, "z"])
    # Same logical content, but the null slot spans two garbage bytes.
    offsets = pa.py_buffer(np.array([0, 1, 3, 4], dtype=np.int32).tobytes())
    data = pa.py_buffer(b"x??z")
    validity = pa.py_buffer(bytes([0b101]))
    dirty = pa.Array.from_buffers(pa.string(), 3, [validity, offsets, data], null_count=1)
    assert dirty.to_pylist() == clean.to_pylist()
    assert fingerprint(_arrow_series(dirty)) == fingerprint(_arrow_series(clean))


def test_arrow_numbers_and_booleans_ignore_slicing() -> None:
    ints = pa.array([5, None, 7, 8] * 100, pa.int64())
    shifted = pa.array([9, 9, 9] + [5, None, 7, 8] * 100, pa.int64()).slice(3)
    assert fingerprint(_arrow_series(ints)) == fingerprint(_arrow_series(shifted))
    flags = pa.array([True, None, False] * 100)
    assert fingerprint(_arrow_series(flags)) == fingerprint(
        _arrow_series(flags.slice(0, 151), flags.slice(151))
    )
    assert fingerprint(_arrow_series(flags)) != fingerprint(
        _arrow_series(pa.array([True, None, True] * 100))
    )


def test_masked_values_under_the_mask_do_not_count() -> None:
    left = pd.arrays.IntegerArray(np.array([1, 2, 3]), np.array([False, True, False]))
    right = pd.arrays.IntegerArray(np.array([1, 99, 3]), np.array([False, True, False]))
    assert fingerprint(pd.Series(left)) == fingerprint(pd.Series(right))
    assert fingerprint(pd.Series(left)) != fingerprint(
        pd.Series(pd.array([1, 2, 3], dtype="Int64"))
    )


def test_series_index_and_arrays() -> None:
    series = pd.Series([1.5, 2.5], name="v")
    assert fingerprint(series) != fingerprint(series.rename("w"))
    assert fingerprint(pd.Index(["a", "b"])) != fingerprint(pd.Index(["a", "c"]))
    grid = np.arange(24, dtype=np.float32).reshape(4, 6)
    assert fingerprint(grid[:, ::2]) == fingerprint(np.ascontiguousarray(grid[:, ::2]))
    assert fingerprint(grid.T) == fingerprint(np.ascontiguousarray(grid.T))
    assert fingerprint(grid) != fingerprint(grid.reshape(6, 4))
    assert fingerprint(grid) != fingerprint(grid.astype(np.float64))
    assert fingerprint(np.array(["a", 1], dtype=object)) != fingerprint(
        np.array(["a", 2], dtype=object)
    )
    assert fingerprint(np.float64(1.0)) is None
    assert fingerprint([1, 2]) is None
    assert fingerprint({"a": 1}) is None


def test_multiindex_frames() -> None:
    index = pd.MultiIndex.from_product([["a", "b"], [1, 2]], names=["l", "n"])
    frame = pd.DataFrame({"v": [1, 2, 3, 4]}, index=index)
    assert fingerprint(frame) == fingerprint(frame.copy())
    assert fingerprint(frame) != fingerprint(frame.rename_axis(["l", "m"]))
    assert fingerprint(frame) != fingerprint(frame.iloc[::-1])


def test_fingerprint_does_not_copy_the_data() -> None:
    big = pd.DataFrame(np.random.default_rng(0).random((1_000_000, 16)))  # 128 MB
    tracemalloc.start()
    try:
        fingerprint(big)
        strided = pd.DataFrame(big.to_numpy(), copy=False)
        tracemalloc.reset_peak()
        fingerprint(strided)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20


def test_fingerprint_file_is_sha256_and_sees_rewrites(tmp_path) -> None:
    path = tmp_path / "data.bin"
    payload = os.urandom(3 << 20) + b"end"
    path.write_bytes(payload)
    assert fingerprint_file(path) == "sha256:" + hashlib.sha256(payload).hexdigest()
    path.write_bytes(payload[:-3] + b"END")  # same size, same inode
    assert fingerprint_file(path) == "sha256:" + hashlib.sha256(payload[:-3] + b"END").hexdigest()
    link = tmp_path / "link.bin"
    link.symlink_to(path)
    assert fingerprint_file(link) == fingerprint_file(path)


def test_settled_files_are_hashed_once(tmp_path, monkeypatch) -> None:
    path = tmp_path / "old.csv"
    path.write_text("a,b\n1,2\n")
    old = 1_600_000_000_000_000_000
    os.utime(path, ns=(old, old))
    first = fingerprint_file(path)
    opened = []
    real_open = open

    def spying_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spying_open)
    assert fingerprint_file(path) == first
    assert opened == []
    os.utime(path, ns=(old + 1, old + 1))
    fingerprint_file(path)
    assert opened


# --- profile --------------------------------------------------------------------


def test_profile_is_small_json_with_exact_stats_on_small_frames(frame: pd.DataFrame) -> None:
    summary = profile(frame)
    assert summary is not None
    json.dumps(summary, allow_nan=False)
    assert summary["rows"] == summary["sample_rows"] == len(frame)
    x = summary["columns"]["x"]
    assert x["min"] == pytest.approx(frame["x"].min())
    assert x["max"] == pytest.approx(frame["x"].max())
    assert x["mean"] == pytest.approx(frame["x"].mean())
    assert x["std"] == pytest.approx(frame["x"].std())
    assert x["quantiles"]["p50"] == pytest.approx(frame["x"].median())
    assert x["quantiles"]["p5"] == pytest.approx(frame["x"].quantile(0.05))
    city = summary["columns"]["city"]
    assert city["null_count"] == int(frame["city"].isna().sum())
    assert city["n_unique"] == 3
    top = frame["city"].value_counts()
    assert city["top"][0] == [top.index[0], int(top.iloc[0])]
    assert summary["columns"]["grade"]["n_unique"] == 3
    count = summary["columns"]["count"]
    assert count["null_count"] == int(frame["count"].isna().sum()) and count["null_count_exact"]
    assert summary["columns"]["when"]["min"].startswith("2024-01-01")
    assert summary["columns"]["misc"]["top"]


def test_profile_samples_large_frames_deterministically() -> None:
    rows = 3 * SAMPLE_ROWS
    rng = np.random.default_rng(3)
    x = rng.normal(loc=10, size=rows)
    x[rng.random(rows) < 0.2] = np.nan
    frame = pd.DataFrame({"x": x, "s": pd.array(rng.choice(["p", "q"], rows), dtype="str")})
    first = profile(frame)
    assert first == profile(frame.copy())
    assert first is not None and first["sample_rows"] == SAMPLE_ROWS and first["rows"] == rows
    column = first["columns"]["x"]
    assert column["null_count_exact"] is False
    assert column["null_count"] == pytest.approx(np.isnan(x).sum(), rel=0.05)
    assert column["mean"] == pytest.approx(10, abs=0.05)
    assert first["columns"]["s"]["null_count_exact"] is True
    assert sum(count for _, count in first["columns"]["s"]["top"]) == SAMPLE_ROWS


def test_profile_series_arrays_and_others() -> None:
    series = profile(pd.Series([1, 2, 3, None], dtype="float64", name="v"))
    assert series is not None and series["null_count"] == 1 and series["max"] == 3.0
    flags = profile(pd.Series([True, False, True]))
    assert flags is not None and flags["true_count"] == 2
    infinite = profile(pd.Series([1.0, np.inf]))
    assert infinite is not None and infinite["max"] == "inf"
    json.dumps(infinite, allow_nan=False)
    array = profile(np.arange(12, dtype=np.int16).reshape(3, 4)[:, ::2])
    assert array == {
        "dtype": "<i2",
        "shape": [3, 2],
        "sample_size": 6,
        "min": 0.0,
        "max": 10.0,
        "mean": 5.0,
    }
    assert profile(np.array(["a"], dtype=object)) == {"dtype": "|O", "shape": [1]}
    assert profile("text") is None


# --- input records --------------------------------------------------------------


def test_describe_input_kinds(frame: pd.DataFrame) -> None:
    record = describe_input("df", frame)
    assert record is not None
    assert (record.name, record.kind, record.shape) == ("df", "dataframe", [len(frame), 7])
    assert record.schema is not None and record.schema["city"] == "str"
    assert record.schema["count"] == "Int64"
    assert record.fingerprint == fingerprint(frame)
    assert record.profile is not None and "columns" in record.profile
    series = describe_input("s", frame["x"], with_profile=False)
    assert series is not None and series.kind == "series" and series.profile is None
    assert series.schema == {"x": "float64"}
    array = describe_input("a", np.zeros((2, 3)))
    assert array is not None and array.kind == "ndarray" and array.shape == [2, 3]
    assert array.schema == {"": "float64"}
    assert describe_input("n", 3) is None
    assert describe_input("l", [1, 2]) is None


def test_describe_file(tmp_path, monkeypatch) -> None:
    (tmp_path / "in.csv").write_text("a\n1\n")
    monkeypatch.chdir(tmp_path)
    record = describe_file("in.csv")
    assert record.kind == "file" and record.name == "in.csv"
    assert record.path == str(tmp_path / "in.csv") and record.size == 4
    assert record.fingerprint == "sha256:" + hashlib.sha256(b"a\n1\n").hexdigest()


def test_recorder_sees_read_csv_and_open(tmp_path, monkeypatch) -> None:
    csv = tmp_path / "train.csv"
    pd.DataFrame({"a": [1, 2]}).to_csv(csv, index=False)
    notes = tmp_path / "sub" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("hello")
    npy = tmp_path / "arr.npy"
    np.save(npy, np.arange(3))
    monkeypatch.chdir(tmp_path)
    with FileReadRecorder() as recorder:
        pd.read_csv("train.csv")  # default C engine, relative path
        os.chdir(notes.parent)
        with open("notes.txt") as handle:  # relative to the new directory
            handle.read()
        np.load(npy)
        pd.read_csv(csv)  # read twice: recorded once
    assert recorder.paths == [str(csv), str(notes), str(npy)]


def test_recorder_skips_writes_libraries_and_ignored_dirs(tmp_path) -> None:
    store = tmp_path / ".trackbook"
    store.mkdir()
    (store / "meta.db").write_bytes(b"x")
    data = tmp_path / "data.txt"
    data.write_text("1")
    with FileReadRecorder(ignore=[store]) as recorder:
        (tmp_path / "out.txt").write_text("written")
        with open(tmp_path / "log.txt", "a") as handle:
            handle.write("appended")
        with open(data, "r+") as handle:  # read-write counts as a write
            handle.read()
        os.close(os.open(tmp_path / "created.bin", os.O_WRONLY | os.O_CREAT))
        (store / "meta.db").read_bytes()
        with open(np.__file__, "rb") as handle:  # inside site-packages
            handle.read(10)
        with open("/proc/self/status") as handle:
            handle.read()
        os.listdir(tmp_path)
        fd = os.open(tmp_path, os.O_RDONLY)  # a directory
        os.close(fd)
        os.close(os.open(data, os.O_RDONLY))
    assert recorder.paths == [str(data)]


def test_recorder_only_records_inside_the_block_and_from_threads(tmp_path) -> None:
    before, inside, after = (tmp_path / name for name in ("before", "inside", "after"))
    for path in (before, inside, after):
        path.write_text(path.name)
    before.read_text()
    with FileReadRecorder() as outer:
        thread = threading.Thread(target=inside.read_text)
        thread.start()
        thread.join()
        with FileReadRecorder() as inner:
            before.read_text()
    after.read_text()
    assert outer.paths == [str(inside), str(before)]
    assert inner.paths == [str(before)]
