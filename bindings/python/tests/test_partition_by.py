"""partition_by: one frame, many partitions, one all-or-nothing commit."""

from __future__ import annotations

import pandas as pd
import pytest

import batchmeta as bm
from conftest import Env


def test_partition_by_publishes_every_partition_in_one_commit(env: Env) -> None:
    df = pd.DataFrame({"region": ["us", "eu", "us", "jp"], "n": [1, 2, 3, 4]})
    r = env.client.store_dataframe(df, env.ns, "s", partition_by=["region"])
    assert r.created_table and len(r.batches) == 3 and r.rows == 4
    assert len(set(r.event_ids)) == 3 and r.commit_id
    ev = env.client.events(env.ns, "s", action="publish")
    assert set(ev["commit_id"]) == {r.commit_id}
    assert [p.partition for p in env.client.partitions(env.ns, "s")] == [
        "region=eu",
        "region=jp",
        "region=us",
    ]
    us = env.client.load_dataframe(env.ns, "s", ["us"])
    assert us["n"].tolist() == [1, 3] and set(us["region"]) == {"us"}


def test_a_bad_partition_value_publishes_none(env: Env) -> None:
    env.client.store_dataframe(
        pd.DataFrame({"region": ["us"], "n": [0]}), env.ns, "s", partition_by=["region"]
    )
    before = env.snapshot()
    bad = pd.DataFrame({"region": ["jp", "eu", "a/b"], "n": [1, 2, 3]})
    with pytest.raises(bm.InvalidInputError) as e:
        env.client.store_dataframe(bad, env.ns, "s", partition_by=["region"])
    assert e.value.code == "invalid_partition" and "a/b" in str(e.value)
    assert env.snapshot() == before
    assert [p.partition for p in env.client.partitions(env.ns, "s")] == ["region=us"]


def test_a_failure_after_writing_publishes_none(env: Env) -> None:
    """Partitions jp and eu are staged and written before the publish finds
    that us already exists (expected_batch=NO_BATCH): nothing is published
    and the written files are removed."""
    env.client.store_dataframe(
        pd.DataFrame({"region": ["us"], "n": [0]}), env.ns, "s", partition_by=["region"]
    )
    before = env.snapshot()
    df = pd.DataFrame({"region": ["jp", "eu", "us"], "n": [1, 2, 3]})
    with pytest.raises(bm.ConflictError):
        env.client.store_dataframe(
            df, env.ns, "s", partition_by=["region"], expected_batch=bm.NO_BATCH
        )
    assert env.snapshot() == before
    assert [p.partition for p in env.client.partitions(env.ns, "s")] == ["region=us"]
    assert env.client.load_dataframe(env.ns, "s")["n"].tolist() == [0]


def test_a_bad_first_write_creates_nothing(env: Env) -> None:
    bad = pd.DataFrame({"region": ["us", None], "n": [1, 2]})
    with pytest.raises(bm.InvalidInputError):
        env.client.store_dataframe(bad, env.ns, "fresh", partition_by=["region"])
    with pytest.raises(bm.NotFoundError):
        env.client.table(env.ns, "fresh")
    assert env.files() == []


def test_partition_by_int_and_date_keys(env: Env) -> None:
    import datetime as dt

    df = pd.DataFrame(
        {
            "day": [dt.date(2016, 10, 31), dt.date(2016, 11, 1)],
            "store": [7, 8],
            "n": [1, 2],
        }
    )
    env.client.store_dataframe(df, env.ns, "k", partition_by=["day", "store"])
    info = env.client.table(env.ns, "k")
    assert info.partition_keys == [("day", "date"), ("store", "int")]
    out = env.client.load_dataframe(env.ns, "k", [(dt.date(2016, 11, 1), 8)])
    assert out["n"].tolist() == [2] and out["store"].tolist() == [8]
