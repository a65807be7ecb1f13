"""The comparator: each facet, each cause, the verdict (runs built as entities, no kernel)."""

from __future__ import annotations

import dataclasses
from typing import Any

from trackbook.entities import Artifact, Environment, HistoryEntry, InputRecord, Run
from trackbook.replaying.compare import compare, compare_runs, verdict

CSV = "/data/iris.csv"


def _env(**packages: str) -> Environment:
    # Installed and imported: the runs' cells use these packages.
    return Environment(id="e-" + "-".join(f"{k}{v}" for k, v in sorted(packages.items())),
                       python="3.11.9", platform="Linux", packages=dict(packages), modules=dict(packages))


def _original(**changes: Any) -> Run:
    run = Run(
        id="ORIG", status="finished", execution_count=3, code="acc = fit(df)",
        history=[HistoryEntry(1, "%load_ext trackbook"), HistoryEntry(2, "df = load()"),
                 HistoryEntry(3, "%%track\nacc = fit(df)")],
        params={"n": 5, "label": "a"}, metrics={"acc": 0.9, "loss": 0.25},
        inputs=[InputRecord(CSV, "file", "sha256:" + "a" * 64, path=CSV),
                InputRecord("df", "dataframe", "xxh3_128:" + "b" * 32, shape=[10, 2])],
        artifacts=[Artifact("1" * 64, "clf", "model", "application/octet-stream", 10),
                   Artifact("2" * 64, "figure-1.png", "figure", "image/png", 10)],
        stdout="acc 0.9\n", environment=_env(numpy="2.0.0", pandas="2.2.0"),
    )
    return dataclasses.replace(run, **changes)


def _replayed(original: Run, **changes: Any) -> Run:
    defaults: dict[str, Any] = {
        "history": [HistoryEntry(1, "# Parameters\n__trackbook_replay__ = {}"), *original.history],
        "execution_count": 4,
    }
    return dataclasses.replace(original, id="REPLAY", replay_of=original.id, **{**defaults, **changes})


def _inputs_with_csv(fingerprint: str) -> list[InputRecord]:
    return [InputRecord(CSV, "file", fingerprint, path=CSV),
            InputRecord("df", "dataframe", "xxh3_128:" + "c" * 32, shape=[10, 2])]


def test_identical_runs_reproduce() -> None:
    original = _original()
    assert compare_runs(original, _replayed(original)) == []
    assert verdict(original, _replayed(original)) == "reproduced"
    assert verdict(original, None) == "failed"


def test_changed_csv_differs_with_input_data_changed_naming_the_file() -> None:
    original = _original()
    replayed = _replayed(original, metrics={"acc": 0.8, "loss": 0.25},
                         inputs=_inputs_with_csv("sha256:" + "f" * 64))
    comparison = compare(original, replayed)
    assert comparison.verdict == "differs"
    by_key = {d.key: d for d in comparison.differences}
    assert by_key[CSV].cause == "input_data_changed" and CSV in by_key[CSV].explanation
    assert by_key["acc"].cause == "input_data_changed" and CSV in by_key["acc"].explanation
    assert "loss" not in by_key


def test_nothing_else_changed_means_unseeded_randomness() -> None:
    original = _original()
    replayed = _replayed(original, metrics={"acc": 0.9, "loss": 0.31}, stdout="acc 0.9 at 12:00\n",
                         artifacts=[dataclasses.replace(original.artifacts[0], id="9" * 64), original.artifacts[1]])
    comparison = compare(original, replayed)
    assert comparison.verdict == "differs"
    assert {(d.facet, d.cause) for d in comparison.differences} == {
        ("metric", "unseeded_randomness"), ("stdout", "unseeded_randomness"), ("artifact", "unseeded_randomness"),
    }


def test_package_changes_list_both_versions_and_explain_results() -> None:
    original = _original()
    replayed = _replayed(original, environment=_env(numpy="2.1.0", pandas="2.2.0", scipy="1.0"))
    comparison = compare(original, replayed)
    assert comparison.verdict == "reproduced"  # results agree: the environment only explains
    assert [(d.facet, d.key, d.original, d.replayed, d.cause) for d in comparison.differences] == [
        ("environment", "numpy", "2.0.0", "2.1.0", "package_changed"),
        ("environment", "scipy", None, "1.0", "package_changed"),
    ]
    drifted = _replayed(original, environment=replayed.environment, metrics={"acc": 0.91, "loss": 0.25})
    (metric,) = [d for d in compare_runs(original, drifted) if d.facet == "metric"]
    assert metric.cause == "package_changed" and "numpy 2.0.0 -> 2.1.0" in metric.explanation
    assert "scipy" not in metric.explanation  # imported by neither run: cannot explain a result


