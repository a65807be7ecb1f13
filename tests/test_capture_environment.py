"""Environment capture: interpreter, packages, modules, git, GPU (capture/environment)."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trackbook.capture import environment
from trackbook.capture.environment import capture_environment, environment_diff
from trackbook.entities import Environment

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


def _fake_dist(site: Path, name: str, version: str, files: dict[str, str] | None = None) -> Path:
    """Install a distribution the way pip lays it out: a .dist-info plus its files."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    records = []
    for relative, text in (files or {}).items():
        target = site / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        records.append(f"{relative},,")
    records.append(f"{info.name}/METADATA,,")
    (info / "RECORD").write_text("\n".join(records) + "\n")
    return info


def test_environment_fields_and_id(tmp_path) -> None:
    env = capture_environment(kernel_name="python3", cwd=str(tmp_path), env_vars={"LANG": "C"})
    assert isinstance(env, Environment)
    assert env.kernel == "python3" and env.env_vars == {"LANG": "C"}
    assert sys.version.split()[0] in env.python and sys.executable in env.python
    assert env.platform.split()[0] == __import__("platform").system()
    assert env.cpu["count"] == os.cpu_count() and env.cpu["model"]
    assert env.git == {}  # tmp_path is not in a repository
    fields = {f.name: getattr(env, f.name) for f in dataclasses.fields(env) if f.name != "id"}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert env.id == __import__("hashlib").sha256(canonical.encode()).hexdigest()
    again = capture_environment(kernel_name="python3", cwd=str(tmp_path), env_vars={"LANG": "C"})
    assert again.id == env.id
    other = capture_environment(kernel_name="python3", cwd=str(tmp_path), env_vars={"LANG": "D"})
    assert other.id != env.id


def test_packages_match_importlib_metadata() -> None:
    packages = capture_environment().packages
    for name in ("numpy", "pandas", "pyarrow", "xxhash", "joblib", "pytest"):
        assert packages[name] == importlib.metadata.version(name)
    expected = {
        environment.normalise_name(dist.metadata["Name"])
        for dist in importlib.metadata.distributions()
        if dist.metadata["Name"]
    }
    assert expected <= set(packages)


def test_imported_modules_with_versions() -> None:
    modules = capture_environment().modules
    assert modules["numpy"] == np.__version__
    assert modules["pytest"] == importlib.metadata.version("pytest")
    assert "json" not in modules and "sys" not in modules  # stdlib
    assert not any("." in name or name.startswith("_") for name in modules)


