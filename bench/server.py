"""A release ``meta serve`` on a free loopback port, stopped by its PID."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from types import TracebackType

READY_TIMEOUT = 30.0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MetaServer:
    """``meta serve`` over the embedded catalog in ``directory``
    (``catalog.db`` + ``warehouse/``, what ``bm.Client(directory)`` uses).
    A context manager: the server runs inside the ``with`` block."""

    def __init__(self, meta_binary: str, directory: str, log_path: str, extra_args: tuple[str, ...] = ()) -> None:
        self.meta_binary = meta_binary
        self.extra_args = extra_args
        self.directory = os.path.abspath(directory)
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> MetaServer:
        os.makedirs(os.path.join(self.directory, "warehouse"), exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    self.meta_binary,
                    "serve",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--database-url",
                    f"sqlite://{os.path.join(self.directory, 'catalog.db')}",
                    "--warehouse",
                    os.path.join(self.directory, "warehouse"),
                    *self.extra_args,
                ],
                stdout=log,
                stderr=log,
                env={**os.environ, "BATCHMETA_LOG": "warn"},
            )
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        """Polls /readyz until the server answers 200."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"meta serve exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"meta serve not ready after {READY_TIMEOUT} s; see {self.log_path}")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
