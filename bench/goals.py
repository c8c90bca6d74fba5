"""The goals of issues 7 and 22, checked against one run's results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.cases.small_publishes import POSTGRES
from bench.systems.naive_sqlite import NaiveSqliteTable

RAW = "raw pyarrow"
EMBEDDED = "batchmeta embedded"
PEERS = ["deltalake", "pyiceberg"]
#: The publish rate goal, and the fsync rate under which a third of it counts instead.
PUBLISH_RATE_GOAL = 300.0
SLOW_FSYNC = 900.0
#: Issue 22's publish rate goal for batchmeta on PostgreSQL, one writer.
POSTGRES_RATE_GOAL = 400.0


@dataclass
class Goal:
    """One goal: what is measured, the target, the value and whether it holds.
    ``higher_is_better`` decides the direction of the comparison."""

    name: str
    target: float
    measured: float
    unit: str
    higher_is_better: bool = False

    @property
    def met(self) -> bool:
        """Whether the measured value reaches the target."""
        return self.measured >= self.target if self.higher_is_better else self.measured <= self.target

    @property
    def gap(self) -> str:
        """By how much it is missed (or the margin when met), as a factor."""
        if self.measured == 0 or self.target == 0:
            return "—"
        factor = self.target / self.measured if self.higher_is_better else self.measured / self.target
        return f"{factor:.2f}× the target" if not self.met else f"margin {1 / factor:.2f}×"


def median(results: dict[str, Any], operation: str, system: str) -> float:
    """A case-1 median in seconds."""
    return float(results["store_load"][operation][system]["median"])


def store_load_goals(results: dict[str, Any]) -> list[Goal]:
    """Case 1: store ≤ 0.8× raw write, ≥ 2× faster than the peers; loads."""
    store = median(results, "store", EMBEDDED)
    goals = [Goal("store one partition ÷ raw pyarrow write", 0.8, store / median(results, "store", RAW), "×")]
    goals += [Goal(f"{peer} store ÷ batchmeta store", 2.0, median(results, "store", peer) / store, "×", True) for peer in PEERS]
    goals.append(Goal("load one partition (Arrow) ÷ raw pyarrow read", 1.0, median(results, "load_arrow", EMBEDDED) / median(results, "load_arrow", RAW), "×"))
    pandas_extra = median(results, "load_pandas", EMBEDDED) - median(results, "load_arrow", EMBEDDED)
    to_pandas = float(results["store_load"]["to_pandas"]["median"])
    goals.append(Goal("pandas load − Arrow load, target = pyarrow's own to_pandas", to_pandas, pandas_extra, "s"))
    return goals


def publish_goals(results: dict[str, Any]) -> list[Goal]:
    """Case 2: the small-publish rate (fsync-aware) and flatness."""
    case = results["small_publishes"]
    profile = case["systems"][EMBEDDED]
    fsync = min(case["fsync_per_s"]["before"], case["fsync_per_s"]["after"])
    target = PUBLISH_RATE_GOAL if fsync >= SLOW_FSYNC else fsync / 3
    goals = [
        Goal(f"small publishes/s (fsync {fsync:.0f}/s in this run)", target, profile["rate_per_s"], "/s", True),
        Goal(f"last {profile['edge_window']} ÷ first {profile['edge_window']} publishes (median)", 1.1, profile["last_over_first"], "×"),
        # Issue 22: embedded at least the naive pyarrow + SQLite model's rate.
        Goal("embedded small publishes ÷ naive pyarrow + SQLite", 1.0, profile["rate_per_s"] / case["systems"][NaiveSqliteTable.name]["rate_per_s"], "×", True),
    ]
    postgres = case["systems"].get(POSTGRES)
    if postgres:
        goals += [
            Goal("small publishes/s, PostgreSQL, 1 writer", POSTGRES_RATE_GOAL, postgres["rate_per_s"], "/s", True),
            Goal("embedded ÷ PostgreSQL small publishes/s", 1.5, profile["rate_per_s"] / postgres["rate_per_s"], "×"),
        ]
    return goals


def concurrency_goals(results: dict[str, Any]) -> list[Goal]:
    """Case 3: concurrent writers beat one writer (on each catalog, each layout)."""
    goals = []
    for catalog, case in results["concurrent"]["catalogs"].items():
        layouts = case["layouts"]
        single = layouts["1 writer"]["rate_per_s"]
        for name, layout in layouts.items():
            if name != "1 writer":
                goals.append(Goal(f"{catalog}: {name} ÷ 1 writer (publishes/s)", 1.0, layout["rate_per_s"] / single, "×", True))
    return goals


def big_table_goals(results: dict[str, Any]) -> list[Goal]:
    """Case 4: the query latencies on the big table."""
    case = results["big_table"]
    operations = case["big"]["operations"]
    page = case["page"]
    size = f"{case['big_partitions']:,} partitions"
    return [
        Goal(f"resolve one partition, {size}", 0.001, operations["resolve one partition"]["median"], "s"),
        Goal(f"list a page of {page:,}, {size}", 0.020, operations[f"list a page of {page:,}"]["median"], "s"),
        Goal(f"audit page of {page:,} by time range, {size}", 0.020, operations[f"audit page of {page:,} by time range"]["median"], "s"),
        Goal(f"rollback, {size}", 0.005, operations["rollback"]["median"], "s"),
    ]


def http_goals(results: dict[str, Any]) -> list[Goal]:
    """Case 5: HTTP resolve throughput and p99."""
    case = results["http_resolve"]
    return [
        Goal("HTTP resolve requests/s (64 connections)", 20_000, case["requests_per_s"], "/s", True),
        Goal("HTTP resolve p99", 0.010, case["p99_s"], "s"),
    ]


def memory_goals(results: dict[str, Any]) -> list[Goal]:
    """Case 6: peak above baseline ≤ 1.2× the frame's Arrow size."""
    probes = results["memory"]["probes"]
    rows = results["memory"]["rows"]
    return [
        Goal(f"{operation} {rows:,} rows: peak above baseline ÷ frame size", 1.2, probes[f"batchmeta {operation}"]["peak_over_frame"], "×")
        for operation in ("store", "load")
    ]


CHECKS = {
    "store_load": store_load_goals,
    "small_publishes": publish_goals,
    "concurrent": concurrency_goals,
    "big_table": big_table_goals,
    "http_resolve": http_goals,
    "memory": memory_goals,
}


def evaluate(results: dict[str, Any]) -> list[Goal]:
    """Every goal whose case is in ``results``."""
    return [goal for case, check in CHECKS.items() if case in results for goal in check(results)]
