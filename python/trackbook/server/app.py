"""The trackbook server extension application.

The registry service is a traitlets ``Type`` so deployments and tests can
swap it (as jupyter-scheduler does with its scheduler class).
"""

from __future__ import annotations

import os
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Type, Unicode

from .._version import __version__
from .info import InfoHandler
from .service import RegistryService


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

    def initialize_settings(self) -> None:
        root = self.serverapp.root_dir if self.serverapp is not None else os.getcwd()
        service = self.service_class(store=self.store, root_dir=root)
        # Kernels inherit the server's environment: exporting the store here
        # makes every kernel this server starts write where the sidebar reads.
        os.environ["TRACKBOOK_STORE"] = service.location.export_value
        self.settings.update({"trackbook_service": service})
        self.log.info("trackbook %s: store %s", __version__, service.location.display_url)

    def initialize_handlers(self) -> None:
        self.handlers.extend([(r"/trackbook/info", InfoHandler)])

    async def stop_extension(self) -> None:
        service: Any = self.settings.get("trackbook_service")
        if service is not None:
            service.close()
