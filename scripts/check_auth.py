"""Fail when any trackbook endpoint can be reached without authentication.

With unauthenticated access disallowed, Jupyter Server warns about every
handler verb that lacks an authentication decorator; this turns such a
warning into a failure.
"""

import sys
import warnings

from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import JupyterServerAuthWarning

app = ServerApp(
    allow_unauthenticated_access=False,
    jpserver_extensions={"trackbook": True},
    # An extension that fails to load would otherwise pass silently.
    reraise_server_extension_failures=True,
)

with warnings.catch_warnings(record=True) as records:
    warnings.simplefilter("always")
    app.initialize(argv=[], find_extensions=False, new_httpserver=False)

problems = [str(r.message) for r in records if issubclass(r.category, JupyterServerAuthWarning)]
routes = [rule.matcher.regex.pattern for rule in app.web_app.default_router.rules[0].target.rules
          if "trackbook" in rule.matcher.regex.pattern] if app.web_app else []
if problems:
    sys.exit("\n".join(problems) + "\n\nAdd @tornado.web.authenticated (outermost) to the verbs above.")
if not routes:
    sys.exit("no trackbook route was registered: the server extension did not load")
print(f"all {len(routes)} trackbook routes require authentication")
