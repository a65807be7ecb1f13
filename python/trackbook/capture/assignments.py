"""What a cell binds and reads, from its syntax alone (no execution).

Several facets need the same facts about a cell: parameters are its literal
assignments, metrics and models are among the names it stores, data inputs
and dependencies are the names it reads. :func:`cell_facts` computes them in
one pass over the AST and caches the result per source string, because the
same history entries are analysed again for every tracked cell of a session.

IPython syntax: sources may contain ``%magic`` / ``!cmd`` lines. Valid Python
is parsed as is; otherwise the caller's ``transform`` (the kernel passes
``shell.transform_cell``) turns the cell into Python, and without one a small
fallback rewrites magic lines the same way IPython would. The bodies of
``%%track``, ``%%time``, ``%%capture`` and ``%time`` execute in the user's
namespace, so they are analysed as part of the cell. Unparsable code never
raises: the facts are empty and ``note`` says why.

Scoping follows Python's rules: comprehensions and function bodies have
their own scopes; a function body's reads of globals count as reads of the
cell (resolved at the end of the cell, since the body runs when called); class
bodies run immediately.
"""

from __future__ import annotations

import ast
import copy
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Transform = Callable[[str], str]

#: Cell magics whose body runs as Python in the user's namespace.
BODY_CELL_MAGICS = frozenset({"track", "time", "capture"})
#: Line magics whose argument runs as Python in the user's namespace.
BODY_LINE_MAGICS = frozenset({"time"})
#: Line magics that may bind any name (``%run script.py``, ``%store -r``).
OPAQUE_LINE_MAGICS = frozenset({"run", "store"})

#: Literal parameters longer than this (as text) are not parameters but data.
MAX_LITERAL_CHARS = 1000

_MAX_MAGIC_DEPTH = 4


@dataclass(frozen=True)
class CellFacts:
    """Names a cell binds and reads.

    Attributes
    ----------
    stored:
        Module-level names the cell binds, in order of first binding.
    binds:
        ``stored`` plus names the cell's functions declare ``global`` and assign
        (bound when they are called).
    loaded:
        Free names: read before the cell binds them (builtins included).
    literals:
        ``name = <literal>`` statements at the top level whose name the cell
        binds nowhere else (the last value wins); JSON-ready values.
    loop_targets:
        Module-level ``for`` loop variables (counters, rarely results).
    imports:
        Names bound only by imports -> what they import (``np`` -> ``numpy``).
    definitions:
        Names bound only by ``def`` / ``class``.
    opaque:
        The cell may bind names no analysis can see (``from m import *``, ``%run``).
    note:
        Why the facts are empty, when the source could not be parsed.
    """

    stored: tuple[str, ...] = ()
    binds: frozenset[str] = frozenset()
    loaded: frozenset[str] = frozenset()
    literals: dict[str, Any] = field(default_factory=dict)
    loop_targets: frozenset[str] = frozenset()
    imports: dict[str, str] = field(default_factory=dict)
    definitions: frozenset[str] = frozenset()
    opaque: bool = False
    note: str | None = None


def stored_names(source: str, transform: Transform | None = None) -> list[str]:
    """Module-level names the cell binds, in order of first binding.

    Covers assignments (with unpacking), augmented and annotated assignments,
    ``for`` and ``with ... as`` targets, imports, ``def``, ``class``, walrus
    and ``except ... as``. Attribute and item assignments bind no name.
    """
    return list(cell_facts(source, transform).stored)


def loaded_names(source: str, transform: Transform | None = None) -> set[str]:
    """Names the cell reads before binding them: its free variables."""
    return set(cell_facts(source, transform).loaded)


def literal_assignments(source: str, transform: Transform | None = None) -> dict[str, Any]:
    """Top-level ``name = <literal>`` assignments of the cell.

    Literals are numbers (negative too), strings, booleans, ``None`` and
    tuples/lists/dicts of them (tuples become lists, as JSON stores them). A
    name the cell also binds another way (``best = 0`` then ``best = max(...)``)
    is a result, not a parameter, and is left out.
    """
    return copy.deepcopy(cell_facts(source, transform).literals)


