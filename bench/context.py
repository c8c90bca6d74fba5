"""What every case gets: the sizes, the scratch directory on the measured
disk, the release ``meta`` binary and a progress log."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

from bench.config import Config
from bench.timing import fsync_rate

#: The repository root (where ``python -m bench...`` runs from).
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class BenchContext:
    """The run's settings and scratch space (every system writes under ``work_dir``)."""

    config: Config
    work_dir: str
    meta_binary: str
    postgres_url: str | None
    started: float = field(default_factory=time.monotonic)

    def directory(self, *parts: str) -> str:
        """A directory under the scratch space, created if missing."""
        path = os.path.join(self.work_dir, *parts)
        os.makedirs(path, exist_ok=True)
        return path

    def log(self, message: str) -> None:
        """A progress line on stderr with the elapsed time."""
        print(f"[bench {time.monotonic() - self.started:7.1f} s] {message}", file=sys.stderr, flush=True)

    def fsync_rate(self) -> float:
        """fdatasyncs/s on the measured disk, right now."""
        return fsync_rate(self.work_dir)
