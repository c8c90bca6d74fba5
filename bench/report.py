"""Renders one run's results (the JSON ``bench.run`` writes) as the
Markdown of docs/benchmarks.md.

    python -m bench.report target/bench/quick/benchmarks.json > benchmarks.md
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from bench.goals import EMBEDDED, RAW, Goal, evaluate

HOW_TO_RUN = """\
## How to run

```sh
make bench         # full mode, the record: writes docs/benchmarks.md and docs/benchmarks.json
make bench BENCH_ARGS="--big-partitions 100000"   # the same with a smaller case-4 table
make bench-quick   # development: smaller sizes, writes target/bench/quick/
```

Both run `scripts/bench`, which installs the Python peers (deltalake,
pyiceberg with its SQLite catalog, polars, psutil) into `.venv`, builds the
release wheel (`scripts/python-build --release`) and the release `meta`
binary, installs `wrk` if missing, and runs `python -m bench.run` inside
`scripts/with-services` when PostgreSQL is installed (so case 3 also runs
on PostgreSQL). Every system writes to the same disk (`target/bench/`);
repetitions are interleaved (A B C A B C ...) so machine drift hits all
systems alike. `python -m bench.run --help` lists the options (a subset of
cases, another output directory).
"""


def ms(seconds: float) -> str:
    """Seconds as milliseconds with three significant digits."""
    value = seconds * 1000
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    if value >= 1:
        return f"{value:.2f} ms"
    return f"{value:.3f} ms"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def run_section(results: dict[str, Any]) -> str:
    """When, where and how the run was made."""
    info = results["machine"]
    cpu = info["cpu"]
    packages = ", ".join(f"{name} {version}" for name, version in info["packages"].items())
    commands = "".join(f"- command: `{c['command']}` ({c['date_utc']}; cases: {', '.join(c['cases'])})\n" for c in results["commands"])
    return (
        "## This run\n\n"
        f"- date: {info['date_utc']}; mode: **{results['mode']}**; git commit {info['git_commit']}\n"
        + commands
        + f"- CPU: {cpu.get('Model name', '?')}, {cpu.get('CPU(s)', '?')} CPUs "
        f"({cpu.get('Thread(s) per core', '?')} thread(s) per core, hypervisor {cpu.get('Hypervisor vendor', 'none')}); memory {info['memory']}\n"
        f"- load average (1/5/15 min) at the start: {info['load_average_start']}, at the end: {info.get('load_average_end', '?')} "
        "(the machine is shared; a compile next door slows everything)\n"
        f"- kernel {info['kernel']}, Python {info['python']}, {info['meta']}, {info['wrk']}\n"
        f"- packages: {packages}\n"
        f"- PostgreSQL in case 3: {'yes' if 'postgres' in results.get('concurrent', {}).get('catalogs', {}) else 'no (BATCHMETA_TEST_POSTGRES_URL not set)'}\n\n"
        "Disk (`df -h` of the bench directory):\n\n```\n" + info["disk"] + "\n```\n"
    )


def goals_section(goals: list[Goal]) -> str:
    """The goals of issue 7 with pass/miss."""
    rows = []
    for goal in goals:
        if goal.unit == "s":
            target, measured = ms(goal.target), ms(goal.measured)
        else:
            target, measured = f"{goal.target:,.2f}{goal.unit}", f"{goal.measured:,.2f}{goal.unit}"
        comparison = "≥" if goal.higher_is_better else "≤"
        rows.append([goal.name, f"{comparison} {target}", measured, "**pass**" if goal.met else "**miss**", goal.gap])
    return "## Goals of issue 7 (medians of this run)\n\n" + table(["goal", "target", "measured", "", "by how much"], rows)


def store_load_section(case: dict[str, Any]) -> str:
    """Case 1: medians, minimums and ratios to raw pyarrow and to batchmeta embedded."""
    operations = [("store", "store"), ("load_arrow", "load → Arrow"), ("load_pandas", "load → pandas")]
    rows = []
    for system in case["systems"]:
        row: list[object] = [system]
        for key, _ in operations:
            stats = case[key][system]
            raw = case[key][RAW]["median"]
            row += [ms(stats["median"]), ms(stats["min"]), f"{stats['median'] / raw:.2f}×"]
        rows.append(row)
    header = ["system"] + [f"{label} {column}" for _, label in operations for column in ("median", "min", "÷ raw")]
    peer_rows = []
    for system in case["systems"]:
        if system != EMBEDDED:
            peer_rows.append([system] + [f"{case[key][EMBEDDED]['median'] / case[key][system]['median']:.2f}×" for key, _ in operations])
    return (
        f"## 1. Store one partition and load it back\n\n"
        f"{case['rows']:,} rows × 8 columns ({case['arrow_mib']:.1f} MiB as Arrow) into partition 7 of a "
        f"{case['table_partitions']}-partition table (the other partitions hold {case['filler_rows']:,} rows each); "
        f"{case['store']['raw pyarrow']['n']} interleaved rounds after one warm-up. Store includes the publish "
        "(durable catalog commit) where the system has one; raw pyarrow only writes a zstd Parquet file.\n\n"
        + table(header, rows)
        + f"\npyarrow's own `to_pandas` of the loaded partition: {ms(case['to_pandas']['median'])} median "
        f"(min {ms(case['to_pandas']['min'])}), measured in the same rounds.\n"
        + "\nbatchmeta embedded ÷ each system (median; < 1 means batchmeta is faster):\n\n"
        + table(["system"] + [label for _, label in operations], peer_rows)
    )


def small_publishes_section(case: dict[str, Any]) -> str:
    """Case 2: rates and the by-position profile."""
    fsync = case["fsync_per_s"]
    rows = []
    for system, profile in case["systems"].items():
        window = profile["edge_window"]
        rows.append(
            [
                system,
                profile["count"],
                f"{profile['rate_per_s']:,.0f}/s",
                ms(profile["median_s"]),
                f"{ms(profile['first_median_s'])} (first {window})",
                f"{ms(profile['last_median_s'])} (last {window})",
                f"{profile['last_over_first']:.2f}×",
            ]
        )
    buckets = [[system] + [ms(m) for m in profile["bucket_medians_s"]] for system, profile in case["systems"].items()]
    return (
        "## 2. Successive small publishes to one partition\n\n"
        f"{case['rows_per_publish']} rows per publish, systems taking turns publish by publish (the peers stop earlier). "
        f"fsync rate of the disk in this run: **{fsync['before']:,.0f}/s before, {fsync['after']:,.0f}/s after** "
        "(4 KiB write + fdatasync loop).\n\n"
        + table(["system", "publishes", "rate", "median", "first", "last", "last ÷ first"], rows)
        + "\nMedian publish time by tenth of each system's sequence:\n\n"
        + table(["system"] + [f"{10 * (i + 1)}%" for i in range(max(len(b) - 1 for b in buckets))], buckets)
    )


def concurrent_section(case: dict[str, Any]) -> str:
    """Case 3: concurrent writers against one writer."""
    rows = []
    for catalog, result in case["catalogs"].items():
        single = result["layouts"]["1 writer"]["rate_per_s"]
        fsync = f"{result['fsync_per_s_before']:,.0f} / {result['fsync_per_s_after']:,.0f}"
        for name, layout in result["layouts"].items():
            rows.append([catalog, name, layout["publishes"], f"{layout['rate_per_s']:,.0f}/s", f"{layout['rate_per_s'] / single:.2f}×", fsync])
    return (
        "## 3. Concurrent writers\n\n"
        "Python threads sharing one embedded client, tiny publishes, started together; the single writer does the same "
        "total number of publishes.\n\n" + table(["catalog", "layout", "publishes", "rate", "÷ 1 writer", "fsync/s before / after"], rows)
    )


def big_table_section(case: dict[str, Any]) -> str:
    """Case 4: the big table's build and query latencies, and the peers at their size."""
    big = case["big"]
    build = big["build"]
    columns = {f"batchmeta embedded, {case['big_partitions']:,}": big["operations"]}
    for system, result in case["at_peer_size"].items():
        columns[f"{system}, {case['peer_partitions']:,}"] = result["operations"]
    labels: list[str] = []
    for operations in columns.values():
        labels += [label for label in operations if label not in labels]
    rows = []
    for label in labels:
        row: list[object] = [label]
        for operations in columns.values():
            stats = operations.get(label)
            row.append(f"{ms(stats['median'])} (min {ms(stats['min'])})" if stats else "—")
        rows.append(row)
    builds = [[f"batchmeta embedded, {build['partitions']:,}", f"{build['seconds']:,.1f} s", f"{build['commits']} commits of {build['commit_size']:,}", f"{build['partitions'] / build['seconds']:,.0f} partitions/s"]]
    for system, result in case["at_peer_size"].items():
        b = result["build"]
        builds.append([f"{system}, {b['partitions']:,}", f"{b['seconds']:,.1f} s", b.get("commits", 1), f"{b['partitions'] / b['seconds']:,.0f} partitions/s"])
    return (
        "## 4. Many partitions\n\n"
        "One row and one publish event per partition, built through the public API in multi-partition commits "
        "(`store_dataframe(..., partition_by=[\"part\"])`; the peers in one append). Medians (and minimums) of "
        "interleaved rounds; \"list all\" has 3 rounds. Resolve picks a pseudo-random partition each time; the page "
        "is the first page (`partitions(limit=1000)`); the audit page is `events(since, until, limit=1000)` over "
        "the middle building commit; rollback undoes a fresh publish (publish untimed).\n\n"
        + table(["operation"] + list(columns), rows)
        + "\nBuilding the tables:\n\n"
        + table(["table", "time", "commits", "rate"], builds)
    )


