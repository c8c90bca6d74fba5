"""One store or load in a fresh process, reporting its peak RSS as JSON on
stdout (case 6 runs it with ``python -m bench.memory_probe``).

The baseline is the resident set after the imports. A store first reads the
frame from an uncompressed Arrow IPC file (so the frame costs exactly its
Arrow size, with no generator temporaries), resets the peak (``5`` into
``/proc/self/clear_refs``), stores, and reads ``VmHWM``. A load resets the
peak after the baseline and reads it after the load.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import batchmeta as bm
import pyarrow as pa
import pyarrow.parquet as pq

from bench.systems.batchmeta_table import BatchmetaTable
from bench.systems.raw_pyarrow import COMPRESSION

TABLE = "memory"
PARTITION = 0


def status_kib(field: str) -> int:
    """A ``/proc/self/status`` field (``VmRSS``, ``VmHWM``) in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def reset_peak() -> bool:
    """Resets VmHWM to the current RSS; False where the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def store(system: str, frame: pa.Table, directory: str) -> None:
    """Stores ``frame`` as one partition."""
    if system == "batchmeta":
        table = BatchmetaTable(bm.Client(directory), TABLE, "batchmeta embedded")
        table.create(frame)
        table.store(frame, PARTITION)
    else:
        pq.write_table(frame, os.path.join(directory, "frame.parquet"), compression=COMPRESSION)


def load(system: str, directory: str) -> pa.Table:
    """Loads the partition ``store`` wrote."""
    if system == "batchmeta":
        return BatchmetaTable(bm.Client(directory), TABLE, "batchmeta embedded").load_arrow(PARTITION)
    return pq.read_table(os.path.join(directory, "frame.parquet"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--system", choices=["batchmeta", "pyarrow"], required=True)
    parser.add_argument("--operation", choices=["store", "load"], required=True)
    parser.add_argument("--directory", required=True, help="the system's storage directory")
    parser.add_argument("--frame", help="the Arrow IPC file to store")
    args = parser.parse_args()
    baseline_kib = status_kib("VmRSS")
    if args.operation == "store":
        with pa.OSFile(args.frame) as source:
            frame = pa.ipc.open_file(source).read_all()
    reset_ok = reset_peak()
    before_kib = status_kib("VmRSS")
    start = time.perf_counter()
    if args.operation == "store":
        store(args.system, frame, args.directory)
    else:
        frame = load(args.system, args.directory)
    seconds = time.perf_counter() - start
    peak_kib = status_kib("VmHWM")
    print(
        json.dumps(
            {
                "baseline_bytes": baseline_kib * 1024,
                "before_bytes": before_kib * 1024,
                "peak_bytes": peak_kib * 1024,
                "table_bytes": frame.nbytes,
                "rows": frame.num_rows,
                "seconds": seconds,
                "peak_reset": reset_ok,
                "memory_pool": pa.default_memory_pool().backend_name,
            }
        )
    )


if __name__ == "__main__":
    main()
