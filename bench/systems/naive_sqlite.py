"""The naive model of issue 7: pyarrow writes a fresh batch folder, then one
SQLite transaction (WAL, synchronous=FULL) swaps the partition's pointer
and appends a history row."""

from __future__ import annotations

import os
import sqlite3
import time

import pyarrow as pa
import pyarrow.parquet as pq

from bench.systems.base import PartitionedTable
from bench.systems.raw_pyarrow import COMPRESSION

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS pointer (part INTEGER PRIMARY KEY, path TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY, part INTEGER NOT NULL, at REAL NOT NULL,
    from_path TEXT, to_path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_part ON history (part, id);
"""


class NaiveSqliteTable(PartitionedTable):
    """Batch folders under ``root/part=N/batch-K/`` and a pointer table in
    ``root/catalog.db``."""

    name = "naive pyarrow+SQLite"

    def __init__(self, root: str) -> None:
        self.root = root
        self.batch_count = 0
        self.connection: sqlite3.Connection | None = None

    def create(self, frame: pa.Table) -> None:
        os.makedirs(self.root, exist_ok=True)
        self.connection = sqlite3.connect(os.path.join(self.root, "catalog.db"), isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=FULL")
        self.connection.executescript(SCHEMA_SQL)

    @property
    def db(self) -> sqlite3.Connection:
        """The open catalog connection."""
        assert self.connection is not None, "create() first"
        return self.connection

    def store(self, prepared: pa.Table, partition: int) -> None:
        self.batch_count += 1
        folder = os.path.join(self.root, f"part={partition}", f"batch-{self.batch_count:08d}")
        os.makedirs(folder)
        path = os.path.join(folder, "data.parquet")
        pq.write_table(prepared, path, compression=COMPRESSION)
        self.swap_pointer(partition, path)

    def swap_pointer(self, partition: int, path: str) -> None:
        """One durable transaction: the pointer moves and history records it."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT path FROM pointer WHERE part = ?", (partition,)).fetchone()
            db.execute("INSERT OR REPLACE INTO pointer (part, path) VALUES (?, ?)", (partition, path))
            db.execute(
                "INSERT INTO history (part, at, from_path, to_path) VALUES (?, ?, ?, ?)",
                (partition, time.time(), row[0] if row else None, path),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def current_path(self, partition: int) -> str:
        """The partition's current batch file."""
        (path,) = self.db.execute("SELECT path FROM pointer WHERE part = ?", (partition,)).fetchone()
        return str(path)

    def load_arrow(self, partition: int) -> pa.Table:
        return pq.read_table(self.current_path(partition))

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
