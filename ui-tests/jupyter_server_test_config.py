"""JupyterLab server configuration for the integration tests.

Galata's defaults (no token, a temporary root, the test helper extension),
plus a trackbook store of its own so the tests never touch a real one.
"""

import os
import tempfile

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821  (c is the config object Jupyter passes in)

store = os.environ.setdefault("TRACKBOOK_STORE", os.path.join(tempfile.mkdtemp(prefix="trackbook-ui-"), ".trackbook"))
c.TrackbookApp.store = store  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821  (CI machines run the tests as root)
