"""The GIL is released during I/O (threads run in parallel) and a client
keeps working in a forked child."""

from __future__ import annotations

import os
import sys
import threading
import time

import numpy as np
import pyarrow as pa
import pytest

from conftest import Env


def big_table(seed: int, rows: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "a": rng.integers(0, 1 << 40, rows),
            "b": rng.random(rows),
            "c": rng.random(rows),
            "d": pa.array(rng.integers(0, 1000, rows).astype(str)),
        }
    )


def test_python_threads_run_while_a_store_is_in_rust(env: Env) -> None:
    """While one thread is inside store_dataframe, another thread keeps
    executing Python: it could not if the store held the GIL. The frame is
    big enough that the store lasts a few tenths of a second."""
    rows = int(os.environ.get("BATCHMETA_TEST_ROWS", "4000000"))
    table = big_table(7, rows)
    c = env.client
    c.store_dataframe(table.slice(0, 10), env.ns, "gil", [{"p": "warmup"}])
    done = threading.Event()
    ticks_during_store = 0

    def count() -> None:
        nonlocal ticks_during_store
        while not done.is_set():
            ticks_during_store += 1
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    t0 = time.perf_counter()
    try:
        c.store_dataframe(table, env.ns, "gil", ["big"])
    finally:
        done.set()
        counter.join()
    elapsed = time.perf_counter() - t0
    print(f"\n[{env.mode}] store {elapsed:.2f}s, other thread ticked {ticks_during_store}x", file=sys.stderr)
    assert elapsed > 0.1, f"the frame is too small to tell ({elapsed:.2f}s): raise BATCHMETA_TEST_ROWS"
    # About one tick per millisecond when the GIL is free; a held GIL allows none.
    assert ticks_during_store > 20, f"only {ticks_during_store} ticks in {elapsed:.2f}s: is the GIL held?"


def test_two_threads_store_at_once(direct_env: Env) -> None:
    """Two threads storing big frames at once: both stores run in Rust at
    the same time (their calls overlap, which a held GIL would prevent),
    both land, and nothing else is stored. No timing is compared: speed is
    the benchmark's business (docs/benchmarks.md)."""
    env = direct_env
    rows = int(os.environ.get("BATCHMETA_TEST_ROWS", "1500000"))
    tables = [big_table(i, rows) for i in range(2)]
    c = env.client
    c.store_dataframe(tables[0].slice(0, 10), env.ns, "big", [{"p": "warmup"}])
    barrier = threading.Barrier(2)
    spans: dict[int, tuple[float, float]] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            t0 = time.perf_counter()
            c.store_dataframe(tables[i], env.ns, "big", [f"thread_{i}"])
            spans[i] = (t0, time.perf_counter())
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    (s0, e0), (s1, e1) = spans[0], spans[1]
    assert max(s0, s1) < min(e0, e1), "the two stores ran one after the other: is the GIL held?"
    parts = {p.partition for p in c.partitions(env.ns, "big")}
    assert parts == {"p=warmup", "p=thread_0", "p=thread_1"}
    for i in range(2):
        back = c.load_dataframe(env.ns, "big", [f"thread_{i}"], output="arrow")
        assert back.num_rows == rows


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_can_store_and_load(direct_env: Env) -> None:
    env = direct_env
    t = pa.table({"a": [1, 2, 3]})
    env.client.store_dataframe(t, env.ns, "f", [{"who": "parent"}])
    pid = os.fork()
    if pid == 0:  # the child: must not raise, must not hang
        code = 1
        try:
            env.client.store_dataframe(t, env.ns, "f", ["child"])
            back = env.client.load_dataframe(env.ns, "f", ["parent"], output="arrow")
            code = 0 if back.column("a").to_pylist() == [1, 2, 3] else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    # The parent's client still works, and sees the child's write.
    assert {p.partition for p in env.client.partitions(env.ns, "f")} == {"who=child", "who=parent"}