def test_a_pip_install_during_the_session_shows_up(tmp_path, monkeypatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    assert "tb-fake-dist" not in capture_environment().packages

    info = _fake_dist(site, "tb-fake-dist", "1.2.3", {"tb_fake_mod/__init__.py": "X = 1\n"})
    env = capture_environment()
    assert env.packages["tb-fake-dist"] == "1.2.3"

    # The import name differs from the distribution name: found through RECORD.
    monkeypatch.delitem(sys.modules, "tb_fake_mod", raising=False)
    importlib.invalidate_caches()
    importlib.import_module("tb_fake_mod")
    assert capture_environment().modules["tb_fake_mod"] == "1.2.3"

    shutil.rmtree(info)  # upgrade: old .dist-info out, new one in
    _fake_dist(site, "tb-fake-dist", "1.3.0", {"tb_fake_mod/__init__.py": "X = 2\n"})
    upgraded = capture_environment()
    assert upgraded.packages["tb-fake-dist"] == "1.3.0"
    assert upgraded.modules["tb_fake_mod"] == "1.3.0"
    diff = environment_diff(env, upgraded)
    assert diff["packages"]["changed"]["tb-fake-dist"] == {"a": "1.2.3", "b": "1.3.0"}


def test_warm_capture_does_not_rescan_unchanged_directories(tmp_path, monkeypatch) -> None:
    site = tmp_path / "quiet"
    site.mkdir()
    _fake_dist(site, "tb-quiet", "0.1")
    old = 1_600_000_000_000_000_000  # settled long ago: no racy rescan
    os.utime(site, ns=(old, old))
    monkeypatch.syspath_prepend(str(site))
    capture_environment()
    scanned = []
    real_scandir = os.scandir

    def spying_scandir(path):  # type: ignore[no-untyped-def]
        scanned.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(environment.os, "scandir", spying_scandir)
    assert capture_environment().packages["tb-quiet"] == "0.1"
    assert str(site) not in scanned


def test_local_module_falls_back_to_dunder_version(tmp_path, monkeypatch) -> None:
    (tmp_path / "tb_local_helpers.py").write_text("__version__ = '0.9'\n")
    (tmp_path / "tb_local_plain.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("tb_local_helpers", "tb_local_plain"):
        monkeypatch.delitem(sys.modules, name, raising=False)
        importlib.import_module(name)
    modules = capture_environment().modules
    assert modules["tb_local_helpers"] == "0.9"
    assert modules["tb_local_plain"] == ""


@needs_git
def test_git_commit_branch_and_dirty(tmp_path, monkeypatch) -> None:
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    assert capture_environment(cwd=str(repo)).git == {
        "commit": None,
        "branch": "main",
        "dirty": False,
    }

    tracked = repo / "notebooks" / "train.py"
    tracked.write_text("a = 1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    first = _git(repo, "rev-parse", "HEAD")
    git = capture_environment(cwd=str(repo / "notebooks")).git
    assert git == {"commit": first, "branch": "main", "dirty": False}

    monkeypatch.setattr(environment, "DIRTY_TTL", 0.0)  # edits alone do not touch .git/index
    tracked.write_text("a = 2\n")
    assert capture_environment(cwd=str(repo)).git["dirty"] is True
    (repo / "untracked.txt").write_text("ignored")
    _git(repo, "commit", "-q", "-am", "two")
    second = _git(repo, "rev-parse", "HEAD")
    assert capture_environment(cwd=str(repo)).git == {
        "commit": second,
        "branch": "main",
        "dirty": False,
    }

    _git(repo, "pack-refs", "--all")  # refs/heads/main now only in packed-refs
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert capture_environment(cwd=str(repo)).git["commit"] == second

    _git(repo, "checkout", "-q", first)
    assert capture_environment(cwd=str(repo)).git == {
        "commit": first,
        "branch": None,
        "dirty": False,
    }


@needs_git
def test_git_linked_worktree(tmp_path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "f.txt").write_text("x")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    _git(repo, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt"))
    git = capture_environment(cwd=str(tmp_path / "wt")).git
    assert git["branch"] == "feature"
    assert git["commit"] == _git(repo, "rev-parse", "HEAD")


def test_gpus_from_nvidia_smi_on_path(tmp_path, monkeypatch) -> None:
    fake = tmp_path / "nvidia-smi"
    fake.write_text(
        "#!/bin/sh\necho 'NVIDIA A100-SXM4-40GB, 40960 MiB, 535.104.05'\n"
        "echo 'NVIDIA A100-SXM4-40GB, 40960 MiB, 535.104.05'\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    environment._gpus.cache_clear()
    try:
        gpus = capture_environment().gpu
        assert (
            gpus
            == [{"name": "NVIDIA A100-SXM4-40GB", "memory": "40960 MiB", "driver": "535.104.05"}]
            * 2
        )
        fake.unlink()  # asked once per process: still cached
        assert capture_environment().gpu == gpus
    finally:
        environment._gpus.cache_clear()


def test_environment_diff() -> None:
    base: dict[str, Any] = {
        "python": "CPython 3.11.7 (/p)",
        "platform": "Linux 6 x86_64",
        "modules": {"numpy": "2.0"},
        "git": {"commit": "a", "branch": "main", "dirty": False},
    }
    a = Environment(id="a", packages={"numpy": "2.0", "pandas": "2.2", "old": "1"}, **base)
    b = Environment(
        id="b",
        packages={"numpy": "2.1", "pandas": "2.2", "new": "0.1"},
        **{**base, "python": "CPython 3.12.1 (/p)"},
    )
    assert environment_diff(a, a) == {}
    diff = environment_diff(a, b)
    assert diff["packages"] == {
        "added": {"new": "0.1"},
        "removed": {"old": "1"},
        "changed": {"numpy": {"a": "2.0", "b": "2.1"}},
    }
    assert diff["python"] == {"a": "CPython 3.11.7 (/p)", "b": "CPython 3.12.1 (/p)"}
    assert set(diff) == {"packages", "python"}
