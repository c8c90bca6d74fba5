"""Frames come back as they went in: pandas (index, categoricals, nullable
ints, tz-aware timestamps), polars and pyarrow."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import polars as pl
import polars.testing
import pyarrow as pa
import pytest

import batchmeta as bm
from conftest import Env


def pandas_frame(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "i64": np.arange(n, dtype="int64"),
            "i32": np.arange(n, dtype="int32"),
            "f64": np.where(np.arange(n) % 7 == 0, np.nan, rng.random(n)),
            "flag": np.arange(n) % 2 == 0,
            "name": pd.array([None if i % 5 == 0 else f"item {i}" for i in range(n)], dtype="str"),
            "qty": pd.array([None if i % 3 == 0 else i for i in range(n)], dtype="Int64"),
            "small": pd.array([None if i % 4 == 0 else i for i in range(n)], dtype="Int16"),
            "color": pd.Categorical([["red", "green", "blue"][i % 3] for i in range(n)]),
            # Category order that is neither sorted nor of first appearance,
            # an unused category, and order semantics.
            "size": pd.Categorical(
                [["large", "small"][i % 2] for i in range(n)],
                categories=["small", "medium", "large", "huge"],
                ordered=True,
            ),
            "sold_at": pd.date_range("2016-10-31", periods=n, freq="h", tz="UTC"),
            "local": pd.date_range("2016-10-31", periods=n, freq="min", tz="Europe/Berlin"),
            "naive": pd.date_range("2016-10-31", periods=n, freq="s"),
        }
    )
    df.index = pd.Index([f"o{i:04d}" for i in range(n)], name="order_id")
    return df


def test_pandas_round_trip_keeps_index_and_dtypes(env: Env) -> None:
    df = pandas_frame()
    r = env.client.store_dataframe(df, env.ns, "sold_items", partitions=[{"date": dt.date(2016, 10, 31)}])
    assert r.created_table and r.published and r.rows == len(df)
    assert r.batch_id.isdigit() and len(r.batch_id) == 20
    assert r.event_id is not None and r.location.endswith(r.batch_id)

    out = env.client.load_dataframe(env.ns, "sold_items", partitions=["2016-10-31"])
    assert list(out["date"].unique()) == [dt.date(2016, 10, 31)]
    # Categories keep their order, unused ones included, and `ordered`.
    pd.testing.assert_frame_equal(out.drop(columns="date"), df)
    assert list(out["size"].cat.categories) == ["small", "medium", "large", "huge"]
    assert out["size"].cat.ordered
    assert out.index.name == "order_id"
    assert out["qty"].dtype == "Int64" and out["color"].dtype == "category"
    assert out["local"].dtype == df["local"].dtype and str(out["local"].dt.tz) == "Europe/Berlin"

    info = env.client.table(env.ns, "sold_items")
    assert info.partition_keys == [("date", "date")]


def test_pandas_range_index_unpartitioned(env: Env) -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"]})
    env.client.store_dataframe(df, env.ns, "plain")
    pd.testing.assert_frame_equal(env.client.load_dataframe(env.ns, "plain"), df)


def test_polars_round_trip(env: Env) -> None:
    df = pl.DataFrame(
        {
            "id": [1, 2, 3, None],
            "price": [1.5, None, 2.25, 3.0],
            "name": ["a", None, "c", "d"],
            "ok": [True, False, None, True],
            "day": [dt.date(2020, 1, i) for i in range(1, 5)],
            "at": [dt.datetime(2020, 1, 1, i, tzinfo=dt.timezone.utc) for i in range(4)],
            "kind": pl.Series(["x", "y", "x", "z"], dtype=pl.Categorical),
        }
    )
    env.client.store_dataframe(df, env.ns, "pl", partitions=[{"region": "us"}])
    out = env.client.load_dataframe(env.ns, "pl", partitions=["us"], output="polars")
    assert out["region"].to_list() == ["us"] * 4
    polars.testing.assert_frame_equal(out.drop("region"), df, check_dtypes=False)
    for name in ["id", "price", "name", "ok", "day", "at"]:
        assert out[name].dtype == df[name].dtype, name


def test_pyarrow_round_trip(env: Env) -> None:
    t = pa.table(
        {
            "i8": pa.array([1, None, 3], pa.int8()),
            "u32": pa.array([1, 2, None], pa.uint32()),
            "f32": pa.array([1.0, None, 2.5], pa.float32()),
            "s": pa.array(["a", "b", None], pa.string()),
            "ls": pa.array(["x", None, "z"], pa.large_string()),
            "bin": pa.array([b"\x00", None, b"ab"], pa.binary()),
            "d": pa.array([dt.date(2016, 1, 1), None, dt.date(2016, 1, 3)], pa.date32()),
            "ts": pa.array([0, 1_000_000, None], pa.timestamp("us", tz="America/New_York")),
            "dec": pa.array([Decimal("1.25"), None, Decimal("-3.10")], pa.decimal128(10, 2)),
            "lst": pa.array([[1, 2], None, []], pa.list_(pa.int64())),
            "b": pa.array([True, None, False]),
        }
    )
    env.client.store_dataframe(t, env.ns, "arrow", partitions=[{"n": 7}])
    out = env.client.load_dataframe(env.ns, "arrow", partitions=[7], output="arrow")
    assert out.column("n").to_pylist() == [7, 7, 7]
    assert out.drop_columns(["n"]).equals(t)


def test_any_arrow_stream_object(env: Env) -> None:
    class Stream:
        def __init__(self, t: pa.Table) -> None:
            self.t = t

        def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
            return self.t.__arrow_c_stream__(requested_schema)

    t = pa.table({"a": [1, 2]})
    env.client.store_dataframe(Stream(t), env.ns, "capsule")
    assert env.client.load_dataframe(env.ns, "capsule", output="arrow").equals(t)


def test_columns_and_filters_are_pushed_down(env: Env) -> None:
    df = pd.DataFrame({"a": range(10), "b": [f"s{i}" for i in range(10)]})
    env.client.store_dataframe(df, env.ns, "f", partitions=[{"p": "x"}])
    out = env.client.load_dataframe(
        env.ns, "f", columns=["a", "p"], filters=[("a", ">=", 7), ("b", "in", ["s8", "s9", "s1"])]
    )
    assert list(out.columns) == ["a", "p"]
    assert out["a"].tolist() == [8, 9]


@pytest.mark.parametrize("output", ["pandas", "polars", "arrow"])
def test_load_many_partitions(env: Env, output: str) -> None:
    df = pd.DataFrame({"region": ["us", "eu", "us"], "n": [1, 2, 3]})
    env.client.store_dataframe(df, env.ns, "m", partition_by=["region"])
    out = env.client.load_dataframe(env.ns, "m", output=output)  # type: ignore[call-overload]
    if output == "arrow":
        n = out.column("n").to_pylist()
    elif output == "polars":
        n = out["n"].to_list()
    else:
        n = out["n"].tolist()
    assert sorted(n) == [1, 2, 3]
