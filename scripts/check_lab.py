"""Start JupyterLab from the current environment and check trackbook is served.

The page config lists the prebuilt federated extension, its remote entry is
served, and the server extension answers the handshake (only with a token).
"""

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def main() -> int:
    token, port = secrets.token_hex(16), free_port()
    root = tempfile.mkdtemp(prefix="trackbook-lab-")
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(root, "server.log"), "w+b")  # a pipe nobody reads could block the server
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", "--allow-root", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ},
    )
    try:
        for _ in range(120):
            try:
                if fetch(f"{base}/api/status", token)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            log.seek(0)
            raise SystemExit("JupyterLab did not start:\n" + log.read().decode(errors="replace"))
        status, page = fetch(f"{base}/lab?token={token}")
        assert status == 200, status
        match = re.search(rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
        config = json.loads(match.group(1))
        entries = [e for e in config["federated_extensions"] if e["name"] == "trackbook"]
        assert entries, "trackbook is not among the federated extensions"
        entry = entries[0]
        status, _ = fetch(f"{base}/lab/extensions/trackbook/{entry['load']}", token)
        assert status == 200, f"remote entry not served: {status}"
        status, body = fetch(f"{base}/trackbook/info", token)
        assert status == 200, (status, body)
        info = json.loads(body)
        status, _ = fetch(f"{base}/trackbook/info")
        assert status == 403, f"unauthenticated handshake answered {status}"
        print(f"JupyterLab serves trackbook {info['version']} (store: {info['store']['kind']}); "
              f"remote entry {entry['load']} OK; unauthenticated request refused")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
