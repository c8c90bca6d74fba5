"""store_dataframe / load_dataframe against a `meta serve` on PostgreSQL and
S3 (moto): the deployment of docs/deployment.md. Needs the services that
scripts/with-services starts (BATCHMETA_TEST_POSTGRES_URL,
BATCHMETA_TEST_S3_URL and the AWS_* variables); skips, saying why, without
them."""

from __future__ import annotations

import os
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import batchmeta as bm
from catalogs import fresh_postgres_database, running_server

PG = os.environ.get("BATCHMETA_TEST_POSTGRES_URL", "")
S3 = os.environ.get("BATCHMETA_TEST_S3_URL", "")

pytestmark = pytest.mark.skipif(
    not (PG and S3),
    reason="BATCHMETA_TEST_POSTGRES_URL / BATCHMETA_TEST_S3_URL not set: run via scripts/with-services",
)


def _objects(prefix_url: str) -> list[str]:
    """Every object key under an s3:// prefix, read with boto3."""
    import boto3

    u = urllib.parse.urlsplit(prefix_url)
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=u.netloc, Prefix=u.path.lstrip("/") + "/"
    ):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return sorted(keys)


@pytest.fixture(scope="module")
def pg_s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    warehouse = f"{S3.rstrip('/')}/py-{uuid.uuid4().hex[:12]}"
    root: Path = tmp_path_factory.mktemp("pg_s3")
    with running_server(
        root, database_url=fresh_postgres_database(PG), warehouse=warehouse, ready="/readyz"
    ) as srv:
        yield srv.url, warehouse


def frame(v: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": pd.Series(["a", "b", None], dtype="string"),
            "qty": pd.Series([v, None, 3 * v], dtype="Int64"),
            "at": pd.to_datetime(["2016-10-31 10:00", "2016-10-31 11:00", None]).tz_localize("UTC"),
        }
    )


@pytest.mark.parametrize("direct", [True, False], ids=["direct_to_s3", "upload_through_server"])
def test_store_load_rollback_on_postgres_and_s3(pg_s3_server: tuple[str, str], direct: bool) -> None:
    url, warehouse = pg_s3_server
    c = bm.Client(url, direct_data=direct)
    assert c.warehouse == warehouse
    ns = "s" + uuid.uuid4().hex[:10]
    c.create_namespace(ns)
    r1 = c.store_dataframe(frame(1), ns, "sold_items", partitions=[{"date": "2016-10-31"}])
    r2 = c.store_dataframe(frame(2), ns, "sold_items", partitions=["2016-10-31"])
    assert r1.location.startswith(f"{warehouse}/{ns}/sold_items/date=2016-10-31/")
    out = c.load_dataframe(ns, "sold_items", partitions=["2016-10-31"]).drop(columns="date")
    pd.testing.assert_frame_equal(out, frame(2))

    # The files are S3 objects under the batch's prefix.
    keys = _objects(warehouse)
    assert any(f"/{ns}/sold_items/date=2016-10-31/{r1.batch_id}/" in "/" + k for k in keys)
    assert any(f"/{ns}/sold_items/date=2016-10-31/{r2.batch_id}/" in "/" + k for k in keys)

    c.rollback(ns, "sold_items", ["2016-10-31"])
    out = c.load_dataframe(ns, "sold_items", partitions=["2016-10-31"]).drop(columns="date")
    pd.testing.assert_frame_equal(out, frame(1))
    with pytest.raises(bm.ConflictError) as e:
        c.store_dataframe(frame(3), ns, "sold_items", ["2016-10-31"], expected_batch=r2.batch_id)
    assert e.value.current_batch == r1.batch_id


def test_partition_by_commits_every_partition_at_once(pg_s3_server: tuple[str, str]) -> None:
    url, warehouse = pg_s3_server
    c = bm.Client(url, direct_data=True)
    ns = "s" + uuid.uuid4().hex[:10]
    c.create_namespace(ns)
    df = pd.DataFrame({"region": ["us", "eu", "us", "jp"], "n": [1, 2, 3, 4]})
    res = c.store_dataframe(df, ns, "by_region", partition_by=["region"])
    assert sorted(p.partition for p in c.partitions(ns, "by_region")) == [
        "region=eu", "region=jp", "region=us"
    ]
    events = c.events(ns)
    publishes = events[events["action"] == "publish"]
    assert len(publishes) == 3 and publishes["commit_id"].nunique() == 1
    out = c.load_dataframe(ns, "by_region").sort_values("n").reset_index(drop=True)
    assert out["n"].tolist() == [1, 2, 3, 4]
    assert res is not None
