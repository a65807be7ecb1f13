"""Compact per-column summaries of data, for drift checks between runs.

A profile is small JSON (ints, floats, strings, lists and dicts of them) that
a replay or a later run can compare against: quantiles for numbers, top
categories for strings. It is computed on a deterministic sample of at most
``SAMPLE_ROWS`` rows, so profiling a frame of several GiB stays cheap and the
same data always gives the same profile.

The sample is ``SAMPLE_BLOCKS`` evenly spaced blocks of consecutive rows:
spread over the whole frame (data sorted by time is still covered end to
end), yet read as contiguous runs of memory, which is several times faster
than picking isolated rows from a large array.

Every statistic except ``rows`` and an exact ``null_count`` is taken from the
sample. ``null_count`` is exact when the data keeps it cheaply (arrow
columns, masked columns, integer and boolean columns that cannot hold nulls);
otherwise it is the sample's count scaled to the whole column, and
``null_count_exact`` says which.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

__all__ = ["SAMPLE_ROWS", "profile"]

SAMPLE_ROWS = 100_000
SAMPLE_BLOCKS = 200
TOP_CATEGORIES = 5
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def profile(obj: Any) -> dict[str, Any] | None:
    """Summarise a DataFrame, Series or numpy array for later drift checks.

    Parameters
    ----------
    obj
        The data to summarise.

    Returns
    -------
    dict or None
        JSON-ready summary, or ``None`` for objects of other kinds. For a
        DataFrame: ``{"rows", "sample_rows", "columns": {name: column}}``; for
        a Series the column summary plus ``rows`` and ``sample_rows``; for an
        array ``{"dtype", "shape", "sample_size", "min", "max", "mean"}``.
        A column summary holds ``dtype``, ``null_count``, ``null_count_exact``
        and, by kind, ``min``/``max``/``mean``/``std``/``quantiles`` (numbers),
        ``n_unique``/``top`` (strings, categories, objects), ``true_count``
        (booleans) or ``min``/``max`` as ISO strings (datetimes).
    """
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, pd.DataFrame):
        positions = sample_positions(len(obj))
        columns = {
            str(name): _column_profile(series, positions, pd) for name, series in obj.items()
        }
        return {"rows": len(obj), "sample_rows": len(positions), "columns": columns}
    if pd is not None and isinstance(obj, pd.Series):
        positions = sample_positions(len(obj))
        summary = _column_profile(obj, positions, pd)
        return {"rows": len(obj), "sample_rows": len(positions), **summary}
    if isinstance(obj, np.ndarray):
        return _array_profile(obj)
    return None


def sample_positions(rows: int, limit: int = SAMPLE_ROWS) -> np.ndarray:
    """Row positions of the deterministic sample: evenly spaced blocks of rows."""
    if rows <= limit:
        return np.arange(rows, dtype=np.intp)
    block = max(1, limit // SAMPLE_BLOCKS)
    blocks = limit // block
    starts = (np.arange(blocks, dtype=np.int64) * (rows - block)) // max(1, blocks - 1)
    return (starts[:, None] + np.arange(block, dtype=np.int64)).ravel().astype(np.intp)


def _column_profile(series: Any, positions: np.ndarray, pd: Any) -> dict[str, Any]:
    dtype = series.dtype
    array = series.array
    if isinstance(array, pd.arrays.NumpyExtensionArray) and dtype.kind in "iuf":
        return _numpy_numbers_profile(np.asarray(array), positions)
    sample = series.iloc[positions] if len(positions) < len(series) else series
    summary: dict[str, Any] = {"dtype": str(dtype)}
    summary.update(_null_count(array, sample, len(series), pd))
    kind = getattr(dtype, "kind", "O")
    if _is_arrow_backed(dtype, pd) and pd.api.types.is_string_dtype(dtype):
        summary.update(_arrow_categories(sample.array.__arrow_array__()))
        return summary
    values = sample.dropna()
    if pd.api.types.is_bool_dtype(dtype):
        summary["true_count"] = int(values.astype(bool).sum())
    elif isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        summary.update(_categories(values))
    elif pd.api.types.is_numeric_dtype(dtype) and kind != "c":
        summary.update(_numbers(values.to_numpy(dtype=np.float64, na_value=np.nan)))
    elif kind in "mM":
        if len(values):
            summary["min"] = str(values.min())
            summary["max"] = str(values.max())
    else:
        summary.update(_categories(values.astype(str)))
    return summary


def _numpy_numbers_profile(values: np.ndarray, positions: np.ndarray) -> dict[str, Any]:
    """Fast path for numpy numeric columns: no pandas objects per column."""
    owned = len(positions) < len(values)
    sample = values.take(positions) if owned else values
    summary: dict[str, Any] = {"dtype": str(values.dtype)}
    if values.dtype.kind == "f":
        nan = np.isnan(sample)
        in_sample = int(np.count_nonzero(nan))
        if len(sample) == len(values):
            summary.update(null_count=in_sample, null_count_exact=True)
        else:
            estimate = round(in_sample * len(values) / max(1, len(sample)))
            summary.update(null_count=estimate, null_count_exact=False)
        if in_sample:
            sample, owned = sample[~nan], True
    else:
        summary.update(null_count=0, null_count_exact=True)
    as_float = sample.astype(np.float64, copy=False)
    owned = owned or as_float is not sample
    summary.update(_numbers(as_float, nan_free=True, owned=owned))
    return summary


def _is_arrow_backed(dtype: Any, pd: Any) -> bool:
    if isinstance(dtype, pd.ArrowDtype):
        return True
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _null_count(array: Any, sample: Any, rows: int, pd: Any) -> dict[str, Any]:
    dtype = array.dtype
    if _is_arrow_backed(dtype, pd):
        return {"null_count": int(array.__arrow_array__().null_count), "null_count_exact": True}
    mask = getattr(array, "_mask", None)
    if isinstance(mask, np.ndarray):
        return {"null_count": int(np.count_nonzero(mask)), "null_count_exact": True}
    if getattr(dtype, "kind", "O") in "iub" and isinstance(dtype, np.dtype):
        return {"null_count": 0, "null_count_exact": True}
    if isinstance(array, pd.Categorical):
        return {"null_count": int(np.count_nonzero(array.codes == -1)), "null_count_exact": True}
    in_sample = int(sample.isna().sum())
    if len(sample) == rows:
        return {"null_count": in_sample, "null_count_exact": True}
    estimate = round(in_sample * rows / max(1, len(sample)))
    return {"null_count": estimate, "null_count_exact": False}


def _numbers(values: np.ndarray, *, nan_free: bool = False, owned: bool = False) -> dict[str, Any]:
    """min, max, mean, std and quantiles of the non-null values (NaN dropped).

    ``owned`` says ``values`` is a scratch copy that may be sorted in place.
    """
    if not nan_free:
        values, owned = values[~np.isnan(values)], True
    ordered = values if owned else values.copy()
    ordered.sort()
    if not len(ordered):
        return {}
    with np.errstate(invalid="ignore", over="ignore"):
        mean = float(np.mean(ordered))
        std = float(np.std(ordered, ddof=1)) if len(ordered) > 1 else 0.0
    levels = np.asarray(QUANTILES) * (len(ordered) - 1)
    low = np.floor(levels).astype(np.intp)
    high = np.minimum(low + 1, len(ordered) - 1)
    with np.errstate(invalid="ignore"):
        quantiles = ordered[low] + (ordered[high] - ordered[low]) * (levels - low)
    return {
        "min": _json_float(ordered[0]),
        "max": _json_float(ordered[-1]),
        "mean": _json_float(mean),
        "std": _json_float(std),
        "quantiles": {f"p{round(q * 100)}": _json_float(v) for q, v in zip(QUANTILES, quantiles)},
    }


def _json_float(value: Any) -> float | str | None:
    """A float strict JSON can carry: NaN becomes None, infinities strings."""
    number = float(value)
    if math.isnan(number):
        return None
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return number


def _categories(values: Any) -> dict[str, Any]:
    counts = values.value_counts(dropna=True, sort=True)
    counts = counts[counts > 0]  # categoricals list unobserved categories too
    top = counts.head(TOP_CATEGORIES)
    return {
        "n_unique": len(counts),
        "top": [[str(key), int(count)] for key, count in top.items()],
    }


def _arrow_categories(values: Any) -> dict[str, Any]:
    """Top categories of an arrow column via pyarrow (about twice pandas' speed)."""
    import pyarrow.compute as pc

    counted = pc.value_counts(pc.drop_null(values))
    if isinstance(counted, type(values)) and hasattr(counted, "combine_chunks"):
        counted = counted.combine_chunks()
    counts = counted.field("counts").to_numpy()
    order = np.argsort(-counts, kind="stable")[:TOP_CATEGORIES]
    keys = counted.field("values").take(order).to_pylist()
    return {
        "n_unique": len(counts),
        "top": [[str(key), int(counts[i])] for key, i in zip(keys, order)],
    }


def _array_profile(array: np.ndarray) -> dict[str, Any]:
    summary: dict[str, Any] = {"dtype": array.dtype.str, "shape": list(array.shape)}
    if array.dtype.kind not in "iufb" or array.size == 0:
        return summary
    flat_positions = sample_positions(array.size)
    if array.flags.c_contiguous:
        sample = array.reshape(-1)[flat_positions]
    else:
        sample = array.flat[flat_positions]
    sample = sample.astype(np.float64)
    sample = sample[~np.isnan(sample)]
    summary["sample_size"] = len(flat_positions)
    if len(sample):
        with np.errstate(invalid="ignore", over="ignore"):
            summary["min"] = _json_float(sample.min())
            summary["max"] = _json_float(sample.max())
            summary["mean"] = _json_float(sample.mean())
    return summary