def http_section(case: dict[str, Any]) -> str:
    """Case 5: wrk against meta serve."""
    return (
        "## 5. HTTP resolve\n\n"
        f"`{case['command']}` against the release `meta serve` on case 4's {case['partitions']:,}-partition table; "
        "one pseudo-random partition per request (`POST .../resolve`). wrk and the server share the machine.\n\n"
        + table(
            ["requests/s", "p50", "p75", "p90", "p99", "non-2xx"],
            [[f"{case['requests_per_s']:,.0f}", ms(case["p50_s"]), ms(case["p75_s"]), ms(case["p90_s"]), ms(case["p99_s"]), case["non_2xx"]]],
        )
    )


def memory_section(case: dict[str, Any]) -> str:
    """Case 6: peak RSS per probe."""
    mib = 2**20
    rows = [
        [
            name,
            f"{probe['table_bytes'] / mib:,.0f} MiB",
            f"{probe['baseline_bytes'] / mib:,.0f} MiB",
            f"{probe['peak_bytes'] / mib:,.0f} MiB",
            f"{probe['peak_above_baseline_bytes'] / mib:,.0f} MiB",
            f"{probe['peak_over_frame']:.2f}×",
            f"{probe['overhead_over_frame']:+.2f}",
            f"{probe['seconds']:.2f} s",
        ]
        for name, probe in case["probes"].items()
    ]
    return (
        "## 6. Peak memory of a big store and load\n\n"
        f"{case['rows']:,} rows ({case['frame_bytes'] / mib:,.0f} MiB as Arrow), each operation in a fresh Python process. "
        "Baseline: RSS after the imports, before the frame exists. A store first reads the frame from an Arrow IPC "
        "file (so it costs exactly its Arrow size), then the peak (VmHWM) is reset and the store runs. "
        "\"÷ frame\" = (peak − baseline) ÷ the frame's Arrow size; overhead = (peak − baseline − frame) ÷ frame. "
        "\"table in memory\" is the Arrow size of the stored or loaded table (a load adds the partition column).\n\n"
        + table(["probe", "table in memory", "baseline", "peak (VmHWM)", "peak − baseline", "÷ frame", "overhead", "time"], rows)
    )


