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


def test_two_threads_store_faster_than_one_after_the_other(direct_env: Env) -> None:
    env = direct_env
    rows = int(os.environ.get("BATCHMETA_TEST_ROWS", "1500000"))
    tables = [big_table(i, rows) for i in range(2)]
    c = env.client
    c.store_dataframe(tables[0].slice(0, 10), env.ns, "big", [{"p": "warmup"}])

    def store(i: int, p: str) -> None:
        c.store_dataframe(tables[i], env.ns, "big", [p])

    t0 = time.perf_counter()
    store(0, "serial_0")
    store(1, "serial_1")
    serial = time.perf_counter() - t0

    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            store(i, f"parallel_{i}")
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    parallel = time.perf_counter() - t0
    assert not errors, errors
    ratio = parallel / serial
    print(f"\n[{env.mode}] serial {serial:.2f}s, two threads {parallel:.2f}s, ratio {ratio:.2f}", file=sys.stderr)
    assert {p.partition for p in c.partitions(env.ns, "big")} >= {"p=parallel_0", "p=parallel_1"}
    assert serial > 0.5, f"the frames are too small to measure ({serial:.2f}s): raise BATCHMETA_TEST_ROWS"
    assert ratio < 0.85, f"two threads took {ratio:.2f} of the serial time: is the GIL held during I/O?"


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
