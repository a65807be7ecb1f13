"""Code facets without a kernel: history, names, dependencies, parameters, metrics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from trackbook.capture.assignments import (
    cell_facts,
    literal_assignments,
    loaded_names,
    stored_names,
)
from trackbook.capture.dependencies import analyze_dependencies
from trackbook.capture.history import build_history
from trackbook.capture.metrics import scalar_metrics
from trackbook.capture.params import (
    estimator_params,
    jsonable,
    literal_params,
    named_params,
    papermill_params,
)
from trackbook.entities import Dependency, HistoryEntry

#: What the kernel passes as ``transform`` (IPython's own cell transformer).
transform = TransformerManager().transform_cell


def entries(*sources: str, cells: tuple[str | None, ...] | None = None) -> list[HistoryEntry]:
    ids = cells or (None,) * len(sources)
    return [HistoryEntry(n, source, cell) for n, (source, cell) in enumerate(zip(sources, ids), start=1)]


def hidden(warnings: list[Any]) -> list[str]:
    return [w.message for w in warnings if w.kind == "hidden_state"]


# -- history ---------------------------------------------------------------------------------


def test_history_follows_execution_counts_and_skips_blank_inputs() -> None:
    inputs = ["", "x = 1", "   ", "y = x * 2\n", "x = 5", "%%track\nz = y + 1"]
    history = build_history(inputs, {1: "cell-a", 3: "cell-b", 4: "cell-a"}, upto=5)
    assert [(h.execution_count, h.source, h.cell_id) for h in history] == [
        (1, "x = 1", "cell-a"), (3, "y = x * 2", "cell-b"), (4, "x = 5", "cell-a"),
        (5, "%%track\nz = y + 1", None),
    ]
    assert [h.execution_count for h in build_history(inputs, upto=3)] == [1, 3]
    assert build_history([""]) == []


# -- names -----------------------------------------------------------------------------------


def test_stored_names_cover_every_way_python_binds_a_name() -> None:
    source = (
        "import numpy as np, os.path\nfrom math import pi as PI, tau\n"
        "a, (b, *c) = 1, (2, 3, 4)\nd += 1\ne: int = 5\nannotation_only: int\n"
        "for i, j in pairs:\n    pass\nwith open(p) as fh, lock:\n    pass\n"
        "def f():\n    local = 1\nclass K:\n    attr = 1\n"
        "if (w := 3):\n    pass\n[v for v in range(3)]\nobj.attr = 1\nitems[0] = 2\n"
        "try:\n    pass\nexcept ValueError as err:\n    pass\n"
    )
    assert stored_names(source) == [
        "np", "os", "PI", "tau", "a", "b", "c", "d", "e", "i", "j", "fh", "f", "K", "w", "err",
    ]


def test_loaded_names_are_the_free_variables_of_the_cell() -> None:
    source = (
        "total = base + offset\n"               # reads base, offset
        "total += bump\n"                        # total is bound already: reads bump only
        "squares = [n * scale for n in values if n > cutoff]\n"
        "def score(model):\n    return model.score(X_test, y_test) + total\n"
        "class Config(Base):\n    depth = max_depth\n    width = depth * 2\n"
        "frame.loc[idx] = fill\n"
        "counter = counter + 1\n"
        "if (found := lookup(key)):\n    print(found)\n"
    )
    assert loaded_names(source) == {
        "base", "offset", "bump", "scale", "values", "cutoff", "X_test", "y_test", "Base",
        "max_depth", "frame", "idx", "fill", "counter", "lookup", "key", "print",
    }


def test_names_bound_later_in_the_cell_are_still_free_when_read_first() -> None:
    assert loaded_names("y = x + 1\nx = 2") == {"x"}
    # A function body runs when called, so names bound anywhere in the cell are not free.
    assert loaded_names("def f():\n    return helper() + x\nx = 1\ndef helper():\n    return 2") == set()
    assert loaded_names("def fib(n):\n    return n if n < 2 else fib(n - 1)") == set()
    # Names bound inside a function, a lambda or a comprehension stay there.
    assert loaded_names("def f(a):\n    b = a\n    return b\nlam = lambda u: u\n[q for q in r]\nprint(q)") == {
        "r", "print", "q",
    }


def test_globals_assigned_inside_functions_count_as_bound() -> None:
    facts = cell_facts("def reset():\n    global state\n    state = 0\nreset()")
    assert "state" in facts.binds and "state" not in facts.stored


def test_literal_assignments_are_parameters() -> None:
    source = (
        "lr = 0.1\ndepth = -3\nname = 'forest'\nuse_gpu = False\nnothing = None\n"
        "layers = (64, 32)\ngrid = {'alpha': [0.1, 1.0], 'fit': True}\n"
        "a, b = 1, 'two'\nbig = 1e-3\n"
        "computed = lr * 2\nbest = 0.0\nfor step in range(3):\n    best = max(best, step)\n"
        "if flag:\n    nested = 1\nblob = b'raw'\nlabels = {1: 'one'}\n"
    )
    assert literal_assignments(source) == {
        "lr": 0.1, "depth": -3, "name": "forest", "use_gpu": False, "nothing": None,
        "layers": [64, 32], "grid": {"alpha": [0.1, 1.0], "fit": True}, "a": 1, "b": "two", "big": 1e-3,
    }
    assert literal_params("lr = 0.1\nlr = 0.2") == {"lr": 0.2}  # the last literal wins


def test_long_literals_are_data_not_parameters() -> None:
    assert literal_assignments(f"data = {list(range(500))}\ntext = {'x' * 5000!r}\nk = 3") == {"k": 3}


def test_unparsable_code_gives_empty_facts_and_a_note() -> None:
    facts = cell_facts("x = (1,\n")
    assert facts.stored == () and facts.loaded == frozenset() and facts.note is not None
    assert "line" in facts.note
    assert stored_names("def broken(:\n") == [] and literal_assignments("1 +") == {}


@pytest.mark.parametrize("use_transform", [True, False], ids=["ipython-transform", "fallback"])
def test_ipython_syntax_is_understood(use_transform: bool) -> None:
    how = transform if use_transform else None
    source = "%matplotlib inline\nfiles = !ls\nimport os\nsize = len(files) + extra\n!echo done\nos?"
    facts = cell_facts(source, how)
    assert facts.note is None
    assert list(facts.stored) == ["files", "os", "size"]
    assert {"extra", "len"} <= facts.loaded
    # Cell magics that run their body in the namespace are analysed through it.
    tracked = cell_facts("%%track train --seed 3\nlr = 0.5\nscore = model.fit(X).score(X)", how)
    assert tracked.stored == ("lr", "score") and {"model", "X"} <= tracked.loaded
    assert tracked.literals == {"lr": 0.5}
    captured = cell_facts("%%capture output\nresult = run(job)", how)
    assert set(captured.stored) == {"result", "output"} and "job" in captured.loaded
    assert cell_facts("%time fitted = model.fit(data)", how).stored == ("fitted",)
    # A cell magic in another language binds nothing in Python.
    assert cell_facts("%%bash\nexport A=1\necho $A", how).stored == ()


def test_in_list_sources_already_transformed_by_ipython_are_unwrapped() -> None:
    facts = cell_facts("get_ipython().run_cell_magic('track', 'run1', 'z = y + 1\\n')")
    assert facts.stored == ("z",) and "y" in facts.loaded


# -- dependencies ------------------------------------------------------------------------------


def test_out_of_order_notebook_gives_a_stale_dependency_warning() -> None:
    history = entries("x = 1", "y = x * 2", "x = 5", cells=("A", "B", "A"))
    deps, warnings = analyze_dependencies("z = y + 1", history, {"x", "y"})
    assert deps == [Dependency("y", 2, "B")]
    (message,) = hidden(warnings)
    assert "y" in message and "In[2]" in message and "x" in message and "In[3]" in message


def test_staleness_is_followed_through_chains_of_executions() -> None:
    history = entries("a = 1", "b = a + 1", "c = b * 2", "a = 10")
    deps, warnings = analyze_dependencies("d = c + 1", history, {"a", "b", "c"})
    assert deps == [Dependency("c", 3, None)]
    (message,) = hidden(warnings)
    assert "c comes from In[3]" in message and "b from In[2]" in message and "In[4]" in message


def test_in_order_history_has_no_warnings() -> None:
    history = entries("import numpy as np", "x = np.arange(3)", "y = x * 2", "import numpy as np",
                      "def f(v):\n    return v + 1", "w = f(y)", "def f(v):\n    return v + 1")
    deps, warnings = analyze_dependencies("z = f(w) + y.sum() + len(x)", history, {"np", "x", "y", "f", "w"})
    # Re-running an import or an unchanged def rebinds nothing new.
    assert warnings == []
    assert {d.name: d.execution_count for d in deps} == {"f": 7, "w": 6, "x": 2, "y": 3}


def test_dotted_imports_bind_their_top_level_package() -> None:
    history = entries("import os.path, numpy.linalg as nl", "x = os.sep", "import numpy.random")
    deps, warnings = analyze_dependencies("os.getcwd(); nl.norm; numpy.pi", history, {"os", "nl", "numpy"})
    assert {d.name: d.execution_count for d in deps} == {"os": 1, "nl": 1, "numpy": 3}
    assert warnings == []


def test_name_defined_outside_the_history_is_hidden_state() -> None:
    deps, warnings = analyze_dependencies("total = injected + known", entries("known = 1"), {"injected", "known"})
    assert Dependency("injected", None, None) in deps
    assert any("injected" in message for message in hidden(warnings))


def test_builtins_and_ipython_names_are_not_dependencies() -> None:
    namespace = {"In", "Out", "get_ipython", "open", "_", "_i3", "_7", "exit", "data"}
    history = entries("data = [1]")
    deps, warnings = analyze_dependencies(
        "print(len(data), In[1], _, _i3, _7, open)\nget_ipython()", history, namespace
    )
    assert deps == [Dependency("data", 1, None)] and warnings == []
    # A builtin the user shadowed is a dependency like any other name.
    deps, _ = analyze_dependencies("y = len", entries("len = 3"), {"len"})
    assert deps == [Dependency("len", 1, None)]


def test_cell_edited_and_rerun_without_the_name_is_hidden_state() -> None:
    history = entries("model = fit()", "score = 1", cells=("A", "A"))
    deps, warnings = analyze_dependencies("print(model)", history, {"model", "score"})
    assert deps == [Dependency("model", 1, "A")]
    (message,) = hidden(warnings)
    assert "edited" in message and "In[2]" in message and "model" in message


def test_star_imports_and_run_explain_names_without_warning() -> None:
    history = entries("from helpers import *", "%run setup.py")
    deps, warnings = analyze_dependencies("y = helper_fn(1) + setting", history, {"helper_fn", "setting"},
                                          transform=transform)
    assert {d.execution_count for d in deps} == {2} and warnings == []


def test_raw_history_with_magics_is_understood() -> None:
    history = entries("%load_ext trackbook", "x = 1", "%%time\ny = x * 2", "x = 5")
    for how in (transform, None):
        deps, warnings = analyze_dependencies("%%time\nz = y + 1", history, {"x", "y"}, transform=how)
        assert deps == [Dependency("y", 3, None)]
        assert len(hidden(warnings)) == 1


def test_unparsable_tracked_cell_is_a_capture_note_not_an_exception() -> None:
    deps, warnings = analyze_dependencies("x = (", entries("y = 1"), {"y"})
    assert deps == [] and [w.kind for w in warnings] == ["capture_error"]


def test_unparsable_history_entries_bind_nothing() -> None:
    deps, warnings = analyze_dependencies("z = y", entries("y = 1", "y = (", "y ="), {"y"})
    assert deps == [Dependency("y", 1, None)] and warnings == []


def test_large_history_is_analysed_consistently() -> None:
    sources = [f"v{n} = v{n - 1} + 1" if n else "v0 = 0" for n in range(300)]
    history = entries(*sources)
    deps, warnings = analyze_dependencies("result = v299 * 2", history, {f"v{n}" for n in range(300)})
    assert deps == [Dependency("v299", 300, None)] and warnings == []


# -- parameters -----------------------------------------------------------------------------------


def test_papermill_parameters_last_injected_cell_wins() -> None:
    history = entries(
        "# Parameters\nalpha = 0.1\nname = 'a'",
        "x = 1",
        "# Parameters\nalpha = 0.6\nratios = [1, 2]\n",
        "# not parameters\nalpha = 9",
    )
    assert papermill_params(history) == {"alpha": 0.6, "ratios": [1, 2]}
    assert papermill_params(entries("alpha = 1")) == {}


class FakeEstimator:
    """Duck-typed like scikit-learn: get_params and fitted attributes ending in '_'."""

    def __init__(self, fitted: bool) -> None:
        self.depth = np.int64(4)
        if fitted:
            self.coef_ = [1.0]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"depth": self.depth, "rate": np.float32(0.5), "name": "fake", "cb": print,
                "layers": (8, 4), "inner": object(), "none": None, "nested__alpha": 1.5}


def test_estimator_params_of_a_fitted_estimator() -> None:
    assert estimator_params("model", FakeEstimator(fitted=True)) == {
        "model.depth": 4, "model.rate": 0.5, "model.name": "fake", "model.layers": [8, 4],
        "model.none": None, "model.nested__alpha": 1.5,
    }
    assert estimator_params("model", FakeEstimator(fitted=False)) == {}
    assert estimator_params("cls", FakeEstimator) == {}
    assert estimator_params("x", 3) == {}


def test_estimator_params_of_a_real_scikit_learn_pipeline() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=200))
    assert estimator_params("pipe", pipe) == {}  # not fitted yet
    pipe.fit(np.arange(20.0).reshape(10, 2), [0, 1] * 5)
    params = estimator_params("pipe", pipe)
    assert params["pipe.logisticregression__C"] == 0.5
    assert params["pipe.logisticregression__max_iter"] == 200
    assert params["pipe.standardscaler__with_mean"] is True
    assert not any(key.endswith(("steps", ".logisticregression")) for key in params)


def test_named_params_keep_json_and_describe_the_rest() -> None:
    namespace = {"lr": np.float64(0.25), "ids": [1, 2, 3], "frame": object(), "n": np.int32(7),
                 "long": "x" * 50, "huge": list(range(1000))}
    params = named_params(["lr", "ids", "frame", "n", "missing", "huge"], namespace)
    assert params["lr"] == 0.25 and type(params["lr"]) is float
    assert params["ids"] == [1, 2, 3] and params["n"] == 7 and type(params["n"]) is int
    assert params["frame"].startswith("<object object")
    assert "missing" not in params
    assert isinstance(params["huge"], str) and len(params["huge"]) <= 200


def test_jsonable_converts_numpy_values() -> None:
    assert jsonable(np.float32(1.5)) == 1.5 and type(jsonable(np.float32(1.5))) is float
    assert jsonable(np.bool_(True)) is True
    assert jsonable(np.array(3)) == 3
    assert jsonable(np.arange(3)) is None
    assert jsonable((1, "a", None)) == [1, "a", None]
    assert jsonable({"a": np.int8(1)}) == {"a": 1}
    assert jsonable(object()) is None


# -- metrics ----------------------------------------------------------------------------------------


def test_scalar_metrics_take_real_numbers_only() -> None:
    namespace = {
        "acc": 0.9, "n_rows": 150, "flag": True, "np_flag": np.bool_(False), "f32": np.float32(0.25),
        "i64": np.int64(3), "zero_d": np.array(0.75), "vector": np.arange(3), "name": "x",
        "diverged": float("nan"), "lr": 0.1, "_private": 1.0, "complex_0d": np.array(1j),
    }
    metrics, problems = scalar_metrics(list(namespace) + ["absent"], namespace, exclude={"lr"})
    assert problems == []
    assert set(metrics) == {"acc", "n_rows", "f32", "i64", "zero_d", "diverged"}
    assert metrics["zero_d"] == 0.75 and type(metrics["i64"]) is float
    assert math.isnan(metrics["diverged"])


def test_metrics_option_narrows_and_reports_what_it_cannot_record() -> None:
    namespace = {"a": 3.0, "b": 4.0, "label": "cat", "lr": 0.1}
    metrics, problems = scalar_metrics(["a", "b"], namespace, exclude={"lr"}, only=["b", "lr", "label", "gone"])
    assert metrics == {"b": 4.0, "lr": 0.1}
    assert len(problems) == 2
    assert any("label" in p and "str" in p for p in problems) and any("gone" in p for p in problems)
