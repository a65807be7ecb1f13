"""Content hashes of in-memory data and of files.

A fingerprint names *content*: two objects with equal shape, dtypes, column
names, index and values get the same fingerprint however their memory is laid
out (contiguous or strided numpy blocks, one or many pyarrow chunks, sliced
arrow arrays), and any change to any of those gives a different one.

Speed and memory are the constraints: a tracked cell may read a frame of
several GiB, and fingerprinting it must neither double the kernel's memory nor
take noticeably long. So data is hashed where it lies: contiguous numpy
columns and arrow buffers go straight into xxh3 through the buffer protocol,
and only the layouts that cannot (strided columns, masked or null-bearing
slots, object columns) are copied, a bounded chunk at a time.

Canonical form of one column (what its digest covers):

- numpy column: the values' bytes in row order.
- arrow column: the row count, the positions of null rows, the value lengths
  (variable-width types) and the bytes of the non-null values. Offsets are
  hashed as lengths so that chunking and slicing do not matter.
- pandas masked column (``Int64`` ...): the null positions and the values with
  null slots zeroed (pandas leaves arbitrary values under the mask).
- categorical: its codes plus the digest of its categories.
- anything else (object dtype, exotic extension arrays): pandas' per-row
  hash (``pandas.util.hash_array``) over chunks of 64K rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import xxhash

__all__ = ["fingerprint", "fingerprint_file"]

#: Bytes copied at a time when data cannot be hashed in place.
CHUNK_BYTES = 8 << 20
#: Rows per chunk on the slow per-row paths (object columns, masked slots).
ROW_CHUNK = 65536

_PREFIX = "xxh3_128:"
_NO_BYTES = np.zeros(0, dtype=np.uint8)
#: Bytes of one transposed tile of a strided block; fits the L2 cache.
_TILE_BYTES = 512 << 10


def fingerprint(obj: Any) -> str | None:
    """Content hash of a DataFrame, Series, Index or numpy array.

    Parameters
    ----------
    obj
        The object to fingerprint.

    Returns
    -------
    str or None
        ``"xxh3_128:<32 hex digits>"``, or ``None`` when ``obj`` is of a kind
        that has no fingerprint.

    Notes
    -----
    Shape, dtypes, column names, index and data all enter the hash. The data
    is not copied: extra memory stays within a few chunks of ``CHUNK_BYTES``.
    """
    pd = sys.modules.get("pandas")  # a pandas object implies pandas is imported
    if pd is not None:
        if isinstance(obj, pd.DataFrame):
            return _frame_fingerprint(obj)
        if isinstance(obj, pd.Series):
            header = {
                "type": "Series",
                "shape": list(obj.shape),
                "dtype": str(obj.dtype),
                "name": repr(obj.name),
            }
            return _finish(header, [_array_digest(obj.array), _index_digest(obj.index)])
        if isinstance(obj, pd.Index):
            header = {"type": "Index", "shape": list(obj.shape), "dtype": str(obj.dtype)}
            return _finish(header, [_index_digest(obj)])
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject and obj.dtype != np.dtype(object):
            return None  # structured arrays holding objects: no stable byte form
        header = {"type": "ndarray", "shape": list(obj.shape), "dtype": obj.dtype.str}
        return _finish(header, [_ndarray_digest(obj)])
    return None


def _feed(hasher: Any, values: np.ndarray) -> None:
    """Hash a 1-d contiguous array's bytes in place (numpy's stubs lack Buffer)."""
    hasher.update(values.view(np.uint8))


def _finish(header: dict[str, Any], digests: list[bytes]) -> str:
    hasher = xxhash.xxh3_128(json.dumps(header, sort_keys=True).encode())
    for digest in digests:
        hasher.update(digest)
    return _PREFIX + hasher.hexdigest()


def _frame_fingerprint(frame: Any) -> str:
    header = {
        "type": "DataFrame",
        "shape": list(frame.shape),
        "columns": [repr(name) for name in frame.columns],
        "column_level_names": [repr(name) for name in frame.columns.names],
        "dtypes": [str(dtype) for dtype in frame.dtypes],
        "index_names": [repr(name) for name in frame.index.names],
        "index_dtype": str(frame.index.dtype),
    }
    arrays = [series.array for _, series in frame.items()]
    return _finish(header, _column_digests(arrays) + [_index_digest(frame.index)])


def _column_digests(arrays: list[Any]) -> list[bytes]:
    """Digest every column, transposing strided numpy blocks a tile at a time.

    A frame built on a row-major 2-D array (``df.T``, ``DataFrame(a, copy=False)``)
    has columns with a stride of one row: hashing them one by one would read
    the whole block once per column. Adjacent columns of such a block are
    hashed together instead, reading the block once.
    """
    digests: list[bytes] = []
    i = 0
    while i < len(arrays):
        values = _plain_ndarray(arrays[i])
        if values is None or values.flags.c_contiguous or values.dtype.hasobject:
            digests.append(_array_digest(arrays[i]))
            i += 1
            continue
        group = [values]
        while i + len(group) < len(arrays):
            nxt = _plain_ndarray(arrays[i + len(group)])
            if nxt is None or not _is_next_column(group[-1], nxt):
                break
            group.append(nxt)
        digests.extend(_strided_group_digests(group))
        i += len(group)
    return digests


def _plain_ndarray(array: Any) -> np.ndarray | None:
    """The numpy array behind a pandas numpy-backed column, without copying."""
    if isinstance(array, np.ndarray):
        return array
    pd = sys.modules["pandas"]
    if isinstance(array, pd.arrays.NumpyExtensionArray):
        return np.asarray(array)
    if isinstance(array, (pd.arrays.DatetimeArray, pd.arrays.TimedeltaArray)):
        # _ndarray is the M8/m8 view; np.asarray would box tz-aware values.
        return array._ndarray  # type: ignore[no-any-return]
    return None


def _is_next_column(prev: np.ndarray, nxt: np.ndarray) -> bool:
    """Whether ``nxt`` is the column stored right after ``prev`` in one block."""
    return (
        nxt.dtype == prev.dtype
        and nxt.shape == prev.shape
        and nxt.strides == prev.strides
        and not nxt.flags.c_contiguous
        and nxt.__array_interface__["data"][0]
        == prev.__array_interface__["data"][0] + prev.dtype.itemsize
    )


def _strided_group_digests(group: list[np.ndarray]) -> list[bytes]:
    first = group[0]
    (rows,) = first.shape
    width = len(group)
    itemsize = first.dtype.itemsize
    # A (rows, width) view of the block; _is_next_column checked that the
    # columns are adjacent, so every address in it lies inside the block.
    block = np.lib.stride_tricks.as_strided(
        first, shape=(rows, width), strides=(first.strides[0], itemsize), writeable=False
    )
    hashers = [xxhash.xxh3_128() for _ in range(width)]
    tile_rows = max(1, _TILE_BYTES // (width * itemsize))
    tile = np.empty((width, tile_rows), dtype=first.dtype)
    for start in range(0, rows, tile_rows):
        part = block[start : start + tile_rows]
        out = tile[:, : part.shape[0]]
        np.copyto(out, part.T)
        for hasher, column in zip(hashers, out):
            _feed(hasher, column)
    return [hasher.digest() for hasher in hashers]


def _ndarray_digest(values: np.ndarray) -> bytes:
    """Digest of an n-d numpy array's values in C order."""
    hasher = xxhash.xxh3_128()
    if values.dtype == np.dtype(object):
        for chunk in _c_order_chunks(values, ROW_CHUNK * values.dtype.itemsize):
            _update_object(hasher, chunk.reshape(-1))
    else:
        for chunk in _c_order_chunks(values, CHUNK_BYTES):
            _feed(hasher, chunk)
    return hasher.digest()


