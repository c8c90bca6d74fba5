"""Runs the benchmark cases of issue 7 and writes the JSON results and the
Markdown report.

    python -m bench.run --mode quick                 # development
    python -m bench.run --mode full --out-dir docs   # the record

Needs the release wheel in the virtualenv, the release ``meta`` binary and
``wrk``; ``scripts/bench`` (``make bench``) prepares all of them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
from typing import Any

from bench import machine, report
from bench.cases import big_table, concurrent, hms, http_resolve, iceberg, memory, r_frames, small_publishes, store_load
from bench.config import MODES
from bench.context import REPO_ROOT, BenchContext

CASES = ["store_load", "small_publishes", "concurrent", "big_table", "http_resolve", "memory", "iceberg", "hms", "r_frames"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=sorted(MODES), default="quick")
    parser.add_argument("--out-dir", help="where benchmarks.md and benchmarks.json go (default: target/bench/<mode>)")
    parser.add_argument("--work-dir", help="scratch space on the measured disk (default: target/bench/work-<mode>, wiped first)")
    parser.add_argument("--meta", default=os.path.join(REPO_ROOT, "target", "release", "meta"), help="the release meta binary")
    parser.add_argument("--big-partitions", type=int, help="case 4's big table size instead of the mode's (building it is slow)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    return parser.parse_args()


def run_cases(ctx: BenchContext, selected: list[str], results: dict[str, Any], save: Any) -> None:
    """Runs the selected cases in order, saving after each one."""
    if "store_load" in selected:
        results["store_load"] = store_load.run(ctx)
        save()
    if "small_publishes" in selected:
        results["small_publishes"] = small_publishes.run(ctx)
        save()
    if "concurrent" in selected:
        results["concurrent"] = concurrent.run(ctx)
        save()
    if "big_table" in selected:
        results["big_table"] = big_table.run(ctx)
        save()
    if "http_resolve" in selected:
        if "big_table" not in results:
            ctx.log("case 5 needs case 4's table: skipped")
        else:
            big = results["big_table"]
            results["http_resolve"] = http_resolve.run(ctx, big["big"]["directory"], big["big_partitions"])
            save()
    if "memory" in selected:
        results["memory"] = memory.run(ctx)
        save()
    if "iceberg" in selected:
        results["iceberg"] = iceberg.run(ctx)
        save()
    if "hms" in selected:
        results["hms"] = hms.run(ctx)
        save()
    if "r_frames" in selected:
        results["r_frames"] = r_frames.run(ctx)
        save()


def earlier_results(json_path: str, mode: str, selected: list[str]) -> dict[str, Any]:
    """The results of the cases not selected now, from an earlier run of the
    same mode into the same file (so that one case can be run again); the
    report lists every command that contributed."""
    if set(selected) == set(CASES) or not os.path.exists(json_path):
        return {}
    with open(json_path) as f:
        earlier: dict[str, Any] = json.load(f)
    if earlier.get("mode") != mode:
        return {}
    kept = {case: earlier[case] for case in CASES if case in earlier and case not in selected}
    return {**kept, "commands": earlier.get("commands", [])} if kept else {}


def main() -> None:
    args = parse_args()
    config = MODES[args.mode]
    if args.big_partitions:
        config = dataclasses.replace(config, big_partitions=args.big_partitions)
    selected = [case for case in args.cases.split(",") if case]
    unknown = set(selected) - set(CASES)
    if unknown:
        sys.exit(f"unknown cases: {', '.join(sorted(unknown))}")
    if not os.access(args.meta, os.X_OK):
        sys.exit(f"no meta binary at {args.meta}: cargo build --release -p batchmeta-cli")
    out_dir = args.out_dir or os.path.join(REPO_ROOT, "target", "bench", config.mode)
    work_dir = args.work_dir or os.path.join(REPO_ROOT, "target", "bench", f"work-{config.mode}")
    shutil.rmtree(work_dir, ignore_errors=True)
    os.makedirs(work_dir)
    os.makedirs(out_dir, exist_ok=True)
    ctx = BenchContext(config, work_dir, args.meta, os.environ.get("BATCHMETA_TEST_POSTGRES_URL") or None)
    command = os.environ.get("BENCH_COMMAND") or " ".join(["python -m bench.run", *sys.argv[1:]])
    json_path = os.path.join(out_dir, "benchmarks.json")
    results = earlier_results(json_path, config.mode, selected)
    results.update(
        {
            "mode": config.mode,
            "config": dataclasses.asdict(config),
            "machine": machine.describe(work_dir, args.meta),
        }
    )
    results.setdefault("commands", []).append({"command": command, "cases": selected, "date_utc": results["machine"]["date_utc"]})

    def save() -> None:
        with open(json_path, "w") as f:
            json.dump(results, f, indent=1)

    run_cases(ctx, selected, results, save)
    results["machine"]["load_average_end"] = machine.load_average()
    save()
    report_path = os.path.join(out_dir, "benchmarks.md")
    with open(report_path, "w") as f:
        f.write(report.render(results))
    ctx.log(f"wrote {report_path} and {json_path}")


if __name__ == "__main__":
    main()
