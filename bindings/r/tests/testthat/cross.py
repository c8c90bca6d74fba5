"""The Python half of test-python.R: reads what R wrote and writes what R
reads, through the real wheel. Exits non-zero (an assertion) on any
difference; prints "ok" when every check passed.

    python cross.py read-r URL NS       # check R's all_types() table, copy it to NS.back
    python cross.py write-py URL NS     # a pandas frame into NS.py
    python cross.py read-r-py URL NS    # check the batch R wrote into NS.py
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import zoneinfo

import pandas as pd
import pyarrow as pa

import batchmeta as bm

NY = zoneinfo.ZoneInfo("America/New_York")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def client(url: str) -> bm.Client:
    return bm.Client(url)


def read_r(c: bm.Client, ns: str) -> None:
    t = c.load_dataframe(ns, "t", output="arrow")
    s = t.schema
    assert s.field("i").type == pa.int32(), s
    assert s.field("d").type == pa.float64(), s
    assert s.field("s").type == pa.string(), s
    assert s.field("b").type == pa.bool_(), s
    assert s.field("f").type == pa.dictionary(pa.int32(), pa.string(), ordered=False), s.field("f")
    assert s.field("o").type == pa.dictionary(pa.int32(), pa.string(), ordered=True), s.field("o")
    assert s.field("dt").type == pa.date32(), s
    assert s.field("ts").type == pa.timestamp("us", tz="America/New_York"), s
    assert s.field("utc").type == pa.timestamp("us", tz="UTC"), s
    assert s.field("i64").type == pa.int64(), s
    assert t.num_rows == 50, t.num_rows
    col = lambda n: t.column(n).to_pylist()[:3]  # noqa: E731
    assert col("i") == [1, None, -2147483647], col("i")
    d = col("d")
    assert d[0] == 1.5 and d[1] is None and math.isnan(d[2]), d
    assert col("s") == ["a", None, "\u00fc\u65e5"], col("s")
    assert col("b") == [True, None, False], col("b")
    assert col("dt") == [dt.date(2016, 10, 31), None, dt.date(1969, 12, 31)], col("dt")
    ts = col("ts")
    assert ts[0] == dt.datetime(2016, 10, 31, 12, 34, 56, 500000, tzinfo=NY), ts
    assert ts[1] is None and ts[2] == dt.datetime(1960, 1, 1, tzinfo=NY), ts
    assert col("i64") == [9007199254740993, None, -9223372036854775807], col("i64")
    pdf = t.to_pandas()
    assert list(pdf["f"].cat.categories) == ["lo", "mid", "hi"] and not pdf["f"].cat.ordered
    assert list(pdf["o"].cat.categories) == ["s", "m", "l"] and pdf["o"].cat.ordered
    assert list(pdf["o"][:3].astype(object).where(pdf["o"][:3].notna(), None)) == ["s", "l", None]
    # Back again, unchanged, for R to compare with what it wrote.
    c.store_dataframe(t, ns, "back", partitions=[{"date": dt.date(2016, 10, 31)}])


def pandas_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "n": pd.array([1, None, 2**62], dtype="Int64"),
            "x": [0.25, -1.0, 1e300],
            "s": ["a", None, "z\u00e9"],
            "flag": [True, False, True],
            "cat": pd.Categorical(["hi", "lo", None], categories=["lo", "mid", "hi"], ordered=True),
            "at": pd.Series(
                [pd.Timestamp("2016-10-31 01:02:03.123456"), pd.NaT, pd.Timestamp("1999-12-31 23:59:59")]
            ).dt.tz_localize(BERLIN),
            "day": [dt.date(2016, 10, 31), dt.date(2000, 2, 29), None],
        }
    )


def write_py(c: bm.Client, ns: str) -> None:
    c.store_dataframe(pandas_frame(), ns, "py", partitions=[{"region": "eu"}])


def read_r_py(c: bm.Client, ns: str) -> None:
    t = c.load_dataframe(ns, "py", partitions=[{"region": "us"}], output="arrow")
    want = pa.Table.from_pandas(pandas_frame().assign(region="us"), preserve_index=False)
    assert t.column_names == want.column_names, t.column_names
    for name in t.column_names:
        got, exp = t.column(name), want.column(name)
        assert got.to_pylist() == exp.to_pylist(), (name, got, exp)
        if pa.types.is_timestamp(exp.type):
            assert got.type == exp.type, (name, got.type, exp.type)
    cat = t.to_pandas()["cat"]
    assert list(cat.cat.categories) == ["lo", "mid", "hi"] and cat.cat.ordered, cat


def main() -> None:
    what, url, ns = sys.argv[1:4]
    c = client(url)
    {"read-r": read_r, "write-py": write_py, "read-r-py": read_r_py}[what](c, ns)
    print("ok")


if __name__ == "__main__":
    main()
