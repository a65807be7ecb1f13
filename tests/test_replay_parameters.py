"""Overrides, the injected parameters cell and the notebook a replay builds (no kernel)."""

from __future__ import annotations

import ast
import json
from typing import Any

import pytest

from trackbook.entities import HistoryEntry, Run
from trackbook.exceptions import UsageError
from trackbook.replaying.notebook import MAY_RAISE_TAG, TARGET_TAG, build_notebook, history_cells
from trackbook.replaying.parameters import (
    PARAMETERS_TAG,
    normalise_overrides,
    parameters_source,
    parse_override,
    python_literal,
    rewrite_assignments,
)
from trackbook.replaying.plan import REPLAY_VARIABLE, CellDirective, ReplayPlan

NASTY = [
    "it's \"quoted\"",
    "back\\slash \\n is not a newline",
    "line one\nline two\r\nline three",
    "tab\tbell\x07nul\x00",
    "ünïcødé ✓ 日本語 🎉 \u200b",
    "'''",
    '"""',
    "\\",
    "{braces} $dollar %percent",
    "",
]


@pytest.mark.parametrize("value", NASTY + [0.1, -3, 10**30, 1e-300, True, None, [1, "a\nb", None], {"k\"": ["v'"]}])
def test_values_round_trip_through_python_source(value: Any) -> None:
    source = python_literal(value)
    assert ast.literal_eval(source) == value
    assert type(ast.literal_eval(source)) is type(value)


def test_parameters_cell_binds_every_value_exactly() -> None:
    overrides = normalise_overrides({f"p{i}": value for i, value in enumerate(NASTY)})
    plan = ReplayPlan("R1", "RUN1", {3: CellDirective(seed=7, replay_of="RUN1", target=True)}, overrides)
    source = parameters_source(overrides, plan)
    assert source.startswith("# Parameters\n")
    namespace: dict[str, Any] = {}
    exec(compile(source, "<parameters>", "exec"), namespace)
    for i, value in enumerate(NASTY):
        assert namespace[f"p{i}"] == value
    assert ReplayPlan.from_json(namespace[REPLAY_VARIABLE]) == plan


@pytest.mark.parametrize(("text", "expected"), [
    ("0.5", 0.5), ("3", 3), ("true", True), ("null", None), ('"0.5"', "0.5"), ("[1, 2]", [1, 2]),
    ("forest", "forest"), ("it's", "it's"), ('say "hi"', 'say "hi"'), ("NaN", "NaN"), ("ü\\n", "ü\\n"),
])
def test_command_line_values_are_json_else_text(text: str, expected: Any) -> None:
    assert parse_override("x", text) == ("x", expected)


@pytest.mark.parametrize("key", ["1abc", "a-b", "class", REPLAY_VARIABLE, ""])
def test_override_names_must_be_variables(key: str) -> None:
    with pytest.raises(UsageError):
        parse_override(key, "1")


@pytest.mark.parametrize("value", [float("nan"), object(), {1: 2}, b"bytes"])
def test_override_values_must_be_json(value: Any) -> None:
    with pytest.raises(UsageError, match="override 'x'"):
        normalise_overrides({"x": value})


def test_literal_assignments_are_rewritten_in_place() -> None:
    source = (
        "%%track tuned --tag a=b\n"
        "lr = 0.1  # learning rate\n"
        "label: str = 'plain'\n"
        "if lr > 0:\n"
        "    lr = 0.2\n"
        "!pip install nothing\n"
        "name = 'ü' ; other = 1\n"
        "steps = lr * 10\n"
    )
    rewritten = rewrite_assignments(source, {"lr": 0.5, "label": 'a "b"\n', "name": "x"})
    assert rewritten.splitlines() == [
        "%%track tuned --tag a=b",
        "lr = 0.5  # learning rate",
        "label: str = 'a \"b\"\\n'",
        "if lr > 0:",
        "    lr = 0.2",  # not top level: the kernel binds the override before the body instead
        "!pip install nothing",
        "name = 'x' ; other = 1",
        "steps = lr * 10",
    ]


def _run(*sources: str, notebook: str | None = None) -> Run:
    history = [HistoryEntry(i + 1, source, f"c{i + 1}") for i, source in enumerate(sources)]
    body = sources[-1].partition("\n")[2]
    return Run(id="RUN1", history=history, execution_count=len(sources), code=body,
               cell_id=f"c{len(sources)}", seeds={"seed": 42}, notebook=notebook)


def test_history_notebook_replays_execution_order_with_parameters_first() -> None:
    run = _run("import os", "x = 1", "!pip install -q thing\n%pip install other\n!ls", "x = 2",
               "%%track fit\ny = x * 3")
    built = build_notebook(run, history_cells(run), replay_id="R1", overrides={"x": 5})
    cells = built.notebook["cells"]
    assert cells[0]["metadata"]["tags"] == [PARAMETERS_TAG]
    assert [c["source"] for c in cells[1:]] == [
        "%load_ext trackbook",  # none was recorded: the extension came from configuration
        "import os", "x = 5",
        "pass  # trackbook replay skipped: !pip install -q thing\n"
        "pass  # trackbook replay skipped: %pip install other\n!ls",
        "x = 5", "%%track fit\ny = x * 3",
    ]
    assert built.target_index == len(cells) - 1
    assert cells[-1]["metadata"]["tags"] == [TARGET_TAG]
    assert all(c["metadata"]["tags"] == [MAY_RAISE_TAG] for c in cells[1:-1])
    # papermill executes every non-empty code cell once: the tracked one is the 7th execution.
    assert built.plan.cells == {7: CellDirective(seed=42, replay_of="RUN1", cell_id="c5", target=True)}
    assert any("%load_ext" in note for note in built.notes)
    json.dumps(built.notebook)  # plain JSON, as written to disk


def test_tracked_cell_that_computes_an_override_is_refused() -> None:
    run = _run("%load_ext trackbook", "%%track\nlr = 0.1\nlr = lr / 2")
    with pytest.raises(UsageError, match="cannot override lr"):
        build_notebook(run, history_cells(run), replay_id="R1", overrides={"lr": 0.5})


def test_run_without_tracked_history_names_the_other_mode() -> None:
    run = Run(id="RUN1", history=[HistoryEntry(1, "x = 1")], execution_count=1)
    with pytest.raises(UsageError, match="--mode notebook"):
        history_cells(run)


def test_replaying_a_replay_keeps_its_overrides_and_drops_its_plan() -> None:
    earlier_plan = ReplayPlan("OLD", "RUN0", {3: CellDirective(seed=1, replay_of="RUN0", target=True)}, {"x": 5})
    earlier_parameters = parameters_source({"x": 5}, earlier_plan)
    run = _run(earlier_parameters, "%load_ext trackbook", "%%track\ny = x * 3")
    built = build_notebook(run, history_cells(run), replay_id="NEW", overrides={})
    sources = [c["source"] for c in built.notebook["cells"]]
    assert sum(REPLAY_VARIABLE in source for source in sources) == 1  # only this replay's plan
    assert "x = 5" in sources[1]  # the variant's override is part of its recipe
    namespace: dict[str, Any] = {}
    for source in sources[:2]:
        exec(compile(source, "<cell>", "exec"), namespace)
    assert ReplayPlan.from_json(namespace[REPLAY_VARIABLE]).replay_id == "NEW"
