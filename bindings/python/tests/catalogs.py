"""The catalogs the tests run against, made one way: a free loopback port,
the `meta` binary and its CLI, a `meta serve` (SQLite or PostgreSQL, a
local or an S3 warehouse, any extra flags) stopped on exit, a fresh
PostgreSQL database, and the row counts of a SQLite catalog that a refused
call must leave unchanged. conftest.py builds its fixtures from these."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import socket
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def meta_binary() -> Path:
    """The test build of `meta` (built by scripts/python-test)."""
    binary = Path(os.environ.get("BATCHMETA_META_BIN", REPO / "target" / "debug" / "meta"))
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run `cargo build -p batchmeta-cli` first")
    return binary


def local_catalog(root: Path) -> list[str]:
    """The `meta` flags of the SQLite catalog and warehouse under `root`."""
    return ["--url", f"sqlite://{root / 'catalog.db'}", "--warehouse", str(root / "warehouse")]


def meta(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs the `meta` CLI, with none of the caller's BATCHMETA_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHMETA_")}
    return subprocess.run(
        [str(meta_binary()), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**env, "RUST_BACKTRACE": "0", "NO_COLOR": "1"},
        timeout=120,
    )


@dataclass
class Server:
    """A running `meta serve`: its URL, its scratch dir (`server.log`), its
    catalog database, its warehouse and its process (to kill it)."""

    url: str
    root: Path
    database_url: str
    warehouse_url: str
    proc: subprocess.Popen[bytes] | None = None

    @property
    def warehouse(self) -> Path:
        """The warehouse directory (local warehouses only)."""
        return Path(self.warehouse_url)


@contextlib.contextmanager
def running_server(
    root: Path,
    *extra: str,
    database_url: str | None = None,
    warehouse: str | None = None,
    ready: str = "/healthz",
    also_wait_for: int | None = None,
) -> Iterator[Server]:
    """A `meta serve` on a free loopback port, stopped on exit. Its catalog
    is `database_url` (default: SQLite under `root`) and its warehouse
    `warehouse` (default: `root`/warehouse); it is up when GET `ready`
    answers 200 and the port `also_wait_for` (the Thrift endpoint's), if
    given, accepts connections."""
    database_url = database_url or f"sqlite://{root / 'catalog.db'}"
    warehouse = warehouse or str(root / "warehouse")
    port = free_port()
    log = open(root / "server.log", "wb")
    proc = subprocess.Popen(
        [
            str(meta_binary()),
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--database-url",
            database_url,
            "--warehouse",
            warehouse,
            *extra,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}{ready}", timeout=1) as r:
                if also_wait_for is not None:
                    socket.create_connection(("127.0.0.1", also_wait_for), timeout=1).close()
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"meta serve did not start: {(root / 'server.log').read_text()}")
        time.sleep(0.05)
    try:
        yield Server(url=url, root=root, database_url=database_url, warehouse_url=warehouse, proc=proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def fresh_postgres_database(admin_url: str) -> str:
    """The URL of a new, empty database on the PostgreSQL of `admin_url`."""
    name = "bm_py_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", admin_url, "-q", "-c", f'CREATE DATABASE "{name}"'], check=True)
    u = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


def catalog_rows(db: Path) -> tuple[dict[str, int], int | None]:
    """The row count of every table of a SQLite catalog, and its newest event id."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        rows = {t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}
        max_event = con.execute("SELECT max(id) FROM events").fetchone()[0]
    finally:
        con.close()
    return rows, max_event
