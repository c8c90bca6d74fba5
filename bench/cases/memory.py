"""Case 6: peak RSS of storing and of loading a big frame (10,000,000 rows
in full mode), each in a fresh Python process (``bench.memory_probe``),
batchmeta embedded against raw pyarrow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pyarrow as pa

from bench.context import REPO_ROOT, BenchContext
from bench.data import make_frame

SYSTEMS = ["batchmeta", "pyarrow"]


def probe(ctx: BenchContext, system: str, operation: str, directory: str, frame_path: str, frame: int) -> dict[str, Any]:
    """Runs one probe process and adds the figures derived from the
    frame's Arrow size ``frame`` (bytes)."""
    command = [sys.executable, "-m", "bench.memory_probe", "--system", system, "--operation", operation, "--directory", directory]
    if operation == "store":
        command += ["--frame", frame_path]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"case 6: {' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    above_baseline = result["peak_bytes"] - result["baseline_bytes"]
    result["peak_above_baseline_bytes"] = above_baseline
    result["peak_over_frame"] = above_baseline / frame
    result["overhead_over_frame"] = (above_baseline - frame) / frame
    ctx.log(f"case 6: {system} {operation}: peak {above_baseline / 2**20:.0f} MiB above baseline, frame {frame / 2**20:.0f} MiB")
    return result


def run(ctx: BenchContext) -> dict[str, Any]:
    rows = ctx.config.memory_rows
    frame_path = os.path.join(ctx.directory("case6"), "frame.arrow")
    frame = make_frame(rows)
    with pa.OSFile(frame_path, "wb") as sink, pa.ipc.new_file(sink, frame.schema) as writer:
        writer.write_table(frame, max_chunksize=rows)
    frame_bytes = frame.nbytes
    del frame
    results: dict[str, Any] = {"rows": rows, "frame_bytes": frame_bytes, "probes": {}}
    for system in SYSTEMS:
        directory = ctx.directory("case6", system)
        for operation in ("store", "load"):
            results["probes"][f"{system} {operation}"] = probe(ctx, system, operation, directory, frame_path, frame_bytes)
    os.unlink(frame_path)
    return results
