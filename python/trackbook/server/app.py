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
from traitlets import Float, Type, Unicode

from .._version import __version__
from .artifacts import ArtifactHandler
from .base import NotFoundHandler
from .info import InfoHandler
from .models import ModelHandler, ModelsHandler
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

    def initialize_settings(self) -> None:
        root = self.serverapp.root_dir if self.serverapp is not None else os.getcwd()
        service = self.service_class(store=self.store, root_dir=root)
        # Kernels inherit the server's environment: exporting the store here
        # makes every kernel this server starts write where the sidebar reads.
        os.environ["TRACKBOOK_STORE"] = service.location.export_value
        self.settings.update({"trackbook_service": service})
        self.log.info("trackbook %s: store %s", __version__, service.location.display_url)
        self._housekeeping: PeriodicCallback | None = None
        if self.housekeeping_interval > 0:
            self._housekeeping = PeriodicCallback(
                self._mark_interrupted, self.housekeeping_interval * 1000
            )
            self._housekeeping.start()

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
                (r"/trackbook/models", ModelsHandler),
                (rf"/trackbook/models/(?P<name>{_SEGMENT})", ModelHandler),
                (r"/trackbook/(?P<rest>.*)", NotFoundHandler),
            ]
        )

    async def stop_extension(self) -> None:
        housekeeping: PeriodicCallback | None = getattr(self, "_housekeeping", None)
        if housekeeping is not None:
            housekeeping.stop()
        service: Any = self.settings.get("trackbook_service")
        if service is not None:
            with contextlib.suppress(Exception):
                service.close()
