"""The machine, disk and software a run was measured on."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
from importlib import metadata

PACKAGES = ["batchmeta", "pyarrow", "pandas", "polars", "deltalake", "pyiceberg", "SQLAlchemy", "numpy"]


def command_output(argv: list[str]) -> str:
    """stdout of ``argv``, or a note saying why there is none."""
    if shutil.which(argv[0]) is None:
        return f"({argv[0]} not installed)"
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.stdout.strip() or done.stderr.strip()


def lscpu_summary() -> dict[str, str]:
    """The lscpu lines that matter for a benchmark."""
    wanted = ("Architecture", "CPU(s)", "Model name", "Thread(s) per core", "Core(s) per socket", "Hypervisor vendor", "L2 cache", "L3 cache")
    summary = {}
    for line in command_output(["lscpu"]).splitlines():
        key, _, value = line.partition(":")
        if key.strip() in wanted:
            summary[key.strip()] = value.strip()
    return summary


def memory_total() -> str:
    """MemTotal from /proc/meminfo."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    return "unknown"


def package_versions() -> dict[str, str]:
    """Installed versions of the measured Python packages."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other work on the machine skews a run)."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def describe(bench_dir: str, meta_binary: str) -> dict[str, object]:
    """Everything the report states about where and when it was measured."""
    return {
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": lscpu_summary(),
        "memory": memory_total(),
        "disk": command_output(["df", "-h", bench_dir]),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": package_versions(),
        "meta": command_output([meta_binary, "--version"]),
        "load_average_start": load_average(),
        "git_commit": command_output(["git", "rev-parse", "--short", "HEAD"]),
        "wrk": " ".join(command_output(["wrk", "--version"]).split()[:2]),
    }