def cell_facts(source: str, transform: Transform | None = None) -> CellFacts:
    """Everything :mod:`trackbook.capture` needs to know about a cell's names (cached)."""
    try:
        return _cached_facts(source, transform)
    except TypeError:  # an unhashable transform: analyse without the cache
        return _analyse(source, transform)


@functools.lru_cache(maxsize=4096)
def _cached_facts(source: str, transform: Transform | None) -> CellFacts:
    return _analyse(source, transform)


def _analyse(source: str, transform: Transform | None) -> CellFacts:
    tree, note = parse_cell(source, transform)
    if tree is None:
        return CellFacts(note=note)
    try:
        return _Analyzer(transform).run(tree)
    except RecursionError:
        return CellFacts(note="the cell is nested too deeply to analyse")


def parse_cell(source: str, transform: Transform | None = None) -> tuple[ast.Module | None, str | None]:
    """Parse a cell as Python, turning IPython syntax into calls first if needed.

    Returns
    -------
    tuple
        ``(tree, None)``, or ``(None, note)`` when the cell is not Python.
    """
    try:
        return ast.parse(source), None
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    if transform is not None:
        try:
            python = transform(source)
        except Exception as exc:  # IPython's transformers raise on odd input
            return None, f"IPython could not transform the cell ({type(exc).__name__}: {exc})"
    else:
        python = rewrite_magics(source)
    try:
        return ast.parse(python), None
    except SyntaxError as exc:
        return None, f"not valid Python (line {exc.lineno}: {exc.msg})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, f"not valid Python ({type(exc).__name__})"


_LINE_MAGIC = re.compile(r"^(\s*)%(\w+)\s*(.*)$")
_SHELL = re.compile(r"^(\s*)!(.*)$")
_ASSIGNED_ESCAPE = re.compile(r"^(\s*)([\w.,\s*()\[\]]+?)\s*=\s*([%!])(\w*)\s*(.*)$")


def rewrite_magics(source: str) -> str:
    """IPython syntax to Python without IPython: a fallback for :func:`parse_cell`.

    ``%%magic`` cells, ``%magic`` and ``!cmd`` lines (also ``x = !cmd``) become
    the ``get_ipython()`` calls IPython itself would produce; help lines
    (``obj?``) become ``pass``.
    """
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        name, _, line = lines[0].lstrip()[2:].partition(" ")
        body = "\n".join(lines[1:]) + "\n"
        return f"get_ipython().run_cell_magic({name!r}, {line.strip()!r}, {body!r})\n"
    out = []
    for text in lines:
        stripped = text.strip()
        if stripped.endswith("?") and not stripped.startswith("#"):
            out.append(text[: len(text) - len(text.lstrip())] + "pass")
            continue
        if m := _LINE_MAGIC.match(text):
            out.append(f"{m[1]}get_ipython().run_line_magic({m[2]!r}, {m[3]!r})")
        elif m := _SHELL.match(text):
            out.append(f"{m[1]}get_ipython().system({m[2]!r})")
        elif m := _ASSIGNED_ESCAPE.match(text):
            if m[3] == "!":
                call = f"get_ipython().getoutput({(m[4] + ' ' + m[5]).strip()!r})"
            else:
                call = f"get_ipython().run_line_magic({m[4]!r}, {m[5]!r})"
            out.append(f"{m[1]}{m[2]} = {call}")
        else:
            out.append(text)
    return "\n".join(out) + "\n"


# -- the analysis --------------------------------------------------------------------


class _Scope:
    """One Python scope. Module and class scopes bind in order; function and
    comprehension scopes know all their locals up front (as Python does)."""

    __slots__ = ("globals", "kind", "names", "parent")

    def __init__(self, kind: str, parent: _Scope | None, names: Iterable[str] = (),
                 declared_globals: Iterable[str] = ()) -> None:
        self.kind = kind
        self.parent = parent
        self.names: set[str] = set(names)
        self.globals: set[str] = set(declared_globals)


