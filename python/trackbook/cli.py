"""The ``trackbook`` command (also ``python -m trackbook``).

Every command takes ``--store URL`` and ``--json``. Exit status: 0 success,
1 the command ran and found a problem (``store verify``), 2 usage or lookup
errors, 3 the store cannot be opened.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import render
from ._version import __version__
from .entities import to_json
from .exceptions import SchemaMismatchError, StoreError, TrackbookError, UsageError

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_STORE = 0, 1, 2, 3


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (and ``sys.exit``s with it when run as a script)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.handler(args) or EXIT_OK)
    except (UsageError, LookupError) as exc:
        return _fail(args, exc, EXIT_USAGE)
    except SchemaMismatchError as exc:
        return _fail(args, exc, EXIT_STORE)
    except StoreError as exc:
        return _fail(args, exc, EXIT_STORE)
    except TrackbookError as exc:
        return _fail(args, exc, EXIT_PROBLEM)
    except BrokenPipeError:  # `trackbook runs | head`
        return EXIT_OK


def _fail(args: argparse.Namespace, exc: Exception, code: int) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
    else:
        print(f"trackbook: {exc}", file=sys.stderr)
    return code


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", default=None, help="store path or URL (default: TRACKBOOK_STORE, else .trackbook/ found upwards)")
    common.add_argument("--json", action="store_true", help="print machine-readable JSON")

    parser = argparse.ArgumentParser(prog="trackbook", description="Auditable, replayable notebook experiments.")
    parser.add_argument("--version", action="version", version=f"trackbook {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    runs = _command(commands, "runs", "list runs, newest first", common, cmd_runs)
    runs.add_argument("-q", "--query", default=None, help="text in name, notebook or code")
    runs.add_argument("--status", choices=["running", "finished", "failed", "interrupted"])
    runs.add_argument("--notebook", default=None, help="only runs of this notebook path")
    runs.add_argument("--tag", action="append", default=None, help="key=value, repeatable")
    runs.add_argument("-n", "--limit", type=int, default=50, help="how many (default 50; 0 for all)")

    show = _command(commands, "show", "show one run with every facet", common, cmd_show)
    show.add_argument("run", help="run id, unique id prefix, or run name")

    diff = _command(commands, "diff", "differences between two runs", common, cmd_diff)
    diff.add_argument("run_a")
    diff.add_argument("run_b")

    store = _command(commands, "store", "inspect, upgrade or verify the store", common, None)
    store_commands = store.add_subparsers(title="store commands", metavar="ACTION")
    _command(store_commands, "info", "where the store is and what it holds", common, cmd_store_info)
    _command(store_commands, "upgrade", "migrate the store to this trackbook's schema", common, cmd_store_upgrade)
    _command(store_commands, "verify", "check database integrity and every blob's hash", common, cmd_store_verify)
    store.set_defaults(handler=lambda args: _usage(store))

    demo = _command(commands, "demo", "run the quickstart notebook headless into a fresh store", common, cmd_demo)
    demo.add_argument("--output-dir", default=None, help="where to write the executed notebook (default: a temp dir)")
    return parser


def _command(
    group: Any, name: str, help_text: str, common: argparse.ArgumentParser,
    handler: Callable[[argparse.Namespace], int | None] | None,
) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = group.add_parser(name, help=help_text, description=help_text, parents=[common])
    if handler is not None:
        sub.set_defaults(handler=handler)
    return sub


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_USAGE


def _open(args: argparse.Namespace, create: bool = False) -> Any:
    from .store import open_store

    return open_store(args.store, create=create)


def _emit(args: argparse.Namespace, payload: Any, text: Callable[[], str]) -> None:
    if args.json:
        print(json.dumps(to_json(payload), indent=2, default=str))
    else:
        print(text())


# -- commands ------------------------------------------------------------------


def cmd_runs(args: argparse.Namespace) -> int:
    from .options import parse_tags

    store = _open(args)
    store.mark_interrupted()
    summaries = store.list_runs(
        q=args.query, status=args.status, notebook=args.notebook,
        tags=parse_tags(args.tag) or None, limit=args.limit or None,
    )
    _emit(args, summaries, lambda: render.runs_table(summaries))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    store = _open(args)
    store.mark_interrupted()
    run = store.get_run(args.run)
    _emit(args, run, lambda: render.run_details(run))
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from .comparison import diff_runs

    store = _open(args)
    diff = diff_runs(store.get_run(args.run_a), store.get_run(args.run_b))
    _emit(args, diff, lambda: render.run_diff(diff))
    return EXIT_OK


def cmd_store_info(args: argparse.Namespace) -> int:
    info = _open(args).info()
    _emit(args, info, lambda: render.mapping(info))
    return EXIT_OK


def cmd_store_upgrade(args: argparse.Namespace) -> int:
    from .store import upgrade_store

    result = upgrade_store(args.store)
    _emit(args, result, lambda: render.mapping(result))
    return EXIT_OK


def cmd_store_verify(args: argparse.Namespace) -> int:
    report = _open(args).verify()
    _emit(args, report, lambda: render.verify_report(report))
    return EXIT_OK if report.ok else EXIT_PROBLEM


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    result = run_demo(store=args.store, output_dir=args.output_dir, echo=not args.json)
    _emit(args, result, lambda: render.demo_result(result))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
