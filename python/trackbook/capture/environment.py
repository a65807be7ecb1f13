"""The software and hardware a run executes on, cheap enough for every cell.

``pip freeze`` costs a quarter of a second; a tracked cell may run every few
seconds. So each part is cached for the life of the kernel and recomputed
only when what it describes can have changed:

- installed distributions: read from the ``*.dist-info`` / ``*.egg-info``
  names of every ``sys.path`` directory, cached per directory and rescanned
  when its mtime, link count or inode changes (``pip install`` adds or
  removes such a directory), or while the directory changed too recently for
  its mtime to be trusted;
- imported modules: the module -> version answer is cached per module name;
- git state: commit and branch are read from ``.git`` files (no process),
  the dirty flag from ``git status`` when ``.git/index`` or ``HEAD`` changed
  or every ``DIRTY_TTL`` seconds;
- Python, platform, CPU and GPU: once per process.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from ..entities import Environment

__all__ = ["capture_environment", "environment_diff", "installed_distributions"]

#: Seconds before a clean/dirty answer is asked of git again.
DIRTY_TTL = 30.0
#: Seconds git may take to answer ``status``.
GIT_TIMEOUT = 2.0
#: Seconds nvidia-smi may take.
GPU_TIMEOUT = 3.0
#: A directory modified less than this long before it was scanned may still be
#: changing within one tick of the filesystem clock: scan it again next time.
_RACY_NS = 2_000_000_000

_LOCK = threading.RLock()


def capture_environment(
    *,
    kernel_name: str | None = None,
    cwd: str | None = None,
    env_vars: Mapping[str, str] | None = None,
) -> Environment:
    """Describe the current interpreter, machine, packages and repository.

    Parameters
    ----------
    kernel_name
        The Jupyter kernel spec name, recorded so a replay can pick it.
    cwd
        Directory whose git repository is described; the process working
        directory by default.
    env_vars
        Environment variables to record, as given: the caller removes secrets.

    Returns
    -------
    Environment
        With ``id`` the sha256 of the canonical JSON of every other field.
    """
    with _LOCK:
        dists = _current_dists()  # a stat per sys.path entry when nothing changed
        git = git_state(cwd if cwd is not None else os.getcwd())
        key = _capture_key(dists, git, env_vars, kernel_name)
        if _LAST_CAPTURE is not None and _LAST_CAPTURE[0] == key:
            return _LAST_CAPTURE[1]
        packages = installed_distributions()
        modules = imported_modules(packages)
        fields: dict[str, Any] = {
            "python": _python(),
            "platform": _platform(),
            "packages": packages,
            "modules": modules,
            "git": git,
            "env_vars": dict(env_vars or {}),
            "kernel": kernel_name,
            "cpu": dict(_cpu()),
            "gpu": [dict(gpu) for gpu in _gpus()],
        }
        environment = Environment(id=environment_id(fields), **fields)
        _remember_capture(key, environment)
        return environment


#: The last capture and what it depended on. Every tracked cell captures the
#: environment; between two cells it almost never changes, and rebuilding,
#: sorting and hashing a few hundred packages costs more than the whole rest of
#: a small run's record.
_LAST_CAPTURE: tuple[Any, Environment] | None = None


def _capture_key(
    dists: list[_Dist], git: Mapping[str, Any], env_vars: Mapping[str, str] | None, kernel: str | None
) -> Any:
    """What a capture depends on, cheaply: it changes whenever the capture would.

    Distributions: the scan generation (bumped when a directory's listing
    changed) and sys.path. Imported modules: how many there are and the newest
    (``sys.modules`` keeps insertion order, so a new import changes the last
    key even when another module was removed).
    """
    newest_module = next(reversed(sys.modules), None)
    return (
        _generation(),
        len(dists),
        len(sys.modules),
        newest_module,
        repr(sorted(git.items())),
        tuple(sorted((env_vars or {}).items())),
        kernel,
    )


def _remember_capture(key: Any, environment: Environment) -> None:
    global _LAST_CAPTURE
    _LAST_CAPTURE = (key, environment)


def environment_id(fields: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON of an environment's fields (``id`` excluded)."""
    content = {key: value for key, value in fields.items() if key != "id"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def environment_diff(a: Environment, b: Environment) -> dict[str, Any]:
    """What changed from environment ``a`` to environment ``b``.

    Parameters
    ----------
    a, b
        The environments to compare (typically an original run and its replay).

    Returns
    -------
    dict
        ``{}`` when they are the same. Otherwise some of:
        ``packages``/``modules``: ``{"added": {name: version}, "removed":
        {name: version}, "changed": {name: {"a": old, "b": new}}}``;
        ``python``, ``platform``, ``kernel``, ``git``, ``cpu``, ``gpu``,
        ``env_vars``: ``{"a": old, "b": new}`` for each field that differs.
    """
    diff: dict[str, Any] = {}
    for name in ("packages", "modules"):
        changes = _mapping_diff(getattr(a, name), getattr(b, name))
        if changes:
            diff[name] = changes
    for name in ("python", "platform", "kernel", "git", "cpu", "gpu", "env_vars"):
        old, new = getattr(a, name), getattr(b, name)
        if old != new:
            diff[name] = {"a": old, "b": new}
    return diff


def _mapping_diff(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, Any]:
    added = {k: new[k] for k in sorted(new.keys() - old.keys())}
    removed = {k: old[k] for k in sorted(old.keys() - new.keys())}
    changed = {
        k: {"a": old[k], "b": new[k]} for k in sorted(old.keys() & new.keys()) if old[k] != new[k]
    }
    result: dict[str, Any] = {}
    if added:
        result["added"] = added
    if removed:
        result["removed"] = removed
    if changed:
        result["changed"] = changed
    return result


# --- interpreter and machine (fixed for the life of the process) -------------


@cache
def _python() -> str:
    return f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})"