class _Analyzer:
    """One pass over a cell's AST that collects its :class:`CellFacts`."""

    def __init__(self, transform: Transform | None) -> None:
        self.transform = transform
        self.module = _Scope("module", None)
        self.stored: dict[str, None] = {}
        self.may_bind: set[str] = set()
        self.free: set[str] = set()
        self.deferred: set[str] = set()
        self.loop_targets: set[str] = set()
        self.opaque = False
        self.bind_counts: dict[str, int] = {}
        self.bind_kinds: dict[str, set[str]] = {}
        self.literal_counts: dict[str, int] = {}
        self.literal_values: dict[str, Any] = {}
        self.top = False  # visiting a statement directly in the module body
        self.magic_depth = 0

    def run(self, tree: ast.Module) -> CellFacts:
        for node in tree.body:
            self.stmt(node, self.module, top=True)
        bound = set(self.stored) | self.may_bind
        loaded = self.free | (self.deferred - bound)
        literals = {
            name: value for name, value in self.literal_values.items()
            if self.literal_counts[name] == self.bind_counts.get(name, 0)
        }
        return CellFacts(
            stored=tuple(self.stored),
            binds=frozenset(bound),
            loaded=frozenset(loaded),
            literals=literals,
            loop_targets=frozenset(self.loop_targets),
            imports={name: next(iter(kinds))[7:] for name, kinds in self.bind_kinds.items()
                     if len(kinds) == 1 and next(iter(kinds)).startswith("import:")},
            definitions=frozenset(name for name, kinds in self.bind_kinds.items() if kinds == {"def"}),
            opaque=self.opaque,
        )

    # -- names -------------------------------------------------------------------

    def read(self, name: str, scope: _Scope) -> None:
        in_function = False
        current: _Scope | None = scope
        while current is not None:
            kind = current.kind
            if kind == "module":
                if in_function:
                    self.deferred.add(name)
                elif name not in current.names:
                    self.free.add(name)
                return
            if kind == "class":
                # A class body sees its own names; code nested in it does not.
                if current is scope and name in current.names:
                    return
            else:
                if name in current.globals:
                    in_function = in_function or kind == "function"
                    current = self.module
                    continue
                if name in current.names:
                    return
                if kind == "function":
                    in_function = True
            current = current.parent

    def bind(self, name: str, scope: _Scope, how: str = "value") -> None:
        """Record a binding; ``how`` is ``value``, ``def`` or ``import:<what>``."""
        kind = scope.kind
        if kind == "module":
            scope.names.add(name)
            self.stored.setdefault(name, None)
        elif kind == "class":
            scope.names.add(name)
            return
        elif name in scope.globals:
            self.may_bind.add(name)
        else:
            return
        self.bind_counts[name] = self.bind_counts.get(name, 0) + 1
        self.bind_kinds.setdefault(name, set()).add(how if kind == "module" else "value")

    def target(self, node: ast.AST, scope: _Scope) -> None:
        if isinstance(node, ast.Name):
            self.bind(node.id, scope)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                self.target(element, scope)
        elif isinstance(node, ast.Starred):
            self.target(node.value, scope)
        else:  # obj.attr = ..., obj[key] = ...: reads obj (and key), binds nothing
            self.expr(node, scope)

    # -- statements ----------------------------------------------------------------

    def stmt(self, node: ast.stmt, scope: _Scope, top: bool = False) -> None:
        outer = self.top
        self.top = top
        try:
            handler = getattr(self, "s_" + type(node).__name__, None)
            if handler is None:
                self.generic(node, scope)
            else:
                handler(node, scope)
        finally:
            self.top = outer

    def body(self, nodes: list[ast.stmt], scope: _Scope) -> None:
        for node in nodes:
            self.stmt(node, scope)

    def generic(self, node: ast.AST, scope: _Scope) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                self.stmt(child, scope)
            else:
                self.expr(child, scope)

    def s_Assign(self, node: ast.Assign, scope: _Scope) -> None:
        self.expr(node.value, scope)
        for target in node.targets:
            self.target(target, scope)
        if self.top and scope is self.module:
            self.note_literals(node.targets, node.value)

    def s_AugAssign(self, node: ast.AugAssign, scope: _Scope) -> None:
        self.expr(node.value, scope)
        if isinstance(node.target, ast.Name):
            self.read(node.target.id, scope)
        self.target(node.target, scope)

    def s_AnnAssign(self, node: ast.AnnAssign, scope: _Scope) -> None:
        self.expr(node.annotation, scope)
        if node.value is None:
            if not isinstance(node.target, ast.Name):
                self.expr(node.target, scope)
            return
        self.expr(node.value, scope)
        self.target(node.target, scope)
        if self.top and scope is self.module:
            self.note_literals([node.target], node.value)

    def s_For(self, node: ast.For | ast.AsyncFor, scope: _Scope) -> None:
        self.expr(node.iter, scope)
        self.target(node.target, scope)
        if scope is self.module:
            self.loop_targets.update(_target_names(node.target))
        self.body(node.body, scope)
        self.body(node.orelse, scope)

    s_AsyncFor = s_For

    def s_With(self, node: ast.With | ast.AsyncWith, scope: _Scope) -> None:
        for item in node.items:
            self.expr(item.context_expr, scope)
            if item.optional_vars is not None:
                self.target(item.optional_vars, scope)
        self.body(node.body, scope)

    s_AsyncWith = s_With

    def s_Try(self, node: ast.Try, scope: _Scope) -> None:
        self.body(node.body, scope)
        for handler in node.handlers:
            if handler.type is not None:
                self.expr(handler.type, scope)
            if handler.name:
                self.bind(handler.name, scope)
            self.body(handler.body, scope)
        self.body(node.orelse, scope)
        self.body(node.finalbody, scope)

    s_TryStar = s_Try

    def s_Import(self, node: ast.Import, scope: _Scope) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.partition(".")[0]
            self.bind(bound, scope, "import:" + (alias.name if alias.asname else bound))

    def s_ImportFrom(self, node: ast.ImportFrom, scope: _Scope) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.opaque = True
            else:
                origin = "." * node.level + (node.module or "") + ":" + alias.name
                self.bind(alias.asname or alias.name, scope, "import:" + origin)

    def s_Delete(self, node: ast.Delete, scope: _Scope) -> None:
        for target in node.targets:
            self.expr(target, scope)  # ``del x`` needs x to exist: a read

    def s_Global(self, node: ast.Global, scope: _Scope) -> None:
        return None

    s_Nonlocal = s_Global

    def s_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope) -> None:
        for decorator in node.decorator_list:
            self.expr(decorator, scope)
        self.arguments(node.args, scope)
        if node.returns is not None:
            self.expr(node.returns, scope)
        self.function_body(node.args, node.body, scope)
        self.bind(node.name, scope, "def")

    s_AsyncFunctionDef = s_FunctionDef

    def s_ClassDef(self, node: ast.ClassDef, scope: _Scope) -> None:
        for decorator in node.decorator_list:
            self.expr(decorator, scope)
        for base in node.bases:
            self.expr(base, scope)
        for keyword in node.keywords:
            self.expr(keyword.value, scope)
        self.body(node.body, _Scope("class", scope))
        self.bind(node.name, scope, "def")

    def s_Match(self, node: ast.Match, scope: _Scope) -> None:
        self.expr(node.subject, scope)
        for case in node.cases:
            self.pattern(case.pattern, scope)
            if case.guard is not None:
                self.expr(case.guard, scope)
            self.body(case.body, scope)

    def pattern(self, node: ast.pattern, scope: _Scope) -> None:
        if isinstance(node, ast.MatchValue):
            self.expr(node.value, scope)
            return
        if isinstance(node, ast.MatchClass):
            self.expr(node.cls, scope)
        for name in ("name", "rest"):
            bound = getattr(node, name, None)
            if isinstance(bound, str):
                self.bind(bound, scope)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.pattern):
                self.pattern(child, scope)
            elif isinstance(child, ast.expr) and not isinstance(node, ast.MatchClass):
                self.expr(child, scope)  # mapping keys

    # -- functions ----------------------------------------------------------------

    def arguments(self, args: ast.arguments, scope: _Scope) -> None:
        for default in args.defaults:
            self.expr(default, scope)
        for kw_default in args.kw_defaults:
            if kw_default is not None:
                self.expr(kw_default, scope)
        for arg in _all_args(args):
            if arg.annotation is not None:
                self.expr(arg.annotation, scope)

    def function_body(self, args: ast.arguments, body: list[ast.stmt] | ast.expr, scope: _Scope) -> None:
        statements: list[ast.stmt] = body if isinstance(body, list) else [ast.Expr(body)]
        bound, declared_globals = _local_bindings(statements)
        params = {arg.arg for arg in _all_args(args)}
        inner = _Scope("function", scope, (bound | params) - declared_globals, declared_globals)
        outer_top = self.top
        self.top = False
        try:
            self.body(statements, inner)
        finally:
            self.top = outer_top

    # -- expressions ------------------------------------------------------------------

    def expr(self, node: ast.AST, scope: _Scope) -> None:
        kind = type(node)
        if kind is ast.Name:
            assert isinstance(node, ast.Name)
            if isinstance(node.ctx, ast.Store):
                self.bind(node.id, scope)
            else:
                self.read(node.id, scope)
        elif kind is ast.Constant:
            return
        elif kind is ast.Attribute:
            assert isinstance(node, ast.Attribute)
            self.expr(node.value, scope)
        elif kind is ast.Call:
            assert isinstance(node, ast.Call)
            self.call(node, scope)
        elif kind is ast.NamedExpr:
            assert isinstance(node, ast.NamedExpr)
            self.expr(node.value, scope)
            owner = scope
            while owner.kind == "comprehension" and owner.parent is not None:
                owner = owner.parent  # a walrus in a comprehension binds outside it
            self.target(node.target, owner)
        elif kind is ast.Lambda:
            assert isinstance(node, ast.Lambda)
            self.arguments(node.args, scope)
            self.function_body(node.args, node.body, scope)
        elif kind in (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp):
            self.comprehension(node, scope)
        else:
            for child in ast.iter_child_nodes(node):
                self.expr(child, scope)

    def comprehension(self, node: ast.AST, scope: _Scope) -> None:
        assert isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp))
        generators = node.generators
        names: set[str] = set()
        for generator in generators:
            names.update(_target_names(generator.target))
        inner = _Scope("comprehension", scope, names)
        for index, generator in enumerate(generators):
            # The first iterable is evaluated in the enclosing scope.
            self.expr(generator.iter, scope if index == 0 else inner)
            for condition in generator.ifs:
                self.expr(condition, inner)
        if isinstance(node, ast.DictComp):
            self.expr(node.key, inner)
            self.expr(node.value, inner)
        else:
            self.expr(node.elt, inner)

    def call(self, node: ast.Call, scope: _Scope) -> None:
        magic = _magic_call(node)
        if magic is None:
            self.expr(node.func, scope)
            for arg in node.args:
                self.expr(arg, scope)
            for keyword in node.keywords:
                self.expr(keyword.value, scope)
            return
        self.read("get_ipython", scope)
        kind, name, line, body = magic
        if kind == "cell" and name in BODY_CELL_MAGICS and body is not None:
            self.inline(body, scope)
            if name == "capture":
                target = next((part for part in line.split() if not part.startswith("-")), None)
                if target is not None and target.isidentifier():
                    self.bind(target, scope)
        elif kind == "line" and name in BODY_LINE_MAGICS:
            self.inline(line, scope)
        elif kind == "line" and name in OPAQUE_LINE_MAGICS:
            self.opaque = True

    def inline(self, source: str, scope: _Scope) -> None:
        """Analyse a magic's body as part of this cell (it runs in the same namespace)."""
        if self.magic_depth >= _MAX_MAGIC_DEPTH:
            return
        tree, _ = parse_cell(source, self.transform)
        if tree is None:
            return
        self.magic_depth += 1
        try:
            top = self.top and scope is self.module
            for node in tree.body:
                self.stmt(node, scope, top=top)
        finally:
            self.magic_depth -= 1

    # -- literals ---------------------------------------------------------------------

    def note_literals(self, targets: list[ast.expr], value: ast.expr) -> None:
        pairs: list[tuple[ast.expr, ast.expr]] = []
        for target in targets:
            if isinstance(target, ast.Name):
                pairs.append((target, value))
            elif (isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List))
                    and len(target.elts) == len(value.elts)):
                pairs.extend(zip(target.elts, value.elts))
        for name_node, value_node in pairs:
            if not isinstance(name_node, ast.Name) or not _is_param_name(name_node.id):
                continue
            literal = _literal(value_node)
            if literal is _NOT_LITERAL:
                continue
            name = name_node.id
            self.literal_counts[name] = self.literal_counts.get(name, 0) + 1
            self.literal_values[name] = literal


