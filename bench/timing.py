"""Timing helpers: interleaved repetitions, summary statistics and the
fsync-rate probe that goes beside every publish rate."""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

FSYNC_BLOCK = b"\0" * 4096


@dataclass
class Operation:
    """One timed operation of one system; ``prepare`` runs untimed before
    each repetition (e.g. to create the state the operation undoes)."""

    label: str
    run: Callable[[], object]
    prepare: Callable[[], object] | None = None


def run_interleaved(operations: Sequence[Operation], repetitions: int, warmup: int = 1) -> dict[str, list[float]]:
    """Runs the operations round-robin (A B C A B C ...) so that machine
    drift hits all of them alike; returns each label's timings in seconds,
    warm-up rounds excluded."""
    samples: dict[str, list[float]] = {op.label: [] for op in operations}
    for round_index in range(warmup + repetitions):
        for op in operations:
            if op.prepare is not None:
                op.prepare()
            gc.collect()
            seconds = timed(op.run)
            if round_index >= warmup:
                samples[op.label].append(seconds)
    return samples


def timed(function: Callable[[], object]) -> float:
    """Wall seconds of one call, with the garbage collector held off."""
    gc.disable()
    try:
        start = time.perf_counter()
        function()
        return time.perf_counter() - start
    finally:
        gc.enable()


def summarize(seconds: Sequence[float]) -> dict[str, float | int]:
    """Median, minimum, maximum and count of a sample, in seconds."""
    return {
        "median": statistics.median(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "n": len(seconds),
    }


def fsync_rate(directory: str, duration: float = 1.0) -> float:
    """4 KiB write + fdatasync cycles per second in ``directory`` over about
    ``duration`` seconds: the durable-commit ceiling of the disk right now."""
    path = os.path.join(directory, "fsync-probe.bin")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        count = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < duration:
            os.pwrite(fd, FSYNC_BLOCK, (count % 256) * len(FSYNC_BLOCK))
            os.fdatasync(fd)
            count += 1
        return count / elapsed
    finally:
        os.close(fd)
        os.unlink(path)
