"""IPython adapter: ``%%track`` and ``%trackbook``.

Thin on purpose: parse the line, gather plain values from the shell, execute
the body the way IPython would, and hand everything to
:class:`trackbook.tracking.Tracker`.
"""

from __future__ import annotations

import ast
import os
import shlex
from typing import Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display

from .exceptions import TrackbookError
from .options import TrackOptions, parse_seed, parse_tags, split_names
from .summary import summary_bundle
from .replaying.plan import REPLAY_VARIABLE
from .tracking import CellContext, Tracker, apply_replay_plan, kernel_name_from_environment, tracked

#: The longest a cell waits for the previous run's record (a locked store's
#: bounded retries end well before); then it goes ahead, never hangs.
PRE_CELL_FLUSH_S = 10.0


@magics_class
class TrackMagics(Magics):
    """The ``%%track`` cell magic and the ``%trackbook`` line magic."""

    def __init__(self, shell: Any, tracker: Tracker) -> None:
        super().__init__(shell)
        self.tracker = tracker
        #: execution count -> notebook cell id, filled by the pre_run_cell hook
        self.cell_ids: dict[int, str] = {}
        self._current_cell_id: str | None = None

    # -- hooks -------------------------------------------------------------

    def pre_run_cell(self, info: Any) -> None:
        """Remember which notebook cell each execution came from; let earlier runs land.

        The previous tracked cell's record is written in the background;
        waiting for it here (usually it is long done) means a cell always
        sees the runs of the cells before it, in a subprocess (``!trackbook
        runs``) as much as through the API.
        """
        self.tracker.flush(PRE_CELL_FLUSH_S)
        cell_id = getattr(info, "cell_id", None)
        self._current_cell_id = cell_id
        if cell_id:
            self.cell_ids[_current_execution_count(self.shell)] = cell_id

    # -- %%track -------------------------------------------------------------

    @magic_arguments()
    @argument("name", nargs="?", default=None, help="a name for the run, e.g. train-forest")
    @argument("--seed", default=None, help="the run's seed (default: a fresh one, recorded)")
    @argument("--params", default=None, help="comma-separated names to record as parameters")
    @argument("--metrics", default=None, help="comma-separated names: record only these as metrics")
    @argument("--tag", action="append", default=None, help="key=value, repeatable")
    @argument("--no-models", action="store_true", help="do not store fitted models")
    @argument("--no-data", action="store_true", help="do not fingerprint data inputs")
    @cell_magic
    def track(self, line: str, cell: str) -> Any:
        """Run the cell and record it as a trackbook run.

        ::

            %%track [NAME] [--seed N] [--params a,b] [--metrics x,y] [--tag key=value]... [--no-models] [--no-data]
        """
        __tracebackhide__ = True  # noqa: F841  (hide this frame from the user's traceback)
        options = self._options(line)
        context = self._context(cell)
        plan = context.namespace.get(REPLAY_VARIABLE)
        if plan is not None:  # executing inside `trackbook replay`
            try:
                replayed = apply_replay_plan(plan, options, context)
            except TrackbookError as exc:
                raise IPythonUsageError(str(exc)) from None
            options, context = replayed.options, replayed.context
            if not replayed.record:
                return self._execute_seeded(cell, options.seed, context.namespace)
        active = None
        try:
            with tracked(self.tracker, context, options) as active:
                return self._execute(cell)
        finally:
            # After tracked() finished the run, so the summary shows its final
            # status, also when the body raised (the exception still propagates).
            if active is not None:
                self._show(active.run)

    def _options(self, line: str) -> TrackOptions:
        try:
            # POSIX splitting, so `%%track "my run"` names the run `my run`.
            words = shlex.split(line)
        except ValueError as exc:
            raise IPythonUsageError(f"%%track {line}: {exc}") from None
        try:
            args = self.track.parser.parse_args(words)
            return TrackOptions(
                name=args.name,
                seed=parse_seed(args.seed),
                params=split_names(args.params),
                metrics=split_names(args.metrics) if args.metrics is not None else None,
                tags=parse_tags(args.tag),
                models=not args.no_models,
                data=not args.no_data,
            )
        except TrackbookError as exc:
            raise IPythonUsageError(str(exc)) from None

    def _context(self, cell: str) -> CellContext:
        shell: Any = self.shell
        # The raw inputs (as typed, magics included) are the replay recipe;
        # `In` holds IPython's transformed Python instead.
        inputs = shell.history_manager.input_hist_raw
        return CellContext(
            source=cell,
            namespace=shell.user_ns,
            history_inputs=list(inputs),
            cell_ids=dict(self.cell_ids),
            execution_count=_current_execution_count(shell),
            cell_id=self._current_cell_id,
            notebook=_notebook_path(shell.user_ns),
            kernel_name=kernel_name_from_environment(),
            cwd=os.getcwd(),
            transform=shell.transform_cell,
        )

    def _execute(self, cell: str) -> Any:
        """Execute the body like a cell: statements, then the last expression's value."""
        __tracebackhide__ = True  # noqa: F841
        shell: Any = self.shell
        source = shell.transform_cell(cell)
        filename = shell.compile.cache(source, _current_execution_count(shell), raw_code=cell)
        tree = shell.transform_ast(shell.compile.ast_parse(source, filename=filename))
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
            last = ast.Expression(tree.body.pop().value)
        exec(shell.compile(tree, filename, "exec"), shell.user_global_ns, shell.user_ns)
        if last is not None:
            return eval(shell.compile(last, filename, "eval"), shell.user_global_ns, shell.user_ns)
        return None

    def _execute_seeded(self, cell: str, seed: int | None, namespace: Any) -> Any:
        """Execute the body with the run's seeding but record nothing (an earlier cell of a replay)."""
        __tracebackhide__ = True  # noqa: F841
        from .capture.seeds import SeedContext

        with SeedContext(seed, namespace=namespace):
            return self._execute(cell)

    def _show(self, run: Any) -> None:
        try:
            display(summary_bundle(run, self.tracker.store_display_url()), raw=True)
        except Exception as exc:  # the summary is a courtesy; never fail the cell for it
            print(f"trackbook: could not display the run summary ({exc})")

    # -- %trackbook ------------------------------------------------------------

    @line_magic
    def trackbook(self, line: str) -> Any:
        """``%trackbook status | store | last``: what trackbook is doing in this kernel."""
        command = line.strip() or "status"
        if command == "last":
            run = self.tracker.last_run
            if run is None:
                print("no run tracked in this kernel yet")
                return None
            display(summary_bundle(run, self.tracker.store_display_url()), raw=True)
            return None
        if command == "store":
            for key, value in self.tracker.store.info().items():
                print(f"{key}: {value}")
            return None
        if command == "status":
            last = self.tracker.last_run
            print(f"store: {self.tracker.store_display_url()}")
            print(f"last run: {last.id if last else '-'} ({last.status if last else 'none'})")
            return None
        raise IPythonUsageError(f"unknown %trackbook command {command!r}: use status, store or last")


