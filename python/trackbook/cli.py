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
    # Called inside a kernel (tests, `%run`), the command reads runs this
    # process finished and whose records may still be on their way.
    from .api import flush

    flush()
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

    audit = _command(commands, "audit", "write a run's self-contained audit report (HTML or JSON)", common, cmd_audit)
    audit.add_argument("run", help="run id, unique id prefix, or run name")
    audit.add_argument("-o", "--output", default=None, metavar="FILE",
                       help="where to write the report; a name ending in .json gets the JSON form, "
                            "any other the HTML page; '-' prints it (default: audit-<run id>.html "
                            "in the current directory, or the JSON form on stdout with --json)")
    audit.add_argument("--integrity", choices=["auto", "full", "targeted"], default="auto",
                       help="verify the whole store (full), or only the audit chain and the blobs "
                            "of this run and its replays (targeted); auto: full unless the store is large")
    audit.epilog = ("The HTML page runs no scripts and loads nothing: it can be archived or mailed. "
                    "Exit status: 0 written, 1 written but the store failed its integrity check, "
                    "2 no such run, 3 no store.")

    _replay_parser(commands, common)

    store = _command(commands, "store", "inspect, upgrade or verify the store", common, None)
    store_commands = store.add_subparsers(title="store commands", metavar="ACTION")
    _command(store_commands, "info", "where the store is and what it holds", common, cmd_store_info)
    _command(store_commands, "upgrade", "migrate the store to this trackbook's schema", common, cmd_store_upgrade)
    _command(store_commands, "verify", "check database integrity and every blob's hash", common, cmd_store_verify)
    store.set_defaults(handler=lambda args: _usage(store))

    demo = _command(
        commands, "demo",
        "run the quickstart notebook headless into a fresh store, replay its runs and write an audit report",
        common, cmd_demo,
    )
    demo.add_argument(
        "--output-dir", default=None,
        help="where to write the executed notebook and the audit report (default: a temp dir)",
    )
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


def cmd_audit(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .report.api import ReportFormat, encode, write_atomic
    from .report.content import build_document

    to_stdout = args.output == "-" or (args.output is None and args.json)
    as_json = args.json if to_stdout else str(args.output or "").lower().endswith(".json")
    fmt: ReportFormat = "json" if as_json else "html"
    with _open(args) as store:
        document = build_document(store, args.run, thumbnails=fmt == "html", integrity=args.integrity)
    data = encode(document, fmt)
    integrity = document["integrity"]
    if to_stdout:
        sys.stdout.write(data.decode("utf-8"))
    else:
        path = write_atomic(Path(args.output or f"audit-{document['run']['id']}.html"), data)
        status = {"path": str(path), "format": fmt, "bytes": len(data), "replays": len(document["replays"]),
                  "integrity_ok": integrity["ok"], "integrity_mode": integrity["mode"]}
        verdict = "ok" if integrity["ok"] else "FAILED"
        _emit(args, status, lambda: f"wrote {path} ({len(data) // 1024 + 1} KB, {status['replays']} replays; "
                                    f"store integrity {verdict}, {integrity['mode']} check)")
    if not integrity["ok"]:
        print(f"trackbook: the store failed its integrity check ({len(integrity['problems'])} problems, "
              "listed in the report); run `trackbook store verify`", file=sys.stderr)
        return EXIT_PROBLEM
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


# -- replay -----------------------------------------------------------------------


def _replay_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    from .replaying.engine import DEFAULT_TIMEOUT_S

    replay = _command(commands, "replay", "re-execute runs in fresh kernels and judge whether they reproduce",
                      common, cmd_replay)
    replay.add_argument("runs", nargs="*", metavar="RUN", help="run id, unique id prefix, or run name")
    replay.add_argument("--all", action="store_true", help="every finished run that is not itself a replay")
    replay.add_argument("--since", default=None, metavar="DATE",
                        help="with --all: runs started at or after DATE (YYYY-MM-DD or ISO time; UTC unless given)")
    replay.add_argument("--notebook", default=None, metavar="PATH", help="with --all: only runs of this notebook")
    replay.add_argument("--jobs", type=int, default=1, metavar="N", help="replays at a time on this machine (default 1)")
    replay.add_argument("--executor", default=None, metavar="dask://HOST:PORT",
                        help="run the replays on this Dask scheduler (pip install \"trackbook[dask]\")")
    replay.add_argument("-p", "--param", nargs=2, action="append", default=None, metavar=("KEY", "VALUE"),
                        dest="params", help="replay with this parameter changed (VALUE is JSON, else text); repeatable")
    replay.add_argument("--mode", choices=["history", "notebook"], default="history",
                        help="history: the recorded execution order (default); notebook: the saved notebook top to bottom")
    replay.add_argument("--rtol", type=float, default=0.0, help="relative tolerance for metrics (default 0: exact)")
    replay.add_argument("--atol", type=float, default=0.0, help="absolute tolerance for metrics (default 0: exact)")
    replay.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                        help=f"seconds each replay may run once its kernel started (default {DEFAULT_TIMEOUT_S:g})")
    replay.epilog = ("Exit status: 0 every replayed run reproduced (or within tolerance), 1 a replay differs or "
                     "failed, 2 usage error or no such run, 3 no store.")