def _c_order_chunks(values: np.ndarray, limit: int) -> Iterator[np.ndarray]:
    """Contiguous pieces of ``values`` that concatenate to its C-order bytes."""
    if values.flags.c_contiguous:
        yield values.reshape(-1)
        return
    if values.ndim <= 1:
        step = max(1, limit // max(1, values.itemsize))
        for start in range(0, values.shape[0] if values.ndim else 1, step):
            yield np.ascontiguousarray(values[start : start + step]).reshape(-1)
        return
    row_bytes = values[0].nbytes if values.shape[0] else 0
    if row_bytes > limit:
        for row in values:
            yield from _c_order_chunks(row, limit)
        return
    step = max(1, limit // max(1, row_bytes))
    for start in range(0, values.shape[0], step):
        yield np.ascontiguousarray(values[start : start + step]).reshape(-1)


def _update_object(hasher: Any, values: np.ndarray) -> None:
    """Feed per-row hashes of an object column, ``ROW_CHUNK`` rows at a time."""
    from pandas.util import hash_array

    for start in range(0, len(values), ROW_CHUNK):
        part = values[start : start + ROW_CHUNK]
        try:
            hashed = hash_array(part)
        except (TypeError, ValueError):  # e.g. tuples or lists as values
            hashed = hash_array(np.array([f"{type(v).__name__}:{v!r}" for v in part], dtype=object))
        _feed(hasher, hashed)


def _array_digest(array: Any) -> bytes:
    """Digest of one column: a numpy array or a pandas extension array."""
    pd = sys.modules.get("pandas")
    values = _plain_ndarray(array)
    if values is not None:
        if values.dtype == np.dtype(object):
            hasher = xxhash.xxh3_128()
            _update_object(hasher, values)
            return hasher.digest()
        return _ndarray_digest(values)
    assert pd is not None  # every non-numpy column is a pandas extension array
    if isinstance(array, pd.Categorical):
        categories = _index_digest(array.categories)
        codes = _ndarray_digest(array.codes)
        return xxhash.xxh3_128(categories + codes + bytes([array.ordered])).digest()
    if _is_arrow_backed(array, pd):
        return _chunked_arrow_digest(array.__arrow_array__())
    if isinstance(array, pd.api.extensions.ExtensionArray) and hasattr(array, "_mask"):
        return _masked_digest(array._data, array._mask)
    return _fallback_digest(array, pd)


def _is_arrow_backed(array: Any, pd: Any) -> bool:
    dtype = array.dtype
    if isinstance(dtype, pd.ArrowDtype):
        return True
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _masked_digest(data: np.ndarray, mask: np.ndarray) -> bytes:
    hasher = xxhash.xxh3_128()
    nulls = xxhash.xxh3_128()
    for start in range(0, len(data), ROW_CHUNK):
        part = data[start : start + ROW_CHUNK]
        holes = mask[start : start + ROW_CHUNK]
        if holes.any():
            part = part.copy()
            part[holes] = 0
            _feed(nulls, (np.flatnonzero(holes) + start).astype(np.int64))
        _feed(hasher, np.ascontiguousarray(part))
    return hasher.digest() + nulls.digest()


def _fallback_digest(array: Any, pd: Any) -> bytes:
    hasher = xxhash.xxh3_128()
    for start in range(0, len(array), ROW_CHUNK):
        part = pd.Series(array[start : start + ROW_CHUNK])
        _feed(hasher, pd.util.hash_pandas_object(part, index=False).to_numpy())
    return hasher.digest()


def _index_digest(index: Any) -> bytes:
    """Digest of an index's values (a RangeIndex hashes like its int64 values)."""
    pd = sys.modules["pandas"]
    if isinstance(index, pd.RangeIndex):
        hasher = xxhash.xxh3_128()
        step = CHUNK_BYTES // 8
        for start in range(0, len(index), step):
            stop = min(len(index), start + step)
            values = np.arange(
                index.start + start * index.step,
                index.start + stop * index.step,
                index.step,
                dtype=np.int64,
            )
            _feed(hasher, values)
        return hasher.digest()
    if isinstance(index, pd.MultiIndex):
        parts = [
            _index_digest(level) + _ndarray_digest(codes)
            for level, codes in zip(index.levels, index.codes)
        ]
        return xxhash.xxh3_128(b"".join(parts)).digest()
    return _array_digest(index.array)


# --- arrow ------------------------------------------------------------------


class _ArrowColumnHasher:
    """Accumulates one arrow column over its chunks, chunking-independently."""

    def __init__(self) -> None:
        self.rows = 0
        self.nulls = xxhash.xxh3_128()
        self.lengths = xxhash.xxh3_128()
        self.data = xxhash.xxh3_128()

    def digest(self) -> bytes:
        return (
            self.rows.to_bytes(8, "little")
            + self.nulls.digest()
            + self.lengths.digest()
            + self.data.digest()
        )


def _chunked_arrow_digest(chunked: Any) -> bytes:
    import pyarrow as pa

    state = _ArrowColumnHasher()
    chunks = chunked.chunks if isinstance(chunked, pa.ChunkedArray) else [chunked]
    for chunk in chunks:
        _update_arrow(state, chunk, pa)
        state.rows += len(chunk)
    return state.digest()


def _update_arrow(state: _ArrowColumnHasher, chunk: Any, pa: Any) -> None:
    if len(chunk) == 0:
        return
    kind = chunk.type
    if pa.types.is_dictionary(kind):
        chunk = chunk.dictionary_decode()
        kind = chunk.type
    if pa.types.is_string(kind) or pa.types.is_binary(kind):
        _update_var_width(state, chunk, np.int32)
    elif pa.types.is_large_string(kind) or pa.types.is_large_binary(kind):
        _update_var_width(state, chunk, np.int64)
    elif pa.types.is_boolean(kind):
        _update_boolean(state, chunk)
    elif _is_fixed_width(kind, pa):
        _update_fixed_width(state, chunk, kind.bit_width // 8)
    else:
        _update_arrow_fallback(state, chunk)


def _is_fixed_width(kind: Any, pa: Any) -> bool:
    fixed = (
        pa.types.is_primitive(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_fixed_size_binary(kind)
    )
    return bool(fixed and kind.bit_width % 8 == 0 and kind.bit_width > 0)


def _valid_mask(chunk: Any, start: int, count: int) -> np.ndarray | None:
    """Booleans (True = valid) for rows [start, start+count) of ``chunk``, or None."""
    if chunk.null_count == 0:
        return None
    bitmap = chunk.buffers()[0]
    if bitmap is None:  # e.g. the null type: every row is null
        return np.zeros(count, dtype=bool)
    first_bit = chunk.offset + start
    raw = np.frombuffer(bitmap, dtype=np.uint8)[first_bit // 8 : (first_bit + count + 7) // 8 + 1]
    bits = np.unpackbits(raw, bitorder="little")
    return bits[first_bit % 8 : first_bit % 8 + count].astype(bool)


def _record_nulls(state: _ArrowColumnHasher, valid: np.ndarray | None, first_row: int) -> None:
    if valid is not None:
        positions = np.flatnonzero(~valid).astype(np.int64) + first_row
        _feed(state.nulls, positions)


def _update_var_width(state: _ArrowColumnHasher, chunk: Any, offset_type: type) -> None:
    _validity, offsets_buf, data_buf = chunk.buffers()[:3]
    offsets: np.ndarray = np.frombuffer(offsets_buf, dtype=offset_type)
    offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else _NO_BYTES
    step = ROW_CHUNK if chunk.null_count else CHUNK_BYTES // 8
    lengths = np.empty(min(step, len(chunk)), dtype=np.int64)
    if chunk.null_count == 0 and len(chunk):
        _feed(state.data, data[offsets[0] : offsets[-1]])
    for start in range(0, len(chunk), step):
        count = min(step, len(chunk) - start)
        out = lengths[:count]
        np.subtract(offsets[start + 1 : start + count + 1], offsets[start : start + count], out=out)
        valid = _valid_mask(chunk, start, count)
        if valid is not None:
            _record_nulls(state, valid, state.rows + start)
            if out[~valid].any():
                # Bytes under null slots are arbitrary: hash valid values only.
                keep = np.repeat(valid, out)
                _feed(state.data, data[offsets[start] : offsets[start + count]][keep])
            else:
                _feed(state.data, data[offsets[start] : offsets[start + count]])
            out[~valid] = 0
        _feed(state.lengths, out)


def _update_fixed_width(state: _ArrowColumnHasher, chunk: Any, width: int) -> None:
    data_buf = chunk.buffers()[1]
    data = np.frombuffer(data_buf, dtype=np.uint8)[
        chunk.offset * width : (chunk.offset + len(chunk)) * width
    ]
    if chunk.null_count == 0:
        _feed(state.data, data)
        return
    for start in range(0, len(chunk), ROW_CHUNK):
        count = min(ROW_CHUNK, len(chunk) - start)
        valid = _valid_mask(chunk, start, count)
        part = data[start * width : (start + count) * width]
        if valid is not None and not valid.all():
            _record_nulls(state, valid, state.rows + start)
            part = part.reshape(count, width).copy()
            part[~valid] = 0  # values under null slots are arbitrary
        _feed(state.data, np.ascontiguousarray(part).reshape(-1))


def _update_boolean(state: _ArrowColumnHasher, chunk: Any) -> None:
    bitmap = np.frombuffer(chunk.buffers()[1], dtype=np.uint8)
    for start in range(0, len(chunk), CHUNK_BYTES):
        count = min(CHUNK_BYTES, len(chunk) - start)
        first_bit = chunk.offset + start
        raw = bitmap[first_bit // 8 : (first_bit + count + 7) // 8 + 1]
        values = np.unpackbits(raw, bitorder="little")[first_bit % 8 : first_bit % 8 + count]
        valid = _valid_mask(chunk, start, count)
        if valid is not None:
            _record_nulls(state, valid, state.rows + start)
            values[~valid] = 0
        _feed(state.data, values)


def _update_arrow_fallback(state: _ArrowColumnHasher, chunk: Any) -> None:
    """Nested and other rare types: hash the repr of the Python values, per chunk."""
    for start in range(0, len(chunk), ROW_CHUNK):
        values = chunk.slice(start, ROW_CHUNK).to_pylist()
        state.data.update(repr(values).encode())
        state.lengths.update(len(values).to_bytes(8, "little"))


# --- files ------------------------------------------------------------------

_FILE_CACHE: dict[tuple[str, int, int, int, int], str] = {}
_FILE_CACHE_LOCK = threading.Lock()
_FILE_CHUNK = 1 << 20
_RACY_NS = 2_000_000_000


def fingerprint_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, streamed in 1 MiB chunks.

    Parameters
    ----------
    path
        The file to hash.

    Returns
    -------
    str
        ``"sha256:<64 hex digits>"``.

    Notes
    -----
    Results are cached for the life of the process by real path, size,
    modification time and inode, so a file read by many cells is hashed once
    and any rewrite of it (new mtime, size or inode) is hashed again.
    """
    real = os.path.realpath(path)
    info = os.stat(real)
    key = (real, info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev)
    with _FILE_CACHE_LOCK:
        cached = _FILE_CACHE.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    buffer = bytearray(_FILE_CHUNK)
    view = memoryview(buffer)
    with open(real, "rb", buffering=0) as handle:
        while True:
            count = handle.readinto(view)
            if not count:
                break
            digest.update(view[:count])
    result = "sha256:" + digest.hexdigest()
    # A file modified within the last couple of seconds may be rewritten
    # within the same tick of the filesystem clock, keeping size and mtime:
    # only settled files are cached.
    if time.time_ns() - info.st_mtime_ns > _RACY_NS:
        with _FILE_CACHE_LOCK:
            _FILE_CACHE[key] = result
    return result
