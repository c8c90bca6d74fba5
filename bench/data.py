"""Deterministic benchmark frames: the shape of issue 7.

Eight columns: an int64 id, two float64, two int32, a 50-value category
string, a 20-40 character random string and a microsecond timestamp, about
89 bytes a row as Arrow (333,348 rows = 28 MiB). The same seed gives the
same bytes on every run and every machine.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

#: Rows of one partition in issue 7.
PARTITION_ROWS = 333_348
CATEGORY_COUNT = 50
SEED = 7

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("price", pa.float64()),
        ("weight", pa.float64()),
        ("quantity", pa.int32()),
        ("store_id", pa.int32()),
        ("category", pa.string()),
        ("comment", pa.string()),
        ("event_time", pa.timestamp("us")),
    ]
)


def random_strings(rng: np.random.Generator, rows: int, min_len: int, max_len: int) -> pa.Array:
    """``rows`` lowercase ASCII strings of ``min_len``..``max_len`` characters,
    built straight into Arrow buffers (no Python string objects)."""
    lengths = rng.integers(min_len, max_len + 1, size=rows, dtype=np.int64)
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    chars = rng.integers(ord("a"), ord("z") + 1, size=int(offsets[-1]), dtype=np.uint8)
    return pa.LargeStringArray.from_buffers(
        rows, pa.py_buffer(offsets), pa.py_buffer(chars)
    ).cast(pa.string())


def make_frame(rows: int, seed: int = SEED, first_id: int = 0) -> pa.Table:
    """A frame of ``rows`` rows; ids run from ``first_id``."""
    rng = np.random.default_rng(seed)
    categories = pa.array([f"category_{i:02d}" for i in range(CATEGORY_COUNT)])
    category_codes = pa.array(rng.integers(0, CATEGORY_COUNT, size=rows, dtype=np.int32))
    start_us = 1_700_000_000_000_000
    return pa.Table.from_arrays(
        [
            pa.array(np.arange(first_id, first_id + rows, dtype=np.int64)),
            pa.array(rng.normal(100.0, 25.0, size=rows)),
            pa.array(rng.random(size=rows)),
            pa.array(rng.integers(0, 1_000, size=rows, dtype=np.int32)),
            pa.array(rng.integers(0, 500, size=rows, dtype=np.int32)),
            pa.DictionaryArray.from_arrays(category_codes, categories).dictionary_decode(),
            random_strings(rng, rows, 20, 40),
            pa.array(start_us + np.sort(rng.integers(0, 86_400_000_000, size=rows)), pa.timestamp("us")),
        ],
        schema=SCHEMA,
    )


def with_partition_column(frame: pa.Table, name: str, value: int) -> pa.Table:
    """``frame`` with a constant int32 partition column appended (what
    deltalake and pyiceberg need to place rows in a partition)."""
    column = pa.array(np.full(frame.num_rows, value, dtype=np.int32))
    return frame.append_column(pa.field(name, pa.int32()), column)


def mib(nbytes: int) -> float:
    """Bytes in MiB."""
    return nbytes / (1024 * 1024)
