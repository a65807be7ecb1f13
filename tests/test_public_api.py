"""The public Python API is deliberate: ``__all__`` is exactly what is exported."""

from __future__ import annotations

import subprocess
import sys

import pytest

import trackbook


def test_all_matches_the_public_names() -> None:
    # dir(): the public names are imported on first use (PEP 562).
    public = {
        name for name in dir(trackbook)
        if not name.startswith("_") and not isinstance(getattr(trackbook, name), type(sys))
        and name not in {"annotations", "Any", "TYPE_CHECKING"}
    }
    public.discard("load_ipython_extension")
    public.discard("unload_ipython_extension")
    assert set(trackbook.__all__) - {"__version__"} == public
    for name in trackbook.__all__:
        assert getattr(trackbook, name) is not None


def test_design_names_are_exported() -> None:
    # Submodules imported later (by the CLI, by compare()) must not shadow them.
    import trackbook.cli  # noqa: F401
    import trackbook.comparison  # noqa: F401
    import trackbook.replaying.engine  # noqa: F401
    import trackbook.report.api  # noqa: F401

    for name in ("log_param", "log_params", "log_metric", "log_metrics", "log_artifact", "set_tag",
                 "runs", "get_run", "last_run", "compare", "replay", "audit_report"):
        assert callable(getattr(trackbook, name)), name


def test_star_import_gives_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from trackbook import *", namespace)  # noqa: S102
    assert set(trackbook.__all__) <= set(namespace)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        trackbook.no_such_name  # noqa: B018


def test_importing_trackbook_stays_light() -> None:
    # Loading the extension must not drag heavy libraries into a kernel that
    # does not use them: they are imported when a cell needs them.
    code = ("import sys, trackbook, trackbook.magics; "
            "heavy = [m for m in ('pandas', 'sqlalchemy', 'alembic', 'numpy', 'sklearn', 'matplotlib') "
            "if m in sys.modules]; print(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