def cmd_replay(args: argparse.Namespace) -> int:
    from .replaying.batch import BatchResult, ReplayOptions, replay_many
    from .replaying.engine import replay_run
    from .replaying.parameters import parse_overrides
    from .replaying.text import batch_text, replay_text

    if args.all == bool(args.runs):
        raise UsageError("give RUN ids to replay, or --all (not both)")
    if (args.since or args.notebook) and not args.all:
        raise UsageError("--since and --notebook select runs for --all")
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be a number of seconds > 0, got {args.timeout:g}")
    if not (args.rtol >= 0 and args.atol >= 0):
        raise UsageError("--rtol and --atol must be >= 0 (0 compares metrics exactly)")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    options = ReplayOptions(mode=args.mode, overrides=parse_overrides(args.params or []),
                            rtol=args.rtol, atol=args.atol, timeout=args.timeout)
    store = _open(args)
    store.mark_interrupted()
    store.mark_abandoned_replays()
    run_ids = _replay_selection(store, args)
    if not run_ids:
        _emit(args, {"replays": [], "counts": {}, "reproduced": True}, lambda: "no runs to replay")
        return EXIT_OK
    if len(run_ids) == 1 and args.executor is None:
        say = (lambda message: None) if args.json else (lambda message: print(f"... {message}", file=sys.stderr))
        replay = replay_run(store, run_ids[0], mode=options.mode, overrides=options.overrides,
                            rtol=options.rtol, atol=options.atol, timeout=options.timeout, progress=say)
        results = [BatchResult(run_ids[0], replay)]
    else:
        results = replay_many(store.location.export_value, run_ids, options, jobs=args.jobs,
                              executor=args.executor, progress=not args.json)
    ok = all(result.reproduced for result in results)
    counts: dict[str, int] = {}
    for result in results:
        key = result.replay.verdict if result.replay is not None and result.replay.verdict else "error"
        counts[key] = counts.get(key, 0) + 1
    payload = {
        "replays": [result.replay if result.replay is not None else {"run_id": result.run_id, "error": result.error}
                    for result in results],
        "counts": counts,
        "reproduced": ok,
    }

    def text() -> str:
        details = [replay_text(r.replay) for r in results
                   if r.replay is not None and (len(results) == 1 or not r.reproduced)]
        return "\n\n".join(details + ([batch_text(results)] if len(results) > 1 else []))

    _emit(args, payload, text)
    return EXIT_OK if ok else EXIT_PROBLEM


def _replay_selection(store: Any, args: argparse.Namespace) -> list[str]:
    """Full run ids: the named runs (each must exist), or every original finished run for --all."""
    if not args.all:
        return list(dict.fromkeys(store.get_run(ref).id for ref in args.runs))
    since = _parse_since(args.since) if args.since else None
    notebook = args.notebook
    if notebook is not None:
        import os

        absolute = os.path.abspath(notebook)
        if store.list_runs(notebook=absolute, limit=1):
            notebook = absolute
    summaries = store.list_runs(status="finished", notebook=notebook)
    chosen = [s.id for s in summaries if s.replay_of is None and (since is None or s.started_at >= since)]
    return list(reversed(chosen))  # oldest first


def _parse_since(text: str) -> Any:
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {text!r}: give a date (2024-05-31) or an ISO time (2024-05-31T14:00)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
