"""Seed every random number generator a cell can use, and record how.

A run always has a seed: the one given with ``--seed``, else a fresh 32-bit
one, recorded either way, so a replay with that seed draws the same numbers.
On entering :class:`SeedContext`:

* ``random`` is seeded;
* NumPy's legacy global generator (``np.random.rand`` & co.) is seeded, and
  ``numpy.random.default_rng`` is replaced, for the duration of the cell, by a
  function that gives *unseeded* calls a child seed derived from the run's
  seed (the k-th call gets ``SeedSequence([seed, k])``'s first 32-bit word),
  so ``default_rng()`` becomes reproducible too; the child seeds are recorded
  and ``default_rng(child)`` reproduces each generator exactly;
* torch (``manual_seed``) and TensorFlow (``random.set_seed``) are seeded.

A library is never imported here just to seed it (that would cost seconds and
change the environment). A library the *cell* imports is seeded right after
its import, through an import hook that lives only while the cell runs.

Names bound to ``default_rng`` before the cell: those in the user namespace
(``from numpy.random import default_rng`` in an earlier cell) are swapped for
the duration of the cell when the namespace is given. Limitation: a name bound
to the original function in *another module* before the cell (the user's own
package imported it) keeps calling the original, unseeded.

The record (:attr:`SeedContext.record`) is, for example::

    {"seed": 7, "random": 7, "numpy": 7, "default_rng": [2083679832],
     "torch": 7, "PYTHONHASHSEED": None}

with a key per library actually seeded, ``default_rng`` listing the child seed
of each unseeded call in order (the first :data:`MAX_RECORDED_CHILDREN`;
``default_rng_calls`` counts them when there were more; :func:`child_seed`
recomputes any), and ``errors`` naming a library that could not be seeded.
"""

from __future__ import annotations

import functools
import itertools
import os
import random
import sys
from collections.abc import Callable, MutableMapping
from secrets import randbits
from types import ModuleType, TracebackType
from typing import Any, Self

from ..exceptions import UsageError

#: Child seeds listed in the record; later ones are derivable from the seed and their index.
MAX_RECORDED_CHILDREN = 100

_WRAPPED_MARK = "__trackbook_original__"


class SeedContext:
    """Seed ``random``, NumPy, torch and TensorFlow for one cell run.

    Parameters
    ----------
    seed:
        The run's seed, ``0 <= seed < 2**32``; ``None`` draws a fresh one.
    namespace:
        The user namespace: names in it bound to ``numpy.random.default_rng``
        are swapped for the seeding version while the context is active.
    """

    def __init__(self, seed: int | None = None, namespace: MutableMapping[str, Any] | None = None) -> None:
        if seed is None:
            seed = randbits(32)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise UsageError(f"a seed must be an integer between 0 and {2**32 - 1}, got {seed!r}")
        self.seed = seed
        self._namespace = namespace
        self._seeded: dict[str, int] = {}
        self._errors: dict[str, str] = {}
        self._children: list[int] = []
        self._calls = itertools.count()
        self._child_calls = 0
        self._numpy: Any = None
        self._original: Any = None
        self._wrapper: Any = None
        self._hook: _SeedOnImport | None = None

    # -- the record ----------------------------------------------------------------

    @property
    def record(self) -> dict[str, Any]:
        """What was seeded, with which seed: the run's ``seeds`` facet."""
        record: dict[str, Any] = {"seed": self.seed, **self._seeded}
        if "numpy" in self._seeded:
            record["default_rng"] = list(self._children)
            if self._child_calls > len(self._children):
                # The rest are derivable: call k used child_seed(seed, k).
                record["default_rng_calls"] = self._child_calls
        record["PYTHONHASHSEED"] = os.environ.get("PYTHONHASHSEED")
        if self._errors:
            record["errors"] = dict(self._errors)
        return record

    # -- context protocol -------------------------------------------------------------

    def __enter__(self) -> Self:
        _ACTIVE.append(self)
        random.seed(self.seed)
        self._seeded["random"] = self.seed
        pending: dict[str, Callable[[ModuleType], None]] = {}
        for module_name, arm in (("numpy.random", self._arm_numpy), ("torch", self._arm_torch),
                                 ("tensorflow", self._arm_tensorflow)):
            module = sys.modules.get(module_name)
            if module is None:
                pending[module_name] = arm
            else:
                self._guarded(arm, module)
        # Libraries the cell imports get seeded right after their import.
        self._hook = _SeedOnImport(pending, self._guarded)
        sys.meta_path.insert(0, self._hook)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        hook, self._hook = self._hook, None
        if hook is not None and hook in sys.meta_path:
            sys.meta_path.remove(hook)
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        if not any(context._numpy is not None for context in _ACTIVE):
            self._restore_default_rng()  # an enclosing run still needs the wrapper otherwise

    # -- per library -------------------------------------------------------------------

    def _guarded(self, arm: Callable[[ModuleType], None], module: ModuleType) -> None:
        try:
            arm(module)
        except Exception as exc:  # a library that cannot be seeded must not fail the cell
            self._errors[module.__name__.partition(".")[0]] = f"{type(exc).__name__}: {exc}"

    def _arm_numpy(self, numpy_random: Any) -> None:
        numpy_random.seed(self.seed)
        self._seeded["numpy"] = self.seed
        current = numpy_random.default_rng
        self._original = original = getattr(current, _WRAPPED_MARK, current)
        self._wrapper = wrapper = _default_rng_wrapper(numpy_random, original)
        self._numpy = numpy_random
        numpy_random.default_rng = wrapper
        if self._namespace is not None:
            swapped = [key for key, value in self._namespace.items() if value is original]
            for key in swapped:
                self._namespace[key] = wrapper

    def _child_seed(self, seed_sequence: Any) -> int:
        index = next(self._calls)
        self._child_calls = max(self._child_calls, index + 1)
        child = int(seed_sequence([self.seed, index]).generate_state(1)[0])
        if index < MAX_RECORDED_CHILDREN:
            self._children.append(child)
        return child

    def _restore_default_rng(self) -> None:
        numpy_random, wrapper, original = self._numpy, self._wrapper, self._original
        if numpy_random is None or wrapper is None:
            return
        if numpy_random.default_rng is wrapper:
            numpy_random.default_rng = original
        if self._namespace is not None:
            # Also names the cell itself bound (``from numpy.random import default_rng``).
            for key in [key for key, value in self._namespace.items() if value is wrapper]:
                self._namespace[key] = original

    def _arm_torch(self, torch: ModuleType) -> None:
        torch.manual_seed(self.seed)
        self._seeded["torch"] = self.seed

    def _arm_tensorflow(self, tensorflow: ModuleType) -> None:
        tensorflow.random.set_seed(self.seed)
        self._seeded["tensorflow"] = self.seed


