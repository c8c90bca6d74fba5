"""The Python quick start (docs/python.md), as a script mypy --strict checks.

Run it from any directory: it works in the embedded catalog under a
temporary directory (set BATCHMETA_URL to use a server instead).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile

import pandas as pd
import polars as pl

import batchmeta as bm


def main() -> None:
    url = os.environ.get("BATCHMETA_URL") or os.path.join(tempfile.mkdtemp(), "meta")
    bm.connect(url)

    sales = pd.DataFrame(
        {"item": ["apple", "pear"], "price": [1.25, 0.8], "qty": pd.array([3, None], dtype="Int64")}
    )
    day = {"date": dt.date(2016, 10, 31)}

    # A namespace is created on purpose, once; a store into a misspelled
    # one fails instead of creating it.
    bm.create_namespace("sales", exist_ok=True)

    # The first write creates the table (partitioned by date).
    first = bm.store_dataframe(sales, "sales", "sold_items", partitions=[day])
    print("stored", first.rows, "rows as batch", first.batch_id)

    # An overwrite is a new batch; the old one is kept.
    fixed = sales.assign(price=sales["price"] * 2)
    bm.store_dataframe(fixed, "sales", "sold_items", partitions=["2016-10-31"])

    # Oops: roll back, and the old frame is what readers get.
    bm.rollback("sales", "sold_items", partitions=["2016-10-31"])
    df: pd.DataFrame = bm.load_dataframe("sales", "sold_items", partitions=["2016-10-31"])
    assert df["price"].tolist() == [1.25, 0.8]

    # Old versions stay readable by batch ID, by time, or through a pin.
    old = bm.load_dataframe("sales", "sold_items", partitions=["2016-10-31"], batch_id=first.batch_id)
    bm.pin("sales", "sold_items", "weekly_report", "2016-10-31", reason="Q4 numbers")
    pinned: pl.DataFrame = bm.load_dataframe("sales", "sold_items", pin="weekly_report", output="polars")
    print(len(old), "rows at", first.batch_id, "and", pinned.height, "pinned")

    # Many partitions at once, in one all-or-nothing commit.
    regions = pd.DataFrame({"region": ["us", "eu", "us"], "n": [1, 2, 3]})
    bm.store_dataframe(regions, "sales", "by_region", partition_by=["region"])

    # Who changed what, when.
    for event in bm.history("sales", "sold_items", "2016-10-31"):
        print(event.at, event.principal, event.action, event.to_batch)
    print(bm.events("sales")[["id", "action", "table", "partition"]])

    # Write only if nobody else published since we looked (compare-and-swap).
    try:
        bm.store_dataframe(fixed, "sales", "sold_items", ["2016-10-31"], expected_batch=bm.NO_BATCH)
    except bm.ConflictError as e:
        print("someone else published", e.current_batch)


if __name__ == "__main__":
    main()
