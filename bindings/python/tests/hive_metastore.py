"""What the Hive Metastore tests (and bench/cases/hms.py) share: the Thrift
client of the vendored Hive 2.3 IDL, and a real Hive Metastore 2.3.10 run
from pyspark's own jars (embedded Derby in a scratch directory, on a free
loopback port, stopped by its PID). No pytest in here: the benchmark loads
this file too."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import thriftpy2
from thriftpy2.protocol import TBinaryProtocolFactory
from thriftpy2.rpc import make_client
from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

IDL = Path(__file__).parent / "hms" / "hive_metastore.thrift"
#: The generated Hive 2.3 types and service (``thrift.Table``, ``thrift.ThriftHiveMetastore`` ...).
thrift: Any = thriftpy2.load(str(IDL), module_name="hive_metastore_thrift")

#: How long a real metastore may take to listen (about 6 s on an idle 2-core machine).
START_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connect(port: int, framed: bool = False, timeout_ms: int = 60_000) -> Any:
    """A ThriftHiveMetastore client on 127.0.0.1:``port`` (binary protocol)."""
    return make_client(
        thrift.ThriftHiveMetastore,
        "127.0.0.1",
        port,
        proto_factory=TBinaryProtocolFactory(),
        trans_factory=TFramedTransportFactory() if framed else TBufferedTransportFactory(),
        timeout=timeout_ms,
    )


def pyspark_jars() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "jars"


def java_binary() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java:
        raise RuntimeError("no java: run scripts/java-setup")
    return java


class RealHiveMetastore:
    """``org.apache.hadoop.hive.metastore.HiveMetaStore`` 2.3.10 from
    pyspark's jars, with its Derby database and warehouse under ``root``.
    A context manager; ``port`` is its Thrift port. ``warehouse`` (its
    ``default`` database's location) may be batchmeta's warehouse, so that
    both servers' ``default`` are the same directory.

    Settings: log4j2's ``BasicContextSelector`` (pyspark's jars lack the
    LMAX disruptor that Hive's default async logging needs), the schema
    created on start, and ``hive.stats.autogather=false``: batchmeta keeps
    no statistics, and with autogather the metastore would list each new
    table and partition directory and add ``numFiles``/``totalSize``."""

    def __init__(self, root: Path, warehouse: Path | None = None, heap_mb: int = 512) -> None:
        self.root = Path(root)
        self.warehouse = Path(warehouse) if warehouse else self.root / "hive-warehouse"
        self.heap_mb = heap_mb
        self.port = free_port()
        self.log_path = self.root / "hive-metastore.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        props = {
            "log4j2.contextSelector": "org.apache.logging.log4j.core.selector.BasicContextSelector",
            "javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={self.root / 'metastore_db'};create=true",
            "datanucleus.schema.autoCreateAll": "true",
            "hive.metastore.schema.verification": "false",
            "hive.metastore.warehouse.dir": str(self.warehouse),
            "hive.stats.autogather": "false",
            "derby.system.home": str(self.root),
        }
        return [
            java_binary(),
            f"-Xmx{self.heap_mb}m",
            "-cp",
            f"{pyspark_jars()}/*",
            *(f"-D{k}={v}" for k, v in props.items()),
            "org.apache.hadoop.hive.metastore.HiveMetaStore",
            "-p",
            str(self.port),
        ]

    def __enter__(self) -> RealHiveMetastore:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        try:
            self.wait_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_listening(self) -> None:
        """Until a Thrift call answers (the port opens before the schema is ready)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the Hive Metastore exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                c = connect(self.port, timeout_ms=30_000)
                try:
                    c.get_all_databases()
                    return
                finally:
                    c.close()
            except Exception:
                time.sleep(0.25)
        raise RuntimeError(f"the Hive Metastore did not answer within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
