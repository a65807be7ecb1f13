"""The trackbook server extension application.

The registry service is a traitlets ``Type`` so deployments and tests can
swap it (as jupyter-scheduler does with its scheduler class).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import PeriodicCallback
from traitlets import Float, Int, Type, Unicode

from .._version import __version__
from ..replaying.engine import DEFAULT_TIMEOUT_S
from .artifacts import ArtifactHandler
from .base import NotFoundHandler
from .info import InfoHandler
from .models import ModelHandler, ModelsHandler
from .replay_launcher import ReplayLauncher
from .replays import ReplayHandler, ReplayReportHandler, RunReplaysHandler
from .runs import RunHandler, RunsHandler
from .service import RegistryService

#: Path arguments: one segment each; the handlers validate them (400/404 as JSON).
_SEGMENT = r"[^/]+"


class TrackbookApp(ExtensionApp):
    """Serves the run registry under ``/trackbook/`` and shares its store with kernels."""

    name = "trackbook"
    version = __version__
    load_other_extensions = True

    store = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Store path or URL (default: TRACKBOOK_STORE, else .trackbook/ found from the server's root).",
    )
    service_class = Type(
        default_value=RegistryService,
        klass=RegistryService,
        config=True,
        help="The registry service the REST handlers call.",
    )
    housekeeping_interval = Float(
        60.0,
        config=True,
        help="Seconds between checks that mark runs whose kernel died as interrupted (0: never).",
    )
    max_concurrent_replays = Int(
        2,
        min=1,
        config=True,
        help="Replays this server runs at once (each is a kernel); more wait, queued.",
    )
    max_queued_replays = Int(
        20,
        min=0,
        config=True,
        help="Replays that may wait for a free slot; beyond that, starting one answers 429.",
    )
    replay_timeout = Float(
        DEFAULT_TIMEOUT_S,
        config=True,
        help="Seconds a replay may run once its kernel started, when its request gives no timeout.",
    )

    def initialize_settings(self) -> None:
        root = self.serverapp.root_dir if self.serverapp is not None else os.getcwd()
        service = self.service_class(store=self.store, root_dir=root)
        # Kernels inherit the server's environment: exporting the store here
        # makes every kernel this server starts write where the sidebar reads.
        os.environ["TRACKBOOK_STORE"] = service.location.export_value
        launcher = self._replay_launcher(service, root)
        self.settings.update({"trackbook_service": service, "trackbook_replays": launcher})
        self.log.info("trackbook %s: store %s", __version__, service.location.display_url)
        self._housekeeping: PeriodicCallback | None = None
        if self.housekeeping_interval > 0:
            self._housekeeping = PeriodicCallback(
                self._mark_interrupted, self.housekeeping_interval * 1000
            )
            self._housekeeping.start()

    def _replay_launcher(self, service: RegistryService, root: str) -> ReplayLauncher:
        async def close_replay(replay_id: str, ename: str, evalue: str) -> None:
            await service.call(service.close_open_replay, replay_id, ename, evalue)

        return ReplayLauncher(
            env={**os.environ, "TRACKBOOK_STORE": service.location.export_value},
            cwd=root,
            max_running=self.max_concurrent_replays,
            max_queued=self.max_queued_replays,
            default_timeout=self.replay_timeout,
            close_replay=close_replay,
            log=self.log,
        )

    async def _mark_interrupted(self) -> None:
        service: RegistryService = self.settings["trackbook_service"]
        if not service.store_open:
            return  # never open the store just for housekeeping
        try:
            await service.call(service.mark_interrupted)
        except Exception:
            self.log.warning("trackbook: could not check for interrupted runs", exc_info=True)

    def initialize_handlers(self) -> None:
        self.handlers.extend(
            [
                (r"/trackbook/info", InfoHandler),
                (r"/trackbook/runs", RunsHandler),
                (rf"/trackbook/runs/(?P<run_id>{_SEGMENT})", RunHandler),
                (
                    rf"/trackbook/runs/(?P<run_id>{_SEGMENT})/artifacts/(?P<artifact_id>{_SEGMENT})",
                    ArtifactHandler,
                ),
                (rf"/trackbook/runs/(?P<run_id>{_SEGMENT})/replays", RunReplaysHandler),
                (rf"/trackbook/replays/(?P<replay_id>{_SEGMENT})", ReplayHandler),
                (rf"/trackbook/replays/(?P<replay_id>{_SEGMENT})/report", ReplayReportHandler),
                (r"/trackbook/models", ModelsHandler),
                (rf"/trackbook/models/(?P<name>{_SEGMENT})", ModelHandler),
                (r"/trackbook/(?P<rest>.*)", NotFoundHandler),
            ]
        )

    async def stop_extension(self) -> None:
        housekeeping: PeriodicCallback | None = getattr(self, "_housekeeping", None)
        if housekeeping is not None:
            housekeeping.stop()
        launcher: ReplayLauncher | None = self.settings.get("trackbook_replays")
        if launcher is not None:
            await launcher.stop()  # before the service closes: stopping records verdicts
        service: Any = self.settings.get("trackbook_service")
        if service is not None:
            with contextlib.suppress(Exception):
                service.close()
