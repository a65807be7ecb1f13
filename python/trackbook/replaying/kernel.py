"""The kernel manager and client a replay worker gives papermill.

:class:`ReadyKernelClient` is ready as soon as the kernel is.
jupyter_client's ``wait_for_ready`` ends by reading IOPub until it has been
quiet for 0.2 s, to drop the status messages of its ``kernel_info``
requests. Every replay paid those 0.2 s with both the worker and its kernel
idle, and in a batch the two jobs' kernels start in step, so they paused
together and left both cores idle. This client waits for what the quiet
period stands in for: the ``idle`` status of its own last ``kernel_info``
request on IOPub. IOPub is one ordered stream, so seeing that message proves
the subscription is live and that everything the earlier requests published
has been read. nbclient matches replies and outputs to its own requests by
message id, so nothing it waits for can be taken here. Over IPC its
sockets retry a kernel that is still binding them every 10 ms rather than
ZMQ's 100 ms, which left a started kernel unseen for up to a quarter of a
second.

:class:`ReplayKernelManager` talks to its kernel over Unix sockets in a
private directory when given one: no TCP ports to pick, so no port that
another process takes between the choice and the kernel's bind (a kernel
that loses that race dies at start), and no other local user can connect.
It starts ipykernel without its debugger (see
:data:`LAUNCH_WITHOUT_DEBUGGER`), stops the clients made for its kernel along
with the kernel, and waits for the killed kernel's exit rather than polling
for it. nbclient leaves a client open when it did not start the
kernel itself; in a worker that serves many replays, each such client kept
a heartbeat thread and four sockets that went on reconnecting to the dead
kernel's ports, and so to whichever later kernel was given one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import subprocess
import time
import uuid
from queue import Empty
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.client import KernelClient
from jupyter_client.manager import AsyncKernelManager, KernelManager
from traitlets import default

#: Seconds to wait for a ``kernel_info`` reply before asking again (jupyter_client's value).
REPLY_WAIT_S = 1.0
#: Seconds to wait on IOPub for the request's ``idle`` status before asking again (jupyter_client's value).
IOPUB_WAIT_S = 0.2
#: Milliseconds between a client socket's attempts to reach a kernel that is still starting.
RECONNECT_MS = 10
#: Longest Unix socket path accepted everywhere (macOS allows 104 bytes, Linux 108).
MAX_SOCKET_PATH = 100
#: Seconds to wait for a killed kernel to end before jupyter_client's own wait takes over.
KILL_WAIT_S = 5.0


class ReadyKernelClient(AsyncKernelClient):
    """An :class:`AsyncKernelClient` ready as soon as its kernel is: no quiet period, quick reconnects."""

    @default("context")
    def _reconnecting_context(self) -> zmq.asyncio.Context:
        # The client connects before the kernel has bound its sockets; ZMQ
        # then retries every RECONNECT_IVL (0.1 s by default), so a kernel
        # that was ready after 0.25 s was seen after 0.3-0.5 s, with both
        # processes idle meanwhile. Only over IPC: every TCP attempt takes a
        # local port, and a hundred a second raise the odds that one is a
        # port a starting kernel is about to bind.
        self._created_context = True
        context = zmq.asyncio.Context()
        if self.transport == "ipc":
            context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
        return context

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """Return once the kernel answered ``kernel_info`` on shell and IOPub carried its ``idle`` status.

        Raises
        ------
        RuntimeError
            The kernel died, or did not answer within ``timeout`` seconds
            (jupyter_client's errors, which nbclient reports).
        """
        if not isinstance(self.parent, KernelManager):
            # No process to watch: jupyter_client's heartbeat-first wait applies.
            await super().wait_for_ready(timeout=timeout)
            return
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            msg_id = self.kernel_info()
            reply = await self._next_message("shell", "kernel_info_reply", None, REPLY_WAIT_S)
            if reply is not None and await self._next_message("iopub", "status", msg_id, IOPUB_WAIT_S,
                                                                state="idle") is not None:
                if reply["parent_header"].get("msg_id") != msg_id:
                    # Earlier requests' replies came first on shell; take this one's too.
                    reply = await self._next_message("shell", "kernel_info_reply", msg_id, REPLY_WAIT_S) or reply
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    async def _next_message(
        self, channel: str, msg_type: str, parent_id: str | None, seconds: float, state: str | None = None
    ) -> dict[str, Any] | None:
        """The first ``msg_type`` message on ``channel`` (answering ``parent_id`` if given) within ``seconds``."""
        stream = self.shell_channel if channel == "shell" else self.iopub_channel
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                msg: dict[str, Any] = await stream.get_msg(timeout=left)
            except Empty:
                return None
            if msg["msg_type"] != msg_type:
                continue
            if parent_id is not None and msg["parent_header"].get("msg_id") != parent_id:
                continue
            if state is not None and msg["content"].get("execution_state") != state:
                continue
            return msg
        return None


#: Module names kernel specs run ipykernel with (``python -m ipykernel_launcher -f ...``).
IPYKERNEL_MODULES = ("ipykernel_launcher", "ipykernel")

#: What ``python -m ipykernel_launcher`` does, without importing the debugger.
#: ipykernel imports debugpy as it starts, for JupyterLab's debugger panel:
#: 0.2 s of CPU, a third of a short replay's, for a kernel nobody attaches
#: to. debugpy is hidden only while the kernel starts; replayed cells that
#: import it get it. Only the standard library and ipykernel are used: this
#: runs in the kernel's own Python, where trackbook may not be installed.
LAUNCH_WITHOUT_DEBUGGER = """\
import importlib.util, sys
from pathlib import Path
if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
    del sys.path[0]
launcher = importlib.util.find_spec("ipykernel_launcher")
if launcher is not None and launcher.origin:
    sys.argv[0] = launcher.origin
sys.modules["debugpy"] = None
from ipykernel.kernelapp import IPKernelApp
app = IPKernelApp.instance()
app.initialize()
del sys.modules["debugpy"]
app.start()
"""


def prepare_to_launch() -> None:
    """Do now what jupyter_client does at a process's first kernel start.

    Finding the first kernel spec imports IPython (for its kernel directory)
    and ipykernel's spec, and the first provisioner loads the provisioners'
    entry points: 55 ms of CPU. A worker that forks others does this before
    the fork, so none of them repeats it.
    """
    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    KernelProvisionerFactory.instance()
    for name in ("IPython.paths", "ipykernel.kernelspec"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def without_debugger(cmd: list[str]) -> list[str]:
    """``cmd`` with ``-m ipykernel_launcher`` (or ``-m ipykernel``) run by :data:`LAUNCH_WITHOUT_DEBUGGER`.

    Any other command (another language, a wrapper script) is returned unchanged.
    """
    for index in range(len(cmd) - 1):
        if cmd[index] == "-m" and cmd[index + 1] in IPYKERNEL_MODULES:
            return [*cmd[:index], "-c", LAUNCH_WITHOUT_DEBUGGER, *cmd[index + 2:]]
    return cmd


class ReplayKernelManager(AsyncKernelManager):
    """Starts one replay's kernel (without the debugger); :meth:`stop` ends it and every client made for it."""

    def __init__(self, *, socket_dir: str | None = None, **kwargs: Any) -> None:
        """``socket_dir``: a private directory for the kernel's IPC sockets (POSIX); TCP without one."""
        if socket_dir is not None and os.name == "posix":
            stem = os.path.join(socket_dir, f"k-{uuid.uuid4().hex[:12]}")
            # jupyter_client names the sockets <stem>-ipc-<n>, n counting up from 1.
            if len(os.fsencode(f"{stem}-ipc-99")) <= MAX_SOCKET_PATH:
                kwargs.update(transport="ipc", connection_file=f"{stem}.json")
        super().__init__(client_factory=ReadyKernelClient, **kwargs)
        self._clients: list[KernelClient] = []

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return without_debugger(super().format_kernel_cmd(extra_arguments))

    def client(self, **kwargs: Any) -> AsyncKernelClient:  # type: ignore[override]
        made = super().client(**kwargs)
        self._clients.append(made)
        return made

    async def stop(self) -> None:
        """Close the clients' channels, then kill the kernel without a graceful wait."""
        for made in self._clients:
            made.stop_channels()
        self._clients.clear()
        process = getattr(self.provisioner, "process", None)
        if isinstance(process, subprocess.Popen) and self.provisioner is not None:
            # jupyter_client checks every 0.1 s whether a killed kernel has
            # ended; the last kernel of a batch is waited for, so wait for the
            # exit itself. shutdown_kernel then finds it gone and cleans up.
            await self.provisioner.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(process.wait, KILL_WAIT_S)
        await self.shutdown_kernel(now=True)