def iceberg_section(case: dict[str, Any]) -> str:
    """Case iceberg: loadTable latency, metadata size, DuckDB's first query."""
    kib = 2**10
    rows = [
        [
            f"{t['partitions']:,}",
            f"{t['events']:,}",
            f"{t['first_load_s']:.2f} s",
            f"{t['warm_load_median_s'] * 1000:.1f} ms",
            f"{t['response_bytes'] / kib:,.0f} KiB",
            f"{t['current_manifest_list_bytes'] / kib:,.0f} KiB",
            f"{t['iceberg_files']:,} / {t['iceberg_bytes'] / 2**20:,.1f} MiB",
            f"{t['duckdb']['attach_and_first_query_s']:.2f} s",
        ]
        for t in case["tables"]
    ]
    return (
        "## 7. Iceberg REST catalog\n\n"
        "A table of N partitions (built in commits of 10,000) and E more single-partition publishes, read through "
        "`/iceberg` of the release `meta serve`. The first load writes one manifest per current batch and a manifest "
        "list per carried snapshot (at most 100); warm loads write nothing. DuckDB: ATTACH + `count(*)` with the "
        "extensions already loaded.\n\n"
        + table(["partitions", "events", "first load", "warm load (median)", "response", "current manifest list", "_iceberg files", "DuckDB first query"], rows)
    )


