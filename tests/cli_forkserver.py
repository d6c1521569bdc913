"""A ``gateway`` command that starts in milliseconds, for tests that run many of them
through a shell.

Most of a ``gateway`` command's time is spent importing the package and its libraries
(JSON-LD, crypto, SQLAlchemy): about 1.5 s of CPU each. :class:`ForkServer` runs one
process that imports them once and writes an executable ``gateway`` into a folder to put
first on ``PATH``. That executable (standard library only) hands its arguments,
environment, working directory and standard streams (the file descriptors themselves)
to the server, which forks; the child becomes the command, as a fresh ``gateway`` would
be, minus the imports, and the executable exits with its status. Nothing is run in the
server itself, so no state of one command reaches the next.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

START_TIMEOUT = 60.0

SERVER = r"""
import array, json, os, signal, socket, sys, traceback

import importlib
from gateway.cli import COMMANDS, main
for target in COMMANDS.values():
    try:  # a module that cannot be imported fails the commands that need it, in the child
        importlib.import_module(target.partition(":")[0])
    except Exception:
        pass

signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
path = sys.argv[1]
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(path + ".tmp")
listener.listen(16)
os.rename(path + ".tmp", path)  # the socket appears only once it accepts
while True:
    conn, _ = listener.accept()
    data, ancillary, _, _ = conn.recvmsg(1 << 20, socket.CMSG_SPACE(3 * 4))
    fds = array.array("i")
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    if os.fork():
        conn.close()
        for fd in fds:
            os.close(fd)
        continue
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    listener.close()
    request = json.loads(data)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["gateway", *request["argv"]]
    status = 0
    try:
        main(args=request["argv"], prog_name="gateway")
    except SystemExit as exc:
        code = exc.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if isinstance(code, str):
            print(code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    conn.sendall(status.to_bytes(4, "big", signed=True))
    os._exit(0)
"""

CLIENT = r"""
import array, json, os, socket, sys

conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
conn.connect({socket!r})
request = json.dumps(
    {{"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}}
).encode()
fds = array.array("i", [0, 1, 2])
conn.sendmsg([request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
status = b""
while len(status) < 4:
    chunk = conn.recv(4 - len(status))
    if not chunk:
        sys.exit("gateway: the command ended without a status")
    status += chunk
sys.exit(int.from_bytes(status, "big", signed=True))
"""


class ForkServer:
    """The server process and the ``gateway`` executable in ``folder / "bin"``.

    :param folder: where the socket, the executable and the server's log go.
    :param env: the server's environment (that of the commands is their own).
    """

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.bin = folder / "bin"
        self.bin.mkdir(parents=True)
        # A short path of its own: a socket path holds at most 107 bytes.
        self.socket_dir = Path(tempfile.mkdtemp(prefix="gateway-"))
        socket_path = self.socket_dir / "sock"
        self.log = folder / "forkserver.log"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", SERVER, str(socket_path)],
                env={**env, "PYTHONIOENCODING": "utf-8"},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not socket_path.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the command server did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)
        executable = self.bin / "gateway"
        executable.write_text(
            f"#!{sys.executable} -I\n" + CLIENT.format(socket=str(socket_path)),
            encoding="utf-8",
        )
        executable.chmod(0o755)

    def stop(self) -> None:
        """End the server (its running children end with their commands)."""
        self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(self.socket_dir, ignore_errors=True)
