"""The sizes of a run: ``full`` is issue 7's record, ``quick`` is for development."""

from __future__ import annotations

from dataclasses import dataclass

from bench.data import PARTITION_ROWS


@dataclass(frozen=True)
class Config:
    """Every size and repetition count a run uses."""

    mode: str
    #: Case 1: rows of the measured partition, partitions of the table, timed rounds.
    partition_rows: int
    table_partitions: int
    store_load_rounds: int
    #: Case 2: successive small publishes (batchmeta and the naive model; the peers do fewer).
    small_publishes: int
    small_publishes_peers: int
    small_publish_rows: int
    #: Case 3: publishes per writer thread, and writer threads.
    concurrent_publishes_per_writer: int
    concurrent_writers: int
    #: Case 4: partitions (= events) of the big batchmeta table, partitions per
    #: building commit, the peers' table size, timed rounds of each query.
    big_partitions: int
    big_build_commit: int
    peer_big_partitions: int
    big_rounds: int
    #: Case 5: wrk connections, threads and seconds.
    wrk_connections: int
    wrk_threads: int
    wrk_seconds: int
    #: Case 6: rows of the frame stored and loaded in a fresh process.
    memory_rows: int
    #: Case hms: partitions of the big table copied into the real Hive
    #: Metastore (filling its Derby database is the slow part).
    hms_hive_partitions: int


FULL = Config(
    mode="full",
    partition_rows=PARTITION_ROWS,
    table_partitions=30,
    store_load_rounds=15,
    small_publishes=1_000,
    small_publishes_peers=200,
    small_publish_rows=10,
    concurrent_publishes_per_writer=100,
    concurrent_writers=8,
    big_partitions=1_000_000,
    big_build_commit=50_000,
    peer_big_partitions=10_000,
    big_rounds=30,
    wrk_connections=64,
    wrk_threads=2,
    wrk_seconds=15,
    memory_rows=10_000_000,
    # add_partitions into Derby ran at 190-750 partitions/s on 2 cores.
    hms_hive_partitions=100_000,
)

QUICK = Config(
    mode="quick",
    partition_rows=PARTITION_ROWS // 10,
    table_partitions=30,
    store_load_rounds=5,
    small_publishes=200,
    small_publishes_peers=50,
    small_publish_rows=10,
    concurrent_publishes_per_writer=25,
    concurrent_writers=8,
    big_partitions=10_000,
    big_build_commit=5_000,
    peer_big_partitions=2_000,
    big_rounds=10,
    wrk_connections=64,
    wrk_threads=2,
    wrk_seconds=5,
    memory_rows=1_000_000,
    hms_hive_partitions=10_000,
)

MODES = {"full": FULL, "quick": QUICK}