def hms_section(case: dict[str, Any]) -> str:
    """Case hms: get_partitions_by_filter and Spark's first query, batchmeta against a real Hive Metastore."""
    servers = list(case["filters"]["equality"])
    filter_rows = [
        [label, *(f"{ms(case['filters'][label][s]['median'])} (min {ms(case['filters'][label][s]['min'])})" for s in servers)]
        for label in ("equality", "1% range")
    ]
    spark_rows = [
        [s, f"{r['session_s']:.1f} s", f"{r['first_query_s']:.2f} s", f"{r['total_s']:.1f} s", ", ".join(f"{x['total_s']:.1f} s" for x in r["runs"])]
        for s, r in case["spark"].items()
    ]
    fill = case["hive_fill"]
    text = (
        "## 8. Hive Metastore Thrift\n\n"
        f"An int-keyed table of {case['hive_partitions']:,} partitions, one row each, in batchmeta (`meta serve --hms-bind`, "
        "SQLite) and in a real Hive Metastore 2.3.10 from pyspark's jars (embedded Derby, 2 GiB heap) with the same "
        f"partition locations. `get_partitions_by_filter` through thriftpy2, servers interleaved: equality "
        f"`{case['filters']['equality_filter']}` ({case['filters']['rounds']['equality']} rounds) and the 1% range "
        f"`{case['filters']['range_filter']}` ({case['filters']['range_partitions']:,} partitions, {case['filters']['rounds']['1% range']} rounds); "
        "medians (and minimums).\n\n"
        + table(["get_partitions_by_filter", *servers], filter_rows)
        + "\nSpark's first query: a fresh pyspark 4.3 process (`local[1]`) with `hive.metastore.uris` on the server, "
        "`SELECT id, x ... WHERE part = N` (one partition) to its result; cold processes in A B B A order, the best "
        "run shown.\n\n"
        + table(["metastore", "session start", "first query", "total", "every run (total)"], spark_rows)
        + f"\nFilling the Hive Metastore: `add_partitions` in batches of {fill['batch']:,}, {fill['partitions']:,} partitions in "
        f"{fill['add_partitions_s']:,.0f} s ({fill['rate_per_s']:,.0f} partitions/s); it started in {case['hive_start_s']:.1f} s. "
        f"batchmeta built its table in {case['build_s']:,.0f} s.\n"
    )
    if "batchmeta_full_size" in case:
        full = case["batchmeta_full_size"]
        spark = case["spark_full_size"]["batchmeta"]
        text += (
            f"\nbatchmeta alone at {case['partitions']:,} partitions (the Hive Metastore was filled with "
            f"{case['hive_partitions']:,} only): equality {ms(full['equality']['batchmeta']['median'])}, 1% range "
            f"({full['range_partitions']:,} partitions) {ms(full['1% range']['batchmeta']['median'])}; Spark's first query "
            f"{spark['first_query_s']:.2f} s after a {spark['session_s']:.1f} s session start.\n"
        )
    return text