@cache
def _platform() -> str:
    return f"{platform.system()} {platform.release()} {platform.machine()}"


@cache
def _cpu() -> tuple[tuple[str, Any], ...]:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.partition(":")[2].strip()
                    break
    except OSError:
        pass
    return (
        ("model", model or platform.processor() or platform.machine()),
        ("count", os.cpu_count() or 0),
    )


@cache
def _gpus() -> tuple[tuple[tuple[str, str], ...], ...]:
    """NVIDIA GPUs from nvidia-smi, asked once per process (it takes ~100 ms)."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return ()
    query = "name,memory.total,driver_version"
    try:
        result = subprocess.run(
            [executable, f"--query-gpu={query}", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=GPU_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    gpus = []
    for line in result.stdout.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) == 3:
            gpus.append((("name", parts[0]), ("memory", parts[1]), ("driver", parts[2])))
    return tuple(gpus)


# --- installed distributions -------------------------------------------------


@dataclass(frozen=True)
class _Dist:
    name: str  # normalised (PEP 503)
    version: str
    path: str  # the .dist-info / .egg-info path


@dataclass
class _DirScan:
    key: tuple[int, int, int]
    racy: bool
    dists: tuple[_Dist, ...]


_DIR_SCANS: dict[str, _DirScan] = {}
_SCAN_CHANGES = 0  # bumped whenever a rescan finds a different list
_NAME_VERSION = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+?)(?:-py\d[\d.]*)?(?:-.*)?$")


def normalise_name(name: str) -> str:
    """PEP 503 normalised distribution name (``Foo_Bar`` -> ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions() -> dict[str, str]:
    """Every distribution importable from ``sys.path``: normalised name -> version.

    The first of two installs of one name wins, as it would on import.
    """
    with _LOCK:
        packages: dict[str, str] = {}
        for dist in _current_dists():
            packages.setdefault(dist.name, dist.version)
        return dict(sorted(packages.items()))


def _current_dists() -> list[_Dist]:
    dists: list[_Dist] = []
    seen: set[str] = set()
    for entry in sys.path:
        directory = os.path.abspath(entry or os.curdir)
        if directory in seen:
            continue
        seen.add(directory)
        dists.extend(_scan_directory(directory))
    return dists


def _scan_directory(directory: str) -> tuple[_Dist, ...]:
    try:
        info = os.stat(directory)
    except OSError:
        return ()
    if not stat.S_ISDIR(info.st_mode):
        return _zip_dists(directory)
    key = (info.st_mtime_ns, info.st_nlink, info.st_ino)
    cached = _DIR_SCANS.get(directory)
    if cached is not None and cached.key == key and not cached.racy:
        return cached.dists
    racy = time.time_ns() - info.st_mtime_ns < _RACY_NS
    dists: list[_Dist] = []
    try:
        with os.scandir(directory) as entries:
            names = sorted(entry.name for entry in entries)
    except OSError:
        names = []
    for name in names:
        if name.endswith((".dist-info", ".egg-info")):
            dist = _read_dist(os.path.join(directory, name))
            if dist is not None:
                dists.append(dist)
    result = tuple(dists)
    if cached is None or cached.dists != result:
        global _SCAN_CHANGES
        _SCAN_CHANGES += 1
    _DIR_SCANS[directory] = _DirScan(key=key, racy=racy, dists=result)
    return result


def _read_dist(path: str) -> _Dist | None:
    """Name and version from the directory name, else from its metadata file."""
    stem = os.path.basename(path).rsplit(".", 1)[0]
    match = _NAME_VERSION.match(stem)
    if match and match["version"][:1].isdigit():
        return _Dist(normalise_name(match["name"]), match["version"], path)
    try:
        from importlib.metadata import PathDistribution
        from pathlib import Path

        metadata = PathDistribution(Path(path)).metadata
        name, version = metadata["Name"], metadata["Version"]
    except Exception:  # noqa: BLE001 - a broken install must not break capture
        return None
    if not name or not version:
        return None
    return _Dist(normalise_name(name), version, path)


@lru_cache(maxsize=64)
def _zip_dists(archive: str) -> tuple[_Dist, ...]:
    """Distributions inside a zip or egg on ``sys.path`` (rare; read once)."""
    from importlib.metadata import distributions

    found = []
    try:
        for dist in distributions(path=[archive]):
            name, version = dist.metadata["Name"], dist.version
            if name and version:
                found.append(_Dist(normalise_name(name), version, archive))
    except Exception:  # noqa: BLE001 - unreadable archives are skipped
        return ()
    return tuple(found)


# --- imported modules --------------------------------------------------------

_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)
_MODULE_VERSIONS: dict[str, tuple[tuple[int, tuple[str, ...]], str]] = {}
_TOP_LEVEL: dict[str, tuple[str, ...]] = {}  # dist path -> its top-level import names