#: Active contexts, innermost last: unseeded ``default_rng()`` calls serve the innermost.
_ACTIVE: list[SeedContext] = []
#: One wrapper per original ``default_rng``, shared by every run, so a wrapper that
#: escaped into another module (``from numpy.random import default_rng`` during a
#: tracked cell) keeps working: outside a run it is the original function.
_WRAPPERS: dict[int, Any] = {}


def _default_rng_wrapper(numpy_random: Any, original: Any) -> Any:
    wrapper = _WRAPPERS.get(id(original))
    if wrapper is not None:
        return wrapper
    seed_sequence = numpy_random.SeedSequence

    @functools.wraps(original)
    def default_rng(seed: Any = None) -> Any:
        if seed is None and _ACTIVE:
            seed = _ACTIVE[-1]._child_seed(seed_sequence)
        return original(seed)

    setattr(default_rng, _WRAPPED_MARK, original)
    _WRAPPERS[id(original)] = default_rng  # the closure keeps ``original`` (and its id) alive
    return default_rng


def child_seed(seed: int, index: int) -> int:
    """The seed the ``index``-th unseeded ``default_rng()`` call of a run got (needs NumPy)."""
    import numpy

    return int(numpy.random.SeedSequence([seed, index]).generate_state(1)[0])


class _SeedOnImport:
    """A meta path finder that runs an action right after selected modules are imported.

    It finds nothing itself: it asks the finders after it, then wraps the
    loader so the action runs once the module has executed.
    """

    def __init__(self, actions: dict[str, Callable[[ModuleType], None]],
                 run: Callable[[Callable[[ModuleType], None], ModuleType], None]) -> None:
        self.actions = actions
        self.run = run
        self._busy = False

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        action = self.actions.get(fullname)
        if action is None or self._busy:
            return None
        self._busy = True
        try:
            spec = None
            for finder in sys.meta_path:
                find_spec = getattr(finder, "find_spec", None)
                if finder is self or find_spec is None:
                    continue
                spec = find_spec(fullname, path, target)
                if spec is not None:
                    break
        finally:
            self._busy = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        del self.actions[fullname]
        spec.loader = _ThenLoader(spec.loader, lambda module: self.run(action, module))
        return spec


class _ThenLoader:
    """Delegates to the real loader, then runs ``then(module)``."""

    def __init__(self, loader: Any, then: Callable[[ModuleType], None]) -> None:
        self.loader = loader
        self.then = then

    def create_module(self, spec: Any) -> Any:
        create = getattr(self.loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        # The module should see its real loader (resources, reloads), not this wrapper.
        module.__loader__ = self.loader
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            spec.loader = self.loader
        self.loader.exec_module(module)
        self.then(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)
