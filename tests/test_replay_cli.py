"""``trackbook replay``: arguments and exit codes that need no kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

import trackbook
from trackbook.cli import main
from trackbook.store import open_store


@pytest.fixture
def empty_store(tmp_path: Path) -> str:
    path = tmp_path / "store"
    open_store(str(path)).close()
    return str(path)


@pytest.mark.parametrize(("args", "message"), [
    ([], "give RUN ids to replay, or --all"),
    (["SOMERUN", "--all"], "give RUN ids to replay, or --all"),
    (["SOMERUN", "--since", "2024-01-01"], "--since and --notebook select runs for --all"),
    (["--all", "--since", "last tuesday"], "--since 'last tuesday'"),
    (["SOMERUN", "-p", "not-a-name", "1"], "-p 'not-a-name'"),
    (["SOMERUN", "--timeout", "0"], "--timeout must be"),
    (["SOMERUN", "--rtol", "-0.1"], "--rtol and --atol must be >= 0"),
    (["--all", "--jobs", "0"], "--jobs must be at least 1"),
    (["NO_SUCH_RUN"], "no run matches 'NO_SUCH_RUN'"),
])
def test_usage_errors_exit_2(empty_store: str, args: list[str], message: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", *args, "--store", empty_store]) == 2
    assert message in capsys.readouterr().err


def test_errors_are_json_with_json(empty_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "NO_SUCH_RUN", "--store", empty_store, "--json"]) == 2
    assert '"error": "RunNotFoundError"' in capsys.readouterr().out


def test_a_missing_store_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--all", "--store", str(tmp_path / "nowhere")]) == 3
    assert "trackbook" in capsys.readouterr().err


def test_replay_stays_the_public_function() -> None:
    # The engine lives in trackbook.replaying, so importing it cannot shadow trackbook.replay.
    import trackbook.replaying.batch  # noqa: F401
    import trackbook.replaying.engine  # noqa: F401

    assert callable(trackbook.replay) and "replay" in trackbook.__all__


def test_a_replay_kernel_does_not_start_replays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A recorded trackbook.replay(...) call, replayed, would replay again (and again).
    from trackbook.exceptions import UsageError
    from trackbook.replaying.engine import prepare_replay
    from trackbook.replaying.environment import IN_REPLAY_ENV

    monkeypatch.setenv(IN_REPLAY_ENV, "1")
    with open_store(str(tmp_path / "store")) as store, pytest.raises(UsageError, match="inside a replay"):
        prepare_replay(store, "anything")
