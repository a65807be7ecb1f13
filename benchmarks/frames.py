"""The DataFrames the fingerprint and memory benchmarks hash.

Sizes are *buffer* bytes: for numpy columns ``nbytes``; for the pandas 3
default ``str`` dtype (pyarrow ``large_string``) the bytes of the arrow
buffers the column uses (validity bitmap, int64 offsets, UTF-8 data), as
``pyarrow.ChunkedArray.nbytes`` counts them. The index (a ``RangeIndex``)
holds no buffer.

numpy and pandas are imported inside the functions: importing this module
costs nothing, so a worker that measures import memory can still import it.
"""

from __future__ import annotations

from typing import Any

#: Which frame ``build`` makes.
KINDS = ("numeric", "numeric_2d", "strings", "strings_compute")
NUMERIC_COLUMNS = 16
STRING_COLUMNS = 8
NULL_FRACTION = 0.01


def build(kind: str, target_bytes: int) -> Any:
    """A DataFrame of about ``target_bytes`` buffer bytes.

    ``numeric``: 8 float64 and 8 int64 columns, one contiguous array per
    column (what ``read_parquet`` gives). ``numeric_2d``: 16 float64 columns
    made from one C-ordered 2-D array, so each column is strided. ``strings``:
    8 columns of the pandas 3 default ``str`` dtype, values like
    ``"sku-123456789"`` (5 to 13 characters), 1% missing, the missing slots
    empty (as the parquet and CSV readers write them). ``strings_compute``:
    the same, but the missing slots keep their bytes, as pyarrow compute
    kernels (``if_else``, ...) leave them; a hasher must skip those bytes.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    if kind == "numeric":
        rows = target_bytes // (8 * NUMERIC_COLUMNS)
        columns: dict[str, Any] = {}
        for index in range(NUMERIC_COLUMNS):
            if index % 2:
                columns[f"i{index}"] = rng.integers(0, 1 << 40, rows, dtype=np.int64)
            else:
                columns[f"f{index}"] = rng.random(rows)
        return pd.DataFrame(columns, copy=False)
    if kind == "numeric_2d":
        rows = target_bytes // (8 * NUMERIC_COLUMNS)
        values = rng.random((rows, NUMERIC_COLUMNS))
        return pd.DataFrame(values, columns=[f"f{i}" for i in range(NUMERIC_COLUMNS)], copy=False)
    if kind in ("strings", "strings_compute"):
        empty_nulls = kind == "strings"
        sample = _string_frame(rng, 100_000, empty_nulls)
        per_row = buffer_bytes(sample) / len(sample)
        return _string_frame(rng, int(target_bytes / per_row), empty_nulls)
    raise ValueError(f"unknown frame kind {kind!r}; choose from {KINDS}")


def _string_frame(rng: Any, rows: int, empty_nulls: bool) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = {}
    for index in range(STRING_COLUMNS):
        numbers = pa.array(rng.integers(0, 10 ** rng.integers(3, 10, rows), dtype="int64"))
        text = pc.binary_join_element_wise(
            pa.scalar("sku-", pa.large_string()), pc.cast(numbers, pa.large_string()), pa.scalar("", pa.large_string())
        )
        missing = rng.random(rows) < NULL_FRACTION
        if empty_nulls:
            # Empty strings, then a validity bitmap over them: null slots of length 0.
            text = pc.if_else(pa.array(missing), pa.scalar("", pa.large_string()), text)
            validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
            _, offsets, data = text.buffers()
            text = pa.LargeStringArray.from_buffers(rows, offsets, data, validity, int(missing.sum()))
        else:
            text = pc.if_else(pa.array(missing), pa.scalar(None, pa.large_string()), text)
        columns[f"s{index}"] = text
    frame = pa.table(columns).to_pandas()
    if str(frame.dtypes.iloc[0]) != "str":
        frame = frame.astype("str")
    return frame


def buffer_bytes(frame: Any) -> int:
    """Bytes of the buffers behind ``frame``'s columns (see the module docstring)."""
    total = 0
    for _, column in frame.items():  # noqa: PERF102  (a column Series, not a dict value)
        array = column.array
        to_arrow = getattr(array, "__arrow_array__", None)
        if to_arrow is not None and "pyarrow" in str(getattr(column.dtype, "storage", "")):
            total += to_arrow().nbytes  # the ChunkedArray behind the column, zero-copy
        else:
            total += column.to_numpy(copy=False).nbytes
    return total


def describe(frame: Any) -> str:
    """``rows x columns, dtypes`` for the table's notes."""
    dtypes = sorted({str(dtype) for dtype in frame.dtypes})
    return f"{frame.shape[0]:,} rows x {frame.shape[1]} cols ({', '.join(dtypes)})"