_NOT_LITERAL = object()


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > MAX_LITERAL_CHARS:
        return _NOT_LITERAL
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL
    plain = _json_ready(value)
    if plain is _NOT_LITERAL or (not isinstance(plain, (str, int, float, bool, type(None)))
                                 and len(repr(plain)) > MAX_LITERAL_CHARS):
        return _NOT_LITERAL
    return plain


def _json_ready(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_json_ready(item) for item in value]
        return _NOT_LITERAL if any(item is _NOT_LITERAL for item in items) else items
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            return _NOT_LITERAL
        converted = {key: _json_ready(item) for key, item in value.items()}
        return _NOT_LITERAL if any(item is _NOT_LITERAL for item in converted.values()) else converted
    return _NOT_LITERAL  # bytes, complex, sets: not JSON


def _is_param_name(name: str) -> bool:
    return name != "_" and not (name.startswith("__") and name.endswith("__"))


def _magic_call(node: ast.Call) -> tuple[str, str, str, str | None] | None:
    """``get_ipython().run_cell_magic(name, line, body)`` / ``run_line_magic(name, line)``."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr in ("run_cell_magic", "run_line_magic")):
        return None
    owner = func.value
    if not (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
            and owner.func.id == "get_ipython" and not owner.args):
        return None
    values = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    if len(values) != len(node.args) or len(values) < 2:
        return None
    if func.attr == "run_cell_magic":
        return ("cell", values[0], values[1], values[2]) if len(values) >= 3 else None
    return "line", values[0], values[1], None


def _target_names(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, (ast.Tuple, ast.List)):
        names: set[str] = set()
        for element in node.elts:
            names |= _target_names(element)
        return names
    if isinstance(node, ast.Starred):
        return _target_names(node.value)
    return set()


def _all_args(args: ast.arguments) -> list[ast.arg]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if args.vararg is not None:
        every.append(args.vararg)
    if args.kwarg is not None:
        every.append(args.kwarg)
    return every


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _local_bindings(statements: list[ast.stmt]) -> tuple[set[str], set[str]]:
    """Names a function body binds anywhere (its locals) and the names it declares global."""
    bound: set[str] = set()
    declared: set[str] = set()
    nonlocal_names: set[str] = set()
    stack: list[ast.AST] = list(statements)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            stack.extend(node.decorator_list)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Global):
            declared.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            nonlocal_names.update(node.names)
        elif isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                bound.add(node.id)
            continue
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update(a.asname or a.name.partition(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
        elif isinstance(node, _COMPREHENSIONS):
            # Only a walrus inside a comprehension binds in the function.
            stack.extend(n for n in ast.walk(node) if isinstance(n, ast.NamedExpr))
            continue
        elif isinstance(node, ast.NamedExpr):
            bound |= _target_names(node.target)
            stack.append(node.value)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return bound - nonlocal_names - declared, declared