def imported_modules(packages: Mapping[str, str] | None = None) -> dict[str, str]:
    """Imported top-level, non-stdlib modules -> version ('' when unknown).

    The version is that of the distribution providing the module (matched by
    name, else by the distribution's top-level names), else the module's
    ``__version__``.
    """
    with _LOCK:
        packages = installed_distributions() if packages is None else packages
        generation = _generation()
        result: dict[str, str] = {}
        for name in list(sys.modules):
            if "." in name or name.startswith("_") or name in _STDLIB:
                continue
            cached = _MODULE_VERSIONS.get(name)
            if cached is None or cached[0] != generation:
                cached = (generation, _module_version(name, packages))
                _MODULE_VERSIONS[name] = cached
            result[name] = cached[1]
        return dict(sorted(result.items()))


def _generation() -> tuple[int, tuple[str, ...]]:
    """Changes whenever the distributions visible from ``sys.path`` may have changed."""
    return _SCAN_CHANGES, tuple(sys.path)


def _module_version(name: str, packages: Mapping[str, str]) -> str:
    version = packages.get(normalise_name(name))
    if version is not None:
        return version
    module = sys.modules.get(name)
    location = _module_location(module)
    if location is not None:
        # Only distributions installed next to the module can provide it; a
        # module from the notebook's folder skips reading every RECORD.
        for dist in _current_dists():
            if os.path.dirname(dist.path) == location and name in _top_level_names(dist.path):
                return dist.version
    attribute = getattr(module, "__version__", None)
    if isinstance(attribute, (str, int, float, tuple)):
        return ".".join(map(str, attribute)) if isinstance(attribute, tuple) else str(attribute)
    return ""


def _module_location(module: Any) -> str | None:
    """The ``sys.path`` directory a top-level module was imported from."""
    path = getattr(module, "__file__", None)
    if not isinstance(path, str):
        locations = list(getattr(module, "__path__", None) or ())
        path = locations[0] if locations and isinstance(locations[0], str) else None
        if path is None:
            return None
        return os.path.dirname(os.path.abspath(path))
    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    # a package's __file__ is <dir>/<name>/__init__.py; a module's <dir>/<name>.py
    if os.path.basename(path).startswith("__init__."):
        parent = os.path.dirname(parent)
    return parent


