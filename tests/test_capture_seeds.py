"""Seeding: a recorded seed reproduces every draw, and nothing stays patched after the cell."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trackbook.capture.seeds import MAX_RECORDED_CHILDREN, SeedContext, child_seed
from trackbook.exceptions import UsageError

ORIGINAL_DEFAULT_RNG = np.random.default_rng


def draws(seed: int | None, namespace: dict[str, Any] | None = None) -> tuple[list[float], dict[str, Any]]:
    """What a typical cell draws from every generator, unseeded by the user."""
    with SeedContext(seed, namespace) as context:
        values = [
            random.random(),
            float(np.random.rand()),
            float(np.random.default_rng().random()),
            float(np.random.default_rng().normal()),
            float(np.random.default_rng(None).integers(1000)),
        ]
    return values, context.record


def test_same_seed_same_draws_different_seed_different_draws() -> None:
    first, record = draws(1234)
    again, _ = draws(1234)
    other, _ = draws(4321)
    assert first == again
    assert all(a != b for a, b in zip(first[:4], other[:4]))
    assert record["seed"] == record["random"] == record["numpy"] == 1234
    assert len(record["default_rng"]) == 3


def test_recorded_child_seeds_reproduce_each_generator() -> None:
    values, record = draws(99)
    children = record["default_rng"]
    assert float(np.random.default_rng(children[0]).random()) == values[2]
    assert float(np.random.default_rng(children[1]).normal()) == values[3]
    assert float(np.random.default_rng(children[2]).integers(1000)) == values[4]
    assert children == [child_seed(99, k) for k in range(3)]
    assert json.loads(json.dumps(record)) == record  # the record is plain JSON


def test_fresh_seed_is_drawn_and_recorded() -> None:
    values, record = draws(None)
    assert 0 <= record["seed"] < 2**32
    assert draws(record["seed"])[0] == values
    assert len({draws(None)[1]["seed"] for _ in range(3)} | {record["seed"]}) > 1


def test_explicitly_seeded_generators_are_left_alone() -> None:
    with SeedContext(5) as context:
        value = float(np.random.default_rng(42).random())
    assert value == float(ORIGINAL_DEFAULT_RNG(42).random())
    assert context.record["default_rng"] == []


def test_default_rng_is_restored_even_when_the_cell_fails() -> None:
    with pytest.raises(RuntimeError), SeedContext(1):
        assert np.random.default_rng is not ORIGINAL_DEFAULT_RNG
        raise RuntimeError("cell failed")
    assert np.random.default_rng is ORIGINAL_DEFAULT_RNG
    assert not any(type(finder).__name__ == "_SeedOnImport" for finder in sys.meta_path)


def test_names_bound_to_default_rng_in_the_namespace_are_seeded_and_restored() -> None:
    namespace: dict[str, Any] = {"default_rng": ORIGINAL_DEFAULT_RNG, "make": ORIGINAL_DEFAULT_RNG, "x": 1}
    with SeedContext(8, namespace):
        a = float(namespace["default_rng"]().random())
        namespace["late"] = np.random.default_rng  # the cell imports it itself
    with SeedContext(8, namespace):
        b = float(namespace["make"]().random())
    assert a == b
    assert namespace["default_rng"] is ORIGINAL_DEFAULT_RNG and namespace["make"] is ORIGINAL_DEFAULT_RNG
    assert namespace["late"] is ORIGINAL_DEFAULT_RNG and namespace["x"] == 1


def test_a_wrapper_that_escaped_the_cell_behaves_like_the_original_afterwards() -> None:
    with SeedContext(3):
        escaped = np.random.default_rng
    assert escaped is not ORIGINAL_DEFAULT_RNG
    assert float(escaped(7).random()) == float(ORIGINAL_DEFAULT_RNG(7).random())
    unseeded = {float(escaped().random()) for _ in range(3)}
    assert len(unseeded) == 3  # outside a run, fresh entropy as usual
    with SeedContext(3) as context:
        float(escaped().random())
    assert len(context.record["default_rng"]) == 1  # inside a later run it is seeded again


def test_nested_contexts_keep_the_outer_run_seeded() -> None:
    with SeedContext(1) as outer:
        with SeedContext(2) as inner:
            np.random.default_rng()
        np.random.default_rng()
        assert np.random.default_rng is not ORIGINAL_DEFAULT_RNG
    assert np.random.default_rng is ORIGINAL_DEFAULT_RNG
    assert len(inner.record["default_rng"]) == 1 and len(outer.record["default_rng"]) == 1


def test_many_unseeded_generators_are_counted_not_all_listed() -> None:
    with SeedContext(11) as context:
        for _ in range(MAX_RECORDED_CHILDREN + 5):
            np.random.default_rng()
    record = context.record
    assert len(record["default_rng"]) == MAX_RECORDED_CHILDREN
    assert record["default_rng_calls"] == MAX_RECORDED_CHILDREN + 5


def test_pythonhashseed_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    assert draws(1)[1]["PYTHONHASHSEED"] == "0"
    monkeypatch.delenv("PYTHONHASHSEED")
    assert draws(1)[1]["PYTHONHASHSEED"] is None


@pytest.mark.parametrize("bad", [-1, 2**32, "7", 1.5, True])
def test_invalid_seeds_are_rejected(bad: Any) -> None:
    with pytest.raises(UsageError):
        SeedContext(bad)


def test_imported_frameworks_are_seeded_and_a_failure_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    torch = types.ModuleType("torch")
    torch.manual_seed = calls.append  # type: ignore[attr-defined]
    tensorflow = types.ModuleType("tensorflow")

    def broken_set_seed(seed: int) -> None:
        raise RuntimeError("no device")

    tensorflow.random = types.SimpleNamespace(set_seed=broken_set_seed)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "tensorflow", tensorflow)
    with SeedContext(21) as context:
        pass
    assert calls == [21]
    record = context.record
    assert record["torch"] == 21 and "tensorflow" not in record
    assert "no device" in record["errors"]["tensorflow"]


def run_python(code: str, tmp_path: Path) -> Any:
    """Run code in a fresh interpreter (NumPy not yet imported) and return its JSON output."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_libraries_imported_by_the_cell_are_seeded_after_their_import(tmp_path: Path) -> None:
    fake = tmp_path / "torch"
    fake.mkdir()
    (fake / "__init__.py").write_text("seeds = []\ndef manual_seed(seed):\n    seeds.append(seed)\n")
    result = run_python(
        """
        import json, sys
        from trackbook.capture.seeds import SeedContext
        assert "numpy" not in sys.modules and "torch" not in sys.modules
        values = []
        for _ in range(2):
            with SeedContext(77) as context:
                import numpy as np
                import torch
                values.append([float(np.random.rand()), float(np.random.default_rng().random())])
        print(json.dumps({"values": values, "record": context.record, "torch": torch.seeds,
                          "loader": type(sys.modules["numpy.random"].__loader__).__name__}))
        """,
        tmp_path,
    )
    first, second = result["values"]
    assert first == second  # imported inside the first run, already imported in the second
    assert result["torch"] == [77, 77]
    assert result["record"]["numpy"] == 77 and result["record"]["torch"] == 77
    assert result["loader"] != "_ThenLoader"  # the module keeps its real loader


def test_numpy_is_never_imported_just_to_seed_it(tmp_path: Path) -> None:
    result = run_python(
        """
        import json, sys
        from trackbook.capture.seeds import SeedContext
        with SeedContext(5) as context:
            pass
        print(json.dumps({"numpy": "numpy" in sys.modules, "record": context.record}))
        """,
        tmp_path,
    )
    assert result["numpy"] is False
    assert "numpy" not in result["record"] and result["record"]["random"] == 5
