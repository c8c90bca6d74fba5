"""Case r_frames: the R package's store_dataframe / load_dataframe of case
1's frame (333,348 rows in full mode) beside the baselines R has without
arrow (saveRDS / readRDS, data.table's fwrite / fread) and beside Python's
store / load of the same frame into the same embedded catalog.

Python fills an embedded catalog with the frame (untimed); the R half
(``r_frames.R``) loads it into a data.frame, then times every R operation
in interleaved rounds after one warm-up. Needs ``Rscript``, the R package
in ``target/r-lib`` (or ``$BATCHMETA_R_LIB``; ``scripts/bench`` builds it
with ``scripts/r-build --release``) and data.table (``scripts/r-setup
--bench``); without them the case records why it did not run."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import batchmeta as bm

from bench.context import REPO_ROOT, BenchContext
from bench.data import make_frame, mib
from bench.systems.batchmeta_table import BatchmetaTable
from bench.timing import Operation, run_interleaved, summarize

R_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "r_frames.R")
#: The partition the R and Python stores write (as case 1's).
MEASURED_PARTITION = 7


def r_library() -> str:
    return os.environ.get("BATCHMETA_R_LIB") or os.path.join(REPO_ROOT, "target", "r-lib")


def r_version() -> str:
    """`R --version`'s first line."""
    done = subprocess.run(["Rscript", "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip().splitlines()[0]


def missing() -> str | None:
    """Why the R half cannot run here, or None."""
    if shutil.which("Rscript") is None:
        return "Rscript is not installed (scripts/r-setup --bench installs R from Debian)"
    probe = subprocess.run(
        ["Rscript", "-e", "for (p in c('batchmeta', 'data.table')) if (!requireNamespace(p, quietly = TRUE)) cat(p, '')"],
        capture_output=True,
        text=True,
        env={**os.environ, "R_LIBS": r_library()},
        check=False,
    )
    absent = probe.stdout.split()
    if probe.returncode != 0 or absent:
        return f"R packages missing: {' '.join(absent) or probe.stderr.strip()} (scripts/r-build --release, scripts/r-setup --bench)"
    return None


def run(ctx: BenchContext) -> dict[str, Any]:
    config = ctx.config
    reason = missing()
    if reason is not None:
        ctx.log(f"case r_frames skipped: {reason}")
        return {"skipped": reason}
    frame = make_frame(config.partition_rows)
    catalog = ctx.directory("case_r", "catalog")
    client = bm.Client(catalog)
    source = BatchmetaTable(client, "r_source", "source")
    source.create(frame)
    source.store(frame, 0)
    # R stores into a table made from the same schema, as Python does.
    BatchmetaTable(client, "r_measured", "r").create(frame)
    python = BatchmetaTable(client, "py_measured", "batchmeta Python (pandas)")
    python.create(frame)
    frame_pandas = frame.to_pandas()

    ctx.log(f"case r_frames: R, {config.store_load_rounds} interleaved rounds of 8 operations on {frame.num_rows:,} rows")
    scratch = ctx.directory("case_r", "files")
    done = subprocess.run(
        ["Rscript", R_SCRIPT, catalog, scratch, str(config.store_load_rounds)],
        capture_output=True,
        text=True,
        env={**os.environ, "R_LIBS": r_library(), "BATCHMETA_URL": "", "BATCHMETA_TOKEN": ""},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"case r_frames: the R half failed:\n{done.stdout}\n{done.stderr}")
    samples: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}
    info: dict[str, str] = {}
    for line in done.stdout.splitlines():
        kind, *fields = line.split("\t")
        if kind == "sample":
            samples.setdefault(fields[0], []).append(float(fields[1]))
        elif kind == "bytes":
            sizes[fields[0]] = int(fields[1])
        elif kind in ("rows", "threads"):
            info[kind] = fields[-1]
    if int(info["rows"]) != frame.num_rows:
        raise RuntimeError(f"case r_frames: R read {info['rows']} rows, not {frame.num_rows}")

    ctx.log("case r_frames: Python store / load of the same frame, same catalog")
    py_samples = run_interleaved(
        [
            Operation("batchmeta Python store (pandas)", lambda: python.store(frame_pandas, MEASURED_PARTITION)),
            Operation("batchmeta Python load (pandas)", lambda: python.load_pandas(MEASURED_PARTITION)),
        ],
        config.store_load_rounds,
    )
    samples.update(py_samples)
    return {
        "rows": frame.num_rows,
        "arrow_mib": mib(frame.nbytes),
        "rounds": config.store_load_rounds,
        "r_version": r_version(),
        "data_table_threads": int(info["threads"]),
        "bytes": sizes,
        "operations": {label: {**summarize(s), "samples": s} for label, s in samples.items()},
    }