def _current_execution_count(shell: Any) -> int:
    # IPython counts the cell before running it (pre_run_cell already sees the
    # next number), so the executing cell is In[execution_count - 1].
    return int(shell.execution_count) - 1


def _notebook_path(namespace: dict[str, Any]) -> str | None:
    # jupyter_server tells kernels their notebook via JPY_SESSION_NAME; ipykernel
    # mirrors it into __session__ (also set when it changes after a rename).
    session = namespace.get("__session__") or os.environ.get("JPY_SESSION_NAME")
    return str(session) if session else None


def load(shell: Any) -> TrackMagics:
    """Register the magics and hooks on ``shell`` (``%load_ext trackbook``)."""
    existing: TrackMagics | None = getattr(shell, "_trackbook_magics", None)
    if existing is not None:
        return existing
    magics = TrackMagics(shell, Tracker(cwd=os.getcwd()))
    shell.register_magics(magics)
    shell.events.register("pre_run_cell", magics.pre_run_cell)
    shell._trackbook_magics = magics
    from . import api

    api._set_kernel_tracker(magics.tracker)
    return magics


def unload(shell: Any) -> None:
    """Undo :func:`load` (``%unload_ext trackbook``)."""
    magics = getattr(shell, "_trackbook_magics", None)
    if magics is None:
        return
    shell.events.unregister("pre_run_cell", magics.pre_run_cell)
    magics.tracker.close()
    del shell._trackbook_magics
    from . import api

    api._set_kernel_tracker(None)
