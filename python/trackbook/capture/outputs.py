"""Outputs of a cell worth keeping: fitted models and matplotlib figures.

Nothing here imports a machine-learning library or matplotlib: an object can
only be an estimator or a figure of a library that is already imported, so
each check first looks in ``sys.modules``. That keeps tracking from adding
seconds of imports to a cell that never used them.
"""

from __future__ import annotations

import io
import re
import sys
from contextlib import AbstractContextManager
from typing import Any

__all__ = ["dump_model", "figures_png", "is_model", "open_figures"]


def is_model(obj: Any) -> bool:
    """Whether ``obj`` is a trained model worth saving.

    Parameters
    ----------
    obj
        Any value the cell assigned.

    Returns
    -------
    bool
        True for fitted scikit-learn style estimators (``fit`` plus ``predict``
        or ``transform``, and ``check_is_fitted`` passes), xgboost and
        lightgbm boosters, torch modules with parameters and built keras
        models. Classes and unfitted estimators are not models.
    """
    if isinstance(obj, type):
        return False
    cls = type(obj)
    modules = sys.modules
    if (
        "sklearn" in modules
        and hasattr(cls, "fit")
        and (hasattr(cls, "predict") or hasattr(cls, "transform"))
    ):
        return _sklearn_fitted(obj)
    xgboost = modules.get("xgboost")
    if xgboost is not None and isinstance(obj, xgboost.Booster):
        return True
    lightgbm = modules.get("lightgbm")
    if lightgbm is not None and isinstance(obj, lightgbm.Booster):
        return True
    torch = modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        return any(True for _ in obj.parameters())
    for name in ("keras", "tensorflow.keras"):
        keras = modules.get(name)
        model_class = getattr(keras, "Model", None)
        if isinstance(model_class, type) and isinstance(obj, model_class):
            return bool(getattr(obj, "built", True))
    return False


def _sklearn_fitted(obj: Any) -> bool:
    try:
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(obj)
    except NotFittedError:
        return False
    except Exception:  # noqa: BLE001 - not an estimator check_is_fitted understands
        return False
    return True


def dump_model(obj: Any, writer_cm: AbstractContextManager[Any]) -> tuple[str, int]:
    """Serialise a model with joblib straight into a blob writer.

    Parameters
    ----------
    obj
        The model.
    writer_cm
        A context manager yielding a writable binary file; after it exits,
        the file's ``ref`` (or the context manager's) has the blob's ``id``
        and ``size``. The store's blob writer hashes as it writes, so the
        pickle is never held in memory a second time.

    Returns
    -------
    tuple of (str, int)
        The blob id and its size in bytes.
    """
    import joblib

    with writer_cm as handle:
        # No compression: the blob store is content-addressed, and joblib's
        # uncompressed format is byte-for-byte stable for equal models.
        joblib.dump(obj, handle)
    ref = getattr(handle, "ref", None) or getattr(writer_cm, "ref", None)
    if ref is None:
        raise TypeError("the blob writer exposes no ref after closing")
    return str(ref.id), int(ref.size)


def open_figures() -> list[Any]:
    """The figures pyplot holds open, oldest first; [] when pyplot was never imported."""
    if "matplotlib.pyplot" not in sys.modules:
        return []
    from matplotlib._pylab_helpers import (
        Gcf,  # pyplot's registry, without changing the current figure
    )

    managers = sorted(Gcf.get_all_fig_managers(), key=lambda manager: manager.num)
    return [manager.canvas.figure for manager in managers]


def figures_png(figures: list[Any], dpi: int = 100) -> list[tuple[str, bytes]]:
    """Render matplotlib figures to PNG.

    Parameters
    ----------
    figures
        matplotlib ``Figure`` objects.
    dpi
        Resolution of the PNGs.

    Returns
    -------
    list of (str, bytes)
        A file-name-safe label (``figure-<number>`` plus the suptitle when it
        has one) and the PNG bytes, one per figure, in order.
    """
    rendered = []
    used: set[str] = set()
    numbers = _pyplot_numbers()
    for position, figure in enumerate(figures, start=1):
        label = _label(figure, position, numbers)
        base, suffix = label, 2
        while label in used:
            label, suffix = f"{base}-{suffix}", suffix + 1
        used.add(label)
        buffer = io.BytesIO()
        # No Software key: PNGs of equal figures stay equal across matplotlib builds.
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        rendered.append((label, buffer.getvalue()))
    return rendered


def _label(figure: Any, position: int, numbers: dict[int, int]) -> str:
    number = numbers.get(id(figure), position)
    get_suptitle = getattr(figure, "get_suptitle", None)
    text = get_suptitle() if callable(get_suptitle) else ""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower()[:40]
    return f"figure-{number}-{slug}" if slug else f"figure-{number}"


def _pyplot_numbers() -> dict[int, int]:
    """id(figure) -> pyplot figure number, for figures pyplot manages.

    Read from pyplot's registry: a Figure made without pyplot has no number,
    and asking it for one is deprecated.
    """
    if "matplotlib.pyplot" not in sys.modules:
        return {}
    from matplotlib._pylab_helpers import Gcf

    return {id(m.canvas.figure): int(m.num) for m in Gcf.get_all_fig_managers()}