def r_frames_section(case: dict[str, Any]) -> str:
    """Case r_frames: the R package beside saveRDS / readRDS, data.table and Python."""
    if "skipped" in case:
        return f"## 9. R data frames\n\nNot run: {case['skipped']}.\n"
    ops = case["operations"]
    store = ops["batchmeta store"]["median"]
    load = ops["batchmeta load"]["median"]
    pairs = [
        ("batchmeta R", "batchmeta store", "batchmeta load", "batchmeta (Parquet, one batch)"),
        ("batchmeta Python (pandas)", "batchmeta Python store (pandas)", "batchmeta Python load (pandas)", None),
        ("saveRDS / readRDS (gzip)", "saveRDS (gzip)", "readRDS (gzip)", "RDS (gzip)"),
        ("saveRDS / readRDS (uncompressed)", "saveRDS (uncompressed)", "readRDS (uncompressed)", "RDS (uncompressed)"),
        (f"data.table fwrite / fread ({case['data_table_threads']} thread(s))", "data.table fwrite", "data.table fread", "CSV (fwrite)"),
    ]
    rows = []
    for name, write, read, size in pairs:
        w, r = ops[write], ops[read]
        rows.append([
            name,
            f"{ms(w['median'])} (min {ms(w['min'])})",
            f"{w['median'] / store:.2f}×",
            f"{ms(r['median'])} (min {ms(r['min'])})",
            f"{r['median'] / load:.2f}×",
            f"{case['bytes'][size] / 2**20:.1f} MiB" if size else "",
        ])
    return (
        "## 9. R data frames\n\n"
        f"Case 1's frame, {case['rows']:,} rows × 8 columns ({case['arrow_mib']:.1f} MiB as Arrow), as an R data.frame "
        f"(integer64, double, integer, character, POSIXct), written and read back by the R package (embedded catalog, "
        f"one partition of an int-keyed table, the publish included) and by the baselines R has without arrow; "
        f"{case['rounds']} interleaved rounds after one warm-up, in one R process ({case['r_version']}). Python's "
        "store and load (pandas) of the same frame into the same catalog run after the R rounds. Medians (and minimums); "
        "÷ batchmeta R: the operation's median over batchmeta R's.\n\n"
        + table(["system", "write", "÷ batchmeta R", "read", "÷ batchmeta R", "on disk"], rows)
    )


SECTIONS = {
    "store_load": store_load_section,
    "small_publishes": small_publishes_section,
    "concurrent": concurrent_section,
    "big_table": big_table_section,
    "http_resolve": http_section,
    "memory": memory_section,
    "iceberg": iceberg_section,
    "hms": hms_section,
    "r_frames": r_frames_section,
}


def render(results: dict[str, Any]) -> str:
    """The whole report."""
    parts = [
        "# Benchmarks\n\nbatchmeta against raw pyarrow, deltalake, pyiceberg (SQL catalog on SQLite) and a naive "
        "pyarrow + SQLite pointer model, on one machine (issue 7); within a case every system runs in the same invocation, interleaved. Generated by "
        "`bench/report.py`; raw results in `benchmarks.json` next to this file; what the misses come from: "
        "`docs/benchmarks-notes.md` (hand-written).\n",
        HOW_TO_RUN,
        run_section(results),
        goals_section(evaluate(results)),
    ]
    parts += [section(results[case]) for case, section in SECTIONS.items() if case in results]
    return "\n".join(parts)


def main() -> None:
    with open(sys.argv[1]) as f:
        sys.stdout.write(render(json.load(f)))


if __name__ == "__main__":
    main()
