"""Records of the data a cell reads: in-memory frames and arrays, and files.

Files are noticed through Python's audit hooks (PEP 578): every ``open()``,
``os.open()`` and ``io.open_code()`` raises an ``open`` audit event before
the file is opened, including the handle pandas opens for ``read_csv`` (its C
parser reads from a Python file object) and ``numpy.load``/``fromfile``.
Readers that open files in native code without Python's ``open`` (pyarrow's
own filesystem, used by ``read_parquet`` and ``pyarrow.csv``) raise no event
and are not seen.
"""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

from ..entities import InputRecord

__all__ = ["FileReadRecorder", "describe_file", "describe_input"]


def describe_input(name: str, obj: Any, *, with_profile: bool = True) -> InputRecord | None:
    """Describe a DataFrame, Series or numpy array the cell read.

    Parameters
    ----------
    name
        The variable name the object is bound to.
    obj
        The object.
    with_profile
        Also compute the compact drift profile (sampled; cheap even for GiBs).

    Returns
    -------
    InputRecord or None
        ``None`` when ``obj`` is not a DataFrame, Series or ndarray.
    """
    pd = sys.modules.get("pandas")
    np = sys.modules.get("numpy")
    schema: dict[str, str] | None
    if pd is not None and isinstance(obj, pd.DataFrame):
        kind = "dataframe"
        schema = {str(column): str(dtype) for column, dtype in obj.dtypes.items()}
    elif pd is not None and isinstance(obj, pd.Series):
        kind = "series"
        schema = {"" if obj.name is None else str(obj.name): str(obj.dtype)}
    elif np is not None and isinstance(obj, np.ndarray):
        kind = "ndarray"
        if obj.dtype.names:
            schema = {field: str(obj.dtype.fields[field][0]) for field in obj.dtype.names}
        else:
            schema = {"": str(obj.dtype)}
    else:
        return None
    # Imported on use: arming the file recorder must not load NumPy into a
    # kernel whose cell never touches data.
    from .fingerprint import fingerprint
    from .profile import profile

    digest = fingerprint(obj)
    if digest is None:
        return None
    return InputRecord(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        fingerprint=digest,
        shape=[int(size) for size in obj.shape],
        schema=schema,
        profile=profile(obj) if with_profile else None,
    )


def describe_file(path: str | os.PathLike[str]) -> InputRecord:
    """Describe a file the cell read: its sha256, size and absolute path.

    Parameters
    ----------
    path
        The file, as the cell named it (relative paths resolve against the
        current working directory).

    Returns
    -------
    InputRecord
        ``kind="file"``, ``name`` the path as given.
    """
    absolute = os.path.abspath(os.fspath(path))
    return InputRecord(
        name=os.fspath(path),
        kind="file",
        fingerprint=_fingerprint_file(absolute),
        size=os.path.getsize(absolute),
        path=absolute,
    )


# --- file reads through the audit hook -----------------------------------------

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_SYSTEM_PREFIXES = ("/proc/", "/dev/", "/sys/")
_SKIPPED_SUFFIXES = (".py", ".pyc", ".pyi", ".pth")

#: Recorders between __enter__ and __exit__; the hook returns at once when empty.
_ACTIVE: tuple[FileReadRecorder, ...] = ()  # replaced, never mutated: the hook reads it unlocked
_ACTIVE_LOCK = threading.Lock()
_HOOK_INSTALLED = False


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    # Runs on every audit event of the process for the rest of its life
    # (hooks cannot be removed), so the inactive case is two cheap checks.
    if not _ACTIVE or event != "open":
        return
    try:
        path, mode, flags = args
        if isinstance(path, int):  # an already open descriptor
            return
        if isinstance(mode, str):
            if any(letter in mode for letter in "wax+"):
                return
        elif isinstance(flags, int) and flags & _WRITE_FLAGS:
            return
        # Resolve now: the cell may chdir before the recorder looks at it.
        absolute = os.path.abspath(os.fspath(path))
        for recorder in _ACTIVE:
            recorder._seen[absolute] = None  # ordered set: a file read 1000 times is kept once
    except Exception:  # noqa: BLE001 - raising here would fail the user's open()
        return


def _install_hook() -> None:
    global _HOOK_INSTALLED
    with _ACTIVE_LOCK:
        if not _HOOK_INSTALLED:
            sys.addaudithook(_audit_hook)
            _HOOK_INSTALLED = True


@functools.cache
def _interpreter_dirs() -> tuple[str, ...]:
    """Directories whose files are the interpreter's and libraries', not data."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            dirs.add(sysconfig.get_paths()[key])
        except KeyError:
            continue
    return tuple(os.path.join(os.path.realpath(d), "") for d in dirs if d)


class FileReadRecorder:
    """Collect the files opened for reading while the ``with`` block runs.

    Parameters
    ----------
    ignore
        Directories whose files are never recorded (the store, the IPython
        profile ...).

    Notes
    -----
    Reads from every thread count while the block runs (a cell may read in
    worker threads). Skipped: files opened for writing, appending or
    creating; directories and files gone by the end of the block; ``/proc``,
    ``/dev``, ``/sys``; the interpreter's prefix and standard library;
    ``site-packages``/``dist-packages``; Python sources and bytecode (the
    import system reads them); and paths under ``ignore``.

    Examples
    --------
    >>> with FileReadRecorder(ignore=[".trackbook"]) as recorder:  # doctest: +SKIP
    ...     frame = pandas.read_csv("data.csv")
    >>> recorder.paths  # doctest: +SKIP
    ['/home/me/project/data.csv']
    """

    def __init__(self, ignore: Iterable[str | os.PathLike[str]] = ()) -> None:
        self._ignore = tuple(os.path.join(os.path.realpath(os.fspath(d)), "") for d in ignore)
        self._seen: dict[Any, None] = {}
        self._paths: list[str] | None = None

    def __enter__(self) -> Self:
        _install_hook()
        self._seen = {}
        self._paths = None
        global _ACTIVE
        with _ACTIVE_LOCK:
            _ACTIVE = (*_ACTIVE, self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _ACTIVE
        with _ACTIVE_LOCK:
            _ACTIVE = tuple(recorder for recorder in _ACTIVE if recorder is not self)
        self._paths = self._filter(list(self._seen))

    @property
    def paths(self) -> list[str]:
        """Absolute paths of the files read, in order of first read, no duplicates."""
        if self._paths is None:  # still recording: a snapshot
            return self._filter(list(self._seen))
        return list(self._paths)

    def _filter(self, seen: list[Any]) -> list[str]:
        skipped = _interpreter_dirs() + self._ignore
        result: list[str] = []
        done: set[str] = set()
        for raw in seen:
            try:
                path = os.fsdecode(raw)
            except TypeError:
                continue
            absolute = os.path.realpath(path)
            if absolute in done:
                continue
            done.add(absolute)
            if self._skipped(absolute, skipped):
                continue
            result.append(absolute)
        return result

    @staticmethod
    def _skipped(path: str, skipped: tuple[str, ...]) -> bool:
        if path.startswith(_SYSTEM_PREFIXES) or path.endswith(_SKIPPED_SUFFIXES):
            return True
        parts = path.split(os.sep)
        if "site-packages" in parts or "dist-packages" in parts or "__pycache__" in parts:
            return True
        if any(path.startswith(prefix) for prefix in skipped):
            return True
        return not os.path.isfile(path)


def _fingerprint_file(path: str) -> str:
    from .fingerprint import fingerprint_file

    return fingerprint_file(path)
