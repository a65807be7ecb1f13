"""The replay worker's kernel: a client ready without a quiet period, a manager that closes its clients."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import psutil
import pytest
import zmq
from jupyter_client.channels import HBChannel

from trackbook.replaying.kernel import RECONNECT_MS, ReadyKernelClient, ReplayKernelManager, without_debugger

pytestmark = pytest.mark.kernel


async def _started(
    kernel_name: str = "python3", socket_dir: str | None = None
) -> tuple[ReplayKernelManager, ReadyKernelClient]:
    manager = ReplayKernelManager(kernel_name=kernel_name, socket_dir=socket_dir)
    await manager.start_kernel()
    client = manager.client()
    assert isinstance(client, ReadyKernelClient)
    client.start_channels()
    return manager, client


async def _stop(manager: ReplayKernelManager, client: ReadyKernelClient) -> None:
    await manager.stop()


def test_ready_client_leaves_only_the_next_requests_messages() -> None:
    async def scenario() -> tuple[list[Any], dict[str, Any], str]:
        manager, client = await _started()
        try:
            await client.wait_for_ready(timeout=60)
            msg_id = client.execute("print('after ready')")
            # The first message on each channel answers the request just sent:
            # every kernel_info reply and status of the handshake was read.
            reply = await client.get_shell_msg(timeout=30)
            iopub = [await client.get_iopub_msg(timeout=30)]
            while iopub[-1]["msg_type"] != "status" or iopub[-1]["content"]["execution_state"] != "idle":
                iopub.append(await client.get_iopub_msg(timeout=30))
            return iopub, reply, msg_id
        finally:
            await _stop(manager, client)

    iopub, reply, msg_id = asyncio.run(scenario())
    assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "ok"
    assert {message["parent_header"]["msg_id"] for message in iopub} == {msg_id}
    assert [m["content"]["text"] for m in iopub if m["msg_type"] == "stream"] == ["after ready\n"]


def test_ready_client_reports_a_kernel_that_died(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "kernels" / "dies"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", "import sys; sys.exit(3)", "{connection_file}"],
        "display_name": "dies at once", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))

    async def scenario() -> None:
        manager, client = await _started("dies")
        try:
            await client.wait_for_ready(timeout=60)
        finally:
            await _stop(manager, client)

    with pytest.raises(RuntimeError, match="died"):
        asyncio.run(scenario())


def test_stopping_the_manager_closes_every_client_it_made() -> None:
    # nbclient leaves its client open on a kernel it did not start: a worker
    # serving many replays would keep each one's heartbeat thread and sockets.
    async def scenario() -> tuple[ReadyKernelClient, bool, int]:
        manager, client = await _started()
        await client.wait_for_ready(timeout=60)
        pid = manager.provisioner.process.pid  # type: ignore[union-attr]
        await manager.stop()
        return client, manager.has_kernel, pid

    client, has_kernel, pid = asyncio.run(scenario())
    assert not client.channels_running
    assert not has_kernel
    assert not psutil.pid_exists(pid)  # ended and reaped, not left a zombie
    assert not [thread for thread in threading.enumerate() if isinstance(thread, HBChannel)]


def test_only_ipykernel_launches_change() -> None:
    launch = ["/env/bin/python", "-m", "ipykernel_launcher", "-f", "/run/kernel-1.json", "--flag"]
    changed = without_debugger(launch)
    assert changed[:2] == ["/env/bin/python", "-c"] and changed[3:] == launch[3:]
    assert without_debugger(["python", "-m", "ipykernel", "-f", "c.json"])[1] == "-c"
    other = ["R", "--slave", "-e", "IRkernel::main()", "--args", "c.json"]
    assert without_debugger(other) == other
    assert without_debugger(["python", "-m"]) == ["python", "-m"]


def test_a_replay_kernel_starts_without_the_debugger_and_can_still_import_it(tmp_path: Path) -> None:
    code = ("import sys, ipykernel.debugger as d; print(d._is_debugpy_available, 'debugpy' in sys.modules, "
            "sys.argv[0].endswith('ipykernel_launcher.py'), sys.argv[1] == '-f'); import debugpy; print('imported')")

    async def scenario() -> tuple[list[str], list[int]]:
        manager, client = await _started(socket_dir=str(tmp_path))
        try:
            await client.wait_for_ready(timeout=60)
            assert client.transport == "ipc"
            reconnect = [channel.socket.getsockopt(zmq.RECONNECT_IVL)
                         for channel in (client.shell_channel, client.iopub_channel)]
            out: list[str] = []
            reply = await client.execute_interactive(
                code, timeout=60,
                output_hook=lambda msg: out.append(msg["content"]["text"]) if msg["msg_type"] == "stream" else None,
            )
            assert reply["content"]["status"] == "ok", reply["content"]
            return "".join(out).splitlines(), reconnect
        finally:
            await _stop(manager, client)

    lines, reconnect = asyncio.run(scenario())
    assert lines == ["False False True True", "imported"]
    # Quick reconnects: the client finds a kernel that is still binding its sockets as soon as it is up.
    assert reconnect == [RECONNECT_MS, RECONNECT_MS]
    assert list(tmp_path.iterdir()) == []  # connection file and sockets removed with the kernel


def test_over_tcp_the_client_keeps_zmqs_reconnect_interval() -> None:
    # Each TCP attempt takes a local port: quick retries would compete with starting kernels for them.
    async def scenario() -> int:
        manager, client = await _started()
        try:
            await client.wait_for_ready(timeout=60)
            assert client.transport == "tcp"
            return int(client.shell_channel.socket.getsockopt(zmq.RECONNECT_IVL))
        finally:
            await _stop(manager, client)

    assert asyncio.run(scenario()) != RECONNECT_MS


def test_after_preparing_a_first_kernel_start_has_nothing_left_to_import() -> None:
    # What a forking worker does before its forks: none of them then pays for these imports.
    code = (
        "import sys\n"
        "from trackbook.replaying.kernel import ReplayKernelManager, prepare_to_launch\n"
        "prepare_to_launch()\n"
        "before = set(sys.modules)\n"
        "manager = ReplayKernelManager(kernel_name='python3')\n"
        "manager.format_kernel_cmd()\n"
        "print(sorted(name for name in set(sys.modules) - before\n"
        "             if name.partition('.')[0] not in sys.stdlib_module_names))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]", result.stdout
