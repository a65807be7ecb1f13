"""trackbook: auditable, replayable notebook experiments.

``%load_ext trackbook`` adds the ``%%track`` cell magic; the functions below
log into the tracked cell being executed and query the store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .api import (
        compare,
        flush,
        get_run,
        last_run,
        log_artifact,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        replay,
        runs,
        set_tag,
    )
    from .exceptions import TrackbookError
    from .report.api import audit_report

#: Public name -> the module defining it. Imported on first use (PEP 562):
#: processes that only need a submodule, such as a replay worker, do not pay
#: for the API's imports (a twentieth of a second).
_EXPORTS = {
    **dict.fromkeys(
        ("compare", "flush", "get_run", "last_run", "log_artifact", "log_metric", "log_metrics",
         "log_param", "log_params", "replay", "runs", "set_tag"),
        ".api",
    ),
    "TrackbookError": ".exceptions",
    "audit_report": ".report.api",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "__version__",
    "TrackbookError",
    "audit_report",
    "compare",
    "flush",
    "get_run",
    "last_run",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "replay",
    "runs",
    "set_tag",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext trackbook``: register ``%%track`` and ``%trackbook``."""
    from .magics import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext trackbook``."""
    from .magics import unload

    unload(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "trackbook"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import TrackbookApp

    return [{"module": "trackbook", "app": TrackbookApp}]
