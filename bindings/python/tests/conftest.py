"""Fixtures: every test runs against an embedded catalog in a temp dir and
against a real `meta serve` (data written straight to its warehouse, and
uploaded through the server), one fresh namespace per test."""

from __future__ import annotations

import contextlib
import json
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import batchmeta as bm
from catalogs import Server, free_port, meta, running_server
from hive_metastore import RealHiveMetastore


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `meta serve` shared by the tests of a session."""
    with running_server(tmp_path_factory.mktemp("server")) as srv:
        yield srv


@dataclass
class Env:
    """One test's catalog: a client, its namespace and its warehouse dir."""

    mode: str
    client: bm.Client
    ns: str
    warehouse: Path

    def files(self) -> list[str]:
        """Every file under this test's namespace in the warehouse."""
        root = self.warehouse / self.ns
        if not root.exists():
            return []
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    def event_count(self) -> int:
        return len(self.client.events(self.ns))

    def snapshot(self) -> tuple[int, list[str]]:
        return self.event_count(), self.files()


@pytest.fixture(params=["embedded", "remote", "remote_upload"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Env:
    ns = "t" + uuid.uuid4().hex[:12]
    if request.param == "embedded":
        client = bm.Client(str(tmp_path / "catalog"))
        client.create_namespace(ns)
        return Env("embedded", client, ns, tmp_path / "catalog" / "warehouse")
    srv: Server = request.getfixturevalue("server")
    client = bm.Client(srv.url, direct_data=request.param == "remote")
    client.create_namespace(ns)
    return Env(request.param, client, ns, srv.warehouse)


@pytest.fixture
def direct_env(env: Env) -> Env:
    """Modes whose client writes the warehouse itself (timing tests)."""
    if env.mode == "remote_upload":
        pytest.skip("covered by the embedded and direct remote modes")
    return env


def dumps(o: object) -> str:
    return json.dumps(o, default=str)


@dataclass
class HmsServer:
    """A `meta serve --hms-bind` and what the Hive Metastore tests need."""

    url: str
    thrift_port: int
    root: Path
    warehouse: Path
    database_url: str
    client: bm.Client

    def meta(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs the `meta` CLI against this server."""
        return meta("--url", self.url, *args)

    def metrics(self) -> str:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as r:
            return str(r.read().decode())


@contextlib.contextmanager
def hms_serving(root: Path) -> Iterator[HmsServer]:
    """A `meta serve` with the Thrift endpoint on, its catalog under
    `root`. A short idle timeout lets the idle-connection test finish
    quickly."""
    thrift_port = free_port()
    extra = (
        "--hms-bind",
        f"127.0.0.1:{thrift_port}",
        "--hms-max-connections",
        "64",
        "--hms-idle-timeout-secs",
        "5",
        "--hms-max-frame-bytes",
        "1048576",
    )
    with running_server(root, *extra, also_wait_for=thrift_port) as srv:
        yield HmsServer(
            url=srv.url,
            thrift_port=thrift_port,
            root=root,
            warehouse=srv.warehouse,
            database_url=srv.database_url,
            client=bm.Client(srv.url),
        )


@pytest.fixture(scope="session")
def hms_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HmsServer]:
    """One `meta serve --hms-bind` shared by the Hive Metastore tests (each
    uses its own namespace)."""
    with hms_serving(tmp_path_factory.mktemp("hms")) as srv:
        yield srv


@dataclass
class HmsPair:
    """A `meta serve --hms-bind` of its own and a real Hive Metastore 2.3
    whose warehouse is the same directory (test_hms_compare.py)."""

    batchmeta: HmsServer
    hive: RealHiveMetastore


@pytest.fixture(scope="session")
def hms_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HmsPair]:
    """One real Hive Metastore JVM for the session (it takes 6-15 s to
    start), beside a batchmeta server that nothing else writes to, so that
    listings of databases compare exactly."""
    with hms_serving(tmp_path_factory.mktemp("hms-compare")) as srv:
        with RealHiveMetastore(tmp_path_factory.mktemp("hive"), warehouse=srv.warehouse) as hive:
            yield HmsPair(batchmeta=srv, hive=hive)