def _top_level_names(dist_path: str) -> tuple[str, ...]:
    """Import names a distribution provides (``top_level.txt``, else its RECORD)."""
    cached = _TOP_LEVEL.get(dist_path)
    if cached is not None:
        return cached
    names: set[str] = set()
    try:
        with open(os.path.join(dist_path, "top_level.txt"), encoding="utf-8") as handle:
            names.update(line.strip() for line in handle if line.strip())
    except OSError:
        names.update(_record_top_level(dist_path))
    result = tuple(sorted(names))
    _TOP_LEVEL[dist_path] = result
    return result


def _record_top_level(dist_path: str) -> Iterable[str]:
    try:
        with open(os.path.join(dist_path, "RECORD"), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return ()
    names = set()
    for line in lines:
        path = line.split(",", 1)[0]
        parts = path.replace("\\", "/").split("/")
        if not parts[0] or parts[0] == ".." or parts[0].endswith((".dist-info", ".data")):
            continue
        if len(parts) > 1:
            names.add(parts[0])
        else:
            module = inspect.getmodulename(parts[0])
            if module:
                names.add(module)
    return names


# --- git ---------------------------------------------------------------------


@dataclass
class _DirtyAnswer:
    key: tuple[int, int]
    at: float
    dirty: bool | None


_DIRTY: dict[str, _DirtyAnswer] = {}


def git_state(cwd: str) -> dict[str, Any]:
    """Commit, branch and dirty flag of the repository containing ``cwd``.

    Returns ``{}`` outside a repository. ``commit`` is None before the first
    commit, ``branch`` None on a detached HEAD, ``dirty`` None when git could
    not answer in time (or is not installed).
    """
    located = _find_git_dir(os.path.abspath(cwd))
    if located is None:
        return {}
    worktree, git_dir = located
    common_dir = _common_dir(git_dir)
    head = _read_text(os.path.join(git_dir, "HEAD")).strip()
    branch: str | None = None
    commit: str | None
    if head.startswith("ref:"):
        ref = head[4:].strip()
        branch = ref.removeprefix("refs/heads/")
        commit = _resolve_ref(git_dir, common_dir, ref)
    else:
        commit = head or None
    return {"commit": commit, "branch": branch, "dirty": _dirty(worktree, git_dir)}


def _find_git_dir(start: str) -> tuple[str, str] | None:
    """The (work tree, git dir) containing ``start``, following ``gitdir:`` files."""
    current = start
    while True:
        candidate = os.path.join(current, ".git")
        if os.path.isdir(candidate):
            return current, candidate
        if os.path.isfile(candidate):  # worktrees and submodules
            text = _read_text(candidate).strip()
            if text.startswith("gitdir:"):
                target = os.path.join(current, text[7:].strip())
                return current, os.path.normpath(target)
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _common_dir(git_dir: str) -> str:
    """Where refs live: a linked worktree's git dir points to the main one."""
    text = _read_text(os.path.join(git_dir, "commondir")).strip()
    return os.path.normpath(os.path.join(git_dir, text)) if text else git_dir


def _resolve_ref(git_dir: str, common_dir: str, ref: str) -> str | None:
    for base in (git_dir, common_dir):
        value = _read_text(os.path.join(base, *ref.split("/"))).strip()
        if value:
            return value
    for line in _read_text(os.path.join(common_dir, "packed-refs")).splitlines():
        if line and line[0] not in "#^":
            sha, _, name = line.partition(" ")
            if name.strip() == ref:
                return sha
    return None


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def _dirty(worktree: str, git_dir: str) -> bool | None:
    key = (_mtime(os.path.join(git_dir, "index")), _mtime(os.path.join(git_dir, "HEAD")))
    now = time.monotonic()
    cached = _DIRTY.get(worktree)
    if cached is not None and cached.key == key and now - cached.at < DIRTY_TTL:
        return cached.dirty
    dirty = _ask_git_dirty(worktree)
    _DIRTY[worktree] = _DirtyAnswer(key=key, at=now, dirty=dirty)
    return dirty


def _ask_git_dirty(worktree: str) -> bool | None:
    executable = shutil.which("git")
    if executable is None:
        return None
    # GIT_OPTIONAL_LOCKS=0: status must not rewrite the index (and race with
    # the user's own git commands) just because we looked.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        result = subprocess.run(
            [executable, "status", "--porcelain", "--untracked-files=no"],
            cwd=worktree,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return bool(result.stdout.strip())