def test_a_package_nothing_imported_does_not_explain_a_difference() -> None:
    original = _original()
    environment = dataclasses.replace(_env(numpy="2.0.0", pandas="2.2.0"), id="other",
                                      packages={"numpy": "2.0.0", "pandas": "2.2.0", "unused": "9"})
    replayed = _replayed(original, environment=environment, metrics={"acc": 0.91, "loss": 0.25})
    by_facet = {d.facet: d for d in compare_runs(original, replayed)}
    assert (by_facet["environment"].key, by_facet["environment"].cause) == ("unused", "package_changed")
    assert by_facet["metric"].cause == "unseeded_randomness"


def test_tolerance_accepts_close_metrics_and_their_renderings() -> None:
    original = _original()
    replayed = _replayed(original, metrics={"acc": 0.9 + 1e-9, "loss": 0.25}, stdout="acc 0.900000001\n",
                         artifacts=[dataclasses.replace(original.artifacts[0], id="9" * 64), original.artifacts[1]])
    assert verdict(original, replayed) == "differs"
    assert verdict(original, replayed, rtol=1e-6) == "reproduced_within_tolerance"
    assert verdict(original, replayed, atol=1e-12) == "differs"
    far = _replayed(original, metrics={"acc": 0.95, "loss": 0.25})
    assert verdict(original, far, rtol=1e-6) == "differs"


def test_overrides_are_a_variant_not_a_failure() -> None:
    original = _original()
    replayed = _replayed(original, params={"n": 7, "label": "a"}, metrics={"acc": 0.93, "loss": 0.25})
    comparison = compare(original, replayed, overrides={"n": 7})
    by_key = {d.key: d for d in comparison.differences}
    assert (by_key["n"].facet, by_key["n"].original, by_key["n"].replayed, by_key["n"].cause) == (
        "param", 5, 7, "parameter_override")
    assert by_key["acc"].cause == "parameter_override"
    assert comparison.verdict == "differs"
    same = _replayed(original, params={"n": 7, "label": "a"})
    assert verdict(original, same, overrides={"n": 7}) == "reproduced"


def test_edited_code_and_cell_order_are_reported() -> None:
    original = _original()
    edited = _replayed(original, code="acc = fit(df, fast=True)", metrics={"acc": 0.7, "loss": 0.25})
    causes = {(d.facet, d.key): d.cause for d in compare_runs(original, edited)}
    assert causes == {("code", "code"): "code_differs", ("metric", "acc"): "code_differs"}

    reordered = _replayed(original, history=[HistoryEntry(1, "# Parameters\n__trackbook_replay__ = {}"),
                                             HistoryEntry(2, "df = load()"), HistoryEntry(3, "df = load()"),
                                             HistoryEntry(4, "%load_ext trackbook"),
                                             HistoryEntry(5, "%%track\nacc = fit(df)")], execution_count=5)
    (difference,) = compare_runs(original, reordered)
    assert (difference.facet, difference.key, difference.cause) == ("code", "history", "cell_order")
    assert verdict(original, reordered) == "reproduced"


def test_a_missing_artifact_or_a_new_error_differs() -> None:
    original = _original()
    replayed = _replayed(original, artifacts=original.artifacts[:1], status="failed")
    facets = {d.facet for d in compare_runs(original, replayed)}
    assert facets == {"artifact", "error"}


def test_a_replay_shows_its_verdict_and_reasons_in_ipython() -> None:
    from IPython.lib.pretty import pretty

    from trackbook.entities import Replay

    original = _original()
    comparison = compare(original, _replayed(original, inputs=_inputs_with_csv("sha256:" + "f" * 64),
                                              metrics={"acc": 0.8, "loss": 0.25}))
    replay = Replay(id="RPL", run_id=original.id, status="done", replay_run_id="REPLAY",
                    verdict=comparison.verdict, differences=comparison.differences)
    shown = pretty(replay)
    assert shown.startswith("replay RPL of run ORIG (history): differs")
    assert "[input data changed]" in shown and CSV in shown
    assert "differences=[" not in shown  # not the dataclass repr
